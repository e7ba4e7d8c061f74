// When to try the server again. Exponential backoff with jitter after each failed attempt
// (1 s, 2 s, 4 s ... capped at 5 minutes), and a circuit breaker: after three failures in a
// row it opens, and automatic syncs (the background loop, syncs requested after a local
// change) stop hitting an unreachable server until the backoff delay has passed; then one
// trial attempt (half-open) closes it again on success. A sync the user asks for always tries.

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  /** Consecutive failures that open the circuit. */
  threshold: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 1000, maxMs: 5 * 60_000, threshold: 3 };

/** Delay before attempt number `failures + 1`: base * 2^(failures-1), +-20% jitter, capped. */
export function backoffMs(failures: number, policy: RetryPolicy = DEFAULT_RETRY, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(30, failures - 1));
  return Math.round(Math.min(policy.maxMs, exp * (0.8 + 0.4 * random())));
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  #failures = 0;
  #retryAt = 0;

  constructor(
    private readonly policy: RetryPolicy = DEFAULT_RETRY,
    private readonly now: () => number = Date.now,
  ) {}

  get failures(): number {
    return this.#failures;
  }

  /** When the next automatic attempt may run (0: now). */
  get retryAt(): number {
    return this.#retryAt;
  }

  get state(): CircuitState {
    if (this.#failures < this.policy.threshold) return 'closed';
    return this.now() >= this.#retryAt ? 'half-open' : 'open';
  }

  /** Whether an automatic attempt may run now. */
  allows(): boolean {
    return this.state !== 'open' && this.now() >= this.#retryAt;
  }

  success(): void {
    this.#failures = 0;
    this.#retryAt = 0;
  }

  failure(): void {
    this.#failures++;
    this.#retryAt = this.now() + backoffMs(this.#failures, this.policy);
  }
}
