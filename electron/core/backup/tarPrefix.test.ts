// Security review (issue 12), a hostile backup file: custody's tar reader took an entry's name from
// the 100-byte name field only, but POSIX ustar (and the system's `tar`, which docs/backup.md says
// can list and unpack a plain backup) puts "prefix/name" together from the 155-byte prefix field
// too. A backup whose custody.db entry carries a prefix verified as good while `tar` unpacks that
// entry somewhere else (here outside the folder, "../"). Custody must read names as tar does:
// an entry with a prefix is refused.
import { afterEach, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { createBackup } from './createBackup.ts';
import { verifyBackup } from './verifyBackup.ts';

let tv: TempVault | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await tv?.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Sets the ustar prefix field of the entry named `name` and fixes the header's checksum. */
function withPrefix(tar: Buffer, name: string, prefix: string): Buffer {
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.subarray(124, 136).toString('ascii'), 8);
    if (h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '') === name) {
      h.fill(0, 345, 500);
      h.write(prefix, 345, 'utf8');
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
      return tar;
    }
    off += 512 + size + ((512 - (size % 512)) % 512);
  }
  throw new Error(`no entry ${name}`);
}

test('an entry whose ustar prefix sends it elsewhere for tar is refused, not verified as good', async () => {
  tv = await tempVault();
  await tv.custody.createRecord({ kind: 'note', title: 'a record', body: 'body' });
  const dir = tempDir('custody-tarprefix-');
  dirs.push(dir);
  const good = join(dir, 'good.tar');
  await createBackup(tv.custody.vault, good);
  const hostile = join(dir, 'hostile.tar');
  writeFileSync(hostile, withPrefix(readFileSync(good), 'custody.db', '../../elsewhere'));
  // What the system's tar makes of it: the database is not at custody.db.
  const listed = execFileSync('tar', ['-tf', hostile], { encoding: 'utf8' }).split('\n');
  expect(listed).toContain('../../elsewhere/custody.db');
  expect(listed).not.toContain('custody.db');
  // Not vacuous: the genuine backup verifies.
  expect((await verifyBackup(good)).ok).toBe(true);
  const v = await verifyBackup(hostile);
  expect(v.ok).toBe(false);
  expect(v.problems[0]).toMatch(/prefix|not valid|no backup has/);
});
