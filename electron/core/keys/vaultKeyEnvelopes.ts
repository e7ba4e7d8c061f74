// A vault key rotation on a synced vault, across its devices (server migration 0005).
//
// The rotating device (`keys rotate vault-key`, `sync revoke-device`) rotates locally first
// (vaultKeyRotation.ts), which marks the new key for publication in the same transaction; then,
// and again at every sync until it succeeds, publishVaultKey sends the new key to every device
// that is not revoked: an age file to the device's recipient (deviceIdentity.ts), signed by the
// rotating device's Ed25519 key, one row per device in custody.vault_key_envelope, and the new
// vault.json in custody.vault_header (for joining with the password).
//
// Every other device, at its next sync (followVaultKey), takes the envelope addressed to it if:
// the signer's device key is attested by a vault key it holds; the signer is not revoked (a
// genuine revocation); the signature covers the package and its fields; the envelope leads
// from a key it holds to one it does not; the package opens with its own identity and names
// the same vault, device, key and fingerprints. It then re-wraps its database to the new key in
// one transaction (swapVaultKeyRows) and settles vault.json at its next unlock
// (vaultKeyFollow.ts). A forged envelope is refused, logged once, and changes nothing.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CustodyError } from '../../shared/errors.ts';
import { keyFingerprint, keyMaterial, wipe } from '../crypto/keys.ts';
import { signEd25519, verifyEd25519 } from '../crypto/ed25519.ts';
import { target } from '../audit/entry.ts';
import { ageDecrypt, ageEncrypt } from '../sharing/ageStream.ts';
import type { SyncProblem } from '../sync/client/context.ts';
import { SyncServer } from '../sync/client/server.ts';
import { SyncState } from '../sync/client/state.ts';
import { metaValue, setMetaValue } from '../vault/meta.ts';
import type { Custody } from '../custody.ts';
import { deviceIdentitySecrets, registeredSigningSeed, verifiedDevices } from './deviceIdentity.ts';
import { recordRotationEvidence, revokedDevices } from './deviceRevocation.ts';
import { faultPoint } from '../util/faults.ts';
import { swapVaultKeyRows } from './vaultKeyRotation.ts';
import { clearPublication, headerVaultKey, pendingPublication, recordFollowed } from './vaultKeyFollow.ts';

/** What the age file holds (JSON). */
interface Payload {
  statement: 'custody/vault-key/v1';
  vaultId: string;
  keyId: string;
  device: string;
  from: string;
  previous: string;
  fingerprint: string;
  vaultKey: string;
  /** vault.json's recovery wrapping of the new key (the rotating device's). */
  recovery: string;
  /** The revoked devices this rotation left out (the follower's local evidence, deviceRevocation.ts). */
  excluded?: string[];
}

interface EnvelopeFields {
  vaultId: string;
  keyId: string;
  deviceId: string;
  fromDevice: string;
  previous: string;
  fingerprint: string;
  package: Uint8Array;
}

/** What the rotating device signs: every field of the row and the package's digest. */
export const envelopeStatement = (e: EnvelopeFields): Buffer =>
  Buffer.from(
    canonicalize({ statement: 'custody/vault-key-envelope/v1', vaultId: e.vaultId, keyId: e.keyId, device: e.deviceId, from: e.fromDevice, previous: e.previous, fingerprint: e.fingerprint, package: createHash('sha256').update(e.package).digest('hex') })!,
    'utf8',
  );

export interface Publication {
  keyId: string;
  sentTo: string[];
  /** Devices that have not published an encryption key (made before 0005 and not synced since): they must join again. */
  leftOut: string[];
}

