// Confinement of a disclosure (issue 11): a vault with records on 60 days, a canary string in
// every record; a grant of days 10–20 (whole days, then narrowed to a case) must carry exactly
// those records, no key that opens any other record, and no byte of any other day's content.
// Real vault files, real crypto, real age files decrypted with the recipient's identity.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { RecordInputSchema } from '../../shared/records.ts';
import { insertRecords } from '../records/importer.ts';
import { openSummary, openContent, unwrapKeys } from '../records/codec.ts';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { disclose } from './disclose.ts';
import { decryptAgeLayer, verifyPackage } from './openDisclosure.ts';
import { parseBody, splitPackage, unb64 } from './packageFormat.ts';

const DAY0 = Date.parse('2026-01-01T00:00:00Z');
const dayOf = (i: number) => new Date(DAY0 + i * 86_400_000).toISOString().slice(0, 10);
const canary = (i: number, c: string) => `CANARY-${String(i).padStart(2, '0')}-${c}-7f3a`;

let issuer: TempVault;
let identity: string;
let recipient: string;
/** Every record of the vault: id, day index, case. */
const all: { id: string; day: number; case: string; epochDay: string }[] = [];

beforeAll(async () => {
  issuer = await tempVault();
  identity = await generateHybridIdentity();
  recipient = await identityToRecipient(identity);
  const data = [];
  for (let i = 0; i < 60; i++)
    for (const c of ['Gull', 'Tern'])
      data.push(
        RecordInputSchema.parse({
          kind: 'note',
          title: `${canary(i, c)} title`,
          body: `body of ${canary(i, c)}`,
          case: c,
          tags: [canary(i, c).toLowerCase()],
          capturedAt: new Date(DAY0 + i * 86_400_000 + 3_600_000 * (c === 'Gull' ? 9 : 15)).toISOString(),
        }),
      );
  const made = await insertRecords(issuer.custody.vault, data);
  made.forEach((m, k) => all.push({ id: m.id, day: Math.floor(k / 2), case: k % 2 === 0 ? 'Gull' : 'Tern', epochDay: dayOf(Math.floor(k / 2)) }));
}, 120_000);

afterAll(async () => {
  await issuer?.cleanup();
});

/** Every 32-byte key the package carries: day keys, record keys, attachment keys. */
function keysIn(body: ReturnType<typeof parseBody>): Buffer[] {
  return [...body.keys.epoch.map((k) => unb64(k.key)), ...body.keys.records.flatMap((r) => r.keys.map(unb64)), ...body.records.flatMap((r) => (r.attachments ?? []).map((a) => unb64(a.key)))];
}

/** Tries `key` as a day key and as a record key against one stored record; true if anything opens. */
function opens(key: Buffer, rec: { id: string; epochDay: string }): boolean {
  const row = issuer.custody.vault.db.sql.prepare('SELECT kind, captured_at, version, wrapped_dek, summary, content FROM record WHERE id = ?').get(rec.id) as { kind: string; captured_at: number; version: number; wrapped_dek: Buffer; summary: Buffer; content: Buffer };
  const vaultId = issuer.vaultId;
  const meta = { kind: row.kind, capturedAt: row.captured_at };
  const attempts = [
    () => unwrapKeys({ epochKey: () => key }, vaultId, rec.id, rec.epochDay, row.wrapped_dek),
    () => openSummary(key, vaultId, rec.id, row.version, meta, row.summary),
    () => openContent(key, vaultId, rec.id, row.version, meta, row.content),
  ];
  return attempts.some((f) => {
    try {
      f();
      return true;
    } catch {
      return false;
    }
  });
}

async function grantAndOpen(out: string, extra: { case?: string }) {
  const r = await disclose(issuer.custody, { to: [recipient], from: dayOf(10), until: dayOf(20), purpose: 'review of days 10-20', out, ...extra });
  const file = readFileSync(out);
  const plain = await decryptAgeLayer(file, [identity]);
  const body = parseBody(splitPackage(plain).body);
  const verified = verifyPackage(plain);
  return { r, plain, body, verified };
}

