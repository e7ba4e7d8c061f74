// The disclosure commands end to end through the built CLI: an issuer discloses days to a
// reviewer from its address book; the reviewer opens the package into its vault, reads a record
// and acknowledges; the issuer imports the acknowledgement. A reviewer without a vault opens the
// same kind of package with an identity file alone. Real vaults, real files, real crypto.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../core/testing/tempVault.ts';
import { cli } from './testing.ts';

let root: string;
let issuer: string;
let reviewer: string;
const pw = 'disclosure cli password';
const env = { CUSTODY_PASSWORD: pw };
const ok = (r: { stdout: string; status: number; stderr: string }) => {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
};
const json = <T>(r: { stdout: string; status: number; stderr: string }): T => JSON.parse(ok(r)) as T;

beforeAll(() => {
  root = tempDir('custody-disclosure-cli-');
  issuer = join(root, 'issuer');
  reviewer = join(root, 'reviewer');
  for (const v of [issuer, reviewer]) ok(cli(v, ['init', '--kdf-target-ms', '200', '--json'], { CUSTODY_NEW_PASSWORD: pw }));
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('custody disclose / open / received / ack / grants', { timeout: 240_000 }, () => {
  test('issuer to reviewer and back, both sides audited', () => {
    const inside = json<{ id: string }>(cli(issuer, ['add', '--title', 'Harbour', '--body', 'inside-canary', '--case', 'Gull', '--captured-at', '2026-03-04T10:00:00Z', '--json'], env)).id;
    ok(cli(issuer, ['add', '--title', 'Later', '--body', 'outside-canary', '--captured-at', '2026-03-20T10:00:00Z', '--json'], env));
    const recipient = /^(age1pq1[0-9a-z]+)$/m.exec(ok(cli(reviewer, ['identity', 'new'], env)))![1]!;
    ok(cli(issuer, ['recipients', 'add', 'supervisor', recipient], env));
    const pkg = join(root, 'march.age');

    // Bad input: a range backwards, a recipient nobody knows.
    expect(cli(issuer, ['disclose', '--to', 'supervisor', '--from', '2026-03-09', '--until', '2026-03-03', '--purpose', 'x', '--out', pkg], env)).toMatchObject({ status: 2, stderr: expect.stringContaining('--from must not be after --until') });
    expect(cli(issuer, ['disclose', '--to', 'nobody', '--from', '2026-03-03', '--until', '2026-03-09', '--purpose', 'x', '--out', pkg], env).status).toBe(4);

    const issued = json<{ grantId: string; records: number; scope: string; issuerFingerprint: string }>(
      cli(issuer, ['disclose', '--to', 'supervisor', '--from', '2026-03-03', '--until', '2026-03-09', '--purpose', 'weekly review', '--expires', '2099-12-31', '--out', pkg, '--json'], env),
    );
    expect(issued).toMatchObject({ records: 1, scope: 'days' });

    // A pinned issuer key that is not the issuer's is refused (exit 6) and leaves an entry.
    expect(cli(reviewer, ['open', pkg, '--expect-issuer', '0'.repeat(32)], env)).toMatchObject({ status: 6, stderr: expect.stringContaining('not by the issuer key you expected') });
    const opened = json<{ grant: { grantId: string; purpose: string; issuerFingerprint: string }; records: { id: string }[] }>(cli(reviewer, ['open', pkg, '--expect-issuer', issued.issuerFingerprint, '--json'], env));
    expect(opened.grant).toMatchObject({ grantId: issued.grantId, purpose: 'weekly review', issuerFingerprint: issued.issuerFingerprint });
    expect(opened.records.map((r) => r.id)).toEqual([inside]);
    expect(ok(cli(reviewer, ['received', 'list'], env))).toContain('weekly review');
    expect(ok(cli(reviewer, ['received', 'view', issued.grantId, inside], env))).toContain('inside-canary');
    const ackFile = join(root, 'ack.txt');
    ok(cli(reviewer, ['ack', issued.grantId, '--out', ackFile], env));
    expect(ok(cli(issuer, ['grants', 'ack', ackFile], env))).toContain(`acknowledgement of grant ${issued.grantId} verified`);
    const grants = json<{ grantId: string; acknowledgements: unknown[] }[]>(cli(issuer, ['grants', 'list', '--json'], env));
    expect(grants.map((g) => [g.grantId, g.acknowledgements.length])).toEqual([[issued.grantId, 1]]);
    expect(ok(cli(issuer, ['grants', 'show', issued.grantId], env))).toContain('weekly review');

    const events = (v: string) => json<{ event: string }[]>(cli(v, ['audit', 'list', '--event', 'grant.', '--json'], env)).map((e) => e.event).sort();
    expect(events(issuer)).toEqual(['grant.ack_imported', 'grant.issued']);
    expect(events(reviewer)).toEqual(['grant.acknowledged', 'grant.open_refused', 'grant.opened', 'grant.record_viewed']);
  });

  test('without a vault: an identity file opens and verifies a package; --json dumps it', () => {
    ok(cli(issuer, ['add', '--title', 'For the lawyer', '--body', 'lawyer-canary', '--captured-at', '2026-04-02T10:00:00Z', '--json'], env));
    const idFile = join(root, 'lawyer.key');
    const made = JSON.parse(cli(join(root, 'none'), ['identity', 'new', '--out', idFile, '--plain', '--json']).stdout) as { recipient: string };
    const pkg = join(root, 'lawyer.age');
    ok(cli(issuer, ['disclose', '--to', made.recipient, '--from', '2026-04-01', '--until', '2026-04-03', '--purpose', 'counsel', '--out', pkg, '--json'], env));
    const dump = json<{ grant: { purpose: string }; records: { body: string }[] }>(cli(join(root, 'none'), ['open', pkg, '--identity', idFile, '--json']));
    expect(dump.grant.purpose).toBe('counsel');
    expect(dump.records.map((r) => r.body)).toEqual(['lawyer-canary']);
    // A changed byte: refused, exit 6, nothing printed on stdout.
    const bad = readFileSync(pkg);
    bad[bad.length - 10]! ^= 1;
    writeFileSync(pkg, bad);
    const r = cli(join(root, 'none'), ['open', pkg, '--identity', idFile, '--json']);
    expect(r).toMatchObject({ status: 6, stdout: '' });
    expect(r.stderr).toMatch(/damaged or was modified|damaged or malformed/);
  });
});
