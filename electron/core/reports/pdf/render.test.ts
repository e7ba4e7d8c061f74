import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDocument, ReportEntry } from './model.ts';
import { renderReportPdf } from './render.ts';
import { sampleDocument } from './sample-document.test-helper.ts';
import { summariseEntries } from './summary.ts';
import { readEmbeddedEntries } from './verify.ts';

// Rendered pages are kept as test artefacts (git-ignored) for a person to look at.
const ARTIFACTS = path.resolve(process.cwd(), 'artifacts/report-pdf');
const dir = mkdtempSync(path.join(tmpdir(), 'custody-render-'));
beforeAll(() => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: 'pipe', maxBuffer: 64 << 20 });

interface Word {
  page: number;
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
  text: string;
}

/** Every word poppler extracts, with its box, per page. */
function words(file: string): Word[] {
  const html = run('pdftotext', '-bbox', file, '-');
  const out: Word[] = [];
  html.split('<page ').slice(1).forEach((page, i) => {
    for (const m of page.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)) {
      out.push({ page: i + 1, xMin: Number(m[1]), yMin: Number(m[2]), xMax: Number(m[3]), yMax: Number(m[4]), text: m[5] ?? '' });
    }
  });
  return out;
}

const pageText = (file: string, page: number) => run('pdftotext', '-layout', '-f', String(page), '-l', String(page), file, '-');
const pageCount = (file: string) => Number(/Pages:\s+(\d+)/.exec(run('pdfinfo', file))?.[1]);

/** Content stays inside the margins (54 pt each side of A4) and between header and footer. */
function expectInsideMargins(file: string): void {
  const outside = words(file).filter((w) => w.xMin < 53.5 || w.xMax > 595.28 - 53.5 || w.yMin < 25 || w.yMax > 841.89 - 20);
  expect(outside.slice(0, 5)).toEqual([]);
}

