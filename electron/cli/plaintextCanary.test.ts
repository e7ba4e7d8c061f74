// No content in the clear (threat model: whoever copies the vault folder, reads the sync server
// or the logs). Every analyst-controlled field carries a unique canary; the built CLI does
// every operation (add, edit, attach, open, import, a failed import, search, report, sync push
// to a real PostgreSQL); then every byte of the vault folder (database, WAL, attachments,
// checkpoint.txt, vault.json, the settings file beside it), every row of every server table and
// the CLI's stdout and stderr are searched for the canary, as text and as hex and base64.
// (What a person asks to see, `show` and `search` results, is printed by request: those
// commands' stdout is the one thing not searched; their stderr is.)
import { afterAll, beforeAll, expect, test } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { describePg } from '../core/sync/testing/describePg.ts';
import { dumpServer, type TestServer } from '../core/sync/testing/pg.ts';
import { cli, type CliResult } from './testing.ts';

// Lowercase letters and digits only, so a lowercased copy (search terms, tags) is caught too.
const TAG = `canary${randomBytes(6).toString('hex')}`;
const PASSWORD = 'canary test password';
const env = { CUSTODY_PASSWORD: PASSWORD };

/** The canary as it could appear: text (UTF-8, UTF-16), hex, and base64 at each byte alignment. */
function encodings(s: string): { name: string; bytes: Buffer }[] {
  const raw = Buffer.from(s, 'utf8');
  const out = [
    { name: 'utf8', bytes: raw },
    { name: 'utf16le', bytes: Buffer.from(s, 'utf16le') },
    { name: 'hex', bytes: Buffer.from(raw.toString('hex')) },
    { name: 'HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase()) },
  ];
  for (let k = 0; k < 3; k++) {
    // The base64 characters that depend on the canary's bytes alone, whatever comes before it.
    const b64 = Buffer.concat([Buffer.alloc(k), raw]).toString('base64');
    out.push({ name: `base64+${k}`, bytes: Buffer.from(b64.slice(k ? 4 : 0, -4)) });
    out.push({ name: `base64url+${k}`, bytes: Buffer.from(Buffer.concat([Buffer.alloc(k), raw]).toString('base64url').slice(k ? 4 : 0, -4)) });
  }
  return out;
}
const CANARY_FORMS = encodings(TAG);

function leaks(what: string, bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  return CANARY_FORMS.filter((f) => b.includes(f.bytes)).map((f) => `${what} (${f.name})`);
}

const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

/** The vault folder, and the files kept beside it under its name (the settings file). */
function vaultFiles(vault: string): string[] {
  const beside = readdirSync(dirname(vault)).filter((f) => f.startsWith(`${basename(vault)}.`)).map((f) => join(dirname(vault), f));
  return [...walk(vault), ...beside.filter((f) => statSync(f).isFile())];
}

let root: string;
let server: TestServer;
beforeAll(() => {
  root = tempDir('custody-canary-');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describePg('no analyst-written text in the clear', (testServer) => {
  test('vault folder, WAL, server tables and CLI output hold no canary after every operation', { timeout: 600_000 }, async () => {
    server = testServer();
    const vault = join(root, 'vault');
    await Custody.create(vault, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'canary tester' });
    const outputs: { args: string[]; r: CliResult; display: boolean }[] = [];
    const run = (args: string[], opts: { fails?: boolean; display?: boolean } = {}): CliResult => {
      const r = cli(vault, args, env);
      outputs.push({ args, r, display: !!opts.display });
      if (opts.fails) expect(r.status, `${args[0]}: ${r.stderr}`).not.toBe(0);
      else expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    const file = (name: string, data: string | Buffer) => {
      const p = join(root, name);
      writeFileSync(p, data);
      return p;
    };

    // Add an observation with every field and an attachment whose name and content carry the canary.
    const att1 = file(`${TAG}-interview.txt`, `${TAG} attachment content\n`.repeat(3000));
    const { id } = JSON.parse(
      run(['add', '--kind', 'observation', '--title', `${TAG} title`, '--body', `${TAG} body`, '--case', `${TAG}case`, '--tag', `${TAG}tag`, '--classification', 'restricted', '--field', `${TAG}field:text=${TAG} value`, '--field', `${TAG}place:location=50.4,30.5,${TAG} label`, '--attach', att1, '--json']).stdout,
    ) as { id: string };
    // Edit every field and move it to another day.
    run(['edit', id, '--title', `${TAG} title 2`, '--body', `${TAG} body 2`, '--case', `${TAG}case`, '--tag', `${TAG}tag2`, '--captured-at', '2026-02-03T04:05:06Z', '--field', `${TAG}field:text=${TAG} value 2`]);
    const att2 = file(`${TAG}-photo.jpg`, Buffer.concat([randomBytes(1000), Buffer.from(TAG), randomBytes(1000)]));
    const attached = run(['attach', id, att2]).stdout;
    const attId = attached.trim().split(/\s+/)[0]!;
    run(['extract', attId, '--out', join(root, 'opened.bin')]);
    expect(readFileSync(join(root, 'opened.bin')).includes(Buffer.from(TAG))).toBe(true);
    run(['show', id], { display: true });
    // Import a good file, and bad files whose bad rows hold the canary.
    run(['import', file('good.csv', `kind,title,body,case,tags,field:${TAG}n:number\nobservation,${TAG} imported,${TAG} imported body,${TAG}case,${TAG}t1;${TAG}t2,7\n`)]);
    run(['import', file('bad.json', JSON.stringify([{ kind: 'note', title: 'fine' }, { kind: 'note', title: `${TAG} bad`, [`${TAG}key`]: `${TAG} value` }]))], { fails: true });
    run(['import', file('bad2.json', `[{"kind": "note", "title": ${TAG}}]`)], { fails: true });
    run(['import', file('bad.csv', `title,field:${TAG}n:number\nok,${TAG}\n`)], { fails: true });
    run(['import', file('bad2.csv', `title,${TAG}column\nok,x\n`)], { fails: true });
    // Search by text, case and tag.
    expect(run(['search', `${TAG}`, '--json'], { display: true }).stdout).toContain(TAG);
    run(['search', '--case', `${TAG}case`], { display: true });
    run(['search', '--tag', `${TAG}tag2`], { display: true });
    run(['history', id], { display: true });
    // A report whose purpose, recipient and scope carry the canary; verified.
    run(['report', '--out', join(root, 'report'), '--purpose', `${TAG} purpose`, '--recipient', `${TAG} recipient`, '--case', `${TAG}case`]);
    run(['verify', join(root, 'report')]);
    // Sync to a real PostgreSQL.
    const analyst = await server.analyst();
    writeFileSync(join(root, 'url'), analyst.url);
    run(['sync', 'configure', '--url-file', join(root, 'url')]);
    run(['edit', id, '--body', `${TAG} body 3`]);
    run(['sync']);
    run(['sync', 'verify']);
    run(['audit', 'verify']);

    // And in-process, so the database is open (its WAL holds recent pages) while it is read.
    const c = await Custody.open(vault);
    await c.unlock(PASSWORD);
    await c.search({ text: `${TAG} title` });
    await c.importFile(join(root, 'bad.json')).catch(() => undefined);
    await c.updateRecord(id, await c.currentVersion(id), { title: `${TAG} title 4` });
    const whileOpen = vaultFiles(vault);
    expect(whileOpen.some((f) => f.endsWith('custody.db-wal'))).toBe(true);
    // The persisted search index (written by the CLI's search) and its delta, which now holds the
    // edit just made (its title carries the canary): searched like every other file.
    expect(whileOpen.some((f) => f.endsWith(`${sep}search-index`))).toBe(true);
    expect(c.indexKeeper.origin.source).toBe('file');
    expect(statSync(join(vault, 'search-index.delta')).size).toBeGreaterThan(200);
    const problems: string[] = [];
    for (const f of whileOpen) problems.push(...leaks(f.slice(root.length + 1), readFileSync(f)));
    await c.close();

    for (const f of vaultFiles(vault)) problems.push(...leaks(f.slice(root.length + 1), readFileSync(f)));
    const dump = await dumpServer(server.admin);
    problems.push(...leaks('server tables', Buffer.from(dump)));
    for (const o of outputs) {
      if (!o.display) problems.push(...leaks(`stdout of custody ${o.args[0]}`, Buffer.from(o.r.stdout)));
      problems.push(...leaks(`stderr of custody ${o.args[0]}`, Buffer.from(o.r.stderr)));
    }
    expect(problems).toEqual([]);

    // Not vacuous: the records, attachments and log are there, on disk and on the server.
    expect(existsSync(join(vault, 'attachments'))).toBe(true);
    expect(walk(join(vault, 'attachments'))).toHaveLength(2);
    expect(dump).toMatch(/-- custody\.record\n.+/);
    expect(dump).toMatch(/-- custody\.attachment\n.+/);
    expect((dump.match(/record\.created/g) ?? []).length).toBeGreaterThanOrEqual(2);
    const failedImports = outputs.filter((o) => o.args[0] === 'import' && o.r.status !== 0).map((o) => o.r.stderr);
    expect(failedImports).toEqual([
      expect.stringMatching(/^custody: record 2, the record: has 1 unknown key; nothing was imported\n$/),
      expect.stringMatching(/^custody: the file is not valid JSON/),
      'custody: row 2, column 2: a number field holds something that is not a number\n',
      expect.stringMatching(/^custody: column 2 of the header is not a known column/),
    ]);
  });
});
