// The received area: disclosure packages this vault opened, verified and imported, kept apart from
// its own records (own tables, never the record table, never searched or synced) and read-only.
// Everything in it is sealed with a key derived from this vault's key. Each step is audited on the
// reviewer's side, naming the grant: package opened (or refused), record viewed, attachment
// opened. Expiry is honoured: an expired grant is listed as expired and its material not opened.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CustodyError } from '../../shared/errors.ts';
import type { RecordSummary } from '../../shared/records.ts';
import type { ReceivedGrantInfo } from '../../shared/sharing.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { decryptChunked } from '../crypto/chunked.ts';
import { deriveKey, wipe } from '../crypto/keys.ts';
import type { Content } from '../records/codec.ts';
import { writeFileAtomic } from '../util/atomicFile.ts';
import { UUID_RE } from '../util/ids.ts';
import type { Custody } from '../custody.ts';
import type { Vault } from '../vault/vault.ts';
import { grantTarget } from './disclose.ts';
import { decryptAgeFile, readIdentityFile, vaultIdentitySecrets } from './identity.ts';
import { DisclosureRefused, verifyPackage, type OpenedVersion, type VerifiedDisclosure, type VerifiedEntry } from './openDisclosure.ts';
import { grantHash, parseStatement } from './grantStatement.ts';
import { sha256Hex } from './packageFormat.ts';

const receivedKey = (vault: Vault): Buffer => deriveKey(vault.keys().vaultKey, 'custody/received/v1');
const grantAd = (vaultId: string, grantId: string) => ad('received-grant', vaultId, grantId);
const recordAd = (vaultId: string, grantId: string, recordId: string) => ad('received-record', vaultId, grantId, recordId);
const attachmentKeyAd = (vaultId: string, grantId: string, id: string) => ad('received-attachment', vaultId, grantId, id);
const attachmentContext = (issuerVaultId: string, id: string) => Buffer.from(`custody/attachment/v1 ${issuerVaultId} ${id}`, 'utf8');

export interface ReceivedAttachmentView {
  id: string;
  name: string;
  size: number;
  sha256: string;
  mediaType: string;
  createdAt: string;
}

export interface ReceivedRecordView {
  grantId: string;
  record: RecordSummary & Content & { createdAt: string };
  history: OpenedVersion[];
  attachments: ReceivedAttachmentView[];
  /** The issuer's audit entries about it (verified against their signed log when opened). */
  audit: VerifiedEntry[];
}

/** A received grant as the window and the CLI show it: the contract's type, one definition. */
export type ReceivedGrantView = ReceivedGrantInfo;

const SealedGrant = z.object({ note: z.string(), checkpoint: z.string(), issuerFingerprint: z.string(), packageSha256: z.string(), entries: z.array(z.object({ seq: z.number(), entry: z.string().nullable(), leafHash: z.string() })) });
type SealedGrantT = z.infer<typeof SealedGrant>;

interface GrantRow {
  id: string;
  issuer_vault_id: string;
  issuer_key: string;
  received_at: number;
  expires_at: number | null;
  from_day: string;
  until_day: string;
  records: number;
  grant_sha256: string;
  sealed: Buffer;
}

export interface OpenIntoVaultOptions {
  /** Identity file bytes (--identity); otherwise this vault's own identities are used. */
  identityFile?: Uint8Array;
  passphrase?: () => Promise<string>;
  now?: Date;
  expectIssuer?: string;
}

export interface OpenIntoVaultResult {
  grant: ReceivedGrantView;
  records: RecordSummary[];
  attachments: number;
  /** True when this grant had been received before (its material is replaced by this copy). */
  again: boolean;
}

/**
 * `custody open FILE.age` with a vault: decrypts, verifies everything (openDisclosure.ts) and
 * imports into the received area. A refusal is an audit entry here (grant.open_refused) naming
 * why and, once the statement was read, the grant.
 */
export async function openIntoVault(custody: Custody, file: Uint8Array, o: OpenIntoVaultOptions = {}): Promise<OpenIntoVaultResult> {
  const vault = custody.vault;
  vault.keys();
  const now = o.now ?? new Date();
  const packageSha256 = sha256Hex(file);
  const identities = o.identityFile
    ? await readIdentityFile(o.identityFile, o.passphrase ?? (() => Promise.reject(new CustodyError('BAD_REQUEST', 'the identity file is passphrase-protected: give its passphrase'))))
    : (await vaultIdentitySecrets(custody)).map((i) => i.identity);
  if (identities.length === 0) throw new CustodyError('NOT_FOUND', 'this vault has no reviewer identity: create one with "custody identity new", or give --identity FILE');
  let verified: VerifiedDisclosure;
  try {
    let plain: Uint8Array;
    try {
      plain = await decryptAgeFile(file, identities);
    } catch (e) {
      throw new DisclosureRefused('undecryptable', `the package does not open: ${(e as Error).message}`);
    }
    try {
      verified = verifyPackage(plain, { now, expectIssuer: o.expectIssuer, packageSha256 });
    } finally {
      plain.fill(0);
    }
  } catch (e) {
    if (e instanceof DisclosureRefused) {
      await vault
        .record({ event: 'grant.open_refused', target: e.grantId ? grantTarget(e.grantId) : null, success: false, details: { reason: e.reason, packageSha256 } })
        .catch(() => undefined);
    }
    throw e;
  }
  return importVerified(custody, verified, now);
}

