// The key registry as users see it (`custody keys`, the Keys panel): one line per key, no key
// material. A vault key that predates rotation has no row (it lives only in vault.json's
// wrappings): it is shown from the header, with the vault's creation time.
import { keyFingerprint } from '../crypto/keys.ts';
import type { Vault } from '../vault/vault.ts';
import { metaValue } from '../vault/meta.ts';
import { ORIGINAL_VAULT_KEY_ID } from './vaultKeyRotation.ts';
import { keyState, type KeyStatus } from './expiry.ts';
import { keyRows } from '../db/keyRows.ts';

export interface KeyInfo {
  id: string;
  kind: string;
  algorithm: string;
  status: KeyStatus;
  createdAt: string;
  rotatedAt: string | null;
  expiresAt: string | null;
  fingerprint: string;
  usageCount: number;
  /** Epoch roots: the UTC days the root serves ("2026-01-01..", "..2026-03-31", "all"). */
  serves?: string;
  replaces?: string;
  /** Days until expiry when 30 or fewer (and not yet expired). */
  expiresInDays?: number;
}

const KIND_ORDER = ['vault_key', 'epoch_root', 'device_signing', 'pdf_signing'];

export async function listKeys(vault: Vault, now = Date.now()): Promise<KeyInfo[]> {
  // Prepared, not a Prisma query: every unlock lists the keys (runQueuedRotations; db/keyRows.ts).
  const rows = keyRows(vault.db.sql, { byId: true });
  const policy = rotationPolicy(vault);
  const out: KeyInfo[] = rows.map((r) => {
    // A root made for a re-encrypted range (keys/recordKeys.ts) serves only that range: no policy rotates it.
    const bounded = r.kind === 'epoch_root' && r.untilDay !== null;
    const { status, expiresInDays } = keyState({ kind: r.kind, status: r.status, createdAt: r.createdAt.getTime(), rotatedAt: r.rotatedAt?.getTime() ?? null, expiresAt: r.expiresAt?.getTime() ?? null }, bounded ? {} : policy, now);
    return {
      id: r.id,
      kind: r.kind,
      algorithm: r.algorithm,
      status,
      createdAt: r.createdAt.toISOString(),
      rotatedAt: r.rotatedAt?.toISOString() ?? null,
      expiresAt: r.expiresAt?.toISOString() ?? null,
      fingerprint: r.fingerprint,
      usageCount: r.usageCount,
      ...(r.kind === 'epoch_root' ? { serves: r.fromDay || r.untilDay ? `${r.fromDay ?? ''}..${r.untilDay ?? ''}` : 'all days' } : {}),
      ...(r.replaces ? { replaces: r.replaces } : {}),
      ...(expiresInDays !== undefined ? { expiresInDays } : {}),
    };
  });
  if (!rows.some((r) => r.kind === 'vault_key')) {
    const createdAt = Date.parse(vault.header.createdAt);
    const { status } = keyState({ kind: 'vault_key', status: 'active', createdAt, rotatedAt: null, expiresAt: null }, policy, now);
    out.unshift({ id: ORIGINAL_VAULT_KEY_ID, kind: 'vault_key', algorithm: 'AES-256-GCM key wrap', status, createdAt: vault.header.createdAt, rotatedAt: null, expiresAt: null, fingerprint: vault.unlocked ? keyFingerprint(vault.keys().vaultKey) : '(unlock to see)', usageCount: 0 });
  }
  return out.sort((a, b) => rank(a.kind) - rank(b.kind));
}

const rank = (kind: string) => (KIND_ORDER.includes(kind) ? KIND_ORDER.indexOf(kind) : KIND_ORDER.length);

/** Rotation policy: rotate keys of these kinds once they are older than N days (meta "key_rotation_policy"). */
export type RotationPolicy = Partial<Record<'vault_key' | 'epoch_root' | 'device_signing', number>>;
export const POLICY_META = 'key_rotation_policy';

export function rotationPolicy(vault: Vault): RotationPolicy {
  const value = metaValue(vault.db.sql, POLICY_META);
  if (value === undefined) return {};
  try {
    const p = JSON.parse(value) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(p).filter(([k, v]) => ['vault_key', 'epoch_root', 'device_signing'].includes(k) && Number.isInteger(v) && (v as number) > 0)) as RotationPolicy;
  } catch {
    return {};
  }
}
