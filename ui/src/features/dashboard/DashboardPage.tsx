// The dashboard: the last 24 hours by status, what waits for a decision, what failed lately.
// Counted from the executions list for now; charts come with the statistics endpoint.
import { Link } from "react-router";

import { EXECUTION_STATUSES, type ExecutionStatus } from "../../api/types";
import { StatusBadge } from "../../components/Badge";
import { Empty, ErrorNotice, Loading } from "../../components/Notice";
import { PageHeader } from "../../components/Page";
import { useApprovals } from "../approvals/api";
import { useExecutions } from "../executions/api";
import { ExecutionTable } from "../executions/ExecutionsPage";

const DAY_MS = 24 * 60 * 60 * 1000;
const COUNTED = 1000;

/** `YYYY-MM-DDTHH:mm` in local time, as a datetime-local field shows it. */
function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function DashboardPage() {
  // Rounded to the minute so the query's key (and cache) holds still between polls.
  const since = new Date(Math.floor(Date.now() / 60_000) * 60_000 - DAY_MS);
  const recent = useExecutions({ since: since.toISOString(), limit: COUNTED });
  const failed = useExecutions({ status: "failed", limit: 10 });
  const pending = useApprovals({ status: "pending", limit: 500 });

  const counts = new Map<ExecutionStatus, number>();
  for (const ex of recent.data?.executions ?? []) counts.set(ex.status, (counts.get(ex.status) ?? 0) + 1);
  const more = Boolean(recent.data?.next_cursor);
  const sinceParam = encodeURIComponent(localInput(since));

  return (
    <>
      <PageHeader title="Dashboard" />

      <section aria-labelledby="last-day" className="mb-8">
        <h2 id="last-day" className="mb-3 text-lg font-semibold">
          Executions in the last 24 hours
        </h2>
        {recent.isPending ? (
          <Loading />
        ) : recent.isError ? (
          <ErrorNotice error={recent.error} what="count executions" />
        ) : (
          <>
            <ul className="grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-8">
              <li className="card p-3">
                <Link to={`/executions?since=${sinceParam}`} className="block text-inherit no-underline hover:no-underline">
                  <span className="muted block text-xs font-medium">All</span>{" "}
                  <span className="block text-2xl font-semibold">
                    {recent.data.executions.length}
                    {more ? "+" : ""}
                  </span>
                </Link>
              </li>
              {EXECUTION_STATUSES.map((status) => (
                <li key={status} className="card p-3">
                  <Link
                    to={`/executions?status=${status}&since=${sinceParam}`}
                    className="block text-inherit no-underline hover:no-underline"
                  >
                    <StatusBadge status={status} />{" "}
                    <span className="block text-2xl font-semibold">{counts.get(status) ?? 0}</span>
                  </Link>
                </li>
              ))}
            </ul>
            {more ? (
              <p className="muted mt-2 text-xs">Counted over the latest {COUNTED} executions of the period.</p>
            ) : null}
          </>
        )}
      </section>

      <section aria-labelledby="pending-approvals" className="mb-8">
        <h2 id="pending-approvals" className="mb-3 text-lg font-semibold">
          Pending approvals
        </h2>
        {pending.isPending ? (
          <Loading />
        ) : pending.isError ? (
          <ErrorNotice error={pending.error} what="count approvals" />
        ) : (
          <div className="card inline-block p-3">
            <Link to="/approvals" className="block text-inherit no-underline hover:no-underline">
              <span className="block text-2xl font-semibold">
                {pending.data.approvals.length}
                {pending.data.next_cursor ? "+" : ""}
              </span>{" "}
              <span className="muted text-xs">waiting for a decision</span>
            </Link>
          </div>
        )}
      </section>

      <section aria-labelledby="recent-failures">
        <h2 id="recent-failures" className="mb-3 text-lg font-semibold">
          Recent failures
        </h2>
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
    </>
  );
}
