// Sharing over IPC (docs/sharing.md): the reviewer identity, the address book, the sharing
// policies, and disclosures (issue one and get its bytes to save; open one from bytes the
// user picked into the read-only received area; read it). Nothing here takes a path from the
// window, and no key leaves core: the identity's secret never, a recipient is public.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdentityView } from '../../shared/sharing.ts';
import { disclose, listGrants } from '../sharing/disclose.ts';
import { createVaultIdentity, showVaultIdentity, type IdentityInfo } from '../sharing/identity.ts';
import { listEnvelopes, openEnvelope, publishIdentity, sendPackage, withDelivery, withdrawEnvelope } from '../sharing/delivery.ts';
import { getPolicy, setPolicy } from '../sharing/policy.ts';
import { listReceived, openIntoVault, showReceived, viewReceivedRecord } from '../sharing/received.ts';
import { addRecipient, listRecipients, removeRecipient } from '../sharing/recipients.ts';
import type { CoreContext, Handlers } from './coreContext.ts';

const identityView = (i: IdentityInfo): IdentityView => ({ recipient: i.recipient, fingerprint: i.fingerprint, createdAt: i.createdAt });

export function sharingHandlers({ vault }: CoreContext) {
  return {
    handlers: {
      'sharing.identity': async () => {
        const i = await showVaultIdentity(await vault.unlocked());
        return i ? identityView(i) : null;
      },
      'sharing.createIdentity': async ({ replace }) => identityView(await createVaultIdentity(await vault.unlocked(), { replace })),
      'sharing.recipients': async () => listRecipients(await vault.unlocked()),
      'sharing.addRecipient': async (req) => addRecipient(await vault.unlocked(), req),
      'sharing.removeRecipient': async ({ fingerprint }) => {
        await removeRecipient(await vault.unlocked(), fingerprint);
        return { ok: true as const };
      },
      'sharing.policy': async () => getPolicy(await vault.unlocked()),
      'sharing.setPolicy': async (patch) => setPolicy(await vault.unlocked(), patch),
      'disclosures.issue': async ({ deliver, ...req }) => {
        const c = await vault.unlocked();
        // The package is ciphertext (an age file): written by disclose to a private folder,
        // read back for the window to save, removed.
        const dir = mkdtempSync(join(tmpdir(), 'custody-disclosure-'));
        try {
          const out = join(dir, 'package.age');
          const r = await disclose(c, { ...req, out });
          const data = new Uint8Array(readFileSync(out));
          // Delivered after the package exists: a delivery that fails leaves the package to save.
          const delivered = deliver ? (await withDelivery(c, (s) => sendPackage(c, s, data))).envelopes : undefined;
          return {
            fileName: `custody-disclosure-${r.days[0]}-to-${r.days.at(-1)}.age`,
            data,
            grantId: r.grantId,
            scope: r.scope,
            records: r.records,
            attachments: r.attachments,
            days: r.days,
            recipients: r.recipients,
            postQuantum: r.postQuantum,
            expiresAt: r.expiresAt,
            packageSha256: r.packageSha256,
            issuerFingerprint: r.issuerFingerprint,
            ...(delivered ? { delivered } : {}),
          };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      'disclosures.open': async ({ data }) => {
        const r = await openIntoVault(await vault.unlocked(), data);
        return { grant: r.grant, records: r.records.length, attachments: r.attachments, again: r.again };
      },
      'disclosures.received': async () => listReceived(await vault.unlocked()),
      'disclosures.receivedGrant': async ({ grantId }) => showReceived(await vault.unlocked(), grantId),
      'disclosures.viewReceived': async ({ grantId, recordId }) => viewReceivedRecord(await vault.unlocked(), grantId, recordId),
      'disclosures.issued': async () => listGrants(await vault.unlocked()),
      'envelopes.publish': async () => {
        const c = await vault.unlocked();
        return withDelivery(c, (s) => publishIdentity(c, s));
      },
      'envelopes.list': async ({ box }) => {
        const c = await vault.unlocked();
        return withDelivery(c, (s) => listEnvelopes(c, s, box));
      },
      'envelopes.open': async ({ id }) => {
        const c = await vault.unlocked();
        const r = await withDelivery(c, (s) => openEnvelope(c, s, id, (pkg) => openIntoVault(c, pkg)));
        return { grant: r.grant, records: r.records.length, attachments: r.attachments, again: r.again };
      },
      'envelopes.withdraw': async ({ id }) => {
        const c = await vault.unlocked();
        await withDelivery(c, (s) => withdrawEnvelope(c, s, id));
        return { ok: true as const };
      },
    } satisfies Partial<Handlers>,
  };
}
