// A fast path for checking a report's inclusion proofs: a report of 100,000 entries carries
// 100,000 proofs against one checkpoint, whose upper paths are mostly the same hashes. A proof
// this path accepts would be accepted by parseTlogProof + verifyInclusion (tlog/proof.ts,
// tlog/verify.ts) too; anything else (another checkpoint, an extra line, a malformed line, a
// wrong index or length, a root that does not match) returns false, and the caller checks
// that proof the strict way, which names the problem.
import { hash } from 'node:crypto';

const HEADER = 'c2sp.org/tlog-proof@v1';
/** The base64 of 32 bytes, canonical: the last character leaves no stray bits. */
const HASH_LINE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
// Above this many remaining steps a proof's path is not remembered (it is shared by few: in a
// tree of 2^17 leaves only the two lowest steps are hashed anew for every proof).
const REMEMBER_STEPS = 15;

/** A step of a proof that reached the root: the hash there, and the proof's lines from there on. */
interface Reached {
  hash: string;
  lines: readonly string[];
  from: number;
}

export class InclusionChecker {
  readonly #suffix: string;
  readonly #size: number;
  readonly #root: string;
  readonly #scratch = Buffer.alloc(65, 1);
  // A step on the way up (its node: index * 64 + step) -> the hash there and the rest of the
  // path (base64 lines, each one checked by HASH_LINE), from a proof that reached the root.
  readonly #known = new Map<number, Reached>();

  /** For proofs against `checkpoint` (its exact text, already verified) of `size` leaves and `root`. */
  constructor(checkpoint: string, size: number, root: Uint8Array) {
    this.#suffix = `\n\n${checkpoint}`;
    this.#size = size;
    this.#root = Buffer.from(root).toString('latin1');
  }

  /** True when `proof` proves `leaf` (32 bytes) at index `seq` in the checkpoint's tree. */
  accepts(proof: string, seq: number, leaf: Uint8Array): boolean {
    if (!proof.endsWith(this.#suffix)) return false;
    return this.acceptsHead(proof.slice(0, proof.length - this.#suffix.length), seq, leaf);
  }

  /** As accepts(), for the proof `head` + "\n\n" + the checkpoint (proofLines.ts reads it so). */
  acceptsHead(head: string, seq: number, leaf: Uint8Array): boolean {
    // Node keys (index * 64 + step) stay exact below 2^47 leaves; a larger tree goes the strict way.
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= this.#size || this.#size > 2 ** 46 || leaf.length !== 32) return false;
    // The head is HEADER, "index <seq>" (decimal, no leading zero), then one canonical base64
    // hash per line. Each hash line is checked when it is hashed, or found equal to a line of a
    // proof that reached the root (whose lines were all checked so): no regular expression
    // over the whole head.
    const lines = head.split('\n');
    if (lines[0] !== HEADER || lines[1] !== `index ${seq}`) return false;
    const steps = lines.length - 2;
    // The length verifyInclusion requires: the levels where the leaf's path and the tree's
    // right edge differ, then one hash per set bit above them.
    let inner = 0;
    for (let a = seq, b = this.#size - 1; a !== b; a = Math.floor(a / 2), b = Math.floor(b / 2)) inner++;
    let border = 0;
    for (let x = Math.floor(seq / 2 ** inner); x > 0; x = Math.floor(x / 2)) if (x % 2 === 1) border++;
    if (steps !== inner + border) return false;
    let h = Buffer.from(leaf).toString('latin1');
    let index = seq;
    const reached: [number, Reached][] = [];
    for (let i = 0; i < steps; i++) {
      const rest = steps - i;
      if (rest <= REMEMBER_STEPS) {
        // What decides the remaining steps: the node there (its index and level; with the tree's
        // size they fix which steps still combine by the index's bits) and the path from there.
        const key = index * 64 + i;
        const known = this.#known.get(key);
        // The same hash and the same rest of the path as a proof that reached the root.
        if (known) {
          if (known.hash === h && sameRest(lines, i + 2, known)) return this.#remember(reached);
        } else reached.push([key, { hash: h, lines, from: i + 2 }]);
      }
      const line = lines[i + 2]!;
      if (!HASH_LINE.test(line)) return false;
      // atob gives the bytes as a latin1 string without a Buffer per hash (the line was checked just above).
      const p = atob(line);
      h = i >= inner || index % 2 === 1 ? this.#node(p, h) : this.#node(h, p);
      index = Math.floor(index / 2);
    }
    return h === this.#root && this.#remember(reached);
  }

  #remember(reached: [number, Reached][]): true {
    for (const [key, step] of reached) this.#known.set(key, step);
    return true;
  }

  #node(left: string, right: string): string {
    this.#scratch.write(left, 1, 'latin1');
    this.#scratch.write(right, 33, 'latin1');
    return hash('sha256', this.#scratch, 'binary');
  }
}

function sameRest(lines: readonly string[], from: number, known: Reached): boolean {
  if (lines.length - from !== known.lines.length - known.from) return false;
  for (let k = 0; from + k < lines.length; k++) if (lines[from + k] !== known.lines[known.from + k]) return false;
  return true;
}
