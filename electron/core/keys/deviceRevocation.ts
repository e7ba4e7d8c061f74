// `custody sync devices` and `custody sync revoke-device ID`: a lost device of a synced vault.
// Revoking records it on the server (server migration 0004: from then on the server refuses the
// device's pushes), with a proof only a vault key holder can make (the device id sealed with
// the vault key); then rotates the vault key, sending the new one to the remaining devices only
// (vaultKeyEnvelopes.ts), and the epoch root (from today, or tomorrow when today has records),
// wrapped by the new vault key: the lost device, left with the old vault key, cannot open the
// new root nor the records under it. The revocation is an audit entry (key.revoked).
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { keyFingerprint } from '../crypto/keys.ts';
import { target } from '../audit/entry.ts';
import type { Custody } from '../custody.ts';
import { SyncServer } from '../sync/client/server.ts';
import { SyncState } from '../sync/client/state.ts';
import { rotateEpochRoot } from './epochRootRotation.ts';
import { faultPoint } from './faults.ts';
import { deleteMetaValue, metaValue, setMetaValue } from '../vault/meta.ts';
import { exchangeEpochRoots } from './syncKeys.ts';
import { rotateVaultKey } from './vaultKeyRotation.ts';
import { publishVaultKey } from './vaultKeyEnvelopes.ts';
import { dayRangeMs, utcDay } from '../util/time.ts';

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
  const vks = vault.keys().vaultKeys;
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
        revocationGenuine: r ? genuine(vks, vault.vaultId, d.id, r.proof) : null,
        thisDevice: d.id === vault.meta.deviceId,
      };
    });
  });
}

/** Whether the proof opens with one of the vault keys held here (made before or after a rotation). */
function genuine(vaultKeys: readonly Buffer[], vaultId: string, deviceId: string, proof: Uint8Array): boolean {
  for (const vk of vaultKeys) {
    try {
      if (open(vk, proof, proofAd(vaultId, deviceId)).toString('utf8') === deviceId) return true;
    } catch {
      // Not under this key; try the next.
    }
  }
  return false;
}

export interface DeviceRevocation {
  deviceId: string;
  /** The new vault key, sent to the remaining devices only. */
  vaultKey: string;
  sentTo: string[];
  leftOut: string[];
  recoveryKey?: string;
  epochRoot: string;
  fromDay: string;
}

/** A revocation begun here and not finished (crash, lost connection): `revoke-device` again resumes it. */
const REVOKING_META = 'device_revocation_pending';

/**
 * Revokes a lost device: (1) the revocation on the server, (2) a vault key rotation whose new
 * key goes to the remaining devices only (vaultKeyEnvelopes.ts), (3) an epoch root rotation,
 * wrapped by the new key and pushed. The lost device keeps the old vault key and so cannot open
 * the new root, nor any record under it. The rotation needs the password and the recovery key
 * (kept) or `recovery: 'new'`, as `keys rotate vault-key` does. Interrupted, running it again
 * for the same device finishes it.
 */
