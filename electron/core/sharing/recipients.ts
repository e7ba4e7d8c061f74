// The address book (docs/sharing.md, "Address book"): reviewers' age recipients under names
// the analyst chooses. Names and notes are analyst text, so they are stored only sealed with a
// key derived from the vault key (table `recipient`, migration 0007); adding and removing are
// audit entries that name only the recipient's fingerprint.
//
// Post-quantum hybrid recipients (age1pq1…) are the norm. A classical X25519 recipient (age1…)
// is accepted only when the caller allows it (--allow-classical), with a warning that what is
// sent to it is not protected against a future quantum computer.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { CustodyError } from '../../shared/errors.ts';
import { RecipientNameSchema, RecipientNoteSchema, type RecipientView } from '../../shared/sharing.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { deriveKey, wipe } from '../crypto/keys.ts';
import { uuidv7 } from '../util/ids.ts';
import type { Custody } from '../custody.ts';
import { recipientFingerprint, recipientType, type RecipientType } from './identity.ts';

const SEAL_INFO = 'custody/recipients/v1';
const TAG_INFO = 'custody/recipient-name-tag/v1';
const sealAd = (vaultId: string, id: string) => ad('recipient', vaultId, id);
const Sealed = z.object({ name: z.string(), note: z.string(), recipient: z.string() }).strict();

/** The warning shown wherever a classical recipient is accepted. */
export const CLASSICAL_WARNING = 'this is a classical X25519 recipient (age1…), not post-quantum: a package sent to it could be opened by whoever records it today and has a quantum computer later';

/** A recipient a disclosure can be addressed to. */
export interface ResolvedRecipient {
  recipient: string;
  fingerprint: string;
  type: RecipientType;
  postQuantum: boolean;
  /** The address book name, when it came from the book. */
  name: string | null;
  fromAddressBook: boolean;
}

interface Row {
  id: string;
  name_tag: Buffer;
  fingerprint: string;
  type: RecipientType;
  sealed: Buffer;
  created_at: number;
}

/** Names compare case-insensitively, after Unicode normalisation and trimming. */
const normalName = (name: string) => name.trim().normalize('NFC').toLowerCase();

function withKeys<T>(custody: Custody, fn: (sealKey: Buffer, tagKey: Buffer) => T): T {
  const vk = custody.vault.keys().vaultKey;
  const sealKey = deriveKey(vk, SEAL_INFO);
  const tagKey = deriveKey(vk, TAG_INFO);
  try {
    return fn(sealKey, tagKey);
  } finally {
    wipe(sealKey, tagKey);
  }
}

const nameTag = (tagKey: Buffer, name: string) => createHmac('sha256', tagKey).update(normalName(name), 'utf8').digest();

function view(custody: Custody, sealKey: Buffer, tagKey: Buffer, row: Row): RecipientView {
  const plain = open(sealKey, row.sealed, sealAd(custody.vault.vaultId, row.id), 'an address book entry');
  const s = Sealed.parse(JSON.parse(plain.toString('utf8')));
  // The clear columns must agree with what was sealed: a row edited through the folder is refused.
  // The name tag too: swapped between two rows, a name would resolve to the other row's recipient.
  if (recipientFingerprint(s.recipient) !== row.fingerprint || recipientType(s.recipient) !== row.type || !nameTag(tagKey, s.name).equals(row.name_tag))
    throw new CustodyError('TAMPERED', `the address book entry ${row.id} was changed outside Custody`);
  return { id: row.id, name: s.name, note: s.note, recipient: s.recipient, fingerprint: row.fingerprint, type: row.type, createdAt: new Date(row.created_at).toISOString() };
}

function parseName(name: string): string {
  const r = RecipientNameSchema.safeParse(name);
  if (!r.success) throw new CustodyError('BAD_REQUEST', r.error.issues[0]!.message);
  return r.data;
}

/**
 * Adds a recipient under a name. Refuses a name or a recipient already in the book, a
 * classical recipient unless `allowClassical` (then `warning` says it is not post-quantum).
 */
