// The search index on disk, sealed (docs/architecture.md, "Search index"). Two files in the
// vault folder:
//   search-index        the whole index as of change counter N (rewritten atomically)
//   search-index.delta  an append-only list of frames, each the records changed between two
//                       counters (their summaries and text, or that they are gone)
// Both are AES-256-GCM under a key derived from the vault key (HKDF-SHA-256, salt = vault id),
// with the header (format, kind, vault id, counter) as associated data: nothing is readable
// without the password, and a file of another vault, of another format version, cut short or
// changed in any byte does not open. Such a file is never trusted: the caller rebuilds.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomicFile.ts';
import { wipe } from '../crypto/keys.ts';
import type { Content } from '../records/codec.ts';
import type { RecordSummary } from '../../shared/records.ts';

export const INDEX_FILE = 'search-index';
export const DELTA_FILE = 'search-index.delta';
/**
 * Raise when the layout of either file changes: an index of another version is rebuilt.
 * 3: filter columns, and per slot the rest of its summary as bytes (1 held summaries as one
 * JSON array; 2, briefly, whole summaries per slot).
 */
export const INDEX_FORMAT = 3;
const MAGIC = Buffer.from('CUSTODY-SEARCH-INDEX\n', 'ascii');
const KIND_BASE = 1;
const KIND_DELTA = 2;
const NONCE = 12;
/** How long readBaseSliced works before it lets other work in. */
const SLICE_MS = 10;
const TAG = 16;

/** Why a persisted index was not used (tests and logs name it; never its content). */
export class IndexFileError extends Error {
  constructor(readonly reason: 'missing' | 'format' | 'foreign' | 'damaged') {
    super(`search index file ${reason}`);
  }
}

/** The key that seals the index files: derived from the vault key, for this vault only. */
export function indexKey(vaultKey: Buffer, vaultId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', vaultKey, Buffer.from(vaultId, 'utf8'), 'custody/search-index/v1', 32));
}

function header(kind: number, vaultId: string, counter: number, anchor: string): Buffer {
  const id = Buffer.from(vaultId, 'utf8');
  const a = Buffer.from(anchor, 'utf8');
  const fixed = Buffer.alloc(2 + 1 + 1 + 8 + 1);
  fixed.writeUInt16BE(INDEX_FORMAT, 0);
  fixed.writeUInt8(kind, 2);
  fixed.writeUInt8(id.length, 3);
  fixed.writeDoubleBE(counter, 4);
  fixed.writeUInt8(a.length, 12);
  return Buffer.concat([MAGIC, fixed, id, a]);
}

interface Header {
  kind: number;
  vaultId: string;
  counter: number;
  anchor: string;
  length: number;
}

