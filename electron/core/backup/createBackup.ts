// `custody backup`: a consistent snapshot of a vault that may be open and in use, as one file.
//   1. custody.db is copied with VACUUM INTO on a read-only connection of its own: one read
//      transaction, so the copy is the database as committed at one moment, whatever other
//      connections (this process, the app, another command) do meanwhile. vault.json is read
//      before and after; if it changed (a password change, a key rotation) the copy is redone.
//   2. The device key signs a checkpoint of the copy's audit log into the copy and as its
//      checkpoint.txt, so the restored vault's external checkpoint matches its log exactly.
//   3. The attachments the copy lists are streamed in (blobs are written before their row
//      commits and never change afterwards).
//   4. A manifest (every file's SHA-256) signed by the device key ends the container (tar),
//      optionally wrapped with age. The file is written as NAME.partial-PID, fsynced, then
//      renamed: a backup under its final name is always complete.
import Database from 'better-sqlite3';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { link, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CustodyError } from '../../shared/errors.ts';
import { target } from '../audit/entry.ts';
import { AttachmentRows } from '../attachments/rows.ts';
import { Checkpoints } from '../audit/checkpoints.ts';
import { AuditReads } from '../audit/reads.ts';
import { CompactRange } from '../audit/tlog/tree.ts';
import type { MerkleTree } from '../audit/tlog/tree.ts';
import { fsyncDir } from '../util/atomicFile.ts';
import { iso } from '../util/time.ts';
import { ATTACHMENTS_DIR, CHECKPOINT_FILE, DATABASE_FILE, HEADER_FILE } from '../vault/header.ts';
import type { Vault } from '../vault/vault.ts';
import { encryptStream, type BackupEncryption } from './ageWrap.ts';
import { diskFullError } from './diskFull.ts';
import { faultPoint } from '../util/faults.ts';
import { MANIFEST_FILE, manifestBytes, signManifest, SIGNATURE_FILE, type BackupManifest } from './manifest.ts';
import { END_OF_ARCHIVE, padding, tarHeader } from './tar.ts';

export type Progress = (done: number, total: number) => void;

export interface BackupOptions {
  encryption?: BackupEncryption;
  onProgress?: Progress;
  /** Why: 'manual' (the command) or 'scheduled'; recorded in the audit entry. */
  reason?: 'manual' | 'scheduled';
}

export interface BackupResult {
  file: string;
  bytes: number;
  sha256: string;
  manifest: BackupManifest;
}

interface Snapshot {
  dir: string;
  header: Buffer;
  auditSize: number;
  rootHash: Buffer;
  lastEntryAt: string | null;
  records: number;
  attachmentIds: string[];
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Copies the database and header at one moment into `stage`, and signs its checkpoint. */
function snapshot(vault: Vault, stage: string): Snapshot {
  const headerFile = join(vault.dir, HEADER_FILE);
  const copy = join(stage, DATABASE_FILE);
  for (let attempt = 0; ; attempt++) {
    const before = readFileSync(headerFile);
    rmSync(copy, { force: true });
    const src = new Database(join(vault.dir, DATABASE_FILE), { readonly: true, fileMustExist: true });
    try {
      src.pragma('busy_timeout = 10000');
      src.exec(`VACUUM INTO ${sqlString(copy)}`);
    } finally {
      src.close();
    }
    if (readFileSync(headerFile).equals(before)) {
      const db = new Database(copy);
      try {
        const reads = new AuditReads(db);
        const auditSize = reads.size();
        const range = new CompactRange();
        for (const leaf of reads.streamLeafHashes()) range.append(leaf);
        if (range.size !== auditSize) throw new CustodyError('TAMPERED', 'the audit log has gaps in its sequence numbers; run "custody audit verify"');
        const rootHash = range.root();
        const lastTime = reads.lastEntryTime();
        // The copy gets its own signed checkpoint, at exactly its size.
        const cps = new Checkpoints(db, stage, vault.vaultId, vault.meta.deviceId, vault.checkpoints.publicKey);
        cps.write({ size: auditSize, root: () => rootHash } as unknown as MerkleTree, vault.keys().signingSeed, 'backup', true);
        const records = (db.prepare('SELECT count(*) AS n FROM record').get() as { n: number }).n;
        const attachmentIds = new AttachmentRows(db).allIds();
        return { dir: stage, header: before, auditSize, rootHash, lastEntryAt: lastTime === null ? null : iso(lastTime), records, attachmentIds };
      } finally {
        db.close();
      }
    }
    if (attempt >= 2) throw new CustodyError('CONFLICT', 'vault.json kept changing while the backup was taken; try again');
  }
}

async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) yield c as Buffer;
}

/**
 * Gives the finished file its name without replacing anything that appeared there while it was
 * written (a rename would): a hard link fails if the name exists. File systems without hard
 * links (FAT, exFAT drives) get a rename after a last look.
 */
