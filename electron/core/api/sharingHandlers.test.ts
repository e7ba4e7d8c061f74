// The desktop's sharing calls over the IPC contract, two vaults against a real PostgreSQL:
// identity, address book, a disclosure issued and delivered, the envelope opened into the
// reviewer's received area, seen opened by the issuer, withdrawal before and after opening.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Envelope, Method, RequestOf, Responses } from '../../shared/contract.ts';
import { PASSWORD, tempDir } from '../testing/tempVault.ts';
import { describePg } from '../sync/testing/describePg.ts';
import { createCore, type CoreApi } from './handlers.ts';
import { settingsFileFor } from './settings.ts';

const cores: CoreApi[] = [];
let root: string | undefined;
afterEach(async () => {
  for (const c of cores.splice(0)) await c.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function newCore(dir: string) {
  const core = createCore({ vaultDir: dir, settingsFile: settingsFileFor(dir), emit: () => undefined, nativeDialogs: false, shell: 'web', appVersion: 't' });
  cores.push(core);
  const call = <M extends Method>(m: M, r: RequestOf<M>) => core.invoke(m, r) as Promise<Envelope<Responses[M]>>;
  const ok = async <M extends Method>(m: M, r: RequestOf<M>): Promise<Responses[M]> => {
    const env = await call(m, r);
    if (!env.ok) throw new Error(`${m}: ${env.error.code} ${env.error.message}`);
    return env.value;
  };
  return { call, ok };
}

describePg('sharing over the IPC contract', (pg) => {
  it('issues and delivers a disclosure, opens the envelope into the received area; withdrawal only before it is opened', { timeout: 120_000 }, async () => {
    root = tempDir();
    const issuer = newCore(join(root, 'issuer'));
    const reviewer = newCore(join(root, 'reviewer'));
    for (const side of [issuer, reviewer]) {
      await side.ok('vault.create', { password: PASSWORD, kdfTargetMs: 200 });
      await side.ok('vault.unlock', { password: PASSWORD });
      await side.ok('sync.configure', { url: (await pg().analyst()).url });
    }
    expect(await reviewer.ok('sharing.identity', {})).toBeNull();
    const identity = await reviewer.ok('sharing.createIdentity', {});
    expect(JSON.stringify(identity)).not.toContain('AGE-SECRET-KEY');
    expect(await reviewer.ok('sharing.identity', {})).toEqual(identity);
    await reviewer.ok('envelopes.publish', {});
    const added = await issuer.ok('sharing.addRecipient', { name: 'Reviewer', recipient: identity.recipient });
    expect(added).toMatchObject({ warning: null, entry: { fingerprint: identity.fingerprint } });
    expect(await issuer.ok('sharing.recipients', {})).toHaveLength(1);
    await issuer.ok('records.create', { kind: 'note', title: 'Delivered by IPC', capturedAt: '2026-03-03T08:00:00Z' });

    const issued = await issuer.ok('disclosures.issue', { to: ['Reviewer'], from: '2026-03-03', until: '2026-03-03', purpose: 'ipc delivery', deliver: true });
    expect(issued.records).toBe(1);
    expect(issued.data.byteLength).toBeGreaterThan(0);
    expect(issued.delivered).toEqual([{ id: expect.any(String), fingerprint: identity.fingerprint }]);
    const id = issued.delivered![0]!.id;
    expect((await reviewer.ok('envelopes.list', { box: 'inbox' })).map((e) => [e.id, e.status])).toEqual([[id, 'pending']]);
    const opened = await reviewer.ok('envelopes.open', { id });
    expect(opened).toMatchObject({ records: 1, grant: { grantId: issued.grantId, purpose: 'ipc delivery' } });
    expect((await reviewer.ok('disclosures.received', {})).map((g) => g.grantId)).toEqual([issued.grantId]);
    const [sent] = await issuer.ok('envelopes.list', { box: 'sent' });
    expect(sent).toMatchObject({ id, status: 'opened', openedAt: expect.any(String) });
    expect(await issuer.call('envelopes.withdraw', { id })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });

    // A second one, withdrawn before the reviewer opened it, can no longer be fetched.
    const again = await issuer.ok('disclosures.issue', { to: ['Reviewer'], from: '2026-03-03', until: '2026-03-03', purpose: 'to withdraw', deliver: true });
    await issuer.ok('envelopes.withdraw', { id: again.delivered![0]!.id });
    expect((await reviewer.ok('envelopes.list', { box: 'inbox' })).map((e) => e.id)).not.toContain(again.delivered![0]!.id);
    expect(await reviewer.call('envelopes.open', { id: again.delivered![0]!.id })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    // The policies and the address book through the same door.
    expect(await issuer.ok('sharing.setPolicy', { maxRangeDays: 1 })).toMatchObject({ changed: ['maxRangeDays'] });
    expect(await issuer.call('disclosures.issue', { to: ['Reviewer'], from: '2026-03-03', until: '2026-03-04', purpose: 'too wide' })).toMatchObject({ ok: false, error: { code: 'POLICY_REFUSED' } });
    await issuer.ok('sharing.removeRecipient', { fingerprint: identity.fingerprint });
    expect(await issuer.ok('sharing.recipients', {})).toEqual([]);
  });
});
