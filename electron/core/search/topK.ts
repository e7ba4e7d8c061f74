// The k best of many scored documents without sorting them all: a min-heap of size k whose
// root is the worst kept, so most candidates cost one comparison. Typed arrays and numeric keys
// only: a query over a common word offers ~100k candidates.

export interface Ranked {
  slot: number;
  score: number;
}

export class TopK {
  readonly #slots: Int32Array;
  readonly #scores: Float64Array;
  readonly #ties: Float64Array;
  #size = 0;

  /** Keeps at most `k` documents. */
  constructor(readonly k: number) {
    this.#slots = new Int32Array(k);
    this.#scores = new Float64Array(k);
    this.#ties = new Float64Array(k);
  }

  /** Higher scores rank first; among equal scores the higher `tie`, then the lower slot. */
  offer(slot: number, score: number, tie: number): void {
    if (this.#size < this.k) {
      this.#set(this.#size, slot, score, tie);
      this.#up(this.#size++);
    } else if (this.k > 0 && this.#beats(score, tie, slot, 0)) {
      this.#set(0, slot, score, tie);
      this.#down(0);
    }
  }

  /**
   * A score below this cannot enter (one equal to it still may, on its tie key): a caller skips
   * most candidates with one comparison. -Infinity until k documents are kept.
   */
  get floor(): number {
    if (this.k === 0) return Infinity;
    return this.#size < this.k ? -Infinity : this.#scores[0]!;
  }

  /** The kept documents, best first. */
  sorted(): Ranked[] {
    const order = Array.from({ length: this.#size }, (_, i) => i);
    order.sort((a, b) => (this.#beats(this.#scores[a]!, this.#ties[a]!, this.#slots[a]!, b) ? -1 : 1));
    return order.map((i) => ({ slot: this.#slots[i]!, score: this.#scores[i]! }));
  }

  #beats(score: number, tie: number, slot: number, i: number): boolean {
    const s = this.#scores[i]!;
    if (score !== s) return score > s;
    const t = this.#ties[i]!;
    return tie !== t ? tie > t : slot < this.#slots[i]!;
  }

  #set(i: number, slot: number, score: number, tie: number): void {
    this.#slots[i] = slot;
    this.#scores[i] = score;
    this.#ties[i] = tie;
  }

  #swap(i: number, j: number): void {
    const slot = this.#slots[i]!;
    const score = this.#scores[i]!;
    const tie = this.#ties[i]!;
    this.#set(i, this.#slots[j]!, this.#scores[j]!, this.#ties[j]!);
    this.#set(j, slot, score, tie);
  }

  /** Does the entry at i rank before the one at j? */
  #before(i: number, j: number): boolean {
    return this.#beats(this.#scores[i]!, this.#ties[i]!, this.#slots[i]!, j);
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(parent, i)) return;
      this.#swap(parent, i);
      i = parent;
    }
  }

  #down(i: number): void {
    for (;;) {
      const l = i * 2 + 1;
      const r = l + 1;
      let worst = i;
      if (l < this.#size && this.#before(worst, l)) worst = l;
      if (r < this.#size && this.#before(worst, r)) worst = r;
      if (worst === i) return;
      this.#swap(worst, i);
      i = worst;
    }
  }
}
