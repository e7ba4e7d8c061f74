// `custody audit verify` reports one problem per cause (issue 14): one row deleted from a log
// with many signed checkpoints is one line naming the row, with how many checkpoints it breaks,
// not one line per checkpoint.
import { afterAll, beforeAll, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { cli } from './testing.ts';

let root: string;
let vault: string;
let broken = 0;
const env = { CUSTODY_PASSWORD: 'audit verify output password' };

beforeAll(async () => {
  root = tempDir('custody-audit-verify-');
  vault = join(root, 'vault');
  await Custody.create(vault, { password: env.CUSTODY_PASSWORD, kdf: KDF_FLOOR });
  const c = await Custody.open(vault);
  await c.unlock(env.CUSTODY_PASSWORD, { buildIndex: false });
  for (let i = 0; i < 60; i++) {
    await c.createRecord({ kind: 'note', title: `r${i}` });
    await c.vault.checkpointNow('batch');
  }
  await c.close();
  const db = new Database(join(vault, 'custody.db'));
  // Every checkpoint covering entry 7 breaks, and checkpoint.txt too.
  broken = (db.prepare('SELECT count(*) AS n FROM audit_checkpoint WHERE size > 7').get() as { n: number }).n + 1;
  db.prepare('DELETE FROM audit_entry WHERE seq = 7').run();
  db.close();
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('one deleted row: exactly one problem naming its seq, then the count of checkpoints it affects', { timeout: 120_000 }, () => {
  expect(broken).toBeGreaterThan(50);
  const r = cli(vault, ['audit', 'verify'], env);
  expect(r.status).toBe(1);
  const lines = r.stdout.split('\n');
  expect(lines[0]).toMatch(/^FAILED: 1 problem\(s\) in \d+ entries$/);
  expect(lines.filter((l) => l.startsWith('  entry '))).toEqual([`  entry 7: entry 7 was deleted [missing]; affects ${broken} checkpoints`]);
  const json = JSON.parse(cli(vault, ['audit', 'verify', '--json'], env).stdout) as { problems: unknown[] };
  expect(json.problems).toEqual([{ kind: 'missing', seq: 7, message: 'entry 7 was deleted', affectedCheckpoints: broken }]);
});
