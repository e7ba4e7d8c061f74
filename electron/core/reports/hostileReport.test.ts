// `custody verify` on a hostile report: each limit of reportFiles.ts, and the bounded reading of
// the PDF's entry list, against a crafted file. The bombs are built from one deflate block of
// zeros repeated (byte-aligned by a full flush), so a 10 GiB entry costs 10 MB to make and
// nothing to refuse.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { PDFDocument, PDFHexString, PDFName, PDFString } from 'pdf-lib';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { resignReport } from '../testing/resignReport.ts';
import { exportReport } from './export.ts';
import { readEmbeddedEntries } from './pdf/verify.ts';
import { DEFAULT_REPORT_LIMITS, ReportRejected, readReportFiles } from './reportFiles.ts';
import { verifyReport } from './verifyReport.ts';

const MiB = 1 << 20;
const ZEROS = deflateRawSync(Buffer.alloc(MiB), { finishFlush: constants.Z_FULL_FLUSH });
const FINAL = deflateRawSync(Buffer.alloc(0));
/** Raw deflate data that inflates to `mib` MiB of zeros. */
const zerosBomb = (mib: number) => Buffer.concat([...Array<Buffer>(mib).fill(ZEROS), FINAL]);

interface Crafted {
  name: string;
  /** Compressed (method 8) or stored (method 0) bytes. */
  data: Buffer;
  method?: number;
  declaredSize: number;
  crc?: number;
  /** External attributes (the high 16 bits: Unix mode). */
  external?: number;
}

