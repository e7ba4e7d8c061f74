// A minimal POSIX ustar writer and streaming reader: the backup container. Tar, not a format of
// our own, so an unencrypted backup can be listed and unpacked with the system's `tar` (its
// manifest is then checked with `custody backup verify`). Only regular files, names of at most
// 100 bytes, sizes below 8 GiB; anything else in a file we read is refused.
import { CustodyError } from '../../shared/errors.ts';

const BLOCK = 512;
export const MAX_ENTRY_SIZE = 8 ** 11 - 1;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** The 512-byte header of a regular file. */
export function tarHeader(name: string, size: number, mtime: number): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 100 || name.includes('\0')) throw new CustodyError('INTERNAL', `backup entry name too long: ${name}`);
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_ENTRY_SIZE) throw new CustodyError('BAD_REQUEST', `a file of ${size} bytes is too large for a backup entry`);
  const h = Buffer.alloc(BLOCK, 0);
  nameBytes.copy(h, 0);
  h.write(octal(0o600, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtime / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

export const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0);
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK, 0);

export interface TarEntry {
  name: string;
  size: number;
  /** The content, in order; must be consumed (or drained) before the next entry is read. */
  body: AsyncGenerator<Buffer>;
}

function parseHeader(h: Buffer): { name: string; size: number } | null {
  if (h.every((b) => b === 0)) return null;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  const field = (off: number, len: number) => h.subarray(off, off + len).toString('ascii').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  const stored = parseInt(field(148, 8), 8);
  if (stored !== sum || h.subarray(257, 262).toString('ascii') !== 'ustar') throw new CustodyError('TAMPERED', 'the backup file is damaged: a tar header is not valid');
  const type = String.fromCharCode(h[156]!);
  if (type !== '0' && type !== '\0') throw new CustodyError('TAMPERED', 'the backup file holds something other than regular files');
  const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
  // tar reads a name as prefix/name: a prefix (never written here) would make tar unpack the
  // entry elsewhere than the name checked against the manifest.
  if (h.subarray(345, 500).some((b) => b !== 0)) throw new CustodyError('TAMPERED', `the backup holds an entry no backup has (${JSON.stringify(name)} with a path prefix); it was not made by custody or was altered`);
  const size = parseInt(field(124, 12), 8);
  if (!Number.isSafeInteger(size) || size < 0) throw new CustodyError('TAMPERED', 'the backup file is damaged: an entry size is not valid');
  return { name, size };
}

/** Reads exactly n bytes at a time from a chunk stream. */
class ByteReader {
  #buf: Buffer[] = [];
  #len = 0;
  readonly #it: AsyncIterator<Uint8Array>;
  #done = false;
  constructor(src: AsyncIterable<Uint8Array>) {
    this.#it = src[Symbol.asyncIterator]();
  }
  async #fill(n: number): Promise<void> {
    while (this.#len < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else if (r.value.length) {
        const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        this.#buf.push(b);
        this.#len += b.length;
      }
    }
  }
  /** Up to `max` bytes (fewer only at the end of the stream). */
  async read(max: number): Promise<Buffer> {
    await this.#fill(1);
    if (this.#len === 0) return Buffer.alloc(0);
    const first = this.#buf[0]!;
    if (first.length <= max) {
      this.#buf.shift();
      this.#len -= first.length;
      return first;
    }
    this.#buf[0] = first.subarray(max);
    this.#len -= max;
    return first.subarray(0, max);
  }
  async exactly(n: number): Promise<Buffer> {
    await this.#fill(n);
    if (this.#len < n) throw new CustodyError('TAMPERED', 'the backup file is truncated (it ends in the middle of an entry): it is not a complete backup');
    const all = Buffer.concat(this.#buf);
    this.#buf = all.length > n ? [all.subarray(n)] : [];
    this.#len = all.length - n;
    return all.subarray(0, n);
  }
  async atEnd(): Promise<boolean> {
    await this.#fill(1);
    return this.#len === 0;
  }
}

/** The entries of a tar stream, in order. A stream that ends without the end marker is refused. */
export async function* readTar(src: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(src);
  for (;;) {
    if (await r.atEnd()) throw new CustodyError('TAMPERED', 'the backup file is truncated (no end-of-archive marker): it is not a complete backup');
    const h = parseHeader(await r.exactly(BLOCK));
    if (!h) return;
    let left = h.size;
    const truncated = () => new CustodyError('TAMPERED', 'the backup file is truncated (it ends in the middle of an entry): it is not a complete backup');
    const body = (async function* () {
      while (left > 0) {
        const chunk = await r.read(Math.min(left, 1 << 20));
        if (chunk.length === 0) throw truncated();
        left -= chunk.length;
        yield chunk;
      }
    })();
    yield { name: h.name, size: h.size, body };
    // What the consumer did not read is skipped.
    while (left > 0) {
      const chunk = await r.read(Math.min(left, 1 << 20));
      if (chunk.length === 0) throw truncated();
      left -= chunk.length;
    }
    const pad = (BLOCK - (h.size % BLOCK)) % BLOCK;
    if (pad) await r.exactly(pad);
  }
}
