// The compact persisted form of summaries and filter columns (summaries.ts, columns.ts): a loaded
// index shows every summary exactly as it was indexed (times in any ISO form, deleted records,
// cases and tags outside ASCII, records without a case or tags), filters and lists as the
// index it was written from does, and writes itself back byte for byte; changes after the load
// (edits, removals, new records) survive the next save and load.
import { describe, expect, test } from 'vitest';
import type { RecordSummary, SearchQuery } from '../../shared/records.ts';
import { SearchIndex } from './searchIndex.ts';

const summary = (i: number, over: Partial<RecordSummary> = {}): RecordSummary => ({
  id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
  kind: (['note', 'observation', 'file'] as const)[i % 3]!,
  title: `record ${i}${i % 4 === 0 ? ' Ærø ✓' : ''}`,
  case: ['', 'Delta', 'delta', 'Écho'][i % 4]!,
  tags: i % 5 === 0 ? [] : [`t${i % 3}`, ...(i % 2 ? ['nœud'] : [])],
  classification: (['public', 'internal', 'confidential', 'restricted'] as const)[i % 4]!,
  capturedAt: new Date(Date.UTC(2026, 0, 1 + (i % 40), i % 24)).toISOString(),
  updatedAt: new Date(Date.UTC(2026, 5, 1, 0, 0, i)).toISOString(),
  version: 1 + (i % 3),
  deletedAt: i % 7 === 0 ? new Date(Date.UTC(2026, 6, 1)).toISOString() : null,
  ...over,
});

/** Times not in toISOString's form are kept as written, not normalised. */
const odd = [
  summary(1000, { capturedAt: '2026-05-01T05:00:00Z', updatedAt: '2026-05-01T07:00:00+02:00' }),
  summary(1001, { capturedAt: '2026-05-01T05:00:00.000+00:00', deletedAt: '2026-05-02T00:00:00Z' }),
];

const QUERIES: SearchQuery[] = [
  { text: '', deleted: 'include', limit: 1000 },
  { text: '', limit: 1000 },
  { text: '', deleted: 'only', limit: 1000 },
  { text: 'record', case: 'DELTA', limit: 1000 },
  { text: '', case: 'écho', deleted: 'include', limit: 1000 },
  { text: '', tag: 'nœud', limit: 1000 },
  { text: '', tag: 't1', classification: 'internal', limit: 1000 },
  { text: 'ærø', limit: 1000 },
  { text: '', kind: 'file', capturedFrom: '2026-01-10T00:00:00Z', capturedTo: '2026-01-20T00:00:00Z', limit: 1000 },
];

function answers(index: SearchIndex) {
  return { results: QUERIES.map((q) => index.search(q)), facets: index.facets() };
}

/** Without scores, hits by id: removed records' words weigh in a word's rarity until written out. */
function found(index: SearchIndex) {
  const { results, facets } = answers(index);
  return { results: results.map((r) => ({ total: r.total, hits: r.hits.map(({ score: _, ...s }) => s).sort((a, b) => (a.id < b.id ? -1 : 1)) })), facets };
}

function built(): SearchIndex {
  const index = new SearchIndex();
  for (let i = 0; i < 300; i++) index.upsert(summary(i), { body: `body ${i} word${i % 10}`, fields: [] });
  for (const s of odd) index.upsert(s, { body: 'odd', fields: [] });
  index.markReady();
  return index;
}

describe('persisted summaries and columns', () => {
  test('a loaded index answers and shows every summary exactly as the index it was written from', () => {
    const index = built();
    const bytes = index.serialize();
    const loaded = SearchIndex.deserialize(new Uint8Array(bytes));
    expect(answers(loaded)).toEqual(answers(index));
    const all = loaded.search({ text: '', deleted: 'include', limit: 1000 }).hits.map(({ score: _, ...s }) => s);
    expect(all).toHaveLength(302);
    for (const s of odd) expect(all.find((h) => h.id === s.id)).toEqual(s);
    for (let i = 0; i < 300; i++) expect(loaded.summaryOf(summary(i).id)).toEqual(summary(i));
    // Written back unchanged: the stored bytes are copied, not decoded and encoded again.
    expect(Buffer.from(loaded.serialize()).equals(Buffer.from(bytes))).toBe(true);
  });

  test('changes after a load (edits, trash, removals, new records) survive the next save and load', () => {
    const index = built();
    const loaded = SearchIndex.deserialize(new Uint8Array(index.serialize()));
    for (const target of [index, loaded]) {
      target.upsert(summary(3, { title: 'edited', case: 'Zulu', tags: ['new tag'], capturedAt: '2025-12-31T23:59:59Z' }), { body: 'edited body', fields: [] });
      target.setSummary(summary(4, { deletedAt: '2026-08-01T00:00:00.000Z' }));
      for (let i = 100; i < 200; i++) target.remove(summary(i).id);
      for (let i = 400; i < 450; i++) target.upsert(summary(i), { body: `late ${i}`, fields: [] });
    }
    expect(answers(loaded)).toEqual(answers(index));
    const again = SearchIndex.deserialize(new Uint8Array(loaded.serialize()));
    expect(found(again)).toEqual(found(index));
    expect(again.summaryOf(summary(3).id)).toMatchObject({ title: 'edited', case: 'Zulu', tags: ['new tag'], capturedAt: '2025-12-31T23:59:59Z' });
    expect(again.summaryOf(summary(150).id)).toBeUndefined();
    expect(again.facets().cases).toContain('Zulu');
  });

  test('bytes that do not describe the same slots in every part are refused', () => {
    const bytes = Buffer.from(built().serialize());
    // Each cut ends a part early or leaves bytes over: never read as a smaller index.
    for (const cut of [1, 7, 100, 1000, bytes.length >> 1]) expect(() => SearchIndex.deserialize(new Uint8Array(bytes.subarray(0, bytes.length - cut)))).toThrow(RangeError);
  });
});
