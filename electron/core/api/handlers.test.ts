import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Envelope, EventName, Events, Method, RequestOf, Responses } from '../../shared/contract.ts';
import { KDF_FLOOR } from '../crypto/kdf.ts';
import { Custody } from '../custody.ts';
import { PASSWORD, tempDir } from '../testing/tempVault.ts';
import { createCore, type CoreApi } from './handlers.ts';
import { settingsFileFor } from './settings.ts';
import { verifyReport } from '../reports/verifyReport.ts';

type Seen = { event: EventName; payload: Events[EventName] };

let root: string;
let vaultDir: string;
let events: Seen[];
let core: CoreApi;

/** Core as the web shell serves it, or (nativeDialogs) as Electron main's worker does. */
function make(nativeDialogs = false): CoreApi {
  return createCore({
    vaultDir,
    settingsFile: settingsFileFor(vaultDir),
    emit: (event, payload) => events.push({ event, payload }),
    nativeDialogs,
    shell: nativeDialogs ? 'electron' : 'web',
    appVersion: '9.9.9',
  });
}

async function call<M extends Method>(method: M, request: RequestOf<M>): Promise<Envelope<Responses[M]>> {
  return (await core.invoke(method, request)) as Envelope<Responses[M]>;
}
async function ok<M extends Method>(method: M, request: RequestOf<M>): Promise<Responses[M]> {
  const env = await call(method, request);
  if (!env.ok) throw new Error(`${method}: ${env.error.code} ${env.error.message}`);
  return env.value;
}
async function code<M extends Method>(method: M, request: RequestOf<M>): Promise<string> {
  const env = await call(method, request);
  return env.ok ? 'ok' : env.error.code;
}
const privateDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('custody-io-')).length;

