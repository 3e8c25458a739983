/**
 * Small server-rendered SVG charts for the console: no script, no external file, scaled by the page
 * (viewBox), with their figures repeated in a table for screen readers and for reading exact values.
 */
export interface ChartSvg {
  id: string;
  title: string;
  /** SVG markup built from numbers and the escaped words below only: the template inserts it raw. */
  svg: string;
  legend: Array<{ name: string; colour: string }>;
  /** One line per hour, e.g. `9 delivered, 3 failed` (a list, not a table: the page's table is the deliveries). */
  rows: Array<{ label: string; text: string }>;
}

interface Series<T> {
  name: string;
  colour: string;
  values: T[];
}

// A narrow canvas: at 390 px its 13-unit text still reads at ~10 px; wide screens cap it (console.css).
const W = 420;
const H = 190;
const LEFT = 44;
const RIGHT = 22;
const TOP = 10;
const BOTTOM = 24;
const PLOT_W = W - LEFT - RIGHT;
const PLOT_H = H - TOP - BOTTOM;

export const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** 1, 2 or 5 times a power of ten, at least `value` (an axis maximum a reader can take in). */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

const round = (n: number) => Math.round(n * 10) / 10;
const formatValue = (n: number, unit = '') =>
  `${n >= 100 || Number.isInteger(n) ? Math.round(n) : n >= 1 ? n.toFixed(1) : n.toFixed(2)}${unit}`;

function frame(labels: string[], max: number, unit: string, title: string, body: string): string {
  const grid = [0, 0.5, 1]
    .map((f) => {
      const y = round(TOP + PLOT_H * (1 - f));
      return `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y}" y2="${y}" stroke="#d0d7de" stroke-width="1"/><text x="${LEFT - 6}" y="${y + 4}" text-anchor="end" font-size="13" fill="#57606a">${escapeXml(formatValue(max * f, unit))}</text>`;
    })
    .join('');
  const slot = PLOT_W / labels.length;
  const ticks = labels
    .map((label, i) =>
      (labels.length - 1 - i) % 6 === 0 // the current hour, and every sixth before it
        ? `<text x="${round(LEFT + slot * (i + 0.5))}" y="${H - 6}" text-anchor="middle" font-size="13" fill="#57606a">${escapeXml(label)}</text>`
        : '',
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="${escapeXml(title)}"><title>${escapeXml(title)}</title>${grid}${body}${ticks}</svg>`;
}

/** Stacked bars, one per label (hour). */
export function barChart({
  id,
  title,
  labels,
  series,
}: {
  id: string;
  title: string;
  labels: string[];
  series: Series<number>[];
}): ChartSvg {
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = niceCeiling(Math.max(2, ...totals)); // counts: at least 0, 1, 2 on the axis
  const slot = PLOT_W / labels.length;
  const barW = round(Math.max(1, slot * 0.7));
  let bars = '';
  labels.forEach((label, i) => {
    let base = 0;
    for (const s of series) {
      const v = s.values[i] ?? 0;
      if (v <= 0) continue;
      const h = (PLOT_H * v) / max;
      const y = TOP + PLOT_H * (1 - (base + v) / max);
      bars += `<rect x="${round(LEFT + slot * i + (slot - barW) / 2)}" y="${round(y)}" width="${barW}" height="${round(Math.max(h, 1))}" fill="${s.colour}"><title>${escapeXml(`${label}: ${v} ${s.name}`)}</title></rect>`;
      base += v;
    }
  });
  return {
    id,
    title,
    svg: frame(labels, max, '', title, bars),
    legend: series.map(({ name, colour }) => ({ name, colour })),
    rows: labels.map((label, i) => ({ label, text: series.map((s) => `${s.values[i] ?? 0} ${s.name}`).join(', ') })),
  };
}

/** Lines with a dot per value; a missing value (null) breaks the line. */
export function lineChart({
  id,
  title,
  labels,
  unit,
  series,
}: {
  id: string;
  title: string;
  labels: string[];
  unit: string;
  series: Series<number | null>[];
}): ChartSvg {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = niceCeiling(Math.max(0, ...all));
  const slot = PLOT_W / labels.length;
  const x = (i: number) => round(LEFT + slot * (i + 0.5));
  const y = (v: number) => round(TOP + PLOT_H * (1 - v / max));
  let body = '';
  for (const s of series) {
    let segment: string[] = [];
    const flush = () => {
      if (segment.length > 1)
        body += `<polyline points="${segment.join(' ')}" fill="none" stroke="${s.colour}" stroke-width="2"/>`;
      segment = [];
    };
    s.values.forEach((v, i) => {
      if (v === null) return flush();
      segment.push(`${x(i)},${y(v)}`);
      body += `<circle cx="${x(i)}" cy="${y(v)}" r="3" fill="${s.colour}"><title>${escapeXml(`${labels[i]}: ${s.name} ${formatValue(v, unit)}`)}</title></circle>`;
    });
    flush();
  }
  return {
    id,
    title,
    svg: frame(labels, max, unit, title, body),
    legend: series.map(({ name, colour }) => ({ name, colour })),
    rows: labels.map((label, i) => ({
      label,
      text: series
        .map(
          (s) =>
            `${s.name} ${s.values[i] === null || s.values[i] === undefined ? '-' : formatValue(s.values[i]!, unit)}`,
        )
        .join(', '),
    })),
  };
}
