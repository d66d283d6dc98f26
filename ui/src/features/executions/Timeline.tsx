// A run's timeline: its start, every step attempt with its input, output and error (the
// server has redacted secrets), the values each condition compared, and its end.
import type { StepEntry, TimelineEntry } from "../../api/types";
import { DecisionBadge, StatusBadge } from "../../components/Badge";
import { JsonBlock } from "../../components/Json";
import { DateTime, formatDuration } from "../../components/Time";

/** One comparison a condition made, as the trace records it. */
type Comparison = {
  field?: unknown;
  operator: unknown;
  expected?: unknown;
  actual?: unknown;
  result?: unknown;
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every comparison recorded anywhere in a step's input or output (nested all/any included). */
export function comparisons(value: unknown, found: Comparison[] = [], depth = 0): Comparison[] {
  if (depth > 12) return found;
  if (Array.isArray(value)) {
    for (const item of value) comparisons(item, found, depth + 1);
  } else if (isRecord(value)) {
    if ("operator" in value && ("actual" in value || "expected" in value)) found.push(value as Comparison);
    for (const child of Object.values(value)) comparisons(child, found, depth + 1);
  }
  return found;
}

function show(value: unknown): string {
  return value === undefined ? "—" : JSON.stringify(value);
}

function ComparedValues({ step }: { step: StepEntry }) {
  const found = comparisons(step.input);
  if (found.length === 0) comparisons(step.output, found);
  if (found.length === 0) return null;
  return (
    <div className="mt-2 overflow-x-auto">
      <table className="table">
        <caption className="muted py-1 text-left text-xs font-semibold">Compared values</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Operator</th>
            <th scope="col">Expected</th>
            <th scope="col">Actual</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody className="mono">
          {found.map((c, i) => (
            <tr key={i}>
              <td>{typeof c.field === "string" ? c.field : show(c.field)}</td>
              <td>{show(c.operator).replace(/^"|"$/g, "")}</td>
              <td>{show(c.expected)}</td>
              <td>{show(c.actual)}</td>
              <td>{show(c.result)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function where(step: StepEntry): string | null {
  const parts: string[] = [];
  if (step.parent_step) parts.push(`in ${step.parent_step}`);
  if (step.branch !== undefined) parts.push(`branch ${step.branch}`);
  if (step.iteration !== undefined) parts.push(`iteration ${step.iteration}`);
  return parts.length ? parts.join(", ") : null;
}

function Step({ step }: { step: StepEntry }) {
  const failed = step.status === "failed";
  const location = where(step);
  return (
    <>
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h3 className="mono text-sm font-semibold">{step.step_id}</h3>
        <span className="muted text-xs">{step.type}</span>
        <StatusBadge status={step.status} />
        {step.attempt > 0 ? <span className="muted text-xs">attempt {step.attempt}</span> : null}
        {location ? <span className="muted text-xs">{location}</span> : null}
        <span className="muted ml-auto text-xs">
          <DateTime value={step.at} /> · {formatDuration(step.duration_ms)}
        </span>
      </div>
      {step.error && step.status === "skipped" ? (
        <p className="muted mt-2 text-sm">{step.error}</p>
      ) : step.error ? (
        <p className="mt-2 rounded bg-red-50 px-2 py-1 text-sm break-words text-red-800 dark:bg-red-950/50 dark:text-red-300">
          <span className="font-semibold">Error: </span>
          {step.error}
        </p>
      ) : null}
      <ComparedValues step={step} />
      <div className="mt-2 grid gap-2 lg:grid-cols-2">
        {step.input !== undefined ? (
          <details open={failed}>
            <summary className="cursor-pointer text-xs font-medium">Input</summary>
            <JsonBlock value={step.input} label={`Input of ${step.step_id}`} />
          </details>
        ) : null}
        {step.output !== undefined ? (
          <details open={failed}>
            <summary className="cursor-pointer text-xs font-medium">Output</summary>
            <JsonBlock value={step.output} label={`Output of ${step.step_id}`} />
          </details>
        ) : null}
      </div>
    </>
  );
}

const DOT: Record<string, string> = {
  started: "bg-sky-500",
  step: "bg-zinc-400 dark:bg-zinc-500",
  failed: "bg-red-500",
  finished: "bg-emerald-500",
};

/** The element of an attempt, for links and scrolling to it. */
export function attemptElementId(key: string): string {
  return `attempt-${key}`;
}

export function Timeline({ entries, selectedStep }: { entries: TimelineEntry[]; selectedStep?: string | null }) {
  return (
    <ol className="relative ml-2 border-l border-zinc-200 dark:border-zinc-700">
      {entries.map((entry, i) => {
        const dot =
          entry.kind === "step" && entry.status === "failed"
            ? DOT.failed
            : entry.kind === "finished" && entry.status === "failed"
              ? DOT.failed
              : DOT[entry.kind];
        return (
          <li
            key={entry.kind === "step" ? entry.key : `${entry.kind}-${i}`}
            id={entry.kind === "step" ? attemptElementId(entry.key) : undefined}
            tabIndex={entry.kind === "step" ? -1 : undefined}
            className="relative mb-4 ml-5 scroll-mt-4 rounded-lg"
          >
            <span aria-hidden="true" className={`absolute top-1.5 -left-[1.65rem] h-2.5 w-2.5 rounded-full ${dot}`} />
            <div
              className={`card p-3 ${
                entry.kind === "step" && entry.step_id === selectedStep
                  ? "ring-2 ring-sky-500 dark:ring-sky-400"
                  : ""
              }`}
            >
              {entry.kind === "started" ? (
                <div className="flex flex-wrap items-baseline gap-x-3 text-sm">
                  <h3 className="font-semibold">Started</h3>
                  <span className="muted">
                    {entry.trigger_event ? (
                      <>
                        by event <span className="mono">{entry.trigger_event}</span>
                      </>
                    ) : (
                      "by hand or by a schedule"
                    )}
                  </span>
                  <span className="muted ml-auto text-xs">
                    <DateTime value={entry.at} />
                  </span>
                </div>
              ) : entry.kind === "step" ? (
                <Step step={entry} />
              ) : (
                <div className="text-sm">
                  <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
                    <h3 className="font-semibold">Finished</h3>
                    <StatusBadge status={entry.status} />
                    <DecisionBadge decision={entry.decision} />
                    <span className="muted ml-auto text-xs">
                      <DateTime value={entry.at} />
                    </span>
                  </div>
                  {entry.reason ? <p className="mt-1">Reason: {entry.reason}</p> : null}
                  {entry.error ? <p className="mt-1 break-words text-red-700 dark:text-red-400">Error: {entry.error}</p> : null}
                </div>
              )}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