describe('renderReportPdf (3 records, 300 entries over 10 days)', () => {
  const doc = sampleDocument({ records: 3, entries: 300, days: 10 });
  const file = path.join(dir, 'sample.pdf');
  let pdf: Uint8Array;
  let pages: number;

  beforeAll(async () => {
    pdf = await renderReportPdf(doc);
    writeFileSync(file, pdf);
    pages = pageCount(file);
  });

  it('renders every page with poppler (PNG artefacts in artifacts/report-pdf)', () => {
    writeFileSync(path.join(ARTIFACTS, 'sample.pdf'), pdf);
    run('pdftoppm', '-png', '-r', '50', file, path.join(ARTIFACTS, 'sample'));
    const pngs = readdirSync(ARTIFACTS).filter((f) => f.startsWith('sample-') && f.endsWith('.png'));
    expect(pages).toBeGreaterThan(10);
    expect(pngs).toHaveLength(pages);
    for (const png of pngs) expect(readFileSync(path.join(ARTIFACTS, png)).subarray(1, 4).toString()).toBe('PNG');
  });

  it('numbers every page "Page n of N" under a running header', () => {
    const text = run('pdftotext', '-layout', file, '-');
    for (let n = 1; n <= pages; n++) expect(text).toContain(`Page ${n} of ${pages}`);
    expect(text.split('Chain-of-Custody Audit Report').length - 1).toBeGreaterThanOrEqual(pages);
  });

  it('has a table of contents whose page numbers lead to the sections', () => {
    const toc = pageText(file, 2);
    expect(toc).toContain('Contents');
    for (const [title, heading] of [
      ['Summary', 'Summary'],
      ['Records', 'Records'],
      ['Audit entries', 'Audit entries'],
      ['How to verify this report', 'How to verify this report'],
      [doc.records[2]?.title ?? '', `2.3 ${doc.records[2]?.title ?? ''}`],
    ] as const) {
      const line = toc.split('\n').find((l) => l.includes(title));
      const target = Number(/(\d+)\s*$/.exec(line ?? '')?.[1]);
      expect(pageText(file, target).replace(/\s+/g, ' ')).toContain(heading);
    }
  });

  it('shows the cover, the statistics and each record\u2019s chain of custody', () => {
    const cover = pageText(file, 1).replace(/\s+/g, ' ');
    for (const s of [doc.cover.vaultId, doc.cover.analystName, doc.cover.deviceId, doc.cover.recipient, '2026-11-23 09:15:00 UTC', '300 audit entries']) {
      expect(cover).toContain(s);
    }
    expect(cover).toContain(doc.cover.checkpoint.split('\n')[2]);
    const all = run('pdftotext', file, '-').replace(/\s+/g, ' ');
    expect(all).toContain(`${doc.summary.byEvent[0]?.event} ${doc.summary.byEvent[0]?.count}`);
    const attachment = doc.records[1]?.attachments[0];
    expect(all).toContain(attachment?.sha256);
    expect(all).toContain(`Access history (${doc.records[0]?.entries.length} entries)`);
  });

  it('lists every entry about the records with its full leaf hash; entries.json holds every entry', async () => {
    // Each hash is drawn as two lines of 32 hex digits.
    const lines = new Set(run('pdftotext', '-layout', file, '-').split('\n').flatMap((l) => l.match(/\b[0-9a-f]{32}\b/g) ?? []));
    const shown = (e: ReportEntry) => lines.has(e.leafHash.slice(0, 32)) && lines.has(e.leafHash.slice(32));
    const aboutRecords = doc.entries.filter((e) => e.target?.startsWith('record:'));
    const vaultLevel = doc.entries.filter((e) => !e.target?.startsWith('record:'));
    expect(aboutRecords.length).toBeGreaterThan(100);
    expect(aboutRecords.filter((e) => !shown(e))).toEqual([]);
    // Vault-level entries are summarised, not listed: none of their rows (hashes) is printed.
    expect(vaultLevel.length).toBeGreaterThan(50);
    expect(vaultLevel.filter(shown)).toEqual([]);
    expect(await readEmbeddedEntries(pdf)).toEqual(doc.entries.map((e) => ({ seq: e.seq, leafHash: e.leafHash })));
    expect(run('pdfdetach', '-list', file)).toContain('1: entries.json');
  });

  it('summarises the vault-level entries by event type: count, failures, first and last time and seq', () => {
    // Read line by line as laid out: one table row per line.
    const rows = run('pdftotext', '-layout', file, '-').split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    const text = rows.join(' ');
    expect(text).toContain(`3.1 Vault-level events by type (${doc.entries.filter((e) => !e.target?.startsWith('record:')).length} entries)`);
    expect(doc.summary.vaultEvents.map((v) => v.event).sort()).toEqual(['search', 'vault.locked', 'vault.unlocked']);
    for (const v of doc.summary.vaultEvents) {
      const vaultLevel = doc.entries.filter((e) => e.event === v.event);
      const times = vaultLevel.map((e) => e.time).sort();
      expect(v).toEqual({
        event: v.event,
        count: vaultLevel.length,
        failures: vaultLevel.filter((e) => !e.success).length,
        firstSeq: vaultLevel[0]!.seq,
        lastSeq: vaultLevel.at(-1)!.seq,
        firstTime: times[0],
        lastTime: times.at(-1),
      });
      const row = `${v.event} ${v.count} ${v.failures} ${v.firstTime!.slice(0, 10)} ${v.firstTime!.slice(11, 19)} ${v.lastTime!.slice(0, 10)} ${v.lastTime!.slice(11, 19)} ${v.firstSeq} \u2013 ${v.lastSeq}`;
      expect(rows).toContain(row);
    }
    expect(text).toContain(`3.2 Entries about the records (${doc.entries.filter((e) => e.target?.startsWith('record:')).length})`);
  });

  it('embeds subsets of the DejaVu fonts and sets the document metadata', () => {
    const fonts = run('pdffonts', file);
    for (const name of ['CSTDYA+DejaVuSans ', 'CSTDYB+DejaVuSans-Bold', 'CSTDYC+DejaVuSansMono ']) expect(fonts).toContain(name);
    expect(fonts).not.toMatch(/ no {2,}/); // every font embedded
    const info = run('pdfinfo', file);
    expect(info).toContain('Title:           Chain-of-Custody Audit Report \u2014 Harbour district inquiry (field laptop)');
    expect(info).toContain('Author:          Astrid Lindqvist');
    expect(info).toMatch(/Subject:\s+Chain of custody and audit trail: 3 records/);
    expect(info).toMatch(/CreationDate:\s+Mon Nov 23 09:15:00 2026 UTC/);
    expect(info).toContain('Page size:       595.28 x 841.89 pts (A4)');
  });

  it('keeps all text inside the margins', () => expectInsideMargins(file));

  it('renders the same document to the same bytes', async () => {
    expect(Buffer.from(await renderReportPdf(doc)).equals(Buffer.from(pdf))).toBe(true);
  });
});

