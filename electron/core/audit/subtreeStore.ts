// The audit tree's complete-subtree hashes in SQLite: level 0 is audit_entry.leaf_hash,
// higher levels are audit_node rows. Statements are prepared once per connection.
import type Database from 'better-sqlite3';
import type { SubtreeStore } from './tlog/tree.ts';

export class SqliteSubtreeStore implements SubtreeStore {
  readonly #leaf: Database.Statement<[number], { leaf_hash: Buffer }>;
  readonly #node: Database.Statement<[number, number], { hash: Buffer }>;
  readonly #put: Database.Statement<[number, number, Buffer]>;

  constructor(db: Database.Database) {
    this.#leaf = db.prepare('SELECT leaf_hash FROM audit_entry WHERE seq = ?');
    this.#node = db.prepare('SELECT hash FROM audit_node WHERE level = ? AND idx = ?');
    this.#put = db.prepare('INSERT INTO audit_node (level, idx, hash) VALUES (?, ?, ?)');
  }

  get(level: number, index: number): Buffer | undefined {
    return level === 0 ? this.#leaf.get(index)?.leaf_hash : this.#node.get(level, index)?.hash;
  }

  put(level: number, index: number, hash: Buffer): void {
    // Leaves are written with their entry row, before the tree is told about them.
    if (level > 0) this.#put.run(level, index, hash);
  }
}
