// Opening a disclosure package: decrypts the age layer with the reviewer's identity and verifies
// everything before anything is shown or imported. The package is hostile input until then:
//   1. the grant statement's signature, by the issuer device key it names (whose fingerprint the
//      reader compares with the issuer's, or pins with expectIssuer);
//   2. the body's SHA-256 against the signed statement (a changed byte anywhere fails here);
//   3. the issuer's signed checkpoint, by that same key, and the one the statement names;
//   4. every audit entry's inclusion proof under it, each entry about a disclosed item;
//   5. every record (and version, and attachment) decrypts with the granted keys, lies inside the
//      granted days, and matches its audit trail;
//   6. the grant has not expired.
// Works without a vault (the --json dump for scripts); received.ts imports the result into one.
import { Decrypter } from 'age-encryption';
import { AgeOpenError, ageDecrypt } from './ageStream.ts';
import { CustodyError } from '../../shared/errors.ts';
import type { RecordSummary } from '../../shared/records.ts';
import { checkpointVerifiers, logOrigin } from '../audit/checkpoints.ts';
import { openCheckpoint } from '../audit/tlog/checkpoint.ts';
import { leafHash } from '../audit/tlog/hash.ts';
import { parseVerifierKey } from '../audit/tlog/note.ts';
import { verifyInclusion } from '../audit/tlog/verify.ts';
import { publicKeyOfVkey } from '../audit/checkpoints.ts';
import { decryptChunked } from '../crypto/chunked.ts';
import { wipe } from '../crypto/keys.ts';
import { checkEpochDay, openContent, openSummary, unwrapKeys, type Content, type Summary } from '../records/codec.ts';
import { toSummary } from '../records/recordStore.ts';
import { verifyStatement, type GrantStatement } from './grantStatement.ts';
import { parseBody, sha256Hex, splitPackage, unb64, type PackageRecord } from './packageFormat.ts';

/** Why a package was refused: named in the reviewer's audit entry. */
export type RefusalReason = 'undecryptable' | 'malformed' | 'signature' | 'content' | 'checkpoint' | 'proof' | 'record' | 'trail' | 'expired';

export class DisclosureRefused extends CustodyError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    /** The grant, once the statement was read (not for an undecryptable package). */
    readonly grantId?: string,
  ) {
    super('TAMPERED', message);
  }
}

export interface OpenedVersion {
  version: number;
  savedAt: string;
  record: RecordSummary & Content;
}

export interface OpenedAttachment {
  id: string;
  recordId: string;
  createdAt: string;
  name: string;
  size: number;
  sha256: string;
  mediaType: string;
  /** The chunked ciphertext (opened with key; context binds the issuer vault and the attachment). */
  blob: Buffer;
  key: Buffer;
}

export interface OpenedRecord {
  summary: RecordSummary;
  content: Content;
  createdAt: string;
  history: OpenedVersion[];
  attachments: OpenedAttachment[];
  /** Sequence numbers of the issuer's audit entries about it (all verified). */
  auditSeqs: number[];
}

export interface VerifiedEntry {
  seq: number;
  /** The entry's canonical JSON, or null when retention pruned it (its leaf hash was proven). */
  entry: string | null;
  leafHash: string;
}

export interface VerifiedDisclosure {
  statement: GrantStatement;
  note: string;
  grantSha256: string;
  issuerFingerprint: string;
  checkpoint: string;
  records: OpenedRecord[];
  entries: VerifiedEntry[];
  packageSha256: string;
}

/** Decrypts the age layer with any of `identities` (AGE-SECRET-KEY-PQ-1… or AGE-SECRET-KEY-1…). */
export async function decryptAgeLayer(file: Uint8Array, identities: readonly string[]): Promise<Buffer> {
  if (identities.length === 0) throw new CustodyError('BAD_REQUEST', 'no identity to open the package with (give --identity FILE, or create this vault\'s identity)');
  const d = new Decrypter();
  for (const id of identities) {
    try {
      d.addIdentity(id);
    } catch {
      throw new CustodyError('BAD_REQUEST', 'the identity is not an age identity (AGE-SECRET-KEY-PQ-1… or AGE-SECRET-KEY-1…)');
    }
  }
  try {
    return await ageDecrypt(file, identities);
  } catch (e) {
    const msg = (e as Error).message;
    if (e instanceof AgeOpenError && e.notAddressed) throw new DisclosureRefused('undecryptable', 'this package is not addressed to your identity (no recipient stanza opens with it)');
    throw new DisclosureRefused('undecryptable', `the package's age layer is damaged or was modified: ${msg}`);
  }
}

const attachmentContext = (vaultId: string, id: string) => Buffer.from(`custody/attachment/v1 ${vaultId} ${id}`, 'utf8');
const iso = (ms: number) => new Date(ms).toISOString();

