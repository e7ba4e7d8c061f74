// The second core for the biggest unions. At 1M records a 3-letter prefix stands for ~540 words
// and 4-5M postings, and decoding them is most of a 50 ms search. Such a union's lists are split
// in two: this thread adds its half into its score array while a helper thread adds the other
// half into another, then the two are added. The postings, norms and the helper's scores are in
// SharedArrayBuffers (the index is decrypted into one when it is big), so nothing is copied. The
// helper keeps nothing between unions and is stopped when the index is dropped (lock).
import { Worker } from 'node:worker_threads';

/** Encoded lists to add: each one's bytes src[starts[i]..ends[i]), its pair count and its weight. */
export interface EncodedLists {
  src: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
  counts: Int32Array;
  ws: Float64Array;
}

/**
 * Adds each encoded list's BM25 scores, w * tf / (tf + norm[slot]), into `score` by slot, `block`
 * slots at a time over all lists together (a list's pairs are zigzag slot deltas and weights as
 * varints, as decodePairs reads them; a slot with norm < 0 holds no live document). Taken list by
 * list, each posting of a big prefix would be a cache miss. Self-contained: the helper thread runs
 * its source text, so it may use nothing from outside its parameters.
 */
export function addEncoded(src: Uint8Array, starts: Int32Array, ends: Int32Array, counts: Int32Array, ws: Float64Array, norm: Float32Array, score: Float64Array, block: number): void {
  const n = starts.length;
  const at = Int32Array.from(starts);
  const left = Int32Array.from(counts);
  const lastSlot = new Int32Array(n);
  for (let blockEnd = block, active = n; active > 0; blockEnd += block) {
    active = 0;
    for (let g = 0; g < n; g++) {
      let remaining = left[g]!;
      if (remaining === 0) continue;
      const w = ws[g]!;
      const end = ends[g]!;
      let pos = at[g]!;
      let last = lastSlot[g]!;
      while (remaining > 0) {
        // Two varints; almost always one byte each (a small slot gap, a small weight).
        let q = pos;
        let byte = src[q++]!;
        let z = byte & 0x7f;
        for (let shift = 7; byte >= 0x80 && shift < 35; shift += 7) z |= ((byte = src[q++]!) & 0x7f) << shift;
        const slot = last + (z & 1 ? -((z >>> 1) + 1) : z >>> 1);
        if (slot >= blockEnd) break;
        byte = src[q++]!;
        let tf = byte & 0x7f;
        for (let shift = 7; byte >= 0x80 && shift < 35; shift += 7) tf |= ((byte = src[q++]!) & 0x7f) << shift;
        // A pair running past the list's end (a truncated list) is caught here: once a pair, not a byte.
        if (q > end) throw new RangeError('truncated postings');
        pos = q;
        last = slot;
        remaining--;
        const m = norm[slot]!;
        if (m < 0) continue;
        score[slot] = score[slot]! + (w * tf) / (tf + m);
      }
      if (remaining === 0 && pos !== end) throw new RangeError('postings length mismatch');
      at[g] = pos;
      lastSlot[g] = last;
      left[g] = remaining;
      if (remaining > 0) active++;
    }
  }
}

// Plain JavaScript evaluated as the helper's script (as the other helper threads do): the kernel
// is addEncoded's own source. Protocol: a job names shared buffers; the helper zeroes its score
// array, adds, then stores 1 (done) or 2 (failed) in control[0] and wakes the waiting thread.
const WORKER_SOURCE = `'use strict';
const { parentPort } = require('node:worker_threads');
const addEncoded = (${addEncoded.toString()});
// Warm the kernel up on made-up postings (gaps of 1-3, weights 1-2) while nothing waits for it:
// the first real union would otherwise run it unoptimised, several times slower.
{
  const pairs = 200000;
  const src = new Uint8Array(pairs * 2);
  for (let i = 0; i < pairs; i++) { src[i * 2] = 2 + (i % 3) * 2; src[i * 2 + 1] = 1 + (i % 2); }
  const slots = pairs * 3 + 2;
  const norm = new Float32Array(slots).fill(1);
  const score = new Float64Array(slots);
  for (let round = 0; round < 5; round++) addEncoded(src, Int32Array.of(0), Int32Array.of(src.length), Int32Array.of(pairs), Float64Array.of(1), norm, score, 16384);
}
parentPort.postMessage('ready');
parentPort.on('message', (job) => {
  const control = new Int32Array(job.control);
  // Tests hold the helper here to make it miss its answer (AddOptions.hold).
  if (job.hold) Atomics.wait(new Int32Array(job.hold), 0, 0, 10000);
  let state = 1;
  try {
    const score = new Float64Array(job.score, 0, job.slots);
    score.fill(0);
    addEncoded(new Uint8Array(job.src, job.srcOffset, job.srcLength), job.starts, job.ends, job.counts, job.ws, new Float32Array(job.norm, 0, job.slots), score, job.block);
  } catch {
    state = 2;
  }
  Atomics.store(control, 0, state);
  Atomics.notify(control, 0);
});
`;

