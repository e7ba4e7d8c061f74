// `custody sync devices` and `custody sync revoke-device ID`: a lost device of a synced vault.
// Revoking records it on the server (server migration 0004: from then on the server refuses the
// device's pushes), with a proof only a vault key holder can make (the device id sealed with
// the vault key), and rotates the epoch root (from today, or tomorrow when today has records), so records created afterwards are
// under day keys the lost device never derived. The revocation is an audit entry (key.revoked).
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { keyFingerprint } from '../crypto/keys.ts';
import { target } from '../audit/entry.ts';
import type { Custody } from '../custody.ts';
import { SyncServer } from '../sync/client/server.ts';
import { SyncState } from '../sync/client/state.ts';
import { rotateEpochRoot } from './epochRootRotation.ts';
import { utcDay } from '../util/time.ts';

const proofAd = (vaultId: string, deviceId: string) => ad('device-revocation', vaultId, deviceId);

export interface DeviceView {
  id: string;
  fingerprint: string;
  registeredAt: string;
  revokedAt: string | null;
  /** The revocation's proof opens with the vault key (a server cannot make one up). */
  revocationGenuine: boolean | null;
  thisDevice: boolean;
}

async function withServer<T>(custody: Custody, fn: (server: SyncServer) => Promise<T>): Promise<T> {
  const server = await SyncServer.connect(new SyncState(custody.vault).url());
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

export async function listDevices(custody: Custody): Promise<DeviceView[]> {
  const vault = custody.vault;
  const vk = vault.keys().vaultKey;
  return withServer(custody, async (server) => {
    const [devices, revoked] = await server.query('list devices', (p) =>
      Promise.all([p.serverDevice.findMany({ where: { vaultId: vault.vaultId }, orderBy: { registeredAt: 'asc' } }), p.serverDeviceRevocation.findMany({ where: { vaultId: vault.vaultId } })]),
    );
    return devices.map((d) => {
      const r = revoked.find((x) => x.deviceId === d.id);
      return {
        id: d.id,
        fingerprint: keyFingerprint(d.publicKey),
        registeredAt: d.registeredAt.toISOString(),
        revokedAt: r?.revokedAt.toISOString() ?? null,
        revocationGenuine: r ? genuine(vk, vault.vaultId, d.id, r.proof) : null,
        thisDevice: d.id === vault.meta.deviceId,
      };
    });
  });
}

function genuine(vk: Buffer, vaultId: string, deviceId: string, proof: Uint8Array): boolean {
  try {
    return open(vk, proof, proofAd(vaultId, deviceId)).toString('utf8') === deviceId;
  } catch {
    return false;
  }
}

export async function revokeDevice(custody: Custody, deviceId: string): Promise<{ deviceId: string; epochRoot: string; fromDay: string }> {
  const vault = custody.vault;
  if (deviceId === vault.meta.deviceId) throw new CustodyError('BAD_REQUEST', 'this is the device you are using; revoke a lost device from another one');
  const devices = await listDevices(custody);
  const d = devices.find((x) => x.id === deviceId);
  if (!d) throw new CustodyError('NOT_FOUND', `the server knows no device ${deviceId} of this vault ("custody sync devices" lists them)`);
  if (d.revokedAt) throw new CustodyError('CONFLICT', `device ${deviceId} was already revoked on ${d.revokedAt.slice(0, 10)}`);
  const proof = seal(vault.keys().vaultKey, Buffer.from(deviceId, 'utf8'), proofAd(vault.vaultId, deviceId));
  await withServer(custody, (server) => server.query('revoke the device', (p) => p.serverDeviceRevocation.create({ data: { vaultId: vault.vaultId, deviceId, revokedBy: vault.meta.deviceId, proof: new Uint8Array(proof) } })));
  // From today, or from tomorrow when records of today exist: re-wrapping their keys would change
  // synced rows without a new version (docs/keys.md).
  const today = utcDay(new Date());
  const busy = vault.db.sql.prepare('SELECT 1 FROM record WHERE epoch_day >= ? LIMIT 1').get(today) !== undefined;
  const rot = await rotateEpochRoot(vault, { fromDay: busy ? utcDay(new Date(Date.now() + 86_400_000)) : today });
  await vault.record({ event: 'key.revoked', target: target.vault(vault.vaultId), details: { kind: 'device', device: deviceId, fingerprint: d.fingerprint, epochRoot: rot.keyId, fromDay: rot.fromDay } });
  return { deviceId, epochRoot: rot.keyId, fromDay: rot.fromDay };
}

/** Whether the server holds a genuine revocation of this device (it is then told and should lock). */
export async function thisDeviceRevoked(custody: Custody): Promise<boolean> {
  const me = (await listDevices(custody)).find((d) => d.thisDevice);
  return Boolean(me?.revokedAt && me.revocationGenuine);
}

/** The devices of this vault the server holds a genuine revocation for (sync pull accepts nothing more from them). */
export async function revokedDevices(server: SyncServer, vaultId: string, vk: Buffer): Promise<Map<string, Date>> {
  const rows = await server.query('list revoked devices', (p) => p.serverDeviceRevocation.findMany({ where: { vaultId } }));
  return new Map(rows.filter((r) => genuine(vk, vaultId, r.deviceId, r.proof)).map((r) => [r.deviceId, r.revokedAt]));
}

/**
 * At each sync: a device another device revoked is told so, records it, and locks (its keys
 * leave memory); the sync stops with that message.
 */
export async function lockIfRevoked(server: SyncServer, custody: Custody): Promise<void> {
  const vault = custody.vault;
  const at = (await revokedDevices(server, vault.vaultId, vault.keys().vaultKey)).get(vault.meta.deviceId);
  if (!at) return;
  await vault.record({ event: 'key.revoked', target: target.vault(vault.vaultId), success: false, details: { kind: 'device', device: vault.meta.deviceId, thisDevice: true, revokedAt: at.toISOString() } }).catch(() => undefined);
  await custody.lock();
  throw new CustodyError('LOCKED', `this device was revoked on ${at.toISOString().slice(0, 10)} by another device of the vault: it is now locked and the server refuses its changes. Stop using it; join the vault again from a trusted device if needed.`);
}
