// Each device of a synced vault has its own age identity (mlkem768x25519, through the
// age-encryption package as for reviewer identities, sharing/identity.ts), so a new vault key
// can be sent to the devices that should have it and to no other (vaultKeyEnvelopes.ts).
//
// Locally: a key registry row of kind 'device_age', its secret sealed by the vault key like
// every registry secret (re-wrapped by a vault key rotation, rewrap.ts). On the server: its
// recipient in custody.device_recipient (server migration 0005), signed by the device's Ed25519
// key as registered in custody.device, whose attestation opens with the vault key. A server
// (or anyone with the database role but not that device's signing key) cannot put a recipient
// of its own in a device's place. A device made before 0005 makes and publishes one at its
// next sync.
import { identityToRecipient } from 'age-encryption';
import canonicalize from 'canonicalize';
import { CustodyError } from '../../shared/errors.ts';
import { open, seal } from '../crypto/aead.ts';
import { keyFingerprint, keyMaterial, wipe } from '../crypto/keys.ts';
import { publicKeyOfSeed, signEd25519, verifyEd25519 } from '../crypto/ed25519.ts';
import { target } from '../audit/entry.ts';
import { uuidv7 } from '../util/ids.ts';
import { HYBRID_ALGORITHM, newHybridIdentity, recipientFingerprint } from '../sharing/identity.ts';
import type { SyncServer } from '../sync/client/server.ts';
import { attestedKeyUnderAny } from '../sync/client/device.ts';
import type { Vault } from '../vault/vault.ts';
import { keyAd } from './rewrap.ts';

export const DEVICE_AGE_KIND = 'device_age';
const HYBRID_IDENTITY = /^AGE-SECRET-KEY-PQ-1[0-9A-Z]+$/;

/** What a device signs to bind its recipient to itself in this vault. */
export const recipientStatement = (vaultId: string, deviceId: string, recipient: string): Buffer =>
  Buffer.from(canonicalize({ statement: 'custody/device-recipient/v1', vaultId, deviceId, recipient })!, 'utf8');

/** This device's active identity's recipient, made (and registered locally) if it has none. */
export async function ensureDeviceIdentity(vault: Vault): Promise<{ id: string; recipient: string }> {
  const sql = vault.db.sql;
  const row = sql.prepare("SELECT id, public_key AS publicKey FROM key_registry WHERE kind = ? AND status = 'active' ORDER BY created_at DESC LIMIT 1").get(DEVICE_AGE_KIND) as { id: string; publicKey: Buffer } | undefined;
  if (row) return { id: row.id, recipient: row.publicKey.toString('utf8') };
  const vk = vault.keys().vaultKey;
  const made = await newHybridIdentity();
  const id = uuidv7();
  const secret = keyMaterial(Buffer.from(made.identity, 'utf8'));
  let wrapped: Buffer;
  try {
    wrapped = seal(vk, secret, keyAd(vault.vaultId, id));
  } finally {
    wipe(secret);
  }
  await vault.db.writeSync(() => {
    sql
      .prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, usage_count, public_key, wrapped) VALUES (?, ?, ?, 'active', ?, ?, 0, ?, ?)")
      .run(id, DEVICE_AGE_KIND, HYBRID_ALGORITHM, Date.now(), made.fingerprint, Buffer.from(made.recipient, 'utf8'), wrapped);
    vault.audit.appendSync(vault.meta, [{ event: 'key.created', target: target.key(id), details: { kind: DEVICE_AGE_KIND, algorithm: HYBRID_ALGORITHM, fingerprint: made.fingerprint } }]);
  });
  return { id, recipient: made.recipient };
}

/** This device's identities (active first), each checked against its registered recipient. */
export async function deviceIdentitySecrets(vault: Vault): Promise<string[]> {
  const vk = vault.keys().vaultKey;
  const rows = vault.db.sql.prepare("SELECT id, status, public_key AS publicKey, wrapped FROM key_registry WHERE kind = ? ORDER BY status = 'active' DESC, created_at DESC").all(DEVICE_AGE_KIND) as { id: string; publicKey: Buffer; wrapped: Buffer }[];
  const out: string[] = [];
  for (const r of rows) {
    const raw = open(vk, r.wrapped, keyAd(vault.vaultId, r.id), 'the device identity');
    const identity = raw.toString('utf8');
    wipe(raw);
    if (!HYBRID_IDENTITY.test(identity) || (await identityToRecipient(identity)) !== r.publicKey.toString('utf8'))
      throw new CustodyError('TAMPERED', `the device identity ${r.id} does not match its registered recipient: the key registry was changed`);
    out.push(identity);
  }
  return out;
}

