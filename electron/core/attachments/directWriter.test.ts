import { randomBytes } from 'node:crypto';
import { constants, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { DirectWriter, STAGE_SIZE, testingOnly } from './directWriter.ts';

// O_DIRECT is a Linux flag; elsewhere DirectWriter.over() is always null (the last test).
const linux = process.platform === 'linux';

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

/** A direct writer on `file`; fails the test where the platform should have given one. */
async function writer(): Promise<DirectWriter> {
  const w = await DirectWriter.over(file);
  if (w === null) throw new Error(`no O_DIRECT writer on ${os.tmpdir()} (a file system that refuses O_DIRECT?)`);
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

describe.runIf(linux)('DirectWriter (Linux)', () => {
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
