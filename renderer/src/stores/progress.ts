// The latest `progress` event per operation, as main reports them. A finished operation
// lingers briefly at 100 % so the bar does not vanish before anyone sees it complete.
import { create } from 'zustand';
import type { ProgressEvent } from '../../../electron/shared/contract.ts';

export type ProgressOp = ProgressEvent['op'];

interface ProgressState {
  byOp: Partial<Record<ProgressOp, ProgressEvent>>;
  report(e: ProgressEvent): void;
  clear(op: ProgressOp): void;
}

const timers = new Map<ProgressOp, ReturnType<typeof setTimeout>>();

export const useProgress = create<ProgressState>()((set, get) => ({
  byOp: {},
  report(e) {
    const t = timers.get(e.op);
    if (t) clearTimeout(t);
    set({ byOp: { ...get().byOp, [e.op]: e } });
    if (e.total > 0 && e.done >= e.total) timers.set(e.op, setTimeout(() => get().clear(e.op), 700));
  },
  clear(op) {
    const next = { ...get().byOp };
    delete next[op];
    set({ byOp: next });
  },
}));

export const fraction = (e: ProgressEvent | undefined): number | null => (e && e.total > 0 ? Math.min(1, e.done / e.total) : null);
