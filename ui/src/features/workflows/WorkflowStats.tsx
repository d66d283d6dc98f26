// How a workflow's runs went over a range (GET /api/v1/workflows/{id}/stats): the counts, its
// executions per hour (the dashboard's chart), and where the time goes, step by step.
import { ErrorNotice, Empty, Loading } from "../../components/Notice";
import { Term } from "../../components/Term";
import { formatDuration } from "../../components/Time";
import { formatCount, formatRate, type Range, RANGES, roundMs, type Stats, type StepStats } from "../dashboard/api";
import { HourlyChart } from "../dashboard/charts/HourlyChart";
import { RangePicker, useRange } from "../dashboard/RangePicker";
import { useWorkflowStats } from "./api";

export function WorkflowStats({ workflowId }: { workflowId: string }) {
  // A workflow runs less often than all of them: a week says more than a day.
  const [range, setRange] = useRange(RANGES[1]);
  const stats = useWorkflowStats(workflowId, range);

  return (
    <section aria-labelledby="wf-stats" className="mb-8">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 id="wf-stats" className="text-lg font-semibold">
          Statistics
        </h2>
        <RangePicker value={range} onChange={setRange} />
      </div>
      {stats.isPending ? (
        <Loading />
      ) : stats.isError && !stats.data ? (
        <ErrorNotice error={stats.error} what="load its statistics" />
      ) : (
        <div aria-busy={stats.isPlaceholderData} className={stats.isPlaceholderData ? "opacity-60" : undefined}>
          {stats.isError ? (
            <div className="mb-3">
              <ErrorNotice error={stats.error} what="refresh its statistics (these are older)" />
            </div>
          ) : null}
          <Figures stats={stats.data} range={range} />
          {stats.data.finished.total > 0 ? (
            <div className="grid gap-4">
              <div className="card min-w-0 p-4">
                <h3 className="mb-2 text-base font-semibold">Executions per hour</h3>
                <HourlyChart kind="executions" stats={stats.data} range={range} size="small" />
              </div>
              <WhereTimeGoes steps={stats.data.steps ?? []} range={range} />
            </div>
          ) : null}
        </div>
      )}
    </section>
  );
}

function Figures({ stats, range }: { stats: Stats; range: Range }) {
  const { finished, decisions, duration_ms: duration } = stats;
  if (finished.total === 0) {
    return <p className="card p-4 text-sm">No run of this workflow finished in {range.phrase}.</p>;
  }
  return (
    <dl className="card mb-4 grid gap-x-6 gap-y-3 p-4 text-sm sm:grid-cols-2 lg:grid-cols-4">
      <Term term="Finished runs">
        <span className="font-semibold">{formatCount(finished.total)}</span>{" "}
        <span className="muted">
          ({formatCount(finished.completed)} completed, {formatCount(finished.failed)} failed,{" "}
          {formatCount(finished.cancelled)} cancelled)
        </span>
      </Term>
      <Term term="Success rate">
        <span className="font-semibold">{formatRate(stats.success_rate)}</span>
      </Term>
      <Term term="Duration (p50 · p95 · p99)">
        {duration
          ? [duration.p50, duration.p95, duration.p99].map((ms) => formatDuration(roundMs(ms))).join(" · ")
          : "—"}
      </Term>
      <Term term="Decisions">
        {formatCount(decisions.allow)} allowed · {formatCount(decisions.block)} blocked ·{" "}
        {formatCount(decisions.none)} without a decision
      </Term>
    </dl>
  );
}

/** Slowest first (p95, then p50); steps without a duration last. */
function slowestFirst(steps: StepStats[]): StepStats[] {
  const key = (ms: number | null) => (ms === null ? -1 : ms);
  return [...steps].sort((a, b) => key(b.p95_ms) - key(a.p95_ms) || key(b.p50_ms) - key(a.p50_ms));
}

/** Each step's ended attempts, failures and durations, slowest first, with its p95 as a bar. */
function WhereTimeGoes({ steps, range }: { steps: StepStats[]; range: Range }) {
  const sorted = slowestFirst(steps);
  const longest = Math.max(0, ...sorted.map((s) => s.p95_ms ?? 0));
  return (
    <section aria-labelledby="wf-steps" className="card min-w-0">
      <h3 id="wf-steps" className="px-4 pt-4 text-base font-semibold">
        Where time goes
      </h3>
      <p className="muted px-4 pb-2 text-xs">
        Each step&apos;s attempts that ended in {range.phrase} (retries count each), slowest first.
      </p>
      {sorted.length === 0 ? (
        <Empty>No step ended in {range.phrase}.</Empty>
      ) : (
        // Focusable: on a narrow screen the table scrolls sideways, and the keyboard must reach it.
        <div className="overflow-x-auto" tabIndex={0} role="group" aria-labelledby="wf-steps">
          <table className="table">
            <caption className="sr-only">Where time goes: steps, slowest first</caption>
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col" className="text-right">
                  Runs
                </th>
                <th scope="col" className="text-right">
                  Failures
                </th>
                <th scope="col" className="text-right">
                  p50
                </th>
                <th scope="col" className="text-right">
                  p95
                </th>
                <th scope="col" className="min-w-24">
                  <span className="sr-only">p95 compared</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((step) => (
                <tr key={step.step_id}>
                  <th scope="row" className="mono">
                    {step.step_id}
                  </th>
                  <td className="text-right tabular-nums">{formatCount(step.runs)}</td>
                  <td
                    className={`text-right tabular-nums ${step.failures > 0 ? "font-semibold text-red-700 dark:text-red-400" : ""}`}
                  >
                    {formatCount(step.failures)}
                  </td>
                  <td className="text-right whitespace-nowrap tabular-nums">{formatDuration(roundMs(step.p50_ms))}</td>
                  <td className="text-right whitespace-nowrap tabular-nums">{formatDuration(roundMs(step.p95_ms))}</td>
                  <td aria-hidden="true" className="align-middle">
                    <Bar share={longest > 0 && step.p95_ms !== null ? step.p95_ms / longest : 0} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A bar as long as a share of its cell (a style set from script, which the CSP allows). */
function Bar({ share }: { share: number }) {
  return (
    <span className="block h-2 w-full rounded-sm bg-zinc-100 dark:bg-zinc-800">
      {share > 0 ? (
        <span className="block h-2 min-w-0.5 rounded-sm bg-(--chart-rate)" style={{ width: `${share * 100}%` }} />
      ) : null}
    </span>
  );
}
