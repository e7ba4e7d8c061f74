// Sharing policies (docs/sharing.md, "Policies"): limits on what a disclosure may carry, kept
// as a vault setting. The policy is sealed in meta (AES-256-GCM under a key derived from the
// vault key) and every change is a `policy.changed` audit entry carrying the whole policy
// (numbers, switches and a classification level: no analyst text). Reading checks the sealed
// copy against the newest such entry, so someone who can write the folder cannot loosen the
// policy by deleting the sealed copy or putting back an older one: the policy is then
// refused as tampered and nothing is disclosed until it is set again.
//
// enforcePolicy is what `disclose` calls before building a package: a request that breaks a
// policy is refused with a POLICY_REFUSED error naming the policy, and the refusal is a
// `grant.refused` audit entry (which policy, the numbers involved, fingerprints; never the
// purpose or any other analyst text).
import { CustodyError } from '../../shared/errors.ts';
import type { AuditInput } from '../audit/entry.ts';
import { CLASSIFICATIONS, type Classification } from '../../shared/records.ts';
import { classificationRank, DEFAULT_SHARING_POLICY, POLICY_LABELS, SharingPolicySchema, type PolicyName, type SharingPolicy } from '../../shared/sharing.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { deriveKey, wipe } from '../crypto/keys.ts';
import type { Custody } from '../custody.ts';
import { metaValue, setMetaValue } from '../vault/meta.ts';
import type { ResolvedRecipient } from './recipients.ts';

const META_KEY = 'sharing_policy';
const KEY_INFO = 'custody/sharing-policy/v1';
const sealAd = (vaultId: string) => ad('sharing-policy', vaultId);
const POLICY_NAMES = Object.keys(DEFAULT_SHARING_POLICY) as PolicyName[];
const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function policyKey(custody: Custody): Buffer {
  return deriveKey(custody.vault.keys().vaultKey, KEY_INFO);
}

/** The policy recorded by the newest policy.changed entry: undefined if none, null if unreadable. */
async function loggedPolicy(custody: Custody): Promise<SharingPolicy | null | undefined> {
  const [newest] = await custody.vault.audit.query({ event: 'policy.changed', limit: 1 });
  if (!newest) return undefined;
  // Retention may have pruned its body: then only the sealed copy is left to go by.
  if (!newest.entry) return null;
  const details = newest.entry.details;
  const parsed = SharingPolicySchema.safeParse(Object.fromEntries(POLICY_NAMES.map((k) => [k, details[k]])));
  return parsed.success ? parsed.data : null;
}

const samePolicy = (a: SharingPolicy, b: SharingPolicy) => POLICY_NAMES.every((k) => a[k] === b[k]);

/** The policy in force; needs the vault unlocked. A removed, damaged or rolled-back copy is TAMPERED. */
export async function getPolicy(custody: Custody): Promise<SharingPolicy> {
  const key = policyKey(custody);
  try {
    const vault = custody.vault;
    const row = metaValue(vault.db.sql, META_KEY);
    const logged = await loggedPolicy(custody);
    if (row === undefined) {
      if (logged !== undefined) throw tampered('the sealed sharing policy was removed');
      return { ...DEFAULT_SHARING_POLICY };
    }
    let sealed: SharingPolicy;
    try {
      sealed = SharingPolicySchema.parse(JSON.parse(open(key, Buffer.from(row, 'base64'), sealAd(vault.vaultId), 'the sharing policy').toString('utf8')));
    } catch {
      throw tampered('the sealed sharing policy does not open');
    }
    if (logged && !samePolicy(logged, sealed)) throw tampered('the sealed sharing policy is not the one the audit log last recorded (an older copy was put back)');
    return sealed;
  } finally {
    wipe(key);
  }
}

const tampered = (why: string) =>
  new CustodyError('TAMPERED', `${why}. Nothing is disclosed until the policy is set again ("custody policy set" or Settings → Sharing); the change is recorded in the audit log.`);

