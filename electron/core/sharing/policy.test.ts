import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DEFAULT_SHARING_POLICY } from '../../shared/sharing.ts';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { newHybridIdentity } from './identity.ts';
import { enforcePolicy, getPolicy, setPolicy, type DisclosureRequest } from './policy.ts';
import { addRecipient, resolveRecipient, type ResolvedRecipient } from './recipients.ts';

const PURPOSE = 'court order 17/CANARYPURPOSE';
const NOW = new Date('2026-03-20T12:00:00Z');

let v: TempVault;
let inBook: ResolvedRecipient;
let outside: ResolvedRecipient;

beforeAll(async () => {
  v = await tempVault();
  const a = await newHybridIdentity();
  const b = await newHybridIdentity();
  await addRecipient(v.custody, { name: 'Supervisor', recipient: a.recipient });
  inBook = await resolveRecipient(v.custody, 'Supervisor');
  outside = await resolveRecipient(v.custody, b.recipient);
}, 60_000);
afterAll(() => v.cleanup());

const ok = (over: Partial<DisclosureRequest> = {}): DisclosureRequest => ({
  recipients: [inBook],
  from: '2026-03-03',
  until: '2026-03-09',
  purpose: PURPOSE,
  classifications: ['internal'],
  expires: '2026-04-01',
  withAttachments: false,
  ...over,
});

/** Asserts the request is refused naming the policy, with a grant.refused entry that carries no analyst text. */
async function refused(request: DisclosureRequest, policy: string, label: string) {
  const before = (await v.custody.auditQuery({ event: 'grant.refused' })).length;
  await expect(enforcePolicy(v.custody, request, NOW)).rejects.toMatchObject({ code: 'POLICY_REFUSED', message: expect.stringContaining(`"${label}" (${policy})`) });
  const entries = await v.custody.auditQuery({ event: 'grant.refused' });
  expect(entries).toHaveLength(before + 1);
  const e = entries[0]!;
  expect(e.success).toBe(false);
  expect(e.entry?.details.policy).toBe(policy);
  expect(e.entry?.range).toEqual({ from: request.from, to: request.until });
  expect(JSON.stringify(e.entry)).not.toContain('CANARYPURPOSE');
  expect(JSON.stringify(e.entry)).not.toContain('Supervisor');
  return e.entry!.details;
}

