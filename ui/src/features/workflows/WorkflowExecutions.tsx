// A workflow's executions, newest first, with its last run.
import { Link } from "react-router";

import type { ExecutionSummary } from "../../api/types";
import { StatusBadge } from "../../components/Badge";
import { Empty, ErrorNotice, Loading } from "../../components/Notice";
import { Pager, useCursorPaging } from "../../components/Pager";
import { DateTime } from "../../components/Time";
import { useExecutions } from "../executions/api";
import { ExecutionTable } from "../executions/ExecutionsPage";

/** When the workflow last ran, and how that run stands. */
function LastRun({ latest }: { latest: ExecutionSummary | undefined }) {
  return (
    <p className="mb-3 text-sm">
      <span className="muted">Last run: </span>
      {latest ? (
        <>
          <DateTime value={latest.started_at} /> <StatusBadge status={latest.status} />
        </>
      ) : (
        "never"
      )}
    </p>
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
      {paging.page === 1 && executions.data ? <LastRun latest={executions.data.executions[0]} /> : null}
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
