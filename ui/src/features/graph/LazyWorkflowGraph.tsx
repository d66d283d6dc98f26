// The workflow graph, fetched when first shown: React Flow and elkjs stay out of the main bundle.
import { lazy, Suspense } from "react";

import { ErrorBoundary } from "../../components/ErrorBoundary";
import { Loading } from "../../components/Notice";
import type { WorkflowGraphProps } from "./WorkflowGraph";

const WorkflowGraph = lazy(() => import("./WorkflowGraph"));

export function LazyWorkflowGraph(props: WorkflowGraphProps) {
  return (
    <ErrorBoundary what="show the graph">
      <Suspense fallback={<Loading label="Loading the graph…" />}>
        <WorkflowGraph {...props} />
      </Suspense>
    </ErrorBoundary>
  );
}
