// Issue 10, item 8: no plaintext temp files. Every operation that carries an analyst's bytes
// (uploads, imports, opened attachments, reports for the browser, saves where the desktop
// dialog says) runs with TMPDIR pointed at a fresh, watched folder; the test lists it, and
// searches it and the vault folder for a canary, at known points *during* each operation
// (while an upload is still streaming in, at every progress step). Files written next to a
// chosen destination are attacked with symlinks placed at the destination and at the temp name.
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Envelope, EventName, Events, Method, RequestOf, Responses } from '../../shared/contract.ts';
import { testingOnly as blobfileTesting } from '../attachments/blobfile.ts';
import { KDF_FLOOR } from '../crypto/kdf.ts';
import { Custody } from '../custody.ts';
import { PASSWORD } from '../testing/tempVault.ts';
import { createCore, type CoreApi } from './handlers.ts';
import type { DialogMethod, FileRequestOf } from './protocol.ts';
import { settingsFileFor } from './settings.ts';

const realTmp = tmpdir();
const CANARY = `canary-${randomBytes(8).toString('hex')}`;
/** ~3 MiB of plaintext with the canary all through it (several read and encryption chunks). */
const PLAINTEXT = Buffer.from(`${CANARY} field notes; `.repeat(Math.ceil((3 * 1024 * 1024) / (CANARY.length + 14))));

let watched: string;
let root: string;
let vaultDir: string;
let core: CoreApi;
/** Called at every core event (progress steps happen inside the operation). */
let onEvent: (event: EventName, payload: Events[EventName]) => void = () => undefined;

function files(dir: string): string[] {
  let out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out = e.isDirectory() ? [...out, p, ...files(p)] : [...out, p];
  }
  return out;
}
const holdsCanary = (dir: string) => files(dir).filter((f) => statSync(f).isFile() && readFileSync(f).includes(CANARY));

/** What the test checks at each known point: nothing at all in TMPDIR, no canary in the vault. */
const checks: string[] = [];
function look(where: string): void {
  checks.push(where);
  expect(tmpdir(), 'os.tmpdir() must be the watched folder').toBe(watched);
  expect(files(watched), `temp files during ${where}`).toEqual([]);
  expect(holdsCanary(root), `plaintext on disk during ${where}`).toEqual([]);
}

/** Core as the web shell serves it, or (nativeDialogs) as Electron main's worker does. */
function make(nativeDialogs: boolean): CoreApi {
  return createCore({
    vaultDir,
    settingsFile: settingsFileFor(vaultDir),
    emit: (event, payload) => onEvent(event, payload),
    nativeDialogs,
    shell: nativeDialogs ? 'electron' : 'web',
    appVersion: 'test',
  });
}
async function ok<M extends Method>(method: M, request: RequestOf<M>): Promise<Responses[M]> {
  const env = (await core.invoke(method, request)) as Envelope<Responses[M]>;
  if (!env.ok) throw new Error(`${method}: ${env.error.code} ${env.error.message}`);
  return env.value;
}
/** A dialog method as Electron main forwards it, with the path(s) its native dialog gave. */
async function withFiles<M extends DialogMethod>(method: M, request: FileRequestOf<M>): Promise<Responses[M]> {
  const env = (await core.invokeWithFiles(method, request)) as Envelope<Responses[M]>;
  if (!env.ok) throw new Error(`${method}: ${env.error.code} ${env.error.message}`);
  return env.value;
}
/** Looks at every progress step of `op` while `run` is under way, and at least once. */
async function watching<T>(op: Events['progress']['op'], what: string, run: () => Promise<T>): Promise<T> {
  const before = checks.length;
  onEvent = (event, payload) => {
    if (event === 'progress' && (payload as Events['progress']).op === op) look(`${what} (${(payload as Events['progress']).done}/${(payload as Events['progress']).total})`);
  };
  try {
    return await run();
  } finally {
    onEvent = () => undefined;
    expect(checks.length, `${what} reported no progress to look at`).toBeGreaterThan(before);
  }
}

