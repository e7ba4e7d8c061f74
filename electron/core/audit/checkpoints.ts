// Signed checkpoints of the audit log (C2SP tlog-checkpoint as a C2SP signed note, signed by
// the device's Ed25519 key). One is written after every batch of appends while the vault is
// unlocked, on lock and for every report; the newest is also kept outside the database
// (checkpoint.txt, written atomically) so a database replaced by an older copy is noticed.
// Which keys a checkpoint may be signed by is set by the vault: while unlocked, only device
// keys the vault key attests; while locked, the registry's key or one the reader pinned.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { writeFileAtomic } from '../util/atomicFile.ts';
import { CHECKPOINT_FILE } from '../vault/header.ts';
import { formatCheckpoint, openCheckpoint, type Checkpoint } from './tlog/checkpoint.ts';
import { formatVerifierKey, noteVerifier, parseVerifierKey, signNote, type NoteVerifier } from './tlog/note.ts';
import type { MerkleTree } from './tlog/tree.ts';

export const logOrigin = (vaultId: string): string => `custody.vault/${vaultId}`;

/**
 * The key name a device signs under (checkpoints, report manifests): its own, so signatures
 * of two devices of one vault are told apart by name. The checkpoint's origin stays the log's.
 */
export const deviceKeyName = (vaultId: string, deviceId: string): string => `${logOrigin(vaultId)}/device/${deviceId}`;

/** The log origin a key name signs for: the name without its "/device/<id>" part. */
export function originOfKeyName(name: string): string {
  const m = /^(.+)\/device\/[^/]+$/.exec(name);
  return m ? m[1]! : name;
}

/**
 * Verifiers of one device's checkpoints: its key under its device key name, and under the log
 * origin, the name Custody 0.1.0 signed with (its checkpoints must still verify).
 */
export function checkpointVerifiers(vaultId: string, deviceId: string, publicKey: Uint8Array): NoteVerifier[] {
  return [noteVerifier(deviceKeyName(vaultId, deviceId), publicKey), noteVerifier(logOrigin(vaultId), publicKey)];
}

/** The raw Ed25519 public key of a verifier key (vkey) text; throws if it is malformed. */
export function publicKeyOfVkey(vkey: string): Buffer {
  const text = vkey.trim();
  parseVerifierKey(text);
  // <name>+<key id>+base64(0x01 || key): the name has no '+', the base64 may.
  const second = text.indexOf('+', text.indexOf('+') + 1);
  return Buffer.from(text.slice(second + 1), 'base64').subarray(1);
}

export interface StoredCheckpoint {
  size: number;
  rootHash: Buffer;
  note: string;
  createdAt: number;
  reason: string;
}

/**
 * Why a signing key is trusted: `attested` (unlocked: the vault key attests it, see
 * vault/attestation.ts), `pinned` (the reader supplied it, --vkey), `registry` (locked: read
 * from the key registry, which someone able to write the folder could have replaced).
 */
export type TrustBasis = 'attested' | 'pinned' | 'registry';

export interface TrustedKey {
  publicKey: Buffer;
  /** The device whose key it is (its key name). */
  deviceId: string;
}

export class Checkpoints {
  readonly origin: string;
  /** This device's key name: checkpoints are signed under it. */
  readonly keyName: string;
  readonly #insert: Database.Statement;
  readonly #latest: Database.Statement<[], StoredCheckpoint>;
  readonly #used: Database.Statement;
  #notes: Database.Statement<[number, number], { size: number; note: string }> | undefined;
  #trusted: readonly TrustedKey[];
  #basis: TrustBasis = 'registry';

