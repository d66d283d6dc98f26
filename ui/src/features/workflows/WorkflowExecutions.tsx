// A workflow's executions, newest first, with its last run and how its runs ended lately.
import { Link } from "react-router";

import type { ExecutionSummary } from "../../api/types";
import { StatusBadge } from "../../components/Badge";
import { Empty, ErrorNotice, Loading } from "../../components/Notice";
import { Pager, useCursorPaging } from "../../components/Pager";
import { DateTime, formatDuration } from "../../components/Time";
import { useExecutions } from "../executions/api";
import { ExecutionTable } from "../executions/ExecutionsPage";
import { useWorkflowStats } from "./api";

const DAYS = 7;

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10} %`;
}

/** How the workflow's runs ended lately (GET /api/v1/workflows/{id}/stats), and its last run. */
function Outcomes({ workflowId, latest }: { workflowId: string; latest: ExecutionSummary | undefined }) {
  const stats = useWorkflowStats(workflowId, DAYS);
  return (
    <div className="mb-3 text-sm">
      <p>
        <span className="muted">Last run: </span>
        {latest ? (
          <>
            <DateTime value={latest.started_at} /> <StatusBadge status={latest.status} />
          </>
        ) : (
          "never"
        )}
      </p>
      {stats.isError ? (
        <ErrorNotice error={stats.error} what="load its statistics" />
      ) : stats.data ? (
        <p>
          <span className="muted">Last {DAYS} days: </span>
          {stats.data.finished.total === 0 ? (
            "no run finished."
          ) : (
            <>
              {stats.data.finished.total} finished ({stats.data.finished.completed} completed,{" "}
              {stats.data.finished.failed} failed, {stats.data.finished.cancelled} cancelled)
              {stats.data.success_rate !== null ? <>, success rate {percent(stats.data.success_rate)}</> : null}
              {stats.data.duration_ms ? (
                <>
                  , duration p50 {formatDuration(Math.round(stats.data.duration_ms.p50))} · p95{" "}
                  {formatDuration(Math.round(stats.data.duration_ms.p95))}
                </>
              ) : null}
              .
            </>
          )}
        </p>
      ) : null}
    </div>
  );
}

export function WorkflowExecutions({ workflowId }: { workflowId: string }) {
  const paging = useCursorPaging(workflowId);
  const executions = useExecutions({ workflow_id: workflowId, cursor: paging.cursor, limit: 25 });

  return (
    <section aria-labelledby="wf-executions">
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="wf-executions" className="text-lg font-semibold">
          Executions
        </h2>
        <Link to={`/executions?workflow_id=${encodeURIComponent(workflowId)}`} className="text-sm">
          Filter them on the executions page
        </Link>
      </div>
      {paging.page === 1 ? <Outcomes workflowId={workflowId} latest={executions.data?.executions[0]} /> : null}
      <div className="card overflow-x-auto">
        {executions.isPending ? (
          <Loading />
        ) : executions.isError && !executions.data ? (
          <div className="p-3">
            <ErrorNotice error={executions.error} what="list its executions" />
          </div>
        ) : executions.data.executions.length === 0 ? (
          <Empty>This workflow has not run yet.</Empty>
        ) : (
          <ExecutionTable executions={executions.data.executions} />
        )}
      </div>
      <Pager paging={paging} nextCursor={executions.data?.next_cursor} />
    </section>
  );
}
