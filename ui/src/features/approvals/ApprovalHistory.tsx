// Decided approvals: who decided what, when, and why.
import { Link } from "react-router";

import type { Approval } from "../../api/types";
import { StatusBadge } from "../../components/Badge";
import { DateTime } from "../../components/Time";
import { approvalTitle } from "./DecisionDialog";

/**
 * `people` names deciders by id (a decision records the user's or key's id): the members of the
 * teams the caller can see. An id nobody names is shown as it is.
 */
export function ApprovalHistory({ approvals, people }: { approvals: Approval[]; people: Map<string, string> }) {
  return (
    <table className="table">
      <caption className="sr-only">Decided approvals</caption>
      <thead>
        <tr>
          <th scope="col">Request</th>
          <th scope="col">Status</th>
          <th scope="col">Team</th>
          <th scope="col">Decided by</th>
          <th scope="col">Reason</th>
          <th scope="col">Requested</th>
          <th scope="col">Decided</th>
          <th scope="col">Execution</th>
        </tr>
      </thead>
      <tbody>
        {approvals.map((approval) => (
          <tr key={approval.id}>
            <td>
              <div className="font-medium">{approvalTitle(approval)}</div>
              {approval.message ? <div className="muted text-xs">{approval.message}</div> : null}
            </td>
            <td>
              <StatusBadge status={approval.status} />
            </td>
            <td>{approval.approver_role ?? <span className="muted">—</span>}</td>
            <td className="break-words">
              {approval.decided_by ? (
                (people.get(approval.decided_by) ?? <span className="mono">{approval.decided_by}</span>)
              ) : (
                <span className="muted">—</span>
              )}
            </td>
            <td className="max-w-xs break-words">{approval.reason ?? <span className="muted">—</span>}</td>
            <td>
              <DateTime value={approval.requested_at} />
            </td>
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
  );
}