/** Stores a verified package in the received area and writes grant.opened, in one transaction. */
export async function importVerified(custody: Custody, v: VerifiedDisclosure, now = new Date()): Promise<OpenIntoVaultResult> {
  const vault = custody.vault;
  const { vaultId } = vault;
  const st = v.statement;
  const key = receivedKey(vault);
  const sql = vault.db.sql;
  try {
    const again = sql.prepare('SELECT 1 FROM received_grant WHERE id = ?').get(st.grantId) !== undefined;
    const sealedGrant: SealedGrantT = { note: v.note, checkpoint: v.checkpoint, issuerFingerprint: v.issuerFingerprint, packageSha256: v.packageSha256, entries: v.entries };
    const rows = v.records.map((r) => ({
      id: r.summary.id,
      sealed: seal(
        key,
        Buffer.from(
          JSON.stringify({
            record: { ...r.summary, ...r.content, createdAt: r.createdAt },
            history: r.history,
            attachments: r.attachments.map((a) => ({ id: a.id, name: a.name, size: a.size, sha256: a.sha256, mediaType: a.mediaType, createdAt: a.createdAt })),
            auditSeqs: r.auditSeqs,
          }),
        ),
        recordAd(vaultId, st.grantId, r.summary.id),
      ),
    }));
    const attachments = v.records.flatMap((r) => r.attachments.map((a) => ({ id: a.id, recordId: r.summary.id, sealedKey: seal(key, a.key, attachmentKeyAd(vaultId, st.grantId, a.id)), blob: a.blob })));
    await vault.db.writeSync(() => {
      sql.prepare('DELETE FROM received_grant WHERE id = ?').run(st.grantId);
      sql
        .prepare('INSERT INTO received_grant (id, issuer_vault_id, issuer_key, received_at, expires_at, from_day, until_day, records, grant_sha256, sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(st.grantId, st.issuerVaultId, st.issuerKey, now.getTime(), st.expiresAt ? Date.parse(st.expiresAt) : null, st.from, st.until, st.records, v.grantSha256, seal(key, Buffer.from(JSON.stringify(sealedGrant)), grantAd(vaultId, st.grantId)));
      const ins = sql.prepare('INSERT INTO received_record (grant_id, record_id, sealed) VALUES (?, ?, ?)');
      for (const r of rows) ins.run(st.grantId, r.id, r.sealed);
      const insA = sql.prepare('INSERT INTO received_attachment (grant_id, id, record_id, sealed_key, blob) VALUES (?, ?, ?, ?, ?)');
      for (const a of attachments) insA.run(st.grantId, a.id, a.recordId, a.sealedKey, a.blob);
      vault.audit.appendSync(vault.meta, [
        {
          event: 'grant.opened',
          target: grantTarget(st.grantId),
          range: { from: `${st.from}T00:00:00.000Z`, to: `${st.until}T23:59:59.999Z` },
          details: { issuer: v.issuerFingerprint, issuerVault: st.issuerVaultId, records: st.records, attachments: attachments.length, grantSha256: v.grantSha256, packageSha256: v.packageSha256, ...(again ? { again: true } : {}) },
        },
      ]);
    });
    return { grant: grantView(vault, rowOf(vault, st.grantId), now), records: v.records.map((r) => r.summary), attachments: attachments.length, again };
  } finally {
    wipe(key);
  }
}

function rowOf(vault: Vault, grantId: string): GrantRow {
  if (!UUID_RE.test(grantId)) throw new CustodyError('BAD_REQUEST', `"${grantId.slice(0, 60)}" is not a grant id`);
  const row = vault.db.sql.prepare('SELECT * FROM received_grant WHERE id = ?').get(grantId) as GrantRow | undefined;
  if (!row) throw new CustodyError('NOT_FOUND', `no received grant ${grantId}`);
  return row;
}

function unsealGrant(vault: Vault, row: GrantRow): SealedGrantT {
  const key = receivedKey(vault);
  try {
    return SealedGrant.parse(JSON.parse(open(key, row.sealed, grantAd(vault.vaultId, row.id), `received grant ${row.id}`).toString('utf8')));
  } finally {
    wipe(key);
  }
}

function grantView(vault: Vault, row: GrantRow, now: Date): ReceivedGrantView {
  const g = unsealGrant(vault, row);
  const st = parseStatement(g.note.slice(0, g.note.lastIndexOf('\n\n') + 1));
  // The clear columns (for listing) must say what the sealed, signed statement says: an expiry
  // cleared or days widened through the folder would otherwise be shown and honoured.
  const expires = st.expiresAt ? Date.parse(st.expiresAt) : null;
  if (row.issuer_vault_id !== st.issuerVaultId || row.issuer_key !== st.issuerKey || row.expires_at !== expires || row.from_day !== st.from || row.until_day !== st.until || row.records !== st.records || row.grant_sha256 !== grantHash(g.note))
    throw new CustodyError('TAMPERED', `the received grant ${row.id} was changed outside Custody`);
  return {
    grantId: row.id,
    issuerVaultId: row.issuer_vault_id,
    issuerKey: row.issuer_key,
    issuerFingerprint: g.issuerFingerprint,
    issuedAt: st.issuedAt,
    receivedAt: new Date(row.received_at).toISOString(),
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at).toISOString(),
    expired: row.expires_at !== null && row.expires_at <= now.getTime(),
    from: row.from_day,
    until: row.until_day,
    scope: st.scope,
    purpose: st.purpose,
    filters: st.filters,
    recipients: st.recipients,
    postQuantum: st.postQuantum,
    records: row.records,
    grantSha256: row.grant_sha256,
    packageSha256: g.packageSha256,
  };
}

