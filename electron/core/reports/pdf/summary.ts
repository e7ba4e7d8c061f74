// Derives the summary section from the entries and records, so the statistics,
// the chart and the tables of one report are computed from the same data.
import type { ReportEntry, ReportRecord, ReportSummary, VaultEventSummary } from './model.ts';

/** Entries about a record or one of its attachments; every other entry is vault-level. */
export const isRecordEntry = (e: Pick<ReportEntry, 'target'>): boolean => e.target !== null && /^(record|attachment):/.test(e.target);

/** UTC day (YYYY-MM-DD) of an ISO time; undefined when the time does not parse. */
export function utcDay(time: string): string | undefined {
  // Fast path for the canonical form the audit log writes.
  if (/^\d{4}-\d\d-\d\dT.*Z$/.test(time)) return time.slice(0, 10);
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString().slice(0, 10);
}

export function summariseEntries(entries: readonly ReportEntry[], records: readonly ReportRecord[]): ReportSummary {
  const byEvent = new Map<string, { count: number; failures: number }>();
  const byDay = new Map<string, { total: number; byEvent: Record<string, number> }>();
  let successCount = 0;
  // A pruned entry's outcome is gone with its body: counted as neither success nor failure.
  let prunedCount = 0;
  let first: { ms: number; time: string } | undefined;
  let last: { ms: number; time: string } | undefined;
  for (const e of entries) {
    if (e.pruned) prunedCount++;
    else if (e.success) successCount++;
    const ev = byEvent.get(e.event) ?? { count: 0, failures: 0 };
    ev.count++;
    if (!e.success && !e.pruned) ev.failures++;
    byEvent.set(e.event, ev);
    const day = utcDay(e.time);
    if (day !== undefined) {
      const d = byDay.get(day) ?? { total: 0, byEvent: {} };
      d.total++;
      d.byEvent[e.event] = (d.byEvent[e.event] ?? 0) + 1;
      byDay.set(day, d);
      const ms = Date.parse(e.time);
      if (first === undefined || ms < first.ms) first = { ms, time: e.time };
      if (last === undefined || ms > last.ms) last = { ms, time: e.time };
    }
  }
  return {
    totalEntries: entries.length,
    totalRecords: records.length,
    totalAttachments: records.reduce((n, r) => n + r.attachments.length, 0),
    successCount,
    failureCount: entries.length - prunedCount - successCount,
    successRate: entries.length === prunedCount ? 1 : successCount / (entries.length - prunedCount),
    ...(first ? { firstEntryTime: first.time } : {}),
    ...(last ? { lastEntryTime: last.time } : {}),
    byEvent: [...byEvent]
      .map(([event, v]) => ({ event, count: v.count, failures: v.failures }))
      .sort((a, b) => b.count - a.count || a.event.localeCompare(b.event)),
    byDay: [...byDay].map(([day, v]) => ({ day, ...v })).sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0)),
    vaultEvents: summariseVaultEvents(entries),
  };
}

/** The vault-level entries by event type: count, failures, first and last entry (seq and time). */
export function summariseVaultEvents(entries: readonly ReportEntry[]): VaultEventSummary[] {
  const out = new Map<string, VaultEventSummary & { firstMs?: number; lastMs?: number }>();
  for (const e of entries) {
    if (isRecordEntry(e)) continue;
    let s = out.get(e.event);
    if (!s) out.set(e.event, (s = { event: e.event, count: 0, failures: 0, firstSeq: e.seq, lastSeq: e.seq }));
    s.count++;
    if (!e.success && !e.pruned) s.failures++;
    s.firstSeq = Math.min(s.firstSeq, e.seq);
    s.lastSeq = Math.max(s.lastSeq, e.seq);
    const ms = e.pruned ? Number.NaN : Date.parse(e.time);
    if (Number.isNaN(ms)) continue;
    if (s.firstMs === undefined || ms < s.firstMs) [s.firstMs, s.firstTime] = [ms, e.time];
    if (s.lastMs === undefined || ms > s.lastMs) [s.lastMs, s.lastTime] = [ms, e.time];
  }
  return [...out.values()]
    .map(({ firstMs: _f, lastMs: _l, ...s }) => s)
    .sort((a, b) => b.count - a.count || a.event.localeCompare(b.event));
}
