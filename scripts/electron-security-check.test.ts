import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scan } from './electron-security-check.mjs';

const root = mkdtempSync(join(tmpdir(), 'custody-seccheck-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('electron security check', () => {
  it('finds nothing in this project', () => {
    expect(scan(process.cwd())).toEqual([]);
  });

  it('flags unsafe settings and missing protections', () => {
    mkdirSync(join(root, 'electron/main'), { recursive: true });
    writeFileSync(
      join(root, 'electron/main/index.ts'),
      [
        "import { BrowserWindow, shell } from 'electron';",
        'const w = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false, webSecurity: false, allowRunningInsecureContent: true } });',
        "w.loadURL('http://example.com/');",
        'export const open = (url: string) => shell.openExternal(url);',
        "export const help = () => shell.openExternal('https://example.org/help');",
      ].join('\n'),
    );
    const ids = scan(root).map((f) => f.id);
    expect(ids).toEqual(
      expect.arrayContaining(['NODE_INTEGRATION', 'CONTEXT_ISOLATION', 'SANDBOX', 'WEB_SECURITY', 'INSECURE_CONTENT', 'INSECURE_LOAD', 'OPEN_EXTERNAL', 'WINDOW_OPEN_HANDLER', 'WILL_NAVIGATE', 'CSP', 'PERMISSIONS', 'CONTEXT_ISOLATION_SET', 'SANDBOX_SET']),
    );
    expect(ids.filter((id) => id === 'OPEN_EXTERNAL')).toHaveLength(1);
  });
});
