// `custody backup verify`: without the vault password, the structure (the manifest's signature
// by the device key the database inside registers, every file's SHA-256, SQLite's own
// integrity check, the audit log inside verifying against its signed checkpoints); with it,
// also that the password (or the recovery key) opens the backed-up vault and that the vault key attests the device
// key (an unlock of a throw-away copy, removed afterwards).
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustodyError } from '../../shared/errors.ts';
import { Checkpoints } from '../audit/checkpoints.ts';
import { AuditReads } from '../audit/reads.ts';
import { SqliteSubtreeStore } from '../audit/subtreeStore.ts';
import { MerkleTree } from '../audit/tlog/tree.ts';
import { verifyLog } from '../audit/verifyLog.ts';
import { ATTACHMENTS_DIR, DATABASE_FILE, readHeader } from '../vault/header.ts';
import { allMetaValues } from '../vault/meta.ts';
import { Vault } from '../vault/vault.ts';
import type { BackupSecrets } from './ageWrap.ts';
import type { BackupManifest } from './manifest.ts';
import { readBackup } from './readBackup.ts';
import type { Progress } from './createBackup.ts';

export interface BackupVerification {
  ok: boolean;
  /** 'structure': no password given; 'full': the password opened the backed-up vault too. */
  level: 'structure' | 'full';
  manifest: BackupManifest | null;
  problems: string[];
}

/**
 * Checks an unpacked database against its manifest; returns problems (empty: fine).
 * `dir` holds vault.json, checkpoint.txt and custody.db.
 */
export function checkUnpacked(dir: string, m: BackupManifest): string[] {
  const problems: string[] = [];
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    let integrity: string[];
    try {
      integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
    } catch (e) {
      return [`custody.db in the backup is not a readable SQLite database (${(e as Error).message})`];
    }
    if (integrity.length !== 1 || integrity[0] !== 'ok') return [`custody.db in the backup fails SQLite's integrity check: ${integrity.slice(0, 3).join('; ')}`];
    const header = readHeader(dir);
    const meta = allMetaValues(db);
    if (header.vaultId !== m.vaultId || meta.vaultId !== m.vaultId) problems.push('the backup manifest, vault.json and the database do not name the same vault');
    if (meta.deviceId !== m.deviceId) problems.push('the backup manifest names another device than the database inside');
    const device = db.prepare("SELECT public_key AS pk FROM key_registry WHERE kind = 'device_signing' AND status = 'active' ORDER BY created_at LIMIT 1").get() as { pk: Buffer | null } | undefined;
    const pub = Buffer.from(m.publicKey, 'base64');
    if (!device?.pk || !Buffer.from(device.pk).equals(pub)) problems.push("the backup manifest is signed by a key that is not the device key the backed-up vault registers");
    const size = new AuditReads(db).size();
    if (size !== m.audit.size) problems.push(`the database inside holds ${size} audit entries, the manifest says ${m.audit.size}`);
    else if (size > 0 && !new MerkleTree(new SqliteSubtreeStore(db), size).root().equals(Buffer.from(m.audit.rootHash, 'hex'))) problems.push("the audit log inside does not match the manifest's root hash");
    const log = verifyLog(db, new Checkpoints(db, dir, m.vaultId, m.deviceId, pub));
    for (const p of log.problems) problems.push(`audit log inside the backup: ${p.message}`);
  } catch (e) {
    problems.push(e instanceof CustodyError ? e.message : `the backup's database cannot be checked: ${(e as Error).message}`);
  } finally {
    db.close();
  }
  return problems;
}

/** The full check opens the copy with the master password, or with the recovery key alone. */
export async function verifyBackup(file: string, opts: { password?: string; recoveryKey?: string; secrets?: BackupSecrets; onProgress?: Progress } = {}): Promise<BackupVerification> {
  if (opts.password !== undefined && opts.recoveryKey !== undefined) throw new CustodyError('BAD_REQUEST', 'give the password or the recovery key, not both');
  const level = opts.password === undefined && opts.recoveryKey === undefined ? 'structure' : 'full';
  const tmp = mkdtempSync(join(tmpdir(), 'custody-backup-verify-'));
  try {
    let manifest: BackupManifest;
    try {
      manifest = await readBackup(file, { secrets: opts.secrets, into: tmp, write: (n) => !n.startsWith(`${ATTACHMENTS_DIR}/`), onProgress: opts.onProgress });
    } catch (e) {
      if (e instanceof CustodyError && (e.code === 'TAMPERED' || e.code === 'VAULT_CORRUPT')) return { ok: false, level, manifest: null, problems: [e.message] };
      throw e;
    }
    const problems = checkUnpacked(tmp, manifest);
    if (problems.length === 0 && level === 'full') {
      mkdirSync(join(tmp, ATTACHMENTS_DIR), { recursive: true, mode: 0o700 });
      const vault = await Vault.open(tmp, { command: 'backup verify' });
      try {
        // The copy is thrown away: the recovery key opens it under a random password nobody keeps.
        if (opts.recoveryKey !== undefined) await vault.recover(opts.recoveryKey, randomBytes(24).toString('base64url'));
        else await vault.unlock(opts.password!);
        const v = await vault.verifyAudit();
        for (const p of v.problems) problems.push(`audit log inside the backup: ${p.message}`);
      } catch (e) {
        if (e instanceof CustodyError && e.code === 'WRONG_PASSWORD') problems.push('the password does not open the backed-up vault');
        else if (e instanceof CustodyError && e.code === 'WRONG_RECOVERY_KEY') problems.push('the recovery key does not open the backed-up vault');
        else problems.push(e instanceof CustodyError ? e.message : `the backed-up vault does not open: ${(e as Error).message}`);
      } finally {
        await vault.close();
      }
    }
    return { ok: problems.length === 0, level, manifest, problems };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
