// The statistics resource (GET /api/v1/stats) and the ranges the console asks it for. The live
// stream invalidates ["stats"] as runs start and finish, at most every few seconds.
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { FALLBACK_POLL_MS } from "../../app/live";

export type Stats = components["schemas"]["Stats"];
export type HourStats = components["schemas"]["HourStats"];
export type StepStats = components["schemas"]["StepStats"];
export type WorkflowStatsRow = components["schemas"]["WorkflowStatsRow"];

export const RANGES = [
  { key: "24h", label: "24 hours", hours: 24, phrase: "the last 24 hours" },
  { key: "7d", label: "7 days", hours: 7 * 24, phrase: "the last 7 days" },
  { key: "30d", label: "30 days", hours: 30 * 24, phrase: "the last 30 days" },
] as const;

export type Range = (typeof RANGES)[number];

/** The range a URL parameter names, `fallback` (the last 24 hours) when it names none. */
export function rangeOf(key: string | null | undefined, fallback: Range = RANGES[0]): Range {
  return RANGES.find((r) => r.key === key) ?? fallback;
}

const HOUR_MS = 3_600_000;

/**
 * Where a range starts: whole hours, as the server counts them, the hour under way being the
 * last. Rounded, so a query's key holds still for the hour.
 */
export function rangeSince(range: Range, now = Date.now()): string {
  return new Date((Math.floor(now / HOUR_MS) - (range.hours - 1)) * HOUR_MS).toISOString();
}

export function useStats(range: Range) {
  const since = rangeSince(range);
  return useQuery({
    queryKey: ["stats", since],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/stats", { params: { query: { since } }, signal })),
    // Another range keeps the figures shown (dimmed) until its own arrive.
    placeholderData: keepPreviousData,
    refetchInterval: FALLBACK_POLL_MS,
  });
}

const countFormat = new Intl.NumberFormat();

/** A count as people read it: "28,098". */
export function formatCount(n: number): string {
  return countFormat.format(n);
}

/** A share of 1 as people read it: "86.2 %", "100 %"; "—" when there is none. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return "—";
  return `${Math.round(rate * 1000) / 10} %`;
}

/** A duration in milliseconds from the statistics (interpolated, so fractional). */
export function roundMs(ms: number | null | undefined): number | null {
  if (ms === null || ms === undefined) return null;
  return ms < 10 ? Math.round(ms * 10) / 10 : Math.round(ms);
}
