// The API is composed of areas (<area>Handlers.ts, one line each in handlers.ts): a method no
// area handles, or one two areas register, stops createCore at start instead of answering wrong.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { methods, uploads } from '../../shared/contract.ts';
import { tempDir } from '../testing/tempVault.ts';
import type { CoreArea } from './coreContext.ts';
import { fileCalls } from './fileCalls.ts';
import { composeAreas, createCore } from './handlers.ts';

const noop = async () => undefined as never;
const tableOf = (names: string[]) => Object.fromEntries(names.map((m) => [m, noop]));

test('a real core has exactly one handler for every method of the contract', async () => {
  const dir = tempDir();
  const core = createCore({ vaultDir: join(dir, 'vault'), settingsFile: join(dir, 'settings.json'), emit: () => undefined, nativeDialogs: false, shell: 'web', appVersion: 'test' });
  try {
    expect(Object.keys(core.handlers).sort()).toEqual(Object.keys(methods).sort());
  } finally {
    await core.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a method registered by two areas, or handled by none, is refused', () => {
  const all = tableOf(Object.keys(methods));
  const dialogs = tableOf(Object.keys(fileCalls));
  const complete: CoreArea = { handlers: all, planners: dialogs, fileHandlers: dialogs, uploads: tableOf(Object.keys(uploads)) };
  expect(() => composeAreas([complete])).not.toThrow();
  expect(() => composeAreas([complete, { handlers: { 'records.get': noop } }])).toThrow('two areas register records.get');
  const { 'audit.stats': _dropped, ...short } = all;
  expect(() => composeAreas([{ ...complete, handlers: short }])).toThrow('no handler for audit.stats');
  expect(() => composeAreas([{ ...complete, fileHandlers: {} }])).toThrow(/^no file handler for /);
  expect(() => composeAreas([{ ...complete, uploads: {} }])).toThrow('no upload handler for attachments.addBytes');
});
