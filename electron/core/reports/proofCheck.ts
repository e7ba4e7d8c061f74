// A fast path for checking a report's inclusion proofs: a report of 100,000 entries carries
// 100,000 proofs against one checkpoint, whose upper paths are mostly the same hashes. A proof
// this path accepts would be accepted by parseTlogProof + verifyInclusion (tlog/proof.ts,
// tlog/verify.ts) too; anything else (another checkpoint, an extra line, a malformed line, a
// wrong index or length, a root that does not match) returns false, and the caller checks
// that proof the strict way, which names the problem.
import { hash } from 'node:crypto';

const HEAD = /^c2sp\.org\/tlog-proof@v1\nindex (0|[1-9][0-9]*)((?:\n[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)*)$/;
// Above this many remaining steps a proof's path is not remembered (it is shared by few).
const REMEMBER_STEPS = 12;

export class InclusionChecker {
  readonly #suffix: string;
  readonly #size: number;
  readonly #root: string;
  readonly #scratch = Buffer.alloc(65, 1);
  // A step on the way up ("step:index:inner steps left") -> the hash there and the rest of the
  // path, from a proof that reached the root.
  readonly #known = new Map<string, string>();

  /** For proofs against `checkpoint` (its exact text, already verified) of `size` leaves and `root`. */
  constructor(checkpoint: string, size: number, root: Uint8Array) {
    this.#suffix = `\n\n${checkpoint}`;
    this.#size = size;
    this.#root = Buffer.from(root).toString('latin1');
  }

  /** True when `proof` proves `leaf` (32 bytes) at index `seq` in the checkpoint's tree. */
  accepts(proof: string, seq: number, leaf: Uint8Array): boolean {
    if (!proof.endsWith(this.#suffix)) return false;
    const m = HEAD.exec(proof.slice(0, proof.length - this.#suffix.length));
    if (!m || Number(m[1]) !== seq || seq >= this.#size || leaf.length !== 32) return false;
    const lines = m[2]!.length === 0 ? [] : m[2]!.slice(1).split('\n');
    // The length verifyInclusion requires: the levels where the leaf's path and the tree's
    // right edge differ, then one hash per set bit above them.
    let inner = 0;
    for (let a = seq, b = this.#size - 1; a !== b; a = Math.floor(a / 2), b = Math.floor(b / 2)) inner++;
    let border = 0;
    for (let x = Math.floor(seq / 2 ** inner); x > 0; x = Math.floor(x / 2)) if (x % 2 === 1) border++;
    if (lines.length !== inner + border) return false;
    // atob gives the bytes as a latin1 string without a Buffer per hash (the format was checked above).
    const path = lines.map((l) => atob(l)).join('');
    let h = Buffer.from(leaf).toString('latin1');
    let index = seq;
    const reached: [string, string][] = [];
    for (let i = 0; i < lines.length; i++) {
      const rest = lines.length - i;
      if (rest <= REMEMBER_STEPS) {
        // What decides the remaining steps: the index there and how many of them still
        // combine by the index's bits (the rest put the path's hash on the left).
        const key = `${i}:${index}:${Math.max(0, inner - i)}`;
        const state = h + path.slice(i * 32);
        // The same steps left, the same hash and the same rest of the path as a proof that reached the root.
        if (this.#known.get(key) === state) return this.#remember(reached);
        if (!this.#known.has(key)) reached.push([key, state]);
      }
      const p = path.slice(i * 32, i * 32 + 32);
      h = i >= inner || index % 2 === 1 ? this.#node(p, h) : this.#node(h, p);
      index = Math.floor(index / 2);
    }
    return h === this.#root && this.#remember(reached);
  }

  #remember(reached: [string, string][]): true {
    for (const [key, state] of reached) this.#known.set(key, state);
    return true;
  }

  #node(left: string, right: string): string {
    this.#scratch.write(left, 1, 'latin1');
    this.#scratch.write(right, 33, 'latin1');
    return hash('sha256', this.#scratch, 'binary');
  }
}
