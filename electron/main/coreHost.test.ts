// CoreHost over a real core worker thread (out/cli/coreWorker.mjs, built from
// electron/core/api/worker.ts by vitest's global setup) and a real vault: the messages of
// core/api/protocol.ts, including the dialog methods' 'plan' and 'call-with-files'. The worker
// asks main for nothing: a dialog method that came down with its path simply answers.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { settingsFileFor } from '../core/api/settings.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { Custody } from '../core/custody.ts';
import { PASSWORD, tempDir } from '../core/testing/tempVault.ts';
import { CoreHost } from './coreHost.ts';

const WORKER = resolve('out/cli/coreWorker.mjs');
let root: string;
let core: CoreHost;

beforeAll(async () => {
  if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: vitest's global setup builds it (vite.cli.config.ts)`);
  root = tempDir('custody-corehost-');
  const vaultDir = join(root, 'vault');
  await Custody.create(vaultDir, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'tester' });
  core = new CoreHost({ workerFile: pathToFileURL(WORKER), vaultDir, settingsFile: settingsFileFor(vaultDir), shell: 'electron', appVersion: 'test', nativeDialogs: true });
});
afterAll(async () => {
  await core?.close();
  rmSync(root, { recursive: true, force: true });
});

test('a dialog method is planned, then called with the path main chose; the worker never asks main for a dialog', async () => {
  expect(await core.call('app.info', {})).toMatchObject({ ok: true, value: { shell: 'electron', nativeDialogs: true } });
  // Locked: refused at the plan, before any dialog.
  expect(await core.plan('attachments.addFromDialog', { recordId: '0190f3a2-7b1c-7def-8a12-3456789abcde' })).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
  expect(await core.call('vault.unlock', { password: PASSWORD })).toMatchObject({ ok: true });
  const rec = (await core.call('records.create', { kind: 'note', title: 'worker' })) as { ok: true; value: { id: string } };
  expect(await core.plan('attachments.addFromDialog', { recordId: rec.value.id })).toEqual({ ok: true, value: { dialog: 'openFiles', cancelled: [] } });
  const src = join(root, 'evidence.txt');
  writeFileSync(src, 'field notes');
  const added = await core.callWithFiles('attachments.addFromDialog', { recordId: rec.value.id, paths: [src] });
  expect(added).toMatchObject({ ok: true, value: [{ name: 'evidence.txt', size: 11 }] });
  const id = (added as { value: { id: string }[] }).value[0]!.id;
  expect(await core.plan('attachments.saveToDialog', { id })).toEqual({ ok: true, value: { dialog: 'saveFile', defaultName: 'evidence.txt', cancelled: { saved: false } } });
  const dest = join(root, 'saved.txt');
  expect(await core.callWithFiles('attachments.saveToDialog', { id, path: dest })).toEqual({ ok: true, value: { saved: true } });
  expect(readFileSync(dest, 'utf8')).toBe('field notes');
  // Called as the renderer would (no path), the method does not reach for a dialog: it refuses.
  expect(await core.call('attachments.addFromDialog', { recordId: rec.value.id })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  // A relative path from anyone is refused by core's own check.
  expect(await core.callWithFiles('attachments.saveToDialog', { id, path: 'saved.txt' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
});