/**
 * The seed of this device's signing key that the server knows (custody.device.public_key): the
 * current one, or a retired one after `keys rotate device-key` (the server keeps the key the
 * device registered with). Null if none of them matches.
 */
export function registeredSigningSeed(vault: Vault, serverPublicKey: Uint8Array): Buffer | null {
  const keys = vault.keys();
  const want = Buffer.from(serverPublicKey);
  if (publicKeyOfSeed(keys.signingSeed).equals(want)) return Buffer.from(keys.signingSeed);
  const rows = vault.db.sql.prepare("SELECT id, public_key AS publicKey, wrapped FROM key_registry WHERE kind = 'device_signing' AND wrapped IS NOT NULL").all() as { id: string; publicKey: Buffer | null; wrapped: Buffer }[];
  const row = rows.find((r) => r.publicKey && want.equals(r.publicKey));
  if (!row) return null;
  const seed = keyMaterial(open(keys.vaultKey, row.wrapped, keyAd(vault.vaultId, row.id), 'a device signing key'));
  if (!publicKeyOfSeed(seed).equals(want)) {
    wipe(seed);
    return null;
  }
  return seed;
}

/** Publishes this device's recipient, signed, unless the server has it. Returns whether it was sent now. */
export async function publishDeviceRecipient(server: SyncServer, vault: Vault): Promise<boolean> {
  const { vaultId } = vault;
  const deviceId = vault.meta.deviceId;
  const mine = await ensureDeviceIdentity(vault);
  const [device, existing] = await server.query('read this device', (p) =>
    Promise.all([p.serverDevice.findUnique({ where: { vaultId_id: { vaultId, id: deviceId } } }), p.serverDeviceRecipient.findUnique({ where: { vaultId_deviceId: { vaultId, deviceId } } })]),
  );
  if (!device) throw new CustodyError('NOT_FOUND', 'this device is not registered on the sync server');
  if (existing) {
    if (existing.recipient !== mine.recipient) throw new CustodyError('TAMPERED', `the server holds another encryption key for this device (${recipientFingerprint(existing.recipient)}) than its own (${recipientFingerprint(mine.recipient)})`);
    return false;
  }
  const seed = registeredSigningSeed(vault, device.publicKey);
  if (!seed) throw new CustodyError('TAMPERED', `the server holds a signing key for this device (${keyFingerprint(device.publicKey)}) that is none of its own`);
  let signature: Buffer;
  try {
    signature = signEd25519(seed, recipientStatement(vaultId, deviceId, mine.recipient));
  } finally {
    wipe(seed);
  }
  await server.query('publish this device’s encryption key', (p) => p.serverDeviceRecipient.createMany({ data: [{ vaultId, deviceId, recipient: mine.recipient, signature: new Uint8Array(signature) }], skipDuplicates: true }));
  return true;
}

export interface VerifiedDevice {
  id: string;
  /** The Ed25519 key the server registered, attested by a vault key this device holds. */
  publicKey: Buffer;
  /** Its age recipient, if published and signed by that key. */
  recipient: string | null;
}

/**
 * The vault's devices whose signing key is attested by a vault key held here, each with its
 * recipient when that is signed by the device's key. Devices the server made up are left out.
 */
export async function verifiedDevices(server: SyncServer, vault: Vault): Promise<Map<string, VerifiedDevice>> {
  const { vaultId } = vault;
  const held = vault.keys().vaultKeys;
  const [devices, recipients] = await server.query('list devices', (p) => Promise.all([p.serverDevice.findMany({ where: { vaultId } }), p.serverDeviceRecipient.findMany({ where: { vaultId } })]));
  const out = new Map<string, VerifiedDevice>();
  for (const d of devices) {
    const publicKey = attestedKeyUnderAny(held, vaultId, d.id, d.publicKey, d.attestation);
    if (!publicKey) continue;
    const r = recipients.find((x) => x.deviceId === d.id);
    const signed = r && verifyEd25519(publicKey, recipientStatement(vaultId, d.id, r.recipient), r.signature);
    out.set(d.id, { id: d.id, publicKey, recipient: signed ? r.recipient : null });
  }
  return out;
}
