// Record key re-encryption after a suspected epoch key leak: the records of the range get new
// data keys under a new root, so the leaked day keys open none of them; other days are left
// alone; a kill -9 mid-way leaves each day whole and a rerun resumes where it stopped.
import { afterEach, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { ad, open } from '../crypto/aead.ts';
import { Custody } from '../custody.ts';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { rotateRecordKeys, unfinishedJob } from './recordKeys.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});
const CLI = resolve('out/cli/custody.mjs');
const dekAd = (vaultId: string, recordId: string, day: string) => ad('dek', vaultId, recordId, day);
type Row = { id: string; epoch_day: string; wrapped_dek: Buffer; summary: Buffer };

async function seeded() {
  tv = await tempVault();
  const c = tv.custody;
  const ids: string[] = [];
  for (const [day, title] of [['2026-01-10', 'a'], ['2026-01-11', 'b'], ['2026-01-12', 'c'], ['2026-02-01', 'outside']] as const) ids.push((await c.createRecord({ kind: 'note', title, body: `body ${title}`, capturedAt: `${day}T09:00:00Z` })).id);
  const b = await c.getRecord(ids[1]!);
  await c.updateRecord(b.id, b.version, { body: 'body b, edited' });
  const keys = c.vault.keys();
  // What leaked: the January day keys.
  const leaked = new Map(['2026-01-10', '2026-01-11', '2026-01-12'].map((d) => [d, Buffer.from(keys.epochKey(d))]));
  return { c, ids, leaked };
}

const rows = (c: Custody) => c.vault.db.sql.prepare('SELECT id, epoch_day, wrapped_dek, summary FROM record ORDER BY epoch_day').all() as Row[];
const versions = (c: Custody) => c.vault.db.sql.prepare('SELECT record_id AS id, epoch_day, wrapped_dek, summary FROM record_version').all() as Row[];
const opensWith = (c: Custody, leaked: Map<string, Buffer>, r: Row) => {
  try {
    open(leaked.get(r.epoch_day)!, r.wrapped_dek, dekAd(c.vault.vaultId, r.id, r.epoch_day));
    return true;
  } catch {
    return false;
  }
};

async function allReadable(c: Custody, ids: string[]) {
  expect((await Promise.all(ids.map((id) => c.getRecord(id)))).map((r) => r.body)).toEqual(['body a', 'body b, edited', 'body c', 'body outside']);
  expect((await c.history(ids[1]!)).length).toBeGreaterThanOrEqual(2);
}

describe('custody keys rotate record-keys', () => {
  test('re-encrypts the range under new data keys and a new root; the leaked day keys open none of it; other days untouched', async () => {
    const { c, ids, leaked } = await seeded();
    const before = rows(c);
    const progress: string[] = [];
    const r = await rotateRecordKeys(c.vault, { fromDay: '2026-01-10', untilDay: '2026-01-31', onProgress: (p) => progress.push(`${p.day} ${p.daysDone}/${p.days}`) });
    expect(progress).toEqual(['2026-01-10 1/3', '2026-01-11 2/3', '2026-01-12 3/3']);
    expect(r.recordsDone).toBe(3);
    const after = rows(c);
    for (const [i, row] of after.entries()) {
      const inRange = row.epoch_day < '2026-02-01';
      expect(row.summary.equals(before[i]!.summary)).toBe(!inRange);
      if (inRange) expect(opensWith(c, leaked, row)).toBe(false);
    }
    for (const v of versions(c).filter((x) => x.epoch_day < '2026-02-01')) expect(opensWith(c, leaked, v)).toBe(false);
    await allReadable(c, ids);
    const again = await tv!.reopen();
    await again.unlock(PASSWORD, { buildIndex: false });
    await allReadable(again, ids);
    expect((await again.verifyAudit()).ok).toBe(true);
    expect((await again.auditQuery({ event: 'key.rotated' }))[0]!.entry!.details).toMatchObject({ kind: 'record_keys', fromDay: '2026-01-10', untilDay: '2026-01-31', records: 3, resumed: false });
    expect(unfinishedJob(again.vault)).toBeUndefined();
  });

  test.each(['record-keys:after-first-day', 'record-keys:mid-day'])('kill -9 at %s: every record readable, the rerun resumes and finishes', async (step) => {
    const { ids, leaked } = await seeded();
    await tv!.custody.close();
    const child = spawn(process.execPath, [CLI, '--vault', tv!.dir, 'keys', 'rotate', 'record-keys', '--from', '2026-01-10', '--until', '2026-01-31'], { env: { ...process.env, CUSTODY_PASSWORD: PASSWORD, CUSTODY_FAULT: step }, stdio: 'ignore' });
    expect(await new Promise((res) => child.on('exit', (_c, s) => res(s)))).toBe('SIGKILL');
    const c = await Custody.open(tv!.dir);
    await c.unlock(PASSWORD, { buildIndex: false });
    await allReadable(c, ids);
    const job = unfinishedJob(c.vault)!;
    expect(job.done_through).toBe(step === 'record-keys:after-first-day' ? '2026-01-10' : null);
    // Each day is whole: done days no longer open with the leaked keys, the others still do.
    for (const row of rows(c).filter((x) => x.epoch_day < '2026-02-01')) expect(opensWith(c, leaked, row)).toBe(!(job.done_through !== null && row.epoch_day <= job.done_through));
    await expect(rotateRecordKeys(c.vault, { fromDay: '2026-01-01' })).rejects.toThrow(/unfinished/);
    const r = await rotateRecordKeys(c.vault);
    expect(r.resumed).toBe(true);
    expect(r.recordsDone).toBe(3);
    for (const row of rows(c).filter((x) => x.epoch_day < '2026-02-01')) expect(opensWith(c, leaked, row)).toBe(false);
    await allReadable(c, ids);
    expect((await c.verifyAudit()).ok).toBe(true);
    await c.close();
  });
});
