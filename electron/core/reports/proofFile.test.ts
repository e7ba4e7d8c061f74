// inclusion-proofs.jsonl written in one pass must be byte for byte what the reference path
// writes (MerkleTree.inclusionProof + formatTlogProof + JSON.stringify per line), for trees
// of every shape (powers of two, one more and one less, a single leaf), and its proofs must
// verify; a seq outside the tree is refused rather than written.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { formatTlogProof, parseTlogProof } from '../audit/tlog/proof.ts';
import { verifyInclusion } from '../audit/tlog/verify.ts';
import { levelsOf, levelsTree } from './memoryTree.ts';
import { inclusionProofsFile } from './proofFile.ts';

const leaf = (i: number) => createHash('sha256').update(`leaf ${i}`).digest();
// A checkpoint with a character JSON leaves as is (the em dash of a signature line) and one it escapes.
const checkpoint = (size: number) => `custody.vault/test\n${size}\nroot=\n\n\u2014 custody.vault/test "quoted" \\ sig=\n`;

function reference(size: number, seqs: number[]): string {
  const tree = levelsTree(levelsOf(Array.from({ length: size }, (_, i) => leaf(i))), size);
  return seqs.map((seq) => JSON.stringify({ seq, tlogProof: formatTlogProof({ index: seq, proof: tree.inclusionProof(seq, size), checkpoint: checkpoint(size) }) }) + '\n').join('');
}

describe('inclusion-proofs.jsonl in one pass', () => {
  test.each([1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 100, 1023, 1025, 3000])('the same bytes as the reference path, tree of %i leaves', (size) => {
    const seqs = size <= 100 ? Array.from({ length: size }, (_, i) => i) : [0, 1, 2, size >> 1, size - 3, size - 2, size - 1, ...Array.from({ length: 200 }, (_, i) => (i * 7919) % size)].sort((a, b) => a - b);
    const levels = levelsOf(Array.from({ length: size }, (_, i) => leaf(i)));
    const got = inclusionProofsFile(levels, size, checkpoint(size), seqs).toString('utf8');
    expect(got).toBe(reference(size, seqs));
    // And each line proves its leaf against the tree's root.
    const root = levelsTree(levels, size).root();
    for (const line of got.split('\n').filter(Boolean).slice(0, 50)) {
      const { seq, tlogProof } = JSON.parse(line) as { seq: number; tlogProof: string };
      const p = parseTlogProof(tlogProof);
      expect(p.index).toBe(seq);
      expect(() => verifyInclusion(seq, size, leaf(seq), p.proof, root)).not.toThrow();
    }
  });

  test('a seq outside the tree is refused, not written', () => {
    const levels = levelsOf([leaf(0), leaf(1)]);
    expect(() => inclusionProofsFile(levels, 2, checkpoint(2), [0, 2])).toThrow(/outside a tree of 2 leaves/);
    expect(() => inclusionProofsFile(levels, 2, checkpoint(2), [-1])).toThrow(/outside/);
  });
});
