// Electron's main process (index.ts with its menu, dialogs, session and auto-lock), run here
// without Electron's binary: the `electron` module is a faithful fake (testing/fakeElectron.ts)
// and the core worker is the real core in this process (testing/inProcessCore.ts) over a real
// vault. Each attack is played from Electron's side: a foreign frame calling IPC, a page
// asking for permissions or navigating away, the system suspending. The real-Electron specs
// (e2e/electron.spec.ts) still run where the binary exists.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { channelOf, EVENT_CHANNEL, METHOD_NAMES, type Envelope } from '../shared/contract.ts';
import { RecordInputSchema } from '../shared/records.ts';
import { badRequestMessage } from '../shared/schemaIssues.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { Custody } from '../core/custody.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { CSP, DEV_CSP, SECURITY_HEADERS } from './csp.ts';
import { createFakeElectron, FakeEvent, FakeWebContents, type FakeElectron, type FakeFrame } from './testing/fakeElectron.ts';
import { InProcessCoreHost } from './testing/inProcessCore.ts';

const PASSWORD = 'main process test password';
const APP_URL = 'custody://app/index.html';
const DEV_URL = 'http://localhost:5173/';
const WAIT = { timeout: 30_000 };

interface Launched {
  fake: FakeElectron;
  core: InProcessCoreHost;
  window: FakeElectron['record']['windows'][number];
  vault: string;
  /** The window's top frame at the renderer's address: what the real page calls from. */
  top: { sender: FakeWebContents; frame: FakeFrame };
  call(method: string, request?: unknown, from?: { sender: FakeWebContents; frame: FakeFrame | null }): Promise<Envelope<unknown>>;
  cleanup(): Promise<void>;
}

/** Loads a fresh main/index.ts against a fresh fake electron, makes the app ready, waits for its window. */
async function launch(opts: { packaged: boolean; devUrl?: string }): Promise<Launched> {
  const root = tempDir('custody-main-');
  const vault = join(root, 'vault');
  await Custody.create(vault, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'tester' });
  const fake = createFakeElectron({ packaged: opts.packaged, openDialog: { canceled: true, filePaths: [] } });
  vi.resetModules();
  vi.doMock('electron', () => fake.module);
  vi.doMock('./coreHost.ts', () => ({ CoreHost: InProcessCoreHost }));
  vi.stubEnv('CUSTODY_VAULT', vault);
  vi.stubEnv('ELECTRON_RENDERER_URL', opts.devUrl);
  const before = InProcessCoreHost.instances.length;
  await import('./index.ts');
  fake.ready();
  await vi.waitFor(() => expect(fake.record.windows).toHaveLength(1), WAIT);
  const core = InProcessCoreHost.instances[before]!;
  const window = fake.record.windows[0]!;
  const top = { sender: window.webContents, frame: { url: window.loadedUrl ?? '', parent: null } };
  return {
    fake,
    core,
    window,
    vault,
    top,
    call: async (method, request = {}, from = top) => (await fake.invoke(channelOf(method as never), from, request)) as Envelope<unknown>,
    cleanup: async () => {
      await core.close();
      vi.doUnmock('electron');
      vi.doUnmock('./coreHost.ts');
      vi.unstubAllEnvs();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const locked = (l: Launched) => l.window.webContents.sent.filter((m) => m.channel === EVENT_CHANNEL && m.args[0] === 'locked').map((m) => (m.args[1] as { reason: string }).reason);
const isUnlocked = async (l: Launched) => ((await l.call('vault.status')) as { ok: true; value: { unlocked: boolean } }).value.unlocked;
const items = (template: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] =>
  template.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? items(i.submenu) : [])]);
const menuItems = (l: Launched) => items(l.fake.record.applicationMenu?.template ?? []);