export async function revokeDevice(custody: Custody, deviceId: string, opts: { password: string; recovery: { recoveryKey: string } | 'new' }): Promise<DeviceRevocation> {
  const vault = custody.vault;
  const sql = vault.db.sql;
  if (deviceId === vault.meta.deviceId) throw new CustodyError('BAD_REQUEST', 'this is the device you are using; revoke a lost device from another one');
  const devices = await listDevices(custody);
  const d = devices.find((x) => x.id === deviceId);
  if (!d) throw new CustodyError('NOT_FOUND', `the server knows no device ${deviceId} of this vault ("custody sync devices" lists them)`);
  const resuming = metaValue(sql, REVOKING_META) === deviceId;
  if (d.revokedAt && !(resuming && d.revocationGenuine)) throw new CustodyError('CONFLICT', `device ${deviceId} was already revoked on ${d.revokedAt.slice(0, 10)}`);
  await vault.db.writeSync(() => setMetaValue(sql, REVOKING_META, deviceId));
  if (!d.revokedAt) {
    const proof = seal(vault.keys().vaultKey, Buffer.from(deviceId, 'utf8'), proofAd(vault.vaultId, deviceId));
    await withServer(custody, (server) => server.query('revoke the device', (p) => p.serverDeviceRevocation.create({ data: { vaultId: vault.vaultId, deviceId, revokedBy: vault.meta.deviceId, proof: new Uint8Array(proof) } })));
  }
  faultPoint('revoke:server');
  // The new vault key; its publication is marked in the rotation's transaction and retried at every sync.
  const vk = await rotateVaultKey(vault, opts);
  faultPoint('revoke:rotated');
  const published = await withServer(custody, (server) => publishVaultKey(server, custody));
  // From today, or from tomorrow when records of today exist: re-wrapping their keys would change
  // synced rows without a new version (docs/keys.md).
  const today = utcDay(new Date());
  // By captured_at (indexed; epoch_day is the UTC day of captured_at).
  const busy = sql.prepare('SELECT 1 FROM record WHERE captured_at >= ? LIMIT 1').get(dayRangeMs(today)[0]) !== undefined;
  const rot = await rotateEpochRoot(vault, { fromDay: busy ? utcDay(new Date(Date.now() + 86_400_000)) : today });
  await withServer(custody, (server) => exchangeEpochRoots(server, vault));
  await vault.db.writeSync(() => {
    deleteMetaValue(sql, REVOKING_META);
    vault.audit.appendSync(vault.meta, [{ event: 'key.revoked', target: target.vault(vault.vaultId), details: { kind: 'device', device: deviceId, fingerprint: d.fingerprint, vaultKey: vk.keyId, epochRoot: rot.keyId, fromDay: rot.fromDay } }]);
  });
  return { deviceId, vaultKey: vk.keyId, sentTo: published?.sentTo ?? [], leftOut: published?.leftOut ?? [], ...(vk.recoveryKey ? { recoveryKey: vk.recoveryKey } : {}), epochRoot: rot.keyId, fromDay: rot.fromDay };
}

/** Whether the server holds a genuine revocation of this device (it is then told and should lock). */
export async function thisDeviceRevoked(custody: Custody): Promise<boolean> {
  const me = (await listDevices(custody)).find((d) => d.thisDevice);
  return Boolean(me?.revokedAt && me.revocationGenuine);
}

/** The devices of this vault the server holds a genuine revocation for (sync pull accepts nothing more from them). */
export async function revokedDevices(server: SyncServer, vaultId: string, vaultKeys: readonly Buffer[]): Promise<Map<string, Date>> {
  const rows = await server.query('list revoked devices', (p) => p.serverDeviceRevocation.findMany({ where: { vaultId } }));
  return new Map(rows.filter((r) => genuine(vaultKeys, vaultId, r.deviceId, r.proof)).map((r) => [r.deviceId, r.revokedAt]));
}

/**
 * At each sync: a device another device revoked is told so, records it, and locks (its keys
 * leave memory); the sync stops with that message.
 */
export async function lockIfRevoked(server: SyncServer, custody: Custody): Promise<void> {
  const vault = custody.vault;
  const at = (await revokedDevices(server, vault.vaultId, vault.keys().vaultKeys)).get(vault.meta.deviceId);
  if (!at) return;
  await vault.record({ event: 'key.revoked', target: target.vault(vault.vaultId), success: false, details: { kind: 'device', device: vault.meta.deviceId, thisDevice: true, revokedAt: at.toISOString() } }).catch(() => undefined);
  await custody.lock();
  throw new CustodyError('LOCKED', `this device was revoked on ${at.toISOString().slice(0, 10)} by another device of the vault: it is now locked and the server refuses its changes. Stop using it; join the vault again from a trusted device if needed.`);
}
