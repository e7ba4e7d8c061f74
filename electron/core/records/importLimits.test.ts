// Hostile import files (threat model: a file handed to the analyst): every size is bounded
// before the work it would cost is done, and errors name the row, column and field, never the
// value — neither in the message nor in the failed import's audit entry.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_BODY, MAX_FIELD_TEXT, MAX_FIELDS, MAX_TAGS, MAX_TITLE } from '../../shared/records.ts';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { MAX_CSV_CELL, MAX_IMPORT_BYTES, MAX_IMPORT_DEPTH, MAX_IMPORT_RECORDS } from './importer.ts';

let tv: TempVault;
beforeAll(async () => {
  tv = await tempVault();
});
afterAll(async () => tv.cleanup());

const CANARY = 'CANARY-import-4d1e0b';
let n = 0;
const file = (ext: string, text: string | Buffer) => {
  const p = join(tv.dir, '..', `f${n++}.${ext}`);
  writeFileSync(p, text);
  return p;
};

/** Imports, expects IMPORT_FAILED with `message`, nothing imported, one failed import entry without the canary. */
async function refused(path: string, message: string | RegExp): Promise<string> {
  const c = tv.custody;
  const before = c.vault.audit.size();
  const err = (await c.importFile(path).then(
    () => null,
    (e: unknown) => e,
  )) as { code: string; message: string } | null;
  expect(err).toMatchObject({ code: 'IMPORT_FAILED' });
  expect(err!.message).toMatch(message);
  expect(err!.message).not.toContain(CANARY);
  expect(await c.list()).toEqual([]);
  const added = (await c.auditQuery({ order: 'asc', limit: 10_000 })).slice(before);
  expect(added.map((e) => [e.event, e.success])).toEqual([['import', false]]);
  expect(JSON.stringify(added[0])).not.toContain(CANARY);
  expect(added[0]!.entry!.details.error).toBe(err!.message.slice(0, 300));
  return err!.message;
}

