// The fast inclusion check accepts exactly what the strict one (parseTlogProof + verifyInclusion)
// accepts: every honest proof of a real tree, and none of the forged ones, also after the
// honest proofs it remembered paths from.
import { expect, test } from 'vitest';
import { formatCheckpoint } from '../audit/tlog/checkpoint.ts';
import { leafHash } from '../audit/tlog/hash.ts';
import { formatTlogProof, parseTlogProof } from '../audit/tlog/proof.ts';
import { MapSubtreeStore, MerkleTree } from '../audit/tlog/tree.ts';
import { verifyInclusion } from '../audit/tlog/verify.ts';
import { InclusionChecker } from './proofCheck.ts';

const SIZE = 1000;
const tree = new MerkleTree(new MapSubtreeStore(), 0);
const leaves = Array.from({ length: SIZE }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));
for (const l of leaves) tree.append(l);
// The checkpoint's signature lines do not matter here: both paths take its text as verified.
const checkpoint = formatCheckpoint({ origin: 'custody.vault/test', size: SIZE, rootHash: tree.root() }) + '\n— custody.vault/test AAAA\n';
const proofOf = (seq: number, cp = checkpoint) => formatTlogProof({ index: seq, proof: tree.inclusionProof(seq, SIZE), checkpoint: cp });

function strict(proof: string, seq: number, leaf: Buffer): boolean {
  try {
    const p = parseTlogProof(proof);
    if (p.checkpoint !== checkpoint || p.index !== seq) return false;
    verifyInclusion(p.index, SIZE, leaf, p.proof, tree.root());
    return true;
  } catch {
    return false;
  }
}

test('every honest proof is accepted, by both paths', () => {
  const fast = new InclusionChecker(checkpoint, SIZE, tree.root());
  for (let seq = 0; seq < SIZE; seq++) {
    const proof = proofOf(seq);
    expect(fast.accepts(proof, seq, leaves[seq]!), `entry ${seq}`).toBe(true);
    expect(strict(proof, seq, leaves[seq]!)).toBe(true);
  }
});

test('forged proofs are refused after the honest ones taught it the upper paths', () => {
  const fast = new InclusionChecker(checkpoint, SIZE, tree.root());
  for (let seq = 0; seq < SIZE; seq += 3) expect(fast.accepts(proofOf(seq), seq, leaves[seq]!)).toBe(true);
  const lines = (seq: number) => proofOf(seq).split('\n');
  const flip = (b64: string) => Buffer.from(Buffer.from(b64, 'base64').map((x, i) => (i === 0 ? x ^ 1 : x))).toString('base64');
  const forged: [string, string, number, Buffer][] = [];
  for (const seq of [1, 500, 998, 999]) {
    const l = lines(seq);
    // Each hash of the path changed in turn: low levels (hashed) and high ones (remembered).
    for (let k = 2; k < l.indexOf(''); k++) forged.push([`entry ${seq}, hash ${k - 1} changed`, l.map((x, i) => (i === k ? flip(x) : x)).join('\n'), seq, leaves[seq]!]);
    forged.push([`entry ${seq} with another leaf`, proofOf(seq), seq, leaves[(seq + 1) % SIZE]!]);
    forged.push([`entry ${seq}'s proof given for another entry`, proofOf(seq), (seq + 2) % SIZE, leaves[seq]!]);
    forged.push([`entry ${seq} with a hash dropped`, l.filter((_, i) => i !== 2).join('\n'), seq, leaves[seq]!]);
    forged.push([`entry ${seq} with a hash added`, [...l.slice(0, 3), l[2], ...l.slice(3)].join('\n'), seq, leaves[seq]!]);
    forged.push([`entry ${seq} with non-canonical base64`, l.map((x, i) => (i === 2 ? x.slice(0, 42) + 'B=' : x)).join('\n'), seq, leaves[seq]!]);
    // The highest hash (a remembered step) malformed, and a line the fast path does not know.
    const top = l.indexOf('') - 1;
    forged.push([`entry ${seq} with its highest hash non-canonical`, l.map((x, i) => (i === top ? x.slice(0, 42) + 'B=' : x)).join('\n'), seq, leaves[seq]!]);
    forged.push([`entry ${seq} with its highest hash followed by a space`, l.map((x, i) => (i === top ? `${x} ` : x)).join('\n'), seq, leaves[seq]!]);
    forged.push([`entry ${seq} against another checkpoint`, proofOf(seq, checkpoint.replace('test AAAA', 'test BBBB')), seq, leaves[seq]!]);
    forged.push([`entry ${seq} with an index written 0${seq}`, proofOf(seq).replace(`index ${seq}`, `index 0${seq}`), seq, leaves[seq]!]);
  }
  for (const [what, proof, seq, leaf] of forged) {
    expect(fast.accepts(proof, seq, leaf), what).toBe(false);
    expect(strict(proof, seq, leaf), what).toBe(false);
  }
  // And it still accepts the honest ones afterwards.
  for (let seq = 1; seq < SIZE; seq += 7) expect(fast.accepts(proofOf(seq), seq, leaves[seq]!)).toBe(true);
});
