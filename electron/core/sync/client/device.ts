// Registration of a vault and of this device on the server. A device's public key is
// published with an attestation: the key sealed with the vault key, bound to vault and
// device ids. Only a holder of the vault key can make one, so the server cannot slip in a
// key of its own to sign forged checkpoints for a device.
import { CustodyError } from '../../../shared/errors.ts';
import { ad, open, seal } from '../../crypto/aead.ts';
import type { Vault } from '../../vault/vault.ts';
import type { SyncServer } from './server.ts';

const attestationAd = (vaultId: string, deviceId: string) => ad('device-key', vaultId, deviceId);

export function attest(vaultKey: Uint8Array, vaultId: string, deviceId: string, publicKey: Uint8Array): Buffer {
  return seal(vaultKey, publicKey, attestationAd(vaultId, deviceId));
}

/** The device's public key if its attestation is genuine, else undefined. */
export function attestedKey(vaultKey: Uint8Array, vaultId: string, deviceId: string, publicKey: Uint8Array, attestation: Uint8Array): Buffer | undefined {
  try {
    const key = open(vaultKey, attestation, attestationAd(vaultId, deviceId));
    return key.equals(Buffer.from(publicKey)) ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The same under any of the vault keys this device holds (the current one first): an
 * attestation made before a vault key rotation stays good, as the server keeps it as made.
 */
export function attestedKeyUnderAny(vaultKeys: readonly Uint8Array[], vaultId: string, deviceId: string, publicKey: Uint8Array, attestation: Uint8Array): Buffer | undefined {
  for (const vk of vaultKeys) {
    const key = attestedKey(vk, vaultId, deviceId, publicKey, attestation);
    if (key) return key;
  }
  return undefined;
}

/**
 * Registers the vault (header and wrapped keys) and this device; safe to repeat. Returns
 * whether the vault was new to the server.
 */
export async function registerDevice(server: SyncServer, vault: Vault): Promise<boolean> {
  const { vaultId } = vault;
  const deviceId = vault.meta.deviceId;
  const keys = await vault.db.prisma.keyEntry.findMany({ where: { kind: 'epoch_root' } });
  const publicKey = vault.checkpoints.publicKey;
  return server.query('register the vault', async (p) => {
    const created = await p.serverVault.createMany({ data: [{ id: vaultId, header: JSON.stringify(vault.header) }], skipDuplicates: true });
    if (!(await p.serverVault.findUnique({ where: { id: vaultId }, select: { id: true } })))
      throw new CustodyError('CONFLICT', `vault ${vaultId} is registered on the server under another analyst's role`);
    await p.serverVaultKey.createMany({
      data: keys.map((k) => ({ vaultId, id: k.id, kind: k.kind, algorithm: k.algorithm, createdAt: k.createdAt, fingerprint: k.fingerprint, wrapped: new Uint8Array(k.wrapped!), fromDay: k.fromDay, untilDay: k.untilDay })),
      skipDuplicates: true,
    });
    await p.serverDevice.createMany({ data: [{ vaultId, id: deviceId, publicKey: new Uint8Array(publicKey), attestation: new Uint8Array(attest(vault.keys().vaultKey, vaultId, deviceId, publicKey)) }], skipDuplicates: true });
    return created.count === 1;
  });
}
