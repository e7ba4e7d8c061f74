// No content in the clear, the app's side: the web shell and the core it serves (the same main
// process handlers the desktop app binds to IPC) do every operation with a canary in every
// analyst-controlled field, including requests that fail (bad rows, unknown keys, overlong
// values, malformed bodies); nothing they log (console, stdout, stderr) and no file of the vault
// folder or the settings file beside it may hold the canary, as text, hex or base64.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { settingsFileFor } from '../core/api/settings.ts';
import { PASSWORD } from '../core/testing/tempVault.ts';
import { answerOf, startTestShell, type TestShell } from './testing/webShellHarness.ts';

const TAG = `canary${randomBytes(6).toString('hex')}`;

function forms(s: string): { name: string; bytes: Buffer }[] {
  const raw = Buffer.from(s);
  const out = [
    { name: 'utf8', bytes: raw },
    { name: 'utf16le', bytes: Buffer.from(s, 'utf16le') },
    { name: 'hex', bytes: Buffer.from(raw.toString('hex')) },
  ];
  for (let k = 0; k < 3; k++) out.push({ name: `base64+${k}`, bytes: Buffer.from(Buffer.concat([Buffer.alloc(k), raw]).toString('base64').slice(k ? 4 : 0, -4)) });
  return out;
}
const leaks = (what: string, b: Uint8Array) => forms(TAG).filter((f) => Buffer.from(b).includes(f.bytes)).map((f) => `${what} (${f.name})`);
const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

let h: TestShell;
let root: string;
let vaultDir: string;
/** Everything the process logs while the shell works. */
const logged: string[] = [];

beforeAll(async () => {
  h = await startTestShell();
  ({ root, vaultDir } = h);
  const record = (...args: unknown[]) => void logged.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  for (const m of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) vi.spyOn(console, m).mockImplementation(record);
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(Buffer.from(chunk).toString('utf8'));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
  }
});

afterAll(async () => {
  vi.restoreAllMocks();
  await h?.close();
});

const call = async (method: string, body: unknown) => answerOf(await h.call(method, body));
const upload = async (method: string, request: unknown, data: Buffer) => answerOf(await h.upload(method, request, data));
const bytes = (s: string) => ({ $bytes: Buffer.from(s).toString('base64') });

test('the web shell and the core it serves log no analyst text, and the vault folder and settings file hold none', { timeout: 300_000 }, async () => {
  const ok = <T extends { ok: boolean; error?: { message: string } }>(r: T): T => {
    expect(r.error?.message).toBeUndefined();
    return r;
  };
  const refused = (r: { ok: boolean; error?: { message: string } }) => {
    expect(r.ok).toBe(false);
    // What the window is told about a refusal names no analyst text either.
    expect(leaks(`error message "${r.error!.message}"`, Buffer.from(r.error!.message))).toEqual([]);
  };
  ok(await call('vault.unlock', { password: PASSWORD }));
  ok(await call('settings.set', { autoLockMinutes: 15 }));
  const created = ok(await call('records.create', { kind: 'observation', title: `${TAG} title`, body: `${TAG} body`, case: `${TAG}case`, tags: [`${TAG}tag`], fields: [{ name: `${TAG}field`, type: 'text', value: `${TAG} value` }] })).value as { id: string };
  ok(await call('records.update', { id: created.id, version: 1, patch: { title: `${TAG} title 2`, capturedAt: '2026-01-02T03:04:05Z' } }));
  expect((ok(await call('records.search', { text: TAG, case: `${TAG}case`, tag: `${TAG}tag` })).value as { total: number }).total).toBe(1);
  ok(await call('records.get', { id: created.id }));
  const att = ok(await upload('attachments.addBytes', { recordId: created.id, name: `${TAG}-photo.jpg` }, Buffer.from(`${TAG} attachment\n`.repeat(2000)))).value as { id: string };
  ok(await call('attachments.read', { id: att.id }));
  ok(await call('attachments.verify', { id: att.id }));
  ok(await call('records.importBytes', { name: `${TAG}.csv`, format: 'csv', data: bytes(`title,body,case\n${TAG} imported,${TAG} b,${TAG}case\n`) }));
  refused(await call('records.importBytes', { name: `${TAG}.json`, format: 'json', data: bytes(JSON.stringify([{ kind: 'note', title: 'ok', [`${TAG}key`]: TAG }])) }));
  refused(await call('records.importBytes', { name: `${TAG}.json`, format: 'json', data: bytes(`[{"kind":"note","title":${TAG}}]`) }));
  refused(await call('records.importBytes', { name: `${TAG}.csv`, format: 'csv', data: bytes(`title,${TAG}col\nx,y\n`) }));
  const report = ok(await call('reports.export', { purpose: `${TAG} purpose`, recipient: `${TAG} recipient`, case: `${TAG}case` })).value as { data: unknown };
  expect(report.data).toBeTruthy();
  // Requests that fail, each carrying the canary where a careless error message would echo it.
  refused(await call('records.create', { kind: 'note', title: 'x', [`${TAG}key`]: 1 }));
  refused(await call('records.create', { kind: TAG, title: 'x' }));
  refused(await call('records.update', { id: created.id, version: 1, patch: { title: `${TAG} stale` } }));
  refused(await call('records.update', { id: created.id, version: 2, patch: { title: `${TAG}`.repeat(100) } }));
  refused(await call(`records.${TAG}`, {}));
  refused(await call('records.search', `{"text": ${TAG}}`));
  refused(await upload('attachments.addBytes', { recordId: created.id, name: `${TAG}.txt`, [`${TAG}key`]: 1 }, Buffer.from(TAG)));

  // Files while the database is open (the WAL holds the latest pages), the settings file beside the vault.
  const settings = settingsFileFor(vaultDir);
  expect(existsSync(settings)).toBe(true);
  const files = [...walk(vaultDir), ...readdirSync(dirname(vaultDir)).filter((f) => f.startsWith(`${basename(vaultDir)}.`)).map((f) => join(dirname(vaultDir), f))].filter((f) => statSync(f).isFile());
  expect(files.some((f) => f.endsWith('custody.db-wal'))).toBe(true);
  const problems = files.flatMap((f) => leaks(f.slice(root.length + 1), readFileSync(f)));
  ok(await call('vault.lock', {}));
  problems.push(...leaks('logs of the web shell and core', Buffer.from(logged.join('\n'))));
  // The capture is live (an empty log would prove nothing otherwise).
  console.error('[probe]');
  expect(logged.some((l) => l.includes('[probe]'))).toBe(true);
  expect(problems).toEqual([]);
});
