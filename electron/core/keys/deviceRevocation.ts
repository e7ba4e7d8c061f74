// `custody sync devices` and `custody sync revoke-device ID`: a lost device of a synced vault.
// Revoking records it on the server (server migration 0004: from then on the server refuses the
// device's pushes), with a proof signed by the revoking device's key and sealed with the vault
// key, judged with local rotation evidence (judgeRevocations); then rotates the vault key, sending the new one to the remaining devices only
// (vaultKeyEnvelopes.ts), and the epoch root (from today, or tomorrow when today has records),
// wrapped by the new vault key: the lost device, left with the old vault key, cannot open the
// new root nor the records under it. The revocation is an audit entry (key.revoked).
import canonicalize from 'canonicalize';
import type Database from 'better-sqlite3';
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { keyFingerprint, wipe } from '../crypto/keys.ts';
import { signEd25519, verifyEd25519 } from '../crypto/ed25519.ts';
import type { Vault } from '../vault/vault.ts';
import type { SyncProblem } from '../sync/client/context.ts';
import { registeredSigningSeed, verifiedDevices } from './deviceIdentity.ts';
import { target } from '../audit/entry.ts';
import type { Custody } from '../custody.ts';
import { SyncServer } from '../sync/client/server.ts';
import { SyncState } from '../sync/client/state.ts';
import { rotateEpochRoot } from './epochRootRotation.ts';
import { faultPoint } from '../util/faults.ts';
import { deleteMetaValue, metaValue, setMetaValue } from '../vault/meta.ts';
import { exchangeEpochRoots } from './syncKeys.ts';
import { rotateVaultKey } from './vaultKeyRotation.ts';
import { publishVaultKey } from './vaultKeyEnvelopes.ts';
import { dayRangeMs, utcDay } from '../util/time.ts';

const proofAd = (vaultId: string, deviceId: string) => ad('device-revocation', vaultId, deviceId);

/** What the revoking device signs with its Ed25519 device key (the proof seals it with the vault key). */
const revocationStatement = (vaultId: string, deviceId: string, revokedBy: string): Buffer =>
  Buffer.from(canonicalize({ statement: 'custody/device-revocation/v2', vaultId, deviceId, revokedBy })!, 'utf8');

/**
 * Local evidence of who a vault key rotation left out: written by the device that published the
 * rotation and by each device that followed it (the excluded list comes inside the signed,
 * encrypted envelope, never from server rows). A revocation signed by a device left out, or
 * proved under the retired key for a device the rotation kept, is not genuine here.
 */
const EVIDENCE_META = 'device_revocation_evidence';
const CONFLICT_META = 'device_revocation_conflicts';
interface RotationEvidence {
  /** Fingerprint of the vault key the rotation retired. */
  retired: string;
  excluded: string[];
}

function evidence(sql: Database.Database): RotationEvidence[] {
  try {
    return JSON.parse(metaValue(sql, EVIDENCE_META) ?? '[]') as RotationEvidence[];
  } catch {
    throw new CustodyError('VAULT_CORRUPT', `the vault's ${EVIDENCE_META} entry is damaged`);
  }
}

/** Inside the caller's transaction (publishing or following a rotation): remembers whom it left out. */
export function recordRotationEvidence(sql: Database.Database, retired: string, excluded: readonly string[]): void {
  const all = evidence(sql);
  if (all.some((e) => e.retired === retired && e.excluded.join(',') === [...excluded].sort().join(','))) return;
  setMetaValue(sql, EVIDENCE_META, JSON.stringify([...all, { retired, excluded: [...excluded].sort() }]));
}

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
  return withServer(custody, async (server) => {
    const [devices, revoked] = await server.query('list devices', (p) =>
      Promise.all([p.serverDevice.findMany({ where: { vaultId: vault.vaultId }, orderBy: { registeredAt: 'asc' } }), p.serverDeviceRevocation.findMany({ where: { vaultId: vault.vaultId } })]),
    );
    const judged = await judgeRevocations(server, vault, revoked);
    return devices.map((d) => {
      const r = revoked.find((x) => x.deviceId === d.id);
      return {
        id: d.id,
        fingerprint: keyFingerprint(d.publicKey),
        registeredAt: d.registeredAt.toISOString(),
        revokedAt: r?.revokedAt.toISOString() ?? null,
        revocationGenuine: r ? judged.revoked.has(d.id) : null,
        thisDevice: d.id === vault.meta.deviceId,
      };
    });
  });
}

interface RevocationRow {
  deviceId: string;
  revokedBy: string;
  revokedAt: Date;
  proof: Uint8Array;
}

/** Fingerprint of the vault key held here under which the proof opens and is signed by its revoker, or null. */
function provedUnder(vault: Vault, r: RevocationRow, signers: Map<string, { publicKey: Buffer }>): string | null {
  for (const vk of vault.keys().vaultKeys) {
    let plain: Buffer;
    try {
      plain = open(vk, r.proof, proofAd(vault.vaultId, r.deviceId));
    } catch {
      continue; // Not under this key; try the next.
    }
    try {
      const p = JSON.parse(plain.toString('utf8')) as { device?: unknown; by?: unknown; signature?: unknown };
      const signer = signers.get(r.revokedBy);
      if (p.device !== r.deviceId || p.by !== r.revokedBy || typeof p.signature !== 'string' || !signer) return null;
      return verifyEd25519(signer.publicKey, revocationStatement(vault.vaultId, r.deviceId, r.revokedBy), Buffer.from(p.signature, 'base64')) ? keyFingerprint(vk) : null;
    } catch {
      // An unsigned proof (the device id alone) names no revoker anyone can check.
      return null;
    }
  }
  return null;
}

