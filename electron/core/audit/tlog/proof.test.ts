import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CheckpointError, formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { EMPTY_ROOT, leafHash } from './hash.ts';
import { ed25519PublicKey, NoteError, noteVerifier, signNote } from './note.ts';
import {
  formatConsistencyProof,
  formatTlogProof,
  parseConsistencyProof,
  parseTlogProof,
  verifyConsistencyProof,
  verifyTlogProof,
} from './proof.ts';
import { MapSubtreeStore, MerkleTree } from './tree.ts';
import { ProofError } from './verify.ts';

const origin = 'custody.example/vault-1';
const seed = randomBytes(32);
const verifier = noteVerifier(origin, ed25519PublicKey(seed));
const entries = Array.from({ length: 37 }, (_, i) => Buffer.from(JSON.stringify({ seq: i, event: 'record.viewed' })));
const tree = new MerkleTree(new MapSubtreeStore(), 0);
for (const e of entries) tree.append(leafHash(e));

const signed = new Map<number, { note: string; checkpoint: Checkpoint }>();
function checkpointAt(size: number): { note: string; checkpoint: Checkpoint } {
  let cp = signed.get(size);
  if (!cp) {
    const text = formatCheckpoint({ origin, size, rootHash: tree.root(size) });
    cp = { note: signNote(text, [{ name: origin, privateKey: seed }]), checkpoint: parseCheckpoint(text) };
    signed.set(size, cp);
  }
  return cp;
}

describe('tlog-proof', () => {
  const at37 = checkpointAt(37);

  it('round-trips and verifies every entry, from data or from its leaf hash', () => {
    for (let i = 0; i < entries.length; i++) {
      const text = formatTlogProof({ index: i, proof: tree.inclusionProof(i), checkpoint: at37.note });
      expect(parseTlogProof(text)).toEqual({ index: i, proof: tree.inclusionProof(i), checkpoint: at37.note });
      const entry = entries[i] as Buffer;
      const result = verifyTlogProof(text, { leafData: entry }, [verifier], origin);
      expect(result).toEqual({ index: i, checkpoint: at37.checkpoint, verified: [{ name: origin, keyId: verifier.keyId }] });
      verifyTlogProof(text, { leafHash: leafHash(entry) }, [verifier], origin);
    }
  });

  it('carries extra data, and omits an empty one', () => {
    const extra = Buffer.from('context');
    const text = formatTlogProof({ index: 3, proof: tree.inclusionProof(3), checkpoint: at37.note, extra });
    expect(text.split('\n').slice(0, 3)).toEqual(['c2sp.org/tlog-proof@v1', `extra ${extra.toString('base64')}`, 'index 3']);
    expect(parseTlogProof(text).extra).toEqual(extra);
    expect(verifyTlogProof(text, { leafData: entries[3] as Buffer }, [verifier], origin).extra).toEqual(extra);
    const noExtra = formatTlogProof({ index: 3, proof: tree.inclusionProof(3), checkpoint: at37.note, extra: new Uint8Array(0) });
    expect(noExtra.split('\n')[1]).toBe('index 3');
  });

  it('formats a proof with no hashes (single-entry tree)', () => {
    const at1 = checkpointAt(1);
    const text = formatTlogProof({ index: 0, proof: [], checkpoint: at1.note });
    expect(text).toBe(`c2sp.org/tlog-proof@v1\nindex 0\n\n${at1.note}`);
    verifyTlogProof(text, { leafData: entries[0] as Buffer }, [verifier], origin);
  });

  it('parses the spec example layout', () => {
    const example = [
      'c2sp.org/tlog-proof@v1',
      'extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ',
      'index 73894',
      'gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=',
      'B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=',
      'EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=',
      'RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=',
      'AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=',
      '',
      'example.com/fancylog',
      '109482',
      'sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=',
      '',
      '— example.com/fancylog hI2DJw==',
      '',
    ].join('\n');
    const parsed = parseTlogProof(example);
    expect(parsed.index).toBe(73894);
    expect(parsed.proof).toHaveLength(5);
    expect(parsed.extra?.toString('latin1')).toMatch(/^age-v1\.2\.1-darwin-arm64\.tar\.gz/);
    expect(parsed.checkpoint.startsWith('example.com/fancylog\n109482\n')).toBe(true);
  });

  it('rejects a wrong leaf, index, hash, key or origin', () => {
    const text = formatTlogProof({ index: 5, proof: tree.inclusionProof(5), checkpoint: at37.note });
    const leaf5 = { leafData: entries[5] as Buffer };
    expect(() => verifyTlogProof(text, { leafData: entries[6] as Buffer }, [verifier], origin)).toThrow(/does not lead to the given root/);
    expect(() => verifyTlogProof(text.replace('index 5', 'index 4'), leaf5, [verifier], origin)).toThrow(ProofError);
    expect(() => verifyTlogProof(text.replace('index 5', 'index 37'), leaf5, [verifier], origin)).toThrow(/outside a tree of 37/);
    const hashLine = text.split('\n')[2] as string;
    const flipped = Buffer.from(hashLine, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => verifyTlogProof(text.replace(hashLine, flipped.toString('base64')), leaf5, [verifier], origin)).toThrow(ProofError);
    expect(() => verifyTlogProof(text.replace(`${hashLine}\n`, ''), leaf5, [verifier], origin)).toThrow(/needs exactly/);
    const stranger = noteVerifier(origin, ed25519PublicKey(randomBytes(32)));
    expect(() => verifyTlogProof(text, leaf5, [stranger], origin)).toThrow(NoteError);
    expect(() => verifyTlogProof(text, leaf5, [verifier], 'custody.example/vault-2')).toThrow(CheckpointError);
    expect(() => verifyTlogProof(text, { leafHash: Buffer.alloc(31) }, [verifier], origin)).toThrow(/leaf hash is 31 bytes/);
  });

  const good = formatTlogProof({ index: 5, proof: tree.inclusionProof(5), checkpoint: at37.note });
  const h = Buffer.alloc(32).toString('base64');
  it.each([
    ['another header', good.replace('c2sp.org/tlog-proof@v1', 'c2sp.org/tlog-proof@v2')],
    ['no index line', good.replace('index 5\n', '')],
    ['a leading zero in the index', good.replace('index 5', 'index 05')],
    ['a negative index', good.replace('index 5', 'index -5')],
    ['two spaces after index', good.replace('index 5', 'index  5')],
    ['extra after the index', good.replace('index 5', 'index 5\nextra AAAA')],
    ['empty extra data', good.replace('index 5', 'extra \nindex 5')],
    ['a short hash', good.replace('index 5\n', `index 5\n${Buffer.alloc(31).toString('base64')}\n`)],
    ['an unpadded hash', good.replace('index 5\n', `index 5\n${h.replace('=', '')}\n`)],
    ['65 hashes', good.replace('index 5\n', `index 5\n${`${h}\n`.repeat(65)}`)],
    ['no empty line', good.replace('\n\n', '\n')],
    ['no checkpoint', `${good.slice(0, good.indexOf('\n\n'))}\n\n`],
    ['a control character', good.replace('index 5', 'index\t5')],
  ])('rejects a proof with %s', (_, text) => {
    expect(() => parseTlogProof(text)).toThrow(ProofError);
  });

  it('refuses to format bad input', () => {
    expect(() => formatTlogProof({ index: -1, proof: [], checkpoint: at37.note })).toThrow(ProofError);
    expect(() => formatTlogProof({ index: 0, proof: [Buffer.alloc(31)], checkpoint: at37.note })).toThrow(/31 bytes/);
    expect(() => formatTlogProof({ index: 0, proof: [], checkpoint: 'no newline' })).toThrow(ProofError);
  });
});