describe('Electron main, packaged, against a fake electron module', () => {
  let l: Launched;
  beforeAll(async () => {
    l = await launch({ packaged: true });
  });
  afterAll(() => l.cleanup());

  test('opens one hardened window on the app\u2019s private scheme', () => {
    expect(l.fake.record.sandboxEnabled).toBe(true);
    expect(l.fake.record.privilegedSchemes).toEqual([{ scheme: 'custody', privileges: { standard: true, secure: true } }]);
    const prefs = l.window.options.webPreferences!;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      devTools: false,
    });
    expect(prefs.preload).toMatch(/[/\\]preload[/\\]index\.cjs$/);
    expect(l.window.loadedUrl).toBe(APP_URL);
    expect(l.window.shown).toBe(false); // shown when ready, not blank
    l.window.emit('ready-to-show');
    expect(l.window.shown).toBe(true);
  });

  test('sends the CSP and security headers with every response, and serves nothing outside the renderer', async () => {
    const handler = l.fake.record.protocolHandlers.get('custody')!;
    for (const [method, url] of [
      ['GET', APP_URL],
      ['GET', 'custody://app/..%2F..%2F..%2Fpackage.json'],
      ['GET', 'custody://app/../../../../etc/passwd'],
      ['GET', 'custody://elsewhere/index.html'],
      ['POST', APP_URL],
    ] as const) {
      const r = await handler(new Request(url, { method }));
      expect(r.headers.get('content-security-policy'), url).toBe(CSP);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(r.headers.get(name), `${name} on ${url}`).toBe(value);
      // (No renderer build beside the sources, so even index.html is not found here.)
      expect(r.status, url).toBe(404);
    }
    expect(l.fake.record.headersReceived).toEqual([]); // the dev server's CSP only in development
  });

  test('denies every permission request and check, except clipboard writes from its own page', () => {
    const ours = { getURL: () => APP_URL } as unknown as Electron.WebContents;
    const foreign = { getURL: () => 'https://attacker.example/' } as unknown as Electron.WebContents;
    const request = (wc: Electron.WebContents, permission: string) =>
      new Promise<boolean>((resolve) => l.fake.record.permissionRequestHandler!(wc, permission as never, resolve, {} as never));
    const check = (wc: Electron.WebContents | null, permission: string) => l.fake.record.permissionCheckHandler!(wc, permission as never, APP_URL, {} as never);
    return (async () => {
      for (const p of ['media', 'geolocation', 'notifications', 'midi', 'pointerLock', 'fullscreen', 'openExternal', 'clipboard-read', 'hid', 'serial', 'usb']) {
        expect(await request(ours, p), p).toBe(false);
        expect(check(ours, p), p).toBe(false);
      }
      expect(await request(ours, 'clipboard-sanitized-write')).toBe(true);
      expect(check(ours, 'clipboard-sanitized-write')).toBe(true);
      expect(await request(foreign, 'clipboard-sanitized-write')).toBe(false);
      expect(check(foreign, 'clipboard-sanitized-write')).toBe(false);
      expect(check(null, 'clipboard-sanitized-write')).toBe(false);
    })();
  });

  test('denies navigation, redirects, webviews and new windows, for its window and any other web contents', () => {
    const other = new FakeWebContents();
    l.fake.appEvents.emit('web-contents-created', new FakeEvent(), other);
    for (const contents of [l.window.webContents, other]) {
      expect(contents.windowOpenHandler?.({ url: 'https://attacker.example/', frameName: '', features: '', disposition: 'new-window', referrer: { url: '', policy: 'no-referrer' } } as Electron.HandlerDetails)).toEqual({ action: 'deny' });
      for (const event of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
        const e = new FakeEvent();
        contents.emit(event, e, event === 'will-attach-webview' ? {} : 'https://attacker.example/');
        expect(e.defaultPrevented, event).toBe(true);
      }
    }
  });

  test('binds every contract method with ipcMain.handle, and nothing else', () => {
    expect([...l.fake.record.ipcHandlers.keys()].sort()).toEqual(METHOD_NAMES.map((m) => channelOf(m)).sort());
  });

  test('answers only its own window\u2019s top frame at the renderer\u2019s address; refused calls never reach core', async () => {
    expect(await l.call('vault.status')).toMatchObject({ ok: true, value: { exists: true, unlocked: false } });
    const calls = l.core.calls.length;
    const refused = { ok: false, error: { code: 'BAD_REQUEST', message: 'refused: the call did not come from the Custody window' } };
    const otherContents = new FakeWebContents();
    otherContents.url = APP_URL;
    for (const from of [
      { sender: otherContents, frame: { url: APP_URL, parent: null } }, // another web contents
      { sender: l.window.webContents, frame: { url: APP_URL, parent: l.top.frame } }, // a subframe
      { sender: l.window.webContents, frame: { url: 'https://attacker.example/', parent: null } }, // navigated away
      { sender: l.window.webContents, frame: { url: 'custody://other/index.html', parent: null } },
      { sender: l.window.webContents, frame: null }, // a frame already gone
    ]) {
      expect(await l.call('vault.unlock', { password: PASSWORD }, from)).toEqual(refused);
      expect(await l.call('records.search', {}, from)).toEqual(refused);
    }
    // From the right frame, the payload is still validated before core sees it.
    expect(await l.call('vault.unlock', { password: 5 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await l.call('vault.unlock', { password: PASSWORD, extra: true })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(l.core.calls.length).toBe(calls);
    expect(await isUnlocked(l)).toBe(false);
  });

  test('a malformed payload gets the one formatted message, the same the web shell gives (electron/web/requestParsing.test.ts), before core', async () => {
    const calls = l.core.calls.length;
    const bad = { kind: 'note', title: '   ' };
    const message = badRequestMessage(RecordInputSchema.safeParse(bad).error!);
    expect(message).toBe('field title: is empty');
    expect(await l.call('records.create', bad)).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message } });
    expect(await l.call('records.create', { kind: 'note', title: 'x', canaryKey: 1 })).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: 'the request: has 1 unknown key' } });
    expect(l.core.calls.length).toBe(calls);
  });

  test('locks on suspend and on screen lock, tells the page and reloads it', async () => {
    for (const [event, reason] of [
      ['suspend', 'suspend'],
      ['lock-screen', 'screen-lock'],
    ] as const) {
      expect(await l.call('vault.unlock', { password: PASSWORD })).toMatchObject({ ok: true, value: { unlocked: true } });
      const reloads = l.window.webContents.reloads;
      l.fake.powerMonitor.emit(event);
      await vi.waitFor(() => expect(locked(l).at(-1)).toBe(reason), WAIT);
      await vi.waitFor(() => expect(l.window.webContents.reloads).toBe(reloads + 1), WAIT);
      expect(await isUnlocked(l)).toBe(false);
    }
  });

  test('Lock Vault in the menu locks; the menu has no developer tools', async () => {
    expect(await l.call('vault.unlock', { password: PASSWORD })).toMatchObject({ ok: true });
    const lock = menuItems(l).find((i) => i.label === 'Lock Vault');
    expect(lock?.accelerator).toBe('CmdOrCtrl+L');
    (lock!.click as () => void)();
    await vi.waitFor(() => expect(locked(l).at(-1)).toBe('menu'), WAIT);
    expect(await isUnlocked(l)).toBe(false);
    expect(menuItems(l).some((i) => i.role === 'toggleDevTools')).toBe(false);
  });

  describe('native file dialogs come before the call, never in the middle of it', () => {
    let dir: string;
    let recordId: string;
    let attachmentId: string;
    const ok = async (method: string, request: unknown) => {
      const env = await l.call(method, request);
      if (!env.ok) throw new Error(`${method}: ${env.error.code} ${env.error.message}`);
      return env.value;
    };
    /** What reached core since `from`, as the worker would have received it. */
    const reached = (from: number) => l.core.calls.slice(from).map((c) => [c.kind, c.method, c.request]);
    const auditSize = () => {
      const db = new Database(join(l.vault, 'custody.db'), { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM audit_entry').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    beforeAll(async () => {
      dir = dirname(l.vault);
      await ok('vault.unlock', { password: PASSWORD });
      recordId = ((await ok('records.create', { kind: 'note', title: 'dialogs' })) as { id: string }).id;
    });
    afterAll(() => l.fake.answerDialogs({ open: { canceled: true, filePaths: [] }, save: { canceled: true, filePath: '' } }));

    test('main shows the dialog, modal to the window, while core has only been asked which one; then core gets the call with the path', async () => {
      const src = join(dir, 'evidence.txt');
      writeFileSync(src, 'field notes');
      let atDialog: unknown[] = [];
      const from = l.core.calls.length;
      l.fake.answerDialogs({
        open: () => {
          atDialog = reached(from);
          return { canceled: false, filePaths: [src] };
        },
      });
      expect(await ok('attachments.addFromDialog', { recordId })).toMatchObject([{ name: 'evidence.txt', size: 11 }]);
      expect(atDialog).toEqual([['plan', 'attachments.addFromDialog', { recordId }]]);
      expect(reached(from)).toEqual([
        ['plan', 'attachments.addFromDialog', { recordId }],
        ['files', 'attachments.addFromDialog', { recordId, paths: [src] }],
      ]);
      expect(l.fake.record.openDialogs.at(-1)).toMatchObject({ window: l.window, options: { properties: ['openFile', 'multiSelections'] } });
      attachmentId = ((await ok('records.get', { id: recordId })) as { attachments: { id: string }[] }).attachments[0]!.id;
    });

    test('save dialogs are named by core (the attachment’s name), and a saved report is shown in its folder', async () => {
      const dest = join(dir, 'saved.txt');
      l.fake.answerDialogs({ save: (options) => ({ canceled: false, filePath: options.defaultPath === 'evidence.txt' ? dest : join(dir, 'wrong-name') }) });
      const from = l.core.calls.length;
      expect(await ok('attachments.saveToDialog', { id: attachmentId })).toEqual({ saved: true });
      expect(readFileSync(dest, 'utf8')).toBe('field notes');
      expect(reached(from).map(([kind]) => kind)).toEqual(['plan', 'files']);
      expect(l.fake.record.saveDialogs.at(-1)).toMatchObject({ window: l.window, options: { defaultPath: 'evidence.txt' } });

      // The user typed a name without .zip: core writes the zip beside it, and that is what is shown.
      l.fake.answerDialogs({ save: { canceled: false, filePath: join(dir, 'for-counsel') } });
      expect(await ok('reports.export', { purpose: 'review', recordIds: [recordId] })).toMatchObject({ fileName: 'for-counsel.zip', records: 1 });
      expect(l.fake.record.saveDialogs.at(-1)!.options.defaultPath).toMatch(/^custody-report-\d{4}-\d{2}-\d{2}\.zip$/);
      expect(existsSync(join(dir, 'for-counsel.zip'))).toBe(true);
      expect(l.fake.record.shownInFolder.at(-1)).toBe(join(dir, 'for-counsel.zip'));

      const rows = join(dir, 'rows.json');
      writeFileSync(rows, JSON.stringify([{ kind: 'note', title: 'imported' }]));
      l.fake.answerDialogs({ open: { canceled: false, filePaths: [rows] } });
      expect(await ok('records.importFromDialog', {})).toEqual({ imported: 1 });
    });

    test('a cancelled dialog is answered by main: the method never reaches core, and nothing changes', async () => {
      l.fake.answerDialogs({ open: { canceled: true, filePaths: [] }, save: { canceled: true, filePath: '' } });
      const audit = auditSize();
      for (const [method, request, answer] of [
        ['attachments.addFromDialog', { recordId }, []],
        ['records.importFromDialog', {}, null],
        ['attachments.saveToDialog', { id: attachmentId }, { saved: false }],
        ['reports.export', { purpose: 'review' }, null],
        ['sync.configure', { url: 'postgresql://analyst@127.0.0.1/custody', caCertificateFromDialog: true }, expect.objectContaining({ configured: false, cancelled: true })],
      ] as const) {
        const from = l.core.calls.length;
        const dialogs = l.fake.record.openDialogs.length + l.fake.record.saveDialogs.length;
        expect(await ok(method, request), method).toEqual(answer);
        expect(l.fake.record.openDialogs.length + l.fake.record.saveDialogs.length, method).toBe(dialogs + 1);
        expect(reached(from), method).toEqual([['plan', method, request]]);
      }
      expect(auditSize()).toBe(audit);
    });

    test('a dialog that fails is an error, and the call does not go on', async () => {
      l.fake.answerDialogs({
        open: () => {
          throw new Error('no display');
        },
      });
      const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const from = l.core.calls.length;
        expect(await l.call('records.importFromDialog', {})).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
        expect(reached(from).map(([kind]) => kind)).toEqual(['plan']);
      } finally {
        log.mockRestore();
      }
    });

    test('a renderer payload carrying a path is refused by validation: no dialog opens, nothing reaches core', async () => {
      const target = join(dir, 'planted.txt');
      const from = l.core.calls.length;
      const dialogs = l.fake.record.openDialogs.length + l.fake.record.saveDialogs.length;
      for (const [method, request] of [
        ['attachments.addFromDialog', { recordId, paths: ['/etc/passwd'] }],
        ['attachments.addFromDialog', { recordId, path: '/etc/passwd' }],
        ['records.importFromDialog', { path: '/etc/passwd' }],
        ['attachments.saveToDialog', { id: attachmentId, path: target }],
        ['reports.export', { purpose: 'review', path: target }],
        ['sync.configure', { url: 'postgresql://analyst@127.0.0.1/custody', caCertificateFromDialog: true, path: '/etc/passwd' }],
      ] as const) {
        expect(await l.call(method, request), method).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      }
      expect(l.fake.record.openDialogs.length + l.fake.record.saveDialogs.length).toBe(dialogs);
      expect(reached(from)).toEqual([]);
      expect(existsSync(target)).toBe(false);
    });

    test('locked: core refuses at the plan, before a dialog opens for nothing', async () => {
      await ok('vault.lock', {});
      const dialogs = l.fake.record.openDialogs.length + l.fake.record.saveDialogs.length;
      expect(await l.call('attachments.addFromDialog', { recordId })).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
      expect(await l.call('reports.export', { purpose: 'review' })).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
      expect(l.fake.record.openDialogs.length + l.fake.record.saveDialogs.length).toBe(dialogs);
    });
  });

  test('a page that crashes is reloaded once, not in a loop', () => {
    const reloads = l.window.webContents.reloads;
    l.window.webContents.emit('render-process-gone', new FakeEvent(), { reason: 'crashed', exitCode: 1 });
    l.window.webContents.emit('render-process-gone', new FakeEvent(), { reason: 'crashed', exitCode: 1 });
    expect(l.window.webContents.reloads).toBe(reloads + 1);
  });

  test('quitting locks and closes the vault before the app ends; a core crash ends the app with a message', async () => {
    expect(await l.call('vault.unlock', { password: PASSWORD })).toMatchObject({ ok: true });
    l.fake.module.app.quit();
    expect(l.fake.record.quits).toBe(0); // held back until core has closed
    await vi.waitFor(() => expect(l.fake.record.quits).toBe(1), WAIT);
    expect(l.core.closed).toBe(true);
    const db = new Database(join(l.vault, 'custody.db'), { readonly: true });
    try {
      expect((db.prepare('SELECT event FROM audit_entry ORDER BY seq DESC LIMIT 1').get() as { event: string }).event).toBe('vault.locked');
    } finally {
      db.close();
    }
    l.core.crash('core worker exited with code 1');
    expect(l.fake.record.errorBoxes.map((b) => b.title)).toEqual(['Custody stopped']);
    expect(l.fake.record.exits).toEqual([1]);
  });
});

