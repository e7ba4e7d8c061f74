// Plaintext that must pass through a file for core's streaming APIs (bytes the user dropped,
// an attachment opened in the page) lives only in a fresh 0700 directory, as a 0600 file,
// and is deleted as soon as the call ends, whatever happens.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function withPrivateDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'custody-io-'));
  try {
    await chmod(dir, 0o700);
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes bytes to a private temp file, runs `fn` on its path, then deletes it. */
export function withPrivateFile<T>(data: Uint8Array, fn: (path: string) => Promise<T>): Promise<T> {
  return withPrivateDir(async (dir) => {
    const path = join(dir, 'data');
    await writeFile(path, data, { mode: 0o600, flag: 'wx' });
    return fn(path);
  });
}