describe('consistency proof text', () => {
  const sizes = [0, 1, 2, 3, 7, 8, 9, 20, 36, 37];

  it('round-trips and verifies between every pair of checkpoints', () => {
    for (const m of sizes) {
      for (const n of sizes.filter((s) => s >= m)) {
        const proof = tree.consistencyProof(m, n);
        const text = formatConsistencyProof({ oldSize: m, newSize: n, proof });
        expect(parseConsistencyProof(text)).toEqual({ oldSize: m, newSize: n, proof });
        verifyConsistencyProof(text, checkpointAt(m).checkpoint, checkpointAt(n).checkpoint);
      }
    }
  });

  it('has the documented layout', () => {
    const proof = tree.consistencyProof(3, 8);
    expect(formatConsistencyProof({ oldSize: 3, newSize: 8, proof })).toBe(
      ['custody/tlog-consistency-proof@v1', 'old 3', 'new 8', ...proof.map((p) => p.toString('base64')), ''].join('\n'),
    );
  });

  it('rejects proofs that do not connect the checkpoints', () => {
    const text = formatConsistencyProof({ oldSize: 7, newSize: 20, proof: tree.consistencyProof(7, 20) });
    const c7 = checkpointAt(7).checkpoint;
    const c20 = checkpointAt(20).checkpoint;
    expect(() => verifyConsistencyProof(text, checkpointAt(8).checkpoint, c20)).toThrow(/sizes 7 to 20/);
    expect(() => verifyConsistencyProof(text, { ...c7, rootHash: c20.rootHash }, c20)).toThrow(/old root/);
    expect(() => verifyConsistencyProof(text, c7, { ...c20, rootHash: c7.rootHash })).toThrow(/new root/);
    expect(() => verifyConsistencyProof(text, c7, { ...c20, origin: 'other' })).toThrow(/different logs/);
    const empty = formatConsistencyProof({ oldSize: 0, newSize: 20, proof: [] });
    expect(() => verifyConsistencyProof(empty, { ...c7, size: 0 }, c20)).toThrow(/not the empty tree root/);
    const c0 = { origin, size: 0, rootHash: EMPTY_ROOT, extensions: [] };
    verifyConsistencyProof(empty, c0, c20);
    const padded = formatConsistencyProof({ oldSize: 0, newSize: 20, proof: [c20.rootHash] });
    expect(() => verifyConsistencyProof(padded, c0, c20)).toThrow(/must be empty/);
  });

  const good = formatConsistencyProof({ oldSize: 7, newSize: 20, proof: tree.consistencyProof(7, 20) });
  it.each([
    ['another header', good.replace('custody/tlog-consistency-proof@v1', 'custody/tlog-consistency-proof@v2')],
    ['no final newline', good.slice(0, -1)],
    ['swapped size lines', good.replace('old 7\nnew 20', 'new 20\nold 7')],
    ['a leading zero', good.replace('old 7', 'old 07')],
    ['old larger than new', good.replace('old 7', 'old 21')],
    ['an empty line', good.replace('new 20\n', 'new 20\n\n')],
    ['a short hash', `${good}${Buffer.alloc(31).toString('base64')}\n`],
    ['trailing text', `${good}x\n`],
  ])('rejects a consistency proof with %s', (_, text) => {
    expect(() => parseConsistencyProof(text)).toThrow(ProofError);
  });

  it('refuses to format bad input', () => {
    expect(() => formatConsistencyProof({ oldSize: 3, newSize: 2, proof: [] })).toThrow(/larger/);
    expect(() => formatConsistencyProof({ oldSize: 1.5, newSize: 2, proof: [] })).toThrow(ProofError);
  });
});
