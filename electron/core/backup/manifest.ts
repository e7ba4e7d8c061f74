// The backup manifest: what a backup holds (every file with its size and SHA-256), which vault
// and device made it, and the audit log it carries (size and root hash). It is the last entry
// but one of the container, signed by the device's Ed25519 key in the last (manifest.sig).
// The signature binds a context string, so no other signature of the device key passes for it.
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { CustodyError } from '../../shared/errors.ts';
import { signEd25519, verifyEd25519 } from '../crypto/ed25519.ts';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
const CONTEXT = Buffer.from('custody/backup-manifest/v1\n', 'utf8');

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));

export const ManifestSchema = z
  .object({
    format: z.literal('custody-backup'),
    version: z.literal(1),
    vaultId: z.string().uuid(),
    deviceId: z.string().uuid(),
    createdAt: z.iso.datetime(),
    /** The device's Ed25519 public key (base64): it signs this manifest. */
    publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
    audit: z.object({ size: z.number().int().nonnegative(), rootHash: hex(64), lastEntryAt: z.iso.datetime().nullable() }).strict(),
    records: z.number().int().nonnegative(),
    attachments: z.number().int().nonnegative(),
    files: z.array(z.object({ name: z.string().min(1).max(100), size: z.number().int().nonnegative(), sha256: hex(64) }).strict()).max(10_000_000),
  })
  .strict();
export type BackupManifest = z.infer<typeof ManifestSchema>;

export function manifestBytes(m: BackupManifest): Buffer {
  return Buffer.from(canonicalize(m)!, 'utf8');
}

export function signManifest(bytes: Buffer, seed: Uint8Array): Buffer {
  return signEd25519(seed, Buffer.concat([CONTEXT, bytes]));
}

/** Parses and checks the signature against the key the manifest names (who that key is, is the caller's check). */
export function openManifest(bytes: Buffer, signature: Buffer): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CustodyError('TAMPERED', 'the backup manifest is not valid JSON: the backup is damaged');
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw new CustodyError('TAMPERED', `the backup manifest is malformed (${parsed.error.issues[0]?.path.join('.')}): the backup is damaged`);
  const sig = Buffer.from(signature.toString('ascii').trim(), 'base64');
  let ok = false;
  try {
    ok = verifyEd25519(Buffer.from(parsed.data.publicKey, 'base64'), Buffer.concat([CONTEXT, bytes]), sig);
  } catch {
    // A malformed key or signature is a signature that does not verify.
  }
  if (!ok)
    throw new CustodyError('TAMPERED', 'the backup manifest signature does not verify: the backup was altered or damaged');
  return parsed.data;
}

/** Names a backup may hold, and nothing else (no paths outside the vault folder, no links). */
export const ATTACHMENT_NAME = /^attachments\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.cce$/;
export const VAULT_FILES = ['vault.json', 'checkpoint.txt', 'custody.db'] as const;
export const isBackupFileName = (name: string): boolean => (VAULT_FILES as readonly string[]).includes(name) || ATTACHMENT_NAME.test(name);