describe('a disclosure of days 10–20', () => {
  test('whole days: exactly those records, keys that open nothing else, no other day in any byte', async () => {
    const { r, plain, body, verified } = await grantAndOpen(join(issuer.dir, '..', 'days.age'), {});
    const expected = all.filter((x) => x.day >= 10 && x.day <= 20);
    expect(r.scope).toBe('days');
    expect(verified.records.map((x) => x.summary.id).sort()).toEqual(expected.map((x) => x.id).sort());
    expect(verified.records.every((x) => x.content.body.includes('CANARY-'))).toBe(true);
    // The epoch keys of exactly those days, taken from the keyring.
    expect(body.keys.epoch.map((k) => k.day)).toEqual(Array.from({ length: 11 }, (_, i) => dayOf(10 + i)));
    const keyring = issuer.custody.vault.keys();
    for (const k of body.keys.epoch) expect(unb64(k.key).equals(keyring.epochKey(k.day))).toBe(true);
    // Never the vault key or the epoch root, in any encoding.
    const text = plain.toString('latin1');
    for (const secret of [keyring.vaultKey, keyring.epochRoot, keyring.signingSeed]) {
      expect(plain.includes(secret)).toBe(false);
      expect(text.includes(secret.toString('base64'))).toBe(false);
      expect(text.includes(secret.toString('hex'))).toBe(false);
    }
    // Every key in the package against every record outside the grant: none opens.
    const others = all.filter((x) => x.day < 10 || x.day > 20);
    const keys = keysIn(body);
    expect(keys.length).toBe(11);
    for (const k of keys) for (const o of others) expect(opens(k, o), `a granted key opened record of day ${o.day}`).toBe(false);
    // No canary of another day in the decrypted package, nor in what it decrypts to.
    const opened = JSON.stringify(verified.records);
    for (const o of others) {
      expect(text.includes(canary(o.day, o.case))).toBe(false);
      expect(opened.includes(canary(o.day, o.case))).toBe(false);
    }
    for (const e of expected) expect(opened.includes(canary(e.day, e.case))).toBe(true);
  });

  test('narrowed to case Gull: only its records and their keys; the other case on the same days stays closed', async () => {
    const { r, plain, body, verified } = await grantAndOpen(join(issuer.dir, '..', 'gull.age'), { case: 'Gull' });
    const expected = all.filter((x) => x.day >= 10 && x.day <= 20 && x.case === 'Gull');
    expect(r.scope).toBe('records');
    expect(verified.records.map((x) => x.summary.id).sort()).toEqual(expected.map((x) => x.id).sort());
    expect(body.keys.epoch).toEqual([]);
    const keys = keysIn(body);
    expect(keys.length).toBe(expected.length);
    const others = all.filter((x) => !expected.some((e) => e.id === x.id));
    for (const k of keys) for (const o of others) expect(opens(k, o), `a granted key opened ${o.case} of day ${o.day}`).toBe(false);
    const text = plain.toString('latin1');
    const opened = JSON.stringify(verified.records);
    for (const o of others) {
      expect(text.includes(canary(o.day, o.case))).toBe(false);
      expect(opened.includes(canary(o.day, o.case))).toBe(false);
    }
    // The grant's own records do open, with their canaries.
    for (const e of expected) expect(opened.includes(canary(e.day, e.case))).toBe(true);
  });

  test('narrowed to listed records or a tag: exactly those; a listed record outside the days is refused', async () => {
    const picked = all.filter((x) => x.day === 12 || (x.day === 18 && x.case === 'Tern'));
    const out = join(issuer.dir, '..', 'picked.age');
    await disclose(issuer.custody, { to: [recipient], from: dayOf(10), until: dayOf(20), purpose: 'three records', records: picked.map((x) => x.id), out });
    const v = verifyPackage(await decryptAgeLayer(readFileSync(out), [identity]));
    expect(v.records.map((x) => x.summary.id).sort()).toEqual(picked.map((x) => x.id).sort());
    const byTag = all.find((x) => x.day === 15 && x.case === 'Gull')!;
    await disclose(issuer.custody, { to: [recipient], from: dayOf(10), until: dayOf(20), purpose: 'one tag', tags: [canary(15, 'Gull').toLowerCase()], out });
    expect(verifyPackage(await decryptAgeLayer(readFileSync(out), [identity])).records.map((x) => x.summary.id)).toEqual([byTag.id]);
    const outside = all.find((x) => x.day === 30)!;
    await expect(disclose(issuer.custody, { to: [recipient], from: dayOf(10), until: dayOf(20), purpose: 'x', records: [outside.id], out })).rejects.toThrow(/is not a record captured from/);
  });
});