async function placeNoReplace(partial: string, file: string): Promise<void> {
  const taken = () => new CustodyError('CONFLICT', `${file} appeared while the backup was being written; it was left as it is (a backup never overwrites a file): choose a new file name`);
  try {
    await link(partial, file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EEXIST') throw taken();
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    if (existsSync(file)) throw taken();
    await rename(partial, file);
    return;
  }
  await rm(partial, { force: true });
}

export async function createBackup(vault: Vault, out: string, opts: BackupOptions = {}): Promise<BackupResult> {
  const seed = vault.keys().signingSeed;
  const file = resolve(out);
  if (existsSync(file)) throw new CustodyError('CONFLICT', `${file} already exists; choose a new file name (a backup never overwrites a file)`);
  if (!existsSync(dirname(file))) throw new CustodyError('NOT_FOUND', `the folder ${dirname(file)} does not exist`);
  const partial = `${file}.partial-${process.pid}`;
  let stage: string | undefined;
  let written: BackupResult;
  try {
    stage = mkdtempSync(join(dirname(file), `.${basename(file)}.stage-`));
    const snap = snapshot(vault, stage);
    faultPoint('backup:snapshot');

    // Every file, with where its bytes come from; sizes are known before anything is written.
    const sources: { name: string; path: string; size: number }[] = [];
    const add = (name: string, path: string) => sources.push({ name, path, size: statSync(path).size });
    add(CHECKPOINT_FILE, join(stage, CHECKPOINT_FILE));
    add(DATABASE_FILE, join(stage, DATABASE_FILE));
    for (const id of snap.attachmentIds) {
      const path = join(vault.dir, ATTACHMENTS_DIR, `${id}.cce`);
      if (!existsSync(path)) throw new CustodyError('CONFLICT', `the encrypted file of attachment ${id} is missing (purged while the backup ran, or lost: run "custody attachment verify ${id}"); the backup was not written`);
      add(`${ATTACHMENTS_DIR}/${id}.cce`, path);
    }
    const total = snap.header.length + sources.reduce((n, s) => n + s.size, 0);
    let done = 0;
    const files: BackupManifest['files'] = [];
    const now = Date.now();

    const tar = async function* (): AsyncGenerator<Buffer> {
      const entry = async function* (name: string, size: number, chunks: AsyncIterable<Buffer> | Buffer[]): AsyncGenerator<Buffer> {
        const h: Hash = createHash('sha256');
        let n = 0;
        yield tarHeader(name, size, now);
        for await (const c of chunks) {
          h.update(c);
          n += c.length;
          done += c.length;
          opts.onProgress?.(done, total);
          yield c;
        }
        if (n !== size) throw new CustodyError('CONFLICT', `${name} changed size while the backup was written; try again`);
        yield padding(size);
        files.push({ name, size, sha256: h.digest('hex') });
      };
      yield* entry(HEADER_FILE, snap.header.length, [snap.header]);
      for (const s of sources) {
        yield* entry(s.name, s.size, fileChunks(s.path));
        if (s.name === DATABASE_FILE) faultPoint('backup:writing');
      }
      const manifest: BackupManifest = {
        format: 'custody-backup',
        version: 1,
        vaultId: vault.vaultId,
        deviceId: vault.meta.deviceId,
        createdAt: iso(now),
        publicKey: vault.checkpoints.publicKey.toString('base64'),
        audit: { size: snap.auditSize, rootHash: snap.rootHash.toString('hex'), lastEntryAt: snap.lastEntryAt },
        records: snap.records,
        attachments: snap.attachmentIds.length,
        files,
      };
      const bytes = manifestBytes(manifest);
      const sig = Buffer.from(signManifest(bytes, seed).toString('base64') + '\n', 'ascii');
      yield tarHeader(MANIFEST_FILE, bytes.length, now);
      yield bytes;
      yield padding(bytes.length);
      yield tarHeader(SIGNATURE_FILE, sig.length, now);
      yield sig;
      yield padding(sig.length);
      yield END_OF_ARCHIVE;
      result.manifest = manifest;
    };
    const result = { manifest: undefined as BackupManifest | undefined };

    const whole = createHash('sha256');
    let bytes = 0;
    const fh = await open(partial, 'wx', 0o600);
    try {
      for await (const chunk of await encryptStream(tar(), opts.encryption ?? { kind: 'none' })) {
        whole.update(chunk);
        bytes += chunk.length;
        await fh.write(chunk);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    faultPoint('backup:before-rename');
    await placeNoReplace(partial, file);
    fsyncDir(dirname(file));
    written = { file, bytes, sha256: whole.digest('hex'), manifest: result.manifest! };
  } catch (e) {
    await rm(partial, { force: true }).catch(() => undefined);
    throw diskFullError(e, 'the backup was not written');
  } finally {
    if (stage) rmSync(stage, { recursive: true, force: true });
  }
  const { manifest, sha256, bytes } = written;
  // The live vault's log says a backup was made, of how much (never where: paths can say too much).
  // The file is complete either way: if the entry cannot be written, the error says so.
  try {
    await vault.record({
      event: 'backup.created',
      target: target.vault(vault.vaultId),
      details: { reason: opts.reason ?? 'manual', auditSize: manifest.audit.size, records: manifest.records, attachments: manifest.attachments, bytes, sha256, encryption: opts.encryption?.kind ?? 'none' },
    });
  } catch (e) {
    throw diskFullError(e, `the backup ${file} is complete but its audit entry was not written`);
  }
  return written;
}
