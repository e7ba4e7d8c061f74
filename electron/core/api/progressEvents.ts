// Progress and background work the window hears about as events, and how a background failure
// is logged (never with the request: it may hold passwords or content).
import type { EventName, Events, ProgressEvent } from '../../shared/contract.ts';
import type { Progress } from '../attachments/attachments.ts';
import type { Custody } from '../custody.ts';

type Emit = <E extends EventName>(event: E, payload: Events[E]) => void;

export const progressOf =
  (emit: Emit) =>
  (op: ProgressEvent['op'], label?: string): Progress =>
  (done, total) =>
    emit('progress', label === undefined ? { op, done, total } : { op, done, total, label });

/** Builds the search index in the background after an unlock, reporting progress. */
export function startIndex(c: Custody, emit: Emit): void {
  c.buildIndex(progressOf(emit)('index')).then(
    () => {
      if (!c.index.ready) return;
      // Ids only: which records to open (they show TAMPERED) and check.
      const leftOut = c.indexLeftOut();
      if (leftOut.length > 0) console.error(`[custody] search index: ${leftOut.length} tampered record(s) left out: ${leftOut.join(', ')}`);
      emit('index.ready', { size: c.index.size });
    },
    (e: unknown) => logFailure('search index build', e),
  );
}

/** To stderr, without the request (it may hold passwords or content). */
export function logFailure(what: string, e: unknown): void {
  console.error(`[custody] ${what} failed:`, e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
}
