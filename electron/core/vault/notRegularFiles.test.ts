// Security review (issue 12, "a damaged vault.json, checkpoint file or attachment: each a clear,
// specific error"), threat model (b), the folder writer: a FIFO planted at a vault file's name
// (vault.json, checkpoint.txt, unlock-attempts.json) made every command block for good at open,
// reading a pipe no one writes to, instead of saying what is wrong. The attack runs `custody list`
// in another process (so a hang before the fix fails the test instead of stalling it) and asserts
// a clear error naming the file, the file left as it is.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempVault, PASSWORD, type TempVault } from '../testing/tempVault.ts';

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
  await tv.custody.createRecord({ kind: 'note', title: 'a record', body: 'body' });
  await tv.custody.close();
});
afterEach(async () => tv.cleanup());

function list() {
  const r = spawnSync(process.execPath, [resolve('out/cli/custody.mjs'), '--vault', tv.dir, 'list'], { encoding: 'utf8', env: { ...process.env, CUSTODY_PASSWORD: PASSWORD }, timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('a FIFO in place of a vault file', { timeout: 300_000 }, () => {
  test.each(['vault.json', 'checkpoint.txt', 'unlock-attempts.json'])('%s: a clear error naming it, not a hang', (name) => {
    const file = join(tv.dir, name);
    rmSync(file, { force: true });
    execFileSync('mkfifo', ['-m', '600', file]);
    const r = list();
    expect(r.status, r.stderr).not.toBeNull();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(name);
    expect(r.stderr).toMatch(/not a regular file/);
    expect(lstatSync(file).isFIFO()).toBe(true);
  });
});
