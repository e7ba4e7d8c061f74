// Openings of the hash commitments in a report's entries (audit/commitment.ts). The log keeps an
// attachment's or an imported file's SHA-256 only as HMAC-SHA-256(per-item key, digest); the
// report reveals, per entry that carries such a commitment, the key and the digest
//   openings.jsonl: {"seq": n, "target": "...", "key": hex, "sha256": hex}   one line per entry
// and `custody verify` recomputes each HMAC against the commitment in the signed entry, so the
// hash a report states is the one logged when the file came in, not one chosen later.
import type { AuditEntry } from '../../shared/audit.ts';
import { COMMITMENT_DETAIL, commitDigest, openingMatches, openSealedOpening, SEALED_OPENING_DETAIL } from '../audit/commitment.ts';
import type { Custody } from '../custody.ts';

export const OPENINGS_FILE = 'openings.jsonl';

interface Opening {
  seq: number;
  target: string;
  key: string;
  sha256: string;
}

/** The openings of every commitment among `entries` that this vault can still open. */
export async function collectOpenings(custody: Custody, entries: readonly { seq: number; entry: AuditEntry }[]): Promise<string> {
  const vault = custody.vault;
  const ofAttachment = new Map<string, { key: string; sha256: string; commitment: string } | null>();
  const lines: string[] = [];
  for (const { seq, entry } of entries) {
    const commitment = entry.details[COMMITMENT_DETAIL];
    if (typeof commitment !== 'string' || !entry.target) continue;
    const [kind, id] = entry.target.split(':') as [string, string];
    let opening: Opening | undefined;
    if (kind === 'attachment') {
      if (!ofAttachment.has(id)) {
        // A purged or damaged attachment cannot be opened: the verifier counts it as not opened.
        ofAttachment.set(id, await custody.attachments.opening(id).catch(() => null));
      }
      const o = ofAttachment.get(id);
      if (o && o.commitment === commitment) opening = { seq, target: entry.target, key: o.key, sha256: o.sha256 };
    } else if (kind === 'import') {
      const sealed = entry.details[SEALED_OPENING_DETAIL];
      if (typeof sealed !== 'string') continue;
      try {
        // Sealed under the vault key of its day: a rotated one is kept for this (keys/vaultKeyRotation.ts).
        const { key, digest } = openUnderAny(vault.keys().vaultKeys, (vk) => openSealedOpening(vk, vault.vaultId, id, sealed));
        if (commitDigest(key, digest) === commitment) opening = { seq, target: entry.target, key: key.toString('hex'), sha256: digest.toString('hex') };
        key.fill(0);
      } catch {
        // Sealed by another vault or damaged: not opened.
      }
    }
    if (opening) lines.push(JSON.stringify(opening));
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/**
 * Checks every opening against the commitment in the entry it names (events.jsonl lines, whose
 * inclusion in the signed log is checked separately). Throws with every problem; returns a summary.
 */
export function checkOpenings(eventLines: readonly string[], openingsText: string | undefined): string {
  const commitments = new Map<number, string>();
  for (const line of eventLines) {
    try {
      const e = JSON.parse(line) as { seq?: unknown; details?: Record<string, unknown> };
      const c = e.details?.[COMMITMENT_DETAIL];
      if (typeof e.seq === 'number' && typeof c === 'string') commitments.set(e.seq, c);
    } catch {
      // Reported by the inclusion check.
    }
  }
  const problems: string[] = [];
  const opened = new Set<number>();
  for (const [i, line] of (openingsText ?? '').split('\n').filter(Boolean).entries()) {
    let o: Partial<Opening>;
    try {
      o = JSON.parse(line) as Partial<Opening>;
    } catch {
      problems.push(`${OPENINGS_FILE} line ${i + 1} is not JSON`);
      continue;
    }
    if (typeof o.seq !== 'number' || typeof o.key !== 'string' || typeof o.sha256 !== 'string') {
      problems.push(`${OPENINGS_FILE} line ${i + 1} is malformed`);
      continue;
    }
    const c = commitments.get(o.seq);
    if (c === undefined) problems.push(`${OPENINGS_FILE} line ${i + 1} opens entry ${o.seq}, which has no hash commitment in events.jsonl`);
    else if (!openingMatches(c, o.key, o.sha256)) problems.push(`the SHA-256 ${o.sha256} claimed for entry ${o.seq} does not open the commitment in its signed entry: it is not the hash that was logged`);
    else opened.add(o.seq);
  }
  if (problems.length) throw new Error(problems.slice(0, 20).join('; ') + (problems.length > 20 ? `; and ${problems.length - 20} more` : ''));
  const unopened = commitments.size - opened.size;
  return `${opened.size} hash commitment${opened.size === 1 ? '' : 's'} opened, each matching its signed entry${unopened ? `; ${unopened} not opened (the item is no longer in the vault)` : ''}`;
}

function openUnderAny<T>(keys: readonly Buffer[], fn: (vk: Buffer) => T): T {
  for (const [i, vk] of keys.entries()) {
    try {
      return fn(vk);
    } catch (e) {
      if (i === keys.length - 1) throw e;
    }
  }
  throw new Error('no vault key');
}