/**
 * The genuine revocations: sealed with a vault key held here, signed by the device it names as
 * revoker, and not contradicted by this device's own evidence (recordRotationEvidence). Two
 * devices revoking each other, which that evidence cannot order, count for neither: a conflict.
 */
async function judgeRevocations(server: SyncServer, vault: Vault, rows?: RevocationRow[]): Promise<{ revoked: Map<string, Date>; conflicts: [string, string][] }> {
  rows ??= await server.query('list revoked devices', (p) => p.serverDeviceRevocation.findMany({ where: { vaultId: vault.vaultId } }));
  const signers = rows.length ? await verifiedDevices(server, vault) : new Map();
  const known = evidence(vault.db.sql);
  const kept = rows.filter((r) => {
    const under = provedUnder(vault, r, signers);
    if (under === null) return false;
    // Signed by a device a rotation this device made or followed left out: not genuine.
    if (known.some((e) => e.excluded.includes(r.revokedBy))) return false;
    // Proved only with a key that rotation retired, for a device it kept: made after, not genuine.
    return !known.some((e) => e.retired === under && !e.excluded.includes(r.deviceId));
  });
  const conflicts: [string, string][] = [];
  const mutual = (r: RevocationRow) => kept.some((o) => o.deviceId === r.revokedBy && o.revokedBy === r.deviceId && o.deviceId !== o.revokedBy);
  for (const r of kept) if (mutual(r) && r.deviceId < r.revokedBy) conflicts.push([r.deviceId, r.revokedBy]);
  return { revoked: new Map(kept.filter((r) => !mutual(r)).map((r) => [r.deviceId, r.revokedAt])), conflicts };
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
    const proof = await withServer(custody, (server) => signedProof(server, vault, deviceId));
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

/** The revocation proof: signed by this device's registered key, sealed with the vault key. */
async function signedProof(server: SyncServer, vault: Vault, deviceId: string): Promise<Buffer> {
  const self = (await verifiedDevices(server, vault)).get(vault.meta.deviceId);
  const seed = self && registeredSigningSeed(vault, self.publicKey);
  if (!seed) throw new CustodyError('TAMPERED', 'the server holds no signing key of this device that it can check: sync once, then revoke');
  try {
    const signature = signEd25519(seed, revocationStatement(vault.vaultId, deviceId, vault.meta.deviceId)).toString('base64');
    return seal(vault.keys().vaultKey, Buffer.from(JSON.stringify({ device: deviceId, by: vault.meta.deviceId, signature }), 'utf8'), proofAd(vault.vaultId, deviceId));
  } finally {
    wipe(seed);
  }
}

/** Whether the server holds a genuine revocation of this device (it is then told and should lock). */
export async function thisDeviceRevoked(custody: Custody): Promise<boolean> {
  const me = (await listDevices(custody)).find((d) => d.thisDevice);
  return Boolean(me?.revokedAt && me.revocationGenuine);
}

/** The devices of this vault the server holds a genuine revocation for (sync pull accepts nothing more from them). */
export async function revokedDevices(server: SyncServer, vault: Vault): Promise<Map<string, Date>> {
  return (await judgeRevocations(server, vault)).revoked;
}

/**
 * At each sync: a device another device revoked is told so, records it, and locks (its keys
 * leave memory); the sync stops with that message.
 */
export async function lockIfRevoked(server: SyncServer, custody: Custody): Promise<SyncProblem[]> {
  const vault = custody.vault;
  const judged = await judgeRevocations(server, vault);
  const problems = judged.conflicts.map(([x, y]) => ({
    device: y,
    kind: 'device-revocation-conflict',
    message: `devices ${x} and ${y} revoked each other and this device cannot tell which came first: neither revocation is applied here. Check which device was lost, and revoke it again from a trusted device after its next sync.`,
  }));
  const seen = new Set<string>(JSON.parse(metaValue(vault.db.sql, CONFLICT_META) ?? '[]') as string[]);
  const fresh = judged.conflicts.map((c) => c.join('/')).filter((c) => !seen.has(c));
  if (fresh.length)
    await vault.db.writeSync(() => {
      setMetaValue(vault.db.sql, CONFLICT_META, JSON.stringify([...seen, ...fresh]));
      vault.audit.appendSync(vault.meta, fresh.map((c) => ({ event: 'sync.server_misbehaved' as const, target: target.vault(vault.vaultId), success: false, details: { kind: 'device-revocation-conflict', devices: c } })));
    });
  const at = judged.revoked.get(vault.meta.deviceId);
  if (!at) return problems;
  await vault.record({ event: 'key.revoked', target: target.vault(vault.vaultId), success: false, details: { kind: 'device', device: vault.meta.deviceId, thisDevice: true, revokedAt: at.toISOString() } }).catch(() => undefined);
  await custody.lock();
  throw new CustodyError('LOCKED', `this device was revoked on ${at.toISOString().slice(0, 10)} by another device of the vault: it is now locked and the server refuses its changes. Stop using it; join the vault again from a trusted device if needed.`);
}
