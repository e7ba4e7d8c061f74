// Security review (issue 12): "a backup never overwrites a file" (docs/backup.md). The check was
// made once, before a write that takes seconds to minutes, and the finished file was then renamed
// over whatever had appeared at that name meanwhile (another backup to the same name, a scheduled
// one, a file the user saved). The test creates the file while the backup is being written (from
// the backup's own progress callback: no timing involved) and asserts it survives untouched and
// the backup says it could not be written under that name.
import { afterEach, expect, test } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { createBackup } from './createBackup.ts';

let tv: TempVault | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await tv?.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test('a file that appears at the backup name while the backup is written is never replaced', async () => {
  tv = await tempVault();
  await tv.custody.createRecord({ kind: 'note', title: 'a record', body: 'body' });
  const dir = tempDir('custody-backup-race-');
  dirs.push(dir);
  const out = join(dir, 'backup.tar');
  const theirs = 'another program saved this file here while the backup ran\n';
  let planted = false;
  const run = createBackup(tv.custody.vault, out, {
    onProgress: () => {
      if (planted) return;
      planted = true;
      writeFileSync(out, theirs);
    },
  });
  await expect(run).rejects.toMatchObject({ code: 'CONFLICT' });
  expect(planted).toBe(true);
  expect(readFileSync(out, 'utf8')).toBe(theirs);
  // Nothing left behind: no partial file, no staging folder.
  expect(readdirSync(dir)).toEqual(['backup.tar']);
  expect(existsSync(`${out}.partial-${process.pid}`)).toBe(false);
});
