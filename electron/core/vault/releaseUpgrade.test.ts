// A vault made by the 0.1.0 release (testing/fixtures/vault-0.1.0, made with that release's own
// CLI) opened by this code: its device key gets its attestation at the first unlock (audited),
// its password wrapping is re-made at the raised KDF floor, its files become owner-only, and
// its old checkpoints (signed under the log origin as key name) still verify.
import { afterEach, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { cpSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { generateEd25519 } from '../crypto/ed25519.ts';
import { KDF_FLOOR } from '../crypto/kdf.ts';
import { tempDir } from '../testing/tempVault.ts';
import { exportReport } from '../reports/export.ts';
import { verifyReport } from '../reports/verifyReport.ts';

const FIXTURE = join(import.meta.dirname, '../testing/fixtures/vault-0.1.0');
const fixture = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8')) as { password: string; vaultId: string; recordId: string; recordTitle: string; attachmentId: string; auditEntries: number };

let root: string | undefined;
let c: Custody | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
  if (root) rmSync(root, { recursive: true, force: true });
});

function copyFixture(): string {
  root = tempDir('custody-release-');
  const dir = join(root, 'vault');
  cpSync(FIXTURE, dir, { recursive: true, filter: (src) => !src.endsWith('fixture.json') });
  return dir;
}

test('a 0.1.0 vault: attested at its first unlock (audited), KDF raised to the floor, files owner-only, old checkpoints still verify', async () => {
  const dir = copyFixture();
  expect(JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8')).kdf).toMatchObject({ memoryKiB: 16384, iterations: 2 });
  c = await Custody.open(dir);
  expect(statSync(join(dir, 'custody.db')).mode & 0o777).toBe(0o600);
  expect(c.status().integrityProblem).toBeNull();
  const locked = await c.verifyAudit();
  expect(locked).toMatchObject({ ok: true, trust: { basis: 'registry' } });
  expect((await c.vault.db.prisma.keyEntry.findFirstOrThrow({ where: { kind: 'device_signing' } })).attestation).toBeNull();

  await c.unlock(fixture.password, { buildIndex: false });
  const entries = await c.auditQuery({ order: 'asc', limit: 1000 });
  const tail = entries.filter((e) => e.seq >= fixture.auditEntries).map((e) => e.event);
  expect(tail).toEqual(['audit.verified', 'key.attested', 'vault.unlocked', 'settings.changed']);
  expect(entries.find((e) => e.event === 'key.attested')!.entry!.details).toMatchObject({ kind: 'device_signing', reason: 'first unlock with attested device keys' });
  expect((await c.vault.db.prisma.keyEntry.findFirstOrThrow({ where: { kind: 'device_signing' } })).attestation).toHaveLength(32);
  expect(JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8')).kdf).toMatchObject({ memoryKiB: KDF_FLOOR.memoryKiB, iterations: 2, parallelism: 4 });
  expect(entries.at(-1)!.entry!.details).toMatchObject({ changed: ['kdf'], previous: 'argon2id m=16384 t=2 p=4', kdf: `argon2id m=${KDF_FLOOR.memoryKiB} t=2 p=4` });

  expect((await c.getRecord(fixture.recordId)).title).toBe(fixture.recordTitle);
  await expect(c.verifyAttachment(fixture.attachmentId)).resolves.toMatchObject({ ok: true });
  const unlocked = await c.verifyAudit();
  expect(unlocked).toMatchObject({ ok: true, trust: { basis: 'attested' } });
  // Its pre-upgrade checkpoints are signed under the origin; the new ones under the device name.
  const notes = c.vault.checkpoints.all().map((cp) => cp.note);
  expect(notes.some((n) => n.includes(`\u2014 custody.vault/${fixture.vaultId} `))).toBe(true);
  expect(notes.some((n) => n.includes(`\u2014 custody.vault/${fixture.vaultId}/device/`))).toBe(true);

  // The same password, at the new cost; a second unlock adds no attestation.
  await c.close();
  c = await Custody.open(dir);
  await c.unlock(fixture.password, { buildIndex: false });
  expect((await c.auditQuery({ event: 'key.attested' })).length).toBe(1);
  for (const f of ['custody.db', 'custody.db-wal', 'vault.json', 'checkpoint.txt']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
});

test('a report from an upgraded vault proves consistency with a checkpoint the reader kept from 0.1.0 (signed under the old key name)', async () => {
  const dir = copyFixture();
  const kept = readFileSync(join(dir, 'checkpoint.txt'), 'utf8');
  c = await Custody.open(dir);
  await c.unlock(fixture.password, { buildIndex: false });
  const out = join(root!, 'report');
  await exportReport(c, { outDir: out, purpose: 'follow-up', sinceCheckpoint: kept });
  const verdict = await verifyReport(out);
  expect(verdict.checks.find((k) => k.name === 'consistency with the earlier checkpoint')).toMatchObject({ ok: true });
  expect(verdict.ok).toBe(true);
});

test('a 0.1.0 vault whose public key was swapped before its first unlock is refused, and gets no attestation', async () => {
  const dir = copyFixture();
  const db = new Database(join(dir, 'custody.db'));
  db.prepare("UPDATE key_registry SET public_key = ? WHERE kind = 'device_signing'").run(generateEd25519().publicKey);
  db.close();
  c = await Custody.open(dir);
  await expect(c.unlock(fixture.password, { buildIndex: false })).rejects.toMatchObject({ code: 'TAMPERED' });
  expect(c.status().unlocked).toBe(false);
  expect((await c.vault.db.prisma.keyEntry.findFirstOrThrow({ where: { kind: 'device_signing' } })).attestation).toBeNull();
  expect(await c.auditQuery({ event: 'key.attested' })).toEqual([]);
});
