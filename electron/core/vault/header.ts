// vault.json: the only unencrypted file of a vault besides the database. It names the vault,
// the KDF parameters and the two wrappings of the vault key. Every field except the wrappings
// is bound into the wrappings' associated data, so an edited header does not unlock.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { CustodyError } from '../../shared/errors.ts';
import { fsyncDir, writeFileAtomic } from '../util/atomicFile.ts';
import { assertRegularVaultFiles } from './regularFiles.ts';
import type { KdfParams } from '../crypto/kdf.ts';

export const HEADER_FILE = 'vault.json';
export const DATABASE_FILE = 'custody.db';
export const CHECKPOINT_FILE = 'checkpoint.txt';
export const ATTACHMENTS_DIR = 'attachments';

const b64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/);

const HeaderSchema = z
  .object({
    format: z.literal('custody-vault'),
    version: z.literal(1),
    vaultId: z.string().uuid(),
    createdAt: z.iso.datetime(),
    kdf: z
      .object({
        algorithm: z.literal('argon2id'),
        memoryKiB: z.number().int().positive(),
        iterations: z.number().int().positive(),
        parallelism: z.number().int().positive(),
        salt: b64,
      })
      .strict(),
    wrappedVaultKey: z.object({ password: b64, recovery: b64 }).strict(),
  })
  .strict();

export type VaultHeader = z.infer<typeof HeaderSchema> & { kdf: KdfParams };

/**
 * The header fields a vault-key wrapping authenticates. The password wrapping binds the KDF
 * parameters too (an edited cost or salt does not unlock); the recovery wrapping binds only
 * the vault's identity, so changing the password need not touch it.
 */
export function headerBinding(h: VaultHeader, by: 'password' | 'recovery'): string {
  const { format, version, vaultId, createdAt, kdf } = h;
  return canonicalize(by === 'password' ? { format, version, vaultId, createdAt, kdf } : { format, version, vaultId, createdAt })!;
}

/** What to do about a damaged header (the same advice as for a damaged database: backup/damaged.ts). */
const RESTORE_HINT = 'restore the vault from a backup into a new folder: custody restore BACKUP_FILE --vault NEW_FOLDER (docs/backup.md)';

export function readHeader(dir: string): VaultHeader {
  const file = join(dir, HEADER_FILE);
  if (!existsSync(file)) throw new CustodyError('VAULT_NOT_FOUND', `no vault at ${dir} (run "custody init" to create one)`);
  assertRegularVaultFiles(dir);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new CustodyError('VAULT_CORRUPT', `the vault header ${file} is damaged (${HEADER_FILE} is not valid JSON); without it the vault cannot be unlocked. ${RESTORE_HINT}`);
  }
  const parsed = HeaderSchema.safeParse(json);
  if (!parsed.success) throw new CustodyError('VAULT_CORRUPT', `the vault header ${file} is damaged (${HEADER_FILE} is malformed: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}). ${RESTORE_HINT}`);
  return parsed.data;
}

export function writeHeader(dir: string, h: VaultHeader): void {
  writeFileAtomic(join(dir, HEADER_FILE), headerText(h));
}

/**
 * A vault key rotation (keys/vaultKeyRotation.ts) writes the new header beside the old one
 * first, then re-wraps the database in one transaction that also stores this file's digest
 * (meta PENDING_HEADER_META), then renames it over vault.json. A crash between the steps is
 * settled at the next open (settlePendingHeader): the new header wins exactly when the
 * database committed its side, so the password and the recovery key always open the vault.
 */
export const PENDING_HEADER_FILE = 'vault.json.next';
export const PENDING_HEADER_META = 'vault_key_header';

export const headerText = (h: VaultHeader): string => JSON.stringify(h, null, 2) + '\n';
export const headerDigest = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/** Settles a rotation a crash interrupted; `committed` is the digest the database holds (if any). Returns whether vault.json changed. */
export function settlePendingHeader(dir: string, committed: string | undefined): boolean {
  const next = join(dir, PENDING_HEADER_FILE);
  if (!existsSync(next)) return false;
  const text = readFileSync(next);
  if (committed !== undefined && headerDigest(text) === committed) {
    renameSync(next, join(dir, HEADER_FILE));
    fsyncDir(dir);
    return true;
  }
  rmSync(next, { force: true });
  return false;
}
