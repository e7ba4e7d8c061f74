// Disclosure calls beyond issuing, opening and reading (those are in sharingHandlers.ts): a
// received attachment's bytes for the page to show (logged as grant.attachment_opened), the
// reviewer's signed acknowledgement as bytes to save, and the issuer's import of one. No path
// from the window; nothing here returns a key.
import { READ_LIMIT } from './attachmentHandlers.ts';
import { CustodyError } from '../../shared/errors.ts';
import { importAcknowledgement, makeAcknowledgement } from '../sharing/acknowledgement.ts';
import { readReceivedAttachment } from '../sharing/received.ts';
import type { CoreContext, Handlers } from './coreContext.ts';

export function disclosureHandlers({ vault }: CoreContext) {
  return {
    handlers: {
      'disclosures.receivedAttachment': async ({ grantId, attachmentId }) => {
        const r = await readReceivedAttachment(await vault.unlocked(), grantId, attachmentId);
        if (r.plaintext.length > READ_LIMIT) {
          r.plaintext.fill(0);
          throw new CustodyError('BAD_REQUEST', 'this attachment is too large to open here; save it from the command line (custody received attachment)');
        }
        return { name: r.name, mediaType: r.mediaType, sha256: r.sha256, data: new Uint8Array(r.plaintext.buffer, r.plaintext.byteOffset, r.plaintext.byteLength) };
      },
      'disclosures.acknowledge': async ({ grantId }) => {
        const { note, ...ack } = await makeAcknowledgement(await vault.unlocked(), grantId);
        return { fileName: `custody-ack-${grantId}.txt`, data: new TextEncoder().encode(note), grantSha256: ack.grantSha256, reviewerFingerprint: ack.reviewerFingerprint };
      },
      'disclosures.importAck': async ({ data }) => {
        let note: string;
        try {
          note = new TextDecoder('utf-8', { fatal: true }).decode(data);
        } catch {
          throw new CustodyError('BAD_REQUEST', 'an acknowledgement is a text file (a signed note); this is not one');
        }
        const r = await importAcknowledgement(await vault.unlocked(), note);
        return { grantId: r.grantId, reviewerFingerprint: r.reviewerFingerprint, reviewerVaultId: r.reviewerVaultId, acknowledgedAt: r.acknowledgedAt, again: r.again };
      },
    } satisfies Partial<Handlers>,
  };
}