describe('renderReportPdf with hostile text', () => {
  it('wraps or breaks long, unspaced and unusual strings without overflowing', async () => {
    const base = sampleDocument({ records: 2, entries: 40, days: 2, seed: 3 });
    const long = 'x'.repeat(700);
    const hostile: ReportDocument = {
      ...base,
      cover: {
        ...base.cover,
        vaultName: `Vault ${'name-without-spaces-'.repeat(20)}`,
        scope: `line one\r\nline two\twith a tab and a bell \u0007 and ${long}`,
        purpose: 'Emoji \ud83d\udd12, CJK \u8b49\u64da, Arabic \u062f\u0644\u064a\u0644, lone surrogate \ud800 end',
        checkpoint: `${'c'.repeat(300)}\n42\n${'r'.repeat(120)}\n\n\u2014 key ${'s'.repeat(200)}\n`,
      },
      records: base.records.map((r, i) => ({
        ...r,
        title: i === 0 ? `${'Unbroken'.repeat(80)}` : r.title,
        case: `CASE/${'7'.repeat(90)}`,
        attachments: [{ name: `${'a'.repeat(260)}.pdf`, size: 123_456_789_012, sha256: 'f'.repeat(64) }],
        entries: r.entries.map((e) => ({ ...e, actor: `actor-${'q'.repeat(80)}`, target: `attachment:${'9'.repeat(150)}` })),
      })),
      entries: base.entries.map((e, i) => (i % 5 === 0 ? { ...e, target: `search:${'z'.repeat(300)}`, event: `custom.event.${'e'.repeat(40)}` } : e)),
    };
    hostile.summary = summariseEntries(hostile.entries, hostile.records);
    const file = path.join(ARTIFACTS, 'hostile-text.pdf');
    writeFileSync(file, await renderReportPdf(hostile));
    expectInsideMargins(file);
    // Broken across lines, not cut: every character is still there.
    const text = run('pdftotext', file, '-');
    expect(text.replace(/\s+/g, '').includes('x'.repeat(700))).toBe(true);
    const accesses = hostile.records.reduce((n, r) => n + r.entries.length, 0);
    expect((text.match(/attachment:/g) ?? []).length).toBe(accesses);
    expect((text.match(/9/g) ?? []).length).toBeGreaterThanOrEqual(150 * accesses);
  });

  it('renders a report with no records and no entries', async () => {
    const base = sampleDocument({ records: 0, entries: 0, days: 1 });
    const file = path.join(dir, 'empty.pdf');
    writeFileSync(file, await renderReportPdf(base));
    const text = run('pdftotext', file, '-');
    expect(text).toContain('No entries in this report');
    expect(text).toContain('No records are in the scope of this report.');
    expect(await readEmbeddedEntries(readFileSync(file))).toEqual([]);
  });

  it('spreads a long table of contents over several pages with correct page numbers', async () => {
    const doc = sampleDocument({ records: 130, entries: 260, days: 3, seed: 5 });
    const file = path.join(ARTIFACTS, 'many-records.pdf');
    writeFileSync(file, await renderReportPdf(doc));
    const tocPages = [2, 3, 4].map((p) => pageText(file, p));
    expect(tocPages[2]).toContain('How to verify this report');
    const line = tocPages.join('\n').split('\n').find((l) => /^\s*2\.130\s/.test(l));
    const target = Number(/(\d+)\s*$/.exec(line ?? '')?.[1]);
    expect(pageText(file, target).replace(/\s+/g, ' ')).toContain(`2.130 ${doc.records[129]?.title}`);
    expectInsideMargins(file);
  });
});
