// Acknowledgements: proof of delivery. The reviewer (`custody ack GRANT --out FILE`) signs a note
// over the grant's hash with their device key; the issuer (`custody grants ack FILE`) checks it
// against a grant it issued and keeps it. Both steps are audit entries.
//
//   custody-grant-ack/v1
//   grant <uuid>
//   grant-sha256 <hex: SHA-256 of the signed grant statement>
//   reviewer-vault <vault id>
//   reviewer-key <signed-note verifier key of the reviewer's device>
//   acknowledged <ISO time>
import { CustodyError } from '../../shared/errors.ts';
import { deviceKeyName, publicKeyOfVkey } from '../audit/checkpoints.ts';
import { noteVerifier, openNote, parseVerifierKey, signNote } from '../audit/tlog/note.ts';
import { vkeyFingerprint } from '../audit/vkeyFingerprint.ts';
import { writeFileAtomic } from '../util/atomicFile.ts';
import { UUID_RE } from '../util/ids.ts';
import type { Custody } from '../custody.ts';
import { grantTarget } from './disclose.ts';
import { receivedGrantHash } from './received.ts';

const HEADER = 'custody-grant-ack/v1';

export interface Acknowledgement {
  grantId: string;
  grantSha256: string;
  reviewerVaultId: string;
  reviewerKey: string;
  reviewerFingerprint: string;
  acknowledgedAt: string;
}

/** Reviewer side: signs an acknowledgement of a received grant and writes it to `out`. */
export async function acknowledge(custody: Custody, grantId: string, out: string, now = new Date()): Promise<Acknowledgement & { path: string }> {
  const { note, ...ack } = await makeAcknowledgement(custody, grantId, now);
  writeFileAtomic(out, note);
  return { path: out, ...ack };
}

/** Reviewer side: the signed acknowledgement note (audited as grant.acknowledged), for a file or the window. */
export async function makeAcknowledgement(custody: Custody, grantId: string, now = new Date()): Promise<Acknowledgement & { note: string }> {
  const vault = custody.vault;
  const keys = vault.keys();
  const { grantSha256 } = receivedGrantHash(custody, grantId);
  const reviewerKey = vault.checkpoints.vkey;
  const text = [HEADER, `grant ${grantId}`, `grant-sha256 ${grantSha256}`, `reviewer-vault ${vault.vaultId}`, `reviewer-key ${reviewerKey}`, `acknowledged ${now.toISOString()}`].join('\n') + '\n';
  const note = signNote(text, [{ name: deviceKeyName(vault.vaultId, vault.meta.deviceId), privateKey: keys.signingSeed }]);
  await vault.record({ event: 'grant.acknowledged', target: grantTarget(grantId), details: { grantSha256 } });
  return { note, grantId, grantSha256, reviewerVaultId: vault.vaultId, reviewerKey, reviewerFingerprint: vkeyFingerprint(reviewerKey), acknowledgedAt: now.toISOString() };
}

/** Parses and verifies an acknowledgement's signature by the reviewer key it names. */
export function verifyAcknowledgement(note: string): Acknowledgement {
  const bad = (m: string) => new CustodyError('TAMPERED', `the acknowledgement ${m}`);
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw bad('is not a signed note');
  const lines = note.slice(0, split).split('\n');
  const field = (i: number, key: string): string => {
    const l = lines[i];
    if (l === undefined || !l.startsWith(`${key} `)) throw bad(`is malformed (line ${i + 1} should be "${key}")`);
    return l.slice(key.length + 1);
  };
  if (lines[0] !== HEADER || lines.length !== 6) throw bad('is not a Custody acknowledgement');
  const ack = { grantId: field(1, 'grant'), grantSha256: field(2, 'grant-sha256'), reviewerVaultId: field(3, 'reviewer-vault'), reviewerKey: field(4, 'reviewer-key'), acknowledgedAt: field(5, 'acknowledged') };
  if (!UUID_RE.test(ack.grantId) || !/^[0-9a-f]{64}$/.test(ack.grantSha256) || Number.isNaN(Date.parse(ack.acknowledgedAt))) throw bad('is malformed');
  let name: string;
  try {
    name = parseVerifierKey(ack.reviewerKey).name;
  } catch (e) {
    throw bad(`names a malformed reviewer key: ${(e as Error).message}`);
  }
  if (!name.startsWith(`custody.vault/${ack.reviewerVaultId}/device/`)) throw bad("names a key of another vault than the reviewer's");
  try {
    openNote(note, [noteVerifier(name, publicKeyOfVkey(ack.reviewerKey))]);
  } catch (e) {
    throw bad(`signature does not verify: ${(e as Error).message}`);
  }
  return { ...ack, reviewerFingerprint: vkeyFingerprint(ack.reviewerKey) };
}

/** Issuer side: imports an acknowledgement of a grant this vault issued; audited. */
export async function importAcknowledgement(custody: Custody, note: string, now = new Date()): Promise<Acknowledgement & { again: boolean }> {
  const vault = custody.vault;
  vault.keys();
  let ack: Acknowledgement;
  try {
    ack = verifyAcknowledgement(note);
  } catch (e) {
    await vault.record({ event: 'grant.ack_imported', success: false, details: { reason: 'signature' } }).catch(() => undefined);
    throw e;
  }
  const sql = vault.db.sql;
  const grant = sql.prepare('SELECT grant_sha256 FROM grant_issued WHERE id = ?').get(ack.grantId) as { grant_sha256: string } | undefined;
  if (!grant) {
    await vault.record({ event: 'grant.ack_imported', target: grantTarget(ack.grantId), success: false, details: { reason: 'unknown grant' } });
    throw new CustodyError('NOT_FOUND', `this vault issued no grant ${ack.grantId}`);
  }
  if (grant.grant_sha256 !== ack.grantSha256) {
    await vault.record({ event: 'grant.ack_imported', target: grantTarget(ack.grantId), success: false, details: { reason: 'grant hash differs', reviewer: ack.reviewerFingerprint } });
    throw new CustodyError('TAMPERED', `the acknowledgement is for another version of grant ${ack.grantId} (its grant hash differs from the one issued)`);
  }
  const again = sql.prepare('SELECT 1 FROM grant_ack WHERE grant_id = ? AND reviewer_key = ?').get(ack.grantId, ack.reviewerKey) !== undefined;
  await vault.db.writeSync(() => {
    sql.prepare('INSERT OR REPLACE INTO grant_ack (grant_id, reviewer_key, acknowledged_at, imported_at, note) VALUES (?, ?, ?, ?, ?)').run(ack.grantId, ack.reviewerKey, Date.parse(ack.acknowledgedAt), now.getTime(), note);
    vault.audit.appendSync(vault.meta, [{ event: 'grant.ack_imported', target: grantTarget(ack.grantId), details: { reviewer: ack.reviewerFingerprint, reviewerVault: ack.reviewerVaultId, grantSha256: ack.grantSha256, acknowledgedAt: ack.acknowledgedAt } }]);
  });
  return { ...ack, again };
}
