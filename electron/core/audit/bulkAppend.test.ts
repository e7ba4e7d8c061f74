// Entries computed off the database thread (bulkAppend.ts auditRows, run by the bulk import's
// helper) must be byte for byte what AuditLog.appendSync writes: the canonical text
// (canonicalEntry, RFC 8785), the leaf hash, and every tree node MerkleTree.append stores,
// from any start size (odd sizes complete nodes left of the batch), across chunk edges.
import { expect, test } from 'vitest';
import { hash, randomBytes } from 'node:crypto';
import type { AuditEntry } from '../../shared/audit.ts';
import { auditRows, type BulkItem, type BulkStart } from './bulkAppend.ts';
import { canonicalEntry } from './entry.ts';
import { leafHash } from './tlog/hash.ts';
import { MapSubtreeStore, MerkleTree } from './tlog/tree.ts';

test('auditRows writes the text, leaves and nodes appendSync and MerkleTree would, from any start size', () => {
  for (const startSize of [0, 1, 2, 5, 7, 8, 13, 64, 100]) {
    const store = new MapSubtreeStore();
    const tree = new MerkleTree(store, 0);
    for (let i = 0; i < startSize; i++) tree.append(randomBytes(32));
    // The start state as bulkStart reads it: the frontier of the size's decomposition.
    const frontier: (Uint8Array | null)[] = [];
    let start = 0;
    for (let rest = startSize; rest > 0; ) {
      let piece = 1;
      let level = 0;
      while (piece * 2 <= rest) [piece, level] = [piece * 2, level + 1];
      while (frontier.length < level) frontier.push(null);
      frontier[level] = store.get(level, start / piece)!;
      start += piece;
      rest -= piece;
    }
    // An actor and details that need escaping, and a details key order canonical() must sort.
    const s: BulkStart = { seq: startSize, time: '2026-12-04T01:02:03.456Z', ms: 0, device: 'dev-"é"', actor: 'Ana \u00e9\u{1F600} "q" \\ \u0001', frontier };
    const items: BulkItem[] = Array.from({ length: 37 }, (_, i) => ({ event: 'record.created', target: `record:${i}-\u2028`, details: (i % 3 ? { via: 'import', kind: i % 2 ? 'note' : 'file' } : { kind: 'observation' }) as Record<string, string> }));
    const rows = [auditRows(s, items.slice(0, 5), hash), auditRows(s, items.slice(5, 6), hash), auditRows(s, items.slice(6), hash)];
    const json = rows.flatMap((r) => r.json);
    const leaves = Buffer.concat(rows.map((r) => r.leaves));
    const nodes = new MapSubtreeStore();
    for (const r of rows) for (let x = 0; x < r.nodes.length; x += 2) nodes.put(r.nodes[x]!, r.nodes[x + 1]!, r.nodeHashes.subarray(x * 16, x * 16 + 32));
    items.forEach((it, i) => {
      const entry: AuditEntry = { v: 1, seq: startSize + i, time: s.time, device: s.device, actor: s.actor, event: it.event, target: it.target, success: true, details: it.details };
      expect(json[i], `entry ${i} from ${startSize}`).toBe(canonicalEntry(entry));
      const leaf = leafHash(Buffer.from(canonicalEntry(entry), 'utf8'));
      expect(leaves.subarray(i * 32, i * 32 + 32).equals(leaf)).toBe(true);
      tree.append(leaf);
    });
    // Every node the tree stored for the batch's leaves, and no other.
    let expected = 0;
    for (let level = 1; level < 12; level++)
      for (let idx = 0; (idx + 1) * 2 ** level <= startSize + items.length; idx++) {
        if ((idx + 1) * 2 ** level <= startSize) continue;
        expected++;
        expect(nodes.get(level, idx)?.equals(store.get(level, idx)!), `node ${level}/${idx} from ${startSize}`).toBe(true);
      }
    expect(rows.reduce((n, r) => n + r.nodes.length / 2, 0)).toBe(expected);
    expect(s.seq).toBe(startSize + items.length);
  }
});
