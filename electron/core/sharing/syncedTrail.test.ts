// A record that reached a device by sync has its creation entry in the originating device's log,
// not in this device's: a package issued here could not show it against its trail, and every
// reviewer would refuse it with reason `trail`. Two real devices of one vault on PostgreSQL.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { describePg } from '../sync/testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice } from '../sync/testing/devices.ts';
import { disclose } from './disclose.ts';
import { decryptAgeLayer, verifyPackage } from './openDisclosure.ts';

const NOW = new Date();
const today = NOW.toISOString().slice(0, 10);

describePg('disclosing records that arrived by sync', (pg) => {
  afterEach(closeDevices);

  test("a record created on device A is refused for disclosure from device B, naming why; B's own record and A's disclosure of it go out and verify", async () => {
    const { url } = await pg().analyst();
    const a = await firstDevice(url);
    const fromA = (await a.custody.createRecord({ kind: 'note', title: 'made on A', body: 'A body' })).id;
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    const ownB = (await b.custody.createRecord({ kind: 'note', title: 'made on B', body: 'B body' })).id;
    expect((await b.custody.getRecord(fromA)).title).toBe('made on A');
    const identity = await generateHybridIdentity();
    const to = [await identityToRecipient(identity)];
    const out = join(b.dir, '..', 'b.age');

    // Whole day from B: A's record is in it, its trail is not in B's log.
    const tries = disclose(b.custody, { to, from: today, until: today, purpose: 'day', out });
    await expect(tries).rejects.toThrow(new RegExp(`record ${fromA} cannot be disclosed from this device: it was created or last edited on another device of this vault \\(.+\\) and reached this one by sync`));
    await expect(disclose(b.custody, { to, from: today, until: today, purpose: 'day', out, records: [fromA] })).rejects.toThrow(/a disclosure package does not carry/);
    // No grant was issued by the refused attempts.
    expect((b.custody.vault.db.sql.prepare('SELECT count(*) AS n FROM grant_issued').get() as { n: number }).n).toBe(0);

    // B's own record goes out from B and verifies; A discloses its own record.
    await disclose(b.custody, { to, from: today, until: today, purpose: 'own', out, records: [ownB] });
    expect(verifyPackage(await decryptAgeLayer(readFileSync(out), [identity])).records.map((r) => r.summary.id)).toEqual([ownB]);
    const outA = join(a.dir, '..', 'a.age');
    await disclose(a.custody, { to, from: today, until: today, purpose: 'from A', out: outA, records: [fromA] });
    expect(verifyPackage(await decryptAgeLayer(readFileSync(outA), [identity])).records.map((r) => r.summary.title)).toEqual(['made on A']);
  });
});
