// The desktop's sync panel calls: configure, status, sync now, conflicts — against real PostgreSQL.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Envelope, Method, RequestOf, Responses } from '../../shared/contract.ts';
import { PASSWORD, tempDir } from '../testing/tempVault.ts';
import { describePg } from '../sync/testing/describePg.ts';
import { createCore, type CoreApi } from './handlers.ts';
import { settingsFileFor } from './settings.ts';

let core: CoreApi | undefined;
let root: string | undefined;
afterEach(async () => {
  await core?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describePg('sync over the IPC contract', (pg) => {
  it('configures a server (address sealed, password never shown), syncs, reports status and progress', async () => {
    root = tempDir();
    const vaultDir = join(root, 'vault');
    const events: { event: string; payload: unknown }[] = [];
    core = createCore({ vaultDir, settingsFile: settingsFileFor(vaultDir), emit: (event, payload) => events.push({ event, payload }), dialogs: null, shell: 'web', appVersion: 't' });
    const ok = async <M extends Method>(m: M, r: RequestOf<M>): Promise<Responses[M]> => {
      const env = (await core!.invoke(m, r)) as Envelope<Responses[M]>;
      if (!env.ok) throw new Error(`${m}: ${env.error.code} ${env.error.message}`);
      return env.value;
    };
    await ok('vault.create', { password: PASSWORD });
    await ok('vault.unlock', { password: PASSWORD });
    expect(await ok('sync.status', {})).toMatchObject({ configured: false });
    expect((await core.invoke('sync.configure', { url: 'https://example.org' })).ok).toBe(false);
    const { url } = await pg().analyst();
    const status = await ok('sync.configure', { url });
    expect(status.configured).toBe(true);
    expect(status.server).not.toContain(new URL(url).password);
    await ok('records.create', { kind: 'note', title: 'synced note' });
    expect((await ok('sync.status', {})).pending).toBeGreaterThan(0);
    const result = await ok('sync.now', {});
    expect(result.pushed.records).toBe(1);
    expect(result.problems).toEqual([]);
    expect(await ok('sync.status', {})).toMatchObject({ pending: 0, online: true, lastError: null });
    expect(events.some((e) => e.event === 'progress' && (e.payload as { op: string }).op === 'sync')).toBe(true);
    expect(await ok('sync.conflicts', {})).toEqual([]);
    // Locking stops the engine first; after unlock it works again.
    await ok('vault.lock', {});
    await ok('vault.unlock', { password: PASSWORD });
    expect(await ok('sync.status', {})).toMatchObject({ configured: true, pending: 0 });
  });
});
