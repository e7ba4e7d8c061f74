// Signed checkpoints of the audit log (C2SP tlog-checkpoint as a C2SP signed note, signed by
// the device's Ed25519 key). One is written after every batch of appends while the vault is
// unlocked, on lock and for every report; the newest is also kept outside the database
// (checkpoint.txt, written atomically) so a database replaced by an older copy is noticed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { writeFileAtomic } from '../util/atomicFile.ts';
import { CHECKPOINT_FILE } from '../vault/header.ts';
import { formatCheckpoint, openCheckpoint, type Checkpoint } from './tlog/checkpoint.ts';
import { formatVerifierKey, noteVerifier, signNote, type NoteVerifier } from './tlog/note.ts';
import type { MerkleTree } from './tlog/tree.ts';

export const logOrigin = (vaultId: string): string => `custody.vault/${vaultId}`;

export interface StoredCheckpoint {
  size: number;
  rootHash: Buffer;
  note: string;
  createdAt: number;
  reason: string;
}

export class Checkpoints {
  readonly origin: string;
  readonly #insert: Database.Statement;
  readonly #latest: Database.Statement<[], StoredCheckpoint>;
  readonly #used: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly dir: string,
    vaultId: string,
    /** The device's public key (from the key registry). */
    readonly publicKey: Buffer,
  ) {
    this.origin = logOrigin(vaultId);
    this.#insert = db.prepare('INSERT OR REPLACE INTO audit_checkpoint (size, root_hash, note, created_at, reason) VALUES (?, ?, ?, ?, ?)');
    // The key registry counts every signature the device key makes.
    this.#used = db.prepare("UPDATE key_registry SET usage_count = usage_count + 1 WHERE kind = 'device_signing' AND status = 'active'");
    this.#latest = db.prepare('SELECT size, root_hash AS rootHash, note, created_at AS createdAt, reason FROM audit_checkpoint ORDER BY size DESC LIMIT 1');
  }

  get verifier(): NoteVerifier {
    return noteVerifier(this.origin, this.publicKey);
  }

  /** The verifier key in signed-note vkey form: name+keyid+base64. */
  get vkey(): string {
    return formatVerifierKey(this.origin, this.publicKey);
  }

  latest(): StoredCheckpoint | undefined {
    return this.#latest.get();
  }

  all(): StoredCheckpoint[] {
    return this.db.prepare('SELECT size, root_hash AS rootHash, note, created_at AS createdAt, reason FROM audit_checkpoint ORDER BY size').all() as StoredCheckpoint[];
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
    const note = signNote(formatCheckpoint({ origin: this.origin, size: tree.size, rootHash }), [{ name: this.origin, privateKey: signingSeed }]);
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

  /** Verifies a signed checkpoint note against this device's key; throws on any problem. */
  open(note: string): Checkpoint {
    return openCheckpoint(note, [this.verifier], this.origin).checkpoint;
  }
}
