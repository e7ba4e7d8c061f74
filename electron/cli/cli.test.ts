import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../core/testing/tempVault.ts';
import { cli } from './testing.ts';

let root: string;
let vault: string;
const pw = 'cli test password';
const env = () => ({ CUSTODY_PASSWORD: pw });
const json = <T>(r: { stdout: string; status: number; stderr: string }): T => {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as T;
};
let recoveryKey: string;

beforeAll(() => {
  root = tempDir('custody-cli-');
  vault = join(root, 'vault');
  writeFileSync(join(root, 'pw'), `${pw}\n`);
  const r = json<{ vaultId: string; recoveryKey: string }>(cli(vault, ['init', '--kdf-target-ms', '200', '--actor', 'Ana Analyst', '--json', '--password-file', join(root, 'pw')]));
  recoveryKey = r.recoveryKey;
  expect(r.vaultId).toMatch(/^[0-9a-f-]{36}$/);
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Each test runs the real CLI a dozen times or more: slow on a loaded machine, so generous limits.
describe('custody CLI', { timeout: 240_000 }, () => {
  test('init refuses an existing vault; unlock-check accepts the right password and rejects a wrong one', () => {
    expect(cli(vault, ['init'], env())).toMatchObject({ status: 1, stderr: expect.stringContaining('already exists') });
    expect(cli(vault, ['unlock-check'], env())).toMatchObject({ status: 0, stdout: expect.stringContaining('ok') });
    expect(cli(vault, ['unlock-check', '--password-file', join(root, 'pw')])).toMatchObject({ status: 0 });
    const bad = cli(vault, ['unlock-check'], { CUSTODY_PASSWORD: 'wrong password' });
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/^custody: wrong password/);
    expect(bad.stdout).toBe('');
    const noPw = cli(vault, ['list']);
    expect(noPw.status).toBe(2);
    expect(noPw.stderr).toContain('--password-file');
  });

  test('add, list, show, edit, history, search, rm, restore, purge', () => {
    const { id } = json<{ id: string }>(cli(vault, ['add', '--title', 'Harbour watch', '--body', 'Two boats left at dawn', '--case', 'Gull', '--tag', 'boats', '--tag', 'dawn', '--classification', 'confidential', '--json'], env()));
    const obs = cli(vault, ['add', '--kind', 'observation', '--title', 'Count', '--field', 'boats:number=2', '--field', 'pier:location=51.5,-0.1,Pier 4', '--captured-at', '2026-02-03T04:05:06Z'], env());
    expect(obs.status).toBe(0);
    const obsId = obs.stdout.trim();
    const list = json<{ id: string; title: string }[]>(cli(vault, ['list', '--json'], env()));
    expect(list.map((r) => r.id).sort()).toEqual([id, obsId].sort());
    expect(cli(vault, ['list'], env()).stdout).toContain('Harbour watch');
    expect(json<{ fields: unknown[] }>(cli(vault, ['show', obsId, '--json'], env())).fields).toEqual([
      { name: 'boats', type: 'number', value: 2 },
      { name: 'pier', type: 'location', value: { lat: 51.5, lon: -0.1, label: 'Pier 4' } },
    ]);
    expect(json<{ version: number }>(cli(vault, ['edit', id, '--body', 'Three boats left at dawn', '--json'], env())).version).toBe(2);
    const stale = cli(vault, ['edit', id, '--version', '1', '--title', 'stale'], env());
    expect(stale.status).toBe(5);
    expect(stale.stderr).toContain('changed since you opened it');
    const history = json<{ version: number; record: { body: string } }[]>(cli(vault, ['history', id, '--json'], env()));
    expect(history.map((h) => [h.version, h.record.body])).toEqual([[2, 'Three boats left at dawn'], [1, 'Two boats left at dawn']]);
    expect(json<{ total: number }>(cli(vault, ['search', 'three', 'boats', '--case', 'Gull', '--json'], env())).total).toBe(1);
    expect(json<{ total: number }>(cli(vault, ['search', '--kind', 'observation', '--json'], env())).total).toBe(1);
    expect(cli(vault, ['rm', id], env()).status).toBe(0);
    expect(json<unknown[]>(cli(vault, ['list', '--deleted', 'only', '--json'], env()))).toHaveLength(1);
    expect(cli(vault, ['restore', id], env()).status).toBe(0);
    expect(cli(vault, ['purge', id, '--yes'], env())).toMatchObject({ status: 5, stderr: expect.stringContaining('not in the trash') });
    expect(cli(vault, ['show', '00000000-0000-7000-8000-000000000000'], env())).toMatchObject({ status: 4 });
    expect(cli(vault, ['add', '--title', ''], env())).toMatchObject({ status: 2, stderr: expect.stringContaining('title') });
  });

  test('attach and extract byte-identical; import CSV; audit list, stats and failures', () => {
    const { id } = json<{ id: string }>(cli(vault, ['add', '--kind', 'file', '--title', 'Scans', '--json'], env()));
    const data = randomBytes(200_000);
    writeFileSync(join(root, 'scan.pdf'), data);
    const [att] = json<{ id: string; sha256: string }[]>(cli(vault, ['attach', id, join(root, 'scan.pdf'), '--json'], env()));
    expect(cli(vault, ['extract', att!.id, '--out', join(root, 'back.pdf')], env()).status).toBe(0);
    expect(readFileSync(join(root, 'back.pdf')).equals(data)).toBe(true);
    writeFileSync(join(root, 'in.csv'), 'title,body,tags\nFrom CSV,imported body,a;b\nSecond,,\n');
    expect(json<{ imported: number }>(cli(vault, ['import', join(root, 'in.csv'), '--json'], env())).imported).toBe(2);
    const entries = json<{ event: string; actor: string }[]>(cli(vault, ['audit', 'list', '--event', 'attachment.', '--json'], env()));
    expect(entries.map((e) => e.event).sort()).toEqual(['attachment.added', 'attachment.exported']);
    expect(entries[0]!.actor).toBe('Ana Analyst');
    const stats = json<{ total: number; byEvent: Record<string, number> }>(cli(vault, ['audit', 'stats', '--json'], env()));
    expect(stats.byEvent['record.created']).toBeGreaterThanOrEqual(5);
    const failures = json<{ event: string; success: boolean }[]>(cli(vault, ['audit', 'failures', '--json'], env()));
    expect(failures.map((f) => f.event)).toContain('vault.unlock_failed');
    expect(failures.every((f) => !f.success)).toBe(true);
    expect(cli(vault, ['audit', 'list'], env()).stdout).toContain('record.created');
  });

  test('passwd and recover', () => {
    writeFileSync(join(root, 'new'), 'second password');
    expect(cli(vault, ['passwd', '--new-password-file', join(root, 'new')], env()).status).toBe(0);
    expect(cli(vault, ['unlock-check'], env()).status).toBe(3);
    expect(cli(vault, ['unlock-check'], { CUSTODY_PASSWORD: 'second password' }).status).toBe(0);
    writeFileSync(join(root, 'rk'), recoveryKey);
    expect(cli(vault, ['recover', '--recovery-key-file', join(root, 'rk')], { CUSTODY_NEW_PASSWORD: pw }).status).toBe(0);
    expect(cli(vault, ['unlock-check'], env()).status).toBe(0);
    writeFileSync(join(root, 'rk2'), 'ABCD-'.repeat(12) + 'ABCD');
    expect(cli(vault, ['recover', '--recovery-key-file', join(root, 'rk2')], { CUSTODY_NEW_PASSWORD: 'whatever123' }).status).toBe(3);
  });
});
