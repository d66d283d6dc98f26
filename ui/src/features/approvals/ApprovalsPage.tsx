// The approval queue, pending first, then the history of decisions.
import { useId, useState } from "react";
import { Link, useSearchParams } from "react-router";

import type { Approval } from "../../api/types";
import { StatusBadge } from "../../components/Badge";
import { Empty, ErrorNotice, Loading } from "../../components/Notice";
import { PageHeader } from "../../components/Page";
import { Pager, useCursorPaging } from "../../components/Pager";
import { DateTime } from "../../components/Time";
import { useDebounced } from "../../components/useDebounced";
import { useApprovals, type ApprovalFilters, type Verdict } from "./api";
import { approvalTitle, DecisionDialog } from "./DecisionDialog";

export function ApprovalsPage() {
  const [params, setParams] = useSearchParams();
  const typed: ApprovalFilters = {
    role: params.get("team")?.trim() || undefined,
    entity: params.get("entity")?.trim() || undefined,
  };
  const filtersKey = useDebounced(JSON.stringify(typed));
  const filters = JSON.parse(filtersKey) as ApprovalFilters;
  const pendingPaging = useCursorPaging(filtersKey);
  const historyPaging = useCursorPaging(filtersKey);
  const pending = useApprovals({ ...filters, status: "pending", cursor: pendingPaging.cursor, limit: 100 });
  const history = useApprovals({ ...filters, cursor: historyPaging.cursor });
  const [deciding, setDeciding] = useState<{ approval: Approval; verdict: Verdict } | null>(null);
  const [done, setDone] = useState<string>();

  function setParam(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  }

  const decided = history.data?.approvals.filter((a) => a.status !== "pending") ?? [];

  return (
    <>
      <PageHeader title="Approvals" />
      <form
        role="search"
        aria-label="Filter approvals"
        className="mb-4 grid max-w-xl gap-3 sm:grid-cols-2"
        onSubmit={(e) => e.preventDefault()}
      >
        <div>
          <label htmlFor="ap-team" className="label">
            Team
          </label>
          <input
            id="ap-team"
            className="input"
            value={params.get("team") ?? ""}
            onChange={(e) => setParam("team", e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="ap-entity" className="label">
            Entity
          </label>
          <input
            id="ap-entity"
            className="input"
            placeholder="order"
            value={params.get("entity") ?? ""}
            onChange={(e) => setParam("entity", e.target.value)}
          />
        </div>
      </form>

      {done ? (
        <p role="status" className="mb-3 text-sm text-emerald-700 dark:text-emerald-400">
          {done}
        </p>
      ) : null}

      <section aria-labelledby="pending-heading" className="mb-8">
        <h2 id="pending-heading" className="mb-3 text-lg font-semibold">
          Pending{pending.data ? ` (${pending.data.approvals.length}${pending.data.next_cursor ? "+" : ""})` : ""}
        </h2>
        {pending.isPending ? (
          <Loading />
        ) : pending.isError ? (
          <ErrorNotice error={pending.error} what="list approvals" />
        ) : pending.data.approvals.length === 0 ? (
          <div className="card">
            <Empty>Nothing waits for a decision.</Empty>
          </div>
        ) : (
          <ul className="space-y-3">
            {pending.data.approvals.map((approval) => (
              <PendingApproval
                key={approval.id}
                approval={approval}
                onDecide={(verdict) => {
                  setDone(undefined);
                  setDeciding({ approval, verdict });
                }}
              />
            ))}
          </ul>
        )}
        {pending.data?.next_cursor || pendingPaging.page > 1 ? (
          <Pager paging={pendingPaging} nextCursor={pending.data?.next_cursor} />
        ) : null}
      </section>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading" className="mb-3 text-lg font-semibold">
          History
        </h2>
        <div className="card overflow-x-auto">
          {history.isPending ? (
            <Loading />
          ) : history.isError ? (
            <div className="p-3">
              <ErrorNotice error={history.error} what="list decided approvals" />
            </div>
          ) : decided.length === 0 ? (
            <Empty>No decision yet.</Empty>
          ) : (
            <table className="table">
              <caption className="sr-only">Decided approvals, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Request</th>
                  <th scope="col">Status</th>
                  <th scope="col">Team</th>
                  <th scope="col">Decided by</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Decided</th>
                  <th scope="col">Execution</th>
                </tr>
              </thead>
              <tbody>
                {decided.map((approval) => (
                  <tr key={approval.id}>
                    <td>
                      <div className="font-medium">{approvalTitle(approval)}</div>
                      {approval.message ? <div className="muted text-xs">{approval.message}</div> : null}
                    </td>
                    <td>
                      <StatusBadge status={approval.status} />
                    </td>
                    <td>{approval.approver_role ?? <span className="muted">—</span>}</td>
                    <td>{approval.decided_by ?? <span className="muted">—</span>}</td>
                    <td className="max-w-xs break-words">{approval.reason ?? <span className="muted">—</span>}</td>
                    <td>
                      <DateTime value={approval.decided_at} />
                    </td>
                    <td>
                      <Link to={`/executions/${encodeURIComponent(approval.execution_id)}`}>
                        Execution<span className="sr-only"> of {approvalTitle(approval)}</span>
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <Pager paging={historyPaging} nextCursor={history.data?.next_cursor} />
      </section>

      <DecisionDialog
        approval={deciding?.approval ?? null}
        verdict={deciding?.verdict ?? "approve"}
        onClose={() => setDeciding(null)}
        onDecided={(approval) => {
          setDeciding(null);
          setDone(`${approval.status === "approved" ? "Approved" : "Rejected"} ${approvalTitle(approval)}.`);
        }}
      />
    </>
  );
}

function PendingApproval({ approval, onDecide }: { approval: Approval; onDecide: (verdict: Verdict) => void }) {
  const titleId = useId();
  return (
    <li className="card flex flex-wrap items-start gap-4 p-4" aria-labelledby={titleId}>
      <div className="min-w-0 flex-1">
        <h3 id={titleId} className="font-semibold">
          {approvalTitle(approval)}
        </h3>
        {approval.message ? <p className="mt-1 text-sm">{approval.message}</p> : null}
        <dl className="muted mt-2 flex flex-wrap gap-x-5 gap-y-1 text-xs">
          <div>
            <dt className="inline">Entity: </dt>
            <dd className="inline">{approval.entity ?? "—"}</dd>
          </div>
          <div>
            <dt className="inline">Entity id: </dt>
            <dd className="mono inline">{approval.entity_id ?? "—"}</dd>
          </div>
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
        </dl>
        <p className="mt-2 text-sm">
          <Link to={`/executions/${encodeURIComponent(approval.execution_id)}`}>
            Requesting execution<span className="sr-only"> of {approvalTitle(approval)}</span>
          </Link>
        </p>
      </div>
      <div className="flex gap-2">
        <button type="button" className="btn btn-approve" aria-describedby={titleId} onClick={() => onDecide("approve")}>
          Approve
        </button>
        <button type="button" className="btn btn-danger" aria-describedby={titleId} onClick={() => onDecide("reject")}>
          Reject
        </button>
      </div>
    </li>
  );
}
