// Re-keying attachments, for `custody keys rotate record-keys` (keys/recordKeys.ts): after a
// suspected leak of epoch keys, an attachment's key (wrapped by a data key the leaked day keys
// open) and its blob are replaced: a new random key, the blob re-encrypted under it, the key
// and metadata sealed under the record's new data key. The old key then opens no blob in the
// vault, nor any backup made after.
//
// Three steps per record's day, so a crash leaves each attachment wholly old or wholly new:
//   1. stage: each blob re-encrypted into <id>.cce.rekey-<job> beside it (nothing else changes);
//   2. seal (in the day's transaction, with the records): the rows get the new key and meta;
//   3. place: the staged blobs renamed over the old ones.
// A crash between 2 and 3 leaves rows that expect the staged blobs: settleStaged, run when the
// job resumes (and before each day), renames the staged blobs of committed days into place and
// removes the others. The commitment key of the plaintext digest (audit/commitment.ts) is the
// old key's: it is kept in the sealed metadata, so the log's commitments still open.
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { randomKey, wipe } from '../crypto/keys.ts';
import { attachmentCommitmentKey } from '../audit/commitment.ts';
import { fsyncDir } from '../util/atomicFile.ts';
import { ATTACHMENTS_DIR } from '../vault/header.ts';
import type { Vault } from '../vault/vault.ts';
import { reencryptBlob, type ProgressCallback } from './blobfile.ts';

const keyAd = (vaultId: string, recordId: string, id: string) => ad('attachment-key', vaultId, recordId, id);
const metaAd = (vaultId: string, recordId: string, id: string) => ad('attachment-meta', vaultId, recordId, id);
const blobContext = (vaultId: string, id: string) => Buffer.from(`custody/attachment/v1 ${vaultId} ${id}`, 'utf8');
const STAGED = '.rekey-';

export interface StagedAttachment {
  id: string;
  recordId: string;
  /** The new attachment key (wiped by seal or discard). */
  key: Buffer;
  /** The metadata to seal, the old key's commitment key added. */
  meta: Buffer;
  staged: string;
}

interface Row {
  id: string;
  recordId: string;
  wrappedKey: Buffer;
  meta: Buffer;
}

const blobPath = (vault: Vault, id: string) => join(vault.dir, ATTACHMENTS_DIR, `${id}.cce`);

/** The attachments of the records captured in [start, end) ms, by record. */
export function attachmentsCapturedIn(vault: Vault, start: number, end: number): Map<string, string[]> {
  const rows = vault.db.sql.prepare('SELECT a.id, a.record_id AS recordId FROM attachment a JOIN record r ON r.id = a.record_id WHERE r.captured_at >= ? AND r.captured_at < ? ORDER BY a.id').all(start, end) as { id: string; recordId: string }[];
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.recordId, [...(out.get(r.recordId) ?? []), r.id]);
  return out;
}

/**
 * Step 1 for one record: every attachment's blob re-encrypted under a new key into its staged
 * file. `chain` is the record's key chain as it is now (the attachment key is under one of them).
 */
