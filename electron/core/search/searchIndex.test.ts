import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordSummary } from '../../shared/records.ts';
import { insertRecords } from '../records/importer.ts';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { INDEX_FILE } from './indexFile.ts';
import { SearchIndex } from './searchIndex.ts';

let tv: TempVault;
const ids: Record<string, string> = {};
beforeAll(async () => {
  tv = await tempVault();
  const c = tv.custody;
  const add = async (key: string, r: Parameters<typeof c.createRecord>[0]) => (ids[key] = (await c.createRecord(r)).id);
  await add('river', { kind: 'note', title: 'River crossing', body: 'Boats seen near the old bridge at dawn', case: 'Delta', tags: ['boats', 'dawn'], classification: 'confidential', capturedAt: '2026-05-01T05:00:00Z' });
  await add('market', { kind: 'note', title: 'Market interview', body: 'Vendor described the convoy', case: 'Delta', tags: ['interview'], capturedAt: '2026-05-03T10:00:00Z' });
  await add('obs', { kind: 'observation', title: 'Checkpoint count', fields: [{ name: 'vehicles', type: 'number', value: 12 }, { name: 'location', type: 'location', value: { lat: 1, lon: 2, label: 'Bridgetown' } }], case: 'Echo', tags: ['boats'], classification: 'restricted', capturedAt: '2026-06-01T00:00:00Z' });
  await add('file', { kind: 'file', title: 'Scanned permits', case: 'Echo', classification: 'public', capturedAt: '2026-06-02T00:00:00Z' });
});
afterAll(async () => tv.cleanup());

const titles = async (q: Parameters<TempVault['custody']['search']>[0]) => (await tv.custody.search(q)).hits.map((h) => h.title).sort();

