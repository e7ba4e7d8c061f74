// Several processes, one vault: four CLI processes write at once (unlock entries, single adds,
// imports of many records, checkpoints at close). The audit log must not fork: every sequence
// number once, the tree and every signed checkpoint consistent (custody audit verify), one
// record.created per record, and the change counter numbering every record once.
import { afterAll, beforeAll, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { CLI, cli } from './testing.ts';

const PASSWORD = 'four writers password';
const env = { CUSTODY_PASSWORD: PASSWORD };
const WRITERS = 4;
const ROUNDS = 3;
const IMPORTED = 25;

let root: string;
beforeAll(() => {
  root = tempDir('custody-writers-');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the CLI and resolves with its exit status and stderr (the processes run side by side). */
function run(vault: string, args: string[]): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, '--vault', vault, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status: status ?? -1, stderr }));
  });
}

test('four processes appending at once never fork the audit log', { timeout: 600_000 }, async () => {
  const vault = join(root, 'vault');
  await Custody.create(vault, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'writers' });
  const file = join(root, 'batch.json');
  writeFileSync(file, JSON.stringify(Array.from({ length: IMPORTED }, (_, i) => ({ kind: 'note', title: `imported ${i}`, body: 'batch' }))));

  // Each writer: add, import, add, ... one after another; the four writers side by side.
  const writer = async (w: number) => {
    for (let round = 0; round < ROUNDS; round++) {
      for (const args of [['add', '--title', `writer ${w} round ${round}`, '--body', 'single'], ['import', file]]) {
        const r = await run(vault, args);
        expect(r.status, `writer ${w}: ${args[0]}: ${r.stderr}`).toBe(0);
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

  const verified = cli(vault, ['--json', 'audit', 'verify'], env);
  expect(verified.status, verified.stdout + verified.stderr).toBe(0);
  const report = JSON.parse(verified.stdout) as { ok: boolean; entries: number; checkpoints: number; problems: unknown[] };
  expect(report).toMatchObject({ ok: true, problems: [] });

  const db = new Database(join(vault, 'custody.db'), { readonly: true });
  try {
    const records = WRITERS * ROUNDS * (1 + IMPORTED);
    const seqs = db.prepare('SELECT seq FROM audit_entry ORDER BY seq').pluck().all() as number[];
    // Every sequence number once, none missing.
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(db.prepare("SELECT count(*) FROM audit_entry WHERE event = 'record.created'").pluck().get()).toBe(records);
    expect(db.prepare('SELECT count(*) FROM record').pluck().get()).toBe(records);
    // Checkpoints: every stored one within the log (verify checked each root against the tree).
    expect(report.checkpoints).toBeGreaterThanOrEqual(WRITERS * ROUNDS);
    expect(db.prepare('SELECT max(size) FROM audit_checkpoint').pluck().get() as number).toBeLessThanOrEqual(seqs.length);
    // The change counter numbered each record once, in commit order, without gaps.
    expect(db.prepare('SELECT count(*), min(seq), max(seq) FROM record_change').raw().get()).toEqual([records, 1, records]);
  } finally {
    db.close();
  }
});
