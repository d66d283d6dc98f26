// What the hourly charts say in words: their accessible names, and the rows of the data tables
// that screen readers (and "Show the numbers") read instead of the picture. Pure functions.
import type { HourStats } from "../api";
import { formatRate } from "../api";

export type ChartKind = "executions" | "success";

/** One row of a chart's table: an hour, or a day when the range is long. */
export type PeriodRow = {
  start: string;
  label: string;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
  successRate: number | null;
};

const hourFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
});
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric" });

/** "Dec 5, 2:00 PM – 3:00 PM": the hour that starts at `start`. */
export function hourLabel(start: string): string {
  const from = new Date(start);
  return `${hourFormat.format(from)} – ${timeFormat.format(new Date(from.getTime() + 3_600_000))}`;
}

function rate(completed: number, failed: number): number | null {
  return completed + failed === 0 ? null : completed / (completed + failed);
}

/** Past two days, tables count per day: a month of hours is too long to listen to. */
export function perDay(hours: number): boolean {
  return hours > 48;
}

/** The table's rows: hours (or local days) in which runs finished, oldest first. */
export function periodRows(perHour: HourStats[], byDay: boolean): PeriodRow[] {
  const rows: PeriodRow[] = [];
  let last: PeriodRow | undefined;
  let lastDay = "";
  for (const hour of perHour) {
    const { completed, failed, cancelled, total } = hour.finished;
    if (total === 0) continue;
    const day = byDay ? new Date(hour.hour).toDateString() : "";
    if (byDay && last && day === lastDay) {
      last.completed += completed;
      last.failed += failed;
      last.cancelled += cancelled;
      last.total += total;
      last.successRate = rate(last.completed, last.failed);
      continue;
    }
    last = {
      start: hour.hour,
      label: byDay ? dayFormat.format(new Date(hour.hour)) : hourLabel(hour.hour),
      completed,
      failed,
      cancelled,
      total,
      successRate: hour.success_rate,
    };
    lastDay = day;
    rows.push(last);
  }
  return rows;
}

export const CHART_TITLES: Record<ChartKind, string> = {
  executions: "Executions per hour",
  success: "Success rate per hour",
};

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The chart's accessible name: its title, the range, and what a look at it would tell
 * ("Executions per hour over the last 24 hours: 116 finished …; the busiest hour …").
 */
export function chartSummary(kind: ChartKind, perHour: HourStats[], phrase: string): string {
  const title = `${CHART_TITLES[kind]} over ${phrase}`;
  const ran = perHour.filter((h) => h.finished.total > 0);
  if (ran.length === 0) return `${title}: no run finished.`;

  if (kind === "executions") {
    const sum = { completed: 0, failed: 0, cancelled: 0, total: 0 };
    let busiest = ran[0]!;
    for (const h of ran) {
      sum.completed += h.finished.completed;
      sum.failed += h.finished.failed;
      sum.cancelled += h.finished.cancelled;
      sum.total += h.finished.total;
      if (h.finished.total > busiest.finished.total) busiest = h;
    }
    return (
      `${title}: ${plural(sum.total, "run")} finished (${sum.completed} completed, ${sum.failed} failed, ` +
      `${sum.cancelled} cancelled) in ${plural(ran.length, "hour")}; the busiest, ${hourLabel(busiest.hour)}, ` +
      `had ${busiest.finished.total}.`
    );
  }

  const rated = perHour.filter((h) => h.success_rate !== null);
  if (rated.length === 0) return `${title}: no run completed or failed (only cancelled ones).`;
  let completed = 0;
  let failed = 0;
  let worst = rated[0]!;
  let best = rated[0]!;
  for (const h of rated) {
    completed += h.finished.completed;
    failed += h.finished.failed;
    if (h.success_rate! < worst.success_rate!) worst = h;
    if (h.success_rate! > best.success_rate!) best = h;
  }
  const overall = `${formatRate(rate(completed, failed))} overall over ${plural(rated.length, "hour")} with runs`;
  if (worst.success_rate === best.success_rate) return `${title}: ${overall}, ${formatRate(worst.success_rate)} in each.`;
  return (
    `${title}: ${overall}; the lowest, ${formatRate(worst.success_rate)}, in ${hourLabel(worst.hour)}, ` +
    `the highest ${formatRate(best.success_rate)}.`
  );
}
