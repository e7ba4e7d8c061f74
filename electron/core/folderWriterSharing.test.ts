// Threat model (b), the folder writer, against the features of issues 11 and 12: someone who can
// write the vault folder (malware, a shared machine, a sync tool) but holds no key edits what
// those features keep in the clear beside their sealed data. Each attack is carried out on a
// real vault's SQLite file while the vault is closed; the test asserts the app
// refuses it, or that what the app then does is what it would have done without it.
import { afterEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { PASSWORD, tempDir, tempVault, type TempVault } from './testing/tempVault.ts';
import { newHybridIdentity } from './sharing/identity.ts';
import { addRecipient, resolveRecipient } from './sharing/recipients.ts';
import { getPolicy, setPolicy } from './sharing/policy.ts';
import { disclose, listGrants, showGrant } from './sharing/disclose.ts';
import { listReceived, openIntoVault, viewReceivedRecord } from './sharing/received.ts';
import { rotateEpochRoot } from './keys/epochRootRotation.ts';
import type { Custody } from './custody.ts';

const vaults: TempVault[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
async function vault(): Promise<TempVault> {
  const v = await tempVault();
  vaults.push(v);
  return v;
}
/** Closes the vault, lets `edit` change its database as the folder writer, reopens and unlocks. */
async function asFolderWriter(v: TempVault, edit: (db: Database.Database) => void, unlock = true): Promise<Custody> {
  const c = await v.reopen();
  const db = new Database(join(v.dir, 'custody.db'));
  try {
    edit(db);
  } finally {
    db.close();
  }
  if (unlock) await c.unlock(PASSWORD, { buildIndex: false });
  return c;
}
const outcome = <T>(p: Promise<T>): Promise<{ ok: T } | { refused: string; code: unknown }> =>
  p.then(
    (ok) => ({ ok }),
    (e: Error & { code?: unknown }) => ({ refused: e.message, code: e.code }),
  );

describe('folder writer against the address book', { timeout: 120_000 }, () => {
  test('two rows whose name tags are swapped: a name resolves to its own recipient or is refused, never to the other', async () => {
    const v = await vault();
    const alpha = await newHybridIdentity();
    const bravo = await newHybridIdentity();
    await addRecipient(v.custody, { name: 'Alpha', recipient: alpha.recipient });
    await addRecipient(v.custody, { name: 'Bravo', recipient: bravo.recipient });
    const c = await asFolderWriter(v, (db) => {
      const rows = db.prepare('SELECT id, name_tag FROM recipient ORDER BY id').all() as { id: string; name_tag: Buffer }[];
      expect(rows).toHaveLength(2);
      const swap = db.prepare('UPDATE recipient SET name_tag = ? WHERE id = ?');
      // Through a placeholder: name_tag is unique.
      swap.run(Buffer.from('placeholder'), rows[0]!.id);
      swap.run(rows[0]!.name_tag, rows[1]!.id);
      swap.run(rows[1]!.name_tag, rows[0]!.id);
    });
    for (const [name, want] of [['Alpha', alpha], ['Bravo', bravo]] as const) {
      const r = await outcome(resolveRecipient(c, name));
      if ('ok' in r) expect(r.ok.recipient, `"${name}" resolved to another recipient`).toBe(want.recipient);
      else expect(r.code).toBe('TAMPERED');
    }
  });

  test('two whole sealed rows swapped (ids kept): each is refused, none read as the other', async () => {
    const v = await vault();
    const alpha = await newHybridIdentity();
    const bravo = await newHybridIdentity();
    await addRecipient(v.custody, { name: 'Alpha', recipient: alpha.recipient });
    await addRecipient(v.custody, { name: 'Bravo', recipient: bravo.recipient });
    const c = await asFolderWriter(v, (db) => {
      const rows = db.prepare('SELECT * FROM recipient ORDER BY id').all() as Record<string, unknown>[];
      const set = db.prepare('UPDATE recipient SET name_tag = ?, fingerprint = ?, type = ?, sealed = ?, created_at = ? WHERE id = ?');
      set.run(Buffer.from('placeholder'), 'placeholder', rows[0]!.type, rows[0]!.sealed, rows[0]!.created_at, rows[0]!.id);
      for (const [to, from] of [[1, 0], [0, 1]] as const) set.run(rows[from]!.name_tag, rows[from]!.fingerprint, rows[from]!.type, rows[from]!.sealed, rows[from]!.created_at, rows[to]!.id);
    });
    for (const name of ['Alpha', 'Bravo']) expect(await outcome(resolveRecipient(c, name))).toMatchObject({ code: 'TAMPERED' });
  });
});

describe('folder writer against the sharing policy', { timeout: 120_000 }, () => {
  test('a strict policy replaced in the database by the sealed default of before: disclosure is refused, not loosened', async () => {
    const v = await vault();
    const reviewer = await newHybridIdentity();
    await v.custody.createRecord({ kind: 'note', title: 'inside', body: 'x', capturedAt: '2026-03-04T10:00:00Z' });
    await setPolicy(v.custody, { maxRangeDays: 30 });
    const older = v.custody.vault.db.sql.prepare("SELECT value FROM meta WHERE key = 'sharing_policy'").pluck().get() as string;
    await setPolicy(v.custody, { maxRangeDays: 2, attachmentsAllowed: false });
    const out = join(tempDir(), 'p.age');
    dirs.push(join(out, '..'));
    for (const edit of [(db: Database.Database) => db.prepare("UPDATE meta SET value = ? WHERE key = 'sharing_policy'").run(older), (db: Database.Database) => db.prepare("DELETE FROM meta WHERE key = 'sharing_policy'").run()]) {
      const c = await asFolderWriter(v, (db) => void edit(db));
      expect(await outcome(getPolicy(c))).toMatchObject({ code: 'TAMPERED' });
      const r = await outcome(disclose(c, { to: [reviewer.recipient], from: '2026-03-01', until: '2026-03-09', purpose: 'review', withAttachments: true, out }));
      expect(r).toMatchObject({ code: 'TAMPERED' });
      expect(existsSync(out)).toBe(false);
      // Repaired by setting it again (audited), as the message says.
      await setPolicy(c, { maxRangeDays: 2, attachmentsAllowed: false });
    }
  });
});

describe('folder writer against a received grant', { timeout: 180_000 }, () => {
  async function received() {
    const issuer = await vault();
    const reviewer = await vault();
    const identity = await generateHybridIdentity();
    const recipient = await identityToRecipient(identity);
    const rec = await issuer.custody.createRecord({ kind: 'note', title: 'granted', body: 'inside the grant', capturedAt: '2026-03-04T10:00:00Z' });
    const out = join(tempDir(), 'g.age');
    dirs.push(join(out, '..'));
    const expires = '2026-06-30';
    await disclose(issuer.custody, { to: [recipient], from: '2026-03-03', until: '2026-03-05', purpose: 'review', expires, out, now: new Date("2026-03-20T00:00:00Z") });
    const opened = await openIntoVault(reviewer.custody, readFileSync(out), { identityFile: new TextEncoder().encode(`${identity}\n`), now: new Date('2026-03-21T00:00:00Z') });
    return { reviewer, grantId: opened.grant.grantId, recordId: rec.id };
  }

  test("the expiry cleared in the database: after the sealed expiry the material is still refused (or the row is refused as tampered)", async () => {
    const { reviewer, grantId, recordId } = await received();
    const after = new Date('2026-08-01T00:00:00Z');
    await expect(viewReceivedRecord(reviewer.custody, grantId, recordId, after)).rejects.toThrow(/expired/);
    const c = await asFolderWriter(reviewer, (db) => {
      expect(db.prepare('UPDATE received_grant SET expires_at = NULL WHERE id = ?').run(grantId).changes).toBe(1);
    });
    const r = await outcome(viewReceivedRecord(c, grantId, recordId, after));
    expect(r, 'an expired grant was opened after its expiry was cleared in the database').not.toHaveProperty('ok');
  });

  test('the days of a grant changed in the database: the grant shows its signed days (or is refused as tampered)', async () => {
    const { reviewer, grantId } = await received();
    const c = await asFolderWriter(reviewer, (db) => {
      db.prepare("UPDATE received_grant SET from_day = '2026-01-01', until_day = '2026-12-31', expires_at = NULL WHERE id = ?").run(grantId);
    });
    const r = await outcome(Promise.resolve().then(() => listReceived(c, new Date('2026-03-22T00:00:00Z'))));
    if ('ok' in r) expect(r.ok.map((g) => [g.from, g.until, g.expiresAt?.slice(0, 10) ?? null])).toEqual([['2026-03-03', '2026-03-05', '2026-06-30']]);
    else expect(r.code).toBe('TAMPERED');
  });
});

describe('folder writer against an issued grant', { timeout: 120_000 }, () => {
  test("an issued grant's days, expiry or recipients edited in the database: listing it is refused as tampered", async () => {
    const edits = [
      "UPDATE grant_issued SET from_day = '2026-03-04'",
      'UPDATE grant_issued SET expires_at = NULL',
      `UPDATE grant_issued SET recipients = '["0000-0000-0000-0000-0000"]'`,
      'UPDATE grant_issued SET records = 0',
    ];
    const v = await vault();
    const { recipient } = await newHybridIdentity();
    await v.custody.createRecord({ kind: 'note', title: 'granted', body: 'x', capturedAt: '2026-03-04T10:00:00Z' });
    const out = join(tempDir(), 'g.age');
    dirs.push(join(out, '..'));
    const { grantId } = await disclose(v.custody, { to: [recipient], from: '2026-03-03', until: '2026-03-05', purpose: 'review', expires: '2099-01-01', out });
    const original = (db: Database.Database) => db.prepare('SELECT * FROM grant_issued').get() as Record<string, unknown>;
    let saved: Record<string, unknown> = {};
    let c = await asFolderWriter(v, (db) => void (saved = original(db)));
    expect(showGrant(c, grantId)).toMatchObject({ from: '2026-03-03', until: '2026-03-05', records: 1 });
    for (const edit of edits) {
      c = await asFolderWriter(v, (db) => {
        db.prepare('UPDATE grant_issued SET from_day = ?, expires_at = ?, recipients = ?, records = ?').run(saved.from_day, saved.expires_at, saved.recipients, saved.records);
        db.prepare(edit).run();
      });
      expect(() => showGrant(c, grantId), edit).toThrow(expect.objectContaining({ code: 'TAMPERED' }));
      expect(() => listGrants(c), edit).toThrow(expect.objectContaining({ code: 'TAMPERED' }));
    }
  });
});

describe('folder writer against the key registry after an epoch root rotation', { timeout: 120_000 }, () => {
  // A lost device keeps the old root. After `keys rotate epoch-root` records of later days must be
  // under the new root: an edit of the registry's clear columns must not bring them back under the old.
  const DAY = '2026-03-10';
  const attacks: [string, (db: Database.Database, newId: string, oldId: string) => void][] = [
    ['the new root starts later (from_day)', (db, n) => db.prepare("UPDATE key_registry SET from_day = '2099-01-01' WHERE id = ?").run(n)],
    ['the new root marked revoked and the old one active (status)', (db, n, o) => {
      db.prepare("UPDATE key_registry SET status = 'revoked' WHERE id = ?").run(n);
      db.prepare("UPDATE key_registry SET status = 'active' WHERE id = ?").run(o);
    }],
    ['the new root made older than the old one (created_at)', (db, n) => db.prepare('UPDATE key_registry SET created_at = 0 WHERE id = ?').run(n)],
  ];
  for (const [name, attack] of attacks) {
    // A root's days are bound to its wrap (keys/rootWrap.ts) and the root for a day is chosen from
    // the days alone, so status and created_at edits change nothing and day edits are refused.
    test(`${name}: unlock refuses, or later days still get their keys from the new root`, async () => {
      const v = await vault();
      const oldId = (v.custody.vault.db.sql.prepare("SELECT id FROM key_registry WHERE kind = 'epoch_root'").pluck().get() as string);
      const { keyId } = await rotateEpochRoot(v.custody.vault, { fromDay: '2026-03-01' });
      expect(v.custody.vault.keys().epochRootId(DAY)).toBe(keyId);
      const c = await asFolderWriter(v, (db) => attack(db, keyId, oldId), false);
      const r = await outcome(c.unlock(PASSWORD, { buildIndex: false }).then(() => c.vault.keys().epochRootId(DAY)));
      if ('ok' in r) expect(r.ok, 'records of later days would be written under the old root').toBe(keyId);
      else expect(r.code).toMatch(/TAMPERED|VAULT_CORRUPT/);
    });
  }
});
