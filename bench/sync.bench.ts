// Issue 6 figures: push and pull of 10,000 records to a local PostgreSQL (goal <= 5 s each),
// and three devices of one vault pushing 1,000 records each at the same time. Each sync is
// measured whole: records, their audit entries (one per record) and checkpoint verification.
// Needs PostgreSQL as the sync tests do (electron/core/sync/testing/pg.ts); without it the
// figures are reported missing rather than silently dropped.
import { join } from 'node:path';
import { Custody } from '../electron/core/custody.ts';
import { KDF_FLOOR } from '../electron/core/crypto/kdf.ts';
import { insertRecords } from '../electron/core/records/importer.ts';
import { SyncEngine } from '../electron/core/sync/client/engine.ts';
import { testServer } from '../electron/core/sync/testing/pg.ts';
import { ceilingFigure, type Figure } from './figures.ts';
import { makeRecords } from './vault.bench.ts';

const PASSWORD = 'benchmark password';

async function device(root: string, name: string, url: string): Promise<{ custody: Custody; engine: SyncEngine }> {
  const dir = join(root, name);
  await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR });
  const custody = await Custody.open(dir);
  await custody.unlock(PASSWORD, { buildIndex: false });
  const engine = new SyncEngine(custody);
  await engine.configure({ url });
  return { custody, engine };
}

const seconds = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

export async function syncBenchmarks(root: string, log: (s: string) => void, only: (name: string) => boolean): Promise<Figure[]> {
  const names = ['sync push 10k', 'sync pull 10k', 'sync 3 devices'];
  if (!names.some(only)) return [];
  let server;
  try {
    server = await testServer();
  } catch (e) {
    log(`  sync: skipped, ${(e as Error).message}`);
    return names.filter(only).map((n) => ({ ...ceilingFigure(`${n} (PostgreSQL unreachable)`, Number.POSITIVE_INFINITY, 's', 5), met: false }));
  }
  const figures: Figure[] = [];
  try {
    const url = (await server.analyst()).url;
    if (only('sync push 10k') || only('sync pull 10k')) {
      const a = await device(root, 'sync-a', url);
      const joined = await SyncEngine.join(join(root, 'sync-b'), { url, password: PASSWORD });
      await insertRecords(a.custody.vault, makeRecords(10_000, 7));
      const push = await seconds(() => a.engine.syncNow());
      log(`  sync push 10k records: ${push.toFixed(2)} s`);
      figures.push(ceilingFigure('sync push 10k records (+10k audit entries) to local PostgreSQL', push, 's', 5));
      const pull = await seconds(() => joined.engine.syncNow());
      log(`  sync pull 10k records: ${pull.toFixed(2)} s`);
      figures.push(ceilingFigure('sync pull 10k records (+ verify 10k audit entries) from local PostgreSQL', pull, 's', 5));
      for (const d of [a, joined]) {
        await d.engine.close();
        await d.custody.close();
      }
    }
    if (only('sync 3 devices')) {
      const url3 = (await server.analyst()).url;
      const first = await device(root, 'sync3-a', url3);
      const others = [];
      for (const n of ['sync3-b', 'sync3-c']) others.push(await SyncEngine.join(join(root, n), { url: url3, password: PASSWORD }));
      const all = [first, ...others];
      for (const [i, d] of all.entries()) await insertRecords(d.custody.vault, makeRecords(1000, 100 + i));
      const t = await seconds(() => Promise.all(all.map((d) => d.engine.syncNow())));
      log(`  3 devices pushing 1k records each at once: ${t.toFixed(2)} s`);
      figures.push(ceilingFigure('sync 3 devices pushing 1k records each, concurrently', t, 's', 5));
      for (const d of all) {
        await d.engine.close();
        await d.custody.close();
      }
    }
  } finally {
    await server.cleanup();
  }
  return figures;
}
