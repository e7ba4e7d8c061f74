/** UTC day (YYYY-MM-DD) of an instant: the epoch of docs/architecture.md, "Keys and formats". */
export const utcDay = (d: Date): string => d.toISOString().slice(0, 10);

export const iso = (d: Date | number): string => new Date(d).toISOString();
