import { describe, expect, it } from 'vitest';
import { METHOD_NAMES, type Envelope, type Method } from '../shared/contract.ts';
import { DIALOG_METHODS } from '../core/api/protocol.ts';
import { checkShape, dispatch, isRendererUrl, LIMITS, validateCall, type CoreBackend, type Validated } from './dispatch.ts';

const ID = '0190f3a2-7b1c-7def-8a12-3456789abcde';

/** A backend that records what reached it. */
function recorder() {
  const calls: { method: Method; request: unknown }[] = [];
  const backend: CoreBackend = {
    call: async (method, request) => {
      calls.push({ method, request });
      return { ok: true, value: null };
    },
  };
  return { calls, backend };
}

const refused = (env: Envelope<unknown> | Validated) => {
  expect(env.ok).toBe(false);
  if (!env.ok) expect(env.error.code).toBe('BAD_REQUEST');
  return env.ok ? '' : env.error.message;
};

describe('validateCall', () => {
  it('accepts a valid call and returns the parsed request with defaults applied', () => {
    const v = validateCall('records.search', { text: 'river' });
    expect(v).toMatchObject({ ok: true, method: 'records.search', request: { text: 'river', deleted: 'exclude', limit: 200, offset: 0 } });
  });

  it('treats a missing request as {} for methods without parameters', () => {
    expect(validateCall('vault.status', undefined)).toEqual({ ok: true, method: 'vault.status', request: {} });
  });

  it('refuses unknown methods, including names that exist on Object.prototype', () => {
    for (const m of ['vault.nuke', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '', 42, null, '../vault.status']) refused(validateCall(m, {}));
  });

  it('refuses wrong types without echoing the payload', () => {
    const secret = 'hunter2-do-not-echo';
    const msg = refused(validateCall('vault.unlock', { password: 12345 }));
    expect(msg).toMatch(/password/);
    const msg2 = refused(validateCall('vault.unlock', { password: secret, extra: secret }));
    expect(msg2).not.toContain(secret);
    refused(validateCall('records.get', { id: 'not-an-id' }));
    refused(validateCall('records.get', { id: [ID] }));
    refused(validateCall('records.update', { id: ID, version: '1', patch: {} }));
    refused(validateCall('settings.set', { autoLockMinutes: -1 }));
    refused(validateCall('vault.status', null));
    refused(validateCall('vault.status', []));
    refused(validateCall('vault.status', 'x'));
  });

  it('refuses prototype-pollution keys at any depth', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const top = JSON.parse(`{"${key}": {"polluted": true}}`) as unknown;
      expect(refused(validateCall('vault.status', top))).toContain(key);
      const deep = JSON.parse(`{"kind":"note","title":"t","fields":[],"tags":[],"x":{"y":{"${key}":{"polluted":true}}}}`) as unknown;
      expect(refused(validateCall('records.create', deep))).toContain(key);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses values that are not plain data', () => {
    refused(validateCall('vault.status', new Date()));
    refused(validateCall('vault.status', new Map()));
    refused(validateCall('records.search', { text: () => 1 }));
    refused(validateCall('records.search', { [Symbol('s')]: 1 }));
    refused(validateCall('records.search', { text: 'a', limit: Number.NaN }));
  });

  it('refuses huge strings, deep nesting and too many values', () => {
    expect(refused(validateCall('records.search', { text: 'x'.repeat(LIMITS.chars + 1) }))).toMatch(/too large/);
    refused(validateCall('records.search', { text: 'x'.repeat(5_000) })); // schema: at most 1000
    let deep: unknown = 'x';
    for (let i = 0; i < 50; i++) deep = { a: deep };
    expect(refused(validateCall('records.search', deep))).toMatch(/deeply/);
    expect(refused(validateCall('records.create', { kind: 'note', title: 't', tags: Array.from({ length: LIMITS.nodes + 1 }, () => 't') }))).toMatch(/too many/);
  });

  it('accepts bytes and bounds them', () => {
    expect(validateCall('attachments.addBytes', { recordId: ID, name: 'a.txt', data: new Uint8Array([1, 2, 3]) }).ok).toBe(true);
    expect(validateCall('attachments.addBytes', { recordId: ID, name: 'a.txt', data: Buffer.from('abc') }).ok).toBe(true);
    refused(validateCall('attachments.addBytes', { recordId: ID, name: 'a.txt', data: [1, 2, 3] }));
    refused(validateCall('attachments.addBytes', { recordId: ID, name: 'a.txt', data: 'YWJj' }));
  });

  it('refuses unknown keys for every method of the contract (all schemas are strict)', () => {
    for (const m of METHOD_NAMES) expect(validateCall(m, { unexpected: 1 }).ok, m).toBe(false);
  });
});

