// The web shell (the app's core, unlocked, its search index loaded) and the CLI in another
// process write the same vault side by side: the app's search and listing find what the CLI
// added, edited and purged, without rebuilding its index; and the CLI's search finds what the
// app added. Nothing waits on a clock: each step waits for its condition.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { SearchResult } from '../shared/records.ts';
import { PASSWORD } from '../core/testing/tempVault.ts';
import { answerOf, startTestShell, type TestShell } from './testing/webShellHarness.ts';

let h: TestShell;
beforeAll(async () => {
  h = await startTestShell();
});
afterAll(async () => h?.close());

/** The CLI in its own process; spawned, not run synchronously, so the shell keeps serving meanwhile. */
function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [resolve('out/cli/custody.mjs'), '--vault', h.vaultDir, ...args], { env: { ...process.env, CUSTODY_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', fail);
    p.on('close', (status) => done({ status: status ?? -1, stdout, stderr }));
  });
}

async function call<T>(method: string, body: unknown): Promise<T> {
  const a = answerOf(await h.call(method, body));
  if (!a.ok) throw new Error(`${method}: ${a.error?.code} ${a.error?.message}`);
  return a.value as T;
}

/** Asks until the answer satisfies `ok` (each search also looks for other processes' commits). */
async function until(query: object, ok: (r: SearchResult) => boolean): Promise<SearchResult> {
  for (;;) {
    const r = await call<SearchResult>('records.search', query);
    if (r.indexReady && ok(r)) return r;
    await new Promise((r) => setImmediate(r));
  }
}

test("the app's search and listing follow the CLI's writes in another process, and the CLI's search the app's", { timeout: 300_000 }, async () => {
  await call('vault.unlock', { password: PASSWORD });
  const mine = await call<{ id: string }>('records.create', { kind: 'note', title: 'written in the app', body: 'lighthouse keeper' });
  await until({ text: 'lighthouse' }, (r) => r.total === 1);

  const added = await cli(['add', '--title', 'written by the cli', '--body', 'tidepool lighthouse']);
  expect(added.status, added.stderr).toBe(0);
  const id = added.stdout.trim();
  let r = await until({ text: 'tidepool' }, (x) => x.total === 1);
  expect(r.hits[0]!.id).toBe(id);
  r = await until({ text: 'lighthouse' }, (x) => x.total === 2);
  expect(r.hits.map((x) => x.id).sort()).toEqual([mine.id, id].sort());
  // The listing (no text) too.
  await until({ text: '' }, (x) => x.hits.some((hit) => hit.id === id));

  const edited = await cli(['edit', id, '--body', 'sandbar']);
  expect(edited.status, edited.stderr).toBe(0);
  await until({ text: 'sandbar' }, (x) => x.total === 1 && x.hits[0]!.id === id);
  await until({ text: 'tidepool' }, (x) => x.total === 0);

  for (const args of [['rm', id], ['purge', id, '--yes']]) {
    const done = await cli(args);
    expect(done.status, done.stderr).toBe(0);
  }
  await until({ text: '', deleted: 'include' }, (x) => !x.hits.some((hit) => hit.id === id));

  // The other way: the CLI's search (its own process, the persisted index) finds the app's record.
  await call('records.create', { kind: 'note', title: 'second from the app', body: 'breakwater' });
  const found = await cli(['--json', 'search', 'breakwater']);
  expect(found.status, found.stderr).toBe(0);
  expect((JSON.parse(found.stdout) as { hits: { title: string }[] }).hits.map((x) => x.title)).toEqual(['second from the app']);

  // None of this rebuilt the app's index: it was built once, at unlock.
  const status = await call<{ index: { ready: boolean; size: number } }>('vault.status', {});
  expect(status.index).toMatchObject({ ready: true, size: 2 });
});
