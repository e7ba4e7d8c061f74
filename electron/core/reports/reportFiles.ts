// Reads a report (folder or zip) that may be hostile into name -> bytes, within limits: how
// many entries, how large each file and all of them together may be (enforced on the bytes
// actually read or inflated, never on what a header claims), and only regular files: no
// symbolic links, FIFOs, devices or sockets, no absolute or climbing ('..') paths, no name
// twice. Zips are parsed here (central directory, then each local header) rather than with a
// general unzip, which would inflate everything first and hide the entries' file types.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

export interface ReportLimits {
  /** Files and folders in the report (a report has 7 to 9 files). */
  maxEntries: number;
  /** Bytes of one file once read or inflated. */
  maxFileBytes: number;
  /** Bytes of all files together, and of the zip itself. */
  maxTotalBytes: number;
  /** Folder nesting. */
  maxDepth: number;
}

// A file above 512 MiB could not be checked anyway: it must become one JavaScript string.
export const DEFAULT_REPORT_LIMITS: ReportLimits = { maxEntries: 64, maxFileBytes: 512 * 1024 * 1024, maxTotalBytes: 1024 * 1024 * 1024, maxDepth: 4 };

/** The report breaks a limit or holds something a report never does: nothing more is read. */
export class ReportRejected extends Error {}

