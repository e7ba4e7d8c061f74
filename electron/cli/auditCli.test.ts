// The audit log checked from outside: with the CLI's exported bytes, and with openssl.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { parseVerifierKey } from '../core/audit/tlog/note.ts';
import { verifyTlogProof } from '../core/audit/tlog/proof.ts';
import { cli } from './testing.ts';
import { keyFingerprint } from '../core/crypto/keys.ts';
import { rewriteAndResign } from '../core/testing/attacks.ts';

let root: string;
let vault: string;
const env = { CUSTODY_PASSWORD: 'audit cli password' };

beforeAll(async () => {
  root = tempDir('custody-audit-cli-');
  vault = join(root, 'vault');
  await Custody.create(vault, { password: env.CUSTODY_PASSWORD, kdf: KDF_FLOOR });
  expect(cli(vault, ['add', '--title', 'one'], env).status).toBe(0);
  expect(cli(vault, ['add', '--title', 'two'], env).status).toBe(0);
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** RFC 6962 root, written out independently of the project's tree code. */
function rfc6962Root(leaves: Buffer[]): Buffer {
  const h = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
  const mth = (xs: Buffer[]): Buffer => {
    if (xs.length === 1) return h(Buffer.from([0]), xs[0]!);
    let k = 1;
    while (k * 2 < xs.length) k *= 2;
    return h(Buffer.from([1]), mth(xs.slice(0, k)), mth(xs.slice(k)));
  };
  return mth(leaves);
}

describe('the audit log from outside', { timeout: 240_000 }, () => {
test('export + checkpoint + vkey let anyone check the log: root recomputed, signature checked with openssl', () => {
  // Signs a checkpoint covering everything so far.
  expect(cli(vault, ['unlock-check'], env).status).toBe(0);
  const note = cli(vault, ['audit', 'checkpoint'], env).stdout;
  const vkey = cli(vault, ['audit', 'vkey'], env).stdout.trim();
  const [text, sigLine] = note.split('\n\n') as [string, string];
  const [origin, size, rootB64] = text.split('\n');
  const lines = cli(vault, ['audit', 'export'], env).stdout.trimEnd().split('\n').slice(0, Number(size));
  expect(rfc6962Root(lines.map((l) => Buffer.from(l))).toString('base64')).toBe(rootB64);

  // name+keyid+base64: the base64 may itself contain '+'.
  const [name, , ...rest] = vkey.split('+') as [string, string, ...string[]];
  const keyB64 = rest.join('+');
  // Each device signs under its own key name; the checkpoint's origin is the log's.
  expect(name).toMatch(new RegExp(`^${origin}/device/[0-9a-f-]{36}$`));
  const pub = Buffer.from(keyB64, 'base64').subarray(1);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]);
  writeFileSync(join(root, 'pub.pem'), `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64')}\n-----END PUBLIC KEY-----\n`);
  const sig = Buffer.from(sigLine.trim().split(' ').at(-1)!, 'base64').subarray(4);
  writeFileSync(join(root, 'sig'), sig);
  writeFileSync(join(root, 'msg'), text + '\n');
  const ok = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(root, 'pub.pem'), '-rawin', '-in', join(root, 'msg'), '-sigfile', join(root, 'sig')], { encoding: 'utf8' });
  expect(ok).toContain('Signature Verified Successfully');
  writeFileSync(join(root, 'msg'), text.replace(/\n\d+\n/, `\n${Number(size) + 1}\n`) + '\n');
  expect(() => execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(root, 'pub.pem'), '-rawin', '-in', join(root, 'msg'), '-sigfile', join(root, 'sig')], { stdio: 'pipe' })).toThrow();

  const proof = cli(vault, ['audit', 'proof', '3'], env).stdout;
  expect(verifyTlogProof(proof, { leafData: Buffer.from(lines[3]!) }, [parseVerifierKey(vkey)], origin!).index).toBe(3);
});

test('audit verify exits 0 on a clean log and 1 naming the entry after an edit', () => {
  const good = cli(vault, ['audit', 'verify'], env);
  expect(good.status).toBe(0);
  expect(good.stdout).toMatch(/^OK: \d+ entries/);
  const db = new Database(join(vault, 'custody.db'));
  db.prepare("UPDATE audit_entry SET entry = replace(entry, '\"success\":true', '\"success\":false') WHERE seq = 4").run();
  db.close();
  const bad = cli(vault, ['audit', 'verify', '--json'], env);
  expect(bad.status).toBe(1);
  expect(JSON.parse(bad.stdout).problems).toContainEqual(expect.objectContaining({ kind: 'modified', seq: 4 }));
  expect(cli(vault, ['audit', 'verify'], env).stdout).toContain('entry 4: entry 4 was modified');
});

test('the review attack from the command line: a log re-signed with another key and a swapped registry key fails with --vkey and --unlock; without them verify names the key it trusted', async () => {
  const dir = join(root, 'attacked');
  await Custody.create(dir, { password: env.CUSTODY_PASSWORD, kdf: KDF_FLOOR });
  expect(cli(dir, ['add', '--title', 'evidence'], env).status).toBe(0);
  const saved = cli(dir, ['audit', 'vkey'], env).stdout.trim();
  writeFileSync(join(root, 'saved.vkey'), saved + '\n');
  const created = new Database(join(dir, 'custody.db'), { readonly: true });
  const seq = created.prepare("SELECT seq FROM audit_entry WHERE event = 'record.created'").pluck().get() as number;
  created.close();
  const attackerKey = rewriteAndResign(dir, seq, { swapKey: true });

  const locked = cli(dir, ['audit', 'verify'], env);
  // The swapped registry row no longer matches the registry the log committed
  // (audit/registryState.ts): caught even without --vkey, as this attacker left the commitments
  // as they were. One who rewrites those too (the log is re-signed with his key) is caught only
  // by --vkey or --unlock: verify still names the key it trusted.
  expect(locked.status).toBe(1);
  expect(locked.stdout).toContain('[registry-row-modified]');
  expect(locked.stdout).toContain(`signing key: ${keyFingerprint(attackerKey)}`);
  expect(locked.stdout).toMatch(/read from the vault's key registry[\s\S]*--vkey[\s\S]*--unlock/);
  const pinned = cli(dir, ['audit', 'verify', '--vkey', join(root, 'saved.vkey')], env);
  expect(pinned.status).toBe(1);
  expect(pinned.stdout).toMatch(/^FAILED/);
  expect(pinned.stdout).toContain('[untrusted-key]');
  expect(pinned.stdout).toContain('[external-checkpoint-forged]');
  const unlocked = cli(dir, ['audit', 'verify', '--unlock'], env);
  expect(unlocked.status).toBe(6);
  expect(unlocked.stderr).toMatch(/not the key of its sealed seed/);
});
});
