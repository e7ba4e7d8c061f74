import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempVault, type TempVault } from '../testing/tempVault.ts';

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

  test('every search is audited with its filters and result count, not its text', async () => {
    await tv.custody.search({ text: 'secret words', tag: 'boats' });
    const e = (await tv.custody.auditQuery({ event: 'search', limit: 1 }))[0]!;
    expect(e.entry!.details).toEqual({ terms: 2, filters: ['tag'], deleted: 'exclude', results: 0 });
    expect(JSON.stringify(e)).not.toContain('secret');
  });
});
