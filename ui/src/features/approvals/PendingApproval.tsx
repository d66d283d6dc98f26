// One approval waiting for a decision: what it is about (with the figures of its entity, read
// from the requesting run), who decides, how long it has waited, the run, and Approve / Reject.
import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { Link } from "react-router";

import { api, unwrap } from "../../api/client";
import type { Approval } from "../../api/types";
import { DateTime, formatAge } from "../../components/Time";
import type { Verdict } from "./api";
import { approvalTitle } from "./DecisionDialog";
import { approvalSubject, showValue } from "./subject";

/** The requesting run, for its context: fetched once per run, refreshed by the live stream. */
function useRequestingRun(id: string) {
  return useQuery({
    queryKey: ["execution", id],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/executions/{id}", { params: { path: { id } }, signal })),
    staleTime: 60_000,
  });
}

export function PendingApproval({
  approval,
  now,
  canDecide,
  onDecide,
}: {
  approval: Approval;
  now: number;
  canDecide: boolean;
  onDecide: (verdict: Verdict) => void;
}) {
  const titleId = useId();
  const run = useRequestingRun(approval.execution_id);
  const fields = approvalSubject(run.data?.context, approval.entity);
  const title = approvalTitle(approval);

  return (
    <li className="card flex flex-wrap items-start gap-4 p-4" aria-labelledby={titleId}>
      <div className="min-w-0 flex-1">
        <div className="flex flex-wrap items-baseline gap-x-3">
          <h3 id={titleId} className="font-semibold">
            {title}
          </h3>
          <span className="muted text-xs">
            waiting {formatAge(approval.requested_at, now)}
          </span>
        </div>
        {approval.message ? <p className="mt-1 text-sm">{approval.message}</p> : null}
        {fields.length > 0 ? (
          <dl aria-label={`${approval.entity ?? "Entity"} details`} className="mt-2 flex flex-wrap gap-x-5 gap-y-1 text-sm">
            {fields.map((field) => (
              <div key={field.name}>
                <dt className="muted inline">{field.name}: </dt>
                <dd className="inline font-medium">{showValue(field.value)}</dd>
              </div>
            ))}
          </dl>
        ) : null}
        <dl className="muted mt-2 flex flex-wrap gap-x-5 gap-y-1 text-xs">
          <div>
            <dt className="inline">Team: </dt>
            <dd className="inline">{approval.approver_role ?? "anyone who may decide"}</dd>
          </div>
          <div>
            <dt className="inline">Requested: </dt>
            <dd className="inline">
              <DateTime value={approval.requested_at} />
            </dd>
          </div>
          {approval.expires_at ? (
            <div>
              <dt className="inline">Expires: </dt>
              <dd className="inline">
                <DateTime value={approval.expires_at} />
              </dd>
            </div>
          ) : null}
          <div>
            <dt className="inline">Step: </dt>
            <dd className="mono inline">{approval.step_id}</dd>
          </div>
        </dl>
        <p className="mt-2 text-sm">
          <Link to={`/executions/${encodeURIComponent(approval.execution_id)}`}>
            Requesting execution<span className="sr-only"> of {title}</span>
          </Link>
          {run.data ? (
            <span className="muted">
              {" "}
              of{" "}
              <Link to={`/workflows/${encodeURIComponent(run.data.workflow_id)}`} className="mono">
                {run.data.workflow_id}
              </Link>
            </span>
          ) : null}
        </p>
      </div>
      {canDecide ? (
        <div className="flex gap-2">
          <button type="button" className="btn btn-approve" aria-describedby={titleId} onClick={() => onDecide("approve")}>
            Approve
          </button>
          <button type="button" className="btn btn-danger" aria-describedby={titleId} onClick={() => onDecide("reject")}>
            Reject
          </button>
        </div>
      ) : null}
    </li>
  );
}
