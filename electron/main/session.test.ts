import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Envelope, Method, Settings } from '../shared/contract.ts';
import { Session, type LockReason } from './session.ts';

/** A stand-in for the core worker: tracks lock state and settings like core does. */
function fakeCore(settings: Settings) {
  let unlocked = false;
  const calls: Method[] = [];
  const status = () => ({ exists: true, unlocked, vaultId: 'v', actor: 'a', kdf: null, index: { ready: false, size: 0 } });
  return {
    calls,
    get unlocked() {
      return unlocked;
    },
    async call(method: Method, request: unknown): Promise<Envelope<unknown>> {
      calls.push(method);
      if (method === 'settings.get') return { ok: true, value: settings };
      if (method === 'settings.set') return { ok: true, value: (settings = { ...settings, ...(request as Partial<Settings>) }) };
      if (method === 'vault.unlock') unlocked = true;
      if (method === 'vault.lock') unlocked = false;
      return { ok: true, value: status() };
    },
  };
}

function setup(settings: Partial<Settings> = {}, idle = 0) {
  const core = fakeCore({ autoLockMinutes: 10, lockOnSuspend: true, theme: 'system', syncIntervalMinutes: 0, ...settings });
  const locked: LockReason[] = [];
  const clock = { idle };
  const session = new Session({ backend: core, idleSeconds: () => clock.idle, onLocked: (r) => locked.push(r), checkEveryMs: 5 });
  return { core, locked, clock, session };
}

describe('Session', () => {
  // The idle timer's interval runs on a fake clock: each check happens when the test says so,
  // however loaded the machine (a real 30 ms wait may see no check at all).
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  /** Runs `n` idle checks (checkEveryMs is 5). */
  const checks = (n: number) => vi.advanceTimersByTimeAsync(5 * n);

  it('locks after the configured idle time, once', async () => {
    const { core, locked, clock, session } = setup({ autoLockMinutes: 1 });
    await session.start();
    await session.call('vault.unlock', { password: 'correct horse battery staple' });
    clock.idle = 59;
    await checks(3);
    expect(core.unlocked).toBe(true);
    clock.idle = 60;
    await checks(1);
    expect(locked).toEqual(['idle']);
    expect(core.unlocked).toBe(false);
    await checks(3);
    expect(locked).toEqual(['idle']);
    session.stop();
  });

  it('never auto-locks when the setting is 0, and picks up changed settings', async () => {
    const { core, locked, session } = setup({ autoLockMinutes: 0 }, 10_000);
    await session.start();
    await session.call('vault.unlock', { password: 'correct horse battery staple' });
    await checks(3);
    expect(core.unlocked).toBe(true);
    await session.call('settings.set', { autoLockMinutes: 1 });
    await checks(1);
    expect(locked).toEqual(['idle']);
    session.stop();
  });

  it('locks on suspend and screen lock only when asked to', async () => {
    const a = setup({ lockOnSuspend: true });
    await a.session.start();
    await a.session.call('vault.unlock', { password: 'correct horse battery staple' });
    await a.session.systemEvent('screen-lock');
    expect(a.locked).toEqual(['screen-lock']);
    a.session.stop();

    const b = setup({ lockOnSuspend: false });
    await b.session.start();
    await b.session.call('vault.unlock', { password: 'correct horse battery staple' });
    await b.session.systemEvent('suspend');
    expect(b.core.unlocked).toBe(true);
    expect(b.locked).toEqual([]);
    b.session.stop();
  });

  it('reports a lock the UI asked for, and validates before forwarding', async () => {
    const { core, locked, session } = setup();
    await session.start();
    const bad = await session.call('vault.unlock', { password: 1 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(core.calls).not.toContain('vault.unlock');
    await session.call('vault.lock', {});
    expect(locked).toEqual(['user']);
    session.stop();
  });
});
