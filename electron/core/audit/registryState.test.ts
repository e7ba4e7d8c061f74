// The key registry is committed to the audit log: each attack edits key_registry with raw SQL
// while the vault is closed (a folder writer), and `custody audit verify` (Vault.verifyAudit,
// as the CLI runs it) must report it as tampering: a deleted row, a row put back to an older
// version, a row whose status was edited, a row added. Untouched, the same vault verifies.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { vaultStatusReport } from '../backup/status.ts';
import { rotateEpochRoot } from '../keys/epochRootRotation.ts';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});

/** A vault whose epoch root was rotated once (so one root is retired, one active), then closed. */
async function rotatedVault(): Promise<{ dir: string; retired: string; active: string; before: Record<string, unknown> }> {
  tv = await tempVault();
  const c = tv.custody;
  await c.createRecord({ kind: 'note', title: 'n', body: 'b' });
  const db = () => new Database(join(tv!.dir, 'custody.db'));
  const d = db();
  const root0 = d.prepare("SELECT * FROM key_registry WHERE kind = 'epoch_root' AND status = 'active'").get() as Record<string, unknown>;
  d.close();
  const rot = await rotateEpochRoot(c.vault, { fromDay: '2099-01-01' });
  expect((await c.verifyAudit()).ok).toBe(true);
  await c.close();
  return { dir: tv.dir, retired: root0.id as string, active: rot.keyId, before: root0 };
}

async function verify(dir: string) {
  const c = await Custody.open(dir);
  try {
    await c.unlock(PASSWORD, { buildIndex: false }).catch(() => undefined);
    return await c.vault.verifyAudit();
  } finally {
    await c.close();
  }
}

function edit(dir: string, fn: (db: Database.Database) => void): void {
  const db = new Database(join(dir, 'custody.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

describe('the key registry against the log', () => {
  test('untouched, the vault verifies (every key event committed the registry)', async () => {
    const { dir } = await rotatedVault();
    expect(await verify(dir)).toMatchObject({ ok: true, problems: [] });
    const c = await Custody.open(dir);
    try {
      expect(vaultStatusReport(c.vault).registryProblems).toEqual([]);
    } finally {
      await c.close();
    }
  }, 120_000);

  test('a deleted row is reported', async () => {
    const { dir, active } = await rotatedVault();
    edit(dir, (db) => db.prepare('DELETE FROM key_registry WHERE id = ?').run(active));
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'registry-row-deleted', message: expect.stringContaining(`row ${active} was deleted`) })]));
  }, 120_000);

  test('a row put back to an older version (the retired root made active again, as it was) is reported as a replay', async () => {
    const { dir, retired, before } = await rotatedVault();
    edit(dir, (db) => db.prepare('UPDATE key_registry SET status = ?, rotated_at = ? WHERE id = ?').run(before.status, before.rotated_at, retired));
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'registry-row-replayed', message: expect.stringContaining(`row ${retired} was put back to an older version`) })]));
  }, 120_000);

  test('a row whose status was edited is reported', async () => {
    const { dir, active } = await rotatedVault();
    edit(dir, (db) => db.prepare("UPDATE key_registry SET status = 'revoked' WHERE id = ?").run(active));
    // `custody status`, with no password, shows it too.
    const locked = await Custody.open(dir);
    try {
      expect(vaultStatusReport(locked.vault).registryProblems).toEqual([expect.stringContaining(`row ${active} was edited`)]);
    } finally {
      await locked.close();
    }
    const v = await verify(dir);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'registry-row-modified', message: expect.stringContaining(`row ${active} was edited`) })]));
  }, 120_000);

  test('an edit made while the vault was closed is recorded at the next unlock, once, and a later key event does not launder it', async () => {
    const { dir, active } = await rotatedVault();
    edit(dir, (db) => db.prepare("UPDATE key_registry SET status = 'retired' WHERE id = ?").run(active));
    const c = await Custody.open(dir);
    try {
      await c.unlock(PASSWORD, { buildIndex: false });
      await c.lock();
      await c.unlock(PASSWORD, { buildIndex: false });
      const recorded = (await c.auditQuery({ event: 'key.tamper_detected' })).filter((e) => e.entry?.details.kind === 'registry');
      expect(recorded).toHaveLength(1);
      expect(recorded[0]!.entry!.details.problems).toEqual([expect.stringContaining(`row ${active} was edited`)]);
      // A rotation now commits the registry as it is; the recorded edit still fails verification.
      await rotateEpochRoot(c.vault, { fromDay: '2099-06-01' });
      const v = await c.verifyAudit();
      expect(v.ok).toBe(false);
      expect(v.problems).toEqual([expect.objectContaining({ kind: 'registry-tamper-recorded', seq: recorded[0]!.seq })]);
    } finally {
      await c.close();
    }
  }, 120_000);

  test('a row added outside Custody is reported', async () => {
    const { dir } = await rotatedVault();
    edit(dir, (db) => db.prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, usage_count) VALUES ('forged', 'pdf_signing', 'ECDSA', 'active', 0, 'x', 0)").run());
    const v = await verify(dir);
    expect(v.problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'registry-row-inserted', message: expect.stringContaining('row forged is not in the registry') })]));
  }, 120_000);
});
