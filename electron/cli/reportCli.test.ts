// `custody report` and `custody verify` from the command line: the signer of a report is shown,
// not assumed (without --vkey the verdict says it used the key the report carries and prints
// it; with --vkey another key fails), and a hostile zip is refused with the limit named.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hkdfSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { cli } from './testing.ts';

let root: string;
let vault: string;
let other: string;
const env = { CUSTODY_PASSWORD: 'report cli password' };
/** The registry's fingerprint of a vkey's public key, computed here independently of the CLI. */
const fp = (vkey: string) => Buffer.from(hkdfSync('sha256', Buffer.from(vkey.split('+').slice(2).join('+'), 'base64').subarray(1), Buffer.alloc(0), 'custody/fingerprint/v1', 16)).toString('hex');

beforeAll(async () => {
  root = tempDir('custody-report-cli-');
  vault = join(root, 'vault');
  other = join(root, 'other');
  await Custody.create(vault, { password: env.CUSTODY_PASSWORD, kdf: KDF_FLOOR });
  await Custody.create(other, { password: env.CUSTODY_PASSWORD, kdf: KDF_FLOOR });
  expect(cli(vault, ['add', '--title', 'one', '--case', 'Gull'], env).status).toBe(0);
  expect(cli(other, ['add', '--title', 'forged'], env).status).toBe(0);
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ok = (r: { status: number; stdout: string; stderr: string }) => {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
};

describe('a report\u2019s signer is shown, not assumed', { timeout: 240_000 }, () => {
  let vkey: string;
  let report: string;

  test('custody report prints the verifier key fingerprint; custody audit vkey gives the key and the same fingerprint', () => {
    vkey = ok(cli(vault, ['audit', 'vkey'], env)).trim();
    expect(ok(cli(vault, ['audit', 'vkey', '--fingerprint'], env)).trim()).toBe(fp(vkey));
    expect(JSON.parse(ok(cli(vault, ['audit', 'vkey', '--json'], env)))).toEqual({ vkey, fingerprint: fp(vkey) });
    report = join(root, 'report');
    const out = ok(cli(vault, ['report', '--out', report, '--purpose', 'court'], env));
    expect(out).toContain(`verifier key fingerprint ${fp(vkey)}`);
    expect(out).toContain(`custody verify ${report} --vkey`);
    writeFileSync(join(root, 'analyst.vkey'), vkey + '\n');
    // The same number names the key where the log itself is verified.
    expect(ok(cli(vault, ['audit', 'verify'], env))).toContain(fp(vkey));
  });

  test('without --vkey: verified, and it says plainly that the key is the report\u2019s own, with the key, its fingerprint and how to get the analyst\u2019s', () => {
    const out = ok(cli(vault, ['verify', report], env));
    expect(out).toContain('VERIFIED:');
    expect(out).toContain('Checked against the key the report itself carries (verifier.vkey), not one you already trust:');
    expect(out).toContain(`  ${vkey}\n  fingerprint ${fp(vkey)}\n`);
    expect(out).toContain('custody audit vkey');
    expect(out).toMatch(/ok {4} verifier key: .* taken from the report itself, fingerprint /);
    const json = JSON.parse(ok(cli(vault, ['verify', report, '--json'], env)));
    expect(json).toMatchObject({ ok: true, signer: { vkey, fingerprint: fp(vkey), trust: 'report' }, vkeyFingerprint: fp(vkey) });
    expect(json.expectedSigner).toBeUndefined();
  });

  test('with --vkey: the analyst\u2019s key passes and is named as the one given', () => {
    const out = ok(cli(vault, ['verify', report, '--vkey', join(root, 'analyst.vkey')], env));
    expect(out).toContain('VERIFIED:');
    expect(out).toContain(`Checked against the key you gave (--vkey), fingerprint ${fp(vkey)}.`);
    expect(out).not.toContain('itself carries');
    expect(JSON.parse(ok(cli(vault, ['verify', report, '--vkey', join(root, 'analyst.vkey'), '--json'], env))).signer).toEqual({ vkey, fingerprint: fp(vkey), trust: 'pinned' });
  });

  test('a report made with another key: shown with that key\u2019s fingerprint without --vkey, refused with the analyst\u2019s', () => {
    const forged = join(root, 'forged');
    ok(cli(other, ['report', '--out', forged, '--purpose', 'court'], env));
    const otherKey = ok(cli(other, ['audit', 'vkey'], env)).trim();
    // Self-consistent, so it verifies on its own key: the fingerprint shown is not the analyst's.
    const alone = ok(cli(vault, ['verify', forged], env));
    expect(alone).toContain(`fingerprint ${fp(otherKey)}`);
    expect(alone).not.toContain(fp(vkey));
    const pinned = cli(vault, ['verify', forged, '--vkey', join(root, 'analyst.vkey')], env);
    expect(pinned.status).toBe(1);
    expect(pinned.stdout).toContain('FAILED verifier key: the report carries the key');
    expect(pinned.stdout).toContain(`not by the key you expected (--vkey), fingerprint ${fp(vkey)}.`);
    expect(pinned.stdout).toContain('NOT VERIFIED');
    const json = JSON.parse(cli(vault, ['verify', forged, '--vkey', join(root, 'analyst.vkey'), '--json'], env).stdout);
    expect(json).toMatchObject({ ok: false, signer: { vkey: otherKey, trust: 'report' }, expectedSigner: { vkey, fingerprint: fp(vkey) } });
  });

  test('a malformed --vkey is a failure that says so', () => {
    writeFileSync(join(root, 'bad.vkey'), 'not a key\n');
    const r = cli(vault, ['verify', report, '--vkey', join(root, 'bad.vkey')], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAILED verifier key: the key you gave with --vkey is not a verifier key');
  });
});

describe('custody verify on a hostile zip', { timeout: 240_000 }, () => {
  test('an entry inflating past what its header declares: exit 1, the limit named, nothing else read', () => {
    const zip = Buffer.from(zipSync({ 'events.jsonl': new Uint8Array(64 << 20) }, { level: 9 }));
    // Its central directory now claims 1 KiB.
    zip.writeUInt32LE(1024, zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 24);
    writeFileSync(join(root, 'bomb.zip'), zip);
    const r = cli(vault, ['verify', join(root, 'bomb.zip')], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(
      'FAILED report files: the report zip: events.jsonl inflates to more than the 1,024 bytes its header declares (a zip bomb?); inflation was stopped there\n\nNOT VERIFIED: 1 check(s) failed\n',
    );
  });

  test('a report that does not exist: exit 4, not found', () => {
    expect(cli(vault, ['verify', join(root, 'nothing.zip')], env)).toMatchObject({ status: 4, stderr: expect.stringContaining('no report at') });
  });
});
