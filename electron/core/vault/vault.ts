// A vault's lifecycle: create, open (locked), unlock with the password or the recovery key,
// change password, lock. Key hierarchy of docs/architecture.md, "Keys and formats":
//   password --Argon2id--> KEK --wraps--> vault key (VK) <--wraps-- recovery key
//   VK --wraps--> epoch root --HKDF(day)--> epoch keys --wrap--> record data keys
//   VK --wraps--> device signing key (Ed25519), whose public key VK attests (attestation.ts)
//
// Key material is wiped on every path out of these functions, error paths included, and lock
// fails closed: the keys go even when its audit entry or checkpoint cannot be written (the
// entry is then owed, see pendingEntries.ts).
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CustodyError } from '../../shared/errors.ts';
import type { AuditVerification } from '../../shared/contract.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { assertKdfStrong, deriveKek, kdfBelowFloor, KDF_FLOOR, newKdfParams, type KdfParams } from '../crypto/kdf.ts';
import { deriveKey, keyFingerprint, keyMaterial, randomKey, wipe } from '../crypto/keys.ts';
import { wipeRandomPool } from '../crypto/random.ts';
import { formatRecoveryKey, parseRecoveryKey } from '../crypto/recoveryKey.ts';
import { generateEd25519, publicKeyOfSeed } from '../crypto/ed25519.ts';
import { openDatabase, type VaultDb } from '../db/database.ts';
import { AuditLog } from '../audit/log.ts';
import { registryTamperEntry } from '../audit/registryState.ts';
import { target, type AuditInput } from '../audit/entry.ts';
import { uuidv7 } from '../util/ids.ts';
import { Mutex } from '../util/mutex.ts';
import { iso } from '../util/time.ts';
import { Checkpoints, deviceKeyName, originOfKeyName, publicKeyOfVkey, type StoredCheckpoint, type TrustedKey } from '../audit/checkpoints.ts';
import { formatVerifierKey } from '../audit/tlog/note.ts';
import { checkExternalCheckpoint, verifyLog, type Problem, type Progress } from '../audit/verifyLog.ts';
import { ATTACHMENTS_DIR, CHECKPOINT_FILE, DATABASE_FILE, HEADER_FILE, headerBinding, PENDING_HEADER_META, readHeader, settlePendingHeader, writeHeader, type VaultHeader } from './header.ts';
import { attestDeviceKey, deviceKeyAttested } from './attestation.ts';
import { Keyring, type EpochRoot } from './keyring.ts';
import { handoversIn, keysAcross } from '../keys/handover.ts';
import { openRoot, sealRoot } from '../keys/rootWrap.ts';
import { followedVaultKey, settleFollowedRotation } from '../keys/vaultKeyFollow.ts';
import { readMeta, writeMeta, type VaultMeta } from './meta.ts';
import { keyRows } from '../db/keyRows.ts';
import { causeOf, PendingEntries, type PendingEntry, type PendingSearch } from './pendingEntries.ts';
import { UnlockThrottle } from './unlockThrottle.ts';
import { DiskReserve } from '../backup/diskReserve.ts';

export interface CreateVaultOptions {
  password: string;
  kdf?: Partial<Omit<KdfParams, 'algorithm' | 'salt'>>;
  /** Who is working: recorded as the actor of audit entries. */
  actor?: string;
}

export interface OpenVaultOptions {
  /** Milliseconds since the epoch; injected by tests (the wrong-password delay). */
  clock?: () => number;
  /**
   * The CLI command this process runs ("list", "audit verify"; never its arguments). It makes
   * the process one audit session: the unlock entry names the command, and lock writes no
   * `vault.locked` entry. The session ends with the command's last entry: the keys live only
   * as long as the process, and the checkpoint lock signs (kept in checkpoint.txt too) still
   * covers everything the command logged, so rollback detection is unchanged.
   */
  command?: string;
}

/** A command name: lowercase words, no argument values (they may be analyst-written). */
const COMMAND_NAME = /^[a-z][a-z0-9-]{0,31}( [a-z][a-z0-9-]{0,31}){0,2}$/;

const RECOVERY_INFO = 'custody/recovery/v1';
/** At most one checkpoint per this interval during bursts of writes. */
const CHECKPOINT_INTERVAL_MS = 1000;
const vkWrapAd = (h: VaultHeader, by: 'password' | 'recovery') => ad('vault-key', by, headerBinding(h, by));
const keyAd = (vaultId: string, keyId: string) => ad('key', vaultId, keyId);
const kdfText = (k: KdfParams) => `argon2id m=${k.memoryKiB} t=${k.iterations} p=${k.parallelism}`;

export function assertPasswordAcceptable(password: string): void {
  if (password.length < 8) throw new CustodyError('BAD_REQUEST', 'the master password must have at least 8 characters');
  if (password.length > 1024) throw new CustodyError('BAD_REQUEST', 'the master password is too long (1024 characters at most)');
}

