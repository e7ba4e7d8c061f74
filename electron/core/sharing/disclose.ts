// Issuing a disclosure package (`custody disclose`): a reviewer gets exactly the granted material.
// A whole-day grant with no narrowing filter carries the epoch keys of exactly those days (taken
// through Keyring.epochKey, never derived here); a narrowed grant carries only the data keys of
// the matching records. Never the vault key, the epoch root, or a key of a day outside the range.
// Around them: the records' ciphertexts as stored, attachments and history when asked, the audit
// entries about them with inclusion proofs under a signed checkpoint, and the signed grant
// statement. Outer layer: a standard age file, one stanza per recipient.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { CLASSIFICATIONS, type Classification } from '../../shared/records.ts';
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { deriveKey, keyFingerprint, randomKey, wipe } from '../crypto/keys.ts';
import { ageEncrypt } from './ageStream.ts';
import { enforcePolicy, getPolicy } from './policy.ts';
import { memoryTree } from '../reports/memoryTree.ts';
import { resolveRecipient, type ResolvedRecipient } from './recipients.ts';
import { commitDigest } from '../audit/commitment.ts';
import { checkEpochDay, openSummary, unwrapKeys, wrapKeys } from '../records/codec.ts';
import { writeFileAtomic } from '../util/atomicFile.ts';
import { uuidv7 } from '../util/ids.ts';
import { dayRangeMs } from '../util/time.ts';
import { ATTACHMENTS_DIR } from '../vault/header.ts';
import { AttachmentRows } from '../attachments/rows.ts';
import type { Custody } from '../custody.ts';
import type { Vault } from '../vault/vault.ts';
import { signStatement, grantHash, parseStatement, type GrantFilters, type GrantRecipient, type GrantStatement } from './grantStatement.ts';
import { b64, BODY_FORMAT, encodePackage, sha256Hex, type PackageBody, type PackageEntry, type PackageRecord } from './packageFormat.ts';

export const grantTarget = (id: string): string => `grant:${id}`;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export interface DiscloseOptions {
  /** Address-book names or age recipients (age1pq1…; age1… only with allowClassical). */
  to: string[];
  from: string;
  until: string;
  case?: string;
  tags?: string[];
  maxClassification?: Classification;
  records?: string[];
  withAttachments?: boolean;
  withHistory?: boolean;
  purpose: string;
  /** YYYY-MM-DD (valid through that UTC day) or an ISO time. */
  expires?: string;
  out: string;
  allowClassical?: boolean;
  /** Tests inject the time. */
  now?: Date;
}

export interface DiscloseResult {
  grantId: string;
  path: string;
  scope: 'days' | 'records';
  records: number;
  attachments: number;
  days: string[];
  recipients: GrantRecipient[];
  postQuantum: boolean;
  expiresAt: string | null;
  packageSha256: string;
  grantSha256: string;
  /** The issuer's device key fingerprint: the reviewer compares it with the one `custody open` shows. */
  issuerFingerprint: string;
  issuerKey: string;
  checkpointSize: number;
}

