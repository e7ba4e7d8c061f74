// Repeated wrong passwords slow down: after FREE_ATTEMPTS failures in a row, each further
// attempt must wait 1 s, 2 s, 4 s ... (at most MAX_DELAY_S) after the previous one, and is
// refused before any key derivation until then. A success resets the count. It never locks
// the owner out for good: the wait is capped, and a clock set back is waited from "now".
//
// The count lives in the vault folder (unlock-attempts.json), so quitting and restarting the
// app does not reset it, and an attempt is counted before the derivation starts, so killing
// the process mid-attempt does not either. This slows guessing through the app (or the CLI,
// or the web shell); it cannot slow someone who copied the folder: they run Argon2id offline,
// at the cost the vault's KDF parameters set. The threat model in SECURITY.md says so.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CustodyError } from '../../shared/errors.ts';
import { writeFileAtomic } from '../util/atomicFile.ts';

export const THROTTLE_FILE = 'unlock-attempts.json';
export const FREE_ATTEMPTS = 3;
export const MAX_DELAY_S = 300;

const StateSchema = z.object({ failures: z.number().int().min(0).max(1_000_000), lastAt: z.number().int().min(0) }).strict();
type State = z.infer<typeof StateSchema>;

/** Seconds an attempt must wait after the last of `failures` failures in a row. */
export function delayAfter(failures: number): number {
  return failures <= FREE_ATTEMPTS ? 0 : Math.min(MAX_DELAY_S, 2 ** (failures - FREE_ATTEMPTS - 1));
}

const wait = (s: number) => (s >= 90 ? `${Math.ceil(s / 60)} minutes` : s === 1 ? '1 second' : `${s} seconds`);

export class UnlockThrottle {
  readonly #file: string;
  /** Mirrors the file; it is all there is when the file cannot be written (a full disk). */
  #state: State = { failures: 0, lastAt: 0 };
  #unsaved = false;

  constructor(
    dir: string,
    private readonly clock: () => number,
  ) {
    this.#file = join(dir, THROTTLE_FILE);
  }

  /** Failures in a row so far (the attempt in progress included). */
  get failures(): number {
    return this.#load().failures;
  }

  /**
   * Before a password is tried: refuses with TOO_MANY_ATTEMPTS (and retryAfter seconds) while
   * the wait is not over, else counts this attempt as a failure until succeeded() says otherwise.
   */
  begin(): void {
    const s = this.#load();
    const now = this.clock();
    if (s.lastAt > now) {
      // The clock went back (or the file says the future): wait from now, not from then.
      s.lastAt = now;
      this.#save(s);
    }
    const remainingMs = delayAfter(s.failures) * 1000 - (now - s.lastAt);
    if (remainingMs > 0) {
      const retryAfter = Math.ceil(remainingMs / 1000);
      throw new CustodyError('TOO_MANY_ATTEMPTS', `too many wrong passwords in a row: try again in ${wait(retryAfter)}`, retryAfter);
    }
    this.#save({ failures: s.failures + 1, lastAt: now });
  }

  /** The password was right: the count starts again. */
  succeeded(): void {
    this.#state = { failures: 0, lastAt: 0 };
    this.#unsaved = false;
    try {
      rmSync(this.#file, { force: true });
    } catch {
      // A stale count only makes the next wrong password wait sooner.
    }
  }

  /** The file when it can be read; this process's count when the file could not be written. */
  #load(): State {
    try {
      if (existsSync(this.#file)) {
        const parsed = StateSchema.safeParse(JSON.parse(readFileSync(this.#file, 'utf8')));
        if (parsed.success && !(this.#unsaved && parsed.data.failures < this.#state.failures)) this.#state = parsed.data;
      } else if (!this.#unsaved) this.#state = { failures: 0, lastAt: 0 };
    } catch {
      // Unreadable: keep what this process knows.
    }
    return { ...this.#state };
  }

  #save(s: State): void {
    this.#state = s;
    try {
      writeFileAtomic(this.#file, JSON.stringify(s) + '\n');
      this.#unsaved = false;
    } catch {
      // Kept in memory: this process still slows down; the file catches up at the next write.
      this.#unsaved = true;
    }
  }
}
