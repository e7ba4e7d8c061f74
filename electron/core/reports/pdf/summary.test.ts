import { describe, expect, it } from 'vitest';
import type { ReportEntry } from './model.ts';
import { summariseEntries, utcDay } from './summary.ts';

const entry = (seq: number, time: string, event: string, success = true): ReportEntry => ({
  seq,
  time,
  event,
  actor: 'a',
  target: null,
  success,
  leafHash: '0'.repeat(64),
});

describe('summariseEntries', () => {
  it('counts by event and by UTC day, with the success rate and period', () => {
    const entries = [
      entry(1, '2026-11-13T23:59:59.000Z', 'record.viewed'),
      entry(2, '2026-11-14T01:00:00+02:00', 'record.viewed', false), // 13 Nov in UTC
      entry(3, '2026-11-14T00:00:00.000Z', 'search'),
      entry(4, '2026-11-16T12:00:00.000Z', 'record.viewed'),
    ];
    const records = [{ id: 'r', title: 't', case: '', classification: '', kind: '', capturedAt: '', versions: [], entries: [], attachments: [{ name: 'a', size: 1, sha256: '' }] }];
    expect(summariseEntries(entries, records)).toEqual({
      totalEntries: 4,
      totalRecords: 1,
      totalAttachments: 1,
      successCount: 3,
      failureCount: 1,
      successRate: 0.75,
      firstEntryTime: '2026-11-14T01:00:00+02:00',
      lastEntryTime: '2026-11-16T12:00:00.000Z',
      byEvent: [
        { event: 'record.viewed', count: 3, failures: 1 },
        { event: 'search', count: 1, failures: 0 },
      ],
      byDay: [
        { day: '2026-11-13', total: 2, byEvent: { 'record.viewed': 2 } },
        { day: '2026-11-14', total: 1, byEvent: { search: 1 } },
        { day: '2026-11-16', total: 1, byEvent: { 'record.viewed': 1 } },
      ],
      // Every entry here has no target: vault-level.
      vaultEvents: [
        { event: 'record.viewed', count: 3, failures: 1, firstSeq: 1, lastSeq: 4, firstTime: '2026-11-14T01:00:00+02:00', lastTime: '2026-11-16T12:00:00.000Z' },
        { event: 'search', count: 1, failures: 0, firstSeq: 3, lastSeq: 3, firstTime: '2026-11-14T00:00:00.000Z', lastTime: '2026-11-14T00:00:00.000Z' },
      ],
    });
  });

  it('summarises the vault-level entries by type, leaving out those about records and attachments', () => {
    const at = (seq: number, event: string, target: string | null, time = `2026-11-1${seq}T10:00:00.000Z`, success = true) => ({ ...entry(seq, time, event, success), target });
    const entries = [
      at(1, 'vault.unlocked', 'vault:v'),
      at(2, 'record.viewed', 'record:r'),
      at(3, 'attachment.opened', 'attachment:a'),
      at(4, 'vault.unlock_failed', 'vault:v', undefined, false),
      at(5, 'vault.unlocked', 'vault:v'),
      at(6, 'search', null),
      { ...at(7, 'pruned', 'vault:v', ''), pruned: { retentionSeq: 8 } },
      at(8, 'retention.run', null),
      at(9, 'vault.locked', 'vault:v'),
    ];
    expect(summariseEntries(entries, []).vaultEvents).toEqual([
      { event: 'vault.unlocked', count: 2, failures: 0, firstSeq: 1, lastSeq: 5, firstTime: '2026-11-11T10:00:00.000Z', lastTime: '2026-11-15T10:00:00.000Z' },
      { event: 'pruned', count: 1, failures: 0, firstSeq: 7, lastSeq: 7 },
      { event: 'retention.run', count: 1, failures: 0, firstSeq: 8, lastSeq: 8, firstTime: '2026-11-18T10:00:00.000Z', lastTime: '2026-11-18T10:00:00.000Z' },
      { event: 'search', count: 1, failures: 0, firstSeq: 6, lastSeq: 6, firstTime: '2026-11-16T10:00:00.000Z', lastTime: '2026-11-16T10:00:00.000Z' },
      { event: 'vault.locked', count: 1, failures: 0, firstSeq: 9, lastSeq: 9, firstTime: '2026-11-19T10:00:00.000Z', lastTime: '2026-11-19T10:00:00.000Z' },
      { event: 'vault.unlock_failed', count: 1, failures: 1, firstSeq: 4, lastSeq: 4, firstTime: '2026-11-14T10:00:00.000Z', lastTime: '2026-11-14T10:00:00.000Z' },
    ]);
  });

  it('handles no entries', () => {
    expect(summariseEntries([], [])).toMatchObject({ totalEntries: 0, successRate: 1, byEvent: [], byDay: [], vaultEvents: [] });
    expect(utcDay('garbage')).toBeUndefined();
  });
});
