// Delivery of packages through a real PostgreSQL sync server: three analysts (issuer, reviewer,
// outsider), each with their own vault and login role. What an analyst could try with SQL of
// their own over their own connection is tried here too.
import { afterAll, beforeAll, expect, test } from 'vitest';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { describePg } from '../sync/testing/describePg.ts';
import { closeDevices, firstDevice, type Device } from '../sync/testing/devices.ts';
import { dumpServer, type TestServer } from '../sync/testing/pg.ts';
import { createVaultIdentity, decryptAgeFile, vaultIdentitySecrets } from './identity.ts';
import { fetchEnvelope, listEnvelopes, openEnvelope, publishIdentity, pushEnvelope, sendPackage, withDelivery, withdrawEnvelope } from './delivery.ts';
import { disclose } from './disclose.ts';
import { openIntoVault } from './received.ts';
import { tempDir } from '../testing/tempVault.ts';

const CANARY = 'CANARY-DELIVERY-7d1f';

describePg('delivery through the sync server', (testServer) => {
  let server: TestServer;
  let issuer: Device;
  let reviewer: Device;
  let outsider: Device;
  let reviewerRecipient: string;
  const sql: Record<string, pg.Client> = {};

  const sealFor = async (recipient: string, text: string) => {
    const e = new Encrypter();
    e.addRecipient(recipient);
    return e.encrypt(text);
  };
  const openWithVault = async (d: Device, pkg: Uint8Array) => Buffer.from(await decryptAgeFile(pkg, (await vaultIdentitySecrets(d.custody)).map((s) => s.identity))).toString();
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('the statement succeeded');
      },
      (e: { message: string }) => e.message,
    );

  beforeAll(async () => {
    server = testServer();
    const roles = await Promise.all([server.analyst(), server.analyst(), server.analyst()]);
    [issuer, reviewer, outsider] = [await firstDevice(roles[0]!.url, 'issuer'), await firstDevice(roles[1]!.url, 'reviewer'), await firstDevice(roles[2]!.url, 'outsider')];
    for (const [name, r] of [['issuer', roles[0]!], ['reviewer', roles[1]!], ['outsider', roles[2]!]] as const) {
      const c = new pg.Client({ connectionString: r.url });
      c.on('error', () => undefined);
      await c.connect();
      sql[name] = c;
    }
    reviewerRecipient = (await createVaultIdentity(reviewer.custody)).recipient;
    await createVaultIdentity(outsider.custody);
  }, 120_000);
  afterAll(async () => {
    for (const c of Object.values(sql)) await c.end().catch(() => undefined);
    await closeDevices();
  });

  test('push, list, fetch, open: only the issuer and the recipient see an envelope; its status events are appended; the opening is logged', async () => {
    // Not published yet: the server cannot address it.
    const pkg = await sealFor(reviewerRecipient, `the package ${CANARY}`);
    await expect(withDelivery(issuer.custody, (s) => pushEnvelope(issuer.custody, s, { package: pkg, recipients: [{ recipient: reviewerRecipient }] }))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('published') });
    expect(await withDelivery(reviewer.custody, (s) => publishIdentity(reviewer.custody, s))).toMatchObject({ published: true });
    expect(await withDelivery(reviewer.custody, (s) => publishIdentity(reviewer.custody, s))).toMatchObject({ published: false });
    // The outsider cannot publish the reviewer's recipient as their own.
    expect(await refusal(sql.outsider!.query("INSERT INTO custody.reviewer_key (recipient_sha256, fingerprint, recipient, owner) SELECT md5('x') || md5('y'), 'f', 'age1x', $1", [await issuerRole()]))).toMatch(/row-level security/);

    const [sent] = await withDelivery(issuer.custody, (s) => pushEnvelope(issuer.custody, s, { package: pkg, recipients: [{ recipient: reviewerRecipient }] }));
    const inbox = await withDelivery(reviewer.custody, (s) => listEnvelopes(reviewer.custody, s, 'inbox'));
    expect(inbox).toEqual([expect.objectContaining({ id: sent!.id, direction: 'received', status: 'pending', recipientFingerprint: sent!.fingerprint, size: pkg.length })]);

    // The outsider sees nothing of it, whatever SQL they write, and cannot change its status.
    expect(await withDelivery(outsider.custody, (s) => listEnvelopes(outsider.custody, s, 'inbox'))).toEqual([]);
    for (const t of ['envelope', 'envelope_event', 'envelope_open']) expect((await sql.outsider!.query(`SELECT count(*)::int AS n FROM custody.${t}`)).rows[0].n, t).toBe(0);
    expect(await refusal(sql.outsider!.query("INSERT INTO custody.envelope_event (envelope_id, status) VALUES ($1, 'withdrawn')", [sent!.id]))).toMatch(/no envelope|may not/);
    expect(await refusal(sql.outsider!.query('INSERT INTO custody.envelope_open (envelope_id, success) VALUES ($1, true)', [sent!.id]))).toMatch(/row-level security/);
    // The recipient cannot withdraw it, nor rewrite or delete its history.
    expect(await refusal(sql.reviewer!.query("INSERT INTO custody.envelope_event (envelope_id, status) VALUES ($1, 'withdrawn')", [sent!.id]))).toMatch(/may not go from pending to withdrawn/);
    expect(await refusal(sql.reviewer!.query("UPDATE custody.envelope_event SET status = 'opened' WHERE envelope_id = $1", [sent!.id]))).toMatch(/permission denied|append-only/);
    expect(await refusal(sql.issuer!.query('DELETE FROM custody.envelope WHERE id = $1', [sent!.id]))).toMatch(/permission denied|append-only/);
    expect(await refusal(sql.issuer!.query("UPDATE custody.envelope SET expires_at = now() + interval '1 year' WHERE id = $1", [sent!.id]))).toMatch(/permission denied|append-only/);

    const text = await withDelivery(reviewer.custody, (s) => openEnvelope(reviewer.custody, s, sent!.id, (bytes) => openWithVault(reviewer, bytes)));
    expect(text).toBe(`the package ${CANARY}`);
    const [seen] = await withDelivery(issuer.custody, (s) => listEnvelopes(issuer.custody, s, 'sent'));
    expect(seen!.events.map((e) => e.status)).toEqual(['pending', 'delivered', 'opened']);
    expect(seen!.status).toBe('opened');
    expect(seen!.openedAt).toBe(seen!.events[2]!.at);
    expect(seen!.openAttempts).toEqual([expect.objectContaining({ success: true, actor: seen!.recipientRole })]);
    // Opened is final: no withdrawal after it.
    await expect(withDelivery(issuer.custody, (s) => withdrawEnvelope(issuer.custody, s, sent!.id))).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already opened') });

    // The server holds the age file, never the plaintext.
    expect(await dumpServer(server.admin)).not.toContain(CANARY);
    // Both sides' own logs: the issuer's push (fingerprint and package hash), the reviewer's fetch.
    const pushed = await issuer.custody.auditQuery({ event: 'envelope.pushed' });
    expect(pushed[0]?.entry).toMatchObject({ target: `envelope:${sent!.id}`, details: { fingerprint: sent!.fingerprint, packageSha256: seen!.packageSha256 } });
    expect((await reviewer.custody.auditQuery({ event: 'envelope.fetched' }))[0]?.target).toBe(`envelope:${sent!.id}`);
  });

  test('a withdrawn envelope can no longer be fetched; a failed opening is logged and leaves it unopened', async () => {
    const pkg = await sealFor(reviewerRecipient, 'to be withdrawn');
    const [a, b] = await withDelivery(issuer.custody, async (s) => [
      ...(await pushEnvelope(issuer.custody, s, { package: pkg, recipients: [{ recipient: reviewerRecipient }] })),
      ...(await pushEnvelope(issuer.custody, s, { package: Buffer.from('not an age file'), recipients: [{ recipient: reviewerRecipient }] })),
    ]);
    await withDelivery(issuer.custody, (s) => withdrawEnvelope(issuer.custody, s, a!.id));
    await expect(withDelivery(issuer.custody, (s) => withdrawEnvelope(issuer.custody, s, a!.id))).rejects.toMatchObject({ code: 'CONFLICT' });
    const inbox = await withDelivery(reviewer.custody, (s) => listEnvelopes(reviewer.custody, s, 'inbox'));
    expect(inbox.map((e) => e.id)).not.toContain(a!.id);
    await expect(withDelivery(reviewer.custody, (s) => fetchEnvelope(reviewer.custody, s, a!.id))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await sql.reviewer!.query('SELECT count(*)::int AS n FROM custody.envelope WHERE id = $1', [a!.id])).rows[0].n).toBe(0);
    expect((await issuer.custody.auditQuery({ event: 'envelope.withdrawn' }))[0]?.target).toBe(`envelope:${a!.id}`);

    await expect(withDelivery(reviewer.custody, (s) => openEnvelope(reviewer.custody, s, b!.id, (bytes) => openWithVault(reviewer, bytes)))).rejects.toMatchObject({ code: 'TAMPERED' });
    const sent = await withDelivery(issuer.custody, (s) => listEnvelopes(issuer.custody, s, 'sent'));
    const failed = sent.find((e) => e.id === b!.id)!;
    expect(failed.status).toBe('delivered');
    expect(failed.openAttempts).toEqual([expect.objectContaining({ success: false })]);
    expect(sent.find((e) => e.id === a!.id)!.events.map((e) => e.status)).toEqual(['pending', 'withdrawn']);
  });

  test('expiry: an envelope past its time is hidden from the recipient and recorded as expired; one already expired is refused', async () => {
    const pkg = await sealFor(reviewerRecipient, 'expires');
    await expect(withDelivery(issuer.custody, (s) => pushEnvelope(issuer.custody, s, { package: pkg, recipients: [{ recipient: reviewerRecipient }], expiresAt: '2000-01-02T00:00:00Z' }))).rejects.toThrow(/already expired/);
    const [e] = await withDelivery(issuer.custody, (s) => pushEnvelope(issuer.custody, s, { package: pkg, recipients: [{ recipient: reviewerRecipient }], expiresAt: new Date(Date.now() + 86_400_000).toISOString() }));
    expect((await withDelivery(reviewer.custody, (s) => listEnvelopes(reviewer.custody, s, 'inbox'))).map((x) => x.id)).toContain(e!.id);
    // Time passes (the server operator moves the expiry into the past, triggers off for the session).
    await server.admin.query("SET session_replication_role = replica; UPDATE custody.envelope SET expires_at = now() - interval '1 minute' WHERE id = '" + e!.id + "'; SET session_replication_role = origin;");
    expect((await withDelivery(reviewer.custody, (s) => listEnvelopes(reviewer.custody, s, 'inbox'))).map((x) => x.id)).not.toContain(e!.id);
    await expect(withDelivery(reviewer.custody, (s) => fetchEnvelope(reviewer.custody, s, e!.id))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const sent = await withDelivery(issuer.custody, (s) => listEnvelopes(issuer.custody, s, 'sent'));
    expect(sent.find((x) => x.id === e!.id)!.events.map((x) => x.status)).toEqual(['pending', 'expired']);
    // The recipient cannot mark it opened after its time either.
    expect(await refusal(sql.reviewer!.query("INSERT INTO custody.envelope_event (envelope_id, status) VALUES ($1, 'opened')", [e!.id]))).toMatch(/expired already|may not/);
  });

  test('a package this vault issued is delivered to its grant\'s recipients and opened into the reviewer\'s received area; any other file is refused', async () => {
    await issuer.custody.createRecord({ kind: 'note', title: 'Delivered record', body: `inside ${CANARY}`, capturedAt: '2026-03-03T08:00:00Z' });
    const out = join(tempDir(), 'grant.age');
    const issued = await disclose(issuer.custody, { to: [reviewerRecipient], from: '2026-03-03', until: '2026-03-03', purpose: 'delivery test', expires: new Date(Date.now() + 7 * 86_400_000).toISOString(), out });
    const pkg = readFileSync(out);
    await expect(withDelivery(issuer.custody, (s) => sendPackage(issuer.custody, s, Buffer.concat([pkg, Buffer.from('x')])))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('not a disclosure package this vault issued') });
    const sent = await withDelivery(issuer.custody, (s) => sendPackage(issuer.custody, s, pkg));
    expect(sent.grantId).toBe(issued.grantId);
    const [env] = sent.envelopes;
    const listed = (await withDelivery(reviewer.custody, (s) => listEnvelopes(reviewer.custody, s, 'inbox'))).find((e) => e.id === env!.id)!;
    expect(listed.expiresAt).toBe(issued.expiresAt);
    const opened = await withDelivery(reviewer.custody, (s) => openEnvelope(reviewer.custody, s, env!.id, (bytes) => openIntoVault(reviewer.custody, bytes)));
    expect(opened.grant.grantId).toBe(issued.grantId);
    expect(opened.records.map((r) => r.title)).toEqual(['Delivered record']);
    const after = (await withDelivery(issuer.custody, (s) => listEnvelopes(issuer.custody, s, 'sent'))).find((e) => e.id === env!.id)!;
    expect(after.status).toBe('opened');
  });

  async function issuerRole(): Promise<string> {
    return (await sql.issuer!.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u;
  }
});
