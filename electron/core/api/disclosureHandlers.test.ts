// The disclosure calls of disclosureHandlers.ts over the IPC contract, between two real vaults:
// an issuer discloses a day with an attachment to the reviewer's identity; the reviewer opens
// it, reads the attachment's bytes (audited), acknowledges; the issuer imports the
// acknowledgement. A path from the window, an unknown grant or garbage are refused.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Envelope, Method, RequestOf, Responses } from '../../shared/contract.ts';
import { PASSWORD, tempDir } from '../testing/tempVault.ts';
import { createCore, type CoreApi } from './handlers.ts';
import { settingsFileFor } from './settings.ts';

const cores: CoreApi[] = [];
let root: string | undefined;
afterEach(async () => {
  for (const c of cores.splice(0)) await c.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function open(dir: string) {
  const core = createCore({ vaultDir: dir, settingsFile: settingsFileFor(dir), emit: () => undefined, nativeDialogs: false, shell: 'web', appVersion: 't' });
  cores.push(core);
  const call = <M extends Method>(m: M, r: RequestOf<M>) => core.invoke(m, r) as Promise<Envelope<Responses[M]>>;
  const ok = async <M extends Method>(m: M, r: RequestOf<M>): Promise<Responses[M]> => {
    const env = await call(m, r);
    if (!env.ok) throw new Error(`${m}: ${env.error.code} ${env.error.message}`);
    return env.value;
  };
  await ok('vault.create', { password: PASSWORD });
  await ok('vault.unlock', { password: PASSWORD });
  return { call, ok };
}

it('a received attachment read, an acknowledgement made and imported; paths and garbage refused', async () => {
  root = tempDir();
  const issuer = await open(join(root, 'issuer'));
  const reviewer = await open(join(root, 'reviewer'));
  const { recipient } = await reviewer.ok('sharing.createIdentity', {});
  const rec = await issuer.ok('records.create', { kind: 'note', title: 'Quay', body: 'seen', capturedAt: '2026-03-04T09:00:00Z' });
  const photo = new TextEncoder().encode('photo bytes');
  await issuer.ok('attachments.addBytes', { recordId: rec.id, name: 'quay.txt', data: photo });
  const issued = await issuer.ok('disclosures.issue', { to: [recipient], from: '2026-03-04', until: '2026-03-04', purpose: 'review', withAttachments: true });
  const opened = await reviewer.ok('disclosures.open', { data: new Uint8Array(issued.data!) });
  const grantId = opened.grant.grantId;
  const view = await reviewer.ok('disclosures.viewReceived', { grantId, recordId: rec.id });
  const att = view.attachments[0]!;

  const got = await reviewer.ok('disclosures.receivedAttachment', { grantId, attachmentId: att.id });
  expect(got).toMatchObject({ name: 'quay.txt', mediaType: 'text/plain' });
  expect(Buffer.from(got.data).toString()).toBe('photo bytes');
  const log = await reviewer.ok('audit.query', { event: 'grant.attachment_opened', limit: 5 });
  expect(log.map((e) => [e.target, e.entry?.details.attachment])).toEqual([[`grant:${grantId}`, att.id]]);

  const ack = await reviewer.ok('disclosures.acknowledge', { grantId });
  expect(Buffer.from(ack.data).toString()).toContain(`grant ${grantId}`);
  const imported = await issuer.ok('disclosures.importAck', { data: new Uint8Array(ack.data) });
  expect(imported).toMatchObject({ grantId, reviewerFingerprint: ack.reviewerFingerprint, again: false });
  expect((await issuer.ok('disclosures.issued', {}))[0]!.acknowledgements).toHaveLength(1);

  // Refused: a path from the window, a grant this vault did not receive, bytes that are no acknowledgement.
  expect(await reviewer.call('disclosures.receivedAttachment', { grantId, attachmentId: att.id, path: '/tmp/x' } as never)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  expect(await reviewer.call('disclosures.acknowledge', { grantId: rec.id })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  expect(await issuer.call('disclosures.importAck', { data: Uint8Array.of(0xff, 0xfe, 0x00) })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  expect(await issuer.call('disclosures.importAck', { data: new TextEncoder().encode('hello\n\n— x y\n') })).toMatchObject({ ok: false, error: { code: 'TAMPERED' } });
}, 120_000);
