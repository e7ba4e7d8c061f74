// The outbox is filled by triggers in the transaction of each local change (0002_sync): these
// tests drive the real record, attachment and import paths; no server is involved.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, tempVault, type TempVault } from '../../testing/tempVault.ts';
import { SYNC_URL_KEY, SyncState } from './state.ts';

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
});
afterEach(() => tv.cleanup());

const rows = () => tv.custody.vault.db.sql.prepare('SELECT kind, target_id AS id FROM sync_outbox ORDER BY rowid').all() as { kind: string; id: string }[];
const configure = () => tv.custody.vault.db.writeSync(() => tv.custody.vault.db.sql.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(SYNC_URL_KEY, 'sealed'));

describe('outbox', () => {
  test('nothing is queued while sync is not configured', async () => {
    await tv.custody.createRecord({ kind: 'note', title: 'local only' });
    expect(rows()).toEqual([]);
  });

  test('every kind of change queues its target, and the queue survives a restart', async () => {
    await configure();
    const r = await tv.custody.createRecord({ kind: 'note', title: 'a' });
    await tv.custody.updateRecord(r.id, 1, { title: 'b' });
    const file = join(tempDir(), 'f.txt');
    writeFileSync(file, 'x');
    const a = await tv.custody.addAttachment(r.id, file);
    await tv.custody.deleteRecord(r.id);
    await tv.custody.restoreRecord(r.id);
    await tv.custody.deleteRecord(r.id);
    await tv.custody.purgeRecord(r.id);
    const imported = join(tempDir(), 'in.json');
    writeFileSync(imported, JSON.stringify([{ kind: 'note', title: 'i1' }, { kind: 'note', title: 'i2' }]));
    const { ids } = await tv.custody.importFile(imported);
    const expected = [
      ...Array(2).fill({ kind: 'record', id: r.id }),
      { kind: 'attachment', id: a.id },
      ...Array(3).fill({ kind: 'record', id: r.id }),
      { kind: 'purge', id: r.id },
      ...ids.map((id) => ({ kind: 'record', id })),
    ];
    expect(rows()).toEqual(expected);
    await tv.reopen();
    expect(rows()).toEqual(expected);
    const state = new SyncState(tv.custody.vault);
    expect(state.pendingCount()).toBe(5); // record r, attachment, purge r, two imports
  });

  test('a change that rolls back queues nothing', async () => {
    await configure();
    const vault = tv.custody.vault;
    await expect(
      vault.db.writeSync(() => {
        vault.db.sql.prepare("INSERT INTO record VALUES ('01a00000-0000-7000-8000-000000000000', 'note', 0, '1970-01-01', 0, 0, 1, NULL, x'00', x'00', x'00')").run();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(rows()).toEqual([]);
  });

  test('done() removes only what was read: a change made during a push stays queued', async () => {
    await configure();
    const state = new SyncState(tv.custody.vault);
    const r = await tv.custody.createRecord({ kind: 'note', title: 'a' });
    const read = state.targets(['record']);
    expect(read).toEqual([{ kind: 'record', targetId: r.id, upTo: expect.any(Number), attempts: 0 }]);
    await tv.custody.updateRecord(r.id, 1, { title: 'b' }); // meanwhile
    await tv.custody.vault.db.writeSync(() => state.done(read));
    expect(rows()).toEqual([{ kind: 'record', id: r.id }]);
    await tv.custody.vault.db.writeSync(() => state.failed(12345, 'server unreachable'));
    expect(tv.custody.vault.db.sql.prepare('SELECT attempts, next_attempt_at AS next, last_error AS error FROM sync_outbox').get()).toEqual({ attempts: 1, next: 12345, error: 'server unreachable' });
  });
});
