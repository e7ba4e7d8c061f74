// No analyst-written text in the clear, for the features of issues 11 and 12 (threat model a and c:
// whoever copies a vault folder or a backup file, reads the sync server, or reads the logs). The
// canary goes into every analyst-controlled string those features take: records of the days
// disclosed, an address-book name and note, the disclosure's purpose, case and tag filters, the
// received material, backups (plain, passphrase, age recipient) and their manifest, the persisted
// search index, key rotations, and an envelope through a real PostgreSQL. Then every byte of both
// vault folders (database, WAL, search-index files), a restored vault, every backup file, the
// package and acknowledgement files, every server table and every CLI stdout/stderr is searched
// for it as UTF-8, UTF-16, hex and base64.
// (What a person asks to see — `received view`, `recipients list`, `grants show`, search results —
// is printed by request: those commands' stdout is the one thing not searched; their stderr is.)
import { afterAll, beforeAll, expect, test } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { describePg } from '../core/sync/testing/describePg.ts';
import { dumpServer } from '../core/sync/testing/pg.ts';
import { cli, type CliResult } from './testing.ts';

// Lowercase letters and digits only, so a lowercased copy (search terms, tags, name tags) is caught too.
const TAG = `canary${randomBytes(6).toString('hex')}`;
const PASSWORD = 'sharing canary password';
const env = { CUSTODY_PASSWORD: PASSWORD };

function encodings(s: string): { name: string; bytes: Buffer }[] {
  const raw = Buffer.from(s, 'utf8');
  const out = [
    { name: 'utf8', bytes: raw },
    { name: 'utf16le', bytes: Buffer.from(s, 'utf16le') },
    { name: 'hex', bytes: Buffer.from(raw.toString('hex')) },
    { name: 'HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase()) },
  ];
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), raw]);
    out.push({ name: `base64+${k}`, bytes: Buffer.from(padded.toString('base64').slice(k ? 4 : 0, -4)) });
    out.push({ name: `base64url+${k}`, bytes: Buffer.from(padded.toString('base64url').slice(k ? 4 : 0, -4)) });
  }
  return out;
}
const FORMS = encodings(TAG);
const leaks = (what: string, bytes: Uint8Array): string[] => FORMS.filter((f) => Buffer.from(bytes).includes(f.bytes)).map((f) => `${what} (${f.name})`);
const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
function vaultFiles(vault: string): string[] {
  const beside = readdirSync(dirname(vault)).filter((f) => f.startsWith(`${basename(vault)}.`)).map((f) => join(dirname(vault), f));
  return [...walk(vault), ...beside.filter((f) => statSync(f).isFile())];
}

