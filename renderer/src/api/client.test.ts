// The page's side of the {"$bytes"} wire format: in a plain browser the client encodes calls
// and decodes answers with electron/shared/wire.ts, the very functions the web shell uses
// (electron/web/wire.test.ts shows the server's side). The page's globals are stand-ins; the
// server is played by the shared module's own decoder and encoder.
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { parseWire, stringifyWire } from '../../../electron/shared/wire.ts';
import { getApi } from './client.ts';

vi.mock('../../../electron/shared/wire.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../electron/shared/wire.ts')>();
  return { ...real, parseWire: vi.fn(real.parseWire), stringifyWire: vi.fn(real.stringifyWire) };
});

const TOKEN = 'T'.repeat(43);
const calls: { url: string; body: string; answer: string }[] = [];

beforeAll(() => {
  const storage = new Map<string, string>();
  vi.stubGlobal('window', {
    location: { hash: `#token=${TOKEN}`, pathname: '/', search: '' },
    sessionStorage: { setItem: (k: string, v: string) => storage.set(k, v), getItem: (k: string) => storage.get(k) ?? null },
    history: { replaceState: () => undefined },
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  });
  vi.stubGlobal('fetch', async (url: string, init: { body: string }) => {
    if (url === '/api/events') return new Response(null, { status: 401 }); // no event stream here
    // The web shell's side: decode the call, answer with its bytes, encode the answer.
    const request = parseWire(init.body) as { data: Uint8Array };
    const answer = stringifyWire({ ok: true, value: { imported: 1, echo: request.data } });
    calls.push({ url, body: init.body, answer });
    return new Response(answer, { headers: { 'content-type': 'application/json' } });
  });
});
afterAll(() => vi.unstubAllGlobals());

test('the page encodes with the shared stringifyWire and decodes with the shared parseWire, and bytes survive the round trip', async () => {
  const data = Uint8Array.from({ length: 256 * 3 + 1 }, (_, i) => (i * 11) & 255);
  const request = { name: 'records.json', format: 'json' as const, data };
  vi.mocked(stringifyWire).mockClear();
  vi.mocked(parseWire).mockClear();
  const value = (await getApi()['records.importBytes'](request)) as { imported: number; echo?: Uint8Array };

  expect(calls.map((c) => c.url)).toEqual(['/api/call/records.importBytes']);
  const { body, answer } = calls[0]!;
  // The body the page sent is what the shared encoder made of the request, bytes as {"$bytes"}.
  const encoded = vi.mocked(stringifyWire).mock.calls.findIndex(([v]) => v === request);
  expect(encoded).toBeGreaterThanOrEqual(0);
  expect(vi.mocked(stringifyWire).mock.results[encoded]!.value).toBe(body);
  expect(JSON.parse(body)).toMatchObject({ name: 'records.json', format: 'json', data: { $bytes: expect.any(String) } });
  // The page read the answer with the shared decoder, which gave the bytes back as bytes.
  expect(vi.mocked(parseWire).mock.calls.map(([text]) => text)).toEqual([body, answer]); // the stand-in server's, then the page's
  expect(value.imported).toBe(1);
  expect(value.echo).toBeInstanceOf(Uint8Array);
  expect([...value.echo!]).toEqual([...data]);
});