/** Unions with fewer encoded postings than this stay on one thread (the hand-off costs ~1 ms). */
export const PARALLEL_POSTINGS = 1_000_000;
/** How long this thread waits for the helper's half before doing it itself. */
const WAIT_MS = 2000;

let thread: { worker: Worker; control: Int32Array; ready: Promise<void> } | null = null;

/** Starts the helper ahead of the first big union (its start takes tens of ms). */
export function warmUnionThread(): void {
  if (thread) return;
  // No flags or environment of ours (the CLI's may hold CUSTODY_PASSWORD): it needs neither.
  const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'custody-search-union', execArgv: [], env: {} });
  worker.unref();
  const ready = new Promise<void>((resolve) => worker.once('message', () => resolve()));
  const started = { worker, control: new Int32Array(new SharedArrayBuffer(4)), ready };
  // A helper that fails or exits is replaced at the next union; this one's half is redone here.
  const forget = () => {
    if (thread === started) thread = null;
  };
  worker.on('error', forget);
  worker.on('exit', forget);
  thread = started;
}

/**
 * Starts the helper if need be; resolves once its kernel is warm. Unions never wait for this (a
 * union posted before is taken up after); tests do, so that a loaded machine cannot make the
 * helper miss its WAIT_MS and the fallback stand in for it.
 */
export function unionThreadReady(): Promise<void> {
  warmUnionThread();
  return thread!.ready;
}

/** Stops the helper (the index was dropped): it holds nothing between unions, but no thread is left behind either. */
export function stopUnionThread(): void {
  const t = thread;
  thread = null;
  if (t) void t.worker.terminate();
}

/** True when `lists` can be handed to the helper: their bytes and `norm` are shared. */
export function canShare(src: Uint8Array, norm: Float32Array): boolean {
  return src.buffer instanceof SharedArrayBuffer && norm.buffer instanceof SharedArrayBuffer;
}

/** Tests only: a shorter wait, and a flag the helper waits on (until it is set) before its half. */
export interface AddOptions {
  waitMs?: number;
  hold?: Int32Array;
}

/**
 * Adds `lists` into `score`, half of their postings on the helper thread (into `spare`, a shared
 * array of at least score.length), half here. Falls back to this thread alone when the helper
 * fails or does not answer in time; then `spare` must not be used again (returns false).
 */
export function addEncodedInTwo(lists: EncodedLists, norm: Float32Array, score: Float64Array, spare: Float64Array, block: number, opts: AddOptions = {}): boolean {
  // Largest lists first, each to the side with fewer postings so far.
  const order = Array.from(lists.counts.keys()).sort((a, b) => lists.counts[b]! - lists.counts[a]!);
  const sides: number[][] = [[], []];
  const load = [0, 0];
  for (const i of order) {
    const side = load[0]! <= load[1]! ? 0 : 1;
    sides[side]!.push(i);
    load[side]! += lists.counts[i]!;
  }
  const pick = (side: number[]) => ({
    starts: Int32Array.from(side, (i) => lists.starts[i]!),
    ends: Int32Array.from(side, (i) => lists.ends[i]!),
    counts: Int32Array.from(side, (i) => lists.counts[i]!),
    ws: Float64Array.from(side, (i) => lists.ws[i]!),
  });
  const mine = pick(sides[0]!);
  const theirs = pick(sides[1]!);
  warmUnionThread();
  const t = thread!;
  Atomics.store(t.control, 0, 0);
  const { src } = lists;
  t.worker.postMessage({ control: t.control.buffer, score: spare.buffer, slots: score.length, src: src.buffer, srcOffset: src.byteOffset, srcLength: src.length, norm: norm.buffer, block, hold: opts.hold?.buffer ?? null, ...theirs });
  const answer = () => Atomics.wait(t.control, 0, 0, opts.waitMs ?? WAIT_MS) !== 'timed-out' || Atomics.load(t.control, 0) !== 0;
  try {
    addEncoded(src, mine.starts, mine.ends, mine.counts, mine.ws, norm, score, block);
  } catch (e) {
    // Its half must end before the next union posts another: else that one could take this
    // one's answer for its own.
    if (!answer()) stopUnionThread();
    throw e;
  }
  const answered = answer();
  if (answered && Atomics.load(t.control, 0) === 1) {
    for (let slot = 0; slot < score.length; slot++) score[slot] = score[slot]! + spare[slot]!;
    return true;
  }
  // Failed (this thread's run of the same half throws the same error) or gone quiet: redone here.
  if (!answered) stopUnionThread();
  addEncoded(src, theirs.starts, theirs.ends, theirs.counts, theirs.ws, norm, score, block);
  return answered;
}
