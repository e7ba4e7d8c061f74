// `custody restore FILE --vault DIR`: unpacks a verified backup into a NEW vault folder.
//   - DIR must not hold a vault (or anything): a restore never overwrites.
//   - Everything is unpacked into a hidden sibling folder and checked there (manifest, hashes,
//     integrity, audit log, the password); only then is it renamed to DIR. A crash leaves the
//     hidden folder (named *.restoring-*), never a half-restored vault at DIR.
//   - The restore is recorded as the first entry after the backup's last one (written while
//     the copy is still locked, before its unlock entry).
//   - Given a checkpoint the user still holds (a checkpoint.txt, or the folder of the vault the
//     backup came from), a backup older than it is restored all the same but reported as a
//     rollback, in the output and in the restore's audit entry.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { CustodyError } from '../../shared/errors.ts';
import { target } from '../audit/entry.ts';
import { checkpointVerifiers } from '../audit/checkpoints.ts';
import { SqliteSubtreeStore } from '../audit/subtreeStore.ts';
import { openCheckpoint } from '../audit/tlog/checkpoint.ts';
import { MerkleTree } from '../audit/tlog/tree.ts';
import { fsyncDir } from '../util/atomicFile.ts';
import { wipe } from '../crypto/keys.ts';
import { ATTACHMENTS_DIR, CHECKPOINT_FILE, DATABASE_FILE, HEADER_FILE, readHeader } from '../vault/header.ts';
import { assertPasswordAcceptable, unwrapVaultKey, Vault } from '../vault/vault.ts';
import type { BackupSecrets } from './ageWrap.ts';
import { diskFullError } from './diskFull.ts';
import { faultPoint } from '../util/faults.ts';
import type { BackupManifest } from './manifest.ts';
import { readBackup } from './readBackup.ts';
import { checkUnpacked } from './verifyBackup.ts';
import type { Progress } from './createBackup.ts';

export interface Rollback {
  /** The size of the log the held checkpoint was signed at. */
  heldSize: number;
  backupSize: number;
  /** 'older': the backup lacks entries the checkpoint covers; 'diverged': the logs differ. */
  kind: 'older' | 'diverged';
  message: string;
}

export interface RestoreResult {
  dir: string;
  manifest: BackupManifest;
  rollback: Rollback | null;
}

/**
 * What opens the restored vault: its master password, or (a forgotten password, or a backup
 * restored by someone who holds only the emergency kit) the recovery key with the new master
 * password the restored vault gets, as `custody recover` sets one.
 */
export type RestoreSecret = { password: string } | { recoveryKey: string; newPassword: string };

export type RestoreOptions = RestoreSecret & {
  secrets?: BackupSecrets;
  /** A checkpoint the user holds: a checkpoint.txt file or a vault folder holding one. */
  heldCheckpoint?: string;
  onProgress?: Progress;
};

function assertFree(dir: string): void {
  if (!existsSync(dir)) return;
  if (existsSync(join(dir, HEADER_FILE))) throw new CustodyError('VAULT_EXISTS', `a vault already exists at ${dir}; a restore never overwrites a vault: choose a new folder`);
  if (!statSync(dir).isDirectory() || readdirSync(dir).length > 0) throw new CustodyError('VAULT_EXISTS', `${dir} is not empty; a restore never overwrites anything: choose a new or empty folder`);
}

function readHeld(path: string): string {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, CHECKPOINT_FILE) : path;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new CustodyError('NOT_FOUND', `cannot read the checkpoint ${file}`);
  }
}

/** Compares the checkpoint the user holds with the restored log (in `dir`). */
function compareHeld(dir: string, m: BackupManifest, note: string): Rollback | null {
  let cp;
  try {
    cp = openCheckpoint(note, checkpointVerifiers(m.vaultId, m.deviceId, Buffer.from(m.publicKey, 'base64')), `custody.vault/${m.vaultId}`).checkpoint;
  } catch (e) {
    throw new CustodyError('BAD_REQUEST', `the checkpoint you gave is not a checkpoint of this vault's device key: ${(e as Error).message}`);
  }
  const backupSize = m.audit.size;
  if (cp.size > backupSize)
    return { heldSize: cp.size, backupSize, kind: 'older', message: `ROLLBACK: this backup holds ${backupSize} audit entries, but the checkpoint you hold was signed at ${cp.size}: the ${cp.size - backupSize} entries after the backup are not in the restored vault` };
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  try {
    const root = new MerkleTree(new SqliteSubtreeStore(db), backupSize).root(cp.size);
    if (!root.equals(cp.rootHash)) return { heldSize: cp.size, backupSize, kind: 'diverged', message: `ROLLBACK: the backup's audit log differs from the one the checkpoint you hold was signed over (size ${cp.size}): the logs diverged` };
  } finally {
    db.close();
  }
  return null;
}

export async function restoreBackup(file: string, targetDir: string, opts: RestoreOptions): Promise<RestoreResult> {
  const dir = resolve(targetDir);
  assertFree(dir);
  if (!existsSync(file)) throw new CustodyError('NOT_FOUND', `no backup file ${file}`);
  const heldNote = opts.heldCheckpoint ? readHeld(opts.heldCheckpoint) : undefined;
  mkdirSync(dirname(dir), { recursive: true });
  const stage = join(dirname(dir), `.${basename(dir)}.restoring-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(stage, { mode: 0o700 });
  try {
    const manifest = await readBackup(file, { secrets: opts.secrets, into: stage, onProgress: opts.onProgress });
    mkdirSync(join(stage, ATTACHMENTS_DIR), { recursive: true, mode: 0o700 });
    const problems = checkUnpacked(stage, manifest);
    if (problems.length) throw new CustodyError('TAMPERED', `the backup does not verify: ${problems.join('; ')}`);
    faultPoint('restore:extracted');
    // The password (or recovery key) must open it before anything is written into it.
    const byRecovery = 'recoveryKey' in opts;
    if (byRecovery) assertPasswordAcceptable(opts.newPassword);
    wipe(await unwrapVaultKey(readHeader(stage), byRecovery ? { recoveryKey: opts.recoveryKey } : { password: opts.password }));
    const rollback = heldNote === undefined ? null : compareHeld(stage, manifest, heldNote);

    const vault = await Vault.open(stage, { command: 'restore' });
    try {
      await vault.record({
        event: 'vault.restored',
        target: target.vault(manifest.vaultId),
        details: { backupCreatedAt: manifest.createdAt, backupAuditSize: manifest.audit.size, records: manifest.records, attachments: manifest.attachments, rollback: rollback !== null, opener: byRecovery ? 'recovery_key' : 'password', ...(rollback ? { heldCheckpointSize: rollback.heldSize, rollbackKind: rollback.kind } : {}) },
      });
      faultPoint('restore:logged');
      // With the recovery key the copy gets its new master password here (logged vault.recovered).
      if (byRecovery) await vault.recover(opts.recoveryKey, opts.newPassword);
      else await vault.unlock(opts.password);
      const v = await vault.verifyAudit();
      if (!v.ok) throw new CustodyError('TAMPERED', `the restored vault's audit log does not verify: ${v.problems[0]?.message}`);
    } finally {
      await vault.close();
    }
    faultPoint('restore:before-rename');
    if (existsSync(dir)) rmdirSync(dir);
    await rename(stage, dir);
    fsyncDir(dirname(dir));
    return { dir, manifest, rollback };
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    throw diskFullError(e, 'nothing was restored');
  }
}
