// Test support: attacks performed with write access to a vault folder (no password), as the
// security review did them, so tests can show each is caught.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deviceKeyName, logOrigin } from '../audit/checkpoints.ts';
import { formatCheckpoint } from '../audit/tlog/checkpoint.ts';
import { leafHashOfText } from '../audit/tlog/hash.ts';
import { signNote } from '../audit/tlog/note.ts';
import { MerkleTree, type SubtreeStore } from '../audit/tlog/tree.ts';
import { generateEd25519 } from '../crypto/ed25519.ts';
import { keyFingerprint } from '../crypto/keys.ts';

/** Records every node a tree build stores, so the attacker can write them all back. */
class CapturingStore implements SubtreeStore {
  readonly nodes = new Map<string, { level: number; idx: number; hash: Buffer }>();
  get(level: number, idx: number) {
    return this.nodes.get(`${level}/${idx}`)?.hash;
  }
  put(level: number, idx: number, hash: Buffer) {
    this.nodes.set(`${level}/${idx}`, { level, idx, hash });
  }
}

/**
 * What the review did with write access to the folder: edit entry `seq`, rebuild the tree,
 * re-sign every stored checkpoint and checkpoint.txt with the attacker's key (under the device's
 * own key name, which is public), and, with `swapKey`, put the attacker's public key in the
 * key registry. Returns the attacker's public key.
 */
export function rewriteAndResign(dir: string, seq: number, opts: { swapKey: boolean }): Buffer {
  const attacker = generateEd25519();
  const db = new Database(join(dir, 'custody.db'));
  try {
    const vaultId = db.prepare("SELECT value FROM meta WHERE key = 'vaultId'").pluck().get() as string;
    const deviceId = db.prepare("SELECT value FROM meta WHERE key = 'deviceId'").pluck().get() as string;
    const entry = db.prepare('SELECT entry FROM audit_entry WHERE seq = ?').pluck().get(seq) as string;
    const forged = entry.replace('"details":{', '"details":{"forged":true,');
    if (forged === entry) throw new Error(`entry ${seq} has no details to forge`);
    db.prepare('UPDATE audit_entry SET entry = ?, leaf_hash = ? WHERE seq = ?').run(forged, leafHashOfText(forged), seq);

    const store = new CapturingStore();
    const tree = new MerkleTree(store, 0);
    for (const leaf of db.prepare('SELECT leaf_hash FROM audit_entry ORDER BY seq').pluck().all() as Buffer[]) tree.append(leaf);
    db.exec('DELETE FROM audit_node');
    const putNode = db.prepare('INSERT INTO audit_node (level, idx, hash) VALUES (?, ?, ?)');
    for (const n of store.nodes.values()) if (n.level > 0) putNode.run(n.level, n.idx, n.hash);

    const sign = (size: number) => signNote(formatCheckpoint({ origin: logOrigin(vaultId), size, rootHash: tree.root(size) }), [{ name: deviceKeyName(vaultId, deviceId), privateKey: attacker.seed }]);
    const sizes = db.prepare('SELECT size FROM audit_checkpoint ORDER BY size').pluck().all() as number[];
    const resign = db.prepare('UPDATE audit_checkpoint SET note = ?, root_hash = ? WHERE size = ?');
    for (const size of sizes) resign.run(sign(size), tree.root(size), size);
    writeFileSync(join(dir, 'checkpoint.txt'), sign(sizes.at(-1)!));
    if (opts.swapKey)
      db.prepare("UPDATE key_registry SET public_key = ?, fingerprint = ? WHERE kind = 'device_signing'").run(attacker.publicKey, keyFingerprint(attacker.publicKey));
    return attacker.publicKey;
  } finally {
    db.close();
  }
}

