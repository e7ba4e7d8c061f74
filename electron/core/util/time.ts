/** UTC day (YYYY-MM-DD) of an instant: the epoch of docs/architecture.md, "Keys and formats". */
export const utcDay = (d: Date): string => d.toISOString().slice(0, 10);

export const iso = (d: Date | number): string => new Date(d).toISOString();

/**
 * The captured_at range [start, end) in ms of the UTC days from..until (YYYY-MM-DD). epoch_day is
 * the UTC day of captured_at (migration 0005 enforces it), so a query by days can use the
 * captured_at index instead of reading the whole table for epoch_day.
 */
export function dayRangeMs(from: string, until: string = from): [number, number] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${until}T00:00:00Z`) + 86_400_000;
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new RangeError(`not a UTC day: ${Number.isFinite(start) ? until : from}`);
  return [start, end];
}
