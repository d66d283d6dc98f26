// The approval queue: pending first (oldest first: the longest waiting need a decision most),
// then the history of decisions. Filters by team, entity and status go to the API; the age
// filter is applied here, from when each approval was requested (the API has none).
import { useId, useState } from "react";

import type { Approval, ApprovalStatus } from "../../api/types";
import { useCan, useMe } from "../../app/auth";
import { LiveIndicator } from "../../app/live";
import { SelectField, TextField } from "../../components/Field";
import { Empty, ErrorNotice, Loading, SuccessNotice } from "../../components/Notice";
import { PageHeader } from "../../components/Page";
import { Pager, useCursorPaging } from "../../components/Pager";
import { PermissionNote } from "../../components/PermissionNote";
import { useNow } from "../../components/Time";
import { useDebounced } from "../../components/useDebounced";
import { useSearchParam } from "../../components/useSearchParam";
import { useTeams } from "../settings/api";
import { AGES, ageMs, olderThan } from "./age";
import { type ApprovalFilters, useApprovals, type Verdict } from "./api";
import { ApprovalHistory } from "./ApprovalHistory";
import { approvalTitle, DecisionDialog } from "./DecisionDialog";
import { PendingApproval } from "./PendingApproval";

const DECIDED: readonly ApprovalStatus[] = ["approved", "rejected", "expired", "withdrawn"];
/** The whole queue in one page (the API's largest), so the age filter and the order see all of it. */
const QUEUE_LIMIT = 500;

function byRequestedAt(a: Approval, b: Approval): number {
  return a.requested_at.localeCompare(b.requested_at);
}

export function ApprovalsPage() {
  const [params, setParam, clear] = useSearchParam();
  const teams = useTeams();
  const me = useMe();
  const canDecide = useCan("approvals:decide");
  const now = useNow();
  const teamListId = useId();
  const historyStatus = params.get("status");
  const typed: ApprovalFilters = {
    role: params.get("team")?.trim() || undefined,
    entity: params.get("entity")?.trim() || undefined,
  };
  const filtersKey = useDebounced(JSON.stringify(typed));
  const filters = JSON.parse(filtersKey) as ApprovalFilters;
  const minAge = ageMs(params.get("age"));
  const decidedStatus = DECIDED.includes(historyStatus as ApprovalStatus) ? (historyStatus as ApprovalStatus) : undefined;

  const historyPaging = useCursorPaging(filtersKey + (decidedStatus ?? ""));
  const pending = useApprovals({ ...filters, status: "pending", limit: QUEUE_LIMIT });
  const history = useApprovals({ ...filters, status: decidedStatus, cursor: historyPaging.cursor });
  const [deciding, setDeciding] = useState<{ approval: Approval; verdict: Verdict } | null>(null);
  const [done, setDone] = useState<string>();

  const queue = (pending.data?.approvals ?? []).filter((a) => olderThan(a.requested_at, minAge, now)).sort(byRequestedAt);
  const decided = (history.data?.approvals ?? []).filter(
    (a) => a.status !== "pending" && olderThan(a.requested_at, minAge, now),
  );
  const filtered = [...params.keys()].length > 0;
  const people = new Map<string, string>();
  for (const team of teams.data?.teams ?? []) for (const m of team.members) people.set(m.id, m.email);
  if (me.data?.user) people.set(me.data.user.id, me.data.user.email);

  return (
    <>
      <PageHeader title="Approvals">
        <LiveIndicator />
      </PageHeader>
      <form
        role="search"
        aria-label="Filter approvals"
        className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-4"
        onSubmit={(e) => e.preventDefault()}
      >
        <TextField
          label="Team"
          list={teamListId}
          value={params.get("team") ?? ""}
          onChange={(e) => setParam("team", e.target.value)}
        />
        <datalist id={teamListId}>
          {teams.data?.teams.map((team) => <option key={team.name} value={team.name} />)}
        </datalist>
        <TextField
          label="Entity"
          placeholder="order"
          value={params.get("entity") ?? ""}
          onChange={(e) => setParam("entity", e.target.value)}
        />
        <SelectField label="Age" value={params.get("age") ?? ""} onChange={(e) => setParam("age", e.target.value)}>
          {AGES.map((age) => (
            <option key={age.value} value={age.value}>
              {age.label}
            </option>
          ))}
        </SelectField>
        <SelectField
          label="Decision (history)"
          value={decidedStatus ?? ""}
          onChange={(e) => setParam("status", e.target.value)}
        >
          <option value="">Any decision</option>
          {DECIDED.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </SelectField>
        {filtered ? (
          <div className="sm:col-span-2 lg:col-span-4">
            <button type="button" className="btn" onClick={clear}>
              Clear filters
            </button>
          </div>
        ) : null}
      </form>

      <SuccessNotice>{done}</SuccessNotice>

      <section aria-labelledby="pending-heading" className="mb-8">
        <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
          <h2 id="pending-heading" className="text-lg font-semibold">
            Pending{pending.data ? ` (${queue.length}${pending.data.next_cursor ? "+" : ""})` : ""}
          </h2>
          <span className="muted text-xs">Oldest first</span>
        </div>
        {!canDecide ? (
          <div className="mb-3">
            <PermissionNote permission="approvals:decide" action="approve or reject" />
          </div>
        ) : null}
        {pending.isPending ? (
          <Loading />
        ) : pending.isError ? (
          <ErrorNotice error={pending.error} what="list approvals" />
        ) : queue.length === 0 ? (
          <div className="card">
            <Empty>{minAge ? "Nothing this old waits for a decision." : "Nothing waits for a decision."}</Empty>
          </div>
        ) : (
          <ul className="space-y-3">
            {queue.map((approval) => (
              <PendingApproval
                key={approval.id}
                approval={approval}
                now={now}
                canDecide={canDecide}
                onDecide={(verdict) => {
                  setDone(undefined);
                  setDeciding({ approval, verdict });
                }}
              />
            ))}
          </ul>
        )}
        {pending.data?.next_cursor ? (
          <p className="muted mt-2 text-xs">
            More than {QUEUE_LIMIT} approvals wait: the first {QUEUE_LIMIT} the server lists are shown, oldest first.
            Narrow the filters to see the others.
          </p>
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
            <Empty>{history.data.next_cursor ? "No decision on this page matches." : "No decision yet."}</Empty>
          ) : (
            <ApprovalHistory approvals={decided} people={people} />
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
