// One execution: its summary, its timeline, and retry or cancel.
import { useCallback, useMemo, useState } from "react";
import { Link, useParams } from "react-router";

import { isApiError } from "../../api/client";
import type { Execution, StepEntry } from "../../api/types";
import { DecisionBadge, StatusBadge } from "../../components/Badge";
import { Dialog } from "../../components/Dialog";
import { JsonBlock } from "../../components/Json";
import { ErrorNotice, Loading } from "../../components/Notice";
import { PageHeader } from "../../components/Page";
import { Term } from "../../components/Term";
import { DateTime, formatDuration } from "../../components/Time";
import { isActive, useExecution, useExecutionAction, useTrace } from "./api";
import { ExecutionGraph } from "./ExecutionGraph";
import { attemptElementId, Timeline } from "./Timeline";

export function ExecutionDetailPage() {
  const { id = "" } = useParams();
  const execution = useExecution(id);

  if (execution.isPending) return <Loading />;
  if (execution.isError) {
    return (
      <>
        <PageHeader title="Execution" />
        {isApiError(execution.error, 404) ? (
          <p>
            There is no execution <span className="mono">{id}</span> here. <Link to="/executions">All executions</Link>
          </p>
        ) : (
          <ErrorNotice error={execution.error} what="load the execution" />
        )}
      </>
    );
  }
  return <ExecutionView execution={execution.data} />;
}

function ExecutionView({ execution }: { execution: Execution }) {
  const active = isActive(execution.status);
  const trace = useTrace(execution.id, active);
  const action = useExecutionAction(execution.id);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [selectedStep, setSelectedStep] = useState<string | null>(null);
  const timeline = trace.data?.timeline;
  const entries = useMemo(
    () => (timeline ?? []).filter((e): e is StepEntry => e.kind === "step"),
    [timeline],
  );
  const selectStep = useCallback(
    (stepId: string) => {
      setSelectedStep(stepId);
      const first = entries.find((e) => e.step_id === stepId);
      if (!first) return;
      const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      document.getElementById(attemptElementId(first.key))?.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "center" });
    },
    [entries],
  );
  const canRetry = execution.status === "failed";
  const canCancel = active;

  return (
    <>
      <PageHeader title={`Execution of ${execution.workflow_id}`}>
        {canRetry ? (
          <button type="button" className="btn btn-primary" disabled={action.isPending} onClick={() => action.mutate("retry")}>
            Retry
          </button>
        ) : null}
        {canCancel ? (
          <button type="button" className="btn btn-danger" disabled={action.isPending} onClick={() => setConfirmCancel(true)}>
            Cancel
          </button>
        ) : null}
      </PageHeader>

      {action.isError ? (
        <div className="mb-3">
          <ErrorNotice error={action.error} what={action.variables === "retry" ? "retry the execution" : "cancel the execution"} />
        </div>
      ) : null}
      {action.isSuccess ? (
        <p role="status" className="mb-3 text-sm text-emerald-700 dark:text-emerald-400">
          {action.data.status === "retrying" ? "Retrying from the failed step…" : "Cancelling…"}
        </p>
      ) : null}

      <section aria-labelledby="summary-heading" className="card mb-6 p-4">
        <h2 id="summary-heading" className="sr-only">
          Summary
        </h2>
        <dl className="grid gap-x-6 gap-y-3 text-sm sm:grid-cols-2 lg:grid-cols-4">
          <Term term="Status">
            <StatusBadge status={execution.status} />
          </Term>
          <Term term="Decision">
            <DecisionBadge decision={execution.decision} />
          </Term>
          <Term term="Workflow">
            <Link to={`/workflows/${encodeURIComponent(execution.workflow_id)}`} className="mono">
              {execution.workflow_id}
            </Link>{" "}
            <span className="muted">v{execution.workflow_version}</span>
          </Term>
          <Term term="Execution id">
            <span className="mono break-all">{execution.id}</span>
          </Term>
          <Term term="Started">
            <DateTime value={execution.started_at} />
          </Term>
          <Term term="Completed">
            <DateTime value={execution.completed_at} />
          </Term>
          <Term term="Duration">{formatDuration(execution.duration_ms)}</Term>
          <Term term="Trigger event">
            {execution.trigger_event ? <span className="mono">{execution.trigger_event}</span> : <span className="muted">—</span>}
          </Term>
          {execution.parent_id ? (
            <Term term="Started by run">
              <Link to={`/executions/${encodeURIComponent(execution.parent_id)}`} className="mono break-all">
                {execution.parent_id}
              </Link>
            </Term>
          ) : null}
          {execution.reason ? (
            <Term term="Reason" wide>
              {execution.reason}
            </Term>
          ) : null}
          {execution.error ? (
            <Term term="Error" wide>
              <span className="break-words text-red-700 dark:text-red-400">{execution.error}</span>
            </Term>
          ) : null}
        </dl>
        <details className="mt-4">
          <summary className="cursor-pointer text-sm font-medium">Context</summary>
          <JsonBlock value={execution.context} label="The run's context" />
        </details>
      </section>

      {trace.data ? (
        <ExecutionGraph execution={execution} entries={entries} selected={selectedStep} onSelect={selectStep} />
      ) : null}

      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading" className="mb-3 text-lg font-semibold">
          Timeline
        </h2>
        {trace.isPending ? (
          <Loading />
        ) : trace.isError ? (
          <ErrorNotice error={trace.error} what="load the timeline" />
        ) : (
          <Timeline entries={trace.data.timeline} selectedStep={selectedStep} />
        )}
      </section>

      <Dialog open={confirmCancel} title="Cancel this execution?" onClose={() => setConfirmCancel(false)}>
        <p className="mb-4 text-sm">
          The run stops where it is: actions in flight are aborted and its remaining steps do not run.
        </p>
        <div className="flex justify-end gap-2">
          <button type="button" className="btn" onClick={() => setConfirmCancel(false)}>
            Keep running
          </button>
          <button
            type="button"
            className="btn btn-danger"
            onClick={() => {
              setConfirmCancel(false);
              action.mutate("cancel");
            }}
          >
            Cancel execution
          </button>
        </div>
      </Dialog>
    </>
  );
}
