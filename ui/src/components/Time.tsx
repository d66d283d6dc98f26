// Times and durations as people read them, with the exact value kept in the markup.
import { useEffect, useState } from "react";

const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function DateTime({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return <span>{value}</span>;
  return (
    <time dateTime={value} title={value} className="whitespace-nowrap">
      {format.format(date)}
    </time>
  );
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The time now, refreshed every `ms` (for "waiting 3 h"-style ages that must move on). */
export function useNow(ms = 60_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** How long ago a time was, as people say it ("3 h 20 min", "4 days"); "—" when it is not a time. */
export function formatAge(since: string | null | undefined, now: number): string {
  if (!since) return "—";
  const at = new Date(since).getTime();
  if (Number.isNaN(at)) return "—";
  const minutes = Math.floor(Math.max(0, now - at) / 60_000);
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

/**
 * How long ago a time was ("3 h 20 min ago"), the exact time in its tooltip and markup;
 * `never` when there is none.
 */
export function RelativeTime({ value, now, never = "never" }: { value: string | null | undefined; now: number; never?: string }) {
  if (!value) return <span className="muted">{never}</span>;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return <span>{value}</span>;
  const exact = format.format(date);
  return (
    <time dateTime={value} title={exact} className="whitespace-nowrap">
      {formatAge(value, now)} ago<span className="sr-only"> ({exact})</span>
    </time>
  );
}