/** Sends the vault key rotated here to the other devices, if a rotation waits for it. */
export async function publishVaultKey(server: SyncServer, custody: Custody): Promise<Publication | null> {
  const vault = custody.vault;
  const sql = vault.db.sql;
  const pending = pendingPublication(sql);
  if (!pending) return null;
  const keys = vault.keys();
  const vk = keys.vaultKey;
  const fingerprint = keyFingerprint(vk);
  const active = sql.prepare("SELECT id FROM key_registry WHERE kind = 'vault_key' AND status = 'active'").pluck().get() as string | undefined;
  if (active !== pending.keyId) {
    // A later rotation superseded it; that one is published instead.
    await vault.db.writeSync(() => clearPublication(sql, pending.keyId));
    return null;
  }
  const { vaultId } = vault;
  const me = vault.meta.deviceId;
  const devices = await verifiedDevices(server, vault);
  const revoked = await revokedDevices(server, vault);
  const self = devices.get(me);
  if (!self) throw new CustodyError('NOT_FOUND', 'this device is not registered on the sync server');
  const seed = registeredSigningSeed(vault, self.publicKey);
  if (!seed) throw new CustodyError('TAMPERED', 'the server holds a signing key for this device that is none of its own');
  const sentTo: string[] = [];
  const leftOut: string[] = [];
  const rows: (EnvelopeFields & { package: Uint8Array<ArrayBuffer>; signature: Uint8Array<ArrayBuffer> })[] = [];
  try {
    for (const d of devices.values()) {
      if (d.id === me || revoked.has(d.id)) continue;
      if (!d.recipient) {
        leftOut.push(d.id);
        continue;
      }
      const payload: Payload = { statement: 'custody/vault-key/v1', vaultId, keyId: pending.keyId, device: d.id, from: me, previous: pending.previous, fingerprint, vaultKey: vk.toString('base64'), recovery: vault.header.wrappedVaultKey.recovery, excluded: [...revoked.keys()] };
      const plain = keyMaterial(Buffer.from(JSON.stringify(payload), 'utf8'));
      let pkg: Buffer;
      try {
        pkg = await ageEncrypt([d.recipient], plain);
      } finally {
        wipe(plain);
      }
      const fields = { vaultId, keyId: pending.keyId, deviceId: d.id, fromDevice: me, previous: pending.previous, fingerprint, package: new Uint8Array(pkg) };
      rows.push({ ...fields, signature: new Uint8Array(signEd25519(seed, envelopeStatement(fields))) });
      sentTo.push(d.id);
    }
  } finally {
    wipe(seed);
  }
  // Every replaced key, wrapped by the current one: a device joining with the password walks back through them (joinKeys.ts).
  const replaced = sql.prepare("SELECT id, algorithm, created_at, fingerprint, wrapped FROM key_registry WHERE kind = 'vault_key' AND status = 'retired' AND wrapped IS NOT NULL").all() as { id: string; algorithm: string; created_at: number; fingerprint: string; wrapped: Buffer }[];
  await server.query('send the new vault key to the other devices', async (p) => {
    if (rows.length) await p.serverVaultKeyEnvelope.createMany({ data: rows, skipDuplicates: true });
    // For joining with the password: the new vault.json, and the replaced key wrapped by the new one (keys/joinKeys.ts).
    await p.serverVaultHeader.createMany({ data: [{ vaultId, keyId: pending.keyId, header: JSON.stringify(vault.header) }], skipDuplicates: true });
    if (replaced.length)
      await p.serverVaultKey.createMany({
        data: replaced.map((r) => ({ vaultId, id: r.id, kind: 'vault_key', algorithm: r.algorithm, createdAt: new Date(r.created_at), fingerprint: r.fingerprint, wrapped: new Uint8Array(r.wrapped) })),
        skipDuplicates: true,
      });
  });
  faultPoint('vault-key:published');
  await vault.db.writeSync(() => {
    clearPublication(sql, pending.keyId);
    recordRotationEvidence(sql, pending.previous, [...revoked.keys()]);
    vault.audit.appendSync(vault.meta, [{ event: 'key.rotated', target: target.key(pending.keyId), details: { kind: 'vault_key', via: 'sync', published: true, devices: sentTo.join(','), leftOut: leftOut.join(',') } }]);
  });
  return { keyId: pending.keyId, sentTo, leftOut };
}