export async function addRecipient(
  custody: Custody,
  input: { name: string; recipient: string; note?: string; allowClassical?: boolean },
): Promise<{ entry: RecipientView; warning: string | null }> {
  const name = parseName(input.name);
  const note = input.note ?? '';
  const n = RecipientNoteSchema.safeParse(note);
  if (!n.success) throw new CustodyError('BAD_REQUEST', n.error.issues[0]!.message);
  const recipient = input.recipient.trim();
  const type = recipientType(recipient);
  if (type === 'x25519' && !input.allowClassical) throw new CustodyError('BAD_REQUEST', `${CLASSICAL_WARNING}. Add it with --allow-classical if you accept that.`);
  const fingerprint = recipientFingerprint(recipient);
  const id = uuidv7();
  const now = Date.now();
  const vault = custody.vault;
  // Sealed before the write: the derived keys are wiped when withKeys returns.
  const { tag, sealed } = withKeys(custody, (sealKey, tagKey) => ({
    tag: nameTag(tagKey, name),
    sealed: seal(sealKey, Buffer.from(JSON.stringify({ name, note, recipient }), 'utf8'), sealAd(vault.vaultId, id)),
  }));
  await vault.db.writeSync(() => {
    if (vault.db.sql.prepare('SELECT 1 FROM recipient WHERE name_tag = ?').get(tag)) throw new CustodyError('CONFLICT', 'the address book already has a recipient of that name');
    if (vault.db.sql.prepare('SELECT 1 FROM recipient WHERE fingerprint = ?').get(fingerprint))
      throw new CustodyError('CONFLICT', `that recipient (fingerprint ${fingerprint}) is already in the address book under another name`);
    vault.db.sql.prepare('INSERT INTO recipient (id, name_tag, fingerprint, type, sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(id, tag, fingerprint, type, sealed, now);
    vault.audit.appendSync(vault.meta, [{ event: 'recipient.added', target: `recipient:${id}`, details: { fingerprint, type, postQuantum: type === 'hybrid' } }]);
  });
  return { entry: { id, name, note, recipient, fingerprint, type, createdAt: new Date(now).toISOString() }, warning: type === 'x25519' ? CLASSICAL_WARNING : null };
}

/** The address book, sorted by name. */
export async function listRecipients(custody: Custody): Promise<RecipientView[]> {
  const rows = custody.vault.db.sql.prepare('SELECT * FROM recipient').all() as Row[];
  const out = withKeys(custody, (sealKey, tagKey) => rows.map((r) => view(custody, sealKey, tagKey, r)));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The entry of a name (case-insensitive) or of a fingerprint, or null. */
export async function findRecipient(custody: Custody, nameOrFingerprint: string): Promise<RecipientView | null> {
  const key = nameOrFingerprint.trim();
  return withKeys(custody, (sealKey, tagKey) => {
    const row = (custody.vault.db.sql.prepare('SELECT * FROM recipient WHERE name_tag = ? OR fingerprint = ?').get(nameTag(tagKey, key), key.toLowerCase()) as Row | undefined) ?? null;
    return row ? view(custody, sealKey, tagKey, row) : null;
  });
}

/** Removes an entry by name or fingerprint; audited with its fingerprint. */
export async function removeRecipient(custody: Custody, nameOrFingerprint: string): Promise<RecipientView> {
  const entry = await findRecipient(custody, nameOrFingerprint);
  if (!entry) throw new CustodyError('NOT_FOUND', 'no recipient of that name or fingerprint in the address book');
  const vault = custody.vault;
  await vault.db.writeSync(() => {
    const gone = vault.db.sql.prepare('DELETE FROM recipient WHERE id = ?').run(entry.id);
    if (gone.changes !== 1) throw new CustodyError('NOT_FOUND', 'the recipient was removed meanwhile');
    vault.audit.appendSync(vault.meta, [{ event: 'recipient.removed', target: `recipient:${entry.id}`, details: { fingerprint: entry.fingerprint, type: entry.type } }]);
  });
  return entry;
}

/**
 * What `--to NAME|RECIPIENT` means: a name in the address book (case-insensitive), else an age
 * recipient given directly. Classical recipients, from the book or not, need `allowClassical`.
 * Whether recipients must come from the book is a policy, checked by enforcePolicy.
 */
export async function resolveRecipient(custody: Custody, nameOrRecipient: string, opts: { allowClassical?: boolean } = {}): Promise<ResolvedRecipient> {
  const given = nameOrRecipient.trim();
  let out: ResolvedRecipient;
  if (/^age1/.test(given)) {
    const type = recipientType(given);
    const fingerprint = recipientFingerprint(given);
    // A recipient typed in that is also in the book counts as from the book.
    const entry = await findRecipient(custody, fingerprint);
    out = { recipient: given, fingerprint, type, postQuantum: type === 'hybrid', name: entry?.name ?? null, fromAddressBook: entry !== null };
  } else {
    const entry = await findRecipient(custody, parseName(given));
    if (!entry) throw new CustodyError('NOT_FOUND', 'no recipient of that name in the address book ("custody recipients list" shows them)');
    out = { recipient: entry.recipient, fingerprint: entry.fingerprint, type: entry.type, postQuantum: entry.type === 'hybrid', name: entry.name, fromAddressBook: true };
  }
  if (!out.postQuantum && !opts.allowClassical) throw new CustodyError('BAD_REQUEST', `recipient ${out.fingerprint}: ${CLASSICAL_WARNING}. Pass --allow-classical to send to it anyway.`);
  return out;
}

/** A vault key rotation (keys/rewrap.ts): every entry re-sealed and re-tagged under the new key, inside its transaction. */
export function rewrapAddressBook(sql: import('better-sqlite3').Database, vaultId: string, oldVk: Buffer, newVk: Buffer): number {
  const [oldSeal, newSeal, newTag] = [deriveKey(oldVk, SEAL_INFO), deriveKey(newVk, SEAL_INFO), deriveKey(newVk, TAG_INFO)];
  try {
    const rows = sql.prepare('SELECT id, sealed FROM recipient').all() as { id: string; sealed: Buffer }[];
    const update = sql.prepare('UPDATE recipient SET sealed = ?, name_tag = ? WHERE id = ?');
    for (const r of rows) {
      const plain = open(oldSeal, r.sealed, sealAd(vaultId, r.id), 'an address book entry');
      const { name } = Sealed.parse(JSON.parse(plain.toString('utf8')));
      update.run(seal(newSeal, plain, sealAd(vaultId, r.id)), nameTag(newTag, name), r.id);
      wipe(plain);
    }
    return rows.length;
  } finally {
    wipe(oldSeal, newSeal, newTag);
  }
}
