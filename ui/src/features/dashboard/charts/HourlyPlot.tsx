// The hourly charts drawn with uPlot on a canvas. Loaded lazily (React.lazy, see Charts.tsx):
// uPlot stays out of the main bundle. The canvas takes its colours from CSS variables
// (index.css, --chart-*), so it is drawn again when the theme changes, and its size from its
// box, so it follows the layout.
import "uplot/dist/uPlot.min.css";
import "./chart.css";

import { useEffect, useMemo, useRef, useState } from "react";
import uPlot from "uplot";

import { useDarkTheme } from "../../../app/theme";
import { formatRate, type HourStats } from "../api";
import { type ChartKind, hourLabel } from "./hourly";

export type HourlyPlotProps = {
  kind: ChartKind;
  perHour: HourStats[];
  since: string;
  until: string;
  /** The chart's accessible name (role="img"): what it shows and what it says. */
  label: string;
  /** Tailwind height class of the drawing, e.g. "h-56". */
  heightClass: string;
};

type Colors = Record<"completed" | "failed" | "cancelled" | "rate" | "axis" | "grid", string>;

function readColors(el: Element): Colors {
  const style = getComputedStyle(el);
  const read = (name: string, fallback: string) => style.getPropertyValue(`--chart-${name}`).trim() || fallback;
  return {
    completed: read("completed", "#059669"),
    failed: read("failed", "#dc2626"),
    cancelled: read("cancelled", "#71717a"),
    rate: read("rate", "#0369a1"),
    axis: read("axis", "#52525b"),
    grid: read("grid", "#e4e4e7"),
  };
}

const HALF_HOUR_S = 1_800;
/** Tick steps of a count: whole runs only. */
const COUNT_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1_000, 2_000, 2_500, 5_000, 10_000, 20_000, 50_000, 100_000, 250_000, 500_000, 1_000_000];

/**
 * uPlot's columns: x is the middle of each hour (bars centred in their hour). Bars are drawn
 * from zero, largest first, so running sums stack them: cancelled on top of failed on top of
 * completed.
 */
function columns(kind: ChartKind, perHour: HourStats[]): uPlot.AlignedData {
  const x = perHour.map((h) => Date.parse(h.hour) / 1000 + HALF_HOUR_S);
  if (kind === "success") {
    return [x, perHour.map((h) => (h.success_rate === null ? null : Math.round(h.success_rate * 1000) / 10))];
  }
  const completed = perHour.map((h) => h.finished.completed);
  const failed = perHour.map((h) => h.finished.completed + h.finished.failed);
  const all = perHour.map((h) => h.finished.total);
  return [x, all, failed, completed];
}

const tickHour = new Intl.DateTimeFormat(undefined, { hour: "numeric" });
const tickDay = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/** Time ticks in the reader's locale: hours ("4 PM"), the date at midnight; dates past a day's step. */
function timeTicks(_u: uPlot, splits: number[], _axis: number, _space: number, step: number): string[] {
  return splits.map((s) => {
    const date = new Date(s * 1000);
    if (step >= 86_400 || (date.getHours() === 0 && date.getMinutes() === 0)) return tickDay.format(date);
    return tickHour.format(date);
  });
}

function axis(colors: Colors, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    stroke: colors.axis,
    grid: { stroke: colors.grid, width: 1 },
    ticks: { stroke: colors.grid, width: 1 },
    font: "12px system-ui, sans-serif",
    ...extra,
  };
}

function options(
  kind: ChartKind,
  colors: Colors,
  size: { width: number; height: number },
  range: [number, number],
  points: number,
  onHover: (idx: number | null) => void,
): uPlot.Options {
  const base = {
    ...size,
    legend: { show: false },
    cursor: { drag: { x: false, y: false, setScale: false }, y: false, points: { show: kind === "success" } },
    hooks: { setCursor: [(u: uPlot) => onHover(u.cursor.idx ?? null)] },
  };
  const x: uPlot.Scale = { time: true, range: () => range };
  if (kind === "success") {
    return {
      ...base,
      scales: { x, y: { range: [0, 100] } },
      axes: [
        axis(colors, { values: timeTicks }),
        axis(colors, { values: (_u, splits) => splits.map((v) => `${v} %`), size: 52 }),
      ],
      series: [
        {},
        {
          label: "Success rate",
          stroke: colors.rate,
          width: 2,
          spanGaps: false,
          // A lone hour between empty ones has no line to be seen on: show every point while few.
          points: { show: points <= 200, size: 6, fill: colors.rate, stroke: colors.rate },
        },
      ],
    };
  }
  const bars = uPlot.paths.bars?.({ size: [0.85, 48, 1], align: 0 });
  const bar = (label: string, color: string): uPlot.Series => ({
    label,
    fill: color,
    stroke: color,
    width: 0,
    paths: bars,
    points: { show: false },
  });
  return {
    ...base,
    scales: { x, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
    axes: [axis(colors, { values: timeTicks }), axis(colors, { incrs: COUNT_STEPS, size: 48 })],
    series: [{}, bar("Cancelled", colors.cancelled), bar("Failed", colors.failed), bar("Completed", colors.completed)],
  };
}

function hoverText(kind: ChartKind, hour: HourStats | undefined): string {
  if (!hour) return "";
  const f = hour.finished;
  const when = hourLabel(hour.hour);
  if (kind === "success") {
    return hour.success_rate === null
      ? `${when}: no run completed or failed`
      : `${when}: ${formatRate(hour.success_rate)} (${f.completed} completed, ${f.failed} failed)`;
  }
  return `${when}: ${f.completed} completed, ${f.failed} failed, ${f.cancelled} cancelled`;
}

export default function HourlyPlot({ kind, perHour, since, until, label, heightClass }: HourlyPlotProps) {
  const box = useRef<HTMLDivElement>(null);
  const dark = useDarkTheme();
  const [hovered, setHovered] = useState<number | null>(null);
  const data = useMemo(() => columns(kind, perHour), [kind, perHour]);
  const rated = useMemo(() => perHour.filter((h) => h.success_rate !== null).length, [perHour]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const range: [number, number] = [Date.parse(since) / 1000, Date.parse(until) / 1000];
    const size = () => ({ width: Math.max(el.clientWidth, 120), height: Math.max(el.clientHeight, 80) });
    const plot = new uPlot(options(kind, readColors(el), size(), range, rated, setHovered), data, el);
    // Only the width follows the layout; the height is the box's own.
    let width = el.clientWidth;
    const observer = new ResizeObserver(() => {
      if (el.clientWidth === width) return;
      width = el.clientWidth;
      plot.setSize(size());
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
    // `dark`: the colours are read again from the CSS variables of the new theme.
  }, [kind, data, since, until, rated, dark]);

  return (
    <div className="weir-chart">
      <div ref={box} role="img" aria-label={label} className={`${heightClass} w-full overflow-hidden`} />
      <p aria-hidden="true" className="muted mt-1 min-h-5 text-xs">
        {hovered === null ? "Point at an hour to see its figures." : hoverText(kind, perHour[hovered])}
      </p>
    </div>
  );
}
