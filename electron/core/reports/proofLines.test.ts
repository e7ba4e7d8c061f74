// inclusion-proofs.jsonl read on its bytes gives, line by line, what JSON.parse gives: for the
// lines the exporter writes (read by their head) and for every altered form, which is decoded
// and parsed as before (escapes, spaces, another checkpoint, non-ASCII, duplicate keys, a
// malformed line named by its number).
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { levelsOf } from './memoryTree.ts';
import { inclusionProofsFile } from './proofFile.ts';
import { proofText, readProofLines } from './proofLines.ts';

const SIZE = 40;
const leaves = Array.from({ length: SIZE }, (_, i) => createHash('sha256').update(`leaf ${i}`).digest());
const checkpoint = `custody.vault/test\n${SIZE}\nroot=\n\n\u2014 custody.vault/test sig=\n`;
const honest = inclusionProofsFile(levelsOf(leaves), SIZE, checkpoint, Array.from({ length: SIZE }, (_, i) => i)).toString('utf8').split('\n').filter(Boolean);

/** What the verifier read before: JSON.parse per line. */
function reference(lines: string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of lines) {
    const p = JSON.parse(line) as { seq: number; tlogProof: string };
    out.set(p.seq, p.tlogProof);
  }
  return out;
}

function read(lines: string[]): Map<number, string> {
  const got = readProofLines(Buffer.from(lines.join('\n') + '\n', 'utf8'), checkpoint);
  return new Map([...got].map(([seq, p]) => [seq, proofText(p, checkpoint)]));
}

describe('readProofLines', () => {
  test("the exporter's lines: read by their head, the same proofs as JSON.parse", () => {
    const got = readProofLines(Buffer.from(honest.join('\n') + '\n'), checkpoint);
    expect([...got.values()].every((p) => p.head !== undefined)).toBe(true);
    expect(read(honest)).toEqual(reference(honest));
  });

  test('altered lines are parsed as JSON, with the same result as before', () => {
    const l = honest[7]!;
    const variants = [
      l.replace('"seq":7', '"seq": 7'),
      l.replace('c2sp.org', 'c2sp\\u002eorg'),
      l.replace('\\nindex 7', '\\u000aindex 7'),
      l.replace('custody.vault/test sig=', 'custody.vault/test other='),
      l.replace('tlog-proof@v1', 'tlog-proof@v1\u00e9'),
      l.replace('{"seq":7,', '{"seq":7,"seq":8,'),
      l.replace('"}', '","extra":1}'),
      l.replace('"seq":7', '"seq":7.0'),
    ];
    for (const v of variants) {
      expect(v).not.toBe(l);
      expect(read([v]), v.slice(0, 80)).toEqual(reference([v]));
    }
    // The last line for a seq wins, as with a Map filled line by line.
    expect(read([honest[3]!, variants[3]!.replace('"seq":7', '"seq":3')])).toEqual(reference([honest[3]!, variants[3]!.replace('"seq":7', '"seq":3')]));
  });

  test('a malformed line is named by its number among the non-empty lines; bad JSON throws', () => {
    expect(() => readProofLines(Buffer.from(`${honest[0]}\n\n{"seq":"1","tlogProof":"x"}\n`), checkpoint)).toThrow('inclusion-proofs.jsonl line 2 is malformed');
    expect(() => readProofLines(Buffer.from(`${honest[0]}\n{"seq":1,`), checkpoint)).toThrow(SyntaxError);
  });
});
