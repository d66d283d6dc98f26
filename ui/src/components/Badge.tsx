// Small coloured labels for statuses and decisions; the word is always written out, so colour
// is never the only cue.
import type { ApprovalStatus, Decision, ExecutionStatus, StepStatus } from "../api/types";

type Tone = "green" | "red" | "amber" | "blue" | "gray";

const TONES: Record<Tone, string> = {
  green: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300",
  red: "bg-red-100 text-red-800 dark:bg-red-900/50 dark:text-red-300",
  amber: "bg-amber-100 text-amber-900 dark:bg-amber-900/50 dark:text-amber-200",
  blue: "bg-sky-100 text-sky-800 dark:bg-sky-900/50 dark:text-sky-300",
  gray: "bg-zinc-200 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
};

const STATUS_TONE: Record<ExecutionStatus | StepStatus | ApprovalStatus, Tone> = {
  pending: "amber",
  running: "blue",
  waiting: "amber",
  retrying: "amber",
  completed: "green",
  failed: "red",
  cancelled: "gray",
  skipped: "gray",
  approved: "green",
  rejected: "red",
  expired: "gray",
  withdrawn: "gray",
};

export function Badge({ tone, children }: { tone: Tone; children: React.ReactNode }) {
  return (
    <span className={`inline-block rounded px-1.5 py-0.5 text-xs font-medium whitespace-nowrap ${TONES[tone]}`}>
      {children}
    </span>
  );
}

export function StatusBadge({ status }: { status: ExecutionStatus | StepStatus | ApprovalStatus }) {
  return <Badge tone={STATUS_TONE[status]}>{status}</Badge>;
}

export function DecisionBadge({ decision }: { decision: Decision | null | undefined }) {
  if (!decision) return <span className="muted">—</span>;
  return <Badge tone={decision === "allow" ? "green" : "red"}>{decision}</Badge>;
}