beforeEach(() => {
  root = tempDir();
  vaultDir = join(root, 'vault');
  events = [];
});
afterEach(async () => {
  await core?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('core api handlers', () => {
  it('answers status before a vault exists, then creates and opens one (locked)', async () => {
    core = make();
    expect(await ok('app.info', {})).toMatchObject({ name: 'Custody', version: '9.9.9', shell: 'web', nativeDialogs: false });
    expect(await ok('vault.status', {})).toEqual({ exists: false, unlocked: false, vaultId: null, actor: null, kdf: null, index: { ready: false, size: 0 } });
    expect(await code('vault.unlock', { password: PASSWORD })).toBe('VAULT_NOT_FOUND');
    expect(await code('vault.create', { password: 'short' })).toBe('BAD_REQUEST');
    const created = await ok('vault.create', { password: PASSWORD, actor: 'tester' });
    expect(created.recoveryKey).toMatch(/\S/);
    const status = await ok('vault.status', {});
    expect(status).toMatchObject({ exists: true, unlocked: false, vaultId: created.vaultId, actor: 'tester' });
    expect(await code('vault.create', { password: PASSWORD })).toBe('VAULT_EXISTS');
  });

  describe('with a vault', () => {
    beforeEach(async () => {
      await Custody.create(vaultDir, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'tester' });
      core = make();
    });

    it('unlocks with progress, builds the index, locks, and refuses work while locked', async () => {
      expect(await code('records.search', {})).toBe('LOCKED');
      expect(await code('vault.unlock', { password: 'wrong password' })).toBe('WRONG_PASSWORD');
      events = [];
      const s = await ok('vault.unlock', { password: PASSWORD });
      expect(s.unlocked).toBe(true);
      expect(events.filter((e) => e.event === 'progress')).toEqual(
        expect.arrayContaining([
          { event: 'progress', payload: { op: 'unlock', done: 0, total: 1 } },
          { event: 'progress', payload: { op: 'unlock', done: 1, total: 1 } },
        ]),
      );
      await vi.waitFor(() => expect(events.some((e) => e.event === 'index.ready')).toBe(true), { timeout: 30_000 });
      const rec = await ok('records.create', { kind: 'note', title: 'River crossing', tags: ['field'], case: 'C-1' });
      expect((await ok('records.get', { id: rec.id })).title).toBe('River crossing');
      expect((await ok('records.search', { text: 'river' })).total).toBe(1);
      expect(await ok('records.facets', {})).toEqual({ cases: ['C-1'], tags: ['field'] });
      expect((await ok('vault.lock', {})).unlocked).toBe(false);
      expect(await code('records.get', { id: rec.id })).toBe('LOCKED');
      expect(await code('audit.query', {})).toBe('LOCKED');
    });

    it('adds an attachment from bytes and reads it back, leaving no plaintext file behind', async () => {
      await ok('vault.unlock', { password: PASSWORD });
      const rec = await ok('records.create', { kind: 'file', title: 'Photo' });
      const before = privateDirs();
      const data = new Uint8Array(70_000).map((_, i) => (i * 31) % 251);
      const a = await ok('attachments.addBytes', { recordId: rec.id, name: 'photo.png', data });
      expect(a).toMatchObject({ name: 'photo.png', size: data.length, mediaType: 'image/png' });
      const back = await ok('attachments.read', { id: a.id });
      expect(back.name).toBe('photo.png');
      expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
      expect(await ok('attachments.verify', { id: a.id })).toMatchObject({ ok: true, size: data.length });
      expect(privateDirs()).toBe(before);
      const audit = await ok('audit.query', { event: 'attachment.opened' });
      expect(audit).toHaveLength(1);
      expect(events.some((e) => e.event === 'progress' && (e.payload as Events['progress']).op === 'attachment')).toBe(true);
    });

    it('imports records from bytes, and refuses a bad file whole', async () => {
      await ok('vault.unlock', { password: PASSWORD });
      const json = JSON.stringify([{ kind: 'note', title: 'one' }, { kind: 'note', title: 'two' }]);
      expect(await ok('records.importBytes', { name: 'x.json', format: 'json', data: new TextEncoder().encode(json) })).toEqual({ imported: 2 });
      const csv = 'kind,title\nnote,three\nnote,\n';
      expect(await code('records.importBytes', { name: 'x.csv', format: 'csv', data: new TextEncoder().encode(csv) })).toBe('IMPORT_FAILED');
      expect((await ok('records.search', {})).total).toBe(2);
    });

    it('tells the web shell to use the bytes variants instead of dialogs', async () => {
      await ok('vault.unlock', { password: PASSWORD });
      const rec = await ok('records.create', { kind: 'note', title: 't' });
      const e = await call('attachments.addFromDialog', { recordId: rec.id });
      expect(e).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      expect(!e.ok && e.error.message).toContain('attachments.addBytes');
      expect(await call('records.importFromDialog', {})).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('records.importBytes') } });
    });

    it('dialog methods: core names the dialog first (refusing before it opens), then runs with the path(s) main sends, never the renderer', async () => {
      const src = join(root, 'evidence.txt');
      const dest = join(root, 'saved.txt');
      writeFileSync(src, 'field notes');
      await core.close();
      core = make(true);
      expect(await ok('app.info', {})).toMatchObject({ shell: 'electron', nativeDialogs: true });
      // Locked, or no such record: refused at the plan, so no dialog opens for nothing.
      expect(await core.plan('records.importFromDialog', {})).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
      await ok('vault.unlock', { password: PASSWORD });
      const rec = await ok('records.create', { kind: 'note', title: 't' });
      expect(await core.plan('attachments.addFromDialog', { recordId: '0190f3a2-7b1c-7def-8a12-3456789abcde' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      expect(await core.plan('attachments.addFromDialog', { recordId: rec.id })).toEqual({ ok: true, value: { dialog: 'openFiles', cancelled: [] } });
      expect(await core.plan('records.importFromDialog', {})).toEqual({ ok: true, value: { dialog: 'openImportFile', cancelled: null } });
      expect(await core.plan('vault.unlock' as never, { password: PASSWORD })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });

      // Paths only as main's call carries them: absolute, bounded, for the method's own field.
      for (const bad of [
        { recordId: rec.id, paths: ['evidence.txt'] },
        { recordId: rec.id, paths: [] },
        { recordId: rec.id },
        { recordId: rec.id, path: src },
        { recordId: rec.id, paths: [src], extra: true },
      ])
        expect(await core.invokeWithFiles('attachments.addFromDialog', bad), JSON.stringify(bad)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      // A renderer's call naming a file is refused by the contract, in core too.
      expect(await core.invoke('attachments.addFromDialog', { recordId: rec.id, paths: [src] })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      expect(await core.invoke('records.importFromDialog', { path: src })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      expect(await ok('audit.query', { event: 'attachment.added' })).toEqual([]);

      const added = await core.invokeWithFiles('attachments.addFromDialog', { recordId: rec.id, paths: [src] });
      expect(added).toMatchObject({ ok: true, value: [{ name: 'evidence.txt', size: 11 }] });
      const a = (added as { value: { id: string }[] }).value[0]!;
      expect(await core.plan('attachments.saveToDialog', { id: a.id })).toEqual({ ok: true, value: { dialog: 'saveFile', defaultName: 'evidence.txt', cancelled: { saved: false } } });
      expect(await core.invokeWithFiles('attachments.saveToDialog', { id: a.id, path: dest })).toEqual({ ok: true, value: { saved: true } });
      expect(readFileSync(dest, 'utf8')).toBe('field notes');
    });

    it('keeps settings sealed in the vault and cached in a file, and audits every change', async () => {
      expect(await ok('settings.get', {})).toEqual({ autoLockMinutes: 10, lockOnSuspend: true, theme: 'system', syncIntervalMinutes: 0 });
      // Locked: the theme (the lock screen's look) may change; what the vault seals may not.
      expect(await ok('settings.set', { theme: 'dark' })).toMatchObject({ theme: 'dark', autoLockMinutes: 10 });
      expect(await code('settings.set', { autoLockMinutes: 0 })).toBe('LOCKED');
      await ok('vault.unlock', { password: PASSWORD });
      expect(await ok('settings.set', { autoLockMinutes: 5 })).toEqual({ autoLockMinutes: 5, lockOnSuspend: true, theme: 'dark', syncIntervalMinutes: 0 });
      const file = settingsFileFor(vaultDir);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ autoLockMinutes: 5, lockOnSuspend: true, theme: 'dark', syncIntervalMinutes: 0 });
      if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
      const entries = (await ok('audit.query', { event: 'settings.changed', order: 'asc' })).map((e) => e.entry!.details);
      expect(entries).toEqual([
        { changed: ['theme'], theme: 'dark' },
        // The first unlock seals the settings (this vault had none sealed yet).
        { changed: [], sealed: true, autoLockMinutes: 10, lockOnSuspend: true, syncIntervalMinutes: 0 },
        { changed: ['autoLockMinutes'], autoLockMinutes: 5 },
      ]);
      expect(await code('settings.set', { autoLockMinutes: 99999 })).toBe('BAD_REQUEST');
    });

    it('verifies the audit log', async () => {
      await ok('vault.unlock', { password: PASSWORD });
      await ok('records.create', { kind: 'note', title: 't' });
      const v = await ok('audit.verify', {});
      expect(v.ok).toBe(true);
      expect(v.problems).toEqual([]);
    });

    it('exports a signed report: zip bytes in the browser, a file where the desktop dialog says', async () => {
      await ok('vault.unlock', { password: PASSWORD });
      const r = await ok('records.create', { kind: 'note', title: 'for the report', case: 'K' });
      expect(await code('reports.export', { purpose: '' })).toBe('BAD_REQUEST');
      const web = await ok('reports.export', { purpose: 'review', case: 'K' });
      expect(web).toMatchObject({ records: 1, fileName: expect.stringMatching(/^custody-report-.*\.zip$/) });
      const zip = join(root, 'web.zip');
      writeFileSync(zip, web!.data!);
      expect((await verifyReport(zip)).ok).toBe(true);
      expect(events.some((e) => e.event === 'progress' && (e.payload as { op: string }).op === 'report')).toBe(true);
      await core.close();
      const dest = join(root, 'desk.zip');
      core = make(true);
      await ok('vault.unlock', { password: PASSWORD });
      expect(await core.plan('reports.export', { purpose: 'review' })).toEqual({ ok: true, value: { dialog: 'saveReport', defaultName: expect.stringMatching(/^custody-report-\d{4}-\d{2}-\d{2}\.zip$/), cancelled: null, reveal: true } });
      const desk = await core.invokeWithFiles('reports.export', { purpose: 'review', recordIds: [r.id], path: dest });
      expect(desk).toMatchObject({ ok: true, value: { records: 1, fileName: 'desk.zip' } });
      expect((desk as { value: { data?: unknown } }).value.data).toBeUndefined();
      expect((await verifyReport(dest)).ok).toBe(true);
    });

    it('turns unexpected failures into INTERNAL without logging the request', async () => {
      mkdirSync(settingsFileFor(vaultDir)); // a directory where the settings file should be
      const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const env = await call('settings.set', { theme: 'light' });
        expect(env).toEqual({ ok: false, error: { code: 'INTERNAL', message: expect.not.stringContaining('EISDIR') } });
        expect(log).toHaveBeenCalled();
        expect(JSON.stringify(log.mock.calls)).not.toContain('"light"');
      } finally {
        log.mockRestore();
      }
      expect(existsSync(vaultDir)).toBe(true);
    });
  });
});
