// One audit entry per search the user made (docs/architecture.md, "The audit log"), decided
// here in core: the renderer cannot be trusted to say "don't audit me".
//   - A query identical to the last one audited in this session (same text, filters and
//     deleted mode) is a refresh or a further page: it writes nothing. The comparison uses an
//     HMAC under a key made per session and wiped at lock; neither is ever stored.
//   - Search-as-you-type: a search waits as pending; the next search within the settle window
//     replaces it. It is written when the window passes (at most MAX_HOLD_MS after the first
//     search it stands for), before any other audit entry (AuditLog.appendSync asks take()),
//     and at lock or close.
//   - A command session (the CLI: one command, one query) writes its search before the results
//     are returned, as does any search after an entry could not be written: a search never
//     goes on while the log refuses its entries.
// The entry is what it always was: the number of words, the names of the filters, the deleted
// mode and the result count, never the words or the filter values.
import { createHmac, randomBytes } from 'node:crypto';
import type { ParsedSearchQuery } from '../../shared/records.ts';
import type { AuditInput } from './entry.ts';
import type { OwedEntries } from './log.ts';

/** A search is settled when no other comes within this time. */
export const SEARCH_SETTLE_MS = 2000;
/** A stream of searches still writes an entry at least this often. */
export const SEARCH_MAX_HOLD_MS = 10_000;

/** Time and timers, injectable so tests run on a fake clock. */
export interface SettleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: SettleClock = {
  now: () => Date.now(),
  // Unref'd: a pending search never keeps a process (the CLI) alive; close writes it.
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The filters a search entry names (never their values). */
export const SEARCH_FILTERS = ['case', 'tag', 'kind', 'classification', 'capturedFrom', 'capturedTo'] as const;
const FILTERS = SEARCH_FILTERS;

/** The entry of a search: counts and names, nothing the analyst typed. */
export function searchEntry(q: ParsedSearchQuery, results: number): AuditInput {
  const text = q.text.trim();
  return { event: 'search', details: { terms: text ? text.split(/\s+/).length : 0, filters: FILTERS.filter((k) => q[k] !== undefined), deleted: q.deleted, results } };
}

export class SearchAudit implements OwedEntries {
  readonly #write: () => Promise<void>;
  readonly #clock: SettleClock;
  #key: Buffer | null = null;
  /** The query last decided to be audited (written, or due). */
  #last: Buffer | null = null;
  #pending: { hash: Buffer; entry: AuditInput; since: number } | null = null;
  /** Settled entries not yet written (an append took them, or a write failed). */
  #due: AuditInput[] = [];
  #timer: unknown = null;
  #flushing: Promise<void> = Promise.resolve();
  /** What take() handed out this session: only those come back after a rollback. */
  #lent = new WeakSet<AuditInput[]>();

  /** `write` appends whatever is owed in a transaction of its own (Vault.record()). */
  constructor(write: () => Promise<void>, clock: SettleClock = systemClock) {
    this.#write = write;
    this.#clock = clock;
  }

  /**
   * Called for the first page of every search, after its results were computed. Resolves once
   * the search is accounted for; rejects (and so fails the search) when an entry owed from
   * before cannot be written, or, with `immediate`, when this one cannot.
   */
  async searched(q: ParsedSearchQuery, results: number, opts: { immediate?: boolean } = {}): Promise<void> {
    if (this.#due.length) await this.flush();
    const hash = this.#hash(q);
    if (this.#pending?.hash.equals(hash)) return;
    if (this.#last?.equals(hash)) {
      // Back to the query last audited before the pending one settled: nothing new to say.
      this.#cancel();
      return;
    }
    const now = this.#clock.now();
    const since = this.#pending?.since ?? now;
    this.#pending = { hash, entry: searchEntry(q, results), since };
    if (opts.immediate) return this.flush();
    this.#arm(Math.max(0, Math.min(SEARCH_SETTLE_MS, since + SEARCH_MAX_HOLD_MS - now)));
  }

  /** Writes the pending search and anything due now, in a transaction of their own. */
  flush(): Promise<void> {
    this.#settle();
    if (!this.#due.length) return this.#flushing;
    const run = this.#flushing.then(() => (this.#due.length ? this.#write() : undefined));
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every flush started so far has ended (tests on a fake clock wait on it). */
  idle(): Promise<void> {
    return this.#flushing;
  }

  /** AuditLog: another entry is being appended; what is owed goes first, in its transaction. */
  take(): AuditInput[] {
    this.#settle();
    const out = this.#due;
    this.#due = [];
    if (out.length) this.#lent.add(out);
    return out;
  }

  /** The transaction that took `entries` ended; rolled back, they are owed again (first). */
  settled(entries: AuditInput[], committed: boolean): void {
    if (!this.#lent.has(entries)) return;
    this.#lent.delete(entries);
    if (committed) return;
    this.#due = [...entries, ...this.#due];
    if (this.#timer === null) this.#arm(SEARCH_SETTLE_MS);
  }

  /**
   * A lock whose own transaction failed: what is still owed (the pending search, and searches
   * a rolled-back transaction handed back) is handed over for good, for the vault to keep with
   * the lock's own owed entry (pendingEntries.ts) and write at the next unlock.
   */
  drain(): AuditInput[] {
    this.#settle();
    const out = this.#due;
    this.#due = [];
    return out;
  }

  /** Lock or close: forgets the session (the vault's lock drained what it could not write). */
  end(): void {
    this.#stopTimer();
    this.#pending = null;
    this.#due = [];
    this.#last = null;
    this.#key?.fill(0);
    this.#key = null;
    this.#lent = new WeakSet();
  }

  /** The pending search is settled: it becomes due, and the query to compare with. */
  #settle(): void {
    this.#stopTimer();
    if (!this.#pending) return;
    this.#due.push(this.#pending.entry);
    this.#last = this.#pending.hash;
    this.#pending = null;
  }

  /** Writes what is pending or due after `ms`. */
  #arm(ms: number): void {
    this.#stopTimer();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      // A failure leaves the entries due: the next search waits for them, and fails with them.
      void this.flush().catch(() => undefined);
    }, ms);
  }

  #cancel(): void {
    this.#stopTimer();
    this.#pending = null;
  }

  #stopTimer(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #hash(q: ParsedSearchQuery): Buffer {
    this.#key ??= randomBytes(32);
    const text = q.text.trim().split(/\s+/).join(' ');
    return createHmac('sha256', this.#key)
      .update(JSON.stringify([text, ...FILTERS.map((k) => q[k] ?? null), q.deleted]))
      .digest();
  }
}
