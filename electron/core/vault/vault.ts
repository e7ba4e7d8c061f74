// A vault's lifecycle: create, open (locked), unlock with the password or the recovery key,
// change password, lock. Key hierarchy of docs/architecture.md, "Keys and formats":
//   password --Argon2id--> KEK --wraps--> vault key (VK) <--wraps-- recovery key
//   VK --wraps--> epoch root --HKDF(day)--> epoch keys --wrap--> record data keys
//   VK --wraps--> device signing key (Ed25519)
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { deriveKek, newKdfParams, assertKdfStrong, type KdfParams } from '../crypto/kdf.ts';
import { deriveKey, randomKey, wipe } from '../crypto/keys.ts';
import { formatRecoveryKey, parseRecoveryKey } from '../crypto/recoveryKey.ts';
import { generateEd25519 } from '../crypto/ed25519.ts';
import { openDatabase, type VaultDb } from '../db/database.ts';
import { AuditLog } from '../audit/log.ts';
import { target, type AuditInput } from '../audit/entry.ts';
import { uuidv7 } from '../util/ids.ts';
import { iso } from '../util/time.ts';
import { Checkpoints, type StoredCheckpoint } from '../audit/checkpoints.ts';
import { checkExternalCheckpoint, verifyLog, type Progress } from '../audit/verifyLog.ts';
import type { AuditVerification } from '../../shared/contract.ts';
import { ATTACHMENTS_DIR, DATABASE_FILE, headerBinding, readHeader, writeHeader, type VaultHeader } from './header.ts';
import { Keyring } from './keyring.ts';
import { readMeta, writeMeta, type VaultMeta } from './meta.ts';

export interface CreateVaultOptions {
  password: string;
  kdf?: Partial<Omit<KdfParams, 'algorithm' | 'salt'>>;
  /** Who is working: recorded as the actor of audit entries. */
  actor?: string;
}

const RECOVERY_INFO = 'custody/recovery/v1';
/** At most one checkpoint per this interval during bursts of writes. */
const CHECKPOINT_INTERVAL_MS = 1000;
const vkWrapAd = (h: VaultHeader, by: 'password' | 'recovery') => ad('vault-key', by, headerBinding(h, by));
const keyAd = (vaultId: string, keyId: string) => ad('key', vaultId, keyId);

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
  const vk = randomKey();
  const recovery = randomKey();
  const kek = await deriveKek(opts.password, kdf);
  const header: VaultHeader = { format: 'custody-vault', version: 1, vaultId, createdAt: iso(Date.now()), kdf, wrappedVaultKey: { password: '', recovery: '' } };
  const recoveryKek = deriveKey(recovery, RECOVERY_INFO);
  header.wrappedVaultKey = {
    password: seal(kek, vk, vkWrapAd(header, 'password')).toString('base64'),
    recovery: seal(recoveryKek, vk, vkWrapAd(header, 'recovery')).toString('base64'),
  };
  const epochRoot = randomKey();
  const epochId = uuidv7();
  const epochRow: WrappedKeyRow = { id: epochId, kind: 'epoch_root', algorithm: 'HKDF-SHA-256', status: 'active', createdAt: new Date(), fingerprint: fingerprint(epochRoot), wrapped: seal(vk, epochRoot, keyAd(vaultId, epochId)) };
  wipe(epochRoot);
  await initDatabase(dir, vaultId, vk, [epochRow], { actor: opts.actor, keysAreNew: true, created: { kdf: `argon2id m=${kdf.memoryKiB} t=${kdf.iterations} p=${kdf.parallelism}` } });
  // The header goes last: a directory without one holds no vault yet.
  writeHeader(dir, header);
  wipe(vk, kek, recoveryKek);
  return { vaultId, recoveryKey: formatRecoveryKey(recovery) };
}

export type VaultSecret = { password: string } | { recoveryKey: string };

