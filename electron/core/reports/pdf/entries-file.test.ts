import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { embedEntriesFile, parseEntries, readEmbeddedFile, serialiseEntries } from './entries-file.ts';
import type { ReportEntry } from './model.ts';

const entries: ReportEntry[] = [1, 2, 3].map((seq) => ({
  seq,
  time: '2026-11-13T00:00:00Z',
  event: 'search',
  actor: 'a',
  target: null,
  success: true,
  leafHash: String(seq).repeat(64),
}));
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('entries.json', () => {
  it('round-trips seq and leaf hash through an embedded file found by its name', async () => {
    const pdf = await PDFDocument.create();
    pdf.addPage();
    await embedEntriesFile(pdf, entries, new Date('2026-11-23T09:15:00Z'));
    // Custody writes no object streams (see render.ts); the reader refuses them.
    const bytes = await pdf.save({ useObjectStreams: false });
    const file = await readEmbeddedFile(bytes, 'entries.json');
    expect(file && parseEntries(file)).toEqual(entries.map((e) => ({ seq: e.seq, leafHash: e.leafHash })));
    expect(await readEmbeddedFile(bytes, 'other.json')).toBeUndefined();
  });

  it('lists a pruned entry as such', async () => {
    const pdf = await PDFDocument.create();
    pdf.addPage();
    await embedEntriesFile(pdf, [{ ...entries[0]!, pruned: { retentionSeq: 9 } }, entries[1]!]);
    const file = await readEmbeddedFile(await pdf.save({ useObjectStreams: false }), 'entries.json');
    expect(parseEntries(file!)).toEqual([
      { seq: 1, leafHash: entries[0]!.leafHash, pruned: true },
      { seq: 2, leafHash: entries[1]!.leafHash },
    ]);
    expect(() => parseEntries(json({ format: 'custody-report-entries/v1', entries: [{ seq: 1, leafHash: 'a'.repeat(64), pruned: 'yes' }] }))).toThrow('pruned must be true');
  });

  it('refuses to write malformed entries', () => {
    expect(() => serialiseEntries([{ ...entries[0]!, leafHash: 'ABC' }])).toThrow('leafHash must be 64 lowercase hex digits');
    expect(() => serialiseEntries([{ ...entries[0]!, seq: -1 }])).toThrow('seq must be a non-negative integer');
  });

  it('says what is wrong with a damaged file', () => {
    expect(() => parseEntries(new Uint8Array([0xff, 0xfe]))).toThrow('not valid UTF-8 JSON');
    expect(() => parseEntries(json({ format: 'other', entries: [] }))).toThrow('not in the custody-report-entries/v1 format');
    expect(() => parseEntries(json({ format: 'custody-report-entries/v1' }))).toThrow('no entries list');
    expect(() => parseEntries(json({ format: 'custody-report-entries/v1', entries: [{ seq: 1.5, leafHash: 'a'.repeat(64) }] }))).toThrow(
      'entries.json item 0: seq must be a non-negative integer',
    );
  });
});
