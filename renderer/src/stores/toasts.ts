// Transient notifications. Errors stay longer than successes; any toast can carry one action.
import { create } from 'zustand';

export interface Toast {
  id: number;
  kind: 'success' | 'error' | 'info';
  message: string;
  action?: { label: string; run: () => void };
}

interface ToastState {
  toasts: Toast[];
  push(t: Omit<Toast, 'id'>): void;
  dismiss(id: number): void;
}

let nextId = 1;
const LIFETIME = { success: 3500, info: 5000, error: 8000 } as const;

export const useToasts = create<ToastState>()((set, get) => ({
  toasts: [],
  push(t) {
    const id = nextId++;
    // Keep the stack short: the newest four are enough to read.
    set({ toasts: [...get().toasts.slice(-3), { ...t, id }] });
    setTimeout(() => get().dismiss(id), LIFETIME[t.kind]);
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
}));

export const toast = {
  success: (message: string) => useToasts.getState().push({ kind: 'success', message }),
  info: (message: string) => useToasts.getState().push({ kind: 'info', message }),
  error: (message: string, action?: Toast['action']) => useToasts.getState().push({ kind: 'error', message, action }),
};