/** The vault key a header wraps, from the password or the recovery key. */
export async function unwrapVaultKey(header: VaultHeader, secret: VaultSecret): Promise<Buffer> {
  if ('password' in secret) {
    assertKdfStrong(header.kdf);
    const kek = await deriveKek(secret.password, header.kdf);
    try {
      return open(kek, Buffer.from(header.wrappedVaultKey.password, 'base64'), vkWrapAd(header, 'password'));
    } catch {
      throw new CustodyError('WRONG_PASSWORD', 'wrong password for this vault');
    } finally {
      wipe(kek);
    }
  }
  const rk = deriveKey(parseRecoveryKey(secret.recoveryKey), RECOVERY_INFO);
  try {
    return open(rk, Buffer.from(header.wrappedVaultKey.recovery, 'base64'), vkWrapAd(header, 'recovery'));
  } catch {
    throw new CustodyError('WRONG_RECOVERY_KEY', 'wrong recovery key for this vault');
  } finally {
    wipe(rk);
  }
}

/**
 * Creates here another device of an existing vault (sync's join): the same header, so the
 * same password and recovery key open it, and the same epoch root (wrapped by the vault key,
 * checked here); a new device id and a new device signing key.
 */
export async function joinVault(dir: string, header: VaultHeader, epochRoots: readonly WrappedKeyRow[], secret: VaultSecret, opts: { actor?: string } = {}): Promise<{ deviceId: string }> {
  assertVaultDirFree(dir);
  const vk = await unwrapVaultKey(header, secret);
  try {
    if (!epochRoots.some((k) => k.kind === 'epoch_root' && k.status === 'active')) throw new CustodyError('VAULT_CORRUPT', 'the vault to join has no active epoch root key');
    for (const k of epochRoots) wipe(open(vk, k.wrapped, keyAd(header.vaultId, k.id), `key ${k.id} of the vault to join`));
    const deviceId = await initDatabase(dir, header.vaultId, vk, epochRoots, { actor: opts.actor, keysAreNew: false, created: { via: 'sync.join' } });
    writeHeader(dir, header);
    return { deviceId };
  } finally {
    wipe(vk);
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
}

function assertVaultDirFree(dir: string): void {
  if (existsSync(join(dir, 'vault.json'))) throw new CustodyError('VAULT_EXISTS', `a vault already exists at ${dir}`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new CustodyError('VAULT_EXISTS', `${dir} is not empty; choose a new or empty directory`);
}

/**
 * A new vault database: settings, the given keys plus this device's new signing key, the
 * first audit entries and the first signed checkpoint (inside and outside the database).
 * Returns the new device id.
 */
async function initDatabase(dir: string, vaultId: string, vk: Buffer, keys: readonly WrappedKeyRow[], opts: { actor?: string; keysAreNew: boolean; created: Record<string, string> }): Promise<string> {
  mkdirSync(join(dir, ATTACHMENTS_DIR), { recursive: true, mode: 0o700 });
  const db = await openDatabase(join(dir, DATABASE_FILE));
  try {
    const signing = generateEd25519();
    const deviceId = uuidv7();
    const meta: VaultMeta = { vaultId, deviceId, actor: opts.actor ?? defaultActor(), retentionDays: 7 * 365 };
    const now = new Date();
    const signingId = uuidv7();
    const audit = new AuditLog(db);
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
            fingerprint: fingerprint(signing.publicKey),
            publicKey: signing.publicKey,
            wrapped: seal(vk, signing.seed, keyAd(vaultId, signingId)),
          },
        ],
      });
      audit.appendSync(meta, [
        { event: 'vault.created', target: target.vault(vaultId), details: opts.created },
        // A joining device receives the epoch root: it did not create it.
        ...(opts.keysAreNew ? keys : []).map((k) => ({ event: 'key.created' as const, target: target.key(k.id), details: { kind: k.kind } })),
        { event: 'key.created', target: target.key(signingId), details: { kind: 'device_signing' } },
      ]);
      new Checkpoints(db.sql, dir, vaultId, signing.publicKey).write(audit.tree(), signing.seed, 'created', true);
    });
    wipe(signing.seed);
    return deviceId;
  } finally {
    await db.close();
  }
}

function defaultActor(): string {
  return process.env.USER ?? process.env.USERNAME ?? 'analyst';
}

function fingerprint(material: Uint8Array): string {
  return deriveKey(material, 'custody/fingerprint/v1').subarray(0, 16).toString('hex');
}

