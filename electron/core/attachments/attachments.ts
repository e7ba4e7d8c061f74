// Attachments: each one is a file under <vault>/attachments/<id>.cce, encrypted with its own
// key (wrapped by the record's data key) as C2SP chunked-encryption (Cobblestone-256). The
// context string binds vault and attachment, so a blob cannot be passed off as another.
import { rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { CustodyError } from '../../shared/errors.ts';
import type { AttachmentView } from '../../shared/records.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { randomKey, wipe } from '../crypto/keys.ts';
import { target } from '../audit/entry.ts';
import { attachmentCommitmentKey, commitDigest } from '../audit/commitment.ts';
import { uuidv7, UUID_RE } from '../util/ids.ts';
import { iso } from '../util/time.ts';
import { ATTACHMENTS_DIR } from '../vault/header.ts';
import type { Vault } from '../vault/vault.ts';
import type { RecordStore } from '../records/recordStore.ts';
import { decryptFile, decryptToMemory, encryptFile, encryptSource, verifyBlob, type PlaintextSource } from './blobfile.ts';
import { AttachmentRows } from './rows.ts';

export type Progress = (done: number, total: number) => void;

// commitmentKey: set when the attachment was re-keyed (attachments/rekey.ts): the commitment
// key of its first key, which the log's commitments were made with. Never shown to the page.
const MetaSchema = z.object({ name: z.string(), size: z.number(), sha256: z.string(), mediaType: z.string(), commitmentKey: z.string().regex(/^[0-9a-f]{64}$/).optional() });
type Meta = z.infer<typeof MetaSchema>;
type ShownMeta = Omit<Meta, 'commitmentKey'>;
const shown = ({ commitmentKey: _ck, ...m }: Meta): ShownMeta => m;

const keyAd = (vaultId: string, recordId: string, id: string) => ad('attachment-key', vaultId, recordId, id);
const metaAd = (vaultId: string, recordId: string, id: string) => ad('attachment-meta', vaultId, recordId, id);
const blobContext = (vaultId: string, id: string) => Buffer.from(`custody/attachment/v1 ${vaultId} ${id}`, 'utf8');

const MEDIA_TYPES: Record<string, string> = {
  pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  txt: 'text/plain', csv: 'text/csv', json: 'application/json', mp3: 'audio/mpeg', wav: 'audio/wav', mp4: 'video/mp4',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', zip: 'application/zip',
};
const mediaTypeOf = (name: string) => MEDIA_TYPES[name.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';

/** The commitment key of an attachment: its first key's (kept in the metadata once re-keyed). */
const commitmentKeyOf = (attachmentKey: Buffer, meta: Meta): Buffer => (meta.commitmentKey ? Buffer.from(meta.commitmentKey, 'hex') : attachmentCommitmentKey(attachmentKey));

/** The log's commitment to an attachment's plaintext SHA-256 (audit/commitment.ts). */
function commitment(attachmentKey: Buffer, meta: Meta): string {
  const sha256Hex = meta.sha256;
  const ck = commitmentKeyOf(attachmentKey, meta);
  try {
    return commitDigest(ck, Buffer.from(sha256Hex, 'hex'));
  } finally {
    wipe(ck);
  }
}

/** Names the attachment in the error a person sees ("chunk 3 failed authentication" alone says too little). */
function tamperError(id: string, e: unknown): CustodyError {
  if (e instanceof CustodyError && e.code !== 'TAMPERED') return e;
  return new CustodyError('TAMPERED', `attachment ${id} is damaged or was modified: ${(e as Error).message}`);
}

export class Attachments {
  constructor(
    private readonly vault: Vault,
    private readonly records: RecordStore,
  ) {}

  #blobPath(id: string): string {
    if (!UUID_RE.test(id)) throw new CustodyError('BAD_REQUEST', `"${id}" is not an attachment id`);
    return join(this.vault.dir, ATTACHMENTS_DIR, `${id}.cce`);
  }

  /**
   * Encrypts a file, or plaintext streamed from memory or an upload (never through a temp
   * file), into the vault and attaches it to a record.
   */
  async add(recordId: string, src: string | PlaintextSource, opts: { name?: string; onProgress?: Progress } = {}): Promise<AttachmentView> {
    const { dek, row } = await this.records.dataKey(recordId);
    if (row.deletedAt) throw new CustodyError('CONFLICT', `record ${recordId} is in the trash; restore it before adding attachments`);
    const { vaultId } = this.vault;
    const id = uuidv7();
    const key = randomKey();
    const dest = this.#blobPath(id);
    try {
      if (typeof src === 'string') statSync(src);
    } catch {
      wipe(dek, key);
      throw new CustodyError('NOT_FOUND', `cannot read ${src as string}`);
    }
    try {
      const { size, sha256 } =
        typeof src === 'string' ? await encryptFile(src, dest, key, blobContext(vaultId, id), opts.onProgress) : await encryptSource(src, dest, key, blobContext(vaultId, id), opts.onProgress);
      const name = opts.name ?? (typeof src === 'string' ? basename(src) : 'attachment');
      const meta: Meta = { name, size, sha256: sha256.toString('hex'), mediaType: mediaTypeOf(name) };
      const now = new Date();
      await this.vault.db.write(async (tx) => {
        await tx.attachment.create({
          data: { id, recordId, createdAt: now, wrappedKey: seal(dek, key, keyAd(vaultId, recordId, id)), meta: seal(dek, Buffer.from(JSON.stringify(meta)), metaAd(vaultId, recordId, id)) },
        });
        // The plaintext hash is chain-of-custody evidence, but in the clear it would let a reader
        // of the log test a guess at the content: the log keeps a hiding commitment to it.
        this.vault.audit.appendSync(this.vault.meta, [{ event: 'attachment.added', target: target.attachment(id), details: { record: recordId, size, sha256Commitment: commitment(key, meta) } }], now);
      });
      return { id, ...meta, createdAt: iso(now) };
    } catch (e) {
      rmSync(dest, { force: true });
      throw e;
    } finally {
      wipe(dek, key);
    }
  }

  /** Decrypted metadata of one attachment (no audit entry); NOT_FOUND when there is none. */
  async view(id: string): Promise<AttachmentView> {
    const recordId = new AttachmentRows(this.vault.db.sql).recordOf(id);
    const meta = recordId !== undefined ? (await this.list(recordId)).find((a) => a.id === id) : undefined;
    if (!meta) throw new CustodyError('NOT_FOUND', `no attachment ${id}`);
    return meta;
  }

  /** Decrypted metadata of a record's attachments (no audit entry: the record view has one). */
  async list(recordId: string): Promise<AttachmentView[]> {
    const rows = await this.vault.db.prisma.attachment.findMany({ where: { recordId }, orderBy: { createdAt: 'asc' } });
    if (rows.length === 0) return [];
    const { keys } = await this.records.dataKeys(recordId);
    try {
      return rows.map((r) => ({ id: r.id, ...shown(this.#meta(this.#sealedWith(keys, recordId, r.id, r.wrappedKey), recordId, r.id, r.meta)), createdAt: iso(r.createdAt) }));
    } finally {
      wipe(...keys);
    }
  }

  /**
   * Which of the record's keys sealed this attachment: the key current when it was added (a
   * record that moved to another day since has a newer one; codec.ts keeps the chain).
   */
  #sealedWith(keys: readonly Buffer[], recordId: string, id: string, wrappedKey: Uint8Array): Buffer {
    for (const dek of keys.slice(0, -1)) {
      try {
        wipe(open(dek, wrappedKey, keyAd(this.vault.vaultId, recordId, id)));
        return dek;
      } catch {
        // Sealed with an older key of the chain.
      }
    }
    return keys.at(-1)!;
  }

  #meta(dek: Buffer, recordId: string, id: string, sealed: Uint8Array): Meta {
    return MetaSchema.parse(JSON.parse(open(dek, sealed, metaAd(this.vault.vaultId, recordId, id), `attachment ${id}`).toString('utf8')));
  }

  async #open(id: string): Promise<{ key: Buffer; meta: Meta; recordId: string; commitment: string }> {
    const row = await this.vault.db.prisma.attachment.findUnique({ where: { id } });
    if (!row) throw new CustodyError('NOT_FOUND', `no attachment ${id}`);
    const { keys } = await this.records.dataKeys(row.recordId);
    try {
      const dek = this.#sealedWith(keys, row.recordId, id, row.wrappedKey);
      const key = open(dek, row.wrappedKey, keyAd(this.vault.vaultId, row.recordId, id), `the key of attachment ${id}`);
      try {
        const meta = this.#meta(dek, row.recordId, id, row.meta);
        return { key, meta, recordId: row.recordId, commitment: commitment(key, meta) };
      } catch (e) {
        wipe(key);
        throw e;
      }
    } finally {
      wipe(...keys);
    }
  }

  /**
   * The opening of the attachment's hash commitment (what a report reveals so its reader can
   * check the hash against the signed log entries), or null if the attachment is gone.
   */
  async opening(id: string): Promise<{ key: string; sha256: string; commitment: string } | null> {
    let opened;
    try {
      opened = await this.#open(id);
    } catch (e) {
      if (e instanceof CustodyError && e.code === 'NOT_FOUND') return null;
      throw e;
    }
    const ck = commitmentKeyOf(opened.key, opened.meta);
    wipe(opened.key);
    return { key: ck.toString('hex'), sha256: opened.meta.sha256, commitment: opened.commitment };
  }

  /** Decrypts an attachment to a file; the file appears only once every chunk authenticated. */
  async extract(id: string, destPath: string, opts: { onProgress?: Progress; purpose?: 'opened' | 'exported' } = {}): Promise<AttachmentView & { path: string }> {
    const { key, meta, recordId, commitment } = await this.#open(id);
    const event = opts.purpose === 'opened' ? 'attachment.opened' : 'attachment.exported';
    try {
      const got = await decryptFile(this.#blobPath(id), destPath, key, blobContext(this.vault.vaultId, id), opts.onProgress);
      if (got.sha256.toString('hex') !== meta.sha256 || got.size !== meta.size) throw new CustodyError('TAMPERED', `attachment ${id} does not match its recorded SHA-256`);
    } catch (e) {
      await this.#tamperEntry(id, recordId, e);
      throw tamperError(id, e);
    } finally {
      wipe(key);
    }
    await this.vault.record({ event, target: target.attachment(id), details: { record: recordId, sha256Commitment: commitment } });
    return { id, ...shown(meta), createdAt: '', path: destPath };
  }

  /** Decrypts an attachment into memory (opened in the app: no file, not even a temp one). */
  async read(id: string, opts: { onProgress?: Progress } = {}): Promise<AttachmentView & { data: Buffer }> {
    const { key, meta, recordId, commitment } = await this.#open(id);
    let data: Buffer;
    try {
      const got = await decryptToMemory(this.#blobPath(id), key, blobContext(this.vault.vaultId, id), opts.onProgress);
      data = got.plaintext;
      if (got.sha256.toString('hex') !== meta.sha256 || got.size !== meta.size) {
        data.fill(0);
        throw new CustodyError('TAMPERED', `attachment ${id} does not match its recorded SHA-256`);
      }
    } catch (e) {
      await this.#tamperEntry(id, recordId, e);
      throw tamperError(id, e);
    } finally {
      wipe(key);
    }
    await this.vault.record({ event: 'attachment.opened', target: target.attachment(id), details: { record: recordId, sha256Commitment: commitment } });
    return { id, ...shown(meta), createdAt: '', data };
  }

  /** Re-reads the blob and checks it against the recorded hash, writing nothing. */
  async verify(id: string, onProgress?: Progress): Promise<{ ok: true; size: number; sha256: string }> {
    const { key, meta, recordId, commitment } = await this.#open(id);
    try {
      const got = await verifyBlob(this.#blobPath(id), key, blobContext(this.vault.vaultId, id), onProgress);
      if (got.sha256.toString('hex') !== meta.sha256) throw new CustodyError('TAMPERED', `attachment ${id} does not match its recorded SHA-256`);
    } catch (e) {
      await this.#tamperEntry(id, recordId, e);
      throw tamperError(id, e);
    } finally {
      wipe(key);
    }
    await this.vault.record({ event: 'attachment.verified', target: target.attachment(id), details: { record: recordId, sha256Commitment: commitment } });
    return { ok: true, size: meta.size, sha256: meta.sha256 };
  }

  async #tamperEntry(id: string, recordId: string, e: unknown): Promise<void> {
    if (e instanceof CustodyError && e.code === 'NOT_FOUND') return;
    await this.vault.record({ event: 'attachment.tamper_detected', target: target.attachment(id), success: false, details: { record: recordId } });
  }

  /** Deletes blobs whose rows were purged. */
  removeBlobs(ids: readonly string[]): void {
    for (const id of ids) rmSync(this.#blobPath(id), { force: true });
  }
}