describe('Electron main in development', () => {
  let l: Launched;
  beforeAll(async () => {
    l = await launch({ packaged: false, devUrl: DEV_URL });
  });
  afterAll(() => l.cleanup());

  test('loads the dev server with developer tools, and gives its responses the dev CSP', () => {
    expect(l.window.loadedUrl).toBe(DEV_URL);
    expect(l.window.options.webPreferences).toMatchObject({ devTools: true, contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(menuItems(l).some((i) => i.role === 'toggleDevTools')).toBe(true);
    const [onHeaders] = l.fake.record.headersReceived;
    let headers: Record<string, string[]> | undefined;
    onHeaders!({ responseHeaders: { 'content-type': ['text/html'] } } as unknown as Electron.OnHeadersReceivedListenerDetails, (r) => (headers = r.responseHeaders as Record<string, string[]>));
    expect(headers).toEqual({ 'content-type': ['text/html'], 'Content-Security-Policy': [DEV_CSP] });
  });

  test('answers the dev server\u2019s page, not another local origin', async () => {
    expect(await l.call('vault.status')).toMatchObject({ ok: true });
    expect(await l.call('vault.status', {}, { sender: l.window.webContents, frame: { url: 'http://localhost:5174/', parent: null } })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });
});

describe('Electron main: auto-lock when the system has been idle', () => {
  let l: Launched;
  beforeAll(async () => {
    // Only the idle timer's interval is faked: the test moves its clock, nothing else.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    l = await launch({ packaged: true });
  });
  afterAll(async () => {
    vi.useRealTimers();
    await l.cleanup();
  });

  test('locks once the idle time reaches the setting (10 minutes by default), not before', async () => {
    expect(await l.call('vault.unlock', { password: PASSWORD })).toMatchObject({ ok: true });
    l.fake.record.idleSeconds = 599;
    await vi.advanceTimersByTimeAsync(15_000);
    expect(await isUnlocked(l)).toBe(true);
    expect(locked(l)).toEqual([]);
    l.fake.record.idleSeconds = 600;
    await vi.advanceTimersByTimeAsync(15_000);
    await vi.waitFor(() => expect(locked(l)).toEqual(['idle']), WAIT);
    expect(await isUnlocked(l)).toBe(false);
  });
});
