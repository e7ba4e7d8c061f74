// `custody keys rotate device-key`: a new Ed25519 signing key for this device. The old key
// first signs a checkpoint of everything so far, then a handover note (a C2SP signed note)
// naming the new key and that checkpoint; the note goes into the log with the rotation, so a
// verifier holding either key walks across the change (handover.ts). Checkpoints after it are
// signed by the new key; reports made afterwards carry the new verifier key.
import { CustodyError } from '../../shared/errors.ts';
import { seal } from '../crypto/aead.ts';
import { generateEd25519 } from '../crypto/ed25519.ts';
import { keyFingerprint, keyMaterial, wipe } from '../crypto/keys.ts';
import { target } from '../audit/entry.ts';
import { formatVerifierKey, signNote } from '../audit/tlog/note.ts';
import { uuidv7 } from '../util/ids.ts';
import { attestDeviceKey } from '../vault/attestation.ts';
import type { Vault } from '../vault/vault.ts';
import { faultPoint } from '../util/faults.ts';
import { keyAd } from './rewrap.ts';
import { handoverText } from './handover.ts';

export interface DeviceKeyRotation {
  keyId: string;
  fingerprint: string;
  previous: string;
  vkey: string;
  handover: string;
}

export async function rotateDeviceKey(vault: Vault): Promise<DeviceKeyRotation> {
  const keys = vault.keys();
  const old = await vault.db.prisma.keyEntry.findFirst({ where: { kind: 'device_signing', status: 'active' } });
  if (!old?.publicKey) throw new CustodyError('VAULT_CORRUPT', 'the vault has no active device signing key');
  const cps = vault.checkpoints;
  const oldPub = Buffer.from(old.publicKey);
  const fresh = generateEd25519();
  keyMaterial(fresh.seed);
  try {
    // Everything so far, signed by the old key.
    const last = await vault.checkpointNow('batch');
    faultPoint('device-key:old-checkpoint');
    const keyId = uuidv7();
    const vkey = formatVerifierKey(cps.keyName, fresh.publicKey);
    const handover = signNote(handoverText({ vaultId: vault.vaultId, deviceId: vault.meta.deviceId, oldKeyId: old.id, oldFingerprint: keyFingerprint(oldPub), newKeyId: keyId, newVkey: vkey, size: last.size, rootHash: last.rootHash }), [
      { name: cps.keyName, privateKey: keys.signingSeed },
    ]);
    const fingerprint = keyFingerprint(fresh.publicKey);
    const now = Date.now();
    await vault.db.writeSync(() => {
      const sql = vault.db.sql;
      sql.prepare("UPDATE key_registry SET status = 'retired', rotated_at = ? WHERE id = ?").run(now, old.id);
      faultPoint('device-key:mid-transaction');
      sql
        .prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, usage_count, public_key, wrapped, attestation, replaces) VALUES (?, 'device_signing', 'Ed25519', 'active', ?, ?, 0, ?, ?, ?, ?)")
        .run(keyId, now, fingerprint, fresh.publicKey, seal(keys.vaultKey, fresh.seed, keyAd(vault.vaultId, keyId)), attestDeviceKey(keys.vaultKey, vault.vaultId, keyId, fresh.publicKey), old.id);
      vault.audit.appendSync(vault.meta, [{ event: 'key.rotated', target: target.key(keyId), details: { kind: 'device_signing', replaces: old.id, fingerprint, previous: keyFingerprint(oldPub), handover } }]);
    });
    faultPoint('device-key:committed');
    // From here this session signs with the new key.
    keys.replaceSigningSeed(Buffer.from(fresh.seed));
    vault.useDeviceKey(Buffer.from(fresh.publicKey));
    await vault.checkpointNow('batch');
    return { keyId, fingerprint, previous: keyFingerprint(oldPub), vkey, handover };
  } finally {
    wipe(fresh.seed);
  }
}
