// Repeated wrong passwords slow down (issue 10, item 12): an online guesser going through the
// app pays an exponentially growing wait after the third failure, the wait survives a restart,
// is refused before any key derivation, reaches the user as TOO_MANY_ATTEMPTS with retryAfter,
// resets on success, and never exceeds five minutes (the owner is never locked out for good).
// The clock is injected: nothing here waits for real time.
import { afterEach, describe, expect, test } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { watchKeyMaterial } from '../crypto/keys.ts';
import { createCore, type CoreApi } from '../api/handlers.ts';
import { settingsFileFor } from '../api/settings.ts';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { delayAfter, MAX_DELAY_S, THROTTLE_FILE } from './unlockThrottle.ts';

let tv: TempVault | undefined;
let c: Custody | undefined;
afterEach(async () => {
  watchKeyMaterial(null);
  await c?.close();
  c = undefined;
  await tv?.cleanup();
  tv = undefined;
});

const WRONG = 'not the password';

/** A vault opened with a clock the test moves by hand. */
async function withClock(): Promise<{ open: () => Promise<Custody>; advance: (s: number) => void; set: (ms: number) => void }> {
  tv = await tempVault({ unlock: false });
  await tv.custody.close();
  let now = Date.parse('2026-06-01T12:00:00Z');
  const clock = () => now;
  return {
    open: async () => {
      await c?.close();
      c = await Custody.open(tv!.dir, { clock });
      return c;
    },
    advance: (s) => (now += s * 1000),
    set: (ms) => (now = ms),
  };
}

const attempt = async (v: Custody, password: string) => {
  try {
    await v.unlock(password, { buildIndex: false });
    return { code: 'ok' };
  } catch (e) {
    const err = e as { code: string; retryAfter?: number };
    return { code: err.code, retryAfter: err.retryAfter };
  }
};

describe('wrong-password delay', () => {
  test('the schedule: three free failures, then 1 s, 2 s, 4 s ... capped at five minutes', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 40, 10_000].map(delayAfter)).toEqual([0, 0, 0, 0, 1, 2, 4, 8, 256, 300, 300, 300]);
    expect(MAX_DELAY_S).toBe(300);
  });

  test('after three failures each attempt must wait, before any key derivation, even with the right password; the wait survives a restart; success resets it', async () => {
    const t = await withClock();
    let v = await t.open();
    for (let i = 0; i < 4; i++) expect(await attempt(v, WRONG)).toEqual({ code: 'WRONG_PASSWORD', retryAfter: undefined });
    // Four failures: the next attempt waits 1 s.
    const derived: Buffer[] = [];
    watchKeyMaterial((b) => derived.push(b));
    expect(await attempt(v, PASSWORD)).toEqual({ code: 'TOO_MANY_ATTEMPTS', retryAfter: 1 });
    expect(derived).toEqual([]);
    watchKeyMaterial(null);
    t.advance(1);
    expect(await attempt(v, WRONG)).toMatchObject({ code: 'WRONG_PASSWORD' });
    // Five failures: 2 s from the last one.
    t.advance(1);
    expect(await attempt(v, PASSWORD)).toEqual({ code: 'TOO_MANY_ATTEMPTS', retryAfter: 1 });
    expect(v.status().unlocked).toBe(false);

    // Quitting and starting again does not reset the count.
    v = await t.open();
    expect(await attempt(v, PASSWORD)).toEqual({ code: 'TOO_MANY_ATTEMPTS', retryAfter: 1 });
    expect(JSON.parse(readFileSync(join(tv!.dir, THROTTLE_FILE), 'utf8'))).toMatchObject({ failures: 5 });

    t.advance(1);
    expect(await attempt(v, PASSWORD)).toEqual({ code: 'ok' });
    expect(existsSync(join(tv!.dir, THROTTLE_FILE))).toBe(false);
    await v.lock();
    for (let i = 0; i < 3; i++) expect(await attempt(v, WRONG)).toMatchObject({ code: 'WRONG_PASSWORD' });
    expect(await attempt(v, PASSWORD)).toEqual({ code: 'ok' });
    // Every wrong password is still in the log; refused attempts ran nothing and wrote nothing.
    const failed = await v.auditQuery({ event: 'vault.unlock_failed', limit: 100 });
    expect(failed).toHaveLength(8);
  });

  test('the wait never exceeds five minutes, and a clock set back does not lock the owner out', async () => {
    const t = await withClock();
    const v = await t.open();
    writeFileSync(join(tv!.dir, THROTTLE_FILE), JSON.stringify({ failures: 40, lastAt: Date.parse('2026-06-01T12:00:00Z') }));
    expect(await attempt(v, PASSWORD)).toEqual({ code: 'TOO_MANY_ATTEMPTS', retryAfter: 300 });
    t.advance(299);
    expect(await attempt(v, PASSWORD)).toEqual({ code: 'TOO_MANY_ATTEMPTS', retryAfter: 1 });
    // The clock goes back a day: the wait restarts from now, not from the future.
    t.set(Date.parse('2026-05-31T12:00:00Z'));
    expect(await attempt(v, PASSWORD)).toEqual({ code: 'TOO_MANY_ATTEMPTS', retryAfter: 300 });
    t.advance(300);
    expect(await attempt(v, PASSWORD)).toEqual({ code: 'ok' });
  });

  test('changing the password counts wrong current passwords the same way', async () => {
    const t = await withClock();
    const v = await t.open();
    await v.unlock(PASSWORD, { buildIndex: false });
    for (let i = 0; i < 4; i++) await expect(v.changePassword(WRONG, 'a new password 1')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    await expect(v.changePassword(PASSWORD, 'a new password 1')).rejects.toMatchObject({ code: 'TOO_MANY_ATTEMPTS', retryAfter: 1 });
    t.advance(1);
    await v.changePassword(PASSWORD, 'a new password 1');
  });

  test('the IPC contract carries the code and retryAfter to the unlock screen', async () => {
    tv = await tempVault({ unlock: false });
    await tv.custody.close();
    writeFileSync(join(tv.dir, THROTTLE_FILE), JSON.stringify({ failures: 10, lastAt: Date.now() }));
    let core: CoreApi | undefined;
    try {
      core = createCore({ vaultDir: tv.dir, settingsFile: settingsFileFor(tv.dir), emit: () => undefined, nativeDialogs: false, shell: 'web', appVersion: 'test' });
      const env = await core.invoke('vault.unlock', { password: PASSWORD });
      expect(env).toMatchObject({ ok: false, error: { code: 'TOO_MANY_ATTEMPTS', message: expect.stringMatching(/try again in/), retryAfter: expect.any(Number) } });
      const { retryAfter } = (env as { error: { retryAfter: number } }).error;
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(delayAfter(10));
      rmSync(join(tv.dir, THROTTLE_FILE));
      expect(await core.invoke('vault.unlock', { password: PASSWORD })).toMatchObject({ ok: true });
    } finally {
      await core?.close();
    }
  });
});
