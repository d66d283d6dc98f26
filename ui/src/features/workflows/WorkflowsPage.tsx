// The workflows: search and filters, enable and disable, import, how each ran lately (its last
// run, its success over 7 days), links to each workflow's page.
import { useId, useState } from "react";
import { Link } from "react-router";

import type { WorkflowSummary } from "../../api/types";
import { useCan } from "../../app/auth";
import { Badge } from "../../components/Badge";
import { Empty, ErrorNotice, Loading } from "../../components/Notice";
import { PageHeader } from "../../components/Page";
import { PermissionNote } from "../../components/PermissionNote";
import { Pager, useCursorPaging } from "../../components/Pager";
import { DateTime, RelativeTime, useNow } from "../../components/Time";
import { useDebounced } from "../../components/useDebounced";
import { useSearchParam } from "../../components/useSearchParam";
import { formatRate } from "../dashboard/api";
import { useSetEnabled, useWorkflows, type WorkflowFilters } from "./api";
import { ImportDialog } from "./ImportDialog";
import { EnabledCell } from "./EnabledCell";

export function WorkflowsPage() {
  const [params, setParam] = useSearchParam();
  const canWrite = useCan("workflows:write");
  const [importing, setImporting] = useState(false);
  const enabledParam = params.get("enabled");
  // Filters live in the URL (a link can carry them); the list follows once typing pauses.
  const typed: WorkflowFilters = {
    q: params.get("q")?.trim() || undefined,
    enabled: enabledParam === "true" ? true : enabledParam === "false" ? false : undefined,
    tag: params.get("tag")?.trim() || undefined,
    event: params.get("event")?.trim() || undefined,
  };
  const filtersKey = useDebounced(JSON.stringify(typed));
  const filters = JSON.parse(filtersKey) as WorkflowFilters;
  const paging = useCursorPaging(filtersKey);
  const workflows = useWorkflows({ ...filters, cursor: paging.cursor });
  const setEnabled = useSetEnabled();
  const tagListId = useId();
  const now = useNow();

  const tags = [...new Set(workflows.data?.workflows.flatMap((w) => w.tags) ?? [])].sort();

  return (
    <>
      <PageHeader title="Workflows">
        {canWrite ? (
          <>
            <Link to="/workflows/new" className="btn btn-primary">
              New workflow
            </Link>
            <button type="button" className="btn" onClick={() => setImporting(true)}>
              Import a workflow
            </button>
          </>
        ) : (
          <PermissionNote permission="workflows:write" action="import workflows" />
        )}
      </PageHeader>
      <ImportDialog open={importing} onClose={() => setImporting(false)} />
      <form
        role="search"
        aria-label="Filter workflows"
        className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-4"
        onSubmit={(e) => e.preventDefault()}
      >
        <div>
          <label htmlFor="wf-q" className="label">
            Search
          </label>
          <input
            id="wf-q"
            type="search"
            className="input"
            placeholder="Id, name or description"
            value={params.get("q") ?? ""}
            onChange={(e) => setParam("q", e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="wf-enabled" className="label">
            Enabled
          </label>
          <select
            id="wf-enabled"
            className="input"
            value={enabledParam ?? ""}
            onChange={(e) => setParam("enabled", e.target.value)}
          >
            <option value="">All</option>
            <option value="true">Enabled</option>
            <option value="false">Disabled</option>
          </select>
        </div>
        <div>
          <label htmlFor="wf-tag" className="label">
            Tag
          </label>
          <input
            id="wf-tag"
            className="input"
            list={tagListId}
            value={params.get("tag") ?? ""}
            onChange={(e) => setParam("tag", e.target.value)}
          />
          <datalist id={tagListId}>
            {tags.map((tag) => (
              <option key={tag} value={tag} />
            ))}
          </datalist>
        </div>
        <div>
          <label htmlFor="wf-event" className="label">
            Event type
          </label>
          <input
            id="wf-event"
            className="input"
            placeholder="order.created"
            value={params.get("event") ?? ""}
            onChange={(e) => setParam("event", e.target.value)}
          />
        </div>
      </form>

      {setEnabled.isError ? <ErrorNotice error={setEnabled.error} what="change the workflow" /> : null}

      <div className="card overflow-x-auto">
        {workflows.isPending ? (
          <Loading />
        ) : workflows.isError ? (
          <div className="p-3">
            <ErrorNotice error={workflows.error} what="list workflows" />
          </div>
        ) : workflows.data.workflows.length === 0 ? (
          <Empty>No workflow matches.</Empty>
        ) : (
          <table className="table">
            <caption className="sr-only">Workflows</caption>
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col">Version</th>
                <th scope="col">Enabled</th>
                <th scope="col" className="whitespace-nowrap">
                  Last run
                </th>
                <th scope="col" className="whitespace-nowrap">
                  Success (7 days)
                </th>
                <th scope="col">Tags</th>
                <th scope="col">Trigger events</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="sr-only">Executions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {workflows.data.workflows.map((wf) => (
                <tr key={wf.id}>
                  <td>
                    <Link to={`/workflows/${encodeURIComponent(wf.id)}`} className="font-medium">
                      {wf.name}
                    </Link>
                    <div className="mono muted">{wf.id}</div>
                    {wf.description ? (
                      <div className="muted mt-1 line-clamp-2 max-w-md text-xs" title={wf.description}>
                        {wf.description}
                      </div>
                    ) : null}
                  </td>
                  <td>v{wf.version}</td>
                  <td>
                    <EnabledCell workflow={wf} canWrite={canWrite} setEnabled={setEnabled} />
                  </td>
                  <td>
                    <RelativeTime value={wf.activity?.last_run_at} now={now} />
                  </td>
                  <td>
                    <SuccessCell activity={wf.activity} />
                  </td>
                  <td>
                    <div className="flex flex-wrap gap-1">
                      {wf.tags.length === 0 ? <span className="muted">—</span> : null}
                      {wf.tags.map((tag) => (
                        <Badge key={tag} tone="gray">
                          {tag}
                        </Badge>
                      ))}
                    </div>
                  </td>
                  <td className="mono">
                    {wf.trigger_events.length === 0 ? <span className="muted">—</span> : wf.trigger_events.join(", ")}
                  </td>
                  <td>
                    <DateTime value={wf.updated_at} />
                  </td>
                  <td>
                    <Link to={`/executions?workflow_id=${encodeURIComponent(wf.id)}`} className="whitespace-nowrap">
                      Executions<span className="sr-only"> of {wf.name}</span>
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <Pager paging={paging} nextCursor={workflows.data?.next_cursor} />
    </>
  );
}

/** How the workflow's runs ended over the last 7 days: its success rate, of how many. */
function SuccessCell({ activity }: { activity: WorkflowSummary["activity"] }) {
  if (!activity || activity.finished_7d === 0) return <span className="muted">no finished run</span>;
  const { success_rate_7d: rate, finished_7d: finished } = activity;
  return (
    <span className="whitespace-nowrap">
      {rate === null ? (
        <span className="muted">—</span>
      ) : (
        <span className={`font-medium ${rate < 0.8 ? "text-red-700 dark:text-red-400" : ""}`}>{formatRate(rate)}</span>
      )}{" "}
      <span className="muted text-xs">
        · {finished} finished{rate === null ? ", none completed or failed" : ""}
      </span>
    </span>
  );
}
