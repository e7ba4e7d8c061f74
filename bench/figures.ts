// Benchmark figures: each measured beside the limit it is judged against, in the same run.
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** What the value is compared with (e.g. "raw better-sqlite3 insert"), or a fixed goal. */
  limit: string;
  limitValue: number;
  /** value / limitValue for rates ("higher is better"), limitValue / value for times. */
  ratio: number;
  goal: string;
  met: boolean;
}

export function rateFigure(name: string, value: number, unit: string, limit: string, limitValue: number, minRatio: number): Figure {
  const ratio = value / limitValue;
  return { name, value, unit, limit, limitValue, ratio, goal: `ratio >= ${minRatio}`, met: ratio >= minRatio };
}

/** A time against a fixed ceiling: ratio = ceiling / value (>= 1 means met; at most 1000, as a value near 0 is noise). */
export function ceilingFigure(name: string, value: number, unit: string, ceiling: number): Figure {
  return { name, value, unit, limit: `goal <= ${ceiling} ${unit}`, limitValue: ceiling, ratio: ceiling / Math.max(value, ceiling / 1000), goal: `<= ${ceiling} ${unit}`, met: value <= ceiling };
}

/** A rate against a fixed floor: ratio = value / floor. */
export function floorFigure(name: string, value: number, unit: string, floor: number): Figure {
  return { name, value, unit, limit: `goal >= ${floor} ${unit}`, limitValue: floor, ratio: value / floor, goal: `>= ${floor} ${unit}`, met: value >= floor };
}

/**
 * Of rounds that each timed a baseline and then ours back to back, the one whose ratio is the
 * median: on a shared machine the load drifts within seconds, so a figure compares a round's
 * two halves, never two separate runs.
 */
export function medianRound<R>(rounds: R[], ratio: (r: R) => number): R {
  return [...rounds].sort((a, b) => ratio(a) - ratio(b))[rounds.length >> 1]!;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(3));
