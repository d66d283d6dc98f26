// One workflow: what it is, how its runs went (statistics, where time goes), its definition
// (exported as JSON or YAML), its versions (an older one can be made current again) and its
// executions.
import { Link, useParams } from "react-router";

import { isApiError } from "../../api/client";
import type { Workflow } from "../../api/types";
import { useCan } from "../../app/auth";
import { Badge } from "../../components/Badge";
import { JsonBlock } from "../../components/Json";
import { ErrorNotice, Loading } from "../../components/Notice";
import { PageHeader } from "../../components/Page";
import { Term } from "../../components/Term";
import { DateTime } from "../../components/Time";
import { LazyWorkflowGraph } from "../graph/LazyWorkflowGraph";
import { useSetEnabled, useWorkflow } from "./api";
import { EnabledCell } from "./EnabledCell";
import { ExportButtons } from "./ExportButtons";
import { VersionsSection } from "./VersionsSection";
import { WorkflowExecutions } from "./WorkflowExecutions";
import { WorkflowStats } from "./WorkflowStats";

export function WorkflowDetailPage() {
  const { id = "" } = useParams();
  const workflow = useWorkflow(id);

  if (workflow.isPending) return <Loading />;
  if (workflow.isError) return <WorkflowNotLoaded id={id} title="Workflow" error={workflow.error} />;
  return <WorkflowView workflow={workflow.data} />;
}

/** A workflow that could not be loaded: not there (404), or why. */
export function WorkflowNotLoaded({ id, title, error }: { id: string; title: string; error: unknown }) {
  return (
    <>
      <PageHeader title={title} />
      {isApiError(error, 404) ? (
        <p>
          There is no workflow <span className="mono">{id}</span> here. <Link to="/workflows">All workflows</Link>
        </p>
      ) : (
        <ErrorNotice error={error} what="load the workflow" />
      )}
    </>
  );
}

function WorkflowView({ workflow }: { workflow: Workflow }) {
  const canWrite = useCan("workflows:write");
  const setEnabled = useSetEnabled();

  return (
    <>
      <p className="mb-1 text-sm">
        <Link to="/workflows">Workflows</Link> <span aria-hidden="true">/</span>
      </p>
      <PageHeader title={workflow.name}>
        {canWrite ? (
          <Link to={`/workflows/${workflow.id}/edit`} className="btn btn-primary">
            Edit
          </Link>
        ) : null}
        <ExportButtons definition={workflow.definition} id={workflow.id} version={workflow.version} />
      </PageHeader>

      {setEnabled.isError ? (
        <div className="mb-3">
          <ErrorNotice error={setEnabled.error} what={setEnabled.variables?.enabled ? "enable it" : "disable it"} />
        </div>
      ) : null}

      <section aria-labelledby="wf-summary" className="card mb-6 p-4">
        <h2 id="wf-summary" className="sr-only">
          Summary
        </h2>
        {workflow.description ? <p className="mb-3 text-sm">{workflow.description}</p> : null}
        <dl className="grid gap-x-6 gap-y-3 text-sm sm:grid-cols-2 lg:grid-cols-4">
          <Term term="Id">
            <span className="mono break-all">{workflow.id}</span>
          </Term>
          <Term term="Current version">v{workflow.version}</Term>
          <Term term="Enabled">
            <EnabledCell workflow={workflow} canWrite={canWrite} setEnabled={setEnabled} />
          </Term>
          <Term term="Updated">
            <DateTime value={workflow.updated_at} />
          </Term>
          <Term term="Trigger events">
            {workflow.trigger_events.length === 0 ? (
              <span className="muted">none (started by hand, a schedule or a webhook)</span>
            ) : (
              <span className="mono">{workflow.trigger_events.join(", ")}</span>
            )}
          </Term>
          <Term term="Tags">
            {workflow.tags.length === 0 ? (
              <span className="muted">—</span>
            ) : (
              <span className="flex flex-wrap gap-1">
                {workflow.tags.map((tag) => (
                  <Badge key={tag} tone="gray">
                    {tag}
                  </Badge>
                ))}
              </span>
            )}
          </Term>
        </dl>
      </section>

      <WorkflowStats workflowId={workflow.id} />

      <section aria-labelledby="wf-graph" className="mb-8">
        <h2 id="wf-graph" className="mb-3 text-lg font-semibold">
          Graph
        </h2>
        <div className="card overflow-hidden">
          <LazyWorkflowGraph
            definition={workflow.definition}
            label={`Graph of ${workflow.id}, version ${workflow.version}: its trigger, steps and the ways between them`}
          />
        </div>
      </section>

      <section aria-labelledby="wf-definition" className="mb-8">
        <h2 id="wf-definition" className="mb-3 text-lg font-semibold">
          Definition <span className="muted text-sm font-normal">(version {workflow.version})</span>
        </h2>
        <JsonBlock value={workflow.definition} label={`Definition of ${workflow.id}, version ${workflow.version}`} />
      </section>

      <VersionsSection workflow={workflow} canWrite={canWrite} />
      <WorkflowExecutions workflowId={workflow.id} />
    </>
  );
}