beforeAll(() => {
  // The vault lives in the real temp folder; TMPDIR points at a fresh one nothing may touch.
  watched = mkdtempSync(join(realTmp, 'custody-watched-tmp-'));
  vi.stubEnv('TMPDIR', watched);
  vi.stubEnv('TMP', watched);
  vi.stubEnv('TEMP', watched);
});
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(watched, { recursive: true, force: true });
});
beforeEach(async () => {
  root = mkdtempSync(join(realTmp, 'custody-notemp-'));
  vaultDir = join(root, 'vault');
  await Custody.create(vaultDir, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'tester' });
});
afterEach(async () => {
  await core?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('no plaintext temp files (web shell handlers)', () => {
  it('an attachment upload streams into the encryption: nothing in TMPDIR or the vault while the body is still arriving', async () => {
    core = make(false);
    await ok('vault.unlock', { password: PASSWORD });
    const rec = await ok('records.create', { kind: 'file', title: 'scan' });
    const half = Math.floor(PLAINTEXT.length / 2);
    let midStream = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      yield Uint8Array.from(PLAINTEXT.subarray(0, half));
      // The encryption asked for more: the first half went through it, the rest has not arrived.
      look('an upload, half of the body received');
      const partial = files(join(vaultDir, 'attachments'));
      expect(partial, 'the half-written blob').toHaveLength(1);
      expect(readFileSync(partial[0]!).includes(CANARY)).toBe(false);
      midStream = true;
      yield Uint8Array.from(PLAINTEXT.subarray(half));
    }
    const env = await watching('attachment', 'attachments upload', () => core.upload('attachments.addBytes', { recordId: rec.id, name: 'scan.txt' }, { chunks: body(), size: PLAINTEXT.length }));
    expect(midStream).toBe(true);
    expect(env).toMatchObject({ ok: true, value: { name: 'scan.txt', size: PLAINTEXT.length } });
    const back = await ok('attachments.read', { id: (env as { value: { id: string } }).value.id });
    expect(Buffer.from(back.data).equals(PLAINTEXT)).toBe(true);
    look('after the upload');
  });

  it('an upload that breaks off leaves nothing behind', async () => {
    core = make(false);
    await ok('vault.unlock', { password: PASSWORD });
    const rec = await ok('records.create', { kind: 'file', title: 'scan' });
    async function* body(): AsyncGenerator<Uint8Array> {
      yield Uint8Array.from(PLAINTEXT.subarray(0, 1024 * 1024));
      throw new Error('the client went away');
    }
    const env = await core.upload('attachments.addBytes', { recordId: rec.id, name: 'scan.txt' }, { chunks: body(), size: PLAINTEXT.length });
    expect(env.ok).toBe(false);
    expect(readdirSync(join(vaultDir, 'attachments'))).toEqual([]);
    look('after a broken upload');
  });

  it('attachments from bytes, opened attachments, imports and reports for the browser never touch a temp file', async () => {
    core = make(false);
    await ok('vault.unlock', { password: PASSWORD });
    const rec = await ok('records.create', { kind: 'file', title: 'scan', case: 'K' });
    const att = await watching('attachment', 'attachments.addBytes', () => ok('attachments.addBytes', { recordId: rec.id, name: 'notes.txt', data: Uint8Array.from(PLAINTEXT) }));
    const read = await watching('attachment', 'attachments.read', () => ok('attachments.read', { id: att.id }));
    expect(Buffer.from(read.data).equals(PLAINTEXT)).toBe(true);
    const rows = JSON.stringify([{ kind: 'note', title: `${CANARY} imported`, body: `${CANARY} body`, case: 'K' }]);
    expect(await watching('import', 'records.importBytes', () => ok('records.importBytes', { name: 'rows.json', format: 'json', data: new TextEncoder().encode(rows) }))).toEqual({ imported: 1 });
    const report = await watching('report', 'reports.export', () => ok('reports.export', { purpose: 'review', case: 'K' }));
    expect(Buffer.from(report!.data!).subarray(0, 2).toString()).toBe('PK');
    look('after all of them');
  });

  it('the desktop handlers read and write only where the dialogs say, with nothing in TMPDIR', async () => {
    const src = join(root, 'evidence.txt');
    const importFile = join(root, 'rows.json');
    const saved = join(root, 'saved.txt');
    const reportZip = join(root, 'report.zip');
    writeFileSync(src, PLAINTEXT);
    writeFileSync(importFile, JSON.stringify([{ kind: 'note', title: CANARY }]));
    core = make(true);
    await ok('vault.unlock', { password: PASSWORD });
    const rec = await ok('records.create', { kind: 'file', title: 'scan' });
    // The analyst's own files hold the canary: look only at TMPDIR and the vault from here on.
    const outside = [src, importFile, saved];
    const lookInside = (where: string) => {
      checks.push(where);
      expect(files(watched), `temp files during ${where}`).toEqual([]);
      expect(holdsCanary(root).filter((f) => !outside.includes(f) && !f.startsWith(`${saved}.`)), `plaintext in the vault during ${where}`).toEqual([]);
    };
    onEvent = (event) => event === 'progress' && lookInside('a desktop operation');
    const [att] = await withFiles('attachments.addFromDialog', { recordId: rec.id, paths: [src] });
    expect(await withFiles('attachments.saveToDialog', { id: att!.id, path: saved })).toEqual({ saved: true });
    expect(readFileSync(saved).equals(PLAINTEXT)).toBe(true);
    expect(await withFiles('records.importFromDialog', { path: importFile })).toEqual({ imported: 1 });
    expect(await withFiles('reports.export', { purpose: 'review', path: reportZip })).toMatchObject({ fileName: 'report.zip' });
    onEvent = () => undefined;
    expect(checks.length).toBeGreaterThan(3);
    lookInside('after the desktop operations');
    // The temp file beside the destination was renamed onto it: nothing else is left there.
    expect(readdirSync(root).sort()).toEqual(['evidence.txt', 'report.zip', 'rows.json', 'saved.txt', 'vault', 'vault.settings.json']);
  });
});

describe('files written next to a chosen destination are created exclusively and renamed into place', () => {
  let victim: string;
  beforeEach(() => {
    victim = join(root, 'victim.txt');
    writeFileSync(victim, 'the victim file, untouched\n');
  });
  const untouched = () => expect(readFileSync(victim, 'utf8')).toBe('the victim file, untouched\n');

  async function withAttachment(): Promise<string> {
    writeFileSync(join(root, 'evidence.txt'), PLAINTEXT);
    core = make(true);
    await ok('vault.unlock', { password: PASSWORD });
    const rec = await ok('records.create', { kind: 'file', title: 'scan' });
    const [att] = await withFiles('attachments.addFromDialog', { recordId: rec.id, paths: [join(root, 'evidence.txt')] });
    return att!.id;
  }

  it('saving an attachment onto a symlink replaces the link; the file it pointed to is not written', async () => {
    const dest = join(root, 'out', 'saved.txt');
    mkdirSync(join(root, 'out'));
    symlinkSync(victim, dest);
    // The predictable temp names of earlier releases, too.
    symlinkSync(victim, `${dest}.tmp`);
    symlinkSync(victim, `${dest}.tmp-${process.pid}`);
    const id = await withAttachment();
    expect(await withFiles('attachments.saveToDialog', { id, path: dest })).toEqual({ saved: true });
    untouched();
    expect(lstatSync(dest).isSymbolicLink()).toBe(false);
    expect(readFileSync(dest).equals(PLAINTEXT)).toBe(true);
    if (process.platform !== 'win32') expect(statSync(dest).mode & 0o777).toBe(0o600);
  });

  it('a symlink placed at the temp name itself (the race won) makes the save fail without writing through it', async () => {
    const dest = join(root, 'saved.txt');
    const id = await withAttachment();
    const openTemp = blobfileTesting.openTemp;
    const placed: string[] = [];
    // The attacker's symlink appears at the exact temp name just before it is opened.
    blobfileTesting.openTemp = (tempPath) => {
      symlinkSync(victim, tempPath);
      placed.push(tempPath);
      return openTemp(tempPath);
    };
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const env = await core.invokeWithFiles('attachments.saveToDialog', { id, path: dest });
      expect(env.ok).toBe(false);
    } finally {
      blobfileTesting.openTemp = openTemp;
      log.mockRestore();
    }
    expect(placed).toHaveLength(1);
    expect(placed[0]!.startsWith(`${dest}.`)).toBe(true);
    untouched();
    expect(() => lstatSync(dest)).toThrow(/ENOENT/);
  });

  it('a report saved onto a symlink (and with one at the temp name) replaces the link, not its target', async () => {
    const dest = join(root, 'report.zip');
    // A dangling link at the destination passes the "already exists" check; the other one
    // sits at the temp name earlier releases used.
    mkdirSync(join(root, 'nowhere'));
    symlinkSync(join(root, 'nowhere', 'victim.zip'), dest);
    symlinkSync(victim, `${dest}.tmp-${process.pid}`);
    core = make(true);
    await ok('vault.unlock', { password: PASSWORD });
    await ok('records.create', { kind: 'note', title: 'for the report' });
    expect(await withFiles('reports.export', { purpose: 'review', path: dest })).toMatchObject({ fileName: 'report.zip' });
    untouched();
    expect(readdirSync(join(root, 'nowhere'))).toEqual([]);
    expect(lstatSync(dest).isSymbolicLink()).toBe(false);
    expect(readFileSync(dest).subarray(0, 2).toString()).toBe('PK');
  });
});