/** publishVaultKey on its own connection (the CLI right after `keys rotate vault-key`). */
export async function sendRotatedKey(custody: Custody): Promise<Publication | null> {
  const server = await SyncServer.connect(new SyncState(custody.vault).url());
  try {
    return await publishVaultKey(server, custody);
  } finally {
    await server.close();
  }
}

const REFUSED_META = 'vault_key_envelopes_refused';

/**
 * Takes the vault key rotations other devices sent to this one, oldest first. Returns how many
 * were followed and the envelopes refused (each logged once as sync.server_misbehaved).
 * Throws LOCKED when a rotation left this device out (it holds no envelope for a key others moved to).
 */
export async function followVaultKey(server: SyncServer, custody: Custody): Promise<{ followed: string[]; problems: SyncProblem[] }> {
  const vault = custody.vault;
  const sql = vault.db.sql;
  const { vaultId } = vault;
  const me = vault.meta.deviceId;
  const envelopes = await server.query('read vault key envelopes', (p) => p.serverVaultKeyEnvelope.findMany({ where: { vaultId }, orderBy: [{ createdAt: 'asc' }, { keyId: 'asc' }] }));
  const followed: string[] = [];
  const problems: SyncProblem[] = [];
  if (envelopes.length === 0) return { followed, problems };
  const held = () => new Set(vault.keys().vaultKeys.map((k) => keyFingerprint(k)));
  const refused = new Set<string>(JSON.parse(metaValue(sql, REFUSED_META) ?? '[]') as string[]);
  const newlyRefused: { id: string; message: string }[] = [];
  let devices: Awaited<ReturnType<typeof verifiedDevices>> | undefined;
  let revoked: Map<string, Date> | undefined;
  let identities: string[] | undefined;
  /** Why an envelope is not to be trusted, or null: its signer must be a device of this vault, not revoked, and have signed it. */
  const untrusted = async (e: (typeof envelopes)[number]): Promise<string | null> => {
    devices ??= await verifiedDevices(server, vault);
    revoked ??= await revokedDevices(server, vault);
    const signer = devices.get(e.fromDevice);
    if (!signer) return 'its signer is no device of this vault';
    if (revoked.has(e.fromDevice)) return 'its signer was revoked';
    try {
      if (verifyEd25519(signer.publicKey, envelopeStatement(e), e.signature)) return null;
    } catch {
      // A malformed signature is a bad one.
    }
    return 'its signature does not verify';
  };
  // Two devices rotating from the same key before they sync must not swap keys: the later
  // rotation (uuidv7 ids sort by time) wins everywhere, an older one is not taken.
  const activeId = () => (sql.prepare("SELECT id FROM key_registry WHERE kind = 'vault_key' AND status = 'active'").pluck().get() as string | undefined) ?? '';
  for (const e of envelopes.filter((x) => x.deviceId === me)) {
    const have = held();
    if (have.has(e.fingerprint) || !have.has(e.previous) || e.keyId <= activeId()) continue;
    const id = `${e.keyId}/${e.fromDevice}`;
    const refuse = (why: string) => {
      const message = `a vault key envelope (key ${e.keyId}, said to come from device ${e.fromDevice}) was refused: ${why}`;
      problems.push({ device: e.fromDevice, kind: 'vault-key-envelope', message });
      if (!refused.has(id)) newlyRefused.push({ id, message });
    };
    const why = await untrusted(e);
    if (why) {
      refuse(why);
      continue;
    }
    identities ??= await deviceIdentitySecrets(vault);
    let payload: Payload;
    let plain: Buffer | undefined;
    try {
      plain = await ageDecrypt(e.package, identities);
      payload = JSON.parse(plain.toString('utf8')) as Payload;
    } catch {
      refuse('it does not open with this device’s key');
      continue;
    } finally {
      wipe(plain);
    }
    const newVk = keyMaterial(Buffer.from(typeof payload.vaultKey === 'string' ? payload.vaultKey : '', 'base64'));
    payload.vaultKey = '';
    if (
      payload.statement !== 'custody/vault-key/v1' ||
      payload.vaultId !== vaultId ||
      payload.keyId !== e.keyId ||
      payload.device !== me ||
      payload.from !== e.fromDevice ||
      payload.previous !== e.previous ||
      payload.fingerprint !== e.fingerprint ||
      newVk.length !== 32 ||
      keyFingerprint(newVk) !== e.fingerprint ||
      typeof payload.recovery !== 'string' ||
      (payload.excluded !== undefined && !(Array.isArray(payload.excluded) && payload.excluded.every((x) => typeof x === 'string'))) ||
      !/^[A-Za-z0-9+/]+={0,2}$/.test(payload.recovery)
    ) {
      wipe(newVk);
      refuse('its content does not match it');
      continue;
    }
    await followRotation(custody, newVk, e.keyId, payload.recovery, e.fromDevice, { retired: e.previous, excluded: payload.excluded ?? [] });
    followed.push(e.keyId);
    // What this rotation left out is now local evidence: judge revocations (and signers) again.
    revoked = undefined;
  }
  if (newlyRefused.length)
    await vault.db.writeSync(() => {
      setMetaValue(sql, REFUSED_META, JSON.stringify([...refused, ...newlyRefused.map((r) => r.id)]));
      vault.audit.appendSync(
        vault.meta,
        newlyRefused.map((r) => ({ event: 'sync.server_misbehaved' as const, target: target.vault(vaultId), success: false, details: { kind: 'vault-key-envelope', envelope: r.id } })),
      );
    });
  // A rotation others moved to, from a key held here, with nothing (genuine) for this device: it was left out.
  const have = held();
  let missed: (typeof envelopes)[number] | undefined;
  const current = activeId();
  for (const x of envelopes) if (x.deviceId !== me && x.keyId > current && have.has(x.previous) && !have.has(x.fingerprint) && !(await untrusted(x))) missed = x;
  if (missed)
    throw new CustodyError(
      'LOCKED',
      `the vault key was rotated by device ${missed.fromDevice} on ${missed.createdAt.toISOString().slice(0, 10)} and no copy was sent to this device: it cannot read what the other devices write from then on. Join the vault again (custody sync join) with the password.`,
    );
  return { followed, problems };
}

