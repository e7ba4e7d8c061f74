// Damaged vault files through the CLI: each gives its own clear error naming the file (and,
// for the database and the header, pointing to `custody restore`), never "unexpected error".
import { afterAll, beforeEach, describe, expect, test, vi } from 'vitest';
import Database from 'better-sqlite3';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { cli } from './testing.ts';

// Each test runs the CLI several times (a full unlock each): slow on a loaded machine.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 300_000 });

const PASSWORD = 'damaged files password';
const env = { CUSTODY_PASSWORD: PASSWORD };
const root = tempDir('custody-damaged-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let vault: string;
let n = 0;

beforeEach(async () => {
  vault = join(root, `vault-${n++}`);
  await Custody.create(vault, { password: PASSWORD, kdf: KDF_FLOOR });
  for (let i = 0; i < 3; i++) expect(cli(vault, ['add', '--title', `note ${i}`, '--body', 'b'.repeat(2000)], env).status).toBe(0);
});

describe('damaged files', () => {
  test('a corrupted page of custody.db: the error names custody.db and points to custody restore', () => {
    const file = join(vault, 'custody.db');
    const db = new Database(file);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const page = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'record'").pluck().get() as number;
    db.close();
    // The record table's root page is overwritten with garbage.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (page - 1) * pageSize);
    closeSync(fd);
    const r = cli(vault, ['list'], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^custody: the vault database custody\.db is damaged \(.*\).*custody restore BACKUP_FILE --vault NEW_FOLDER/);
    expect(r.stderr).not.toMatch(/unexpected error/);
  });

  test('a damaged vault.json: the error names the file and points to custody restore', () => {
    writeFileSync(join(vault, 'vault.json'), '{"format": "custody-vault", "vers');
    const r = cli(vault, ['list'], env);
    expect(r.stderr).toContain(`the vault header ${join(vault, 'vault.json')} is damaged (vault.json is not valid JSON)`);
    expect(r.stderr).toContain('custody restore');
    const h = JSON.stringify({ format: 'custody-vault', version: 1 });
    writeFileSync(join(vault, 'vault.json'), h);
    expect(cli(vault, ['list'], env).stderr).toMatch(/the vault header .* is damaged \(vault\.json is malformed: vaultId/);
  });

  test('a damaged checkpoint.txt: status and audit verify say that checkpoint.txt does not verify', () => {
    const file = join(vault, 'checkpoint.txt');
    const text = readFileSync(file, 'utf8');
    // The signature line's base64 changed in the middle.
    const lines = text.split('\n');
    const sig = lines.findIndex((l) => l.startsWith('— '));
    lines[sig] = lines[sig]!.slice(0, 30) + (lines[sig]![30] === 'A' ? 'B' : 'A') + lines[sig]!.slice(31);
    writeFileSync(file, lines.join('\n'));
    const s = cli(vault, ['status'], { CUSTODY_PASSWORD: '' });
    expect(s.stdout).toMatch(/PROBLEM +checkpoint\.txt does not verify/);
    const v = cli(vault, ['audit', 'verify'], env);
    expect(v.status).not.toBe(0);
    expect(v.stdout + v.stderr).toMatch(/checkpoint\.txt does not verify/);
  });

  test('a damaged attachment: extract refuses with an error naming the attachment, nothing written', () => {
    const id = JSON.parse(cli(vault, ['--json', 'list'], env).stdout)[0].id as string;
    const src = join(root, `evidence-${n}.bin`);
    writeFileSync(src, Buffer.alloc(200_000, 3));
    const a = JSON.parse(cli(vault, ['--json', 'attach', id, src], env).stdout)[0] as { id: string };
    const blob = join(vault, 'attachments', readdirSync(join(vault, 'attachments'))[0]!);
    const bytes = readFileSync(blob);
    bytes[100_000]! ^= 1;
    writeFileSync(blob, bytes);
    const out = join(root, `out-${n}.bin`);
    const r = cli(vault, ['extract', a.id, '--out', out], env);
    expect(r.status).toBe(6);
    expect(r.stderr).toMatch(new RegExp(`^custody: attachment ${a.id} is damaged or was modified`));
    expect(() => readFileSync(out)).toThrow();
  });
});
