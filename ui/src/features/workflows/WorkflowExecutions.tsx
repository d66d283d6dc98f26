// A workflow's executions, newest first, with how the latest of them ended.
import { Link } from "react-router";

import type { ExecutionSummary } from "../../api/types";
import { Empty, ErrorNotice, Loading } from "../../components/Notice";
import { Pager, useCursorPaging } from "../../components/Pager";
import { DateTime } from "../../components/Time";
import { useExecutions } from "../executions/api";
import { ExecutionTable } from "../executions/ExecutionsPage";

const FINISHED = new Set(["completed", "failed", "cancelled"]);

/**
 * How the runs of a page ended: the API has no per-workflow statistics, so this counts the
 * page shown, and says so.
 */
function Outcomes({ executions }: { executions: ExecutionSummary[] }) {
  const finished = executions.filter((ex) => FINISHED.has(ex.status));
  const completed = finished.filter((ex) => ex.status === "completed").length;
  const latest = executions[0];
  return (
    <p className="muted mb-2 text-sm">
      Last run <DateTime value={latest?.started_at} />.{" "}
      {finished.length > 0
        ? `${completed} of the ${finished.length} finished runs listed below completed (${Math.round((completed / finished.length) * 100)} %).`
        : "None of the runs listed below has finished yet."}
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
      {executions.data && executions.data.executions.length > 0 && paging.page === 1 ? (
        <Outcomes executions={executions.data.executions} />
      ) : null}
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