/** The local rotation to a key another device made: one transaction; vault.json follows at the next unlock. */
async function followRotation(custody: Custody, newVk: Buffer, keyId: string, recovery: string, fromDevice: string, left: { retired: string; excluded: string[] }): Promise<void> {
  const vault = custody.vault;
  const keys = vault.keys();
  const oldVk = keys.vaultKey;
  try {
    faultPoint('vault-key:follow-opened');
    await vault.db.writeSync(() => {
      const sql = vault.db.sql;
      const headerVk = headerVaultKey(sql, keys.vaultKeys);
      const swap = swapVaultKeyRows(vault, oldVk, newVk, keyId, Date.parse(vault.header.createdAt));
      recordFollowed(sql, vault.vaultId, headerVk, newVk, keyId, recovery);
      recordRotationEvidence(sql, left.retired, left.excluded);
      vault.audit.appendSync(vault.meta, [
        { event: 'key.rotated', target: target.key(keyId), details: { kind: 'vault_key', via: 'sync', from: fromDevice, replaces: swap.replacesShown, fingerprint: keyFingerprint(newVk), previous: keyFingerprint(oldVk), rewrapped: Object.values(swap.rewrapped).reduce((a, b) => a + b, 0) } },
      ]);
    });
    faultPoint('vault-key:follow-committed');
    keys.replaceVaultKey(Buffer.from(newVk));
  } finally {
    wipe(newVk);
  }
}
