// A request is parsed twice, no more: by main's dispatch (the trust boundary of both shells) and
// by core's API (the last door before keys and plaintext); the domain takes what core parsed as
// it is (shared/parseRequest.ts). A malformed request gets one message, worded in one place
// (shared/schemaIssues.ts), whichever door refuses it. Real HTTP, real core, real vault; the
// Electron shell's side is in electron/main/index.test.ts.
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { AuditQuerySchema } from '../shared/audit.ts';
import { methods } from '../shared/contract.ts';
import { RecordInputSchema, RecordPatchSchema, SearchQuerySchema } from '../shared/records.ts';
import { badRequestMessage } from '../shared/schemaIssues.ts';
import { PASSWORD } from '../core/testing/tempVault.ts';
import { answerOf, startTestShell, type TestShell } from './testing/webShellHarness.ts';

let h: TestShell;
beforeAll(async () => {
  h = await startTestShell();
});
afterAll(async () => {
  vi.restoreAllMocks();
  await h?.close();
});

const call = async (method: string, body: unknown) => answerOf(await h.call(method, body));

describe('a malformed request', () => {
  test('gets the one formatted message from the web shell, and the same from core when it is the door', async () => {
    const bad = { kind: 'note', title: '   ' };
    const expected = badRequestMessage(RecordInputSchema.safeParse(bad).error!);
    expect(expected).toBe('field title: is empty');
    expect(await call('records.create', bad)).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: expected } });
    // Core, reached without main (as its worker is), words it the same.
    expect(await h.core.invoke('records.create', bad)).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: expected } });
    // An unknown key is counted, never named.
    const planted = { kind: 'note', title: 'x', canaryKey: 1 };
    expect(await call('records.create', planted)).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: 'the request: has 1 unknown key' } });
  });
});

describe('a valid request is parsed exactly twice: main, then core', () => {
  test('records.create, records.update (and its patch), records.search, audit.query', async () => {
    expect((await call('vault.unlock', { password: PASSWORD })).ok).toBe(true);
    const spies = {
      create: vi.spyOn(RecordInputSchema, 'safeParse'),
      update: vi.spyOn(methods['records.update'], 'safeParse'),
      patch: vi.spyOn(RecordPatchSchema, 'safeParse'),
      search: vi.spyOn(SearchQuerySchema, 'safeParse'),
      audit: vi.spyOn(AuditQuerySchema, 'safeParse'),
    };
    const counts = () => Object.fromEntries(Object.entries(spies).map(([k, s]) => [k, s.mock.calls.length]));
    const created = await call('records.create', { kind: 'note', title: 'parsed twice', body: 'once by main, once by core' });
    expect(created.ok).toBe(true);
    expect(counts()).toMatchObject({ create: 2 });
    const { id } = created.value as { id: string };
    expect((await call('records.update', { id, version: 1, patch: { title: 'still parsed twice' } })).ok).toBe(true);
    // The patch is parsed as part of the request, never on its own again by the record store.
    expect(counts()).toMatchObject({ update: 2, patch: 0 });
    expect((await call('records.search', { text: 'parsed' })).ok).toBe(true);
    // Not by Custody.search, nor by the index it asks.
    expect(counts()).toMatchObject({ search: 2 });
    expect((await call('audit.query', { limit: 5 })).ok).toBe(true);
    expect(counts()).toMatchObject({ audit: 2 });
    // The CLI's door (no main, no API): the domain parses, once.
    for (const s of Object.values(spies)) s.mockClear();
    const c = await (await import('../core/custody.ts')).Custody.open(h.vaultDir);
    try {
      await c.unlock(PASSWORD, { buildIndex: false });
      await c.createRecord({ kind: 'note', title: 'from the command line' });
      expect(counts()).toMatchObject({ create: 1 });
    } finally {
      await c.close();
    }
  });
});
