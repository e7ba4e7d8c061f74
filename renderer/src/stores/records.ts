// The record list: filters, the result count, and the rows, fetched page by page as the
// virtualised list scrolls (so 100k records cost one page of decryption, not 100k).
// Every response carries the generation it was asked for; answers to an older query are dropped.
import { create } from 'zustand';
import type { Classification, RecordKind, RecordSummary, SearchQuery } from '../../../electron/shared/records.ts';
import { getApi } from '../api/client.ts';
import { toApiError } from '../lib/errors.ts';
import { dayBound } from '../lib/format.ts';
import { reportError } from './errors.ts';
import { useSession } from './session.ts';

export interface Filters {
  text: string;
  case: string;
  tag: string;
  kind: RecordKind | '';
  classification: Classification | '';
  /** Local days (YYYY-MM-DD) from date inputs; converted to instants for the query. */
  from: string;
  to: string;
}

export const EMPTY_FILTERS: Filters = { text: '', case: '', tag: '', kind: '', classification: '', from: '', to: '' };
export const PAGE_SIZE = 500;
const DEBOUNCE_MS = 150;

interface RecordsState {
  filters: Filters;
  trash: boolean;
  total: number;
  indexReady: boolean;
  pages: Record<number, RecordSummary[]>;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
  facets: { cases: string[]; tags: string[] };
  activeIndex: number;
  generation: number;
  setText(text: string): void;
  setFilter<K extends Exclude<keyof Filters, 'text'>>(key: K, value: Filters[K]): void;
  clearFilters(): void;
  /** Switch between the records and the Trash (and query either way). */
  setTrash(trash: boolean): void;
  run(): Promise<void>;
  ensureRange(start: number, end: number): void;
  loadFacets(): Promise<void>;
  /** Reflect a saved record in the loaded rows without re-querying. */
  patchRow(summary: RecordSummary): void;
  setActiveIndex(i: number): void;
  reset(): void;
}

export const hasActiveFilters = (f: Filters): boolean => Object.values(f).some((v) => v !== '');

function toQuery(f: Filters, trash: boolean, offset: number): SearchQuery {
  const from = f.from ? dayBound(f.from, false) : undefined;
  const to = f.to ? dayBound(f.to, true) : undefined;
  return {
    text: f.text.trim(),
    ...(f.case ? { case: f.case } : {}),
    ...(f.tag ? { tag: f.tag } : {}),
    ...(f.kind ? { kind: f.kind } : {}),
    ...(f.classification ? { classification: f.classification } : {}),
    ...(from ? { capturedFrom: from } : {}),
    ...(to ? { capturedTo: to } : {}),
    deleted: trash ? 'only' : 'exclude',
    limit: PAGE_SIZE,
    offset,
  };
}

const inFlight = new Set<string>();
let textTimer: ReturnType<typeof setTimeout> | undefined;

export const useRecords = create<RecordsState>()((set, get) => {
  /** `replace` (a new query) swaps all rows at once; otherwise the page is merged in. */
  const fetchPage = async (page: number, generation: number, replace = false): Promise<void> => {
    const key = `${generation}:${page}`;
    if (inFlight.has(key)) return;
    inFlight.add(key);
    const { filters, trash } = get();
    try {
      const res = await getApi()['records.search'](toQuery(filters, trash, page * PAGE_SIZE));
      if (get().generation !== generation) return;
      const hits: RecordSummary[] = res.hits.map(({ score: _score, ...summary }) => summary);
      const pages = replace ? { [page]: hits } : { ...get().pages, [page]: hits };
      const activeIndex = Math.min(get().activeIndex, Math.max(0, res.total - 1));
      set({ pages, total: res.total, indexReady: res.indexReady, status: 'ready', error: null, activeIndex });
    } catch (e) {
      if (get().generation !== generation) return;
      const err = toApiError(e);
      if (err.code === 'LOCKED') useSession.getState().markLocked();
      set({ status: 'error', error: err.message });
    } finally {
      inFlight.delete(key);
    }
  };

  return {
    filters: EMPTY_FILTERS,
    trash: false,
    total: 0,
    indexReady: true,
    pages: {},
    status: 'idle',
    error: null,
    facets: { cases: [], tags: [] },
    activeIndex: 0,
    generation: 0,

    setText(text) {
      set({ filters: { ...get().filters, text } });
      clearTimeout(textTimer);
      textTimer = setTimeout(() => void get().run(), DEBOUNCE_MS);
    },

    setFilter(key, value) {
      set({ filters: { ...get().filters, [key]: value } });
      void get().run();
    },

    clearFilters() {
      clearTimeout(textTimer);
      set({ filters: EMPTY_FILTERS });
      void get().run();
    },

    setTrash(trash) {
      if (trash !== get().trash) set({ trash, total: 0, pages: {}, activeIndex: 0, status: 'loading' });
      void get().run();
    },

    async run() {
      clearTimeout(textTimer);
      const generation = get().generation + 1;
      // Keep the old rows on screen until the new answer arrives: no flash of emptiness.
      set({ generation, status: 'loading' });
      await fetchPage(0, generation, true);
    },

    ensureRange(start, end) {
      const { generation, pages, total } = get();
      if (total === 0) return;
      const last = Math.min(end, total - 1);
      for (let p = Math.floor(start / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p++) {
        if (!pages[p]) void fetchPage(p, generation);
      }
    },

    async loadFacets() {
      try {
        set({ facets: await getApi()['records.facets']({}) });
      } catch (e) {
        reportError(e, 'Could not load cases and tags');
      }
    },

    patchRow(summary) {
      const pages = get().pages;
      for (const [p, rows] of Object.entries(pages)) {
        const i = rows.findIndex((r) => r.id === summary.id);
        if (i >= 0) {
          const next = rows.slice();
          next[i] = summary;
          set({ pages: { ...pages, [p]: next } });
          return;
        }
      }
    },

    setActiveIndex(i) {
      set({ activeIndex: Math.max(0, Math.min(i, get().total - 1)) });
    },

    reset() {
      clearTimeout(textTimer);
      set({ filters: EMPTY_FILTERS, trash: false, total: 0, indexReady: true, pages: {}, status: 'idle', error: null, facets: { cases: [], tags: [] }, activeIndex: 0, generation: get().generation + 1 });
    },
  };
});

export const rowAt = (pages: Record<number, RecordSummary[]>, i: number): RecordSummary | undefined => pages[Math.floor(i / PAGE_SIZE)]?.[i % PAGE_SIZE];
