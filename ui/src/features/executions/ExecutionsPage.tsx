// The executions: filters, cursor pages, and new runs appearing without a reload.
import { Link } from "react-router";

import {
  DECISIONS,
  EXECUTION_STATUSES,
  type Decision,
  type ExecutionStatus,
  type ExecutionSummary,
} from "../../api/types";
import { DecisionBadge, StatusBadge } from "../../components/Badge";
import { Empty, ErrorNotice, Loading } from "../../components/Notice";
import { PageHeader } from "../../components/Page";
import { Pager, useCursorPaging } from "../../components/Pager";
import { DateTime, formatDuration } from "../../components/Time";
import { useDebounced } from "../../components/useDebounced";
import { useSearchParam } from "../../components/useSearchParam";
import { LiveIndicator } from "../../app/live";
import { type ExecutionFilters, useExecutions } from "./api";

/** A `datetime-local` value (the user's local time) as RFC 3339, or nothing. */
function toRfc3339(local: string | null): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function ExecutionsPage() {
  const [params, setParam, clearParams] = useSearchParam();
  const status = params.get("status");
  const decision = params.get("decision");
  const typed: ExecutionFilters = {
    workflow_id: params.get("workflow_id")?.trim() || undefined,
    status: EXECUTION_STATUSES.includes(status as ExecutionStatus) ? (status as ExecutionStatus) : undefined,
    decision: DECISIONS.includes(decision as Decision) ? (decision as Decision) : undefined,
    since: toRfc3339(params.get("since")),
    until: toRfc3339(params.get("until")),
  };
  const filtersKey = useDebounced(JSON.stringify(typed));
  const filters = JSON.parse(filtersKey) as ExecutionFilters;
  const paging = useCursorPaging(filtersKey);
  const executions = useExecutions({ ...filters, cursor: paging.cursor });

  const filtered = [...params.keys()].length > 0;

  return (
    <>
      <PageHeader title="Executions">
        <LiveIndicator />
      </PageHeader>
      <form
        role="search"
        aria-label="Filter executions"
        className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-6"
        onSubmit={(e) => e.preventDefault()}
      >
        <div className="lg:col-span-2">
          <label htmlFor="ex-workflow" className="label">
            Workflow id
          </label>
          <input
            id="ex-workflow"
            className="input"
            value={params.get("workflow_id") ?? ""}
            onChange={(e) => setParam("workflow_id", e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="ex-status" className="label">
            Status
          </label>
          <select
            id="ex-status"
            className="input"
            value={status ?? ""}
            onChange={(e) => setParam("status", e.target.value)}
          >
            <option value="">Any</option>
            {EXECUTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="ex-decision" className="label">
            Decision
          </label>
          <select
            id="ex-decision"
            className="input"
            value={decision ?? ""}
            onChange={(e) => setParam("decision", e.target.value)}
          >
            <option value="">Any</option>
            {DECISIONS.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="ex-since" className="label">
            Started after
          </label>
          <input
            id="ex-since"
            type="datetime-local"
            className="input"
            value={params.get("since") ?? ""}
            onChange={(e) => setParam("since", e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="ex-until" className="label">
            Started before
          </label>
          <input
            id="ex-until"
            type="datetime-local"
            className="input"
            value={params.get("until") ?? ""}
            onChange={(e) => setParam("until", e.target.value)}
          />
        </div>
        {filtered ? (
          <div className="sm:col-span-2 lg:col-span-6">
            <button type="button" className="btn" onClick={clearParams}>
              Clear filters
            </button>
          </div>
        ) : null}
      </form>

      <div className="card overflow-x-auto">
        {executions.isPending ? (
          <Loading />
        ) : executions.isError && !executions.data ? (
          <div className="p-3">
            <ErrorNotice error={executions.error} what="list executions" />
          </div>
        ) : executions.data.executions.length === 0 ? (
          <Empty>No execution matches.</Empty>
        ) : (
          <ExecutionTable executions={executions.data.executions} />
        )}
      </div>
      {executions.isError && executions.data ? (
        <div className="mt-3">
          <ErrorNotice error={executions.error} what="refresh the list" />
        </div>
      ) : null}
      <Pager paging={paging} nextCursor={executions.data?.next_cursor} />
    </>
  );
}

export function ExecutionTable({ executions }: { executions: ExecutionSummary[] }) {
  return (
    <table className="table">
      <caption className="sr-only">Executions, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Execution</th>
          <th scope="col">Workflow</th>
          <th scope="col">Status</th>
          <th scope="col">Decision</th>
          <th scope="col">Event</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody>
        {executions.map((ex) => (
          <tr key={ex.id}>
            <td>
              <Link to={`/executions/${encodeURIComponent(ex.id)}`} className="mono">
                {ex.id}
              </Link>
              {ex.error ? (
                <div className="mt-1 line-clamp-2 max-w-md text-xs text-red-700 dark:text-red-400" title={ex.error}>
                  {ex.error}
                </div>
              ) : null}
            </td>
            <td>
              <Link to={`/workflows/${encodeURIComponent(ex.workflow_id)}`} className="mono">
                {ex.workflow_id}
              </Link>{" "}
              <span className="muted text-xs">v{ex.workflow_version}</span>
            </td>
            <td>
              <StatusBadge status={ex.status} />
            </td>
            <td>
              <DecisionBadge decision={ex.decision} />
            </td>
            <td className="mono">
              {ex.trigger_event ?? (
                <span className="muted" title="Started by hand or by a schedule">
                  —
                </span>
              )}
            </td>
            <td>
              <DateTime value={ex.started_at} />
            </td>
            <td className="whitespace-nowrap">{formatDuration(ex.duration_ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
