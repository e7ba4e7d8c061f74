// The real desktop app, launched with Playwright's Electron driver where Electron's binary is
// installed; reported skipped, with the reason, where it is not (docs/architecture.md, "Where it runs").
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METHOD_NAMES } from '../electron/shared/contract.ts';
import { electronBinary } from '../scripts/electron-binary.mjs';

const binary = electronBinary();
test.skip(!binary.ok, `Electron binary not installed: ${binary.ok ? '' : binary.reason}`);

let app: ElectronApplication;
let page: Page;
let root: string;

test.beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'custody-e2e-electron-'));
  // out/ was built by the web server of playwright.config.ts (electron-vite build).
  app = await electron.launch({ args: ['out/main/index.js'], env: { ...process.env, CUSTODY_VAULT: join(root, 'vault') } as Record<string, string> });
  page = await app.firstWindow();
  await page.waitForLoadState('domcontentloaded');
});

test.afterAll(async () => {
  await app?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('the window shows the packaged renderer, without devtools', async () => {
  const state = await app.evaluate(({ BrowserWindow }) => {
    const w = BrowserWindow.getAllWindows()[0]!;
    w.webContents.openDevTools();
    return { windows: BrowserWindow.getAllWindows().length, url: w.webContents.getURL(), devTools: w.webContents.isDevToolsOpened() };
  });
  expect(state).toEqual({ windows: 1, url: expect.stringMatching(/^custody:\/\/app\//), devTools: false });
});

test('the page gets exactly the contract, and no Node', async () => {
  const seen = await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    return { require: typeof w.require, process: typeof w.process, Buffer: typeof w.Buffer, keys: Object.keys(w.custody as object).sort() };
  });
  expect(seen).toEqual({ require: 'undefined', process: 'undefined', Buffer: 'undefined', keys: [...METHOD_NAMES, 'on'].sort() });
  const info = await page.evaluate(() => (window as unknown as { custody: { 'app.info': (r: object) => Promise<unknown> } }).custody['app.info']({}));
  expect(info).toMatchObject({ ok: true, value: { shell: 'electron', nativeDialogs: true } });
});

test('malformed IPC payloads are refused with BAD_REQUEST', async () => {
  const answers = await page.evaluate(async () => {
    const api = (window as unknown as { custody: Record<string, (r: unknown) => Promise<{ ok: boolean; error?: { code: string } }>> }).custody;
    const calls: [string, unknown][] = [
      ['vault.unlock', { password: 5 }],
      ['vault.status', { extra: true }],
      ['records.get', { id: '../../etc/passwd' }],
      ['vault.status', JSON.parse('{"__proto__":{"polluted":true}}')],
      ['records.search', { text: 'A'.repeat(5_000_000) }],
    ];
    const out: string[] = [];
    for (const [m, r] of calls) out.push((await api[m]!(r)).error?.code ?? 'ok');
    return out;
  });
  expect(answers).toEqual(['BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST']);
});

test('new windows and navigation are denied', async () => {
  const before = app.windows().length;
  await page.evaluate(() => {
    window.open('https://example.com/', '_blank');
  });
  await page.evaluate(() => {
    window.location.href = 'https://example.com/';
  });
  await page.waitForTimeout(500);
  expect(app.windows().length).toBe(before);
  expect(page.url()).toMatch(/^custody:\/\/app\//);
});