/**
 * Changes the policy (the fields given); the sealed copy and the policy.changed entry are
 * written in one transaction. Setting it again is also how a tampered policy is repaired.
 */
export async function setPolicy(custody: Custody, patch: Partial<SharingPolicy>): Promise<{ policy: SharingPolicy; changed: PolicyName[] }> {
  const p = SharingPolicySchema.partial().strict().safeParse(patch);
  if (!p.success) throw new CustodyError('BAD_REQUEST', `bad policy value: ${p.error.issues[0]!.path.join('.')}: ${p.error.issues[0]!.message}`);
  let before: SharingPolicy;
  let repair = false;
  try {
    before = await getPolicy(custody);
  } catch (e) {
    if (!(e instanceof CustodyError && e.code === 'TAMPERED')) throw e;
    // Repaired from the defaults plus what is set now: never from the damaged copy.
    before = { ...DEFAULT_SHARING_POLICY };
    repair = true;
  }
  const after: SharingPolicy = { ...before, ...p.data };
  const changed = POLICY_NAMES.filter((k) => before[k] !== after[k]);
  if (changed.length === 0 && !repair) return { policy: after, changed };
  const vault = custody.vault;
  const key = policyKey(custody);
  let value: string;
  try {
    value = seal(key, Buffer.from(JSON.stringify(after), 'utf8'), sealAd(vault.vaultId)).toString('base64');
  } finally {
    wipe(key);
  }
  await vault.db.writeSync(() => {
    setMetaValue(vault.db.sql, META_KEY, value);
    vault.audit.appendSync(vault.meta, [{ event: 'policy.changed', details: { changed, ...(repair ? { repaired: true } : {}), ...after } }]);
  });
  return { policy: after, changed };
}

/** A disclosure request as far as policies are concerned. */
export interface DisclosureRequest {
  recipients: readonly ResolvedRecipient[];
  /** First and last UTC day granted, inclusive (YYYY-MM-DD). */
  from: string;
  until: string;
  purpose?: string | null;
  /**
   * Every classification the package's keys can open: for a whole-day grant, those of all the
   * records of its days (epoch keys open them all), else those of the selected records.
   */
  classifications: readonly Classification[];
  /** The request's own --max-classification filter, if any. */
  maxClassification?: Classification | null;
  /** When the grant expires (ISO date or date-time), or null/undefined for never. */
  expires?: string | null;
  withAttachments: boolean;
}

