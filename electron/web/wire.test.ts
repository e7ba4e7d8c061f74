// The web shell's side of the {"$bytes"} wire format: it decodes requests and encodes answers
// with electron/shared/wire.ts, the module the renderer's client uses too
// (renderer/src/api/client.test.ts shows the page's side), over real HTTP and a real vault.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCore, type CoreApi } from '../core/api/handlers.ts';
import { settingsFileFor } from '../core/api/settings.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { Custody } from '../core/custody.ts';
import { PASSWORD, tempDir } from '../core/testing/tempVault.ts';
import { decodeBase64, encodeBase64, parseWire, stringifyWire } from '../shared/wire.ts';
import { startWebShell, type WebShell } from './webShell.ts';

// The shared module itself, watched: which of its functions the web shell calls, and with what.
vi.mock('../shared/wire.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../shared/wire.ts')>();
  return { ...real, parseWire: vi.fn(real.parseWire), stringifyWire: vi.fn(real.stringifyWire) };
});

describe('base64 of the shared wire format agrees with Node\u2019s own', () => {
  it('at every length from 0 to 300 bytes, and for 1 MiB', () => {
    for (const n of [...Array.from({ length: 301 }, (_, i) => i), 1024 * 1024]) {
      const bytes = randomBytes(n);
      const b64 = bytes.toString('base64');
      expect(encodeBase64(bytes), `length ${n}`).toBe(b64);
      expect(Buffer.from(decodeBase64(b64)).equals(bytes), `length ${n}`).toBe(true);
    }
  });
});

describe('the web shell speaks the shared wire format', () => {
  let root: string;
  let core: CoreApi;
  let shell: WebShell;

  beforeAll(async () => {
    root = tempDir();
    const vaultDir = join(root, 'vault');
    await Custody.create(vaultDir, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'tester' });
    mkdirSync(join(root, 'renderer'));
    core = createCore({ vaultDir, settingsFile: settingsFileFor(vaultDir), emit: () => undefined, nativeDialogs: false, shell: 'web', appVersion: 'test' });
    shell = await startWebShell({ backend: { call: (m, r) => core.invoke(m, r) }, staticDir: join(root, 'renderer') });
  });
  afterAll(async () => {
    await shell?.close();
    await core?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** POSTs `body` (already in wire form) as the page does; the answer's raw text. */
  const post = (method: string, body: string) =>
    new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: shell.port, method: 'POST', path: `/api/call/${method}`, headers: { authorization: `Bearer ${shell.token}`, 'content-type': 'application/json', origin: shell.origin } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('bytes the page encodes reach the vault intact, and come back decodable by the page, through the same two functions', async () => {
    const call = async (method: string, request: unknown) => {
      const body = stringifyWire(request);
      vi.mocked(parseWire).mockClear();
      vi.mocked(stringifyWire).mockClear();
      const answer = await post(method, body);
      // The server decoded exactly what was sent with the shared parseWire, and its answer is
      // exactly what the shared stringifyWire made.
      expect(vi.mocked(parseWire).mock.calls).toEqual([[body]]);
      expect(vi.mocked(stringifyWire).mock.results.map((r) => r.value)).toEqual([answer]);
      const env = parseWire(answer) as { ok: boolean; value?: unknown; error?: unknown };
      expect(env, method).toMatchObject({ ok: true });
      return env.value;
    };
    await call('vault.unlock', { password: PASSWORD });
    const record = (await call('records.create', { kind: 'note', title: 'wire' })) as { id: string };
    // Every byte value, and lengths on each side of base64's 3-byte groups.
    const data = Uint8Array.from({ length: 256 * 3 + 2 }, (_, i) => (i * 7) & 255);
    const added = (await call('attachments.addBytes', { recordId: record.id, name: 'bytes.bin', data })) as { id: string; size: number };
    expect(added.size).toBe(data.length);
    const read = (await call('attachments.read', { id: added.id })) as { data: Uint8Array };
    expect(read.data).toBeInstanceOf(Uint8Array);
    expect([...read.data]).toEqual([...data]);
  });

  it('a malformed {"$bytes"} value is refused before the call reaches the vault', async () => {
    const env = JSON.parse(await post('attachments.addBytes', '{"recordId":"0190f3a2-7b1c-7def-8a12-3456789abcde","name":"x","data":{"$bytes":"QR=="}}')) as { ok: boolean; error?: { code: string } };
    expect(env).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });
});