/** Every received grant, newest first, with its statement (who, why, which days, until when). */
export function listReceived(custody: Custody, now = new Date()): ReceivedGrantView[] {
  const vault = custody.vault;
  vault.keys();
  const rows = vault.db.sql.prepare('SELECT * FROM received_grant ORDER BY received_at DESC, id').all() as GrantRow[];
  return rows.map((r) => grantView(vault, r, now));
}

/** One grant and, unless it expired, the summaries of its records (no audit entry: a listing). */
export function showReceived(custody: Custody, grantId: string, now = new Date()): { grant: ReceivedGrantView; records: RecordSummary[] } {
  const vault = custody.vault;
  vault.keys();
  const grant = grantView(vault, rowOf(vault, grantId), now);
  if (grant.expired) return { grant, records: [] };
  const key = receivedKey(vault);
  try {
    const rows = vault.db.sql.prepare('SELECT record_id, sealed FROM received_record WHERE grant_id = ? ORDER BY record_id').all(grantId) as { record_id: string; sealed: Buffer }[];
    const records = rows.map((r) => {
      const d = JSON.parse(open(key, r.sealed, recordAd(vault.vaultId, grantId, r.record_id), `received record ${r.record_id}`).toString('utf8')) as { record: RecordSummary & Content };
      const { body: _b, fields: _f, createdAt: _c, ...summary } = d.record as RecordSummary & Content & { createdAt: string };
      return summary as RecordSummary;
    });
    records.sort((a, b) => a.capturedAt.localeCompare(b.capturedAt) || a.id.localeCompare(b.id));
    return { grant, records };
  } finally {
    wipe(key);
  }
}

async function refuseExpired(vault: Vault, grant: ReceivedGrantView, event: 'grant.record_viewed' | 'grant.attachment_opened', item: Record<string, string>): Promise<never> {
  await vault.record({ event, target: grantTarget(grant.grantId), success: false, details: { ...item, reason: 'expired' } });
  throw new CustodyError('CONFLICT', `grant ${grant.grantId} expired at ${grant.expiresAt}: its material can no longer be opened`);
}