function readHeader(buf: Buffer): Header {
  if (buf.length < MAGIC.length + 13 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new IndexFileError('damaged');
  let p = MAGIC.length;
  if (buf.readUInt16BE(p) !== INDEX_FORMAT) throw new IndexFileError('format');
  const kind = buf.readUInt8(p + 2);
  const idLength = buf.readUInt8(p + 3);
  const counter = buf.readDoubleBE(p + 4);
  const anchorLength = buf.readUInt8(p + 12);
  p += 13;
  if (buf.length < p + idLength + anchorLength) throw new IndexFileError('damaged');
  const vaultId = buf.subarray(p, p + idLength).toString('utf8');
  const anchor = buf.subarray(p + idLength, p + idLength + anchorLength).toString('utf8');
  return { kind, vaultId, counter, anchor, length: p + idLength + anchorLength };
}

/**
 * Opens an index file only if it is a regular file of its own: a link is not followed out of the
 * vault folder, and a FIFO planted at its name neither blocks the open nor is read.
 */
function openRegular(file: string, flags: number): number | null {
  let fd: number;
  try {
    fd = openSync(file, flags | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0), 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new IndexFileError('damaged');
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new IndexFileError('damaged');
  }
  return fd;
}

function readAll(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const buf = Buffer.alloc(size);
  let done = 0;
  while (done < size) {
    const n = readSync(fd, buf, done, size - done, done);
    if (n <= 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

function seal(key: Buffer, aad: Buffer, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

function open(key: Buffer, aad: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < NONCE + TAG) throw new IndexFileError('damaged');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    const body = decipher.update(sealed.subarray(NONCE, sealed.length - TAG));
    const rest = decipher.final();
    // GCM is a stream cipher: final() gives nothing more, and copying tens of MiB is not free.
    return rest.length === 0 ? body : Buffer.concat([body, rest]);
  } catch {
    throw new IndexFileError('damaged');
  }
}

export interface BaseIndex {
  counter: number;
  /** The record whose change had number `counter` when the index was written ('' at 0). */
  anchor: string;
  bytes: Buffer;
}

/** Writes the whole index atomically, and starts an empty delta beside it. */
export function writeBase(dir: string, key: Buffer, vaultId: string, base: { counter: number; anchor: string; bytes: Uint8Array }): number {
  const h = header(KIND_BASE, vaultId, base.counter, base.anchor);
  const data = Buffer.concat([h, seal(key, h, base.bytes)]);
  writeFileAtomic(join(dir, INDEX_FILE), data);
  // Frames of the old delta are all older than this index: start again (a frame another process
  // appends to the old file meanwhile is lost, and its changes are read from the database).
  writeFileAtomic(join(dir, DELTA_FILE), header(KIND_DELTA, vaultId, 0, ''));
  return data.length;
}

/** Reads and opens the whole index; throws IndexFileError saying why it cannot be used. */
export function readBase(dir: string, key: Buffer, vaultId: string): BaseIndex {
  const slices = baseSlices(dir, key, vaultId);
  for (;;) {
    const r = slices.next();
    if (r.done) return r.value;
  }
}

/**
 * readBase in slices of a few ms, letting waiting work in between: the app loads the index right
 * after unlock, and its first list page (answered from the database meanwhile) must not wait for
 * tens of MiB to be read and decrypted.
 */
export async function readBaseSliced(dir: string, key: Buffer, vaultId: string): Promise<BaseIndex> {
  const slices = baseSlices(dir, key, vaultId);
  for (;;) {
    const r = slices.next();
    if (r.done) return r.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** From this size (about 200k records) a decrypted index is kept in a SharedArrayBuffer. */
export const SHARED_FROM = 64 * 1024 * 1024;

/** Reading and decrypting the whole index; yields every SLICE_MS. */
function* baseSlices(dir: string, key: Buffer, vaultId: string): Generator<void, BaseIndex> {
  const file = join(dir, INDEX_FILE);
  const fd = openRegular(file, constants.O_RDONLY);
  if (fd === null) throw new IndexFileError('missing');
  try {
    // Decrypted in chunks into one buffer: the sealed copy is never in memory whole (tens of MiB
    // less at the peak of a `custody search`).
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 1024));
    readSync(fd, head, 0, head.length, 0);
    const h = readHeader(head);
    if (h.kind !== KIND_BASE) throw new IndexFileError('damaged');
    if (h.vaultId !== vaultId) throw new IndexFileError('foreign');
    const bodyLength = size - h.length - NONCE - TAG;
    if (bodyLength < 0) throw new IndexFileError('damaged');
    const nonce = Buffer.alloc(NONCE);
    const tag = Buffer.alloc(TAG);
    readSync(fd, nonce, 0, NONCE, h.length);
    readSync(fd, tag, 0, TAG, size - TAG);
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(head.subarray(0, h.length));
    decipher.setAuthTag(tag);
    // A big index goes into shared memory, so that a helper thread can read its postings without
    // a copy (unionThread.ts).
    const out = bodyLength >= SHARED_FROM ? Buffer.from(new SharedArrayBuffer(bodyLength)) : Buffer.allocUnsafe(bodyLength);
    const chunk = Buffer.allocUnsafe(1 << 20);
    let done = 0;
    let sliceStart = performance.now();
    while (done < bodyLength) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, bodyLength - done), h.length + NONCE + done);
      if (n <= 0) throw new IndexFileError('damaged');
      const plain = decipher.update(chunk.subarray(0, n));
      plain.copy(out, done);
      done += n;
      if (performance.now() - sliceStart > SLICE_MS) {
        yield;
        sliceStart = performance.now();
      }
    }
    try {
      decipher.final();
    } catch {
      out.fill(0);
      throw new IndexFileError('damaged');
    }
    return { counter: h.counter, anchor: h.anchor, bytes: out };
  } finally {
    closeSync(fd);
  }
}