describe('search', () => {
  test('full text over titles, bodies, fields and tags, with prefixes and typos', async () => {
    expect(await titles({ text: 'dawn' })).toEqual(['River crossing']);
    expect(await titles({ text: 'bridge' })).toEqual(['Checkpoint count', 'River crossing']);
    expect(await titles({ text: 'bridgetown' })).toEqual(['Checkpoint count']);
    expect(await titles({ text: 'vehicles' })).toEqual(['Checkpoint count']);
    expect(await titles({ text: 'boats' })).toEqual(['Checkpoint count', 'River crossing']);
    expect(await titles({ text: 'conv' })).toEqual(['Market interview']);
    expect(await titles({ text: 'intervew' })).toEqual(['Market interview']);
    expect(await titles({ text: 'nothing-like-this' })).toEqual([]);
  });

  test('filters: case, tag, kind, classification, captured-at range, deleted', async () => {
    expect(await titles({ case: 'delta' })).toEqual(['Market interview', 'River crossing']);
    expect(await titles({ tag: 'boats', kind: 'observation' })).toEqual(['Checkpoint count']);
    expect(await titles({ classification: 'public' })).toEqual(['Scanned permits']);
    expect(await titles({ capturedFrom: '2026-05-02T00:00:00Z', capturedTo: '2026-06-01T12:00:00Z' })).toEqual(['Checkpoint count', 'Market interview']);
    expect(await titles({ text: 'boats', case: 'Echo' })).toEqual(['Checkpoint count']);
    await tv.custody.deleteRecord(ids.file!);
    expect(await titles({ case: 'Echo' })).toEqual(['Checkpoint count']);
    expect(await titles({ deleted: 'only' })).toEqual(['Scanned permits']);
    await tv.custody.restoreRecord(ids.file!);
  });

  test('edits are searchable at once; the index is dropped on lock and rebuilt on unlock', async () => {
    const c = tv.custody;
    const r = await c.getRecord(ids.market!);
    await c.updateRecord(r.id, r.version, { body: 'Vendor described a zeppelin' });
    expect(await titles({ text: 'zeppelin' })).toEqual(['Market interview']);
    expect(await titles({ text: 'convoy' })).toEqual([]);
    await c.lock();
    expect(c.index.size).toBe(0);
    await expect(c.search({ text: 'zeppelin' })).rejects.toMatchObject({ code: 'LOCKED' });
    const progress: number[] = [];
    await c.unlock('correct horse battery staple', { onIndexProgress: (d) => progress.push(d) });
    // Searches during the background build answer from what is indexed so far, and say so.
    await c.buildIndex();
    expect(c.index.ready).toBe(true);
    expect((await c.search({ text: 'zeppelin' })).hits).toHaveLength(1);
    expect(progress.at(-1)).toBe(4);
  });

  test('while the index builds, listings come exactly from the database, in the same order', async () => {
    const c = tv.custody;
    await c.buildIndex();
    const queries = [
      { deleted: 'include', capturedFrom: '2026-05-02T00:00:00Z', limit: 2 },
      { kind: 'note', capturedTo: '2026-05-02T00:00:00Z' },
      { deleted: 'exclude', limit: 2, offset: 1 },
    ] as const;
    const fromIndex = await Promise.all(queries.map((q) => c.search(q)));
    await c.lock();
    // Without its persisted index (indexKeeper.ts) the next unlock builds the index again.
    rmSync(join(tv.dir, INDEX_FILE));
    await c.unlock('correct horse battery staple');
    // All at once: each answers before anything awaits, so the build cannot finish in between.
    const answers = await Promise.all(queries.map((q) => c.search(q)));
    for (const [i, early] of answers.entries()) {
      expect(early.indexReady).toBe(false);
      expect(early.total).toBe(fromIndex[i]!.total);
      expect(early.hits.map((h) => h.id)).toEqual(fromIndex[i]!.hits.map((h) => h.id));
      expect(early.hits.map((h) => h.title)).toEqual(fromIndex[i]!.hits.map((h) => h.title));
    }
    await c.buildIndex();
  });

  test('records changed while the index builds end up in it as they are in the vault', async () => {
    const own = await tempVault();
    const c = own.custody;
    const created = await insertRecords(c.vault, Array.from({ length: 1500 }, (_, i) => ({ kind: 'note' as const, title: `bulk ${i}`, body: 'filler words', fields: [], case: 'Bulk', tags: [], classification: 'internal' as const })));
    const [first, middle, last] = [created[0]!.id, created[750]!.id, created.at(-1)!.id];
    await c.lock();
    let paused!: () => void;
    const pause = new Promise<void>((resolve) => (paused = resolve));
    await c.unlock('correct horse battery staple', { onIndexProgress: () => paused() });
    await pause;
    await c.deleteRecord(last);
    await c.deleteRecord(middle);
    await c.purgeRecord(middle);
    const r = await c.getRecord(first);
    await c.updateRecord(first, r.version, { title: 'renamed while indexing' });
    await c.buildIndex();
    expect((await c.search({ case: 'Bulk', limit: 2000 })).total).toBe(1498);
    expect((await c.search({ case: 'Bulk', deleted: 'only' })).hits.map((h) => h.id)).toEqual([last]);
    expect((await c.search({ text: 'renamed' })).hits.map((h) => h.id)).toEqual([first]);
    expect(c.index.summaryOf(middle)).toBeUndefined();
    await own.cleanup();
  });

  test('every search is audited with its filters and result count, not its text', async () => {
    await tv.custody.search({ text: 'secret words', tag: 'boats' });
    const e = (await tv.custody.auditQuery({ event: 'search', limit: 1 }))[0]!;
    expect(e.entry!.details).toEqual({ terms: 2, filters: ['tag'], deleted: 'exclude', results: 0 });
    expect(JSON.stringify(e)).not.toContain('secret');
  });
});

