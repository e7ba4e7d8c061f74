// Deterministic sample reports for the tests: realistic shapes (several event
// types over several days, long ids, hashes) without a vault.
import { createHash } from 'node:crypto';
import type { ReportDocument, ReportEntry, ReportRecord } from './model.ts';
import { summariseEntries } from './summary.ts';

const EVENTS = ['record.viewed', 'record.updated', 'attachment.opened', 'search', 'record.exported', 'vault.unlocked', 'vault.locked'];
/** Events about the vault rather than one record (the PDF summarises them by type). */
const VAULT_EVENTS = new Set(['search', 'vault.unlocked', 'vault.locked']);
const ACTORS = ['a.lindqvist', 'm.okafor', 'j.ruiz'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const uuid = (s: string) => {
  const h = hex(s);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export function sampleDocument(opts: { records: number; entries: number; days: number; seed?: number }): ReportDocument {
  const rand = rng(opts.seed ?? 7);
  const start = Date.parse('2026-11-13T00:30:00Z');
  const records: ReportRecord[] = Array.from({ length: opts.records }, (_, i) => ({
    id: uuid(`record-${i}`),
    title:
      i % 3 === 1
        ? `Interview with witness ${i} at the harbour warehouse, including follow-up questions about the night shift schedule and access badges`
        : `Field observation ${i + 1}`,
    case: i % 2 === 0 ? 'CASE-2026-041' : 'CASE-2026-017 / Operation Lighthouse',
    classification: ['confidential', 'restricted', 'internal'][i % 3] as string,
    kind: ['observation', 'note', 'file'][i % 3] as string,
    capturedAt: new Date(start - 86_400_000 + i * 3_600_000).toISOString(),
    versions: Array.from({ length: 1 + (i % 3) }, (_, v) => ({
      version: v + 1,
      time: new Date(start + v * 7_200_000 + i * 60_000).toISOString(),
      sha256: hex(`record-${i}-v${v}`),
    })),
    attachments: Array.from({ length: i % 3 }, (_, a) => ({
      name: a === 1 ? `scan_of_handwritten_notes_page_${a}_with_a_rather_long_file_name_from_the_camera_IMG_20261113.jpeg` : `photo-${a}.jpg`,
      size: 1_500_000 + a * 733_421 + i,
      sha256: hex(`attachment-${i}-${a}`),
    })),
    entries: [],
  }));
  const entries: ReportEntry[] = [];
  const spanMs = opts.days * 86_400_000 - 2 * 3_600_000;
  for (let i = 0; i < opts.entries; i++) {
    const time = new Date(start + Math.floor((i / opts.entries) * spanMs) + Math.floor(rand() * 1000) * 1000).toISOString();
    const record = records.length > 0 ? records[Math.floor(rand() * records.length)] : undefined;
    const event = EVENTS[Math.floor(rand() ** 1.6 * EVENTS.length)] as string;
    const success = rand() > 0.04;
    const entry: ReportEntry = {
      seq: i + 1,
      time,
      event,
      actor: ACTORS[Math.floor(rand() * ACTORS.length)] as string,
      target: event === 'search' ? null : VAULT_EVENTS.has(event) ? `vault:${uuid('vault')}` : record ? `record:${record.id}` : null,
      success,
      leafHash: hex(`entry-${i}`),
    };
    entries.push(entry);
    if (record && entry.target) record.entries.push({ seq: entry.seq, time, event, actor: entry.actor, success, target: entry.target });
  }
  return {
    cover: {
      vaultId: uuid('vault'),
      vaultName: 'Harbour district inquiry (field laptop)',
      analystName: 'Astrid Lindqvist',
      deviceId: uuid('device'),
      scope: `${opts.records} records of cases CASE-2026-041 and CASE-2026-017, all audit entries from 13 to ${12 + opts.days} November 2026`,
      purpose: 'Disclosure to the review board under section 14 of the inquiry terms of reference',
      recipient: 'Review Board, Office of the Inspector',
      generatedAt: '2026-11-23T09:15:00.000Z',
      checkpoint:
        `custody.example/vault/${uuid('vault')}\n${opts.entries}\n${Buffer.from(hex('root'), 'hex').toString('base64')}\n\n` +
        `\u2014 custody-device ${Buffer.from(hex('sig') + hex('sig2'), 'hex').toString('base64')}\n`,
      signer: { subject: 'CN=Custody vault Harbour district inquiry, O=Office of the Inspector', certificateSha256: hex('cert') },
    },
    summary: summariseEntries(entries, records),
    records,
    entries,
  };
}