/** A zip written byte by byte, so headers can say whatever a hostile file says. */
function craftZip(entries: Crafted[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method ?? 8, 8);
    local.writeUInt32LE(e.crc ?? 0, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.declaredSize, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(e.method ?? 8, 10);
    central.writeUInt32LE(e.crc ?? 0, 16);
    central.writeUInt32LE(e.data.length, 20);
    central.writeUInt32LE(e.declaredSize, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((e.external ?? 0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.data);
    centrals.push(central, name);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

const plain = (name: string, text: string, external?: number): Crafted => {
  const b = Buffer.from(text);
  return { name, data: deflateRawSync(b), declaredSize: b.length, crc: crc32(b), ...(external !== undefined ? { external } : {}) };
};

let tv: TempVault;
let scratch: string;
let report: string;
beforeAll(async () => {
  tv = await tempVault();
  await tv.custody.createRecord({ kind: 'note', title: 'one' });
  scratch = join(tv.dir, '..');
  report = join(scratch, 'report');
  await exportReport(tv.custody, { outDir: report, purpose: 'hostile input tests' });
}, 120_000);
afterAll(async () => tv.cleanup());

/** Writes a crafted zip and returns what readReportFiles (the verifier's reader) says of it. */
function rejection(name: string, zip: Buffer, limits = DEFAULT_REPORT_LIMITS): string {
  const path = join(scratch, name);
  writeFileSync(path, zip);
  try {
    readReportFiles(path, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(ReportRejected);
    return (e as Error).message;
  }
  throw new Error(`${name} was accepted`);
}

describe('custody verify on a hostile zip', () => {
  test('the bomb really inflates: 4 chunks give exactly 4 MiB of zeros', () => {
    const out = inflateRawSync(zerosBomb(4));
    expect(out.length).toBe(4 * MiB);
    expect(out.every((b) => b === 0)).toBe(true);
  });

  test('a 10 GiB bomb declaring 1 KiB is stopped while inflating, past the declared size', async () => {
    const bomb = zerosBomb(10 * 1024);
    expect(bomb.length).toBeLessThan(12 * MiB);
    const zip = craftZip([{ name: 'events.jsonl', data: bomb, declaredSize: 1024 }]);
    expect(rejection('bomb.zip', zip)).toBe('the report zip: events.jsonl inflates to more than the 1,024 bytes its header declares (a zip bomb?); inflation was stopped there');
    // And through the verifier: one failed check, nothing else read.
    const r = await verifyReport(join(scratch, 'bomb.zip'));
    expect(r.ok).toBe(false);
    expect(r.checks).toEqual([{ name: 'report files', ok: false, detail: expect.stringContaining('inflation was stopped') }]);
  });

  test('a 10 GiB bomb declaring its size is refused by the per-file limit before inflating', () => {
    const zip = craftZip([{ name: 'report.pdf', data: zerosBomb(10 * 1024), declaredSize: 0xfffffffe }]);
    expect(rejection('honest-bomb.zip', zip)).toBe('report.pdf is larger than 512 MiB, the most one file of a report may hold (file-size limit)');
  });

  test('files within the per-file limit but too large together: total-size limit', () => {
    const zip = craftZip([0, 1, 2].map((i) => ({ name: `part${i}`, data: zerosBomb(3), declaredSize: 3 * MiB, crc: crc32(Buffer.alloc(3 * MiB)) })));
    expect(rejection('total.zip', zip, { ...DEFAULT_REPORT_LIMITS, maxFileBytes: 4 * MiB, maxTotalBytes: 8 * MiB })).toBe('the files of the report zip add up to more than 8 MiB (total-size limit)');
  });

  test('too many entries: entry-count limit', () => {
    const files = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`f${i}`, new Uint8Array(0)]));
    expect(rejection('many.zip', Buffer.from(zipSync(files)))).toBe('the report zip holds 5,000 entries; a report may hold at most 64 (entry-count limit)');
  });

  test('path traversal, absolute paths and backslashes in names', () => {
    expect(rejection('climb.zip', craftZip([plain('../../.bashrc', 'x')]))).toBe(`the report zip: "../../.bashrc" has a path that climbs out of the report ('..')`);
    expect(rejection('inner-climb.zip', craftZip([plain('a/../../b', 'x')]))).toContain("climbs out of the report ('..')");
    expect(rejection('absolute.zip', craftZip([plain('/etc/cron.d/x', 'x')]))).toBe('the report zip: "/etc/cron.d/x" has an absolute path');
    expect(rejection('windows.zip', craftZip([plain('C:/Windows/x', 'x')]))).toContain('has an absolute path');
    expect(rejection('backslash.zip', craftZip([plain('..\\x', 'x')]))).toContain('a backslash in its name');
  });

  test('a symbolic link, a FIFO and a device, by their Unix mode in the external attributes', () => {
    expect(rejection('symlink.zip', craftZip([plain('verifier.vkey', '/etc/passwd', 0o120777 << 16)]))).toBe('the report zip: verifier.vkey is a symbolic link; a report holds only regular files');
    expect(rejection('fifo.zip', craftZip([plain('events.jsonl', '', 0o010644 << 16)]))).toContain('events.jsonl is a FIFO (named pipe)');
    expect(rejection('device.zip', craftZip([plain('report.pdf', '', 0o020644 << 16)]))).toContain('report.pdf is a character device');
    // fflate writes the same attributes for a link made by a real archiver.
    const zip = zipSync({ 'link': [new TextEncoder().encode('/etc/shadow'), { os: 3, attrs: 0o120777 << 16 }] });
    expect(rejection('fflate-symlink.zip', Buffer.from(zip))).toContain('link is a symbolic link');
  });

  test('the same name twice', () => {
    expect(rejection('dup.zip', craftZip([plain('manifest', 'a'), plain('manifest', 'b')]))).toBe('the report zip holds two entries named manifest');
  });

  test('two entries sharing one compressed kernel (overlapping data)', () => {
    const zip = craftZip([plain('a', 'same bytes'), plain('b', 'same bytes')]);
    // Point b's central record at a's local header.
    const cd = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 4);
    zip.writeUInt32LE(0, cd + 42);
    expect(rejection('overlap.zip', zip)).toMatch(/missing or overlaps another entry|names another file/);
  });

  test('the untouched report, as a zip, still reads', async () => {
    const zip = join(scratch, 'fine.zip');
    await exportReport(tv.custody, { outDir: zip, zip: true, purpose: 'zip' });
    expect(readReportFiles(zip).size).toBe(readdirSync(report).length);
    expect((await verifyReport(zip)).ok).toBe(true);
  });
});

describe('custody verify on a hostile folder', () => {
  const folder = (name: string) => {
    const dir = join(scratch, name);
    cpSync(report, dir, { recursive: true });
    return dir;
  };
  const refusal = async (dir: string) => {
    const r = await verifyReport(dir);
    expect(r.ok).toBe(false);
    expect(r.checks).toHaveLength(1);
    return r.checks[0]!.detail;
  };

  test('a FIFO in the folder is refused without opening it (a read would block forever)', async () => {
    const dir = folder('fifo');
    execFileSync('mkfifo', [join(dir, 'events.jsonl.fifo')]);
    expect(await refusal(dir)).toBe('events.jsonl.fifo is a FIFO (named pipe); a report holds only regular files');
  });

  test('a symbolic link in place of a file is refused, not followed', async () => {
    const dir = folder('symlink');
    writeFileSync(join(scratch, 'secret'), 'not part of the report');
    symlinkSync(join(scratch, 'secret'), join(dir, 'notes.txt'));
    expect(await refusal(dir)).toBe('notes.txt is a symbolic link; a report holds only regular files');
  });

  test('size and count limits hold for folders too', () => {
    const dir = folder('big');
    writeFileSync(join(dir, 'padding'), Buffer.alloc(2 * MiB));
    expect(() => readReportFiles(dir, { ...DEFAULT_REPORT_LIMITS, maxFileBytes: MiB })).toThrow('padding is larger than 1 MiB, the most one file of a report may hold (file-size limit)');
    const many = folder('many');
    for (let i = 0; i < 70; i++) writeFileSync(join(many, `f${i}`), '');
    expect(() => readReportFiles(many)).toThrow('the report folder holds more than 64 entries, the most a report may hold (entry-count limit)');
    const deep = folder('deep');
    mkdirSync(join(deep, 'a/b/c/d/e/f'), { recursive: true });
    expect(() => readReportFiles(deep)).toThrow('nested more than 4 folders deep');
  });
});

/** A PDF whose entries.json is `contents`, stored as it is given (FlateDecode). */
async function pdfWithEntriesStream(contents: Uint8Array, objectStreams = false): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.addPage();
  const ctx = pdf.context;
  const stream = ctx.stream(contents, { Type: 'EmbeddedFile', Filter: 'FlateDecode' });
  const spec = ctx.register(ctx.obj({ Type: 'Filespec', F: PDFString.of('entries.json'), UF: PDFHexString.fromText('entries.json'), EF: { F: ctx.register(stream) } }));
  pdf.catalog.set(PDFName.of('Names'), ctx.obj({ EmbeddedFiles: { Names: [PDFHexString.fromText('entries.json'), spec] } }));
  return pdf.save({ useObjectStreams: objectStreams });
}

