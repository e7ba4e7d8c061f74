export { formatBytes } from '../../../electron/shared/format.ts';
// Display helpers: sizes, dates, and the datetime-local <-> ISO 8601 conversion the editor needs.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const timeWithSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });


const valid = (iso: string): Date | null => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
};

export const formatDateTime = (iso: string): string => {
  const d = valid(iso);
  return d ? dateTime.format(d) : iso;
};
export const formatDate = (iso: string): string => {
  const d = valid(iso);
  return d ? dateOnly.format(d) : iso;
};
export const formatPrecise = (iso: string): string => {
  const d = valid(iso);
  return d ? timeWithSeconds.format(d) : iso;
};

const pad = (n: number) => String(n).padStart(2, '0');

/** ISO instant -> the local "YYYY-MM-DDTHH:mm" an <input type="datetime-local"> shows. */
export function toLocalInput(iso: string): string {
  const d = valid(iso);
  if (!d) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (local wall time) -> ISO 8601 in UTC, or null when empty/invalid. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A date input value (local day) -> the ISO instant at the start or the end of that local day. */
export function dayBound(value: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const d = new Date(`${value}T${end ? '23:59:59.999' : '00:00:00.000'}`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export const todayLocal = (): string => {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
};

/** "a1b2c3d4…9f8e" — enough of a hash to recognise; the full value goes in a title. */
export const shortHash = (hex: string, head = 12, tail = 6): string => (hex.length <= head + tail + 1 ? hex : `${hex.slice(0, head)}…${hex.slice(-tail)}`);

export const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString()} ${n === 1 ? one : many}`;