/** Creates a vault in an empty (or new) directory; returns the recovery key, shown once. */
export async function createVault(dir: string, opts: CreateVaultOptions): Promise<{ vaultId: string; recoveryKey: string }> {
  assertPasswordAcceptable(opts.password);
  assertVaultDirFree(dir);
  const vaultId = uuidv7();
  const kdf = newKdfParams(opts.kdf);
  const secrets: (Buffer | undefined)[] = [];
  const dirIsNew = !existsSync(dir);
  try {
    const vk = randomKey();
    const recovery = randomKey();
    secrets.push(vk, recovery);
    const kek = await deriveKek(opts.password, kdf);
    secrets.push(kek);
    const header: VaultHeader = { format: 'custody-vault', version: 1, vaultId, createdAt: iso(Date.now()), kdf, wrappedVaultKey: { password: '', recovery: '' } };
    const recoveryKek = deriveKey(recovery, RECOVERY_INFO);
    secrets.push(recoveryKek);
    header.wrappedVaultKey = {
      password: seal(kek, vk, vkWrapAd(header, 'password')).toString('base64'),
      recovery: seal(recoveryKek, vk, vkWrapAd(header, 'recovery')).toString('base64'),
    };
    const epochRoot = randomKey();
    secrets.push(epochRoot);
    const epochId = uuidv7();
    const epochRow: WrappedKeyRow = { id: epochId, kind: 'epoch_root', algorithm: 'HKDF-SHA-256', status: 'active', createdAt: new Date(), fingerprint: keyFingerprint(epochRoot), wrapped: sealRoot(vk, vaultId, { id: epochId, fromDay: null, untilDay: null }, epochRoot) };
    await initDatabase(dir, vaultId, vk, [epochRow], { actor: opts.actor, keysAreNew: true, created: { kdf: kdfText(kdf) } });
    // The header goes last: a directory without one holds no vault yet.
    writeHeader(dir, header);
    return { vaultId, recoveryKey: formatRecoveryKey(recovery) };
  } catch (e) {
    removePartialVault(dir, dirIsNew);
    throw e;
  } finally {
    wipe(...secrets);
    // Bytes left in the pool would be the next keys made: none are left while locked.
    wipeRandomPool();
  }
}

export type VaultSecret = { password: string } | { recoveryKey: string };

/**
 * A header wrapping `vk` under the password (fresh salt, the same cost raised to the floor)
 * and under the raw recovery key: what a vault key rotation writes (keys/vaultKeyRotation.ts).
 */
export async function headerWrapping(h: VaultHeader, vk: Buffer, password: string, recoveryRaw: Buffer): Promise<VaultHeader> {
  const kdf = newKdfParams({ memoryKiB: Math.max(h.kdf.memoryKiB, KDF_FLOOR.memoryKiB), iterations: Math.max(h.kdf.iterations, KDF_FLOOR.iterations), parallelism: Math.max(h.kdf.parallelism, KDF_FLOOR.parallelism) });
  const next: VaultHeader = { ...h, kdf, wrappedVaultKey: { password: '', recovery: '' } };
  const kek = await deriveKek(password, kdf);
  const rk = deriveKey(recoveryRaw, RECOVERY_INFO);
  try {
    next.wrappedVaultKey = { password: seal(kek, vk, vkWrapAd(next, 'password')).toString('base64'), recovery: seal(rk, vk, vkWrapAd(next, 'recovery')).toString('base64') };
    return next;
  } finally {
    wipe(kek, rk);
  }
}

/** The vault key a header wraps, from the password or the recovery key. */
export async function unwrapVaultKey(header: VaultHeader, secret: VaultSecret): Promise<Buffer> {
  if ('password' in secret) {
    const kek = await deriveKek(secret.password, header.kdf, { legacy: true });
    try {
      return keyMaterial(open(kek, Buffer.from(header.wrappedVaultKey.password, 'base64'), vkWrapAd(header, 'password')));
    } catch {
      throw new CustodyError('WRONG_PASSWORD', 'wrong password for this vault');
    } finally {
      wipe(kek);
    }
  }
  let raw: Buffer | undefined;
  let rk: Buffer | undefined;
  try {
    raw = keyMaterial(parseRecoveryKey(secret.recoveryKey));
    rk = deriveKey(raw, RECOVERY_INFO);
    return keyMaterial(open(rk, Buffer.from(header.wrappedVaultKey.recovery, 'base64'), vkWrapAd(header, 'recovery')));
  } catch (e) {
    if (e instanceof CustodyError && e.code === 'WRONG_RECOVERY_KEY') throw e;
    throw new CustodyError('WRONG_RECOVERY_KEY', 'wrong recovery key for this vault');
  } finally {
    wipe(raw, rk);
  }
}

/**
 * Creates here another device of an existing vault (sync's join): the same header, so the
 * same password and recovery key open it, and the same epoch root (wrapped by the vault key,
 * checked here); a new device id and a new device signing key. The header comes from the
 * server: its KDF parameters are checked against the floor and the ceiling before anything
 * is derived.
 */
export async function joinVault(dir: string, header: VaultHeader, epochRoots: readonly WrappedKeyRow[], secret: VaultSecret, opts: { actor?: string } = {}): Promise<{ deviceId: string }> {
  assertVaultDirFree(dir);
  assertKdfStrong(header.kdf, { legacy: true });
  const dirIsNew = !existsSync(dir);
  const vk = await unwrapVaultKey(header, secret);
  try {
    if (!epochRoots.some((k) => k.kind === 'epoch_root' && k.status === 'active')) throw new CustodyError('VAULT_CORRUPT', 'the vault to join has no active epoch root key');
    for (const k of epochRoots) wipe(k.kind === 'epoch_root' ? openRoot(vk, header.vaultId, { id: k.id, fromDay: k.fromDay ?? null, untilDay: k.untilDay ?? null }, k.wrapped, 'the vault to join').root : open(vk, k.wrapped, keyAd(header.vaultId, k.id), `key ${k.id} of the vault to join`));
    const deviceId = await initDatabase(dir, header.vaultId, vk, epochRoots, { actor: opts.actor, keysAreNew: false, created: { via: 'sync.join' } });
    writeHeader(dir, header);
    return { deviceId };
  } catch (e) {
    removePartialVault(dir, dirIsNew);
    throw e;
  } finally {
    wipe(vk);
    wipeRandomPool();
  }
}

