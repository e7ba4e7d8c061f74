import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempVault, type TempVault } from '../testing/tempVault.ts';

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
});
afterEach(async () => tv.cleanup());

const file = (name: string, text: string) => {
  const p = join(tv.dir, '..', name);
  writeFileSync(p, text);
  return p;
};

describe('import', () => {
  test('JSON: an array or {records}, every kind, with progress and an audit entry per record', async () => {
    const c = tv.custody;
    const records = [
      { kind: 'note', title: 'N1', body: 'hello', case: 'K', tags: ['a'] },
      { kind: 'observation', title: 'O1', fields: [{ name: 'count', type: 'number', value: 3 }], capturedAt: '2026-01-02T03:04:05Z' },
      { kind: 'file', title: 'F1', classification: 'restricted' },
    ];
    const seen: number[] = [];
    const r = await c.importFile(file('a.json', JSON.stringify({ records })), { onProgress: (d) => seen.push(d) });
    expect(r.imported).toBe(3);
    expect(seen.at(-1)).toBe(3);
    const list = await c.list();
    expect(list.map((x) => x.title).sort()).toEqual(['F1', 'N1', 'O1']);
    expect((await c.getRecord(list.find((x) => x.title === 'O1')!.id)).fields).toEqual(records[1]!.fields);
    const entries = await c.auditQuery({ event: 'record.created' });
    expect(entries).toHaveLength(3);
    const imp = await c.auditQuery({ event: 'import' });
    expect(imp[0]!.entry!.details).toMatchObject({ format: 'json', records: 3 });
    // The file's hash only as a hiding commitment, with its opening sealed (see the commitment tests).
    expect(imp[0]!.entry!.details.sha256Commitment).toMatch(/^[0-9a-f]{64}$/);
    expect(imp[0]!.entry!.details).not.toHaveProperty('sha256');
  });

  test('CSV with the documented column mapping', async () => {
    const csv = [
      'kind,title,body,case,tags,classification,captured_at,field:temperature:number,field:site:location,field:seen:date',
      'observation,Hot day,"Body, with comma",Case 1,heat;summer,confidential,2026-07-01T12:00:00Z,38.5,"48.85,2.35,Paris",2026-07-01',
      'note,Plain,,,,,,,,',
    ].join('\n');
    const r = await tv.custody.importFile(file('b.csv', csv));
    expect(r.imported).toBe(2);
    const obs = await tv.custody.getRecord(r.ids[0]!);
    expect(obs).toMatchObject({ kind: 'observation', title: 'Hot day', body: 'Body, with comma', case: 'Case 1', tags: ['heat', 'summer'], classification: 'confidential', capturedAt: '2026-07-01T12:00:00.000Z' });
    expect(obs.fields).toEqual([
      { name: 'temperature', type: 'number', value: 38.5 },
      { name: 'site', type: 'location', value: { lat: 48.85, lon: 2.35, label: 'Paris' } },
      { name: 'seen', type: 'date', value: '2026-07-01' },
    ]);
  });

  test('all or nothing: one bad row imports nothing and says which row', async () => {
    const c = tv.custody;
    const size = c.vault.audit.size();
    await expect(c.importFile(file('bad.json', JSON.stringify([{ kind: 'note', title: 'ok' }, { kind: 'note', title: '' }])))).rejects.toMatchObject({ code: 'IMPORT_FAILED', message: expect.stringContaining('record 2') });
    await expect(c.importFile(file('bad.csv', 'title,colour\nA,red\n'))).rejects.toMatchObject({ code: 'IMPORT_FAILED', message: expect.stringContaining('column 2 of the header is not a known column') });
    await expect(c.importFile(file('bad2.json', '{not json'))).rejects.toMatchObject({ code: 'IMPORT_FAILED' });
    expect(await c.list()).toEqual([]);
    // Only the failed-import entries were added.
    const added = await c.auditQuery({ order: 'asc', limit: 100 });
    expect(added.slice(size).map((e) => [e.event, e.success])).toEqual([['import', false], ['import', false], ['import', false]]);
  });
});
