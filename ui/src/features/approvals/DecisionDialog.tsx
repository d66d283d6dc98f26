// Approve or reject with a reason. A 403 (the caller is not in the approval's team) is shown
// here, in the dialog, and the dialog stays open.
import { useId, useState } from "react";

import { isApiError } from "../../api/client";
import type { Approval } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { ErrorNotice } from "../../components/Notice";
import { useDecide, type Verdict } from "./api";

export function approvalTitle(approval: Approval): string {
  if (approval.entity && approval.entity_id) return `${approval.entity} ${approval.entity_id}`;
  return approval.entity ?? approval.entity_id ?? approval.step_id;
}

export function DecisionDialog({
  approval,
  verdict,
  onClose,
  onDecided,
}: {
  approval: Approval | null;
  verdict: Verdict;
  onClose: () => void;
  onDecided: (approval: Approval) => void;
}) {
  const [reason, setReason] = useState("");
  const decide = useDecide();
  const reasonId = useId();

  function close() {
    setReason("");
    decide.reset();
    onClose();
  }

  const title = approval
    ? `${verdict === "approve" ? "Approve" : "Reject"} ${approvalTitle(approval)}?`
    : "";

  return (
    <Dialog open={approval !== null} title={title} onClose={close}>
      {approval ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            decide.mutate(
              { id: approval.id, verdict, reason },
              {
                onSuccess: (decided) => {
                  setReason("");
                  decide.reset();
                  onDecided(decided);
                },
              },
            );
          }}
        >
          {approval.message ? <p className="mb-3 text-sm">{approval.message}</p> : null}
          {approval.approver_role ? (
            <p className="muted mb-3 text-sm">
              For the team <strong>{approval.approver_role}</strong>.
            </p>
          ) : null}
          <label htmlFor={reasonId} className="label">
            Reason
          </label>
          <textarea
            id={reasonId}
            className="input mb-3 min-h-20"
            maxLength={2000}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
          {decide.isError ? (
            <div className="mb-3">
              {isApiError(decide.error, 403) ? (
                <ErrorNotice error={decide.error} what={`${verdict} this request`} />
              ) : isApiError(decide.error, 409) ? (
                <ErrorNotice error={decide.error} what={`${verdict}: it was decided already`} />
              ) : (
                <ErrorNotice error={decide.error} what={verdict} />
              )}
            </div>
          ) : null}
          <div className="flex justify-end gap-2">
            <button type="button" className="btn" onClick={close}>
              Close
            </button>
            <button
              type="submit"
              className={`btn ${verdict === "approve" ? "btn-approve" : "btn-danger"}`}
              disabled={decide.isPending}
            >
              {verdict === "approve" ? "Confirm approval" : "Confirm rejection"}
            </button>
          </div>
        </form>
      ) : null}
    </Dialog>
  );
}
