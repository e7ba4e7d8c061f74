// End-to-end tests: the real renderer build and the real main-process handlers (through the
// loopback web shell and its core worker) in Debian's Chromium; a spec that launches real
// Electron runs where its binary exists and is reported skipped where it does not.
import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Chosen once by the runner: workers load this file again and inherit the environment.
// CUSTODY_WEB_TOKEN is also what the web shell reads, so specs can build the page's address from it.
process.env.CUSTODY_WEB_TOKEN ??= randomBytes(32).toString('base64url');
process.env.CUSTODY_E2E_ROOT ??= mkdtempSync(join(tmpdir(), 'custody-e2e-'));
// A free port, not a fixed one, so two Playwright runs on one machine do not collide (the runner
// picks it; workers inherit it). Asked of a child process because a config loads synchronously.
process.env.CUSTODY_E2E_PORT ??= freePort();

/** A port the system has free on 127.0.0.1 now (it lets it go at once; the web shell binds it next). */
function freePort(): string {
  const script = "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
}

const token = process.env.CUSTODY_WEB_TOKEN;
const port = Number(process.env.CUSTODY_E2E_PORT);
const chromium = process.env.CUSTODY_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  globalTeardown: './e2e/support/teardown.ts',
  use: {
    baseURL: `http://127.0.0.1:${port}/#token=${token}`,
    browserName: 'chromium',
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      ...(existsSync(chromium) ? { executablePath: chromium } : {}),
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  webServer: {
    // Builds the app when its sources changed, then serves it with a fresh vault.
    command: `node scripts/start-web.mjs --port ${port}`,
    url: `http://127.0.0.1:${port}/`,
    env: { CUSTODY_WEB_TOKEN: token, CUSTODY_VAULT: join(process.env.CUSTODY_E2E_ROOT, 'vault') },
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
  },
});
