// inclusion-proofs.jsonl in one pass: the same bytes as a JSON.stringify({seq, tlogProof:
// formatTlogProof(...)}) line per entry (proofs.ts), without a Buffer, a base64 call and a
// string copy of the checkpoint per hash and per line. A report of 100,000 entries holds
// 1.7 million proof hashes but only some 200,000 distinct ones: each subtree's base64 is made
// once, and every line ends with the same JSON-escaped checkpoint, copied as bytes.
import { nodeHash } from '../audit/tlog/hash.ts';

const HEADER = 'c2sp.org/tlog-proof@v1';

/** Largest power of two below n (n >= 2): where RFC 9162 splits a range of n leaves. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The file's bytes: one line per seq (in the order given), each proving leaf `seq` in the
 * tree of `size` leaves whose complete subtrees are `levels` (memoryTree.ts's treeLevels),
 * against `checkpoint` (the signed note, verbatim).
 */
export function inclusionProofsFile(levels: readonly (readonly Buffer[])[], size: number, checkpoint: string, seqs: readonly number[]): Buffer {
  if (!checkpoint.endsWith('\n') || checkpoint.startsWith('\n')) throw new Error('checkpoint must be a signed note ending with a newline');
  const b64: (string | undefined)[][] = levels.map(() => []);
  const ranges = new Map<string, string>();
  // The hash of leaves [begin, end): a complete subtree, or (on the tree's right edge) the
  // right fold of the complete subtrees that tile it, largest first.
  const rangeHash = (begin: number, end: number): Buffer => {
    const pieces: Buffer[] = [];
    for (let start = begin; start < end; ) {
      let level = 0;
      while (2 ** (level + 1) <= end - start) level++;
      pieces.push(levels[level]![start / 2 ** level]!);
      start += 2 ** level;
    }
    let h = pieces.pop()!;
    for (let left = pieces.pop(); left; left = pieces.pop()) h = nodeHash(left, h);
    return h;
  };
  const range64 = (begin: number, end: number): string => {
    const n = end - begin;
    if ((n & (n - 1)) === 0 && begin % n === 0) {
      const level = 31 - Math.clz32(n);
      const index = begin / n;
      const row = b64[level]!;
      return (row[index] ??= levels[level]![index]!.toString('base64'));
    }
    const key = `${begin}:${end}`;
    let s = ranges.get(key);
    if (s === undefined) ranges.set(key, (s = rangeHash(begin, end).toString('base64')));
    return s;
  };
  // "\n" + the checkpoint + the line's end, as JSON would write them.
  const tail = Buffer.from(`${JSON.stringify(`\n${checkpoint}`).slice(1)}}\n`, 'utf8');
  let depth = 0;
  while (2 ** depth < size) depth++;
  // Each line: at most `depth` hashes of 44 characters and "\n" as two, the header, two numbers.
  const perLine = 64 + HEADER.length + 2 * 20 + depth * 46 + tail.length;
  const out = Buffer.allocUnsafe(perLine * seqs.length);
  let at = 0;
  const path: string[] = [];
  for (const seq of seqs) {
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= size) throw new RangeError(`leaf index ${seq} is outside a tree of ${size} leaves`);
    path.length = 0;
    let begin = 0;
    let end = size;
    while (end - begin > 1) {
      const k = splitPoint(end - begin);
      if (seq < begin + k) {
        path.push(range64(begin + k, end));
        end = begin + k;
      } else {
        path.push(range64(begin, begin + k));
        begin += k;
      }
    }
    let head = `{"seq":${seq},"tlogProof":"${HEADER}\\nindex ${seq}\\n`;
    for (let i = path.length - 1; i >= 0; i--) head += `${path[i]}\\n`;
    at += out.write(head, at, 'latin1');
    at += tail.copy(out, at);
  }
  return out.subarray(0, at);
}
