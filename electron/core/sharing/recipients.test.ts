import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { newHybridIdentity } from './identity.ts';
import { addRecipient, listRecipients, removeRecipient, resolveRecipient } from './recipients.ts';

const NAME = 'Inspector Canarywood';
const NOTE = 'met at the harbour office, phone 0172-CANARYNOTE';
const vaultBytes = (dir: string) =>
  Buffer.concat(
    ['custody.db', 'custody.db-wal'].map((f) => {
      try {
        return readFileSync(join(dir, f));
      } catch {
        return Buffer.alloc(0);
      }
    }),
  );

describe('the address book', { timeout: 60_000 }, () => {
  let v: TempVault;
  beforeEach(async () => {
    v = await tempVault();
  });
  afterEach(() => v.cleanup());

  test('names and notes are sealed; add and remove are audited with the fingerprint only', async () => {
    const r = await newHybridIdentity();
    const { entry, warning } = await addRecipient(v.custody, { name: NAME, recipient: r.recipient, note: NOTE });
    expect(warning).toBeNull();
    expect(entry).toMatchObject({ name: NAME, note: NOTE, recipient: r.recipient, fingerprint: r.fingerprint, type: 'hybrid' });
    expect(await listRecipients(v.custody)).toEqual([entry]);
    await removeRecipient(v.custody, NAME.toUpperCase());
    expect(await listRecipients(v.custody)).toEqual([]);
    const entries = await v.custody.auditQuery({});
    const added = entries.find((e) => e.event === 'recipient.added')!;
    const removed = entries.find((e) => e.event === 'recipient.removed')!;
    expect(added.entry?.details).toEqual({ fingerprint: r.fingerprint, type: 'hybrid', postQuantum: true });
    expect(removed.entry?.details).toEqual({ fingerprint: r.fingerprint, type: 'hybrid' });
    expect(added.target).toBe(`recipient:${entry.id}`);
    await v.custody.lock();
    // Neither the name nor the note is anywhere in the clear: not in the table, not in the log.
    const bytes = vaultBytes(v.dir);
    for (const canary of ['Canarywood', 'CANARYNOTE', 'canarywood']) expect(bytes.includes(Buffer.from(canary))).toBe(false);
    await expect(listRecipients(v.custody)).rejects.toMatchObject({ code: 'LOCKED' });
  });

  test('names are unique (case-insensitive), a recipient is in the book once, bad names are refused', async () => {
    const a = await newHybridIdentity();
    const b = await newHybridIdentity();
    await addRecipient(v.custody, { name: 'Lawyer', recipient: a.recipient });
    await expect(addRecipient(v.custody, { name: ' lawyer ', recipient: b.recipient })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('name') });
    await expect(addRecipient(v.custody, { name: 'Other', recipient: a.recipient })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(a.fingerprint) });
    await expect(addRecipient(v.custody, { name: 'age1sneaky', recipient: b.recipient })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(addRecipient(v.custody, { name: 'bell\u0007', recipient: b.recipient })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(addRecipient(v.custody, { name: 'x'.repeat(81), recipient: b.recipient })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(addRecipient(v.custody, { name: 'Broken', recipient: b.recipient.slice(0, -1) })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(removeRecipient(v.custody, 'nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await listRecipients(v.custody)).map((e) => e.name)).toEqual(['Lawyer']);
    expect((await v.custody.auditQuery({ event: 'recipient.added' })).length).toBe(1);
  });

  test('a classical X25519 recipient only with allowClassical, with a warning that it is not post-quantum', async () => {
    const classical = await identityToRecipient(await generateX25519Identity());
    await expect(addRecipient(v.custody, { name: 'Old key', recipient: classical })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('not post-quantum') });
    expect(await listRecipients(v.custody)).toEqual([]);
    const { entry, warning } = await addRecipient(v.custody, { name: 'Old key', recipient: classical, allowClassical: true });
    expect(entry.type).toBe('x25519');
    expect(warning).toMatch(/not post-quantum/);
    // Sending to it needs the same consent again.
    await expect(resolveRecipient(v.custody, 'old key')).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('--allow-classical') });
    expect(await resolveRecipient(v.custody, 'old key', { allowClassical: true })).toMatchObject({ recipient: classical, postQuantum: false, fromAddressBook: true });
    await expect(resolveRecipient(v.custody, classical)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  test('resolveRecipient: a name from the book, or a recipient typed in (marked as from the book when it is there)', async () => {
    const inBook = await newHybridIdentity();
    const outside = await newHybridIdentity();
    await addRecipient(v.custody, { name: 'Supervisor', recipient: inBook.recipient });
    expect(await resolveRecipient(v.custody, 'SUPERVISOR')).toEqual({ recipient: inBook.recipient, fingerprint: inBook.fingerprint, type: 'hybrid', postQuantum: true, name: 'Supervisor', fromAddressBook: true });
    expect(await resolveRecipient(v.custody, inBook.recipient)).toMatchObject({ name: 'Supervisor', fromAddressBook: true });
    expect(await resolveRecipient(v.custody, outside.recipient)).toEqual({ recipient: outside.recipient, fingerprint: outside.fingerprint, type: 'hybrid', postQuantum: true, name: null, fromAddressBook: false });
    await expect(resolveRecipient(v.custody, 'Nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(resolveRecipient(v.custody, 'age1notarecipient')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  test('an entry changed through the folder (its fingerprint, or another row\'s sealed data) is refused', async () => {
    const a = await newHybridIdentity();
    const b = await newHybridIdentity();
    await addRecipient(v.custody, { name: 'Alpha', recipient: a.recipient });
    await addRecipient(v.custody, { name: 'Bravo', recipient: b.recipient });
    await v.custody.close();
    const db = new Database(join(v.dir, 'custody.db'));
    // The attacker makes "Alpha" resolve to Bravo's recipient by copying Bravo's sealed row.
    const bravo = db.prepare("SELECT sealed, fingerprint FROM recipient WHERE fingerprint = ?").get(b.fingerprint) as { sealed: Buffer };
    db.prepare('UPDATE recipient SET sealed = ? WHERE fingerprint = ?').run(bravo.sealed, a.fingerprint);
    db.close();
    const c = await v.reopen();
    await c.unlock(PASSWORD, { buildIndex: false });
    await expect(listRecipients(c)).rejects.toMatchObject({ code: 'TAMPERED' });
    await expect(resolveRecipient(c, 'Alpha')).rejects.toMatchObject({ code: 'TAMPERED' });
    await c.close();
    const db2 = new Database(join(v.dir, 'custody.db'));
    db2.prepare('UPDATE recipient SET fingerprint = ? WHERE fingerprint = ?').run('0000-0000-0000-0000-0000', b.fingerprint);
    db2.close();
    const c2 = await v.reopen();
    await c2.unlock(PASSWORD, { buildIndex: false });
    await expect(resolveRecipient(c2, 'Bravo')).rejects.toMatchObject({ code: 'TAMPERED' });
  });
});