/** A key registry row whose secret part is already wrapped by the vault key. */
export interface WrappedKeyRow {
  id: string;
  kind: string;
  algorithm: string;
  status: string;
  createdAt: Date;
  fingerprint: string;
  wrapped: Uint8Array<ArrayBuffer>;
  /** Epoch roots: the UTC days the root serves (null = unbounded). */
  fromDay?: string | null;
  untilDay?: string | null;
}

function assertVaultDirFree(dir: string): void {
  if (existsSync(join(dir, 'vault.json'))) throw new CustodyError('VAULT_EXISTS', `a vault already exists at ${dir}`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new CustodyError('VAULT_EXISTS', `${dir} is not empty; choose a new or empty directory`);
}

/** The vault folder and its attachments folder: owner-only, whatever the umask. */
function ownerOnlyDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** After a failed create or join: what it wrote goes, so the same folder can be used again. */
function removePartialVault(dir: string, dirIsNew: boolean): void {
  try {
    if (existsSync(join(dir, 'vault.json'))) return;
    for (const f of [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, `${DATABASE_FILE}-journal`, CHECKPOINT_FILE]) rmSync(join(dir, f), { force: true });
    rmSync(join(dir, ATTACHMENTS_DIR), { recursive: true, force: true });
    if (dirIsNew) rmSync(dir, { recursive: true, force: true });
  } catch {
    // Best effort: the error that got us here is the one to report.
  }
}

/**
 * A new vault database: settings, the given keys plus this device's new signing key (attested
 * by the vault key), the first audit entries and the first signed checkpoint (inside and
 * outside the database). Returns the new device id.
 */
async function initDatabase(dir: string, vaultId: string, vk: Buffer, keys: readonly WrappedKeyRow[], opts: { actor?: string; keysAreNew: boolean; created: Record<string, string> }): Promise<string> {
  ownerOnlyDir(dir);
  ownerOnlyDir(join(dir, ATTACHMENTS_DIR));
  const signing = generateEd25519();
  keyMaterial(signing.seed);
  let db: VaultDb | undefined;
  try {
    db = await openDatabase(join(dir, DATABASE_FILE));
    const deviceId = uuidv7();
    const meta: VaultMeta = { vaultId, deviceId, actor: opts.actor ?? defaultActor(), retentionDays: 7 * 365 };
    const now = new Date();
    const signingId = uuidv7();
    const audit = new AuditLog(db);
    const sql = db.sql;
    await db.write(async (tx) => {
      await writeMeta(tx, meta);
      await tx.keyEntry.createMany({
        data: [
          ...keys,
          {
            id: signingId,
            kind: 'device_signing',
            algorithm: 'Ed25519',
            status: 'active',
            createdAt: now,
            fingerprint: keyFingerprint(signing.publicKey),
            publicKey: signing.publicKey,
            wrapped: seal(vk, signing.seed, keyAd(vaultId, signingId)),
            attestation: attestDeviceKey(vk, vaultId, signingId, signing.publicKey),
          },
        ],
      });
      audit.appendSync(meta, [
        { event: 'vault.created', target: target.vault(vaultId), details: opts.created },
        // A joining device receives the epoch root: it did not create it.
        ...(opts.keysAreNew ? keys : []).map((k) => ({ event: 'key.created' as const, target: target.key(k.id), details: { kind: k.kind } })),
        { event: 'key.created', target: target.key(signingId), details: { kind: 'device_signing' } },
      ]);
      new Checkpoints(sql, dir, vaultId, deviceId, signing.publicKey).write(audit.tree(), signing.seed, 'created', true);
    });
    return deviceId;
  } finally {
    wipe(signing.seed);
    await db?.close();
  }
}

function defaultActor(): string {
  return process.env.USER ?? process.env.USERNAME ?? 'analyst';
}

/** The keys an unlock verified, before they are handed to a Keyring. */
interface OpenedKeys {
  roots: EpochRoot[];
  previousVaultKeys: Buffer[];
  seed: Buffer;
  trusted: TrustedKey[];
  /** Attestations to store (keys of a vault made before they existed). */
  attest: { id: string; attestation: Buffer }[];
  /** Epoch roots still in the 0.1.0 wrap (no days bound), re-wrapped at this unlock. */
  rewrapRoots: { id: string; wrapped: Buffer }[];
  entries: AuditInput[];
}

/** An open vault: the database is open, keys are only present while unlocked. */
export class Vault {
  #keys: Keyring | null = null;
  #header: VaultHeader;
  #checkpointReason = 'batch';
  #lastCheckpointAt = 0;
  #checkpointTimer: NodeJS.Timeout | null = null;
  /** Off while lock and unlock write their entries: they sign checkpoints themselves. */
  #autoCheckpoint = true;
  #locking: Promise<void> | null = null;
  readonly #unlocking = new Mutex();
  readonly #pending: PendingEntries;
  /** Space that lets reading go on when the disk is full. */
  readonly #reserve: DiskReserve;
  /** Retired device keys of this device, trusted for its older checkpoints while locked. */
  #registryRetired: TrustedKey[];
  readonly #throttle: UnlockThrottle;
  readonly #clock: () => number;
  /** Set at open when the database disagrees with checkpoint.txt (e.g. an older copy). */
  readonly integrityProblem: string | null;
  /** The CLI command of a command session (OpenVaultOptions.command), else null. */
  readonly command: string | null;

  private constructor(
    readonly dir: string,
    header: VaultHeader,
    readonly db: VaultDb,
    readonly audit: AuditLog,
    readonly meta: VaultMeta,
    readonly checkpoints: Checkpoints,
    clock: () => number,
    command: string | null,
  ) {
    this.#header = header;
    this.#clock = clock;
    this.command = command;
    this.#pending = new PendingEntries(dir);
    this.#reserve = new DiskReserve(dir, db);
    this.#registryRetired = checkpoints.trustedKeys.filter((k) => !k.publicKey.equals(checkpoints.publicKey));
    this.#throttle = new UnlockThrottle(dir, clock);
    let problem: string | null;
    try {
      const size = audit.size();
      const tree = audit.tree();
      problem = checkExternalCheckpoint(checkpoints, (n) => (n <= size ? tree.root(n) : undefined), size)?.message ?? null;
    } catch (e) {
      problem = `the audit log's stored hashes are inconsistent (${(e as Error).message}); run "custody audit verify"`;
    }
    this.integrityProblem = problem;
    // After every committed batch of appends, sign a checkpoint (when the keys are here).
    db.onCommit = () => {
      if (this.#autoCheckpoint && this.#keys) this.#checkpoint(this.#keys);
    };
  }

  static async open(dir: string, opts: OpenVaultOptions = {}): Promise<Vault> {
    if (opts.command !== undefined && !COMMAND_NAME.test(opts.command)) throw new CustodyError('BAD_REQUEST', 'a command session is named by its command (lowercase words), nothing else');
    let header = readHeader(dir);
    assertKdfStrong(header.kdf, { legacy: true });
    // A vault made before folders were owner-only is fixed here (best effort: the folder may
    // belong to someone else, read-only, and still be readable).
    for (const [path, mode] of [[dir, 0o700], [join(dir, ATTACHMENTS_DIR), 0o700], [join(dir, HEADER_FILE), 0o600], [join(dir, CHECKPOINT_FILE), 0o600]] as const)
      try {
        chmodSync(path, mode);
      } catch {
        // Opened as it is.
      }
    DiskReserve.beforeOpen(dir);
    const db = await openDatabase(join(dir, DATABASE_FILE));
    try {
      // A vault key rotation a crash interrupted: its new header is kept exactly when the database committed.
      const pending = db.sql.prepare('SELECT value FROM meta WHERE key = ?').get(PENDING_HEADER_META) as { value: string } | undefined;
      if (settlePendingHeader(dir, pending?.value)) header = readHeader(dir);
      const meta = readMeta(db.sql);
      if (meta.vaultId !== header.vaultId) throw new CustodyError('VAULT_CORRUPT', 'the database belongs to another vault than vault.json');
      // Unverified until unlock (which refuses a registry with more than one active key).
      const device = keyRows(db.sql, { kinds: ['device_signing'], status: 'active' })[0];
      if (!device?.publicKey) throw new CustodyError('VAULT_CORRUPT', 'the vault has no device signing key');
      const checkpoints = new Checkpoints(db.sql, dir, header.vaultId, meta.deviceId, Buffer.from(device.publicKey));
      // Keys this device signed with before a rotation (keys/deviceKeyRotation.ts) sign its older checkpoints.
      const retired = keyRows(db.sql, { kinds: ['device_signing'], status: 'retired' });
      checkpoints.trust([{ publicKey: checkpoints.publicKey, deviceId: meta.deviceId }, ...retired.filter((k) => k.publicKey).map((k) => ({ publicKey: Buffer.from(k.publicKey!), deviceId: meta.deviceId }))], 'registry');
      return new Vault(dir, header, db, new AuditLog(db), meta, checkpoints, opts.clock ?? Date.now, opts.command ?? null);
    } catch (e) {
      await db.close();
      throw e;
    }
  }

  /**
   * Signs a checkpoint after a committed batch of appends (runs inside the write lock).
   * Bursts of small writes (a search per keystroke) share one: at most one per interval, the
   * rest deferred by a timer; lock and close always sign the final state.
   */
  #checkpoint(keys: Keyring, force = false): void {
    const now = Date.now();
    if (!force && now - this.#lastCheckpointAt < CHECKPOINT_INTERVAL_MS) {
      this.#checkpointTimer ??= setTimeout(() => {
        this.#checkpointTimer = null;
        void this.db
          .writeSync(() => {
            if (this.#keys) this.#checkpoint(this.#keys, true);
          })
          .catch(() => undefined);
      }, CHECKPOINT_INTERVAL_MS).unref();
      return;
    }
    if (this.#checkpointTimer) clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = null;
    const latest = this.checkpoints.latest();
    const tree = this.audit.tree();
    if (latest && latest.size === tree.size) return;
    this.checkpoints.write(tree, keys.signingSeed, this.#checkpointReason, this.integrityProblem === null);
    this.#lastCheckpointAt = now;
  }

  /** Signs a checkpoint of the log as it is now (reports embed it), owed entries included. */
  async checkpointNow(reason: 'report' | 'lock' | 'batch'): Promise<StoredCheckpoint> {
    const keys = this.keys();
    return this.db.writeSync(() => {
      this.audit.appendSync(this.meta, []);
      this.#lastCheckpointAt = Date.now();
      return this.checkpoints.write(this.audit.tree(), keys.signingSeed, reason, this.integrityProblem === null);
    });
  }

  /**
   * Recomputes the whole log and checks every checkpoint; the run itself is audited. The
   * checkpoints must be signed by a trusted key: unlocked, the device keys the vault key
   * attests; with `vkey`, only that key (the reader's pin); locked without one, the registry's
   * key, which the result names so it can be compared with a key obtained elsewhere.
   */
  async verifyAudit(onProgress?: Progress, opts: { vkey?: string } = {}): Promise<AuditVerification> {
    let cps = this.checkpoints;
    const pinProblems: Problem[] = [];
    if (opts.vkey !== undefined) {
      const pinned = this.#pinnedKey(opts.vkey);
      // A pinned key also vouches for the keys its device handed over to or from (keys/handover.ts).
      cps = this.checkpoints.withTrust(await this.#acrossHandovers(pinned), 'pinned');
      const registered = this.checkpoints.trustedKeys;
      if (!registered.some((k) => k.publicKey.equals(pinned.publicKey)))
        pinProblems.push({
          kind: 'untrusted-key',
          message: `the key you pinned (${keyFingerprint(pinned.publicKey)}) is not this vault's ${this.unlocked ? 'attested' : 'registered'} device key (${registered.map((k) => keyFingerprint(k.publicKey)).join(', ')}): the key registry was replaced, or the pinned key belongs to another vault or device`,
        });
    }
    const verdict = verifyLog(this.db.sql, cps, onProgress);
    const result: AuditVerification = {
      ...verdict,
      ok: verdict.ok && pinProblems.length === 0,
      problems: [...pinProblems, ...verdict.problems],
      trust: { basis: cps.trustBasis, keys: cps.trustedKeys.map((k) => ({ fingerprint: keyFingerprint(k.publicKey), vkey: formatVerifierKey(deviceKeyName(this.vaultId, k.deviceId), k.publicKey) })) },
    };
    try {
      await this.record({ event: 'audit.verified', success: result.ok, details: { entries: result.entries, problems: result.problems.length, trust: cps.trustBasis } });
    } catch (e) {
      // A log damaged badly enough cannot take the entry; the verdict still stands.
      if (result.ok) throw e;
    }
    return result;
  }

  async #acrossHandovers(pinned: TrustedKey): Promise<TrustedKey[]> {
    const devices = await this.db.prisma.keyEntry.findMany({ where: { kind: 'device_signing' }, select: { id: true, publicKey: true } });
    const byId = new Map(devices.filter((d) => d.publicKey).map((d) => [d.id, Buffer.from(d.publicKey!)]));
    const entries = this.audit.entriesAbout(devices.map((d) => target.key(d.id)), this.audit.size());
    return keysAcross(pinned, handoversIn(entries, this.vaultId, (id) => byId.get(id)));
  }

  /** A verifier key the reader supplied (--vkey), as a trusted key of this vault's log. */
  #pinnedKey(vkey: string): TrustedKey {
    let publicKey: Buffer;
    try {
      publicKey = publicKeyOfVkey(vkey);
    } catch (e) {
      throw new CustodyError('BAD_REQUEST', `the pinned verifier key is not a signed-note Ed25519 vkey: ${(e as Error).message}`);
    }
    const name = vkey.trim().slice(0, vkey.trim().indexOf('+'));
    if (originOfKeyName(name) !== this.checkpoints.origin) throw new CustodyError('BAD_REQUEST', `the pinned verifier key is for ${originOfKeyName(name)}, not for this vault (${this.checkpoints.origin})`);
    const device = /\/device\/([^/]+)$/.exec(name)?.[1] ?? this.meta.deviceId;
    return { publicKey, deviceId: device };
  }

  get vaultId(): string {
    return this.#header.vaultId;
  }
  get kdf(): KdfParams {
    return this.#header.kdf;
  }
  get unlocked(): boolean {
    return this.#keys !== null;
  }

  /** The keyring; throws LOCKED when the vault is locked. */
  keys(): Keyring {
    if (!this.#keys) throw new CustodyError('LOCKED', 'the vault is locked; unlock it first');
    return this.#keys;
  }

  /** Records audit entries in their own transaction (for events that change nothing else). */
  async record(...entries: AuditInput[]): Promise<void> {
    // Reading owes these entries: a full disk gives up its reserve for them (backup/diskReserve.ts).
    await this.#reserve.auditWrite(() => this.audit.appendSync(this.meta, entries));
  }

  /**
   * A failed unlock is recorded while locked (signed at the next unlock). If even that cannot
   * be written, it is owed like a lock's entry; the caller's error stays the one reported.
   */
  async #recordFailure(event: 'vault.unlock_failed' | 'vault.recovery_failed', details: Record<string, string>): Promise<void> {
    try {
      await this.record({ event, target: target.vault(this.vaultId), success: false, details });
    } catch (e) {
      if (event === 'vault.unlock_failed') this.#pending.add({ event, at: iso(this.#clock()), cause: causeOf(e) });
    }
  }

  /** Unlocks with the master password. Repeated wrong passwords must wait (unlockThrottle.ts). */
  unlock(password: string): Promise<void> {
    // One unlock (or recovery) at a time: a second keyring must never replace, unwiped, the first.
    return this.#unlocking.run(async () => {
      await this.#locking;
      if (this.#keys) return;
      this.#throttle.begin();
      // After a vault key rotation followed from another device, vault.json still wraps the key before it (keys/vaultKeyFollow.ts).
      const vk = followedVaultKey(this, await this.#passwordVaultKey(password, { method: 'password' }));
      await this.#openKeyring(vk, 'password');
      await settleFollowedRotation(this, password).catch(() => false);
      // A vault made when the floor was lower gets its password wrapping re-made at the floor.
      if (kdfBelowFloor(this.#header.kdf)) await this.#upgradeKdf(password);
    });
  }

  /** The vault key from the password (counted by the throttle, which the caller consulted). */
  async #passwordVaultKey(password: string, failure: Record<string, string>): Promise<Buffer> {
    const kek = await deriveKek(password, this.#header.kdf, { legacy: true });
    try {
      const vk = keyMaterial(open(kek, Buffer.from(this.#header.wrappedVaultKey.password, 'base64'), vkWrapAd(this.#header, 'password')));
      this.#throttle.succeeded();
      return vk;
    } catch {
      wipeRandomPool();
      await this.#recordFailure('vault.unlock_failed', failure);
      throw new CustodyError('WRONG_PASSWORD', failure.purpose ? 'the current password is wrong' : 'wrong password (or vault.json was modified)');
    } finally {
      wipe(kek);
    }
  }

  /** Unlocks with the recovery key and sets a new master password. */
  async recover(recoveryKey: string, newPassword: string): Promise<void> {
    assertPasswordAcceptable(newPassword);
    return this.#unlocking.run(() => this.#recover(recoveryKey, newPassword));
  }

  async #recover(recoveryKey: string, newPassword: string): Promise<void> {
    await this.#locking;
    let vk: Buffer;
    try {
      vk = followedVaultKey(this, await unwrapVaultKey(this.#header, { recoveryKey }));
    } catch (e) {
      if (!(e instanceof CustodyError && e.code === 'WRONG_RECOVERY_KEY')) throw e;
      wipeRandomPool();
      await this.#recordFailure('vault.recovery_failed', {});
      throw new CustodyError('WRONG_RECOVERY_KEY', 'wrong recovery key (or vault.json was modified)');
    }
    this.#throttle.succeeded();
    let next: VaultHeader;
    try {
      next = await this.#rewrapped(vk, newPassword);
    } catch (e) {
      wipe(vk);
      throw e;
    }
    const recovered: AuditInput = { event: 'vault.recovered', target: target.vault(this.vaultId) };
    if (this.#keys) {
      // Already unlocked: only the password changes.
      wipe(vk);
      await this.#commitHeader(next, [recovered]);
      return;
    }
    // The keys are checked before the header changes: a tampered vault keeps its password.
    await this.#openKeyring(vk, 'recovery', { header: next, extra: [recovered] });
    await settleFollowedRotation(this, newPassword).catch(() => false);
  }

  /** Re-wraps the vault key under a new password; nothing else is re-encrypted. */
  async changePassword(oldPassword: string, newPassword: string): Promise<void> {
    assertPasswordAcceptable(newPassword);
    this.#throttle.begin();
    const vk = await this.#passwordVaultKey(oldPassword, { method: 'password', purpose: 'change password' });
    let next: VaultHeader;
    try {
      next = await this.#rewrapped(vk, newPassword);
    } finally {
      wipe(vk);
    }
    await this.#commitHeader(next, [{ event: 'vault.password_changed', target: target.vault(this.vaultId) }]);
  }

  /**
   * Replaces vault.json inside the transaction that logs why: if the entry cannot be written
   * (the database is busy or full) the header stays as it was.
   */
  async #commitHeader(next: VaultHeader, entries: AuditInput[]): Promise<void> {
    await this.db.writeSync(() => {
      this.audit.appendSync(this.meta, entries);
      writeHeader(this.dir, next);
    });
    this.#header = next;
  }

  /** The header with the vault key wrapped under a new password (not written yet). */
  async #rewrapped(vk: Buffer, newPassword: string): Promise<VaultHeader> {
    const h = this.#header;
    // A fresh salt with the same cost (raised to the floor if the vault predates it): the old
    // KEK is useless for the new wrapping.
    const kdf = newKdfParams({
      memoryKiB: Math.max(h.kdf.memoryKiB, KDF_FLOOR.memoryKiB),
      iterations: Math.max(h.kdf.iterations, KDF_FLOOR.iterations),
      parallelism: Math.max(h.kdf.parallelism, KDF_FLOOR.parallelism),
    });
    const next: VaultHeader = { ...h, kdf };
    const kek = await deriveKek(newPassword, kdf);
    try {
      next.wrappedVaultKey = { ...h.wrappedVaultKey, password: seal(kek, vk, vkWrapAd(next, 'password')).toString('base64') };
    } finally {
      wipe(kek);
    }
    return next;
  }

  /** Re-makes the password wrapping of a vault whose KDF cost is below the current floor. */
  async #upgradeKdf(password: string): Promise<void> {
    const previous = kdfText(this.#header.kdf);
    try {
      const next = await this.#rewrapped(this.keys().vaultKey, password);
      await this.#commitHeader(next, [{ event: 'settings.changed', target: target.vault(this.vaultId), details: { changed: ['kdf'], kdf: kdfText(next.kdf), previous, reason: 'below the KDF floor' } }]);
    } catch {
      // The vault stays usable as it was; the next unlock tries again.
    }
  }

  /**
   * Opens the keyring from the vault key: unwraps the epoch root and the device signing key,
   * checks the device key against its registered public key and the vault key's attestation
   * (refusing a tampered registry), records the unlock (with any entries owed since the last
   * session) and signs a checkpoint. Takes ownership of `vk`: on any failure every key is
   * wiped and the vault stays locked.
   */
  async #openKeyring(vk: Buffer, method: string, opts: { header?: VaultHeader; extra?: AuditInput[] } = {}): Promise<void> {
    let opened: OpenedKeys | undefined;
    let keys: Keyring | undefined;
    try {
      opened = await this.#verifiedKeys(vk);
      keys = new Keyring(vk, opened.roots, opened.seed, opened.previousVaultKeys);
      const owed = this.#pending.list();
      const { attest, entries, rewrapRoots } = opened;
      this.#keys = keys;
      this.#autoCheckpoint = false;
      try {
        await this.#reserve.auditWrite(() => {
          // The key registry edited while the vault was closed is recorded before any key event
          // of this unlock commits the registry as it now is (audit/registryState.ts).
          const registryTamper = registryTamperEntry(this.db.sql, target.vault(this.vaultId));
          const store = this.db.sql.prepare('UPDATE key_registry SET attestation = ? WHERE id = ?');
          for (const a of attest) store.run(a.attestation, a.id);
          const rewrap = this.db.sql.prepare("UPDATE key_registry SET wrapped = ? WHERE id = ? AND kind = 'epoch_root'");
          for (const r of rewrapRoots) rewrap.run(r.wrapped, r.id);
          this.audit.appendSync(this.meta, [...owed.map((p) => this.#lateEntry(p)), ...(registryTamper ? [registryTamper] : []), ...entries, { event: 'vault.unlocked', target: target.vault(this.vaultId), details: { method, ...(this.command ? { command: this.command } : {}) } }, ...(opts.extra ?? [])]);
          if (opts.header) writeHeader(this.dir, opts.header);
        });
      } finally {
        this.#autoCheckpoint = true;
      }
      if (opts.header) this.#header = opts.header;
      if (owed.length) this.#pending.clear();
      this.checkpoints.trust(opened.trusted, 'attested');
    } catch (e) {
      this.#keys = null;
      if (keys) keys.wipe();
      else wipe(vk, ...(opened?.roots.map((r) => r.root) ?? []), ...(opened?.previousVaultKeys ?? []), opened?.seed);
      wipeRandomPool();
      throw e;
    }
    try {
      await this.db.writeSync(() => this.#checkpoint(keys!));
    } catch {
      // The entries are in the log; the next commit (or lock) signs them.
    }
  }

  #lateEntry(p: PendingEntry): AuditInput {
    const details = { recordedLate: true, at: p.at ?? 'unknown', cause: p.cause };
    if (p.event === 'search') return { event: 'search', details: { ...p.details, ...details } };
    return p.event === 'vault.locked'
      ? { event: 'vault.locked', target: target.vault(this.vaultId), details }
      : { event: 'vault.unlock_failed', target: target.vault(this.vaultId), success: false, details: { method: 'password', ...details } };
  }

  /** Unwraps and checks the keys an unlock needs; wipes what it unwrapped if it throws. */
  async #verifiedKeys(vk: Buffer): Promise<OpenedKeys> {
    const rows = keyRows(this.db.sql, { kinds: ['epoch_root', 'device_signing', 'vault_key'] });
    // Every epoch root: which one serves a day follows from the days bound to its wrap alone
    // (keys/rootWrap.ts), never from the clear status column (retired roots serve earlier days).
    const rootRows = rows.filter((r) => r.kind === 'epoch_root');
    const devices = rows.filter((r) => r.kind === 'device_signing');
    const active = devices.filter((r) => r.status === 'active');
    if (rootRows.length === 0 || rootRows.some((r) => !r.wrapped)) throw new CustodyError('VAULT_CORRUPT', 'the vault has no epoch_root key');
    const roots: EpochRoot[] = [];
    const previousVaultKeys: Buffer[] = [];
    let seed: Buffer | undefined;
    try {
      const rewrapRoots: OpenedKeys['rewrapRoots'] = [];
      for (const r of rootRows) {
        const days = { id: r.id, fromDay: r.fromDay, untilDay: r.untilDay };
        const { root, legacy } = openRoot(vk, this.vaultId, days, r.wrapped!);
        roots.push({ ...days, root, createdAt: r.createdAt.getTime() });
        if (legacy) rewrapRoots.push({ id: r.id, wrapped: sealRoot(vk, this.vaultId, days, root) });
      }
      // Vault keys this one replaced (keys/vaultKeyRotation.ts), newest first.
      for (const r of rows.filter((x) => x.kind === 'vault_key' && x.wrapped).reverse()) previousVaultKeys.push(keyMaterial(open(vk, r.wrapped!, keyAd(this.vaultId, r.id), 'a previous vault key')));
      if (active.length !== 1) await this.#tampered(null, 'active-keys', `the key registry lists ${active.length} active device signing keys; a device has exactly one`);
      const device = active[0]!;
      if (!device.wrapped || !device.publicKey) throw new CustodyError('VAULT_CORRUPT', 'the vault has no device signing key');
      seed = keyMaterial(open(vk, device.wrapped, keyAd(this.vaultId, device.id), 'the device_signing key'));
      const publicKey = Buffer.from(device.publicKey);
      if (!publicKeyOfSeed(seed).equals(publicKey) || !publicKey.equals(this.checkpoints.publicKey))
        await this.#tampered(device.id, 'public-key-mismatch', `the registered public key of the device signing key ${device.id} is not the key of its sealed seed: the key registry was replaced`);
      const out: OpenedKeys = { roots, previousVaultKeys, seed, trusted: [], attest: [], rewrapRoots, entries: [] };
      for (const d of devices) {
        if (!d.publicKey) await this.#tampered(d.id, 'no-public-key', `the device signing key ${d.id} has no public key`);
        const pub = Buffer.from(d.publicKey!);
        if (d.attestation === null && d.id === device.id) {
          // A vault made before attestations: its own key, just matched with its seed, gets one.
          out.attest.push({ id: d.id, attestation: attestDeviceKey(vk, this.vaultId, d.id, pub) });
          out.entries.push({ event: 'key.attested', target: target.key(d.id), details: { kind: 'device_signing', fingerprint: keyFingerprint(pub), reason: 'first unlock with attested device keys' } });
        } else if (!deviceKeyAttested(vk, this.vaultId, d.id, pub, d.attestation)) {
          await this.#tampered(d.id, d.attestation === null ? 'unattested' : 'attestation-invalid', `the device signing key ${d.id} (${keyFingerprint(pub)}) is not attested by the vault key: someone added or replaced it`);
        }
        out.trusted.push({ publicKey: pub, deviceId: this.meta.deviceId });
      }
      return out;
    } catch (e) {
      wipe(...roots.map((r) => r.root), ...previousVaultKeys, seed);
      throw e;
    }
  }

  /** Refuses an unlock over a tampered key registry, leaving an entry saying why. */
  async #tampered(keyId: string | null, reason: string, message: string): Promise<never> {
    try {
      await this.record({ event: 'key.tamper_detected', target: keyId ? target.key(keyId) : target.vault(this.vaultId), success: false, details: { kind: 'device_signing', reason } });
    } catch {
      // The refusal stands even if the log cannot take the entry.
    }
    throw new CustodyError(
      'TAMPERED',
      `${message}. The vault was not unlocked. Check the log against a key you saved earlier ("custody audit verify --vkey <file>") and restore the vault folder from a backup.`,
    );
  }

  /**
   * Wipes every key (vault key, epoch root and epoch keys, signing seed, the random-byte pool)
   * and is done even when its audit entry or checkpoint cannot be written: that entry is then
   * owed and the next unlock appends it. The database stays open (failed unlocks are still
   * recorded). Waits for writes in flight, which may still be using the keys.
   */
  lock(): Promise<void> {
    this.#locking ??= this.#lock().finally(() => {
      this.#locking = null;
    });
    return this.#locking;
  }

  async #lock(): Promise<void> {
    const keys = this.#keys;
    if (!keys) return;
    // From here no new operation gets the keys.
    this.#keys = null;
    this.#autoCheckpoint = false;
    this.#checkpointReason = 'lock';
    try {
      // Entries owed to the log (a pending search) go first, in the same transaction. A command
      // session logs no lock (OpenVaultOptions.command): its end is its command's last entry.
      try {
        await this.record(...(this.command ? [] : [{ event: 'vault.locked' as const, target: target.vault(this.vaultId) }]));
      } catch (e) {
        const at = iso(this.#clock());
        // The searches owed ahead of the lock's entry were rolled back with it: kept with it,
        // for the next unlock, so that a search is never lost with the session.
        for (const s of this.audit.drainOwed()) if (s.event === 'search') this.#pending.add({ event: 'search', at, cause: causeOf(e), details: s.details as PendingSearch['details'] });
        if (!this.command) this.#pending.add({ event: 'vault.locked', at, cause: causeOf(e) });
      }
      try {
        await this.db.writeSync(() => this.#checkpoint(keys, true));
      } catch {
        // Signed at the next unlock, with whatever was appended meanwhile.
      }
    } finally {
      this.#checkpointReason = 'batch';
      this.#autoCheckpoint = true;
      if (this.#checkpointTimer) clearTimeout(this.#checkpointTimer);
      this.#checkpointTimer = null;
      keys.wipe();
      wipeRandomPool();
      this.checkpoints.trust([{ publicKey: this.checkpoints.publicKey, deviceId: this.meta.deviceId }, ...this.#registryRetired], 'registry');
    }
  }

  async close(): Promise<void> {
    await this.lock();
    await this.db.close();
  }

  /** For status displays; never includes key material. */
  get header(): Readonly<VaultHeader> {
    return this.#header;
  }

  /** Signs with this key from now on, after a device key rotation committed (keys/deviceKeyRotation.ts). */
  useDeviceKey(publicKey: Buffer): void {
    const previous = this.checkpoints.publicKey;
    this.#registryRetired = [...this.#registryRetired, { publicKey: previous, deviceId: this.meta.deviceId }];
    this.checkpoints.publicKey = publicKey;
    this.checkpoints.trust([...this.checkpoints.trustedKeys, { publicKey, deviceId: this.meta.deviceId }], this.checkpoints.trustBasis);
  }

  /** The header a vault key rotation just put in place (keys/vaultKeyRotation.ts). */
  adoptHeader(next: VaultHeader): void {
    this.#header = next;
  }

  setMeta(meta: Partial<VaultMeta>): void {
    Object.assign(this.meta, meta);
  }
}

export type { VaultMeta, Keyring };