const size = (n: number): string => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toLocaleString('en-GB', { maximumFractionDigits: 1 })} MiB` : `${n.toLocaleString('en-GB')} bytes`);

/** Why a path inside a report is refused, or undefined when it is a plain relative path. */
export function pathProblem(name: string): string | undefined {
  if (name === '') return 'an empty name';
  if (name.includes('\0')) return 'a NUL byte in its name';
  if (name.includes('\\')) return 'a backslash in its name (absolute or climbing paths are not allowed)';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  const parts = name.replace(/\/$/, '').split('/');
  if (parts.includes('..')) return "a path that climbs out of the report ('..')";
  if (parts.some((p) => p === '' || p === '.')) return 'an empty or "." path segment';
  return undefined;
}

const KIND_NAMES: Record<number, string> = {
  [0o120000]: 'a symbolic link',
  [0o010000]: 'a FIFO (named pipe)',
  [0o020000]: 'a character device',
  [0o060000]: 'a block device',
  [0o140000]: 'a socket',
};

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

class Budget {
  entries = 0;
  total = 0;
  constructor(
    readonly limits: ReportLimits,
    readonly where: string,
  ) {}
  entry(): void {
    if (++this.entries > this.limits.maxEntries) throw new ReportRejected(`${this.where} holds more than ${this.limits.maxEntries} entries, the most a report may hold (entry-count limit)`);
  }
  /** Checks a file's size against both limits (before reading, and again on what was read). */
  bytes(name: string, n: number, counted = false): void {
    if (n > this.limits.maxFileBytes) throw new ReportRejected(`${name} is larger than ${size(this.limits.maxFileBytes)}, the most one file of a report may hold (file-size limit)`);
    if (!counted && this.total + n > this.limits.maxTotalBytes) throw new ReportRejected(`the files of ${this.where} add up to more than ${size(this.limits.maxTotalBytes)} (total-size limit)`);
  }
  add(n: number): void {
    this.total += n;
  }
}

/** Reads a report folder or zip; throws ReportRejected naming the limit or the refused entry. */
export function readReportFiles(path: string, limits: ReportLimits = DEFAULT_REPORT_LIMITS): Map<string, Uint8Array> {
  // The path the reader named is followed; everything inside it is not.
  const st = statSync(path);
  if (st.isDirectory()) return readFolder(path, limits);
  return readZip(readRegularFile(path, limits.maxTotalBytes, 'the report zip', `the report zip is larger than ${size(limits.maxTotalBytes)} (total-size limit)`, { follow: true }), limits);
}

/**
 * A regular file's bytes, at most `max`: opened without following a link and without blocking
 * on a FIFO, then checked again on the open descriptor (it may have been swapped since lstat).
 */
function readRegularFile(path: string, max: number, name: string, tooBig: string, o: { expect?: Stats; follow?: boolean } = {}): Buffer {
  const { expect } = o;
  const fd = openSync(path, constants.O_RDONLY | (o.follow ? 0 : (constants.O_NOFOLLOW ?? 0)) | (constants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ReportRejected(`${name} is ${kindOf(st)}; a report holds only regular files`);
    if (expect && (st.ino !== expect.ino || st.dev !== expect.dev)) throw new ReportRejected(`${name} was replaced while it was being read`);
    if (st.size > max) throw new ReportRejected(tooBig);
    // Read until end of file, never past the limit (the file may grow after fstat).
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, max + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > max) throw new ReportRejected(tooBig);
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function readFolder(root: string, limits: ReportLimits): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const budget = new Budget(limits, 'the report folder');
  const walk = (dir: string, rel: string, depth: number) => {
    if (depth > limits.maxDepth) throw new ReportRejected(`${rel} is nested more than ${limits.maxDepth} folders deep (nesting limit)`);
    for (const entry of readdirSync(dir)) {
      budget.entry();
      const path = join(dir, entry);
      const name = rel ? `${rel}/${entry}` : entry;
      const st = lstatSync(path);
      if (st.isDirectory()) walk(path, name, depth + 1);
      else if (!st.isFile()) throw new ReportRejected(`${name} is ${kindOf(st)}; a report holds only regular files`);
      else {
        budget.bytes(name, st.size);
        const bytes = readRegularFile(path, limits.maxFileBytes, name, `${name} is larger than ${size(limits.maxFileBytes)}, the most one file of a report may hold (file-size limit)`, { expect: st });
        budget.bytes(name, bytes.length);
        budget.add(bytes.length);
        files.set(name, bytes);
      }
    }
  };
  walk(root, '', 0);
  return files;
}

interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  /** As the central directory declares it: a bound the inflated bytes must meet exactly. */
  declaredSize: number;
  localOffset: number;
  directory: boolean;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function readZip(zip: Buffer, limits: ReportLimits): Map<string, Uint8Array> {
  const where = 'the report zip';
  const bad = (why: string) => new ReportRejected(`${where} is not a well-formed zip: ${why}`);
  // End of central directory: 22 bytes, then a comment of up to 65535; the last one that ends
  // exactly at the end of the file.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD && i + 22 + zip.readUInt16LE(i + 20) === zip.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  if (zip.readUInt16LE(eocd + 4) !== 0 || zip.readUInt16LE(eocd + 6) !== 0 || zip.readUInt16LE(eocd + 8) !== count) throw bad('it spans several disks');
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw new ReportRejected(`${where} is a ZIP64 archive; a report is never large enough to need one`);
  const budget = new Budget(limits, where);
  if (count > limits.maxEntries) throw new ReportRejected(`${where} holds ${count.toLocaleString('en-GB')} entries; a report may hold at most ${limits.maxEntries} (entry-count limit)`);
  if (cdOffset + cdSize > eocd) throw bad('its central directory lies outside the file');

  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let declaredTotal = 0;
  for (let at = cdOffset, i = 0; i < count; i++) {
    if (at + 46 > cdOffset + cdSize || zip.readUInt32LE(at) !== CENTRAL) throw bad(`central directory entry ${i + 1} is damaged`);
    budget.entry();
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const declaredSize = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const external = zip.readUInt32LE(at + 38);
    const localOffset = zip.readUInt32LE(at + 42);
    if (next > cdOffset + cdSize) throw bad(`central directory entry ${i + 1} runs past the directory`);
    const raw = zip.subarray(at + 46, at + 46 + nameLength);
    let name: string;
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new ReportRejected(`${where}: entry ${i + 1} has a name that is not UTF-8`);
    }
    const problem = pathProblem(name);
    if (problem) throw new ReportRejected(`${where}: ${JSON.stringify(name)} has ${problem}`);
    // Unix file type in the high half of the external attributes (any host may set it).
    const type = (external >>> 16) & 0o170000;
    if (KIND_NAMES[type]) throw new ReportRejected(`${where}: ${name} is ${KIND_NAMES[type]}; a report holds only regular files`);
    const directory = name.endsWith('/') || type === 0o040000 || (external & 0x10) !== 0;
    const key = name.replace(/\/$/, '');
    if (names.has(key)) throw new ReportRejected(`${where} holds two entries named ${name}`);
    names.add(key);
    if (flags & 0x41) throw new ReportRejected(`${where}: ${name} is encrypted`);
    if (!directory) {
      if (method !== 0 && method !== 8) throw new ReportRejected(`${where}: ${name} uses compression method ${method} (only stored and deflate are read)`);
      budget.bytes(name, declaredSize);
      declaredTotal += declaredSize;
      if (declaredTotal > limits.maxTotalBytes) throw new ReportRejected(`the files of ${where} add up to more than ${size(limits.maxTotalBytes)} (total-size limit)`);
    } else if (declaredSize !== 0 || compressedSize !== 0) throw new ReportRejected(`${where}: the folder entry ${name} has content`);
    entries.push({ name, method, crc, compressedSize, declaredSize, localOffset, directory });
    at = next;
  }

  // Each entry's data must lie before the central directory, after the previous entry's:
  // overlapping entries (one compressed kernel read many times) are a known bomb.
  const files = new Map<string, Uint8Array>();
  let end = 0;
  for (const e of [...entries].sort((a, b) => a.localOffset - b.localOffset)) {
    const at = e.localOffset;
    if (at < end || at + 30 > cdOffset || zip.readUInt32LE(at) !== LOCAL) throw bad(`the local header of ${e.name} is missing or overlaps another entry`);
    const nameLength = zip.readUInt16LE(at + 26);
    if (!zip.subarray(at + 30, at + 30 + nameLength).equals(Buffer.from(e.name, 'utf8'))) throw bad(`the local header of ${e.name} names another file`);
    const start = at + 30 + nameLength + zip.readUInt16LE(at + 28);
    end = start + e.compressedSize;
    if (end > cdOffset) throw bad(`the data of ${e.name} runs past the end of the entries`);
    if (e.directory) continue;
    const data = zip.subarray(start, end);
    let bytes: Buffer;
    if (e.method === 0) {
      if (data.length !== e.declaredSize) throw bad(`${e.name} is stored with ${data.length} bytes but declares ${e.declaredSize}`);
      bytes = data;
    } else {
      try {
        // Inflation stops as soon as it passes the declared size, which is itself within the
        // limits: a bomb that declares little is stopped there, one that declares much was refused above.
        bytes = inflateRawSync(data, { maxOutputLength: Math.max(1, e.declaredSize) });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)
          throw new ReportRejected(`${where}: ${e.name} inflates to more than the ${size(e.declaredSize)} its header declares (a zip bomb?); inflation was stopped there`);
        throw new ReportRejected(`${where}: ${e.name} does not inflate: ${(err as Error).message}`);
      }
      if (bytes.length !== e.declaredSize) throw new ReportRejected(`${where}: ${e.name} inflates to ${size(bytes.length)}, not the ${size(e.declaredSize)} its header declares`);
    }
    if ((crc32(bytes) >>> 0) !== e.crc) throw new ReportRejected(`${where}: ${e.name} is damaged (its CRC-32 does not match)`);
    budget.bytes(e.name, bytes.length);
    budget.add(bytes.length);
    files.set(e.name, bytes);
  }
  return files;
}
