import { createHash, randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { closeHashThread, DIGEST_BUFFER_SIZE, HASH_THREAD_THRESHOLD, PlaintextDigest, testingOnly } from './plaintextDigest.ts';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const nextTurn = (): Promise<'pending'> => new Promise((resolve) => setImmediate(() => resolve('pending')));

// Every worker thread started meanwhile (Node reports each one, once it runs, with the process
// 'worker' event), and a promise of its exit.
let started: Array<{ worker: Worker; exit: Promise<number> }>;
const onWorker = (worker: Worker): void => void started.push({ worker, exit: new Promise((resolve) => worker.once('exit', resolve)) });
const idleMs = testingOnly.idleMs;
beforeEach(async () => {
  // Each test starts without a hashing thread, so it sees the one it starts.
  await closeHashThread();
  started = [];
  process.on('worker', onWorker);
});
async function firstWorker(): Promise<{ worker: Worker; exit: Promise<number> }> {
  while (started.length === 0) await nextTurn();
  return started[0] as { worker: Worker; exit: Promise<number> };
}
afterEach(() => {
  process.off('worker', onWorker);
  testingOnly.idleMs = idleMs;
});

/** The SHA-256 `digest` gives for `data` fed through it, as hex. */
async function digestOf(digest: PlaintextDigest, data: Buffer): Promise<string> {
  try {
    await feed(digest, data);
    const { size, sha256: hash } = await digest.result();
    expect(size).toBe(data.length);
    return hash.toString('hex');
  } finally {
    await digest.dispose();
  }
}

/** Feeds `data` the way blobfile does: reads into lent buffers (some short), and copied pieces. */
async function feed(digest: PlaintextDigest, data: Buffer): Promise<void> {
  const half = Math.floor(data.length / 2);
  for (let offset = 0, i = 0; offset < half; i++) {
    const buffer = await digest.acquire();
    expect(buffer.length).toBe(DIGEST_BUFFER_SIZE);
    const n = Math.min(half - offset, i % 3 === 0 ? 1000 : DIGEST_BUFFER_SIZE);
    data.copy(buffer, 0, offset, offset + n);
    digest.release(buffer.subarray(0, n));
    offset += n;
  }
  const pieces: Buffer[] = [];
  for (let offset = half; offset < data.length; offset += 16_400) pieces.push(data.subarray(offset, offset + 16_400));
  await digest.update(pieces.slice(0, 10));
  await digest.update(pieces.slice(10));
}

describe('PlaintextDigest', () => {
  test.each([
    ['inline', 1000, false],
    ['on a helper thread', HASH_THREAD_THRESHOLD, true],
  ])('%s: same size and SHA-256 as hashing in one go', async (_name, expectedSize, threaded) => {
    const data = randomBytes(5 * DIGEST_BUFFER_SIZE + 12_345);
    const digest = new PlaintextDigest(expectedSize);
    expect(digest.threaded).toBe(threaded);
    expect(await digestOf(digest, data)).toBe(sha256(data));
    await closeHashThread();
    if (threaded) await (await firstWorker()).exit;
    expect(started).toHaveLength(threaded ? 1 : 0);
  });

  test('empty input', async () => {
    for (const expectedSize of [0, HASH_THREAD_THRESHOLD]) {
      const digest = new PlaintextDigest(expectedSize);
      expect(await digest.result()).toEqual({ size: 0, sha256: createHash('sha256').digest() });
      await digest.dispose();
    }
  });

  test('memory is bounded: acquire waits while every buffer is with the thread, and resumes when one returns', async () => {
    const digest = new PlaintextDigest(HASH_THREAD_THRESHOLD);
    try {
      const held: Buffer<ArrayBuffer>[] = [];
      let waiting: Promise<Buffer<ArrayBuffer>> | undefined;
      while (waiting === undefined) {
        const next = digest.acquire();
        const got = await Promise.race([next, nextTurn()]);
        if (got === 'pending') waiting = next;
        else held.push(got);
      }
      expect(held.length).toBeGreaterThanOrEqual(4);
      expect(held.length * DIGEST_BUFFER_SIZE).toBeLessThanOrEqual(64 * 1024 * 1024);
      const first = held.shift() as Buffer<ArrayBuffer>;
      first.fill(7);
      digest.release(first);
      expect(first.length).toBe(0); // transferred to the thread
      expect((await waiting).length).toBe(DIGEST_BUFFER_SIZE);
      expect((await digest.result()).sha256.toString('hex')).toBe(sha256(Buffer.alloc(DIGEST_BUFFER_SIZE, 7)));
    } finally {
      await digest.dispose();
    }
  });

  test('dispose fails a caller still waiting for a buffer; the next digest gets the same thread and a clean hash', async () => {
    const digest = new PlaintextDigest(HASH_THREAD_THRESHOLD);
    for (;;) {
      const next = digest.acquire();
      const got = await Promise.race([next, nextTurn()]);
      if (got !== 'pending') {
        // Hashed before the file is given up: the thread must drop it.
        got.fill(1);
        digest.release(got);
        continue;
      }
      await digest.dispose();
      await expect(next).rejects.toThrow(/hashing thread was closed/);
      break;
    }
    await expect(digest.acquire()).rejects.toThrow(/closed/);
    await digest.dispose(); // twice is fine

    const data = randomBytes(3 * DIGEST_BUFFER_SIZE + 5);
    const again = new PlaintextDigest(HASH_THREAD_THRESHOLD);
    expect(again.threaded).toBe(true);
    expect(await digestOf(again, data)).toBe(sha256(data));
    expect(started).toHaveLength(1);
  });

  test('one file at a time has the thread: a second digest meanwhile hashes inline, and both are right', async () => {
    const [a, b] = [randomBytes(2 * DIGEST_BUFFER_SIZE + 1), randomBytes(DIGEST_BUFFER_SIZE + 2)];
    const first = new PlaintextDigest(HASH_THREAD_THRESHOLD);
    const second = new PlaintextDigest(HASH_THREAD_THRESHOLD);
    expect([first.threaded, second.threaded]).toEqual([true, false]);
    expect(await Promise.all([digestOf(first, a), digestOf(second, b)])).toEqual([sha256(a), sha256(b)]);
    const third = new PlaintextDigest(HASH_THREAD_THRESHOLD);
    expect(third.threaded).toBe(true);
    await third.dispose();
    expect(started).toHaveLength(1);
  });

  test('no plaintext waits in the pool: buffers come back from the thread zeroed', async () => {
    const first = new PlaintextDigest(HASH_THREAD_THRESHOLD);
    const lent = await first.acquire();
    lent.fill(0xaa);
    first.release(lent);
    await first.result();
    await first.dispose();
    const second = new PlaintextDigest(HASH_THREAD_THRESHOLD);
    try {
      // The pool hands out the buffer most recently returned: the one the first file filled.
      const reused = await second.acquire();
      expect(reused.equals(Buffer.alloc(DIGEST_BUFFER_SIZE))).toBe(true);
      second.release(reused.subarray(0, 0));
    } finally {
      await second.dispose();
    }
  });

  test('unused, the thread ends after the idle time, and the next file starts a new one', async () => {
    testingOnly.idleMs = 0;
    await digestOf(new PlaintextDigest(HASH_THREAD_THRESHOLD), randomBytes(100));
    await (await firstWorker()).exit;
    const data = randomBytes(DIGEST_BUFFER_SIZE + 3);
    expect(await digestOf(new PlaintextDigest(HASH_THREAD_THRESHOLD), data)).toBe(sha256(data));
    expect(started).toHaveLength(2);
  });

  test('a thread that dies fails the digest instead of hanging it; the next file gets a new thread', async () => {
    const digest = new PlaintextDigest(HASH_THREAD_THRESHOLD);
    try {
      const buffer = await digest.acquire();
      digest.release(buffer.subarray(0, 100));
      await (await firstWorker()).worker.terminate();
      await expect(digest.result()).rejects.toThrow(/hashing thread stopped/);
      await expect(digest.acquire()).rejects.toThrow(/hashing thread stopped/);
    } finally {
      await digest.dispose();
    }
    const data = randomBytes(DIGEST_BUFFER_SIZE + 3);
    const next = new PlaintextDigest(HASH_THREAD_THRESHOLD);
    expect(next.threaded).toBe(true);
    expect(await digestOf(next, data)).toBe(sha256(data));
    expect(started).toHaveLength(2);
  });
});
