// The activity chart: stacked bars of entries per day (or per n days when the
// period is long) by event type, drawn as vector paths with axes, gridlines
// and a legend. The seven most frequent event types get their own colour; the
// rest are stacked together as "other".
import type { Rgb } from './canvas.ts';
import { type Layout, THEME } from './layout.ts';
import type { ReportSummary } from './model.ts';
import { formatCount, truncate } from './text.ts';

const SERIES_COLOURS: Rgb[] = [
  [0.2, 0.36, 0.52],
  [0.82, 0.55, 0.3],
  [0.38, 0.58, 0.44],
  [0.56, 0.42, 0.62],
  [0.74, 0.36, 0.34],
  [0.36, 0.62, 0.68],
  [0.64, 0.6, 0.36],
];
const OTHER_COLOUR: Rgb = [0.72, 0.74, 0.77];
const OTHER = 'other';
const DAY_MS = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface ChartBox {
  x: number;
  top: number;
  width: number;
  plotHeight: number;
}

interface Bin {
  firstDay: string;
  counts: Map<string, number>;
  total: number;
}

/** Days from the first to the last active day, gaps included, grouped into at most maxBars bins. */
function binDays(summary: ReportSummary, maxBars: number): { bins: Bin[]; daysPerBin: number } {
  const active = new Map(summary.byDay.map((d) => [d.day, d.byEvent]));
  const first = summary.byDay[0];
  const last = summary.byDay[summary.byDay.length - 1];
  if (!first || !last) return { bins: [], daysPerBin: 1 };
  const start = Date.parse(`${first.day}T00:00:00Z`);
  const span = Math.round((Date.parse(`${last.day}T00:00:00Z`) - start) / DAY_MS) + 1;
  // Unparseable day keys: plot the active days as given rather than a calendar.
  const days =
    Number.isFinite(span) && span > 0 && span <= 36_600
      ? Array.from({ length: span }, (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10))
      : summary.byDay.map((d) => d.day);
  const daysPerBin = Math.max(1, Math.ceil(days.length / maxBars));
  const bins: Bin[] = [];
  for (let i = 0; i < days.length; i += daysPerBin) {
    const bin: Bin = { firstDay: days[i] as string, counts: new Map(), total: 0 };
    for (const day of days.slice(i, i + daysPerBin)) {
      for (const [event, n] of Object.entries(active.get(day) ?? {})) {
        bin.counts.set(event, (bin.counts.get(event) ?? 0) + n);
        bin.total += n;
      }
    }
    bins.push(bin);
  }
  return { bins, daysPerBin };
}

