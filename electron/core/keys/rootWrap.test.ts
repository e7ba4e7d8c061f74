// Epoch roots bound to the days they serve (rootWrap.ts): a 0.1.0 root (legacy wrap, no days) is
// re-wrapped at its first unlock, and the legacy wrap is refused once a folder writer gives that
// root days; after overlapping rotations every record still opens and each day is served by the
// root its records are under, also after a lock and unlock (the days come from the registry).
import { afterEach, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ad, open } from '../crypto/aead.ts';
import { Custody } from '../custody.ts';
import { PASSWORD, tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { rotateEpochRoot } from './epochRootRotation.ts';
import { rotateRecordKeys } from './recordKeys.ts';
import { rootAd } from './rootWrap.ts';

const FIXTURE = join(import.meta.dirname, '../testing/fixtures/vault-0.1.0');
const fixture = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8')) as { password: string; recordId: string; recordTitle: string };

let tv: TempVault | undefined;
let c: Custody | undefined;
let root: string | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
  await tv?.cleanup();
  tv = undefined;
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

function copyFixture(): string {
  root = tempDir('custody-rootwrap-');
  const dir = join(root, 'vault');
  cpSync(FIXTURE, dir, { recursive: true, filter: (src) => !src.endsWith('fixture.json') });
  return dir;
}

const rootRow = (dir: string) => {
  const db = new Database(join(dir, 'custody.db'), { readonly: true });
  try {
    return db.prepare("SELECT id, wrapped FROM key_registry WHERE kind = 'epoch_root'").get() as { id: string; wrapped: Buffer };
  } finally {
    db.close();
  }
};

test('a 0.1.0 root (no days, legacy wrap) opens and is re-wrapped for its days at the first unlock', async () => {
  const dir = copyFixture();
  const before = rootRow(dir);
  c = await Custody.open(dir);
  await c.unlock(fixture.password, { buildIndex: false });
  const vk = c.vault.keys().vaultKey;
  const after = (await c.vault.db.prisma.keyEntry.findFirstOrThrow({ where: { kind: 'epoch_root' } })).wrapped!;
  // The release's wrap was the legacy form; now it is the day-bound form.
  expect(() => open(vk, before.wrapped, ad('key', c!.vault.vaultId, before.id))).not.toThrow();
  expect(() => open(vk, Buffer.from(after), rootAd(c!.vault.vaultId, before.id, null, null))).not.toThrow();
  expect(() => open(vk, Buffer.from(after), ad('key', c!.vault.vaultId, before.id))).toThrow();
  expect((await c.getRecord(fixture.recordId)).title).toBe(fixture.recordTitle);
});

test('a folder writer gives the 0.1.0 root days: its legacy wrap is refused, the vault stays locked', async () => {
  const dir = copyFixture();
  // Opened once so the migrations add the day columns, then edited while closed.
  await (await Custody.open(dir)).close();
  const db = new Database(join(dir, 'custody.db'));
  db.prepare("UPDATE key_registry SET from_day = '2099-01-01' WHERE kind = 'epoch_root'").run();
  db.close();
  c = await Custody.open(dir);
  await expect(c.unlock(fixture.password, { buildIndex: false })).rejects.toMatchObject({ code: 'TAMPERED' });
  expect(c.vault.unlocked).toBe(false);
});

test('overlapping rotations: each day is served by the root its records are under, before and after a lock', async () => {
  tv = await tempVault();
  const cu = tv.custody;
  const ids: Record<string, string> = {};
  for (const day of ['2026-01-10', '2026-01-20', '2026-02-05', '2026-03-01']) ids[day] = (await cu.createRecord({ kind: 'note', title: day, body: `body ${day}`, capturedAt: `${day}T09:00:00Z` })).id;
  const k1 = (await rotateRecordKeys(cu.vault, { fromDay: '2026-01-15', untilDay: '2026-02-10' })).keyId;
  // A second re-encryption starting earlier than the first: it serves 01-15..01-31 now.
  const k2 = (await rotateRecordKeys(cu.vault, { fromDay: '2026-01-01', untilDay: '2026-01-31' })).keyId;
  // An epoch root rotation from a day inside the first re-encryption's range.
  const r = (await rotateEpochRoot(cu.vault, { fromDay: '2026-02-01' })).keyId;
  const expected = { '2026-01-10': k2, '2026-01-20': k2, '2026-02-05': r, '2026-03-01': r };
  const check = async () => {
    const keys = cu.vault.keys();
    for (const [day, id] of Object.entries(expected)) {
      expect(keys.epochRootId(day), day).toBe(id);
      expect((await cu.getRecord(ids[day]!)).title).toBe(day);
    }
    expect(keys.epochRootId('2026-01-01')).toBe(k2);
    expect([k1, k2, r]).toContain(keys.epochRootId('2026-02-10'));
  };
  await check();
  await cu.lock();
  await cu.unlock(PASSWORD, { buildIndex: false });
  await check();
});
