// `custody envelopes publish|send|list|open|withdraw`: the built CLI against a real PostgreSQL,
// two analysts with a vault each. Setup (vaults, sync, records, the package) runs in-process.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { SyncEngine } from '../core/sync/client/engine.ts';
import { describePg } from '../core/sync/testing/describePg.ts';
import { createVaultIdentity } from '../core/sharing/identity.ts';
import { disclose } from '../core/sharing/disclose.ts';
import { cli } from './testing.ts';

const PASSWORD = 'cli envelopes password';
const env = { CUSTODY_PASSWORD: PASSWORD };
const ok = (r: { status: number; stdout: string; stderr: string }) => {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
};

async function inProcess<T>(dir: string, fn: (c: Custody) => Promise<T>): Promise<T> {
  const c = await Custody.open(dir);
  try {
    await c.unlock(PASSWORD, { buildIndex: false });
    return await fn(c);
  } finally {
    await c.close();
  }
}

describePg('custody envelopes', (testServer) => {
  let root: string;
  beforeAll(() => {
    root = tempDir('custody-envelopes-cli-');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('publish, send, list, open, see it opened, and no withdrawal after', { timeout: 240_000 }, async () => {
    const server = testServer();
    const [ia, ra] = await Promise.all([server.analyst(), server.analyst()]);
    const issuer = join(root, 'issuer');
    const reviewer = join(root, 'reviewer');
    for (const [dir, url] of [[issuer, ia.url], [reviewer, ra.url]] as const) {
      await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'cli' });
      await inProcess(dir, async (c) => {
        const engine = new SyncEngine(c);
        try {
          await engine.configure({ url });
        } finally {
          await engine.close();
        }
      });
    }
    const recipient = await inProcess(reviewer, async (c) => (await createVaultIdentity(c)).recipient);
    const pkg = join(root, 'grant.age');
    await inProcess(issuer, async (c) => {
      await c.createRecord({ kind: 'note', title: 'For the reviewer', body: 'sent through the server', capturedAt: '2026-03-03T08:00:00Z' });
      await disclose(c, { to: [recipient], from: '2026-03-03', until: '2026-03-03', purpose: 'cli delivery', out: pkg });
    });

    // Not published yet: nothing can be addressed to the reviewer on this server.
    expect(cli(issuer, ['envelopes', 'send', pkg], env)).toMatchObject({ status: 4, stderr: expect.stringContaining('published') });
    expect(ok(cli(reviewer, ['envelopes', 'publish'], env))).toContain('Published your recipient');
    const sent = JSON.parse(ok(cli(issuer, ['envelopes', 'send', pkg, '--json'], env))) as { grantId: string; envelopes: { id: string }[] };
    const id = sent.envelopes[0]!.id;
    expect(ok(cli(reviewer, ['envelopes', 'list'], env))).toContain(`${id}  PENDING`);
    expect(ok(cli(reviewer, ['envelopes', 'open', id], env))).toContain(`grant ${sent.grantId}, 1 records`);
    expect(ok(cli(reviewer, ['received', 'list', '--json'], env))).toContain(sent.grantId);
    const mine = JSON.parse(ok(cli(issuer, ['envelopes', 'list', '--sent', '--json'], env))) as { id: string; status: string; openedAt: string | null }[];
    expect(mine).toEqual([expect.objectContaining({ id, status: 'opened', openedAt: expect.any(String) })]);
    expect(cli(issuer, ['envelopes', 'withdraw', id], env)).toMatchObject({ status: 5, stderr: expect.stringContaining('already opened') });
    expect(cli(reviewer, ['envelopes', 'withdraw', id], env)).toMatchObject({ status: 4 });
    expect(cli(issuer, ['envelopes', 'open', 'not-an-id'], env).status).toBe(2);
  });
});
