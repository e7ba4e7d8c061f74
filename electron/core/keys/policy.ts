// Scheduled rotation: a policy names, per kind, how many days a key may serve. A key older than
// that shows as rotation_queued (`custody keys`, the Keys panel) and is rotated at the next
// unlock. The vault key is not rotated automatically (it needs the recovery key, or a new one
// shown to the user): it stays queued and is reported until "custody keys rotate vault-key".
import { CustodyError } from '../../shared/errors.ts';
import { target } from '../audit/entry.ts';
import type { Vault } from '../vault/vault.ts';
import { setMetaValue } from '../vault/meta.ts';
import { rotateDeviceKey } from './deviceKeyRotation.ts';
import { rotateEpochRoot } from './epochRootRotation.ts';
import { listKeys, POLICY_META, rotationPolicy, type RotationPolicy } from './registry.ts';

const KINDS = ['vault_key', 'epoch_root', 'device_signing'] as const;
const MAX_DAYS = 36_500;

export async function setRotationPolicy(vault: Vault, policy: RotationPolicy): Promise<RotationPolicy> {
  vault.keys();
  for (const [k, v] of Object.entries(policy)) {
    if (!(KINDS as readonly string[]).includes(k)) throw new CustodyError('BAD_REQUEST', `no rotation policy for "${k}": choose ${KINDS.join(', ')}`);
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > MAX_DAYS)) throw new CustodyError('BAD_REQUEST', `a rotation period is a whole number of days from 1 to ${MAX_DAYS}`);
  }
  const next = Object.fromEntries(Object.entries({ ...rotationPolicy(vault), ...policy }).filter(([, v]) => v !== undefined)) as RotationPolicy;
  await vault.db.writeSync(() => {
    setMetaValue(vault.db.sql, POLICY_META, JSON.stringify(next));
    vault.audit.appendSync(vault.meta, [{ event: 'settings.changed', target: target.vault(vault.vaultId), details: { changed: ['keyRotationPolicy'], ...Object.fromEntries(Object.entries(next).map(([k, v]) => [`rotate.${k}`, v])) } }]);
  });
  return next;
}

/** Rotates what the policy queued (run right after an unlock). Returns what it rotated and what stays queued. */
export async function runQueuedRotations(vault: Vault, now = Date.now()): Promise<{ rotated: string[]; stillQueued: string[] }> {
  const queued = (await listKeys(vault, now)).filter((k) => k.status === 'rotation_queued');
  const rotated: string[] = [];
  const stillQueued: string[] = [];
  for (const k of queued) {
    if (k.kind === 'epoch_root' && !rotated.includes('epoch_root')) {
      await rotateEpochRoot(vault, { now });
      rotated.push('epoch_root');
    } else if (k.kind === 'device_signing' && !rotated.includes('device_signing')) {
      await rotateDeviceKey(vault);
      rotated.push('device_signing');
    } else if (k.kind === 'vault_key') stillQueued.push(k.id);
  }
  return { rotated, stillQueued };
}
