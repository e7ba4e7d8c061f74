// Reads a backup container in one streaming pass: every entry's name is checked against the
// names a backup may hold, its bytes hashed (and written out, when asked), and at the end the
// signed manifest is checked against what was read. Nothing read is trusted before that.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CustodyError } from '../../shared/errors.ts';
import { backupBytes, type BackupSecrets } from './ageWrap.ts';
import { isBackupFileName, MANIFEST_FILE, openManifest, SIGNATURE_FILE, type BackupManifest } from './manifest.ts';
import { readTar } from './tar.ts';
import type { Progress } from './createBackup.ts';

export interface ReadOptions {
  secrets?: BackupSecrets;
  /** Where to write the files; undefined: hash only. */
  into?: string;
  /** Which files to write (default: all). */
  write?: (name: string) => boolean;
  onProgress?: Progress;
}


/** Reads, hashes and (optionally) unpacks a backup; returns its verified manifest. */
export async function readBackup(file: string, opts: ReadOptions = {}): Promise<BackupManifest> {
  const seen = new Map<string, { size: number; sha256: string }>();
  let manifestBytes: Buffer | undefined;
  let signature: Buffer | undefined;
  let total = 0;
  try {
    for await (const e of readTar(await backupBytes(file, opts.secrets))) {
      if (e.name === MANIFEST_FILE || e.name === SIGNATURE_FILE) {
        if (manifestBytes && e.name === MANIFEST_FILE) throw new CustodyError('TAMPERED', 'the backup holds two manifests');
        if (e.size > 256 << 20) throw new CustodyError('TAMPERED', 'the backup manifest is implausibly large');
        const parts: Buffer[] = [];
        for await (const c of e.body) parts.push(c);
        if (e.name === MANIFEST_FILE) manifestBytes = Buffer.concat(parts);
        else signature = Buffer.concat(parts);
        continue;
      }
      if (manifestBytes) throw new CustodyError('TAMPERED', `the backup holds ${e.name} after its manifest`);
      if (!isBackupFileName(e.name)) throw new CustodyError('TAMPERED', `the backup holds an entry no backup has (${JSON.stringify(e.name.slice(0, 100))}); it was not made by custody or was altered`);
      if (seen.has(e.name)) throw new CustodyError('TAMPERED', `the backup holds ${e.name} twice`);
      const h = createHash('sha256');
      const dest = opts.into && (opts.write?.(e.name) ?? true) ? join(opts.into, e.name) : undefined;
      if (dest) mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
      const fh = dest ? await open(dest, 'wx', 0o600) : undefined;
      try {
        for await (const c of e.body) {
          h.update(c);
          total += c.length;
          opts.onProgress?.(total, 0);
          if (fh) await fh.write(c);
        }
        if (fh) await fh.sync();
      } finally {
        await fh?.close();
      }
      seen.set(e.name, { size: e.size, sha256: h.digest('hex') });
    }
  } catch (e) {
    if (e instanceof CustodyError || (e as { code?: string }).code === 'ENOSPC' || (e as { code?: string }).code === 'EEXIST') throw e;
    // age reports a damaged or altered ciphertext while streaming.
    throw new CustodyError('TAMPERED', `the backup cannot be read: ${(e as Error).message}`);
  }
  if (!manifestBytes || !signature) throw new CustodyError('TAMPERED', 'the backup has no signed manifest: it is incomplete or was not made by custody');
  const manifest = openManifest(manifestBytes, signature);
  const listed = new Set<string>();
  for (const f of manifest.files) {
    listed.add(f.name);
    const got = seen.get(f.name);
    if (!got) throw new CustodyError('TAMPERED', `${f.name} is listed in the backup manifest but missing from the backup`);
    if (got.size !== f.size || got.sha256 !== f.sha256) throw new CustodyError('TAMPERED', `${f.name} in the backup does not match its SHA-256 in the manifest: the backup is damaged or altered`);
  }
  for (const name of seen.keys()) if (!listed.has(name)) throw new CustodyError('TAMPERED', `${name} is in the backup but not in its manifest`);
  for (const name of ['vault.json', 'checkpoint.txt', 'custody.db']) if (!listed.has(name)) throw new CustodyError('TAMPERED', `the backup has no ${name}`);
  return manifest;
}