/** A received record, read-only; audited as grant.record_viewed naming the grant. */
export async function viewReceivedRecord(custody: Custody, grantId: string, recordId: string, now = new Date()): Promise<ReceivedRecordView> {
  const vault = custody.vault;
  vault.keys();
  const row = rowOf(vault, grantId);
  const grant = grantView(vault, row, now);
  if (grant.expired) return refuseExpired(vault, grant, 'grant.record_viewed', { record: recordId });
  if (!UUID_RE.test(recordId)) throw new CustodyError('BAD_REQUEST', `"${recordId.slice(0, 60)}" is not a record id`);
  const rec = vault.db.sql.prepare('SELECT sealed FROM received_record WHERE grant_id = ? AND record_id = ?').get(grantId, recordId) as { sealed: Buffer } | undefined;
  if (!rec) throw new CustodyError('NOT_FOUND', `grant ${grantId} has no record ${recordId}`);
  const key = receivedKey(vault);
  let d: { record: ReceivedRecordView['record']; history: OpenedVersion[]; attachments: ReceivedAttachmentView[]; auditSeqs: number[] };
  try {
    d = JSON.parse(open(key, rec.sealed, recordAd(vault.vaultId, grantId, recordId), `received record ${recordId}`).toString('utf8')) as typeof d;
  } finally {
    wipe(key);
  }
  const seqs = new Set(d.auditSeqs);
  const audit = unsealGrant(vault, row).entries.filter((e) => seqs.has(e.seq));
  await vault.record({ event: 'grant.record_viewed', target: grantTarget(grantId), details: { record: recordId } });
  return { grantId, record: d.record, history: d.history, attachments: d.attachments, audit };
}

/** Decrypts a received attachment to `dest` (atomically); audited as grant.attachment_opened. */
export async function openReceivedAttachment(custody: Custody, grantId: string, attachmentId: string, dest: string, now = new Date()): Promise<{ path: string; sha256: string; size: number }> {
  const { plaintext, sha256 } = await readReceivedAttachment(custody, grantId, attachmentId, now);
  try {
    writeFileAtomic(dest, plaintext);
  } finally {
    plaintext.fill(0);
  }
  return { path: dest, sha256, size: plaintext.length };
}

/** A received attachment's plaintext in memory (the UI's view) with its name and type; audited as grant.attachment_opened. */
export async function readReceivedAttachment(custody: Custody, grantId: string, attachmentId: string, now = new Date()): Promise<{ plaintext: Buffer; sha256: string; recordId: string; name: string; mediaType: string }> {
  const vault = custody.vault;
  vault.keys();
  const row = rowOf(vault, grantId);
  const grant = grantView(vault, row, now);
  if (grant.expired) return refuseExpired(vault, grant, 'grant.attachment_opened', { attachment: attachmentId });
  if (!UUID_RE.test(attachmentId)) throw new CustodyError('BAD_REQUEST', `"${attachmentId.slice(0, 60)}" is not an attachment id`);
  const a = vault.db.sql.prepare('SELECT record_id, sealed_key, blob FROM received_attachment WHERE grant_id = ? AND id = ?').get(grantId, attachmentId) as { record_id: string; sealed_key: Buffer; blob: Buffer } | undefined;
  if (!a) throw new CustodyError('NOT_FOUND', `grant ${grantId} has no attachment ${attachmentId}`);
  const key = receivedKey(vault);
  let akey: Buffer | undefined;
  try {
    akey = open(key, a.sealed_key, attachmentKeyAd(vault.vaultId, grantId, attachmentId), `received attachment ${attachmentId}`);
    let plaintext: Buffer;
    try {
      plaintext = decryptChunked(akey, attachmentContext(row.issuer_vault_id, attachmentId), a.blob);
    } catch (e) {
      await vault.record({ event: 'grant.attachment_opened', target: grantTarget(grantId), success: false, details: { attachment: attachmentId, reason: 'tampered' } });
      throw new CustodyError('TAMPERED', `received attachment ${attachmentId} is damaged: ${(e as Error).message}`);
    }
    const sha256 = sha256Hex(plaintext);
    const rec = vault.db.sql.prepare('SELECT sealed FROM received_record WHERE grant_id = ? AND record_id = ?').get(grantId, a.record_id) as { sealed: Buffer } | undefined;
    const meta = rec ? (JSON.parse(open(key, rec.sealed, recordAd(vault.vaultId, grantId, a.record_id), `received record ${a.record_id}`).toString('utf8')) as { attachments: ReceivedAttachmentView[] }).attachments.find((x) => x.id === attachmentId) : undefined;
    await vault.record({ event: 'grant.attachment_opened', target: grantTarget(grantId), details: { attachment: attachmentId, record: a.record_id } });
    return { plaintext, sha256, recordId: a.record_id, name: meta?.name ?? 'attachment', mediaType: meta?.mediaType ?? 'application/octet-stream' };
  } finally {
    wipe(key, akey);
  }
}

/** The received grant's hash and statement (acknowledgement.ts). */
export function receivedGrantHash(custody: Custody, grantId: string): { grantSha256: string; issuerVaultId: string } {
  const row = rowOf(custody.vault, grantId);
  return { grantSha256: row.grant_sha256, issuerVaultId: row.issuer_vault_id };
}

/** Reads a package file for `custody open` (bounded: a package is decrypted in memory). */
export function readPackageFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CustodyError('NOT_FOUND', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
