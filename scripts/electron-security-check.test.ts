import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFuses, REQUIRED_FUSES, scan } from './electron-security-check.mjs';

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
    expect(ids).toContain('FUSES');
  });

  it('requires the packaged fuses, file:// without extra privileges among them', () => {
    const real = readFileSync('electron-builder.yml', 'utf8');
    expect(parseFuses(real)).toMatchObject({ ...REQUIRED_FUSES, grantFileProtocolExtraPrivileges: false });
    const fusesRoot = join(root, 'fuses');
    mkdirSync(fusesRoot, { recursive: true });
    const fuseIds = (yml: string) => {
      writeFileSync(join(fusesRoot, 'electron-builder.yml'), yml);
      return scan(fusesRoot).filter((f) => f.id.startsWith('FUSE'));
    };
    // The project's own file passes; each weakening of it is caught by name.
    expect(fuseIds(real)).toEqual([]);
    expect(fuseIds(real.replace('grantFileProtocolExtraPrivileges: false', 'grantFileProtocolExtraPrivileges: true')).map((f) => f.id)).toEqual(['FUSE_grantFileProtocolExtraPrivileges']);
    expect(fuseIds(real.replace(/\n\s+grantFileProtocolExtraPrivileges: false/, '')).map((f) => f.message)).toEqual(['the grantFileProtocolExtraPrivileges fuse must be false (it is not set)']);
    expect(fuseIds(real.replace('runAsNode: false', 'runAsNode: true').replace('onlyLoadAppFromAsar: true', 'onlyLoadAppFromAsar: yes')).map((f) => f.id)).toEqual(['FUSE_runAsNode', 'FUSE_onlyLoadAppFromAsar']);
    expect(fuseIds(real.replace(/^electronFuses:[\s\S]*$/m, '')).map((f) => f.id)).toEqual(['FUSES']);
  });
});
