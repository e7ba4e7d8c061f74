// Opening a disclosure in a reviewer's vault (issue 11): verified, imported into the read-only
// received area, audited on both sides; and every tampering refused with a clear message and an
// audit entry on the reviewer's side: a changed byte anywhere, a statement signed by another key,
// a proof that does not match, an expired grant. Real vaults, real age files, real signatures.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Encrypter, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { generateEd25519 } from '../crypto/ed25519.ts';
import { signNote } from '../audit/tlog/note.ts';
import { deviceKeyName } from '../audit/checkpoints.ts';
import { tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { disclose, listGrants, showGrant } from './disclose.ts';
import { acknowledge, importAcknowledgement } from './acknowledgement.ts';
import { decryptAgeLayer, openPackage } from './openDisclosure.ts';
import { encodePackage, parseBody, sha256Hex, splitPackage } from './packageFormat.ts';
import { formatStatement, parseStatement, deviceVkey } from './grantStatement.ts';
import { listReceived, openIntoVault, openReceivedAttachment, showReceived, viewReceivedRecord } from './received.ts';

let issuer: TempVault;
let reviewer: TempVault;
let identity: string;
let recipient: string;
let pkgPath: string;
let pkg: Buffer;
let recordIds: string[];
let attachmentId: string;
const work = tempDir('custody-disclosure-');
const idFile = () => new TextEncoder().encode(`${identity}\n`);

beforeAll(async () => {
  issuer = await tempVault();
  reviewer = await tempVault();
  identity = await generateHybridIdentity();
  recipient = await identityToRecipient(identity);
  const c = issuer.custody;
  const a = await c.createRecord({ kind: 'note', title: 'Harbour log', body: 'seen at 09:00', case: 'Gull', capturedAt: '2026-03-03T09:00:00Z' });
  const b = await c.createRecord({ kind: 'note', title: 'Second', body: 'edited later', case: 'Gull', capturedAt: '2026-03-04T10:00:00Z' });
  await c.updateRecord(b.id, 1, { body: 'edited, version 2' });
  await c.createRecord({ kind: 'note', title: 'Outside', body: 'not granted', capturedAt: '2026-03-12T10:00:00Z' });
  const file = join(work, 'photo.txt');
  writeFileSync(file, 'attachment bytes of the harbour');
  attachmentId = (await c.addAttachment(a.id, file)).id;
  recordIds = [a.id, b.id];
  pkgPath = join(work, 'grant.age');
  await disclose(c, { to: [recipient], from: '2026-03-03', until: '2026-03-09', purpose: 'supervisor review', withAttachments: true, withHistory: true, expires: '2099-01-01', out: pkgPath });
  pkg = readFileSync(pkgPath);
}, 120_000);

afterAll(async () => {
  await issuer?.cleanup();
  await reviewer?.cleanup();
});

async function refusals(): Promise<{ reason: unknown; target: string | null }[]> {
  const rows = await reviewer.custody.auditQuery({ event: 'grant.open_refused', limit: 100 });
  return rows.map((r) => ({ reason: r.entry?.details.reason, target: r.target }));
}

/** Opens `bytes` in the reviewer's vault; returns the error and the refusal entry it left. */
async function refused(bytes: Uint8Array, opts: { now?: Date } = {}): Promise<{ message: string; reason: unknown; target: string | null }> {
  const before = (await refusals()).length;
  const err = await openIntoVault(reviewer.custody, bytes, { identityFile: idFile(), ...opts }).then(
    () => {
      throw new Error('the package was accepted');
    },
    (e: Error) => e,
  );
  const after = await refusals();
  expect(after.length).toBe(before + 1);
  return { message: err.message, ...after[0]! };
}

/** Re-encrypts a changed plaintext to the same recipient (anyone can: the recipient is public). */
async function reencrypt(plain: Uint8Array): Promise<Uint8Array> {
  const e = new Encrypter();
  e.addRecipient(recipient);
  return e.encrypt(plain);
}

describe('opening a disclosure', () => {
  test('verified, imported into the received area, viewed and acknowledged, audited on both sides', async () => {
    const r = await openIntoVault(reviewer.custody, pkg, { identityFile: idFile() });
    expect(r.records.map((x) => x.id).sort()).toEqual([...recordIds].sort());
    expect(r.grant.purpose).toBe('supervisor review');
    expect(r.grant.expired).toBe(false);
    expect(r.attachments).toBe(1);
    const grantId = r.grant.grantId;
    expect(listReceived(reviewer.custody).map((g) => g.grantId)).toEqual([grantId]);
    // Kept apart from the reviewer's own records.
    expect(await reviewer.custody.list()).toEqual([]);
    expect(showReceived(reviewer.custody, grantId).records).toHaveLength(2);

    const view = await viewReceivedRecord(reviewer.custody, grantId, recordIds[1]!);
    expect(view.record.body).toBe('edited, version 2');
    expect(view.history.map((h) => h.record.body)).toEqual(['edited later']);
    expect(view.audit.some((e) => e.entry?.includes('"record.updated"'))).toBe(true);
    const dest = join(work, 'opened.txt');
    await openReceivedAttachment(reviewer.custody, grantId, attachmentId, dest);
    expect(readFileSync(dest, 'utf8')).toBe('attachment bytes of the harbour');

    const events = (await reviewer.custody.auditQuery({ event: 'grant.', limit: 50, order: 'asc' })).map((e) => [e.event, e.target, e.success]);
    expect(events).toEqual([
      ['grant.opened', `grant:${grantId}`, true],
      ['grant.record_viewed', `grant:${grantId}`, true],
      ['grant.attachment_opened', `grant:${grantId}`, true],
    ]);

    // Acknowledgement: signed by the reviewer, imported and audited by the issuer.
    const ackPath = join(work, 'ack.txt');
    await acknowledge(reviewer.custody, grantId, ackPath);
    const ack = await importAcknowledgement(issuer.custody, readFileSync(ackPath, 'utf8'));
    expect(ack.grantId).toBe(grantId);
    expect(showGrant(issuer.custody, grantId).acknowledgements).toHaveLength(1);
    const issued = await issuer.custody.auditQuery({ event: 'grant.', limit: 50, order: 'asc' });
    expect(issued.map((e) => e.event)).toEqual(['grant.issued', 'grant.ack_imported']);
    // No analyst text in the clear on either side: purpose and case name stay out of the log.
    for (const side of [issuer, reviewer]) {
      const log = JSON.stringify(await side.custody.auditQuery({ limit: 1000 }));
      expect(log).not.toContain('supervisor review');
      expect(log).not.toContain('Gull');
    }
    expect(listGrants(issuer.custody)[0]!.purpose).toBe('supervisor review');

    // An acknowledgement altered after signing is refused.
    const forged = readFileSync(ackPath, 'utf8').replace(/acknowledged \S+/, 'acknowledged 2020-01-01T00:00:00.000Z');
    await expect(importAcknowledgement(issuer.custody, forged)).rejects.toThrow(/signature does not verify/);
  });

  test('a changed byte anywhere in the file is refused, with an entry on the reviewer side', async () => {
    const header = pkg.indexOf('\n---') + 10;
    for (const at of [5, 40, 300, header - 2, header + 20, Math.floor(pkg.length / 2), pkg.length - 1]) {
      const bad = Buffer.from(pkg);
      bad[at]! ^= 0x01;
      const r = await refused(bad);
      expect(r.reason, `byte ${at}`).toBe('undecryptable');
      expect(r.message).toMatch(/does not open|damaged|not addressed/);
    }
  });

  test('a changed byte in the content, re-encrypted to the recipient, is refused by the signed content hash', async () => {
    const plain = await decryptAgeLayer(pkg, [identity]);
    const { statement, body } = splitPackage(plain);
    const at = body.indexOf('"summary":"') + 15;
    const changed = Buffer.from(body);
    changed[at] = changed[at] === 0x41 ? 0x42 : 0x41;
    const r = await refused(await reencrypt(encodePackage(statement, changed)));
    expect(r.reason).toBe('content');
    expect(r.message).toMatch(/does not match its signed grant statement/);
    expect(r.target).toMatch(/^grant:/);
  });

  test('a grant statement signed by another key is refused', async () => {
    const plain = await decryptAgeLayer(pkg, [identity]);
    const { statement, body } = splitPackage(plain);
    const st = parseStatement(statement.slice(0, statement.lastIndexOf('\n\n') + 1));
    const other = generateEd25519();
    const name = deviceKeyName(st.issuerVaultId, 'forger');
    // Same statement, another signer under the issuer's name: the signature does not verify.
    const sameName = deviceKeyName(st.issuerVaultId, /\/device\/([^+]+)\+/.exec(st.issuerKey)![1]!);
    const r1 = await refused(await reencrypt(encodePackage(signNote(formatStatement(st), [{ name: sameName, privateKey: other.seed }]), body)));
    expect(r1.reason).toBe('signature');
    expect(r1.message).toMatch(/signature does not verify|no signature from a trusted key/);
    // The forger names their own key: the statement verifies, but the issuer's signed checkpoint does not.
    const forged = { ...st, issuerKey: deviceVkey(st.issuerVaultId, 'forger', other.publicKey) };
    const r2 = await refused(await reencrypt(encodePackage(signNote(formatStatement(forged), [{ name, privateKey: other.seed }]), body)));
    expect(r2.reason).toBe('checkpoint');
    expect(r2.message).toMatch(/checkpoint does not verify with the issuer's device key/);
  });

  test('a proof that does not match the signed checkpoint is refused (even under a valid signature)', async () => {
    const plain = await decryptAgeLayer(pkg, [identity]);
    const { statement, body } = splitPackage(plain);
    const parsed = parseBody(body);
    const e = parsed.audit.entries.find((x) => x.proof.length > 0)!;
    // One hash of its path changed (a new node, so the other entries' proofs stay intact).
    const h = Buffer.from(parsed.audit.nodes[e.proof[0]!]!, 'base64');
    h[0]! ^= 0xff;
    e.proof[0] = parsed.audit.nodes.push(h.toString('base64')) - 1;
    const newBody = Buffer.from(JSON.stringify(parsed));
    const st = parseStatement(statement.slice(0, statement.lastIndexOf('\n\n') + 1));
    // Signed by the real issuer key: only the proof is wrong.
    const keys = issuer.custody.vault.keys();
    const note = signNote(formatStatement({ ...st, contentSha256: sha256Hex(newBody) }), [{ name: deviceKeyName(issuer.vaultId, issuer.custody.vault.meta.deviceId), privateKey: keys.signingSeed }]);
    const r = await refused(await reencrypt(encodePackage(note, newBody)));
    expect(r.reason).toBe('proof');
    expect(r.message).toMatch(new RegExp(`audit entry ${e.seq} is not in the issuer's signed log`));
  });

  test('an expired grant cannot be opened, and received material is shown expired and not opened after its expiry', async () => {
    const r = await refused(pkg, { now: new Date('2099-01-02T00:00:00Z') });
    expect(r.reason).toBe('expired');
    expect(r.message).toMatch(/expired at 2099-01-01T23:59:59.999Z/);
    // Received before expiry, then looked at after it.
    const later = new Date('2099-06-01T00:00:00Z');
    const grantId = listReceived(reviewer.custody)[0]!.grantId;
    expect(listReceived(reviewer.custody, later)[0]!.expired).toBe(true);
    expect(showReceived(reviewer.custody, grantId, later).records).toEqual([]);
    await expect(viewReceivedRecord(reviewer.custody, grantId, recordIds[0]!, later)).rejects.toThrow(/expired/);
    const last = (await reviewer.custody.auditQuery({ event: 'grant.record_viewed', limit: 1 }))[0]!;
    expect([last.success, last.entry?.details.reason]).toEqual([false, 'expired']);
  });

  test('without a vault: an identity alone opens and verifies it', async () => {
    const v = await openPackage(pkg, [identity]);
    expect(v.records).toHaveLength(2);
    expect(v.statement.recipients.map((x) => x.recipient)).toEqual([recipient]);
    const other = await generateHybridIdentity();
    await expect(openPackage(pkg, [other])).rejects.toThrow(/not addressed to your identity/);
  });
});