describe('sharing policies', { timeout: 60_000 }, () => {
  beforeEach(async () => {
    await setPolicy(v.custody, { ...DEFAULT_SHARING_POLICY });
  });

  test('defaults: purpose required, everything else open', async () => {
    expect(await getPolicy(v.custody)).toEqual(DEFAULT_SHARING_POLICY);
    expect(await enforcePolicy(v.custody, ok({ recipients: [outside], from: '2020-01-01', until: '2026-03-09', classifications: ['restricted'], expires: null, withAttachments: true }), NOW)).toEqual(DEFAULT_SHARING_POLICY);
  });

  test('purpose required: a request without a purpose is refused and audited', async () => {
    await refused(ok({ purpose: '' }), 'purposeRequired', 'purpose required');
    await refused(ok({ purpose: '   ' }), 'purposeRequired', 'purpose required');
    await setPolicy(v.custody, { purposeRequired: false });
    await expect(enforcePolicy(v.custody, ok({ purpose: null }), NOW)).resolves.toMatchObject({ purposeRequired: false });
  });

  test('recipients only from the address book: a recipient typed in is refused', async () => {
    await setPolicy(v.custody, { addressBookOnly: true });
    const d = await refused(ok({ recipients: [inBook, outside] }), 'addressBookOnly', 'recipients only from the address book');
    expect(d).toMatchObject({ outside: 1, recipients: [inBook.fingerprint, outside.fingerprint] });
    await expect(enforcePolicy(v.custody, ok(), NOW)).resolves.toBeDefined();
  });

  test('maximum range in days: one day more than allowed is refused', async () => {
    await setPolicy(v.custody, { maxRangeDays: 7 });
    await expect(enforcePolicy(v.custody, ok({ from: '2026-03-03', until: '2026-03-09' }), NOW)).resolves.toBeDefined();
    const d = await refused(ok({ from: '2026-03-03', until: '2026-03-10' }), 'maxRangeDays', 'maximum range in days');
    expect(d).toMatchObject({ days: 8, limit: 7 });
  });

  test('maximum classification: records above it (or a filter above it) are refused', async () => {
    await setPolicy(v.custody, { maxClassification: 'confidential' });
    await expect(enforcePolicy(v.custody, ok({ classifications: ['public', 'confidential'] }), NOW)).resolves.toBeDefined();
    const d = await refused(ok({ classifications: ['internal', 'restricted'] }), 'maxClassification', 'maximum classification');
    expect(d).toMatchObject({ above: 'restricted', limit: 'confidential' });
    await refused(ok({ classifications: [], maxClassification: 'restricted' }), 'maxClassification', 'maximum classification');
  });

  test('maximum expiry: no expiry, or one too far away, is refused', async () => {
    await setPolicy(v.custody, { maxExpiryDays: 30 });
    await expect(enforcePolicy(v.custody, ok({ expires: '2026-04-18' }), NOW)).resolves.toBeDefined();
    await refused(ok({ expires: null }), 'maxExpiryDays', 'maximum expiry in days');
    const d = await refused(ok({ expires: '2026-05-01T00:00:00Z' }), 'maxExpiryDays', 'maximum expiry in days');
    expect(d).toMatchObject({ days: 42, limit: 30 });
  });

  test('attachments allowed: off refuses a request with attachments', async () => {
    await setPolicy(v.custody, { attachmentsAllowed: false });
    await expect(enforcePolicy(v.custody, ok({ withAttachments: false }), NOW)).resolves.toBeDefined();
    await refused(ok({ withAttachments: true }), 'attachmentsAllowed', 'attachments allowed');
  });

  test('changes are sealed and audited with the whole policy; bad values change nothing', async () => {
    const r = await setPolicy(v.custody, { maxRangeDays: 14, maxClassification: 'internal' });
    expect(r.changed).toEqual(['maxRangeDays', 'maxClassification']);
    const last = (await v.custody.auditQuery({ event: 'policy.changed' }))[0]!;
    expect(last.entry?.details).toEqual({ changed: ['maxRangeDays', 'maxClassification'], ...DEFAULT_SHARING_POLICY, maxRangeDays: 14, maxClassification: 'internal' });
    const stored = v.custody.vault.db.sql.prepare("SELECT value FROM meta WHERE key = 'sharing_policy'").pluck().get() as string;
    expect(Buffer.from(stored, 'base64').toString('latin1')).not.toContain('maxRangeDays');
    const count = (await v.custody.auditQuery({ event: 'policy.changed' })).length;
    await expect(setPolicy(v.custody, { maxRangeDays: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(setPolicy(v.custody, { maxClassification: 'secret' as never })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(setPolicy(v.custody, { unknown: true } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await setPolicy(v.custody, { maxRangeDays: 14 })).changed).toEqual([]);
    expect((await v.custody.auditQuery({ event: 'policy.changed' })).length).toBe(count);
    expect(await getPolicy(v.custody)).toMatchObject({ maxRangeDays: 14, maxClassification: 'internal' });
  });

  test('someone with the folder cannot loosen the policy: a removed or older sealed copy is refused until it is set again', async () => {
    await setPolicy(v.custody, { maxRangeDays: 30 });
    const older = v.custody.vault.db.sql.prepare("SELECT value FROM meta WHERE key = 'sharing_policy'").pluck().get() as string;
    await setPolicy(v.custody, { maxRangeDays: 3 });
    await v.custody.close();
    const db = new Database(join(v.dir, 'custody.db'));
    db.prepare("UPDATE meta SET value = ? WHERE key = 'sharing_policy'").run(older);
    db.close();
    let c = await v.reopen();
    await c.unlock(PASSWORD, { buildIndex: false });
    await expect(getPolicy(c)).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringContaining('older copy') });
    await expect(enforcePolicy(c, ok(), NOW)).rejects.toMatchObject({ code: 'TAMPERED' });
    expect((await c.auditQuery({ event: 'grant.refused' }))[0]?.entry?.details.policy).toBe('tampered');
    await c.close();
    const db2 = new Database(join(v.dir, 'custody.db'));
    db2.prepare("DELETE FROM meta WHERE key = 'sharing_policy'").run();
    db2.close();
    c = await v.reopen();
    await c.unlock(PASSWORD, { buildIndex: false });
    await expect(getPolicy(c)).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringContaining('removed') });
    // Setting it again repairs it, from the defaults (never from the damaged copy).
    const repaired = await setPolicy(c, { maxRangeDays: 3 });
    expect(repaired.policy).toEqual({ ...DEFAULT_SHARING_POLICY, maxRangeDays: 3 });
    expect((await c.auditQuery({ event: 'policy.changed' }))[0]?.entry?.details).toMatchObject({ repaired: true, maxRangeDays: 3 });
    expect(await getPolicy(c)).toEqual({ ...DEFAULT_SHARING_POLICY, maxRangeDays: 3 });
  });
});
