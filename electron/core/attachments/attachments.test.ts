import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { openingMatches } from '../audit/commitment.ts';
import { exportReport } from '../reports/export.ts';

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
});
afterEach(async () => tv.cleanup());

const scratch = (name: string) => join(tv.dir, '..', name);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('attachments', () => {
  test('add from a file, extract byte-identical, verify; plaintext hash recorded and audited', async () => {
    const c = tv.custody;
    const r = await c.createRecord({ kind: 'file', title: 'Evidence photos' });
    const data = randomBytes(100_000);
    writeFileSync(scratch('photo.jpg'), data);
    const progress: number[] = [];
    const a = await c.addAttachment(r.id, scratch('photo.jpg'), (d) => progress.push(d));
    expect(a).toMatchObject({ name: 'photo.jpg', size: 100_000, sha256: sha(data), mediaType: 'image/jpeg' });
    expect(progress.at(-1)).toBe(100_000);
    expect((await c.getRecord(r.id)).attachments.map((x) => x.id)).toEqual([a.id]);
    await c.extractAttachment(a.id, scratch('out.jpg'));
    expect(readFileSync(scratch('out.jpg')).equals(data)).toBe(true);
    expect(await c.verifyAttachment(a.id)).toEqual({ ok: true, size: 100_000, sha256: sha(data) });
    const ev = (await c.auditQuery({ target: `attachment:${a.id}`, order: 'asc' })).map((e) => e.event);
    expect(ev).toEqual(['attachment.added', 'attachment.exported', 'attachment.verified']);
    // The log holds the hash only as a hiding commitment, the same in every entry of the
    // attachment; its opening (what a report reveals) checks against it.
    const details = (await c.auditQuery({ target: `attachment:${a.id}`, order: 'asc' })).map((e) => e.entry!.details);
    expect(details.every((d) => d.sha256 === undefined && d.sha256Commitment === details[0]!.sha256Commitment)).toBe(true);
    const opening = (await c.attachments.opening(a.id))!;
    expect(opening.sha256).toBe(sha(data));
    expect(openingMatches(details[0]!.sha256Commitment as string, opening.key, sha(data))).toBe(true);
    expect(openingMatches(details[0]!.sha256Commitment as string, opening.key, sha(randomBytes(10)))).toBe(false);
  });

  test('a modified, truncated or swapped blob is detected; no output file is left behind', async () => {
    const c = tv.custody;
    const r = await c.createRecord({ kind: 'file', title: 'x' });
    writeFileSync(scratch('a.bin'), randomBytes(50_000));
    writeFileSync(scratch('b.bin'), randomBytes(50_000));
    const a = await c.addAttachment(r.id, scratch('a.bin'));
    const b = await c.addAttachment(r.id, scratch('b.bin'));
    const blob = (id: string) => join(tv.dir, 'attachments', `${id}.cce`);
    const original = readFileSync(blob(a.id));

    const flipped = Buffer.from(original);
    flipped[flipped.length - 100]! ^= 1;
    writeFileSync(blob(a.id), flipped);
    await expect(c.extractAttachment(a.id, scratch('out1'))).rejects.toMatchObject({ code: 'TAMPERED' });
    expect(existsSync(scratch('out1'))).toBe(false);

    writeFileSync(blob(a.id), original.subarray(0, original.length - 1000));
    await expect(c.verifyAttachment(a.id)).rejects.toMatchObject({ code: 'TAMPERED' });

    // b's blob renamed into a's place: its context binds the attachment id, so it fails.
    renameSync(blob(b.id), blob(a.id));
    await expect(c.extractAttachment(a.id, scratch('out2'))).rejects.toMatchObject({ code: 'TAMPERED' });
    expect(existsSync(scratch('out2'))).toBe(false);
    expect(readdirSync(join(tv.dir, '..')).filter((f) => f.includes('tmp'))).toEqual([]);
    expect((await c.auditQuery({ event: 'attachment.tamper_detected' })).length).toBe(3);
  });

  test('purging a record deletes its attachment blobs', async () => {
    const c = tv.custody;
    const r = await c.createRecord({ kind: 'file', title: 'x' });
    writeFileSync(scratch('a.bin'), 'abc');
    const a = await c.addAttachment(r.id, scratch('a.bin'));
    await c.deleteRecord(r.id);
    await c.purgeRecord(r.id);
    expect(existsSync(join(tv.dir, 'attachments', `${a.id}.cce`))).toBe(false);
  });
});

test('no plaintext canary appears anywhere in the vault directory (database, WAL, blobs, header), after a failed import and a report too', async () => {
  tv = await tempVault();
  const c = tv.custody;
  const CANARY = 'CANARY-7f3a9c-plaintext-must-not-leak';
  const r = await c.createRecord({ kind: 'observation', title: `title ${CANARY}`, body: `body ${CANARY}`, case: `case ${CANARY}`, tags: [`tag-${CANARY}`], fields: [{ name: `f ${CANARY}`, type: 'text', value: CANARY }] });
  await c.updateRecord(r.id, 1, { body: `edited ${CANARY}` });
  writeFileSync(scratch(`${CANARY}.txt`), `${CANARY}\n`.repeat(5000));
  await c.addAttachment(r.id, scratch(`${CANARY}.txt`));
  // A bad import row holding the canary (a key and a value): its error names the place only.
  writeFileSync(scratch('i.json'), JSON.stringify([{ kind: 'note', title: 'ok' }, { kind: 'note', title: CANARY, [CANARY]: CANARY }]));
  await expect(c.importFile(scratch('i.json'), {})).rejects.toMatchObject({ code: 'IMPORT_FAILED', message: expect.not.stringContaining('CANARY') });
  writeFileSync(scratch('i.csv'), `title,body\n${CANARY},${CANARY}\n`);
  await c.importFile(scratch('i.csv'));
  await c.search({ text: CANARY, case: `case ${CANARY}` });
  await exportReport(c, { outDir: scratch('report'), purpose: `purpose ${CANARY}`, recipient: `recipient ${CANARY}`, case: `case ${CANARY}` });
  // Read the files while the database is still open, so the WAL holds recent pages too.
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  const files = walk(tv.dir);
  expect(files.some((f) => f.endsWith('custody.db-wal'))).toBe(true);
  for (const f of files) {
    const bytes = readFileSync(f);
    expect(bytes.includes(Buffer.from('CANARY-7f3a9c')), f).toBe(false);
    expect(bytes.includes(Buffer.from('CANARY-7f3a9c', 'utf16le')), f).toBe(false);
  }
  await c.close();
  for (const f of walk(tv.dir)) expect(readFileSync(f).includes(Buffer.from('CANARY-7f3a9c')), f).toBe(false);
  // And the database really holds the records (the canary is not missing for a trivial reason).
  const db = new Database(join(tv.dir, 'custody.db'), { readonly: true });
  expect((db.prepare('SELECT count(*) AS n FROM record').get() as { n: number }).n).toBe(2);
  db.close();
});
