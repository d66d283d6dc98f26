// The dashboard: how runs went over a range (last 24 hours, 7 days, 30 days) from
// GET /api/v1/stats — finished runs, success rate, durations, every hour as charts, the
// workflows that fail most — and what is unfinished or waits for a decision now. The live
// stream refreshes it as runs finish.
import { Link } from "react-router";

import { LiveIndicator } from "../../app/live";
import { Empty, ErrorNotice, Loading } from "../../components/Notice";
import { PageHeader } from "../../components/Page";
import { formatDuration } from "../../components/Time";
import { useExecutions } from "../executions/api";
import { ExecutionTable } from "../executions/ExecutionsPage";
import { formatCount, formatRate, type Range, roundMs, type Stats, useStats } from "./api";
import { HourlyChart } from "./charts/HourlyChart";
import { FailingWorkflows } from "./FailingWorkflows";
import { RangePicker, useRange } from "./RangePicker";

export function DashboardPage() {
  const [range, setRange] = useRange();
  const stats = useStats(range);

  return (
    <>
      <PageHeader title="Dashboard">
        <LiveIndicator />
        <RangePicker value={range} onChange={setRange} />
      </PageHeader>

      {stats.isPending ? (
        <Loading />
      ) : stats.isError && !stats.data ? (
        <ErrorNotice error={stats.error} what="load the statistics" />
      ) : (
        <div
          aria-busy={stats.isPlaceholderData}
          className={stats.isPlaceholderData ? "opacity-60 transition-opacity" : "transition-opacity"}
        >
          {stats.isError ? (
            <div className="mb-4">
              <ErrorNotice error={stats.error} what="refresh the statistics (these are older)" />
            </div>
          ) : null}
          <Overview stats={stats.data} range={range} />
        </div>
      )}

      <RecentFailures />
    </>
  );
}

/** `YYYY-MM-DDTHH:mm` in local time, as the executions page's datetime-local filter reads it. */
function localInput(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function Overview({ stats, range }: { stats: Stats; range: Range }) {
  const { finished, decisions, duration_ms: duration, unfinished } = stats;
  const unfinishedTotal = unfinished.pending + unfinished.running + unfinished.waiting + unfinished.retrying;
  const nothingYet = finished.total === 0 && unfinishedTotal === 0;

  return (
    <>
      <div className="mb-6 grid gap-3 sm:grid-cols-2 lg:grid-cols-3 xl:grid-cols-5">
        <Tile title="Finished runs" when={range.phrase} value={formatCount(finished.total)}>
          <p>
            {formatCount(finished.completed)} completed · {formatCount(finished.failed)} failed ·{" "}
            {formatCount(finished.cancelled)} cancelled
          </p>
          {decisions.allow + decisions.block > 0 ? (
            <p>
              {formatCount(decisions.allow)} allowed · {formatCount(decisions.block)} blocked
            </p>
          ) : null}
          <p className="mt-1">
            <Link to={`/executions?since=${encodeURIComponent(localInput(stats.since))}`}>
              Executions of the range
            </Link>
          </p>
        </Tile>
        <Tile title="Success rate" when={range.phrase} value={formatRate(stats.success_rate)}>
          <p>
            {stats.success_rate === null
              ? "No run completed or failed."
              : `${formatCount(finished.completed)} completed of ${formatCount(finished.completed + finished.failed)} that completed or failed.`}
          </p>
        </Tile>
        <Tile
          title="Duration"
          when={range.phrase}
          value={duration ? `p50 ${formatDuration(roundMs(duration.p50))}` : "—"}
        >
          {duration ? (
            <p>
              p95 {formatDuration(roundMs(duration.p95))} · p99 {formatDuration(roundMs(duration.p99))}, of runs that
              completed or failed
            </p>
          ) : (
            <p>No run completed or failed.</p>
          )}
        </Tile>
        <Tile title="Unfinished runs" when="now" value={formatCount(unfinishedTotal)}>
          <ul className="flex flex-wrap gap-x-2">
            {(["running", "waiting", "pending", "retrying"] as const).map((status) => (
              <li key={status}>
                {unfinished[status] > 0 ? (
                  <Link to={`/executions?status=${status}`}>
                    {formatCount(unfinished[status])} {status}
                  </Link>
                ) : (
                  `0 ${status}`
                )}
              </li>
            ))}
          </ul>
        </Tile>
        <Tile title="Pending approvals" when="now" value={formatCount(stats.pending_approvals)}>
          <p>
            <Link to="/approvals">
              {stats.pending_approvals === 0 ? "Approvals" : "Decide them in Approvals"}
            </Link>
          </p>
        </Tile>
      </div>

      {nothingYet ? (
        <section aria-labelledby="no-runs" className="card mb-8 p-6 text-center">
          <h2 id="no-runs" className="text-lg font-semibold">
            No runs in {range.phrase}
          </h2>
          <p className="muted mt-1 text-sm">
            A run starts when an event arrives for an enabled workflow, by hand, or on a schedule; the charts
            appear with the first run that finishes.{" "}
            <Link to="/workflows" className="underline">
              See the workflows
            </Link>
            .
          </p>
        </section>
      ) : (
        <div className="mb-8 grid gap-4 lg:grid-cols-2">
          <ChartSection id="chart-executions" title="Executions per hour">
            <HourlyChart kind="executions" stats={stats} range={range} />
          </ChartSection>
          <ChartSection id="chart-success" title="Success rate per hour">
            <HourlyChart kind="success" stats={stats} range={range} />
          </ChartSection>
        </div>
      )}

      <FailingWorkflows workflows={stats.workflows} range={range} />
    </>
  );
}

/** One figure: its name, the time it is about, its value, and what it is made of. */
function Tile({
  title,
  when,
  value,
  children,
}: {
  title: string;
  when: string;
  value: string;
  children: React.ReactNode;
}) {
  return (
    <div className="card flex flex-col p-4">
      <h2 className="text-sm font-medium">{title}</h2>
      <p className="muted text-xs">{when === "now" ? "Now" : `In ${when}`}</p>
      <p className="mt-1 text-2xl font-semibold tabular-nums">{value}</p>
      <div className="muted mt-1 space-y-0.5 text-xs">{children}</div>
    </div>
  );
}

function ChartSection({ id, title, children }: { id: string; title: string; children: React.ReactNode }) {
  return (
    <section aria-labelledby={id} className="card min-w-0 p-4">
      <h2 id={id} className="mb-2 text-base font-semibold">
        {title}
      </h2>
      {children}
    </section>
  );
}

/** The latest failed runs, whatever the range: where to look first. */
function RecentFailures() {
  const failed = useExecutions({ status: "failed", limit: 5 });
  return (
    <section aria-labelledby="recent-failures">
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="recent-failures" className="text-lg font-semibold">
          Latest failures
        </h2>
        <Link to="/executions?status=failed" className="text-sm">
          All failed executions
        </Link>
      </div>
      <div className="card overflow-x-auto">
        {failed.isPending ? (
          <Loading />
        ) : failed.isError ? (
          <div className="p-3">
            <ErrorNotice error={failed.error} what="list failed executions" />
          </div>
        ) : failed.data.executions.length === 0 ? (
          <Empty>No execution failed.</Empty>
        ) : (
          <ExecutionTable executions={failed.data.executions} />
        )}
      </div>
    </section>
  );
}
