// One CLI command is one audit session (issue 14): the real CLI, run as a user would. Each
// command that unlocks writes one vault.unlocked naming the command (never its arguments) and
// no vault.locked; the checkpoint signed at its end still covers its last entry, so a database
// rolled back to before the command is caught.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { parseCheckpoint } from '../core/audit/tlog/checkpoint.ts';
import { cli } from './testing.ts';

let root: string;
let vault: string;
const env = { CUSTODY_PASSWORD: 'audit session password' };
const TITLE = 'Harbour-canary-7f3a';

/** The log as stored, read without unlocking (and so without adding to it). */
async function log(): Promise<{ event: string; details: Record<string, unknown> }[]> {
  const c = await Custody.open(vault);
  try {
    return (await c.auditQuery({ order: 'asc', limit: 10_000 })).map((r) => ({ event: r.event, details: (r.entry?.details ?? {}) as Record<string, unknown> }));
  } finally {
    await c.close();
  }
}

beforeAll(async () => {
  root = tempDir('custody-audit-session-');
  vault = join(root, 'vault');
  await Custody.create(vault, { password: env.CUSTODY_PASSWORD, kdf: KDF_FLOOR });
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('one CLI command, one audit session', { timeout: 240_000 }, () => {
  test('three commands: three vault.unlocked entries naming their commands, no vault.locked', async () => {
    const before = (await log()).length;
    expect(cli(vault, ['add', '--title', TITLE, '--case', 'Operation-canary'], env).status).toBe(0);
    expect(cli(vault, ['list'], env).status).toBe(0);
    expect(cli(vault, ['search', 'harbour', '--case', 'Operation-canary'], env).status).toBe(0);
    const entries = (await log()).slice(before);
    expect(entries.filter((e) => e.event === 'vault.unlocked').map((e) => e.details)).toEqual([
      { method: 'password', command: 'add' },
      { method: 'password', command: 'list' },
      { method: 'password', command: 'search' },
    ]);
    expect(entries.some((e) => e.event === 'vault.locked')).toBe(false);
    // Each session is its unlock and what the command did: nothing else.
    expect(entries.map((e) => e.event)).toEqual(['vault.unlocked', 'record.created', 'vault.unlocked', 'vault.unlocked', 'search']);
    expect(entries.at(-1)!.details).toEqual({ terms: 1, filters: ['case'], deleted: 'exclude', results: 1 });
    // Argument values (a title, a case, search words) are never in the log.
    const text = JSON.stringify(entries);
    for (const s of [TITLE, 'canary', 'harbour']) expect(text).not.toContain(s);
  });

  test('a subcommand is named by its path; commands that do not unlock write nothing', async () => {
    const before = (await log()).length;
    expect(cli(vault, ['audit', 'verify', '--unlock'], env).status).toBe(0);
    expect(cli(vault, ['audit', 'list', '--json'], env).status).toBe(0);
    expect(cli(vault, ['audit', 'stats'], env).status).toBe(0);
    const entries = (await log()).slice(before);
    expect(entries.map((e) => e.event)).toEqual(['vault.unlocked', 'audit.verified']);
    expect(entries[0]!.details).toEqual({ method: 'password', command: 'audit verify' });
  });

  test('the end of a command is still signed: checkpoint.txt covers its last entry, and a rollback to before it is caught', async () => {
    const saved = join(root, 'before.db');
    copyFileSync(join(vault, 'custody.db'), saved);
    expect(cli(vault, ['add', '--title', 'after the copy'], env).status).toBe(0);
    const size = (await log()).length;
    const external = parseCheckpoint(readFileSync(join(vault, 'checkpoint.txt'), 'utf8').split('\n\n')[0] + '\n');
    expect(external.size).toBe(size);
    const ok = cli(vault, ['audit', 'verify'], env);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).not.toContain('not yet covered by a signed checkpoint');

    for (const suffix of ['-wal', '-shm']) rmSync(join(vault, `custody.db${suffix}`), { force: true });
    copyFileSync(saved, join(vault, 'custody.db'));
    const r = cli(vault, ['audit', 'verify'], env);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('[rolled-back]');
  });
});