const daysBetween = (from: string, until: string) => Math.round((Date.parse(`${until}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;

/** Which policy a request breaks, and the non-text facts of the refusal; null if none. */
export function policyBreach(policy: SharingPolicy, r: DisclosureRequest, now: Date): { policy: PolicyName; why: string; details: Record<string, string | number | boolean> } | null {
  if (policy.purposeRequired && !(r.purpose ?? '').trim()) return { policy: 'purposeRequired', why: 'a disclosure must state its purpose (--purpose)', details: {} };
  if (policy.addressBookOnly) {
    const outside = r.recipients.filter((x) => !x.fromAddressBook);
    if (outside.length) return { policy: 'addressBookOnly', why: `${outside.length} recipient(s) are not in the address book (${outside.map((x) => x.fingerprint).join(', ')})`, details: { outside: outside.length } };
  }
  if (policy.maxRangeDays !== null) {
    const days = daysBetween(r.from, r.until);
    if (days > policy.maxRangeDays) return { policy: 'maxRangeDays', why: `the request covers ${days} days, the limit is ${policy.maxRangeDays}`, details: { days, limit: policy.maxRangeDays } };
  }
  if (policy.maxClassification !== null) {
    const limit = classificationRank(policy.maxClassification);
    const above = [...new Set(r.classifications)].filter((c) => classificationRank(c) > limit);
    if (r.maxClassification && classificationRank(r.maxClassification) > limit)
      return { policy: 'maxClassification', why: `the request allows up to "${r.maxClassification}", the limit is "${policy.maxClassification}"`, details: { requested: r.maxClassification, limit: policy.maxClassification } };
    if (above.length)
      return {
        policy: 'maxClassification',
        why: `the package would open records classified ${above.map((c) => `"${c}"`).join(', ')}, the limit is "${policy.maxClassification}" (narrow the grant, e.g. --max-classification ${policy.maxClassification})`,
        details: { above: above.sort((a, b) => classificationRank(a) - classificationRank(b)).join(','), limit: policy.maxClassification },
      };
  }
  if (policy.maxExpiryDays !== null) {
    if (!r.expires) return { policy: 'maxExpiryDays', why: `a disclosure must expire within ${policy.maxExpiryDays} days (--expires)`, details: { limit: policy.maxExpiryDays, expires: 'never' } };
    const at = Date.parse(DAY.test(r.expires) ? `${r.expires}T23:59:59.999Z` : r.expires);
    const days = Math.ceil((at - now.getTime()) / DAY_MS);
    if (days > policy.maxExpiryDays) return { policy: 'maxExpiryDays', why: `the grant would expire in ${days} days, the limit is ${policy.maxExpiryDays}`, details: { days, limit: policy.maxExpiryDays } };
  }
  if (!policy.attachmentsAllowed && r.withAttachments) return { policy: 'attachmentsAllowed', why: 'attachments may not be disclosed (drop --with-attachments)', details: {} };
  return null;
}

/**
 * Checks a disclosure request against the policy in force. A breach is refused with
 * POLICY_REFUSED naming the policy, after a grant.refused audit entry is written (if even that
 * cannot be written, the request is refused all the same). Returns the policy applied.
 */
export async function enforcePolicy(custody: Custody, request: DisclosureRequest, now = new Date()): Promise<SharingPolicy> {
  if (!DAY.test(request.from) || !DAY.test(request.until) || request.from > request.until) throw new CustodyError('BAD_REQUEST', 'the range must be two days YYYY-MM-DD, from before until');
  if (request.classifications.some((c) => !CLASSIFICATIONS.includes(c))) throw new CustodyError('BAD_REQUEST', 'unknown classification in the request');
  if (request.expires && Number.isNaN(Date.parse(DAY.test(request.expires) ? `${request.expires}T00:00:00Z` : request.expires))) throw new CustodyError('BAD_REQUEST', 'the expiry is not a date');
  let policy: SharingPolicy;
  try {
    policy = await getPolicy(custody);
  } catch (e) {
    if (e instanceof CustodyError && e.code === 'TAMPERED') await refuse(custody, request, { policy: 'tampered', details: {} });
    throw e;
  }
  const breach = policyBreach(policy, request, now);
  if (!breach) return policy;
  await refuse(custody, request, { policy: breach.policy, details: breach.details });
  throw new CustodyError('POLICY_REFUSED', `refused by the sharing policy "${POLICY_LABELS[breach.policy]}" (${breach.policy}): ${breach.why}`);
}

async function refuse(custody: Custody, r: DisclosureRequest, b: { policy: string; details: Record<string, string | number | boolean> }): Promise<void> {
  const entry: AuditInput = {
    event: 'grant.refused',
    success: false,
    range: { from: r.from, to: r.until },
    details: { policy: b.policy, recipients: r.recipients.map((x) => x.fingerprint), withAttachments: r.withAttachments, ...b.details },
  };
  try {
    await custody.vault.record(entry);
  } catch {
    // The refusal stands even if the log cannot take the entry.
  }
}

/** A vault key rotation (keys/rewrap.ts): the sealed policy, re-sealed under the new key inside its transaction. */
export const SHARING_POLICY_SEALING = { metaKey: META_KEY, derive: (vk: Buffer) => deriveKey(vk, KEY_INFO), ad: sealAd } as const;
