// A dry run's steps as the path on the canvas (graph/path.ts reads a run's step attempts; a dry
// run answers the same steps in order, in one thread). Pure.
import type { StepEntry, StepStatus } from "../../api/types";
import type { WorkflowGraph } from "../graph/model";
import { pathTaken, type PathTaken } from "../graph/path";
import type { DryRun } from "./api";

const STATUSES = new Set<StepStatus>(["completed", "failed", "waiting", "running", "cancelled", "skipped"]);

export type DryRunStep = {
  step_id: string;
  type?: string;
  status?: string;
  condition?: unknown;
  input?: unknown;
  output?: unknown;
  next?: string;
  decision?: string;
  reason?: string;
  error?: string;
  would?: string;
};

export function dryRunSteps(run: DryRun): DryRunStep[] {
  // The document says each step is an object with these fields; its schema does not spell them.
  return (run.steps as unknown[]).filter(
    (s): s is DryRunStep => typeof s === "object" && s !== null && typeof (s as { step_id?: unknown }).step_id === "string",
  );
}

export function dryRunPath(graph: WorkflowGraph, run: DryRun): PathTaken {
  const entries = dryRunSteps(run).map(
    (step, i): StepEntry => ({
      kind: "step",
      key: `${i}`,
      step_id: step.step_id,
      type: step.type ?? "",
      status: STATUSES.has(step.status as StepStatus) ? (step.status as StepStatus) : "completed",
      attempt: 0,
      thread: 0,
      at: "",
      updated_at: "",
      duration_ms: 0,
    }),
  );
  return pathTaken(graph, entries);
}
