// The run's workflow (the version it ran) as a graph with the path it took highlighted.
// Selecting a step highlights its attempts in the timeline below and scrolls to the first.
import type { Execution, StepEntry } from "../../api/types";
import { ErrorNotice, Loading } from "../../components/Notice";
import { LazyWorkflowGraph } from "../graph/LazyWorkflowGraph";
import { useVersion } from "../workflows/api";

export function ExecutionGraph({
  execution,
  entries,
  selected,
  onSelect,
}: {
  execution: Execution;
  entries: StepEntry[];
  selected: string | null;
  onSelect: (stepId: string) => void;
}) {
  const version = useVersion(execution.workflow_id, execution.workflow_version);
  const attempts = selected ? entries.filter((e) => e.step_id === selected) : [];

  return (
    <section aria-labelledby="graph-heading" className="mb-6">
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="graph-heading" className="text-lg font-semibold">
          Path taken
        </h2>
        <p className="muted text-xs">
          Highlighted: the steps and edges this run went through. Dimmed: what it did not reach. Select a step to see its
          attempts.
        </p>
      </div>
      <div className="card overflow-hidden">
        {version.isPending ? (
          <Loading label="Loading the workflow…" />
        ) : version.isError ? (
          <div className="p-3">
            <ErrorNotice error={version.error} what={`load version ${execution.workflow_version} of the workflow`} />
          </div>
        ) : (
          <LazyWorkflowGraph
            definition={version.data.definition}
            entries={entries}
            selected={selected}
            onSelect={onSelect}
            label={`Graph of ${execution.workflow_id}, version ${execution.workflow_version}, with the path this run took`}
          />
        )}
      </div>
      <p role="status" className="mt-2 min-h-5 text-sm">
        {selected === null ? null : attempts.length === 0 ? (
          <>
            Step <span className="mono">{selected}</span> was not reached in this run.
          </>
        ) : (
          <>
            Step <span className="mono">{selected}</span>:{" "}
            {attempts.length === 1 ? "one attempt" : `${attempts.length} attempts`}, highlighted in the timeline.{" "}
            <a href={`#attempt-${attempts[0]!.key}`}>Go to {attempts.length === 1 ? "it" : "the first"}</a>
          </>
        )}
      </p>
    </section>
  );
}