describe('import limits', () => {
  test('100k nested JSON arrays are refused by depth, without recursion', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    await refused(file('json', deep), `the file nests deeper than ${MAX_IMPORT_DEPTH} levels (at line 1, column ${MAX_IMPORT_DEPTH + 1})`);
    // Brackets inside strings are text, not nesting.
    const r = await tv.custody.importFile(file('json', JSON.stringify([{ kind: 'note', title: '[[[[[[[[[[[[[[[[[[[[', body: '{{{{{{{{{{{{{{{{{{{{{{' }])));
    expect(r.imported).toBe(1);
    await tv.custody.purgeRecord((await tv.custody.deleteRecord(r.ids[0]!)).id);
  });

  test('a huge field is refused by its length, naming record and field', async () => {
    await refused(file('json', JSON.stringify([{ kind: 'note', title: 'ok' }, { kind: 'note', title: 'ok', body: CANARY + 'x'.repeat(MAX_BODY) }])), `record 2, field body: is too long (at most ${MAX_BODY} characters); nothing was imported`);
    await refused(file('json', JSON.stringify([{ kind: 'note', title: CANARY + 'x'.repeat(MAX_TITLE) }])), `record 1, field title: is too long (at most ${MAX_TITLE} characters)`);
    await refused(file('json', JSON.stringify([{ kind: 'observation', title: 't', fields: [{ name: 'a', type: 'text', value: 'ok' }, { name: 'b', type: 'text', value: CANARY.repeat(MAX_FIELD_TEXT) }] }])), `record 1, field fields[2].value: is too long (at most ${MAX_FIELD_TEXT} characters)`);
    await refused(file('json', JSON.stringify([{ kind: 'note', title: 't', tags: Array.from({ length: MAX_TAGS + 1 }, (_, i) => `${CANARY}${i}`) }])), `record 1, field tags: is too long (at most ${MAX_TAGS} items)`);
    await refused(file('json', JSON.stringify([{ kind: 'observation', title: 't', fields: Array.from({ length: MAX_FIELDS + 1 }, (_, i) => ({ name: `${CANARY}${i}`, type: 'number', value: i })) }])), `record 1, field fields: is too long (at most ${MAX_FIELDS} items)`);
    // CSV: a cell longer than any field may be stops the parser itself.
    await refused(file('csv', `title,body\nok,"${CANARY}${'y'.repeat(MAX_CSV_CELL)}"\n`), /^row 2, column 2: a cell is longer than \d+ characters$/);
    await refused(file('csv', `title,body\nok,${CANARY}${'y'.repeat(MAX_BODY)}\n`), `row 2, column 2, field body: is too long (at most ${MAX_BODY} characters)`);
  });

  test('10^6 tiny rows are refused by count, before validating or encrypting any', async () => {
    const csv = 'title\n' + `${CANARY}\n`.repeat(1_000_000);
    await refused(file('csv', csv), `the file has more than ${MAX_IMPORT_RECORDS} records`);
    await refused(file('json', `[${Array(1_000_000).fill('{}').join(',')}]`), `the file has more than ${MAX_IMPORT_RECORDS} records`);
  });

  test('a file over the size limit is refused before it is read', async () => {
    // A sparse file: far larger than the limit, costing no disk; reading it whole would take a GiB.
    const p = join(tv.dir, '..', 'huge.json');
    const fd = openSync(p, 'w');
    ftruncateSync(fd, 1024 * 1024 * 1024);
    closeSync(fd);
    await refused(p, `the file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MiB`);
  });

  test('bad values are named by place, never quoted: JSON', async () => {
    const cases: [string, string | RegExp][] = [
      [`{"records": [{"kind": "note", "title": ${CANARY}}]}`, /^the file is not valid JSON( \(at line 1, column \d+\))?$/],
      [JSON.stringify([{ kind: 'note', title: 'ok', [CANARY]: 1 }]), 'record 1, the record: has 1 unknown key; nothing was imported'],
      [JSON.stringify([{ kind: CANARY, title: 'ok' }]), 'record 1, field kind: must be one of "note", "observation", "file"'],
      [JSON.stringify([{ kind: 'note', title: 'ok', capturedAt: CANARY }]), 'record 1, field capturedAt: is not a valid ISO 8601 date and time with a time zone'],
      [JSON.stringify([{ kind: 'note', title: 'ok', classification: CANARY }]), 'record 1, field classification: must be one of "public", "internal", "confidential", "restricted"'],
      [JSON.stringify([{ kind: 'observation', title: 'ok', fields: [{ name: 'n', type: 'number', value: CANARY }] }]), 'record 1, field fields[1].value: expected a number'],
      [JSON.stringify([{ kind: 'observation', title: 'ok', fields: [{ name: 'n', type: CANARY, value: 1 }] }]), 'record 1, field fields[1].type: must be one of the field types text, number, date, location'],
      [JSON.stringify([{ kind: 'note', title: 'ok', fields: [{ name: CANARY, type: 'text', value: CANARY }] }]), 'record 1, field fields: only observations have typed fields'],
      [JSON.stringify([{ kind: 'note', title: 'ok' }, CANARY]), 'record 2, the record: expected a object'],
      [JSON.stringify({ notRecords: [CANARY] }), 'a JSON import is an array of records, or an object with a "records" array'],
    ];
    for (const [text, message] of cases) await refused(file('json', text), message);
    await refused(file('json', Buffer.concat([Buffer.from(`[{"kind":"note","title":"${CANARY}`), Buffer.from([0xff, 0xfe]), Buffer.from('"}]')])), 'the file is not UTF-8 text');
  });

  test('bad values are named by place, never quoted: CSV', async () => {
    const cases: [string, string | RegExp][] = [
      [`title,${CANARY}\nok,x\n`, /^column 2 of the header is not a known column/],
      [`title,field:${CANARY}:number\nok,${CANARY}\n`, 'row 2, column 2: a number field holds something that is not a number'],
      [`title,field:${CANARY}:location\nok,${CANARY}\n`, 'row 2, column 2: a location field must be "lat,lon[,label]"'],
      [`title,field:${CANARY}:date\nok,${CANARY}\n`, 'row 2, column 2, field fields[1].value: is not a valid date (YYYY-MM-DD) or ISO 8601 date and time with a time zone; nothing was imported'],
      [`title,body\nok,fine\nok,"${CANARY}"x\n`, 'row 3, column 2: a quoted cell is malformed (text after its closing quote)'],
      [`title,body\nok,"${CANARY}\n`, /^row 2, column 2: a quoted cell is never closed$/],
      [`title,body\nok,fine,${CANARY}\n`, 'row 2 has a different number of cells than the header'],
      [`title,kind\n${CANARY},${CANARY}\n`, 'row 2, column 2, field kind: must be one of "note", "observation", "file"'],
      [`title,captured_at\nok,${CANARY}\n`, 'row 2, column 2, field capturedAt: is not a valid ISO 8601 date and time with a time zone'],
      [`title,title\n${CANARY},x\n`, 'column 2 of the header repeats an earlier column'],
    ];
    for (const [text, message] of cases) await refused(file('csv', text), message);
  });

  test('within the limits, a large import goes through', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `note ${i},${'b'.repeat(500)},tag${i % 7}`);
    const r = await tv.custody.importFile(file('csv', `title,body,tags\n${rows.join('\n')}\n`));
    expect(r.imported).toBe(2000);
  });
});