let root: string;
beforeAll(() => {
  root = tempDir('custody-canary-sharing-');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describePg('no analyst-written text in the clear: sharing, backups, rotation, persisted index', (testServer) => {
  test('vault folders, backups, a restored vault, server tables (envelopes) and CLI output hold no canary', { timeout: 900_000 }, async () => {
    const server = testServer();
    const issuer = join(root, 'issuer');
    const reviewer = join(root, 'reviewer');
    for (const v of [issuer, reviewer]) await Custody.create(v, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'canary tester' });
    const outputs: { args: string[]; r: CliResult; display: boolean }[] = [];
    const run = (vault: string, args: string[], opts: { display?: boolean; env?: Record<string, string> } = {}): CliResult => {
      const r = cli(vault, args, { ...env, ...opts.env });
      outputs.push({ args, r, display: !!opts.display });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    const file = (name: string, data: string | Buffer) => {
      const p = join(root, name);
      writeFileSync(p, data);
      return p;
    };

    // Records on the days to disclose, every field carrying the canary, with an attachment.
    const att = file(`${TAG}-statement.txt`, `${TAG} attachment content\n`.repeat(500));
    const { id } = JSON.parse(
      run(issuer, ['add', '--kind', 'observation', '--title', `${TAG} title`, '--body', `${TAG} body`, '--case', `${TAG}case`, '--tag', `${TAG}tag`, '--field', `${TAG}field:text=${TAG} value`, '--captured-at', '2026-03-04T10:00:00Z', '--attach', att, '--json']).stdout,
    ) as { id: string };
    run(issuer, ['add', '--title', `${TAG} other`, '--body', `${TAG} other body`, '--case', `${TAG}case`, '--tag', `${TAG}tag`, '--captured-at', '2026-03-05T10:00:00Z', '--json']);
    run(issuer, ['search', TAG, '--json'], { display: true });

    // Identity, address book (name and note), policy.
    const recipient = /^(age1pq1[0-9a-z]+)$/m.exec(run(reviewer, ['identity', 'new']).stdout)![1]!;
    run(reviewer, ['identity', 'show']);
    run(issuer, ['identity', 'new']);
    // Its answer repeats the name just typed ("Added NAME (fingerprint …)"): shown by request.
    run(issuer, ['recipients', 'add', `${TAG}name`, recipient, '--note', `${TAG} note about the reviewer`], { display: true });
    run(issuer, ['recipients', 'list'], { display: true });
    run(issuer, ['policy', 'set', '--max-range-days', '30', '--attachments', 'on', '--max-expiry-days', '400', '--max-classification', 'restricted']);
    run(issuer, ['policy', 'show']);

    // A disclosure whose purpose and filters carry the canary; the reviewer opens and reads it.
    const pkg = join(root, 'march.age');
    const expires = new Date(Date.now() + 200 * 86_400_000).toISOString().slice(0, 10);
    const issued = JSON.parse(
      run(issuer, ['disclose', '--to', `${TAG}name`, '--from', '2026-03-03', '--until', '2026-03-09', '--case', `${TAG}case`, '--tag', `${TAG}tag`, '--with-attachments', '--with-history', '--purpose', `${TAG} purpose`, '--expires', expires, '--out', pkg, '--json']).stdout,
    ) as { grantId: string; records: number };
    expect(issued.records).toBe(2);
    run(issuer, ['grants', 'list'], { display: true });
    run(issuer, ['grants', 'show', issued.grantId], { display: true });
    run(reviewer, ['open', pkg], { display: true });
    run(reviewer, ['received', 'list'], { display: true });
    run(reviewer, ['received', 'show', issued.grantId], { display: true });
    expect(run(reviewer, ['received', 'view', issued.grantId, id], { display: true }).stdout).toContain(TAG);
    const ack = join(root, 'ack.txt');
    run(reviewer, ['ack', issued.grantId, '--out', ack]);
    run(issuer, ['grants', 'ack', ack]);

    // Delivery through the sync server: both sides sync to a real PostgreSQL, each as its own
    // role; the reviewer publishes its recipient, the issuer sends the package, the reviewer opens.
    const [roleI, roleR] = [await server.analyst(), await server.analyst()];
    run(issuer, ['sync', 'configure', '--url-file', file('url-issuer', roleI.url)]);
    run(reviewer, ['sync', 'configure', '--url-file', file('url-reviewer', roleR.url)]);
    run(issuer, ['sync']);
    run(reviewer, ['envelopes', 'publish']);
    run(issuer, ['envelopes', 'send', pkg]);
    const inbox = JSON.parse(run(reviewer, ['envelopes', 'list', '--json']).stdout) as { id: string }[];
    expect(inbox).toHaveLength(1);
    run(reviewer, ['envelopes', 'open', inbox[0]!.id], { display: true });
    run(issuer, ['envelopes', 'list', '--sent']);

    // Backups: plain (its manifest and tar in the clear), with a passphrase, to an age recipient.
    const pp = file('backup-passphrase', 'a long enough backup passphrase\n');
    const backups = { plain: join(root, 'plain.backup'), pass: join(root, 'pass.backup'), age: join(root, 'age.backup') };
    run(issuer, ['backup', '--out', backups.plain]);
    run(issuer, ['backup', '--out', backups.pass, '--passphrase-file', pp]);
    run(issuer, ['backup', '--out', backups.age, '--to', recipient]);
    run(issuer, ['backup', 'verify', backups.plain], { env: { CUSTODY_PASSWORD: '' } });
    run(issuer, ['backup', 'verify', '--full', backups.plain]);
    run(issuer, ['backup', 'verify', backups.pass, '--passphrase-file', pp]);
    run(issuer, ['status']);
    const restored = join(root, 'restored');
    run(restored, ['backup', 'restore', backups.plain]);
    run(restored, ['audit', 'verify']);

    // Key rotations; the persisted search index is rewritten under the new vault key.
    run(issuer, ['keys', 'rotate', 'epoch-root', '--from', '2026-03-05']);
    run(issuer, ['keys', 'rotate', 'device-key']);
    run(issuer, ['keys', 'rotate', 'vault-key', '--new-recovery-key']);
    run(issuer, ['keys']);
    run(issuer, ['edit', id, '--body', `${TAG} body after rotation`]);
    run(issuer, ['search', `${TAG}`], { display: true });
    run(issuer, ['audit', 'verify']);

    // In-process too, so custody.db-wal holds recent pages and the index files are written.
    const problems: string[] = [];
    for (const vault of [issuer, reviewer]) {
      const c = await Custody.open(vault);
      await c.unlock(PASSWORD);
      await c.search({ text: `${TAG} title` });
      await c.indexKeeper.start();
      const files = vaultFiles(vault);
      expect(files.some((f) => f.endsWith('custody.db-wal'))).toBe(true);
      for (const f of files) problems.push(...leaks(f.slice(root.length + 1), readFileSync(f)));
      await c.close();
    }
    for (const vault of [issuer, reviewer, restored]) for (const f of vaultFiles(vault)) problems.push(...leaks(f.slice(root.length + 1), readFileSync(f)));
    for (const [name, f] of Object.entries(backups)) problems.push(...leaks(`backup ${name}`, readFileSync(f)));
    // The package travels outside any vault: only its age layer may hide the purpose and records.
    problems.push(...leaks('the disclosure package', readFileSync(pkg)), ...leaks('the acknowledgement', readFileSync(ack)));
    const dump = await dumpServer(server.admin);
    problems.push(...leaks('server tables', Buffer.from(dump)));
    for (const o of outputs) {
      if (!o.display) problems.push(...leaks(`stdout of custody ${o.args.slice(0, 2).join(' ')}`, Buffer.from(o.r.stdout)));
      problems.push(...leaks(`stderr of custody ${o.args.slice(0, 2).join(' ')}`, Buffer.from(o.r.stderr)));
    }
    expect(problems).toEqual([]);

    // Not vacuous: the things searched exist and hold what the canary went into.
    expect(existsSync(join(issuer, 'search-index'))).toBe(true);
    expect(dump).toMatch(/-- custody\.envelope\n.+/);
    expect(readFileSync(backups.plain).includes(Buffer.from('custody.db'))).toBe(true);
    for (const f of Object.values(backups)) expect(statSync(f).size).toBeGreaterThan(10_000);
    const r = cli(reviewer, ['received', 'view', issued.grantId, id], env);
    expect(r.stdout).toContain(`${TAG} body`);
  });
});
