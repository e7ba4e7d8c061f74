import { randomBytes } from 'node:crypto';
import { constants, mkdtempSync, readFileSync, readlinkSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { DirectWriter, STAGE_SIZE, testingOnly } from './directWriter.ts';

// Why the temp folder gets no direct writer here, or null when it does: O_DIRECT is a Linux
// flag, and some file systems refuse it (the writer then falls back; blobfile.test.ts covers
// that). Where there is none, the tests that need one are skipped under a name that says why.
const noDirectWriter: string | null = await (async () => {
  if (process.platform !== 'linux') return `no O_DIRECT on ${process.platform}`;
  const probeDir = mkdtempSync(path.join(os.tmpdir(), 'custody-direct-probe-'));
  const handle = await open(path.join(probeDir, 'probe'), 'wx', 0o600);
  try {
    const w = await DirectWriter.over(handle);
    await w?.close();
    return w === null ? `the file system of ${os.tmpdir()} refuses O_DIRECT` : null;
  } finally {
    await handle.close();
    rmSync(probeDir, { recursive: true, force: true });
  }
})();

let dir: string;
let file: FileHandle;
beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'custody-direct-'));
  file = await open(path.join(dir, 'blob'), 'wx', 0o600);
});
afterEach(async () => {
  await file.close().catch(() => undefined);
  testingOnly.directWriteError = null;
  rmSync(dir, { recursive: true, force: true });
});

/** A direct writer on `file` (the probe above found one possible). */
async function writer(): Promise<DirectWriter> {
  const w = await DirectWriter.over(file);
  if (w === null) throw new Error('no direct writer, though the probe got one: are the stages still lent?');
  return w;
}

/** Whether a writer on another file would get the stages now (it gives them back at once). */
async function stagesFree(name: string): Promise<boolean> {
  const other = await open(path.join(dir, name), 'wx', 0o600);
  try {
    const w = await DirectWriter.over(other);
    await w?.close();
    return w !== null;
  } finally {
    await other.close();
  }
}

/** Open descriptors of this process that point at `target` with O_DIRECT set. */
function directDescriptorsOn(target: string): number {
  let found = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let link: string;
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (link !== target) continue;
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    if (flags !== undefined && (parseInt(flags, 8) & (constants.O_DIRECT ?? 0)) !== 0) found++;
  }
  return found;
}

/** Pieces of awkward sizes: tiny, chunk-sized, larger than a stage, ending off any boundary. */
function pieces(total: number): Buffer[] {
  const sizes = [1, 16, 16_400, STAGE_SIZE + 3, 7, STAGE_SIZE - 5];
  const out: Buffer[] = [];
  for (let left = total, i = 0; left > 0; i++) {
    const n = Math.min(left, sizes[i % sizes.length] as number);
    out.push(randomBytes(n));
    left -= n;
  }
  return out;
}

describe.runIf(noDirectWriter === null)(`DirectWriter${noDirectWriter === null ? '' : ` (skipped: ${noDirectWriter})`}`, () => {
  // More stages than the pool holds (backpressure), an exact stage, one byte, nothing.
  test.each([0, 1, STAGE_SIZE, 6 * STAGE_SIZE + 4097])('writes %i bytes exactly, padding trimmed, through an O_DIRECT descriptor', async (total) => {
    const w = await writer();
    const target = path.join(dir, 'blob');
    expect(directDescriptorsOn(target)).toBe(1);
    const data = pieces(total);
    for (const p of data) await w.push([p]);
    await w.finish();
    await w.close();
    expect(directDescriptorsOn(target)).toBe(0);
    expect(statSync(target).size).toBe(total);
    expect(readFileSync(target).equals(Buffer.concat(data))).toBe(true);
  });

  test('the direct descriptor is the open file itself: a link a folder writer swaps in at its name is never followed', async () => {
    const target = path.join(dir, 'blob');
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'untouched');
    // After the exclusive create, someone with write access to the folder moves the file away
    // and puts a link to their victim at its name, before the direct descriptor is opened.
    renameSync(target, path.join(dir, 'moved'));
    symlinkSync(victim, target);
    const w = await writer();
    const data = pieces(STAGE_SIZE + 10);
    await w.push(data);
    await w.finish();
    await w.close();
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(readFileSync(path.join(dir, 'moved')).equals(Buffer.concat(data))).toBe(true);
  });

  test('a file system that refuses the direct writes gets the same bytes through the page cache', async () => {
    testingOnly.directWriteError = 'EINVAL';
    const w = await writer();
    const data = pieces(3 * STAGE_SIZE + 100);
    await w.push(data);
    await w.finish();
    await w.close();
    const target = path.join(dir, 'blob');
    expect(statSync(target).size).toBe(3 * STAGE_SIZE + 100);
    expect(readFileSync(target).equals(Buffer.concat(data))).toBe(true);
  });

  test('the stages go to one writer at a time; the next one gets them back after close', async () => {
    const first = await writer();
    expect(await stagesFree('other')).toBe(false);
    await first.finish();
    await first.close();
    expect(await stagesFree('again')).toBe(true);
  });

  test('a failing write surfaces on a later push or in finish, and the stages still come back', async () => {
    testingOnly.directWriteError = 'EIO';
    const w = await writer();
    const outcome = (async () => {
      for (let i = 0; i < 8; i++) await w.push([randomBytes(STAGE_SIZE)]);
      await w.finish();
    })();
    await expect(outcome).rejects.toThrow(/EIO/);
    await w.settle();
    await w.close();
    expect(statSync(path.join(dir, 'blob')).size).toBe(0);
    testingOnly.directWriteError = null;
    expect(await stagesFree('again')).toBe(true);
  });
});

test('without O_DIRECT (macOS, Windows, or turned off) there is no direct writer', async () => {
  const enabled = testingOnly.enabled;
  testingOnly.enabled = false;
  try {
    expect(await DirectWriter.over(file)).toBeNull();
  } finally {
    testingOnly.enabled = enabled;
  }
});

test('where no WebAssembly memory can be made (node --jitless) there is no direct writer, and nothing throws', async () => {
  vi.resetModules();
  vi.stubGlobal('WebAssembly', undefined);
  try {
    // A fresh module: its stages were never made.
    const fresh = await import('./directWriter.ts');
    expect(await fresh.DirectWriter.over(file)).toBeNull();
  } finally {
    vi.unstubAllGlobals();
  }
});
