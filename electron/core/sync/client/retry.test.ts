import { describe, expect, test } from 'vitest';
import { backoffMs, CircuitBreaker, DEFAULT_RETRY } from './retry.ts';

describe('retry', () => {
  test('backoff doubles from 1 s with +-20% jitter and stops at 5 minutes', () => {
    expect(backoffMs(0)).toBe(0);
    expect([1, 2, 3, 4].map((n) => backoffMs(n, DEFAULT_RETRY, () => 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(3, DEFAULT_RETRY, () => 0)).toBe(3200);
    expect(backoffMs(3, DEFAULT_RETRY, () => 1)).toBe(4800);
    expect(backoffMs(40, DEFAULT_RETRY, () => 1)).toBe(300_000);
  });

  test('the circuit opens after three failures, lets one trial through once the delay passed, closes on success', () => {
    let now = 0;
    const b = new CircuitBreaker({ baseMs: 1000, maxMs: 60_000, threshold: 3 }, () => now);
    expect(b.state).toBe('closed');
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    expect(b.allows()).toBe(false); // still inside the backoff delay of the second failure
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allows()).toBe(false);
    now = b.retryAt;
    expect(b.state).toBe('half-open');
    expect(b.allows()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.retryAt - now).toBeGreaterThanOrEqual(6400); // 8 s +-20%
    now = b.retryAt;
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allows()).toBe(true);
  });
});
