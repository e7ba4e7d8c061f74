// Security review (issue 13), threat model (b), the folder writer: "a missing, damaged, foreign
// or other-format index is rebuilt, never trusted". The loader opened search-index and
// search-index.delta as whatever they were: a FIFO planted in their place blocked the opening
// thread for good (`custody search` never returned; in the app, the core worker). The attack runs
// `custody search` in another process (so a hang before the fix fails the test instead of
// stalling it) with a FIFO at each name.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempVault, PASSWORD, type TempVault } from '../testing/tempVault.ts';
import { DELTA_FILE, INDEX_FILE } from './indexFile.ts';

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
  const c = tv.custody;
  await c.indexKeeper.start();
  await c.createRecord({ kind: 'note', title: 'first record', body: 'alphaword' });
  c.indexKeeper.save();
  await c.createRecord({ kind: 'note', title: 'second record', body: 'alphaword bravoword' });
  await c.close();
});
afterEach(async () => {
  await tv.cleanup();
});

/** `custody search` in its own process; a hang ends at the (generous) timeout with no status. */
function search(word: string) {
  const r = spawnSync(process.execPath, [resolve('out/cli/custody.mjs'), '--vault', tv.dir, 'search', word, '--json'], { encoding: 'utf8', env: { ...process.env, CUSTODY_PASSWORD: PASSWORD }, timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('index files that are not regular files', { timeout: 400_000 }, () => {
  test('a FIFO at search-index and at search-index.delta: custody search answers (rebuilt), and the files are regular again', () => {
    for (const f of [INDEX_FILE, DELTA_FILE]) {
      rmSync(join(tv.dir, f), { force: true });
      execFileSync('mkfifo', ['-m', '600', join(tv.dir, f)]);
    }
    const r = search('alphaword');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('second record');
    for (const f of [INDEX_FILE, DELTA_FILE]) expect(lstatSync(join(tv.dir, f)).isFile()).toBe(true);
  });

});