describe("the PDF's embedded entry list", () => {
  const zlibBomb = (mib: number) => Buffer.concat([Buffer.from([0x78, 0x9c]), zerosBomb(mib), Buffer.alloc(4)]);

  test('an entries.json inflating to 10 GiB is stopped at the bound', async () => {
    const pdf = await pdfWithEntriesStream(zlibBomb(10 * 1024));
    await expect(readEmbeddedEntries(pdf, 64 * 1024)).rejects.toThrow('the embedded entries.json is larger than 65,536 bytes, the limit for this report');
    // The default bound (no report to derive one from) holds as well.
    await expect(readEmbeddedEntries(pdf)).rejects.toThrow('is larger than 268,435,456 bytes');
  });

  test('object streams, which pdf-lib would inflate whole while parsing, are refused before any inflation', async () => {
    const pdf = await pdfWithEntriesStream(zlibBomb(1), true);
    await expect(readEmbeddedEntries(pdf)).rejects.toThrow('cannot read the PDF: it uses object streams, which a Custody report never contains');
  });

  test('a self-consistent hostile report (manifest re-signed) with a bomb in its PDF: bounded by the size of events.jsonl', async () => {
    const dir = join(scratch, 'pdf-bomb');
    cpSync(report, dir, { recursive: true });
    writeFileSync(join(dir, 'report.pdf'), await pdfWithEntriesStream(zlibBomb(10 * 1024)));
    // Whoever made it signs the manifest with the key the report carries.
    resignReport(dir, tv.custody.vault.keys().signingSeed);
    const r = await verifyReport(dir);
    const entries = r.checks.find((c) => c.name.startsWith('entries listed'))!;
    expect(r.checks.find((c) => c.name.startsWith('manifest'))!.ok).toBe(true);
    expect(entries.ok).toBe(false);
    expect(entries.detail).toMatch(/^report\.pdf: cannot read its entry list: the embedded entries\.json is larger than [\d,]+ bytes, the limit for this report$/);
  });

  test('the entry list is not read at all from a PDF the manifest does not vouch for', async () => {
    const dir = join(scratch, 'pdf-unvouched');
    cpSync(report, dir, { recursive: true });
    writeFileSync(join(dir, 'report.pdf'), await pdfWithEntriesStream(zlibBomb(10 * 1024)));
    const r = await verifyReport(dir);
    expect(r.checks.find((c) => c.name.startsWith('entries listed'))).toMatchObject({ ok: false, detail: 'report.pdf: cannot read its entry list: not read, because the manifest did not verify' });
  });
});