describe('checkShape', () => {
  it('passes ordinary requests', () => {
    expect(checkShape({ kind: 'observation', title: 't', fields: [{ name: 'p', type: 'location', value: { lat: 1, lon: 2 } }] })).toBeNull();
    expect(checkShape(Object.create(null) as object)).toBeNull();
  });
});

describe('dispatch', () => {
  it('forwards only valid calls, parsed', async () => {
    const { calls, backend } = recorder();
    refused(await dispatch(backend, 'records.get', { id: 'nope' }));
    refused(await dispatch(backend, 'nope', {}));
    refused(await dispatch(backend, 'vault.status', JSON.parse('{"__proto__":{"x":1}}')));
    expect(calls).toEqual([]);
    expect(await dispatch(backend, 'records.get', { id: ID })).toEqual({ ok: true, value: null });
    expect(calls).toEqual([{ method: 'records.get', request: { id: ID } }]);
  });

  it('refuses a path in the renderer\'s request of every method that takes a file from a dialog: paths come only from main\'s dialogs', async () => {
    const valid: { [M in (typeof DIALOG_METHODS)[number]]: Record<string, unknown> } = {
      'records.importFromDialog': {},
      'attachments.addFromDialog': { recordId: ID },
      'attachments.saveToDialog': { id: ID },
      'reports.export': { purpose: 'review' },
      'sync.configure': { url: 'postgresql://analyst@127.0.0.1/custody', caCertificateFromDialog: true },
    };
    const { calls, backend } = recorder();
    for (const method of DIALOG_METHODS) {
      expect(validateCall(method, valid[method]).ok, method).toBe(true);
      for (const planted of [{ path: '/etc/passwd' }, { paths: ['/etc/passwd'] }, { file: '/etc/passwd' }, { outDir: '/tmp' }]) {
        const msg = refused(await dispatch(backend, method, { ...valid[method], ...planted }));
        expect(msg, method).not.toContain('/etc/passwd');
      }
    }
    expect(calls).toEqual([]);
  });
});

describe('isRendererUrl', () => {
  it('matches scheme, host and port of the renderer only', () => {
    expect(isRendererUrl('custody://app/index.html', 'custody://app/index.html')).toBe(true);
    expect(isRendererUrl('custody://app/other/route', 'custody://app/index.html')).toBe(true);
    expect(isRendererUrl('custody://evil/index.html', 'custody://app/index.html')).toBe(false);
    expect(isRendererUrl('https://app/index.html', 'custody://app/index.html')).toBe(false);
    expect(isRendererUrl('http://localhost:5173/', 'http://localhost:5173')).toBe(true);
    expect(isRendererUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(isRendererUrl('http://user:pw@localhost:5173/', 'http://localhost:5173')).toBe(false);
    expect(isRendererUrl('file:///etc/passwd', 'custody://app/index.html')).toBe(false);
    expect(isRendererUrl('', 'custody://app/index.html')).toBe(false);
    expect(isRendererUrl(undefined, 'custody://app/index.html')).toBe(false);
    expect(isRendererUrl('not a url', 'custody://app/index.html')).toBe(false);
  });
});
