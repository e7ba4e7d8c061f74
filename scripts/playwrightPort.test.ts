// playwright.config.ts picks the web shell's port when it loads: a free one (two Playwright runs
// on one machine must not collide on a fixed port), unless CUSTODY_E2E_PORT names one. The test
// plays the other run: it holds the port the config used to hard-code, then loads the config.
import { afterEach, expect, test, vi } from 'vitest';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const saved = { port: process.env.CUSTODY_E2E_PORT, root: process.env.CUSTODY_E2E_ROOT, token: process.env.CUSTODY_WEB_TOKEN };
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  if (process.env.CUSTODY_E2E_ROOT && process.env.CUSTODY_E2E_ROOT !== saved.root) rmSync(process.env.CUSTODY_E2E_ROOT, { recursive: true, force: true });
  for (const [k, v] of [['CUSTODY_E2E_PORT', saved.port], ['CUSTODY_E2E_ROOT', saved.root], ['CUSTODY_WEB_TOKEN', saved.token]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

function listen(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => {
      servers.push(s);
      resolve(s);
    });
  });
}

async function loadConfig(): Promise<{ port: number; baseURL: string; command: string }> {
  vi.resetModules();
  const config = (await import('../playwright.config.ts')).default;
  const web = config.webServer as { command: string };
  return { port: Number(process.env.CUSTODY_E2E_PORT), baseURL: String(config.use?.baseURL), command: web.command };
}

test('without CUSTODY_E2E_PORT the config takes a free port, not one another run holds', async () => {
  delete process.env.CUSTODY_E2E_PORT;
  delete process.env.CUSTODY_E2E_ROOT;
  // Another Playwright run (or anything) holds the port the config used to hard-code.
  await listen(47813);
  const { port, baseURL, command } = await loadConfig();
  expect(port).toBeGreaterThan(0);
  expect(port).not.toBe(47813);
  expect(baseURL).toContain(`http://127.0.0.1:${port}/`);
  expect(command).toContain(`--port ${port}`);
  // Free: the web shell can bind it.
  expect(await listen(port)).not.toBeNull();
});

test('CUSTODY_E2E_PORT still wins', async () => {
  delete process.env.CUSTODY_E2E_ROOT;
  process.env.CUSTODY_E2E_PORT = '48777';
  const { port, baseURL } = await loadConfig();
  expect(port).toBe(48777);
  expect(baseURL).toContain('http://127.0.0.1:48777/');
});