/** Verifies decrypted package bytes (see the top of this file); throws DisclosureRefused naming what failed. */
export function verifyPackage(plain: Uint8Array, opts: { now?: Date; expectIssuer?: string; packageSha256?: string } = {}): VerifiedDisclosure {
  const now = opts.now ?? new Date();
  let parts: ReturnType<typeof splitPackage>;
  try {
    parts = splitPackage(plain);
  } catch (e) {
    throw new DisclosureRefused('malformed', (e as Error).message);
  }
  let verified: ReturnType<typeof verifyStatement>;
  try {
    verified = verifyStatement(parts.statement, { expectIssuer: opts.expectIssuer });
  } catch (e) {
    throw new DisclosureRefused('signature', (e as Error).message);
  }
  const st = verified.statement;
  const refuse = (reason: RefusalReason, msg: string) => new DisclosureRefused(reason, msg, st.grantId);
  if (sha256Hex(parts.body) !== st.contentSha256) throw refuse('content', 'the package content does not match its signed grant statement: it was modified after it was signed');
  let body: ReturnType<typeof parseBody>;
  try {
    body = parseBody(parts.body);
  } catch (e) {
    throw refuse('malformed', (e as Error).message);
  }
  if (body.grantId !== st.grantId || body.vaultId !== st.issuerVaultId) throw refuse('content', 'the package body belongs to another grant');
  if (st.expiresAt !== null && Date.parse(st.expiresAt) <= now.getTime()) throw refuse('expired', `this grant expired at ${st.expiresAt}: it can no longer be opened`);

  // The issuer's signed checkpoint, by the same device key that signed the statement.
  const deviceId = /\/device\/([^/]+)$/.exec(parseVerifierKey(st.issuerKey).name)?.[1] ?? '';
  let root: Buffer;
  let size: number;
  try {
    const cp = openCheckpoint(body.audit.checkpoint, checkpointVerifiers(st.issuerVaultId, deviceId, publicKeyOfVkey(st.issuerKey)), logOrigin(st.issuerVaultId)).checkpoint;
    root = cp.rootHash;
    size = cp.size;
  } catch (e) {
    throw refuse('checkpoint', `the issuer's audit checkpoint does not verify with the issuer's device key: ${(e as Error).message}`);
  }
  if (size !== st.checkpoint.size || root.toString('base64') !== st.checkpoint.rootHash) throw refuse('checkpoint', 'the audit checkpoint is not the one the grant statement names');

  // Which items the package discloses: every entry must be about one of them.
  const items = new Set<string>();
  for (const r of body.records) {
    items.add(`record:${r.id}`);
    for (const a of r.attachments ?? []) items.add(`attachment:${a.id}`);
  }
  const entries: VerifiedEntry[] = [];
  const byRecord = new Map<string, { seq: number; event: string; details: Record<string, unknown> }[]>();
  let lastSeq = -1;
  const nodes = body.audit.nodes.map(unb64);
  const missingNode = (i: number): never => {
    throw new Error(`the proof names tree node ${i}, which the package does not carry`);
  };
  for (const e of body.audit.entries) {
    if (e.seq <= lastSeq) throw refuse('proof', `audit entry ${e.seq} is out of log order`);
    lastSeq = e.seq;
    let leaf: Buffer;
    if (e.entry !== undefined) {
      let parsed: { seq?: unknown; target?: unknown; event?: unknown; details?: Record<string, unknown> };
      try {
        parsed = JSON.parse(e.entry) as typeof parsed;
      } catch {
        throw refuse('proof', `audit entry ${e.seq} is not JSON`);
      }
      if (parsed.seq !== e.seq) throw refuse('proof', `audit entry ${e.seq} says it is entry ${String(parsed.seq)}`);
      if (typeof parsed.target !== 'string' || !items.has(parsed.target)) throw refuse('proof', `audit entry ${e.seq} is not about a disclosed record or attachment`);
      leaf = leafHash(Buffer.from(e.entry, 'utf8'));
      const rid = parsed.target.startsWith('record:') ? parsed.target.slice(7) : typeof parsed.details?.record === 'string' ? parsed.details.record : undefined;
      if (rid) byRecord.set(rid, [...(byRecord.get(rid) ?? []), { seq: e.seq, event: String(parsed.event), details: parsed.details ?? {} }]);
    } else if (e.leafHash) leaf = Buffer.from(e.leafHash, 'hex');
    else throw refuse('malformed', `audit entry ${e.seq} has neither its body nor its leaf hash`);
    try {
      verifyInclusion(e.seq, size, leaf, e.proof.map((i) => nodes[i] ?? missingNode(i)), root);
    } catch (err) {
      throw refuse('proof', `audit entry ${e.seq} is not in the issuer's signed log: ${(err as Error).message}`);
    }
    entries.push({ seq: e.seq, entry: e.entry ?? null, leafHash: leaf.toString('hex') });
  }

  // Keys: exactly the granted days (whole-day grants) or the listed records (narrowed ones).
  const epoch = new Map<string, Buffer>();
  const recordKeys = new Map<string, Buffer[]>();
  try {
    if (st.scope === 'days') {
      if (body.keys.records.length) throw refuse('content', 'a whole-day grant carries record keys');
      for (const k of body.keys.epoch) {
        if (k.day < st.from || k.day > st.until) throw refuse('content', `the package carries the key of ${k.day}, outside the granted days`);
        epoch.set(k.day, unb64(k.key));
      }
    } else {
      if (body.keys.epoch.length) throw refuse('content', 'a narrowed grant carries day keys');
      for (const k of body.keys.records) recordKeys.set(k.id, k.keys.map(unb64));
    }
    const keyring = {
      epochKey: (day: string): Buffer => {
        const k = epoch.get(day);
        if (!k) throw refuse('record', `the package has no key for ${day}`);
        return k;
      },
    };
    if (body.records.length !== st.records) throw refuse('content', `the package holds ${body.records.length} records, the grant statement says ${st.records}`);
    const seen = new Set<string>();
    const records = body.records.map((r) => {
      if (seen.has(r.id)) throw refuse('content', `record ${r.id} appears twice`);
      seen.add(r.id);
      const auditSeqs = (byRecord.get(r.id) ?? []).map((t) => t.seq);
      const opened = openRecord(r, st, keyring, recordKeys.get(r.id), refuse);
      checkTrail(r, byRecord.get(r.id) ?? [], refuse);
      return { ...opened, auditSeqs };
    });
    return { statement: st, note: verified.note, grantSha256: verified.grantSha256, issuerFingerprint: verified.issuerFingerprint, checkpoint: body.audit.checkpoint, records, entries, packageSha256: opts.packageSha256 ?? '' };
  } finally {
    wipe(...epoch.values(), ...[...recordKeys.values()].flat());
  }
}