export async function stageRecordAttachments(vault: Vault, recordId: string, chain: readonly Buffer[], jobId: string, onBytes?: ProgressCallback): Promise<StagedAttachment[]> {
  const vid = vault.vaultId;
  const rows = vault.db.sql.prepare('SELECT id, record_id AS recordId, wrapped_key AS wrappedKey, meta FROM attachment WHERE record_id = ? ORDER BY id').all(recordId) as Row[];
  const out: StagedAttachment[] = [];
  try {
    for (const r of rows) {
      const { dek, oldKey } = openKey(chain, vid, r);
      const fresh = randomKey();
      try {
        const meta = JSON.parse(open(dek, r.meta, metaAd(vid, recordId, r.id), `attachment ${r.id}`).toString('utf8')) as { sha256: string; size: number; commitmentKey?: string };
        // The log's commitments were made with the first key's commitment key: it stays.
        meta.commitmentKey ??= attachmentCommitmentKey(oldKey).toString('hex');
        const staged = `${blobPath(vault, r.id)}${STAGED}${jobId}`;
        const got = await reencryptBlob(blobPath(vault, r.id), staged, oldKey, fresh, blobContext(vid, r.id), onBytes);
        if (got.sha256.toString('hex') !== meta.sha256 || got.size !== meta.size) {
          rmSync(staged, { force: true });
          throw new CustodyError('TAMPERED', `attachment ${r.id} does not match its recorded SHA-256; nothing was re-encrypted for its day`);
        }
        out.push({ id: r.id, recordId, key: fresh, meta: Buffer.from(JSON.stringify(meta), 'utf8'), staged });
      } catch (e) {
        wipe(fresh);
        throw e;
      } finally {
        wipe(oldKey);
      }
    }
    return out;
  } catch (e) {
    discardStaged(out);
    throw e;
  }
}

function openKey(chain: readonly Buffer[], vaultId: string, r: Row): { dek: Buffer; oldKey: Buffer } {
  for (const dek of chain) {
    try {
      return { dek, oldKey: open(dek, r.wrappedKey, keyAd(vaultId, r.recordId, r.id)) };
    } catch {
      // Sealed with another key of the chain.
    }
  }
  throw new CustodyError('TAMPERED', `the key of attachment ${r.id} opens with none of record ${r.recordId}'s keys`);
}

/**
 * Step 2, inside the caller's transaction: the rows get the new keys and metadata, sealed under
 * `dek` (the record's new data key). The new keys are wiped.
 */
export function sealStagedSync(vault: Vault, staged: readonly StagedAttachment[], dekOf: (recordId: string) => Buffer): void {
  const vid = vault.vaultId;
  const upd = vault.db.sql.prepare('UPDATE attachment SET wrapped_key = ?, meta = ? WHERE id = ? AND record_id = ?');
  for (const s of staged) {
    const dek = dekOf(s.recordId);
    if (upd.run(seal(dek, s.key, keyAd(vid, s.recordId, s.id)), seal(dek, s.meta, metaAd(vid, s.recordId, s.id)), s.id, s.recordId).changes !== 1)
      throw new CustodyError('CONFLICT', `attachment ${s.id} was removed during the re-encryption; run the command again`);
  }
}

/** Step 3: the staged blobs renamed over the old ones (after the rows committed). */
export function placeStaged(vault: Vault, staged: readonly StagedAttachment[]): void {
  for (const s of staged) renameSync(s.staged, blobPath(vault, s.id));
  if (staged.length) fsyncDir(join(vault.dir, ATTACHMENTS_DIR));
}

/** A failed day: its staged blobs removed, its new keys wiped. */
export function discardStaged(staged: readonly StagedAttachment[]): void {
  for (const s of staged) {
    rmSync(s.staged, { force: true });
    wipe(s.key);
  }
}

/**
 * After a crash: staged blobs of `jobId` whose record's day committed (`committed(recordId)`)
 * are renamed into place (their rows already name the new key); the rest, and half-written
 * temp files, are removed. Returns how many were placed.
 */
export function settleStaged(vault: Vault, jobId: string, committed: (recordId: string) => boolean): number {
  const dir = join(vault.dir, ATTACHMENTS_DIR);
  const suffix = `.cce${STAGED}${jobId}`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  const recordOf = vault.db.sql.prepare('SELECT record_id FROM attachment WHERE id = ?').pluck();
  let placed = 0;
  for (const name of names) {
    if (name.endsWith(suffix)) {
      const id = name.slice(0, -suffix.length);
      const recordId = recordOf.get(id) as string | undefined;
      if (recordId !== undefined && committed(recordId)) {
        renameSync(join(dir, name), join(dir, `${id}.cce`));
        placed++;
      } else rmSync(join(dir, name), { force: true });
    } else if (name.includes(suffix) && name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
  }
  if (placed) fsyncDir(dir);
  return placed;
}
