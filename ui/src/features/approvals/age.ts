// The age filter: the API filters approvals by status, team and entity but not by time, so
// "older than" is applied here, to the approvals loaded, from when each was requested.

export const AGES = [
  { value: "", label: "Any age", ms: 0 },
  { value: "1h", label: "Older than 1 hour", ms: 3_600_000 },
  { value: "24h", label: "Older than 24 hours", ms: 86_400_000 },
  { value: "7d", label: "Older than 7 days", ms: 7 * 86_400_000 },
] as const;

export type Age = (typeof AGES)[number]["value"];

export function ageMs(value: string | null): number {
  return AGES.find((a) => a.value === value)?.ms ?? 0;
}

/** Whether an approval requested at `requestedAt` is at least `minMs` old at `now`. */
export function olderThan(requestedAt: string, minMs: number, now: number): boolean {
  if (minMs === 0) return true;
  const at = new Date(requestedAt).getTime();
  return !Number.isNaN(at) && now - at >= minMs;
}