type Refuse = (reason: RefusalReason, msg: string) => DisclosureRefused;

function openRecord(r: PackageRecord, st: GrantStatement, keyring: { epochKey(day: string): Buffer }, listed: Buffer[] | undefined, refuse: Refuse): Omit<OpenedRecord, 'auditSeqs'> {
  const vaultId = st.issuerVaultId;
  if (r.epochDay < st.from || r.epochDay > st.until) throw refuse('record', `record ${r.id} lies outside the granted days`);
  const meta = { kind: r.kind, capturedAt: r.capturedAt };
  const chainOf = (day: string, wrapped: string | undefined): Buffer[] => {
    if (st.scope === 'days') {
      if (!wrapped) throw refuse('record', `record ${r.id} has no wrapped key`);
      const chain = unwrapKeys(keyring, vaultId, r.id, day, unb64(wrapped));
      // One key per version: older keys in a chain belong to days the grant may not cover.
      if (chain.length !== 1) {
        wipe(...chain);
        throw refuse('content', `record ${r.id} carries ${chain.length} data keys where a whole-day grant carries one`);
      }
      return chain;
    }
    if (!listed) throw refuse('record', `the package has no key for record ${r.id}`);
    return listed.map((k) => Buffer.from(k));
  };
  const openWith = (keys: Buffer[], version: number, m: typeof meta, s: string, c: string): { summary: Summary; content: Content } => {
    let last: unknown;
    for (const k of keys)
      try {
        return { summary: openSummary(k, vaultId, r.id, version, m, unb64(s)), content: openContent(k, vaultId, r.id, version, m, unb64(c)) };
      } catch (e) {
        last = e;
      }
    throw refuse('record', `record ${r.id} (version ${version}) does not decrypt with the granted keys: ${(last as Error)?.message ?? 'no key'}`);
  };
  let chain: Buffer[] = [];
  try {
    checkEpochDay(r.id, r.capturedAt, r.epochDay);
    chain = chainOf(r.epochDay, r.wrappedDek);
    const cur = openWith(st.scope === 'days' ? chain.slice(0, 1) : chain, r.version, meta, r.summary, r.content);
    const history: OpenedVersion[] = (r.history ?? []).map((v) => {
      if (v.epochDay < st.from || v.epochDay > st.until) throw refuse('record', `a version of record ${r.id} lies outside the granted days`);
      checkEpochDay(r.id, v.capturedAt, v.epochDay);
      const vchain = st.scope === 'days' ? chainOf(v.epochDay, v.wrappedDek) : chain;
      try {
        const d = openWith(st.scope === 'days' ? vchain.slice(0, 1) : vchain, v.version, { kind: v.kind, capturedAt: v.capturedAt }, v.summary, v.content);
        return { version: v.version, savedAt: iso(v.savedAt), record: { ...toSummary({ id: r.id, kind: v.kind, capturedAt: new Date(v.capturedAt), updatedAt: new Date(v.savedAt), version: v.version, deletedAt: null }, d.summary), ...d.content } };
      } finally {
        if (vchain !== chain) wipe(...vchain);
      }
    });
    const attachments: OpenedAttachment[] = (r.attachments ?? []).map((a) => {
      const key = unb64(a.key);
      const blob = unb64(a.blob);
      let plain: Buffer;
      try {
        plain = decryptChunked(key, attachmentContext(vaultId, a.id), blob);
      } catch (e) {
        throw refuse('record', `attachment ${a.id} of record ${r.id} does not decrypt: ${(e as Error).message}`);
      }
      const ok = plain.length === a.meta.size && sha256Hex(plain) === a.meta.sha256;
      plain.fill(0);
      if (!ok) throw refuse('record', `attachment ${a.id} of record ${r.id} does not match its size and SHA-256`);
      return { id: a.id, recordId: r.id, createdAt: iso(a.createdAt), ...a.meta, blob, key };
    });
    return {
      summary: toSummary({ id: r.id, kind: r.kind, capturedAt: new Date(r.capturedAt), updatedAt: new Date(r.updatedAt), version: r.version, deletedAt: null }, cur.summary),
      content: cur.content,
      createdAt: iso(r.createdAt),
      history,
      attachments,
    };
  } catch (e) {
    if (e instanceof DisclosureRefused) throw e;
    throw refuse('record', `record ${r.id} does not open: ${(e as Error).message}`);
  } finally {
    wipe(...chain);
  }
}

