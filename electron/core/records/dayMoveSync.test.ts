// A record moved to another UTC day gets a new data key (codec.ts) while its attachments, sealed
// once and immutable on the sync server, stay under the key they were added with: the key chain
// in the wrapped data key must carry them to every device, through a plain edit and a merge.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { tempDir } from '../testing/tempVault.ts';
import { describePg } from '../sync/testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice, syncAll } from '../sync/testing/devices.ts';
import type { TestServer } from '../sync/testing/pg.ts';
import { unwrapKeys } from './codec.ts';

let server: TestServer;

describePg('records moved to another day, across devices', (testServer) => {
  beforeEach(() => {
    server = testServer();
  });
  afterEach(closeDevices);

  test('attachments added before a move open on every device; a merge that moves the day keeps them too', { timeout: 240_000 }, async () => {
    const { url } = await server.analyst();
    const a = await firstDevice(url);
    const dir = tempDir();
    writeFileSync(join(dir, 'before.txt'), 'sealed under the first key');
    const r = await a.custody.createRecord({ kind: 'note', title: 'moves', body: 'v1', capturedAt: '2026-04-01T10:00:00.000Z' });
    const before = await a.custody.addAttachment(r.id, join(dir, 'before.txt'));
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');

    // A moves it (new key on A), B pulls the new version and opens the old attachment.
    await a.custody.updateRecord(r.id, 1, { capturedAt: '2026-04-05T10:00:00.000Z', body: 'v2 moved' });
    await syncAll([a, b]);
    expect(await b.custody.getRecord(r.id)).toMatchObject({ body: 'v2 moved', capturedAt: '2026-04-05T10:00:00.000Z', version: 2 });
    await b.custody.extractAttachment(before.id, join(dir, 'b1'));
    expect(readFileSync(join(dir, 'b1'), 'utf8')).toBe('sealed under the first key');
    const rowB = await b.custody.vault.db.prisma.record.findUniqueOrThrow({ where: { id: r.id } });
    expect(unwrapKeys(b.custody.vault.keys(), b.custody.vault.vaultId, r.id, '2026-04-05', rowB.wrappedDek)).toHaveLength(2);

    // B adds one under the new key; A opens it.
    writeFileSync(join(dir, 'after.txt'), 'sealed under the second key');
    const after = await b.custody.addAttachment(r.id, join(dir, 'after.txt'));
    await syncAll([b, a]);
    await a.custody.extractAttachment(after.id, join(dir, 'a1'));
    expect(readFileSync(join(dir, 'a1'), 'utf8')).toBe('sealed under the second key');

    // Offline on both: A edits the title and syncs first, B moves the day again; B's pull merges
    // and seals the result on B's new day under a new key (pull.ts sealMerged), and every
    // attachment still opens on both.
    await a.custody.updateRecord(r.id, 2, { title: 'moves, retitled' });
    await b.custody.updateRecord(r.id, 2, { capturedAt: '2026-04-09T10:00:00.000Z' });
    await syncAll([a, b, a, b]);
    const merged = await b.custody.vault.db.prisma.record.findUniqueOrThrow({ where: { id: r.id } });
    expect(merged.epochDay).toBe('2026-04-09');
    expect(unwrapKeys(b.custody.vault.keys(), b.custody.vault.vaultId, r.id, '2026-04-09', merged.wrappedDek).length).toBeGreaterThanOrEqual(3);
    for (const d of [a, b]) {
      expect(await d.custody.getRecord(r.id)).toMatchObject({ title: 'moves, retitled', capturedAt: '2026-04-09T10:00:00.000Z', body: 'v2 moved' });
      for (const att of [before, after]) expect(await d.custody.verifyAttachment(att.id)).toMatchObject({ ok: true });
      expect((await d.custody.history(r.id)).length).toBeGreaterThanOrEqual(3);
    }
  });
});