/** 1, 2, 2.5 or 5 times a power of ten, at least `x`. */
function niceStep(x: number): number {
  if (x <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return Number.isInteger(m * p) ? m * p : Math.ceil(m * p);
  return 10 * p;
}

function dayLabel(day: string, withYear: boolean): string {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(day);
  if (!m) return day;
  const label = `${Number(m[3])} ${MONTHS[Number(m[2]) - 1] ?? m[2]}`;
  return withYear ? `${label} ${m[1]}` : label;
}

/** Draws the chart with its caption at box; returns the height used, legend included. */
export function drawActivityChart(layout: Layout, summary: ReportSummary, box: ChartBox): number {
  const c = layout.canvas;
  const { sans, sansBold } = layout.fonts;
  const tickSize = 6.8;

  const named = summary.byEvent.slice(0, summary.byEvent.length > SERIES_COLOURS.length ? SERIES_COLOURS.length - 1 : SERIES_COLOURS.length);
  const series = named.map((e, i) => ({ key: e.event, label: e.event, count: e.count, colour: SERIES_COLOURS[i] as Rgb }));
  const otherCount = summary.byEvent.slice(named.length).reduce((n, e) => n + e.count, 0);
  if (otherCount > 0) series.push({ key: OTHER, label: `other (${summary.byEvent.length - named.length} types)`, count: otherCount, colour: OTHER_COLOUR });
  const namedKeys = new Set(named.map((e) => e.event));

  const { bins, daysPerBin } = binDays(summary, Math.floor(box.width / 5));
  const maxTotal = bins.reduce((m, b) => Math.max(m, b.total), 0);
  const step = niceStep(Math.max(1, maxTotal) / 4);
  const yMax = Math.max(step, Math.ceil(maxTotal / step) * step);

  const axisLabelWidth = sans.width(formatCount(yMax), tickSize) + 6;
  const plotX = box.x + axisLabelWidth;
  const plotW = box.width - axisLabelWidth;
  const caption = daysPerBin === 1 ? 'Entries per day (UTC), by event type' : `Entries per ${daysPerBin} days (UTC), by event type`;
  c.text(box.x, box.top + 8, caption, sansBold, 8, THEME.ink);
  const plotTop = box.top + 22;
  const plotBottom = plotTop + box.plotHeight;

  // Gridlines and y labels.
  for (let v = 0; v <= yMax; v += step) {
    const y = plotBottom - (v / yMax) * box.plotHeight;
    c.line(plotX, y, plotX + plotW, y, v === 0 ? THEME.faint : THEME.rule, v === 0 ? 0.7 : 0.4);
    const label = formatCount(v);
    c.text(plotX - 5 - sans.width(label, tickSize), y + tickSize * 0.35, label, sans, tickSize, THEME.muted);
  }

  // Stacked bars: the most frequent type at the bottom of each stack.
  const slot = bins.length > 0 ? plotW / bins.length : plotW;
  const barW = Math.max(0.6, slot * (bins.length > 40 ? 0.82 : 0.68));
  bins.forEach((bin, i) => {
    const x = plotX + i * slot + (slot - barW) / 2;
    let y = plotBottom;
    for (const s of series) {
      const n =
        s.key === OTHER
          ? [...bin.counts].reduce((sum, [event, v]) => sum + (namedKeys.has(event) ? 0 : v), 0)
          : (bin.counts.get(s.key) ?? 0);
      if (n === 0) continue;
      const h = (n / yMax) * box.plotHeight;
      c.fillRect(x, y - h, barW, h, s.colour);
      y -= h;
    }
  });

  // X labels at a regular step wide enough for the widest label; one that
  // would still touch its neighbour (after clamping to the chart) is skipped.
  const years = new Set(bins.map((b) => b.firstDay.slice(0, 4)));
  const withYear = years.size > 1;
  const labels = bins.map((b) => dayLabel(b.firstDay, withYear));
  const widest = labels.reduce((m, l) => Math.max(m, sans.width(l, tickSize)), 0);
  const every = Math.max(1, Math.ceil((widest + 8) / slot));
  let lastEnd = -Infinity;
  labels.forEach((label, i) => {
    if (i % every !== 0) return;
    const w = sans.width(label, tickSize);
    const centre = plotX + i * slot + slot / 2;
    const cx = Math.min(Math.max(centre - w / 2, box.x), box.x + box.width - w);
    if (cx < lastEnd + 6) return;
    lastEnd = cx + w;
    c.line(centre, plotBottom, centre, plotBottom + 2.5, THEME.faint, 0.5);
    c.text(cx, plotBottom + 4 + tickSize, label, sans, tickSize, THEME.muted);
  });
  if (bins.length === 0) {
    const note = 'No entries in this report';
    c.text(plotX + (plotW - sans.width(note, 8)) / 2, plotTop + box.plotHeight / 2, note, sans, 8, THEME.muted);
  }

  // Legend, flowing over as many rows as it needs.
  const legendSize = 7.2;
  let lx = plotX;
  let ly = plotBottom + 4 + tickSize + 12;
  for (const s of series) {
    const label = truncate(`${s.label}  ${formatCount(s.count)}`, sans, legendSize, plotW - 12);
    const w = 9 + sans.width(label, legendSize) + 14;
    if (lx + w > plotX + plotW && lx > plotX) {
      lx = plotX;
      ly += legendSize * 1.8;
    }
    c.fillRect(lx, ly - legendSize * 0.78, 6.5, 6.5, s.colour);
    c.text(lx + 9, ly, label, sans, legendSize, THEME.text);
    lx += w;
  }
  return ly + legendSize * 0.6 - box.top;
}