  constructor(
    private readonly db: Database.Database,
    private readonly dir: string,
    private readonly vaultId: string,
    private readonly deviceId: string,
    /** The device's public key (from the key registry); replaced by a device key rotation (keys/deviceKeyRotation.ts). */
    public publicKey: Buffer,
  ) {
    this.origin = logOrigin(vaultId);
    this.keyName = deviceKeyName(vaultId, deviceId);
    this.#trusted = [{ publicKey, deviceId }];
    this.#insert = db.prepare('INSERT OR REPLACE INTO audit_checkpoint (size, root_hash, note, created_at, reason) VALUES (?, ?, ?, ?, ?)');
    // The key registry counts every signature the device key makes.
    this.#used = db.prepare("UPDATE key_registry SET usage_count = usage_count + 1 WHERE kind = 'device_signing' AND status = 'active'");
    this.#latest = db.prepare('SELECT size, root_hash AS rootHash, note, created_at AS createdAt, reason FROM audit_checkpoint ORDER BY size DESC LIMIT 1');
  }

  /** The keys whose signatures count when checkpoints are opened or verified. */
  trust(keys: readonly TrustedKey[], basis: TrustBasis): void {
    this.#trusted = keys;
    this.#basis = basis;
  }

  /** The same store and files, trusting other keys (verification with a pinned key). */
  withTrust(keys: readonly TrustedKey[], basis: TrustBasis): Checkpoints {
    const view = new Checkpoints(this.db, this.dir, this.vaultId, this.deviceId, this.publicKey);
    view.trust(keys, basis);
    return view;
  }

  get trustBasis(): TrustBasis {
    return this.#basis;
  }

  get trustedKeys(): readonly TrustedKey[] {
    return this.#trusted;
  }

  get verifiers(): NoteVerifier[] {
    const seen = new Set<string>();
    return this.#trusted
      .filter((k) => !seen.has(k.publicKey.toString('hex')) && seen.add(k.publicKey.toString('hex')))
      .flatMap((k) => checkpointVerifiers(this.vaultId, k.deviceId, k.publicKey));
  }

  /** The verifier key in signed-note vkey form: name+keyid+base64. */
  get vkey(): string {
    return formatVerifierKey(this.keyName, this.publicKey);
  }

  latest(): StoredCheckpoint | undefined {
    return this.#latest.get();
  }

  all(): StoredCheckpoint[] {
    return this.db.prepare('SELECT size, root_hash AS rootHash, note, created_at AS createdAt, reason FROM audit_checkpoint ORDER BY size').all() as StoredCheckpoint[];
  }

  /** The signed notes of the checkpoints with after < size <= upTo, by size (what a push sends). */
  notesBetween(after: number, upTo: number): { size: number; note: string }[] {
    this.#notes ??= this.db.prepare('SELECT size, note FROM audit_checkpoint WHERE size > ? AND size <= ? ORDER BY size');
    return this.#notes.all(after, upTo);
  }

  /**
   * Signs and stores a checkpoint of `tree` unless the newest one already covers it.
   * `external`: also replace checkpoint.txt (false while a rollback is unexplained, so the
   * evidence of it is not overwritten).
   */
  write(tree: MerkleTree, signingSeed: Uint8Array, reason: string, external: boolean): StoredCheckpoint {
    const latest = this.latest();
    if (latest && latest.size === tree.size && reason === 'batch') return latest;
    const rootHash = tree.root();
    const note = signNote(formatCheckpoint({ origin: this.origin, size: tree.size, rootHash }), [{ name: this.keyName, privateKey: signingSeed }]);
    const row: StoredCheckpoint = { size: tree.size, rootHash, note, createdAt: Date.now(), reason };
    this.#insert.run(row.size, row.rootHash, row.note, row.createdAt, row.reason);
    this.#used.run();
    if (external) writeFileAtomic(join(this.dir, CHECKPOINT_FILE), note);
    return row;
  }

  /** The checkpoint kept outside the database, if any (unverified text). */
  readExternal(): string | undefined {
    const file = join(this.dir, CHECKPOINT_FILE);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  }

  /** Verifies a signed checkpoint note against the trusted keys; throws on any problem. */
  open(note: string): Checkpoint {
    return openCheckpoint(note, this.verifiers, this.origin).checkpoint;
  }
}
