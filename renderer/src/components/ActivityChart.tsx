// Audit activity as stacked bars: one bar per (UTC) day, one colour per event type (the
// most frequent types; the rest are grouped as "other"). Plain SVG sized to its container;
// every segment has a <title> tooltip and the chart has an accessible name and summary.
import { useEffect, useId, useRef, useState, type RefObject } from 'react';
import type { AuditStats } from '../../../electron/shared/audit.ts';

const SERIES = 7;
const HEIGHT = 220;
const M = { top: 12, right: 8, bottom: 30, left: 40 };
const MAX_DAYS = 92;
const DAY_MS = 86_400_000;

const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);
const dayLabel = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const fmtDay = (day: string) => dayLabel.format(new Date(`${day}T00:00:00Z`));

/** A y axis with 2–5 whole-number ticks on a 1/2/2.5/5 × 10^n step. */
function niceScale(max: number): { top: number; step: number } {
  const raw = Math.max(1, max) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= raw && Number.isInteger(v)) ?? 10 * mag);
  return { top: Math.max(step, Math.ceil(max / step) * step), step };
}

export interface ChartModel {
  days: { day: string; total: number; byEvent: Record<string, number> }[];
  series: string[];
  hasOther: boolean;
}

/**
 * Fills missing days with zeros and picks the series to colour. Without an explicit start
 * (`trim`), leading empty days are dropped so a young vault's chart is not mostly blank,
 * while at least a week is always shown.
 */
export function chartModel(stats: AuditStats, range: { from: string; to: string }, trim: boolean): ChartModel {
  const byDay = new Map(stats.byDay.map((d) => [d.day, d]));
  const dayStart = (iso: string) => Date.parse(`${utcDay(Date.parse(iso))}T00:00:00Z`);
  const end = dayStart(range.to);
  let start = Math.max(dayStart(range.from), end - (MAX_DAYS - 1) * DAY_MS);
  const active = stats.byDay.filter((d) => d.total > 0).map((d) => Date.parse(`${d.day}T00:00:00Z`));
  if (trim && active.length) start = Math.max(start, Math.min(Math.min(...active), end - 6 * DAY_MS));
  const days: ChartModel['days'] = [];
  for (let t = start; t <= end; t += DAY_MS) {
    const day = utcDay(t);
    days.push(byDay.get(day) ?? { day, total: 0, byEvent: {} });
  }
  const totals = new Map<string, number>();
  for (const d of days) for (const [e, n] of Object.entries(d.byEvent)) totals.set(e, (totals.get(e) ?? 0) + n);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([e]) => e);
  const hasOther = ranked.length > SERIES;
  return { days, series: ranked.slice(0, hasOther ? SERIES - 1 : SERIES), hasOther };
}

export const chartDayLabel = fmtDay;

function useWidth<T extends HTMLElement>(): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(640);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => entry && setWidth(Math.max(280, Math.floor(entry.contentRect.width))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

export function ActivityChart({ model }: { model: ChartModel }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const titleId = useId();
  const descId = useId();
  const { days, series, hasOther } = model;
  const keys = hasOther ? [...series, 'other'] : series;
  const valueOf = (d: ChartModel['days'][number], key: string) => (key === 'other' ? Object.entries(d.byEvent).filter(([e]) => !series.includes(e)).reduce((s, [, n]) => s + n, 0) : (d.byEvent[key] ?? 0));

  const innerW = width - M.left - M.right;
  const innerH = HEIGHT - M.top - M.bottom;
  const maxTotal = Math.max(0, ...days.map((d) => d.total));
  const { top: yMax, step } = niceScale(maxTotal);
  const band = innerW / Math.max(1, days.length);
  const barW = Math.max(2, Math.min(28, band * 0.72));
  const labelEvery = Math.max(1, Math.ceil(52 / band));
  const y = (v: number) => M.top + innerH - (v / yMax) * innerH;
  const ticks = Array.from({ length: Math.round(yMax / step) + 1 }, (_, i) => i * step);
  const busiest = days.reduce((a, b) => (b.total > a.total ? b : a), days[0] ?? { day: '', total: 0, byEvent: {} });
  const sum = days.reduce((s, d) => s + d.total, 0);

  return (
    <div className="chart" ref={ref}>
      {sum === 0 ? (
        <p className="muted chart-empty">No audit activity in this period.</p>
      ) : (
        <svg width={width} height={HEIGHT} role="img" aria-labelledby={`${titleId} ${descId}`} className="chart-svg">
          <title id={titleId}>Audit activity by day and event type</title>
          <desc id={descId}>
            {`${sum} events over ${days.length} days from ${fmtDay(days[0]?.day ?? '')} to ${fmtDay(days.at(-1)?.day ?? '')}. Busiest day ${fmtDay(busiest.day)} with ${busiest.total} events. Most frequent: ${keys.slice(0, 3).join(', ')}.`}
          </desc>
          {ticks.map((t) => (
            <g key={t}>
              <line className="chart-grid" x1={M.left} x2={width - M.right} y1={y(t)} y2={y(t)} />
              <text className="chart-axis" x={M.left - 6} y={y(t)} dy="0.32em" textAnchor="end">
                {t}
              </text>
            </g>
          ))}
          <text className="chart-axis-title" transform={`translate(10 ${M.top + innerH / 2}) rotate(-90)`} textAnchor="middle">
            Events
          </text>
          {days.map((d, i) => {
            const x = M.left + i * band + (band - barW) / 2;
            let acc = 0;
            return (
              <g key={d.day}>
                <rect className="chart-hover" x={M.left + i * band} y={M.top} width={band} height={innerH}>
                  <title>{`${fmtDay(d.day)}: ${d.total} ${d.total === 1 ? 'event' : 'events'}`}</title>
                </rect>
                {keys.map((k, si) => {
                  const v = valueOf(d, k);
                  if (!v) return null;
                  const y0 = y(acc);
                  acc += v;
                  const y1 = y(acc);
                  return (
                    <rect key={k} className={`chart-bar series-${k === 'other' ? 'other' : si}`} x={x} y={y1} width={barW} height={Math.max(1, y0 - y1)}>
                      <title>{`${fmtDay(d.day)} · ${k}: ${v}`}</title>
                    </rect>
                  );
                })}
                {i % labelEvery === 0 && (
                  <text className="chart-axis" x={M.left + i * band + band / 2} y={HEIGHT - M.bottom + 16} textAnchor="middle">
                    {fmtDay(d.day)}
                  </text>
                )}
              </g>
            );
          })}
          <line className="chart-baseline" x1={M.left} x2={width - M.right} y1={y(0)} y2={y(0)} />
        </svg>
      )}
      {sum > 0 && (
        <ul className="chart-legend" aria-label="Legend">
          {keys.map((k, si) => (
            <li key={k}>
              <span className={`swatch series-${k === 'other' ? 'other' : si}`} aria-hidden="true" />
              {k === 'other' ? 'Other events' : k}
              <span className="muted">{days.reduce((s, d) => s + valueOf(d, k), 0)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
