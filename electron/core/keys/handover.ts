// Device key handover notes: the old key's signed statement that a new key takes over from a
// given checkpoint on. Verification with a pinned key (`custody audit verify --vkey`) follows
// these notes both ways: the old key vouches for the new one by signing the note, and the new
// key's checkpoints cover the log entry holding the note, which names the old one.
import { keyFingerprint } from '../crypto/keys.ts';
import { deviceKeyName, publicKeyOfVkey, type TrustedKey } from '../audit/checkpoints.ts';
import { noteVerifier, openNote } from '../audit/tlog/note.ts';
import type { StoredEntry } from '../audit/reads.ts';

const HEADER = 'custody device key handover';

export function handoverText(h: { vaultId: string; deviceId: string; oldKeyId: string; oldFingerprint: string; newKeyId: string; newVkey: string; size: number; rootHash: Buffer }): string {
  return [HEADER, `vault ${h.vaultId}`, `device ${h.deviceId}`, `old ${h.oldKeyId} ${h.oldFingerprint}`, `new ${h.newKeyId} ${h.newVkey}`, `checkpoint ${h.size} ${h.rootHash.toString('base64')}`, ''].join('\n');
}

export interface Handover {
  deviceId: string;
  oldPublicKey: Buffer;
  newPublicKey: Buffer;
  /** Size of the last checkpoint the old key signed before handing over. */
  size: number;
}

/**
 * The handovers in these log entries whose note the old key really signed; `keyOf` gives a
 * key id's public key (from the key registry). Anything malformed or unsigned is skipped:
 * it extends no trust.
 */
export function handoversIn(entries: readonly StoredEntry[], vaultId: string, keyOf: (id: string) => Buffer | undefined): Handover[] {
  const out: Handover[] = [];
  for (const e of entries) {
    if (!e.entry) continue;
    let details: Record<string, unknown>;
    try {
      const parsed = JSON.parse(e.entry) as { event?: string; details?: Record<string, unknown> };
      if (parsed.event !== 'key.rotated' || parsed.details?.kind !== 'device_signing') continue;
      details = parsed.details;
    } catch {
      continue;
    }
    const note = details.handover;
    if (typeof note !== 'string') continue;
    const lines = note.split('\n');
    const field = (name: string) => lines.find((l) => l.startsWith(`${name} `))?.slice(name.length + 1).split(' ');
    const [oldId, oldFp] = field('old') ?? [];
    const [, newVkey] = field('new') ?? [];
    const device = field('device')?.[0];
    const size = Number(field('checkpoint')?.[0]);
    const oldPublicKey = oldId ? keyOf(oldId) : undefined;
    if (lines[0] !== HEADER || field('vault')?.[0] !== vaultId || !device || !newVkey || !oldPublicKey || keyFingerprint(oldPublicKey) !== oldFp || !Number.isInteger(size)) continue;
    try {
      openNote(note, [noteVerifier(deviceKeyName(vaultId, device), oldPublicKey)]);
      out.push({ deviceId: device, oldPublicKey, newPublicKey: publicKeyOfVkey(newVkey), size });
    } catch {
      // Not signed by the key it names as old: no trust from it.
    }
  }
  return out;
}

/** The keys reachable from `start` through handovers, either way (start included). */
export function keysAcross(start: TrustedKey, handovers: readonly Handover[]): TrustedKey[] {
  const found = new Map<string, TrustedKey>([[start.publicKey.toString('hex'), start]]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const h of handovers)
      for (const [a, b] of [
        [h.oldPublicKey, h.newPublicKey],
        [h.newPublicKey, h.oldPublicKey],
      ] as const)
        if (found.has(a.toString('hex')) && !found.has(b.toString('hex'))) {
          found.set(b.toString('hex'), { publicKey: b, deviceId: h.deviceId });
          grew = true;
        }
  }
  return [...found.values()];
}
