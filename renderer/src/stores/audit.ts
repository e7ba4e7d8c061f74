// The audit viewer: newest-first pages of entries (paging backwards with `before`), filters,
// the activity statistics for the chart, and the result of re-verifying the whole log.
import { create } from 'zustand';
import type { AuditQuery, AuditRow, AuditStats } from '../../../electron/shared/audit.ts';
import type { AuditVerification } from '../../../electron/shared/contract.ts';
import { getApi } from '../api/client.ts';
import { toApiError } from '../lib/errors.ts';
import { dayBound } from '../lib/format.ts';
import { reportError } from './errors.ts';
import { useSession } from './session.ts';

export interface AuditFilters {
  event: string;
  result: '' | 'success' | 'failed';
  /** Local days (YYYY-MM-DD). */
  from: string;
  to: string;
}

export const EMPTY_AUDIT_FILTERS: AuditFilters = { event: '', result: '', from: '', to: '' };
const PAGE = 100;
/** Without a chosen range the chart shows the last 30 days. */
const DEFAULT_CHART_DAYS = 30;

interface AuditState {
  filters: AuditFilters;
  rows: AuditRow[];
  loading: boolean;
  hasMore: boolean;
  error: string | null;
  stats: AuditStats | null;
  statsRange: { from: string; to: string } | null;
  verification: AuditVerification | null;
  verifying: boolean;
  load(): Promise<void>;
  loadMore(): Promise<void>;
  setFilter<K extends keyof AuditFilters>(key: K, value: AuditFilters[K]): void;
  clearFilters(): void;
  loadStats(): Promise<void>;
  verify(): Promise<void>;
  reset(): void;
}

function toQuery(f: AuditFilters, before?: number): AuditQuery {
  const from = f.from ? dayBound(f.from, false) : undefined;
  const to = f.to ? dayBound(f.to, true) : undefined;
  return {
    limit: PAGE,
    order: 'desc',
    ...(f.event ? { event: f.event } : {}),
    ...(f.result ? { success: f.result === 'success' } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(before !== undefined ? { before } : {}),
  };
}

function chartRange(f: AuditFilters): { from: string; to: string } {
  const to = (f.to && dayBound(f.to, true)) || new Date().toISOString();
  const start = new Date(to);
  start.setDate(start.getDate() - (DEFAULT_CHART_DAYS - 1));
  start.setHours(0, 0, 0, 0);
  const from = (f.from && dayBound(f.from, false)) || start.toISOString();
  return { from, to };
}

let seq = 0;

export const useAudit = create<AuditState>()((set, get) => ({
  filters: EMPTY_AUDIT_FILTERS,
  rows: [],
  loading: false,
  hasMore: false,
  error: null,
  stats: null,
  statsRange: null,
  verification: null,
  verifying: false,

  async load() {
    const mine = ++seq;
    set({ loading: true, error: null });
    try {
      const rows = await getApi()['audit.query'](toQuery(get().filters));
      if (mine === seq) set({ rows, loading: false, hasMore: rows.length === PAGE });
    } catch (e) {
      if (mine !== seq) return;
      const err = toApiError(e);
      if (err.code === 'LOCKED') useSession.getState().markLocked();
      set({ loading: false, error: err.message });
    }
  },

  async loadMore() {
    const { rows, loading } = get();
    const last = rows.at(-1);
    if (loading || !last) return;
    const mine = ++seq;
    set({ loading: true });
    try {
      const more = await getApi()['audit.query'](toQuery(get().filters, last.seq));
      if (mine === seq) set({ rows: [...rows, ...more], loading: false, hasMore: more.length === PAGE });
    } catch (e) {
      if (mine === seq) set({ loading: false });
      reportError(e, 'Could not load older entries');
    }
  },

  setFilter(key, value) {
    set({ filters: { ...get().filters, [key]: value } });
    void get().load();
    if (key === 'from' || key === 'to') void get().loadStats();
  },

  clearFilters() {
    set({ filters: EMPTY_AUDIT_FILTERS });
    void get().load();
    void get().loadStats();
  },

  async loadStats() {
    const range = chartRange(get().filters);
    try {
      const stats = await getApi()['audit.stats'](range);
      set({ stats, statsRange: range });
    } catch (e) {
      reportError(e, 'Could not load activity statistics');
    }
  },

  async verify() {
    set({ verifying: true });
    try {
      const verification = await getApi()['audit.verify']({});
      set({ verification, verifying: false });
      // Verifying is itself an audited event: show it.
      void get().load();
      void get().loadStats();
    } catch (e) {
      set({ verifying: false });
      reportError(e, 'Verification could not run');
    }
  },

  reset() {
    seq++;
    set({ filters: EMPTY_AUDIT_FILTERS, rows: [], loading: false, hasMore: false, error: null, stats: null, statsRange: null, verification: null, verifying: false });
  },
}));