/**
 * The record must match its audit trail in the issuer's log: it was created (or imported) there,
 * and its current version is the one the last edit entry names.
 */
function checkTrail(r: PackageRecord, trail: { event: string; details: Record<string, unknown> }[], refuse: Refuse): void {
  const versions = trail.flatMap((t) => (t.event === 'record.created' ? [1] : t.event === 'record.updated' && typeof t.details.version === 'number' ? [t.details.version] : []));
  // Custody does not issue such a package (disclose.ts refuseUntraceable): a record that reached
  // the issuer's device by sync has its trail in another device's log, which packages do not carry.
  if (versions.length === 0) throw refuse('trail', `record ${r.id} has no creation or edit entry in the issuing device's audit log (a record that reached that device by sync has its trail in another device's log, which a package does not carry): it cannot be checked against its trail`);
  const last = Math.max(...versions);
  if (last !== r.version) throw refuse('trail', `record ${r.id} is at version ${r.version}, but its audit trail in the issuing device's log ends at version ${last} (an edit made on another device and pulled by sync is in that device's log)`);
  for (const a of r.attachments ?? [])
    if (!trail.some((t) => t.event === 'attachment.added' && t.details.record === r.id)) throw refuse('trail', `attachment ${a.id} of record ${r.id} has no entry in the issuer's audit log`);
}

/** Opens a package file's bytes: age layer, then verification. */
export async function openPackage(file: Uint8Array, identities: readonly string[], opts: { now?: Date; expectIssuer?: string } = {}): Promise<VerifiedDisclosure> {
  const plain = await decryptAgeLayer(file, identities);
  try {
    return verifyPackage(plain, { ...opts, packageSha256: sha256Hex(file) });
  } finally {
    plain.fill(0);
  }
}

/** What the --json dump prints: the verified content, no keys. */
export function disclosureJson(v: VerifiedDisclosure): unknown {
  const st = v.statement;
  return {
    grant: { id: st.grantId, issuerVault: st.issuerVaultId, issuerKey: st.issuerKey, issuerFingerprint: v.issuerFingerprint, issuedAt: st.issuedAt, expiresAt: st.expiresAt, from: st.from, until: st.until, scope: st.scope, filters: st.filters, purpose: st.purpose, recipients: st.recipients, postQuantum: st.postQuantum, grantSha256: v.grantSha256, packageSha256: v.packageSha256 },
    checkpoint: v.checkpoint,
    records: v.records.map((r) => ({ ...r.summary, ...r.content, createdAt: r.createdAt, history: r.history, attachments: r.attachments.map((a) => ({ id: a.id, name: a.name, size: a.size, sha256: a.sha256, mediaType: a.mediaType, createdAt: a.createdAt })), auditSeqs: r.auditSeqs })),
    auditEntries: v.entries,
  };
}
