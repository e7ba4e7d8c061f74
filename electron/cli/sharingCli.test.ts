import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { tempDir } from '../core/testing/tempVault.ts';
import { readIdentityFile } from '../core/sharing/identity.ts';
import { cli } from './testing.ts';

let root: string;
let vault: string;
const pw = 'sharing cli password';
const env = () => ({ CUSTODY_PASSWORD: pw });
const json = <T>(r: { stdout: string; status: number; stderr: string }): T => {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as T;
};

beforeAll(() => {
  root = tempDir('custody-sharing-cli-');
  vault = join(root, 'vault');
  expect(cli(vault, ['init', '--kdf-target-ms', '200', '--json'], { CUSTODY_NEW_PASSWORD: pw }).status).toBe(0);
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('custody identity, recipients, policy', { timeout: 240_000 }, () => {
  test('identity new / show: the recipient and its fingerprint; a second identity only with --replace', () => {
    const none = cli(vault, ['identity', 'show'], env());
    expect(none).toMatchObject({ status: 4, stderr: expect.stringContaining('custody identity new') });
    const made = cli(vault, ['identity', 'new'], env());
    expect(made.status).toBe(0);
    const recipient = /^(age1pq1[0-9a-z]+)$/m.exec(made.stdout)?.[1];
    expect(recipient).toBeDefined();
    const shown = json<{ recipient: string; fingerprint: string }>(cli(vault, ['identity', 'show', '--json'], env()));
    expect(shown.recipient).toBe(recipient);
    expect(shown.fingerprint).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){4}$/);
    expect(made.stdout).toContain(`Fingerprint (read it to them to check): ${shown.fingerprint}`);
    expect(cli(vault, ['identity', 'new'], env())).toMatchObject({ status: 5, stderr: expect.stringContaining('--replace') });
    const replaced = json<{ fingerprint: string }>(cli(vault, ['identity', 'new', '--replace', '--json'], env()));
    expect(replaced.fingerprint).not.toBe(shown.fingerprint);
  });

  test('identity new --out: a passphrase-protected file (0600) by default, --plain with a warning; needs no vault', async () => {
    const pf = join(root, 'passphrase');
    writeFileSync(pf, 'reviewer passphrase 42\n');
    const file = join(root, 'reviewer.age-identity');
    const nowhere = join(root, 'no-vault-here');
    const r = json<{ recipient: string; fingerprint: string }>(cli(nowhere, ['identity', 'new', '--out', file, '--passphrase-file', pf, '--json']));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
    const ids = await readIdentityFile(readFileSync(file), async () => 'reviewer passphrase 42');
    expect(await identityToRecipient(ids[0]!)).toBe(r.recipient);
    // Without a passphrase source and no terminal: refused, nothing written.
    const noPass = cli(nowhere, ['identity', 'new', '--out', join(root, 'x.key')]);
    expect(noPass).toMatchObject({ status: 2, stderr: expect.stringContaining('--plain') });
    expect(() => statSync(join(root, 'x.key'))).toThrow();
    const plain = cli(nowhere, ['identity', 'new', '--out', join(root, 'plain.key'), '--plain']);
    expect(plain.status).toBe(0);
    expect(plain.stderr).toContain('not protected by a passphrase');
    expect(readFileSync(join(root, 'plain.key'), 'utf8')).toMatch(/^# created: .*\n# public key: age1pq1[0-9a-z]+\nAGE-SECRET-KEY-PQ-1/);
    expect(cli(nowhere, ['identity', 'new', '--out', file, '--plain'])).toMatchObject({ status: 5, stderr: expect.stringContaining('already exists') });
  });

  test('recipients add / list / remove; a classical recipient needs --allow-classical and is warned about', async () => {
    const other = join(root, 'other.key');
    const made = cli(join(root, 'none'), ['identity', 'new', '--out', other, '--plain', '--json']);
    // --json keeps stdout machine-readable; the warning is on stderr.
    expect(made.stderr).toContain('warning');
    const r = JSON.parse(made.stdout) as { recipient: string; fingerprint: string };
    expect(cli(vault, ['recipients', 'add', 'Judge Canarybrook', r.recipient, '--note', 'chambers CANARYNOTE'], env())).toMatchObject({ status: 0, stdout: expect.stringContaining(r.fingerprint) });
    const list = json<{ name: string; note: string; fingerprint: string; type: string }[]>(cli(vault, ['recipients', 'list', '--json'], env()));
    expect(list).toEqual([expect.objectContaining({ name: 'Judge Canarybrook', note: 'chambers CANARYNOTE', fingerprint: r.fingerprint, type: 'hybrid' })]);
    expect(cli(vault, ['recipients', 'add', 'judge canarybrook', r.recipient], env()).status).toBe(5);
    const classical = await identityToRecipient(await generateX25519Identity());
    expect(cli(vault, ['recipients', 'add', 'Old', classical], env())).toMatchObject({ status: 2, stderr: expect.stringContaining('--allow-classical') });
    const added = cli(vault, ['recipients', 'add', 'Old', classical, '--allow-classical'], env());
    expect(added.status).toBe(0);
    expect(added.stderr).toContain('not post-quantum');
    expect(cli(vault, ['recipients', 'list'], env()).stdout).toContain('classical X25519 (not post-quantum)');
    expect(cli(vault, ['recipients', 'remove', 'old'], env())).toMatchObject({ status: 0, stdout: expect.stringContaining('Removed "Old"') });
    expect(cli(vault, ['recipients', 'remove', 'old'], env()).status).toBe(4);
    // The audit trail names fingerprints only.
    const audit = cli(vault, ['audit', 'list', '--json', '--event', 'recipient.'], env());
    expect(audit.stdout).toContain(r.fingerprint);
    expect(audit.stdout).not.toMatch(/Canarybrook|CANARYNOTE/);
    for (const f of ['custody.db', 'custody.db-wal']) {
      try {
        expect(readFileSync(join(vault, f)).includes(Buffer.from('Canarybrook'))).toBe(false);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  });

  test('policy show / set: each change audited; bad values refused with exit 2', () => {
    expect(cli(vault, ['policy', 'show'], env()).stdout).toMatch(/purpose required\s+on/);
    expect(cli(vault, ['policy', 'set', '--max-range-days', '14', '--max-classification', 'confidential', '--attachments', 'off'], env())).toMatchObject({ status: 0, stdout: expect.stringContaining('maximum range in days = 14') });
    expect(json<Record<string, unknown>>(cli(vault, ['policy', 'show', '--json'], env()))).toEqual({ purposeRequired: true, addressBookOnly: false, maxRangeDays: 14, maxClassification: 'confidential', maxExpiryDays: null, attachmentsAllowed: false });
    expect(cli(vault, ['policy', 'set', '--max-range-days', 'none'], env()).status).toBe(0);
    expect(cli(vault, ['policy', 'set', '--max-range-days', 'many'], env()).status).toBe(2);
    expect(cli(vault, ['policy', 'set', '--max-classification', 'secret'], env()).status).toBe(2);
    expect(cli(vault, ['policy', 'set'], env()).status).toBe(2);
    const changes = json<{ entry: { details: Record<string, unknown> } }[]>(cli(vault, ['audit', 'list', '--json', '--event', 'policy.changed'], env()));
    expect(changes.map((c) => c.entry.details.changed)).toEqual([['maxRangeDays'], ['maxRangeDays', 'maxClassification', 'attachmentsAllowed']]);
  });
});