describe('a record moved into the granted days', () => {
  test('moved from day 5 to day 12, grant of days 10–20: the day-5 version and its key are not in the package, as bytes or by decryption', async () => {
    const c = issuer.custody;
    const vaultId = issuer.vaultId;
    const secret = 'MOVED-FROM-DAY-05-c41b';
    const [made] = await insertRecords(c.vault, [RecordInputSchema.parse({ kind: 'note', title: 'a record that moves', body: `body ${secret}`, case: 'Gull', tags: [], capturedAt: new Date(DAY0 + 5 * 86_400_000 + 3_600_000).toISOString() })]);
    const id = made!.id;
    await c.updateRecord(id, 1, { capturedAt: new Date(DAY0 + 12 * 86_400_000 + 3_600_000).toISOString(), body: 'moved to day 12' });
    // A later edit on day 12 keeps the same chain: version 2 (day 12) is history a grant may carry.
    await c.updateRecord(id, 2, { body: 'now on day 12' });
    const sql = c.vault.db.sql;
    const keyring = c.vault.keys();
    // The vault's own chain keeps the day-5 key behind the new one: that is what must not leave.
    const row = sql.prepare('SELECT epoch_day, wrapped_dek FROM record WHERE id = ?').get(id) as { epoch_day: string; wrapped_dek: Buffer };
    expect(row.epoch_day).toBe(dayOf(12));
    const chain = unwrapKeys(keyring, vaultId, id, row.epoch_day, row.wrapped_dek);
    expect(chain.length).toBe(2);
    const day5Key = chain[1]!;
    const v1 = sql.prepare('SELECT kind, captured_at, epoch_day, wrapped_dek, summary, content FROM record_version WHERE record_id = ? AND version = 1').get(id) as { kind: string; captured_at: number; epoch_day: string; wrapped_dek: Buffer; summary: Buffer; content: Buffer };
    expect(v1.epoch_day).toBe(dayOf(5));
    const v1meta = { kind: v1.kind, capturedAt: v1.captured_at };
    // Sanity: the day-5 key does open the day-5 version in the vault.
    expect(openContent(day5Key, vaultId, id, 1, v1meta, v1.content).body).toContain(secret);

    for (const withHistory of [false, true]) {
      const out = join(issuer.dir, '..', `moved-${withHistory}.age`);
      await disclose(c, { to: [recipient], from: dayOf(10), until: dayOf(20), purpose: 'moved record', withHistory, out });
      const plain = await decryptAgeLayer(readFileSync(out), [identity]);
      const body = parseBody(splitPackage(plain).body);
      const verified = verifyPackage(plain);
      const mine = verified.records.find((x) => x.summary.id === id)!;
      expect(mine.content.body).toBe('now on day 12');
      // Raw bytes: neither the day-5 key (any encoding) nor the day-5 version's ciphertext or text.
      const text = plain.toString('latin1');
      expect(plain.includes(day5Key)).toBe(false);
      expect(text.includes(day5Key.toString('base64'))).toBe(false);
      expect(text.includes(day5Key.toString('hex'))).toBe(false);
      expect(plain.includes(v1.content)).toBe(false);
      expect(text.includes(v1.content.toString('base64'))).toBe(false);
      expect(text.includes(secret)).toBe(false);
      expect(JSON.stringify(verified.records).includes(secret)).toBe(false);
      const rec = body.records.find((x) => x.id === id)!;
      expect((rec.history ?? []).map((h) => h.version)).toEqual(withHistory ? [2] : []);
      // By decryption: every key the package yields (day keys, and every wrapped chain opened with
      // them) tried on the day-5 version's wrapped key and fields: nothing opens.
      const dayKeys = body.keys.epoch.map((k) => ({ day: k.day, key: unb64(k.key) }));
      const ring = { epochKey: (d: string) => dayKeys.find((k) => k.day === d)!.key };
      const yielded = [...dayKeys.map((k) => k.key)];
      for (const r of body.records)
        for (const w of [{ day: r.epochDay, wrapped: r.wrappedDek }, ...(r.history ?? []).map((h) => ({ day: h.epochDay, wrapped: h.wrappedDek }))]) {
          const ks = unwrapKeys(ring, vaultId, r.id, w.day, unb64(w.wrapped!));
          expect(ks.length).toBe(1);
          yielded.push(...ks);
        }
      expect(yielded.some((k) => k.equals(day5Key))).toBe(false);
      const tries = (k: Buffer) =>
        [() => unwrapKeys({ epochKey: () => k }, vaultId, id, v1.epoch_day, v1.wrapped_dek), () => openSummary(k, vaultId, id, 1, v1meta, v1.summary), () => openContent(k, vaultId, id, 1, v1meta, v1.content)].some((f) => {
          try {
            f();
            return true;
          } catch {
            return false;
          }
        });
      for (const k of yielded) expect(tries(k), 'a key from the package opened the day-5 version').toBe(false);
    }
  });
});