describe('SearchIndex paging and upkeep', () => {
  const summary = (i: number, over: Partial<RecordSummary> = {}): RecordSummary => ({
    id: `r${String(i).padStart(4, '0')}`,
    kind: 'note',
    title: `Report ${i}`,
    case: `Case ${i % 3}`,
    tags: i % 2 ? ['odd'] : [],
    classification: 'internal',
    // Pairs of records share a capture time: ties must not make pages overlap.
    capturedAt: new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 2) * 3600_000).toISOString(),
    updatedAt: '2026-01-01T00:00:00.000Z',
    version: 1,
    deletedAt: null,
    ...over,
  });
  const body = (text: string) => ({ body: text, fields: [] });

  function filled(n: number): SearchIndex {
    const ix = new SearchIndex();
    for (let i = 0; i < n; i++) ix.upsert(summary(i), body(i % 2 ? 'river crossing' : 'market'));
    ix.markReady();
    return ix;
  }

  test('pages of a listing and of a search cover every match once, in order', () => {
    const ix = filled(500);
    const listed = [0, 100, 200, 300, 400].flatMap((offset) => ix.search({ limit: 100, offset }).hits.map((h) => h.id));
    expect(new Set(listed).size).toBe(500);
    const times = listed.map((id) => ix.summaryOf(id)!.capturedAt);
    expect(times).toEqual([...times].sort().reverse());
    const found = [0, 40, 80, 120, 160, 200, 240].flatMap((offset) => ix.search({ text: 'river', limit: 40, offset }).hits);
    expect(found).toHaveLength(250);
    expect(new Set(found.map((h) => h.id)).size).toBe(250);
    expect(found.every((h, i) => i === 0 || h.score <= found[i - 1]!.score)).toBe(true);
    expect(ix.search({ text: 'river', limit: 1 }).total).toBe(250);
  });

  test('edits, deletions and purges keep listings, facets and text in step', () => {
    const ix = filled(50);
    expect(ix.search({ limit: 1 }).hits[0]!.id).toBe('r0049');
    expect(ix.facets().cases).toEqual(['Case 0', 'Case 1', 'Case 2']);
    // Moved to the newest capture time, renamed to a new case and reworded.
    ix.upsert(summary(3, { capturedAt: '2027-01-01T00:00:00.000Z', case: 'Zulu', version: 2 }), body('zeppelin'));
    expect(ix.search({ limit: 1 }).hits[0]!.id).toBe('r0003');
    expect(ix.facets().cases).toContain('Zulu');
    expect(ix.search({ text: 'zeppelin' }).hits.map((h) => h.id)).toEqual(['r0003']);
    expect(ix.search({ text: 'river' }).total).toBe(24);
    ix.setSummary(summary(49, { deletedAt: '2026-02-01T00:00:00.000Z' }));
    expect(ix.search({ limit: 1 }).hits[0]!.id).toBe('r0003');
    expect(ix.search({ deleted: 'only' }).hits.map((h) => h.id)).toEqual(['r0049']);
    ix.remove('r0003');
    expect(ix.search({ text: 'zeppelin' }).total).toBe(0);
    expect(ix.facets().cases).not.toContain('Zulu');
    expect(ix.search({ limit: 100 }).total).toBe(48);
    expect(ix.size).toBe(49);
  });

  test('a listing by a rare case or tag gives the same pages as a full pass would', () => {
    const ix = new SearchIndex();
    for (let i = 0; i < 400; i++) ix.upsert(summary(i, { case: i % 50 === 0 ? 'Rare' : 'Common', tags: i % 40 === 1 ? ['scarce'] : [], classification: i % 3 ? 'internal' : 'public' }), body('x'));
    ix.markReady();
    const expected = (keep: (i: number) => boolean) => Array.from({ length: 400 }, (_, i) => i).filter(keep).reverse().map((i) => `r${String(i).padStart(4, '0')}`);
    const ids = (q: Parameters<SearchIndex['search']>[0]) => ix.search(q).hits.map((h) => h.id);
    expect(ids({ case: 'rare' })).toEqual(expected((i) => i % 50 === 0));
    expect(ids({ case: 'Rare', classification: 'public', limit: 2, offset: 1 })).toEqual(expected((i) => i % 50 === 0 && i % 3 === 0).slice(1, 3));
    expect(ix.search({ tag: 'scarce', case: 'Common' }).total).toBe(10);
    expect(ids({ tag: 'scarce' })).toEqual(expected((i) => i % 40 === 1));
    expect(ix.search({ tag: 'none such' }).total).toBe(0);
    expect(ix.search({ case: 'no such case' }).total).toBe(0);
    ix.remove('r0350');
    ix.setSummary(summary(300, { case: 'Rare', deletedAt: '2026-03-01T00:00:00.000Z' }));
    expect(ids({ case: 'Rare' })).toEqual(expected((i) => i % 50 === 0 && i !== 350 && i !== 300));
  });

  test('a search with filters follows every change to a record, as a full pass would', () => {
    // The filters are kept as a mask per query between searches: every change must drop it.
    const ix = filled(200);
    const day = (i: number) => new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 2) * 3600_000).toISOString();
    const queries: { text: string; case?: string; tag?: string; classification?: 'internal'; kind?: 'note'; capturedFrom?: string; capturedTo?: string; deleted?: 'only' }[] = [
      { text: 'river', case: 'case 1' },
      { text: 'river', tag: 'odd', classification: 'internal' },
      { text: 'rive', capturedFrom: day(40), capturedTo: day(120), kind: 'note' },
      { text: 'river', deleted: 'only' },
    ];
    const state = new Map(Array.from({ length: 200 }, (_, i) => [i, { s: summary(i), text: i % 2 ? 'river crossing' : 'market' }]));
    const scan = (q: (typeof queries)[number]) => {
      const words = q.text.split(' ');
      return [...state.values()]
        .filter(({ text }) => words.every((w, k) => text.split(' ').some((t) => t === w || (k === words.length - 1 && t.startsWith(w)))))
        .filter(({ s }) => (q.deleted === 'only' ? s.deletedAt !== null : s.deletedAt === null))
        .filter(({ s }) => q.case === undefined || s.case.toLowerCase() === q.case)
        .filter(({ s }) => q.tag === undefined || s.tags.includes(q.tag))
        .filter(({ s }) => q.classification === undefined || s.classification === q.classification)
        .filter(({ s }) => q.kind === undefined || s.kind === q.kind)
        .filter(({ s }) => q.capturedFrom === undefined || (s.capturedAt >= q.capturedFrom && s.capturedAt <= q.capturedTo!))
        .map(({ s }) => s.id)
        .sort();
    };
    const agree = () => {
      for (const q of queries) expect(ix.search({ ...q, limit: 500 }).hits.map((h) => h.id).sort(), JSON.stringify(q)).toEqual(scan(q));
    };
    // A listing by case groups the slots by case; the masks must follow those groups too.
    expect(ix.search({ case: 'Case 1', limit: 1 }).total).toBeGreaterThan(0);
    // As many queries as masks are kept (4): each change below meets every mask made here.
    agree();
    const change = (i: number, over: Partial<RecordSummary>, text?: string) => {
      const now = { s: summary(i, over), text: text ?? state.get(i)!.text };
      state.set(i, now);
      if (text === undefined) ix.setSummary(now.s);
      else ix.upsert(now.s, body(text));
    };
    // Reindexed text takes new slots (the masks cover more slots then); a summary alone or a
    // removal keeps the slots as they were, and must still drop the masks.
    change(3, { tags: [] }, 'river crossing');
    change(8, { capturedAt: day(60) }, 'river');
    change(11, { case: 'Case 1', tags: ['odd'] }, 'riverside');
    agree();
    change(1, { case: 'Case 0' });
    change(5, { deletedAt: '2026-02-01T00:00:00.000Z' });
    change(13, { classification: 'public' });
    change(101, { capturedAt: day(41) });
    agree();
    ix.remove('r0007');
    state.delete(7);
    agree();
  });

  test('accents and case do not matter', () => {
    const ix = new SearchIndex();
    ix.upsert(summary(1, { title: 'Café Zoë' }), body('Entrevue à Genève'));
    expect(ix.search({ text: 'cafe zoe geneve' }).total).toBe(1);
    expect(ix.search({ text: 'GENÈVE' }).total).toBe(1);
  });
});