/** Every UTC day from `from` to `until`, inclusive. */
export function daysBetween(from: string, until: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${until}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

function checkDay(v: string, what: string): void {
  if (!DAY.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) throw new CustodyError('BAD_REQUEST', `${what} must be a date YYYY-MM-DD`);
}

/** An expiry: a date means "valid through that UTC day". */
export function parseExpiry(v: string | undefined, now: Date): string | null {
  if (v === undefined) return null;
  let t: number;
  if (DAY.test(v)) {
    checkDay(v, '--expires');
    t = Date.parse(`${v}T00:00:00Z`) + 86_400_000 - 1;
  } else t = Date.parse(v);
  if (Number.isNaN(t)) throw new CustodyError('BAD_REQUEST', '--expires must be a date YYYY-MM-DD or an ISO time');
  if (t <= now.getTime()) throw new CustodyError('BAD_REQUEST', '--expires is in the past');
  return new Date(t).toISOString();
}

/** The associated data the attachments module seals an attachment's key and metadata with (attachments.ts). */
const attachmentKeyAd = (vaultId: string, recordId: string, id: string) => ad('attachment-key', vaultId, recordId, id);
const attachmentMetaAd = (vaultId: string, recordId: string, id: string) => ad('attachment-meta', vaultId, recordId, id);

/** Key for what this vault keeps sealed about its grants (purpose, filters, recipients). */
export const grantsKey = (vault: Vault): Buffer => deriveKey(vault.keys().vaultKey, 'custody/grants/v1');
export const grantRowAd = (vaultId: string, id: string): Buffer => ad('grant-issued', vaultId, id);

interface RecordRow {
  id: string;
  kind: string;
  captured_at: number;
  epoch_day: string;
  created_at: number;
  updated_at: number;
  version: number;
  wrapped_dek: Buffer;
  summary: Buffer;
  content: Buffer;
}

interface VersionRow {
  record_id: string;
  version: number;
  kind: string;
  captured_at: number;
  epoch_day: string;
  saved_at: number;
  wrapped_dek: Buffer;
  summary: Buffer;
  content: Buffer;
}

const chunks = <T>(xs: readonly T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

export async function disclose(custody: Custody, o: DiscloseOptions): Promise<DiscloseResult> {
  const vault = custody.vault;
  const keys = vault.keys();
  const now = o.now ?? new Date();
  checkDay(o.from, '--from');
  checkDay(o.until, '--until');
  if (o.from > o.until) throw new CustodyError('BAD_REQUEST', '--from must not be after --until');
  if (o.to.length === 0) throw new CustodyError('BAD_REQUEST', 'name at least one recipient (--to)');
  if (o.maxClassification !== undefined && !CLASSIFICATIONS.includes(o.maxClassification)) throw new CustodyError('BAD_REQUEST', `--max-classification must be one of ${CLASSIFICATIONS.join(', ')}`);
  const expiresAt = parseExpiry(o.expires, now);
  const resolved: ResolvedRecipient[] = [];
  for (const r of o.to) resolved.push(await resolveRecipient(custody, r, { allowClassical: o.allowClassical }));
  if (new Set(resolved.map((r) => r.recipient)).size !== resolved.length) throw new CustodyError('BAD_REQUEST', 'a recipient is named twice');
  const recipients: GrantRecipient[] = resolved.map((r) => ({ fingerprint: r.fingerprint, recipient: r.recipient }));
  const classical = resolved.filter((r) => !r.postQuantum);
  const days = daysBetween(o.from, o.until);
  const filters: GrantFilters = {
    ...(o.case !== undefined ? { case: o.case } : {}),
    ...(o.tags?.length ? { tags: [...o.tags] } : {}),
    ...(o.maxClassification ? { maxClassification: o.maxClassification } : {}),
    ...(o.records?.length ? { records: [...o.records] } : {}),
    ...(o.withAttachments ? { withAttachments: true } : {}),
    ...(o.withHistory ? { withHistory: true } : {}),
  };
  const narrowed = o.case !== undefined || !!o.tags?.length || o.maxClassification !== undefined || !!o.records?.length;
  const scope: 'days' | 'records' = narrowed ? 'records' : 'days';

  // ---- selection ---------------------------------------------------------------------------
  const sql = vault.db.sql;
  let rows = sql
    .prepare('SELECT id, kind, captured_at, epoch_day, created_at, updated_at, version, wrapped_dek, summary, content FROM record WHERE captured_at >= ? AND captured_at < ? AND deleted_at IS NULL ORDER BY captured_at, id')
    .all(...dayRangeMs(o.from, o.until)) as RecordRow[];
  if (o.records?.length) {
    const inRange = new Map(rows.map((r) => [r.id, r]));
    for (const id of o.records) if (!inRange.has(id)) throw new CustodyError('BAD_REQUEST', `record ${id} is not a record captured from ${o.from} to ${o.until} (or it is in the trash)`);
    const wanted = new Set(o.records);
    rows = rows.filter((r) => wanted.has(r.id));
  }
  const { vaultId } = vault;
  const chains = new Map<string, Buffer[]>();
  const maxRank = o.maxClassification ? CLASSIFICATIONS.indexOf(o.maxClassification) : CLASSIFICATIONS.length;
  try {
    const selected: RecordRow[] = [];
    // What the package's keys can open, for the classification policy: with day keys, every
    // record of those days (trash included: its ciphertext is elsewhere, but the key opens it).
    const opens = new Set<Classification>();
    // Only worth the decryption when a policy limits classification.
    const limited = (await getPolicy(custody)).maxClassification !== null;
    const allOfDays = scope === 'days' && limited ? (sql.prepare('SELECT id, kind, captured_at, epoch_day, version, wrapped_dek, summary FROM record WHERE captured_at >= ? AND captured_at < ?').all(...dayRangeMs(o.from, o.until)) as RecordRow[]) : [];
    for (const r of allOfDays) {
      const dek = unwrapKeys(keys, vaultId, r.id, r.epoch_day, r.wrapped_dek);
      try {
        opens.add(openSummary(dek[0]!, vaultId, r.id, r.version, { kind: r.kind, capturedAt: r.captured_at }, r.summary).classification);
      } finally {
        wipe(...dek);
      }
    }
    for (const r of rows) {
      checkEpochDay(r.id, r.captured_at, r.epoch_day);
      // Every grant needs the chain: a whole-day grant re-wraps only its current key (the stored
      // chain of a record moved from another day still holds that day's keys).
      const chain = unwrapKeys(keys, vaultId, r.id, r.epoch_day, r.wrapped_dek);
      if (narrowed) {
        const s = openSummary(chain[0]!, vaultId, r.id, r.version, { kind: r.kind, capturedAt: r.captured_at }, r.summary);
        const keep = (o.case === undefined || s.case === o.case) && (o.tags ?? []).every((t) => s.tags.includes(t)) && CLASSIFICATIONS.indexOf(s.classification) <= maxRank;
        if (!keep) {
          wipe(...chain);
          continue;
        }
        opens.add(s.classification);
      }
      chains.set(r.id, chain);
      selected.push(r);
    }
    await enforcePolicy(custody, { recipients: resolved, from: o.from, until: o.until, purpose: o.purpose, classifications: [...opens], maxClassification: o.maxClassification ?? null, expires: expiresAt, withAttachments: !!o.withAttachments }, now);
    if (selected.length === 0) throw new CustodyError('NOT_FOUND', 'no record matches this grant: nothing to disclose');

    // ---- history and attachments -------------------------------------------------------------
    const history = new Map<string, VersionRow[]>();
    if (o.withHistory)
      for (const part of chunks(selected.map((r) => r.id), 500)) {
        const vs = sql.prepare(`SELECT record_id, version, kind, captured_at, epoch_day, saved_at, wrapped_dek, summary, content FROM record_version WHERE record_id IN (${part.map(() => '?').join(',')}) ORDER BY version`).all(...part) as VersionRow[];
        // A version sealed on a day outside the grant stays out: its key is another day's.
        for (const v of vs) if (v.epoch_day >= o.from && v.epoch_day <= o.until) history.set(v.record_id, [...(history.get(v.record_id) ?? []), v]);
      }

    const records: PackageRecord[] = [];
    const recordKeys: PackageBody['keys']['records'] = [];
    let attachmentCount = 0;
    const attachmentRows = new AttachmentRows(sql);
    for (const r of selected) {
      const chain = chains.get(r.id)!;
      const versions = history.get(r.id) ?? [];
      const versionKeys: Buffer[] = [];
      // Each granted version's own key only (never the older keys behind it in its chain): a
      // narrowed grant lists it, a whole-day grant re-wraps it alone under the version's day.
      const versionWrapped: Buffer[] = [];
      for (const v of versions) {
        const vk = unwrapKeys(keys, vaultId, r.id, v.epoch_day, v.wrapped_dek);
        wipe(...vk.slice(1));
        if (scope === 'days') {
          versionWrapped.push(wrapKeys(keys, vaultId, r.id, v.epoch_day, [vk[0]!]));
          wipe(vk[0]!);
        } else if (!versionKeys.some((k) => k.equals(vk[0]!)) && !vk[0]!.equals(chain[0]!)) versionKeys.push(vk[0]!);
        else wipe(vk[0]!);
      }
      const rec: PackageRecord = {
        id: r.id,
        kind: r.kind,
        capturedAt: r.captured_at,
        epochDay: r.epoch_day,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
        version: r.version,
        ...(scope === 'days' ? { wrappedDek: b64(wrapKeys(keys, vaultId, r.id, r.epoch_day, [chain[0]!])) } : {}),
        summary: b64(r.summary),
        content: b64(r.content),
      };
      if (o.withHistory)
        rec.history = versions.map((v, i) => ({ version: v.version, kind: v.kind, capturedAt: v.captured_at, epochDay: v.epoch_day, savedAt: v.saved_at, ...(scope === 'days' ? { wrappedDek: b64(versionWrapped[i]!) } : {}), summary: b64(v.summary), content: b64(v.content) }));
      if (o.withAttachments) {
        const atts = attachmentRows.rowsOf(r.id);
        rec.attachments = [];
        for (const a of atts) {
          const dek = chain.find((k) => {
            try {
              wipe(open(k, a.wrappedKey, attachmentKeyAd(vaultId, r.id, a.id)));
              return true;
            } catch {
              return false;
            }
          });
          if (!dek) throw new CustodyError('TAMPERED', `attachment ${a.id} of record ${r.id} opens with none of the record's keys`);
          const key = open(dek, a.wrappedKey, attachmentKeyAd(vaultId, r.id, a.id));
          const meta = JSON.parse(open(dek, a.meta, attachmentMetaAd(vaultId, r.id, a.id)).toString('utf8')) as { name: string; size: number; sha256: string; mediaType: string };
          rec.attachments.push({ id: a.id, createdAt: a.createdAt, key: b64(key), meta: { name: meta.name, size: meta.size, sha256: meta.sha256, mediaType: meta.mediaType }, blob: b64(readFileSync(join(vault.dir, ATTACHMENTS_DIR, `${a.id}.cce`))) });
          wipe(key);
          attachmentCount++;
        }
      }
      if (scope === 'records') recordKeys.push({ id: r.id, keys: [chain[0]!, ...versionKeys].map(b64) });
      wipe(...versionKeys);
      records.push(rec);
    }

    // ---- audit entries about them, with proofs under a fresh signed checkpoint --------------
    const cp = await vault.checkpointNow('report');
    // Thousands of proofs: one pass over the leaf hashes beats row reads per proof.
    const tree = memoryTree(vault.audit, cp.size);
    if (!tree.root().equals(cp.rootHash)) throw new CustodyError('TAMPERED', 'the audit log does not match its newest signed checkpoint; run "custody audit verify"');
    const targets = [...selected.map((r) => `record:${r.id}`), ...records.flatMap((r) => (r.attachments ?? []).map((a) => `attachment:${a.id}`))];
    const nodes: string[] = [];
    const nodeIndex = new Map<string, number>();
    const indexOf = (h: Buffer): number => {
      const k = b64(h);
      let i = nodeIndex.get(k);
      if (i === undefined) nodeIndex.set(k, (i = nodes.push(k) - 1));
      return i;
    };
    const about = vault.audit.entriesAbout(targets, cp.size);
    refuseUntraceable(sql, selected, about);
    const entries: PackageEntry[] = about.map((e) => ({
      seq: e.seq,
      ...(e.entry === null ? { leafHash: e.leafHash.toString('hex') } : { entry: e.entry }),
      proof: tree.inclusionProof(e.seq, cp.size).map(indexOf),
    }));

    const grantId = uuidv7(now.getTime());
    const body: PackageBody = {
      format: BODY_FORMAT,
      grantId,
      vaultId,
      keys: { epoch: scope === 'days' ? days.map((day) => ({ day, key: b64(keys.epochKey(day)) })) : [], records: recordKeys },
      records,
      audit: { checkpoint: cp.note, nodes, entries },
    };
    const bodyBytes = Buffer.from(JSON.stringify(body), 'utf8');
    const statement: GrantStatement = {
      grantId,
      issuerVaultId: vaultId,
      issuerKey: vault.checkpoints.vkey,
      issuedAt: now.toISOString(),
      expiresAt,
      from: o.from,
      until: o.until,
      scope,
      filters,
      purpose: o.purpose,
      recipients,
      postQuantum: classical.length === 0,
      records: records.length,
      contentSha256: sha256Hex(bodyBytes),
      checkpoint: { size: cp.size, rootHash: cp.rootHash.toString('base64') },
    };
    const note = signStatement(statement, vaultId, vault.meta.deviceId, keys.signingSeed);
    const plain = encodePackage(note, bodyBytes);
    bodyBytes.fill(0);
    const file = await ageEncrypt(recipients.map((r) => r.recipient), plain);
    plain.fill(0);
    const packageSha256 = sha256Hex(file);
    const grantSha256 = grantHash(note);
    writeFileAtomic(o.out, file);

    // ---- the issuer's record of it ----------------------------------------------------------
    const commitKey = randomKey();
    const gk = grantsKey(vault);
    try {
      const filtersCommitment = commitDigest(commitKey, Buffer.from(sha256Hex(canonicalize(filters)!), 'hex'));
      const purposeCommitment = commitDigest(commitKey, Buffer.from(sha256Hex(o.purpose), 'hex'));
      const sealed = seal(gk, Buffer.from(JSON.stringify({ purpose: o.purpose, filters, recipients, commitmentKey: commitKey.toString('hex'), statement: note })), grantRowAd(vaultId, grantId));
      await vault.db.writeSync(() => {
        sql
          .prepare('INSERT INTO grant_issued (id, created_at, expires_at, from_day, until_day, scope, records, recipients, package_sha256, grant_sha256, sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(grantId, now.getTime(), expiresAt ? Date.parse(expiresAt) : null, o.from, o.until, scope, records.length, JSON.stringify(recipients.map((r) => r.fingerprint)), packageSha256, grantSha256, sealed);
        vault.audit.appendSync(vault.meta, [
          {
            event: 'grant.issued',
            target: grantTarget(grantId),
            range: { from: `${o.from}T00:00:00.000Z`, to: `${o.until}T23:59:59.999Z` },
            details: {
              recipients: recipients.map((r) => r.fingerprint),
              scope,
              records: records.length,
              attachments: attachmentCount,
              postQuantum: classical.length === 0,
              expires: expiresAt,
              packageSha256,
              grantSha256,
              filtersCommitment,
              purposeCommitment,
            },
          },
        ]);
      });
    } catch (e) {
      // No package leaves without its audit entry.
      rmSync(o.out, { force: true });
      throw e;
    } finally {
      wipe(commitKey, gk);
    }
    return {
      grantId,
      path: o.out,
      scope,
      records: records.length,
      attachments: attachmentCount,
      days,
      recipients,
      postQuantum: classical.length === 0,
      expiresAt,
      packageSha256,
      grantSha256,
      issuerFingerprint: vaultKeyFingerprint(vault),
      issuerKey: vault.checkpoints.vkey,
      checkpointSize: cp.size,
    };
  } finally {
    for (const c of chains.values()) wipe(...c);
  }
}

/**
 * The reviewer checks every record against its trail in this device's log (openDisclosure.ts
 * checkTrail: a creation or edit entry whose version is the record's). A record that arrived by
 * sync was created (and maybe last edited) on another device: those entries are in that device's
 * log, pulled here into remote_audit_entry under its own checkpoints, which a package does not
 * carry. Such a package would be refused by every reviewer, so it is not issued.
 */
function refuseUntraceable(sql: Vault['db']['sql'], selected: readonly RecordRow[], about: readonly { entry: string | null }[]): void {
  const versions = new Map<string, number>();
  for (const e of about) {
    if (e.entry === null) continue;
    const p = JSON.parse(e.entry) as { event?: string; target?: string; details?: { version?: unknown } };
    if (!p.target?.startsWith('record:')) continue;
    const v = p.event === 'record.created' ? 1 : p.event === 'record.updated' && typeof p.details?.version === 'number' ? p.details.version : null;
    if (v !== null) versions.set(p.target.slice(7), Math.max(v, versions.get(p.target.slice(7)) ?? 0));
  }
  const bad = selected.filter((r) => versions.get(r.id) !== r.version);
  if (bad.length === 0) return;
  const r = bad[0]!;
  const remote = sql.prepare(`SELECT device_id AS device FROM remote_audit_entry WHERE entry LIKE ? AND entry LIKE '%"event":"record.%' LIMIT 1`).get(`%"target":"record:${r.id}"%`) as { device: string } | undefined;
  const why = remote
    ? `it was created or last edited on another device of this vault (${remote.device}) and reached this one by sync, so its trail is in that device's log, which a disclosure package does not carry`
    : `this device's audit log has no entry for its current version ${r.version} (its entries were pruned, or it came from elsewhere)`;
  throw new CustodyError('BAD_REQUEST', `record ${r.id}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''} cannot be disclosed from this device: ${why}; a reviewer could not check it against its audit trail. Disclose it from the device that last changed it, or leave it out (--records)`);
}

function vaultKeyFingerprint(vault: Vault): string {
  return keyFingerprint(vault.checkpoints.publicKey);
}


// ---- custody grants list|show ------------------------------------------------------------------

export interface IssuedGrantView {
  grantId: string;
  createdAt: string;
  expiresAt: string | null;
  expired: boolean;
  from: string;
  until: string;
  scope: 'days' | 'records';
  records: number;
  recipients: GrantRecipient[];
  packageSha256: string;
  grantSha256: string;
  purpose: string;
  filters: GrantFilters;
  acknowledgements: { reviewerKey: string; acknowledgedAt: string; importedAt: string }[];
}

interface IssuedRow {
  id: string;
  created_at: number;
  expires_at: number | null;
  from_day: string;
  until_day: string;
  scope: 'days' | 'records';
  records: number;
  recipients: string;
  package_sha256: string;
  grant_sha256: string;
  sealed: Buffer;
}

function issuedView(vault: Vault, r: IssuedRow, now: Date): IssuedGrantView {
  const gk = grantsKey(vault);
  let d: { purpose: string; filters: GrantFilters; recipients: GrantRecipient[]; statement: string };
  try {
    d = JSON.parse(open(gk, r.sealed, grantRowAd(vault.vaultId, r.id), `grant ${r.id}`).toString('utf8')) as typeof d;
  } finally {
    wipe(gk);
  }
  // The clear columns (for listing) must say what the sealed, signed statement says: days,
  // expiry or recipients edited through the folder would otherwise be shown as issued.
  const st = parseStatement(d.statement.slice(0, d.statement.lastIndexOf('\n\n') + 1));
  const expires = st.expiresAt ? Date.parse(st.expiresAt) : null;
  const fingerprints = JSON.stringify(st.recipients.map((x) => x.fingerprint));
  if (st.grantId !== r.id || r.expires_at !== expires || r.from_day !== st.from || r.until_day !== st.until || r.scope !== st.scope || r.records !== st.records || r.recipients !== fingerprints || r.grant_sha256 !== grantHash(d.statement))
    throw new CustodyError('TAMPERED', `the issued grant ${r.id} was changed outside Custody`);
  const acks = vault.db.sql.prepare('SELECT reviewer_key, acknowledged_at, imported_at FROM grant_ack WHERE grant_id = ? ORDER BY imported_at').all(r.id) as { reviewer_key: string; acknowledged_at: number; imported_at: number }[];
  return {
    grantId: r.id,
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
    expired: r.expires_at !== null && r.expires_at <= now.getTime(),
    from: r.from_day,
    until: r.until_day,
    scope: r.scope,
    records: r.records,
    recipients: d.recipients.map((x) => ({ fingerprint: x.fingerprint, recipient: x.recipient })),
    packageSha256: r.package_sha256,
    grantSha256: r.grant_sha256,
    purpose: d.purpose,
    filters: d.filters,
    acknowledgements: acks.map((a) => ({ reviewerKey: a.reviewer_key, acknowledgedAt: new Date(a.acknowledged_at).toISOString(), importedAt: new Date(a.imported_at).toISOString() })),
  };
}

/** The disclosures this vault issued, newest first. */
export function listGrants(custody: Custody, now = new Date()): IssuedGrantView[] {
  custody.vault.keys();
  const rows = custody.vault.db.sql.prepare('SELECT * FROM grant_issued ORDER BY created_at DESC, id DESC').all() as IssuedRow[];
  return rows.map((r) => issuedView(custody.vault, r, now));
}

export function showGrant(custody: Custody, grantId: string, now = new Date()): IssuedGrantView {
  custody.vault.keys();
  if (!/^[0-9a-f-]{36}$/.test(grantId)) throw new CustodyError('BAD_REQUEST', `"${grantId.slice(0, 60)}" is not a grant id`);
  const row = custody.vault.db.sql.prepare('SELECT * FROM grant_issued WHERE id = ?').get(grantId) as IssuedRow | undefined;
  if (!row) throw new CustodyError('NOT_FOUND', `this vault issued no grant ${grantId}`);
  return issuedView(custody.vault, row, now);
}
