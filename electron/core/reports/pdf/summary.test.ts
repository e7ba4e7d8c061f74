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
    });
  });

  it('handles no entries', () => {
    expect(summariseEntries([], [])).toMatchObject({ totalEntries: 0, successRate: 1, byEvent: [], byDay: [] });
    expect(utcDay('garbage')).toBeUndefined();
  });
});