/** An open vault: the database is open, keys are only present while unlocked. */
export class Vault {
  #keys: Keyring | null = null;
  #header: VaultHeader;
  #checkpointReason = 'batch';
  #lastCheckpointAt = 0;
  #checkpointTimer: NodeJS.Timeout | null = null;
  /** Set at open when the database disagrees with checkpoint.txt (e.g. an older copy). */
  readonly integrityProblem: string | null;

  private constructor(
    readonly dir: string,
    header: VaultHeader,
    readonly db: VaultDb,
    readonly audit: AuditLog,
    readonly meta: VaultMeta,
    readonly checkpoints: Checkpoints,
  ) {
    this.#header = header;
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
    db.onCommit = () => this.#checkpoint();
  }

  static async open(dir: string): Promise<Vault> {
    const header = readHeader(dir);
    assertKdfStrong(header.kdf);
    const db = await openDatabase(join(dir, DATABASE_FILE));
    try {
      const meta = await readMeta(db.prisma);
      if (meta.vaultId !== header.vaultId) throw new CustodyError('VAULT_CORRUPT', 'the database belongs to another vault than vault.json');
      const device = await db.prisma.keyEntry.findFirst({ where: { kind: 'device_signing', status: 'active' } });
      if (!device?.publicKey) throw new CustodyError('VAULT_CORRUPT', 'the vault has no device signing key');
      return new Vault(dir, header, db, new AuditLog(db), meta, new Checkpoints(db.sql, dir, header.vaultId, Buffer.from(device.publicKey)));
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
  #checkpoint(force = false): void {
    if (!this.#keys) return;
    const now = Date.now();
    if (!force && now - this.#lastCheckpointAt < CHECKPOINT_INTERVAL_MS) {
      this.#checkpointTimer ??= setTimeout(() => {
        this.#checkpointTimer = null;
        void this.db.writeSync(() => this.#checkpoint(true)).catch(() => undefined);
      }, CHECKPOINT_INTERVAL_MS).unref();
      return;
    }
    if (this.#checkpointTimer) clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = null;
    const latest = this.checkpoints.latest();
    const tree = this.audit.tree();
    if (latest && latest.size === tree.size) return;
    this.checkpoints.write(tree, this.#keys.signingSeed, this.#checkpointReason, this.integrityProblem === null);
    this.#lastCheckpointAt = now;
  }

  /** Signs a checkpoint of the log as it is now (reports embed it). */
  async checkpointNow(reason: 'report' | 'lock' | 'batch'): Promise<StoredCheckpoint> {
    const keys = this.keys();
    return this.db.writeSync(() => {
      this.#lastCheckpointAt = Date.now();
      return this.checkpoints.write(this.audit.tree(), keys.signingSeed, reason, this.integrityProblem === null);
    });
  }

  /** Recomputes the whole log and checks every checkpoint; the run itself is audited. */
  async verifyAudit(onProgress?: Progress): Promise<AuditVerification> {
    const result = verifyLog(this.db.sql, this.checkpoints, onProgress);
    try {
      await this.record({ event: 'audit.verified', success: result.ok, details: { entries: result.entries, problems: result.problems.length } });
    } catch (e) {
      // A log damaged badly enough cannot take the entry; the verdict still stands.
      if (result.ok) throw e;
    }
    return result;
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
    await this.db.writeSync(() => this.audit.appendSync(this.meta, entries));
  }

  async unlock(password: string): Promise<void> {
    if (this.#keys) return;
    const kek = await deriveKek(password, this.#header.kdf);
    let vk: Buffer;
    try {
      vk = open(kek, Buffer.from(this.#header.wrappedVaultKey.password, 'base64'), vkWrapAd(this.#header, 'password'));
    } catch {
      await this.record({ event: 'vault.unlock_failed', target: target.vault(this.vaultId), success: false, details: { method: 'password' } });
      throw new CustodyError('WRONG_PASSWORD', 'wrong password (or vault.json was modified)');
    } finally {
      wipe(kek);
    }
    await this.#openKeyring(vk, 'password');
  }

  /** Unlocks with the recovery key and sets a new master password. */
  async recover(recoveryKey: string, newPassword: string): Promise<void> {
    assertPasswordAcceptable(newPassword);
    let vk: Buffer;
    try {
      const rk = deriveKey(parseRecoveryKey(recoveryKey), RECOVERY_INFO);
      vk = open(rk, Buffer.from(this.#header.wrappedVaultKey.recovery, 'base64'), vkWrapAd(this.#header, 'recovery'));
      wipe(rk);
    } catch {
      await this.record({ event: 'vault.recovery_failed', target: target.vault(this.vaultId), success: false });
      throw new CustodyError('WRONG_RECOVERY_KEY', 'wrong recovery key (or vault.json was modified)');
    }
    await this.#rewrapPassword(vk, newPassword);
    await this.#openKeyring(vk, 'recovery');
    await this.record({ event: 'vault.recovered', target: target.vault(this.vaultId) });
  }

  /** Re-wraps the vault key under a new password; nothing else is re-encrypted. */
  async changePassword(oldPassword: string, newPassword: string): Promise<void> {
    assertPasswordAcceptable(newPassword);
    const kek = await deriveKek(oldPassword, this.#header.kdf);
    let vk: Buffer;
    try {
      vk = open(kek, Buffer.from(this.#header.wrappedVaultKey.password, 'base64'), vkWrapAd(this.#header, 'password'));
    } catch {
      await this.record({ event: 'vault.unlock_failed', target: target.vault(this.vaultId), success: false, details: { method: 'password', purpose: 'change password' } });
      throw new CustodyError('WRONG_PASSWORD', 'the current password is wrong');
    } finally {
      wipe(kek);
    }
    await this.#rewrapPassword(vk, newPassword);
    wipe(vk);
    await this.record({ event: 'vault.password_changed', target: target.vault(this.vaultId) });
  }

  async #rewrapPassword(vk: Buffer, newPassword: string): Promise<void> {
    const h = this.#header;
    // A fresh salt with the same cost: the old KEK is useless for the new wrapping.
    const kdf = newKdfParams({ memoryKiB: h.kdf.memoryKiB, iterations: h.kdf.iterations, parallelism: h.kdf.parallelism });
    const next: VaultHeader = { ...h, kdf };
    const kek = await deriveKek(newPassword, kdf);
    next.wrappedVaultKey = { ...h.wrappedVaultKey, password: seal(kek, vk, vkWrapAd(next, 'password')).toString('base64') };
    wipe(kek);
    writeHeader(this.dir, next);
    this.#header = next;
  }

  async #openKeyring(vk: Buffer, method: string): Promise<void> {
    const rows = await this.db.prisma.keyEntry.findMany({ where: { kind: { in: ['epoch_root', 'device_signing'] }, status: 'active' } });
    const unwrap = (kind: string) => {
      const row = rows.find((r) => r.kind === kind);
      if (!row?.wrapped) throw new CustodyError('VAULT_CORRUPT', `the vault has no active ${kind} key`);
      return open(vk, row.wrapped, keyAd(this.vaultId, row.id), `the ${kind} key`);
    };
    this.#keys = new Keyring(vk, unwrap('epoch_root'), unwrap('device_signing'));
    await this.record({ event: 'vault.unlocked', target: target.vault(this.vaultId), details: { method } });
  }

  /** Wipes keys; the database stays open (failed unlocks are still recorded). */
  async lock(): Promise<void> {
    if (!this.#keys) return;
    this.#checkpointReason = 'lock';
    try {
      await this.record({ event: 'vault.locked', target: target.vault(this.vaultId) });
      await this.db.writeSync(() => this.#checkpoint(true));
    } finally {
      this.#checkpointReason = 'batch';
    }
    this.#keys.wipe();
    this.#keys = null;
  }

  async close(): Promise<void> {
    await this.lock();
    await this.db.close();
  }

  /** For status displays; never includes key material. */
  get header(): Readonly<VaultHeader> {
    return this.#header;
  }

  setMeta(meta: Partial<VaultMeta>): void {
    Object.assign(this.meta, meta);
  }
}

export type { VaultMeta, Keyring };