/** One frame of the delta: what changed between two counters, as it was after `to`. */
export interface DeltaFrame {
  from: number;
  to: number;
  /**
   * The record whose change had number `to` when the frame was written: the frame's stamp, checked
   * like the whole index's, so frames of a database since put back by an older copy are not applied.
   */
  anchor?: string;
  upserts: { summary: RecordSummary; content: Content }[];
  /** Purged records. */
  removed: string[];
  /** Records that failed as TAMPERED: out of the index, reported (IndexKeeper.leftOut). */
  tampered: string[];
}

/** Appends a frame to the delta (one write; no fsync: a lost frame is re-read from the database). */
export function appendFrame(dir: string, key: Buffer, vaultId: string, frame: DeltaFrame): number {
  const file = join(dir, DELTA_FILE);
  const h = header(KIND_DELTA, vaultId, 0, '');
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st?.isFile()) writeFileAtomic(file, h);
  const sealed = seal(key, h, Buffer.from(JSON.stringify(frame), 'utf8'));
  const record = Buffer.alloc(4 + sealed.length);
  record.writeUInt32BE(sealed.length, 0);
  sealed.copy(record, 4);
  const fd = openRegular(file, constants.O_WRONLY | constants.O_APPEND);
  if (fd === null) throw new IndexFileError('missing');
  try {
    writeSync(fd, record);
  } finally {
    closeSync(fd);
  }
  return record.length;
}

/**
 * The frames of the delta in file order, up to the first that does not open (cut short, damaged,
 * another vault's): the changes after it are read from the database instead.
 */
export function readFrames(dir: string, key: Buffer, vaultId: string): { frames: DeltaFrame[]; damaged: boolean; bytes: number } {
  const file = join(dir, DELTA_FILE);
  let fd: number | null;
  try {
    fd = openRegular(file, constants.O_RDONLY);
  } catch {
    return { frames: [], damaged: true, bytes: 0 };
  }
  if (fd === null) return { frames: [], damaged: false, bytes: 0 };
  let buf: Buffer;
  try {
    buf = readAll(fd);
  } finally {
    closeSync(fd);
  }
  const frames: DeltaFrame[] = [];
  let h: Header;
  try {
    h = readHeader(buf);
    if (h.kind !== KIND_DELTA || h.vaultId !== vaultId) return { frames, damaged: true, bytes: buf.length };
  } catch {
    return { frames, damaged: true, bytes: buf.length };
  }
  const aad = buf.subarray(0, h.length);
  let p = h.length;
  while (p < buf.length) {
    if (p + 4 > buf.length) return { frames, damaged: true, bytes: buf.length };
    const n = buf.readUInt32BE(p);
    if (p + 4 + n > buf.length) return { frames, damaged: true, bytes: buf.length };
    try {
      frames.push(JSON.parse(open(key, aad, buf.subarray(p + 4, p + 4 + n)).toString('utf8')) as DeltaFrame);
    } catch {
      return { frames, damaged: true, bytes: buf.length };
    }
    p += 4 + n;
  }
  return { frames, damaged: false, bytes: buf.length };
}

/** The delta's size in bytes (0 when absent). */
export function deltaSize(dir: string): number {
  const file = join(dir, DELTA_FILE);
  return existsSync(file) ? statSync(file).size : 0;
}

/**
 * A vault key rotation (keys/rewrap.ts): the index and its delta sealed again under the new vault
 * key's index key, so the retired key opens nothing here. Files that do not open under the old
 * key are removed (the next unlock rebuilds). Returns how many sealed parts were re-sealed.
 */
export function resealIndexFiles(dir: string, vaultId: string, oldVk: Buffer, newVk: Buffer): number {
  const from = indexKey(oldVk, vaultId);
  const to = indexKey(newVk, vaultId);
  try {
    let base: BaseIndex;
    try {
      base = readBase(dir, from, vaultId);
    } catch {
      for (const f of [INDEX_FILE, DELTA_FILE]) rmSync(join(dir, f), { force: true });
      return 0;
    }
    const { frames } = readFrames(dir, from, vaultId);
    writeBase(dir, to, vaultId, base);
    base.bytes.fill(0);
    for (const f of frames) appendFrame(dir, to, vaultId, f);
    return 1 + frames.length;
  } finally {
    wipe(from, to);
  }
}
