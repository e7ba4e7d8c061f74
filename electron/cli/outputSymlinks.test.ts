// Issue 10, item 8: the CLI's outputs next to a path the user named (`custody extract --out`,
// `custody report --out`) are created exclusively and renamed into place. Attack: someone who
// can write that folder plants symlinks at the destination and at the temp names earlier
// releases used; the files they point to must not be written through.
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '../core/testing/tempVault.ts';
import { cli } from './testing.ts';

let root: string;
let vault: string;
let victim: string;
const pw = 'cli symlink test password';
const env = () => ({ CUSTODY_PASSWORD: pw });
const json = <T>(r: { stdout: string; status: number; stderr: string }): T => {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};
const VICTIM = 'the victim file, untouched\n';

beforeAll(() => {
  root = tempDir('custody-cli-links-');
  vault = join(root, 'vault');
  victim = join(root, 'victim.txt');
  writeFileSync(join(root, 'pw'), `${pw}\n`);
  json(cli(vault, ['init', '--kdf-target-ms', '200', '--json', '--password-file', join(root, 'pw')]));
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('CLI outputs and pre-placed symlinks', { timeout: 240_000 }, () => {
  test('custody extract --out onto a symlink replaces the link; the file it points to is not written', () => {
    writeFileSync(victim, VICTIM);
    const { id } = json<{ id: string }>(cli(vault, ['add', '--kind', 'file', '--title', 'Scans', '--json'], env()));
    writeFileSync(join(root, 'scan.bin'), 'secret scan bytes');
    const [att] = json<{ id: string }[]>(cli(vault, ['attach', id, join(root, 'scan.bin'), '--json'], env()));
    const out = join(root, 'out');
    mkdirSync(out);
    const dest = join(out, 'back.bin');
    symlinkSync(victim, dest);
    symlinkSync(victim, `${dest}.tmp`);
    expect(cli(vault, ['extract', att!.id, '--out', dest], env())).toMatchObject({ status: 0 });
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM);
    expect(lstatSync(dest).isSymbolicLink()).toBe(false);
    expect(readFileSync(dest, 'utf8')).toBe('secret scan bytes');
    // Only the result and the planted temp-name link (left alone, not followed) remain.
    expect(readdirSync(out).sort()).toEqual(['back.bin', 'back.bin.tmp']);
    expect(lstatSync(`${dest}.tmp`).isSymbolicLink()).toBe(true);
  });

  test('custody report --out --zip onto a dangling symlink replaces the link; its target is not created', () => {
    writeFileSync(victim, VICTIM);
    const out = join(root, 'reports');
    mkdirSync(join(root, 'elsewhere'));
    mkdirSync(out);
    const zip = join(out, 'r.zip');
    const target = join(root, 'elsewhere', 'planted.zip');
    symlinkSync(target, zip);
    expect(cli(vault, ['report', '--out', zip, '--zip', '--purpose', 'review'], env())).toMatchObject({ status: 0 });
    expect(readdirSync(join(root, 'elsewhere'))).toEqual([]);
    expect(lstatSync(zip).isSymbolicLink()).toBe(false);
    expect(readFileSync(zip).subarray(0, 2).toString()).toBe('PK');
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM);
  });
});
