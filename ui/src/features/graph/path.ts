// The path a run took through its workflow's graph, read from its step attempts (the trace's
// timeline): the steps it went through with how they ended, and the edges it followed. Pure.
import type { StepEntry, StepStatus } from "../../api/types";
import { type GraphEdge, TRIGGER_ID, type WorkflowGraph } from "./model";

export type StepVisit = {
  /**
   * How the step ended: its last attempt's status; for a step run in several threads (foreach
   * iterations), the one that needs attention first (failed, then waiting…).
   */
  status: StepStatus;
  /** Attempts recorded (retries, foreach iterations). */
  attempts: number;
};

export type PathTaken = {
  steps: Map<string, StepVisit>;
  edges: Set<string>;
};

/**
 * Steps recorded as skipped after a failed step at the end of a thread are the ones a failed run
 * never reached (examples/README.md): they are not on the path.
 */
function reached(thread: StepEntry[]): StepEntry[] {
  let end = thread.length;
  while (end > 0 && thread[end - 1]?.status === "skipped") end -= 1;
  if (end < thread.length && thread[end - 1]?.status === "failed") return thread.slice(0, end);
  return thread;
}

/** Which edges leave each source, by target, to find the one a step went along. */
function edgeIndex(edges: GraphEdge[]): Map<string, GraphEdge> {
  return new Map(edges.map((e) => [`${e.source}->${e.target}`, e]));
}

/** Across threads (foreach iterations, branches), the outcome that needs attention first. */
const RANK: Record<StepStatus, number> = { failed: 5, waiting: 4, running: 3, cancelled: 2, completed: 1, skipped: 0 };

function worse(a: StepStatus, b: StepStatus): StepStatus {
  return RANK[b] > RANK[a] ? b : a;
}

export function pathTaken(graph: WorkflowGraph, entries: StepEntry[]): PathTaken {
  const byThread = new Map<number, StepEntry[]>();
  for (const entry of entries) {
    const thread = byThread.get(entry.thread) ?? [];
    thread.push(entry);
    byThread.set(entry.thread, thread);
  }

  const index = edgeIndex(graph.edges);
  const edges = new Set<string>();
  const follow = (source: string, target: string) => {
    const edge = index.get(`${source}->${target}`);
    if (edge) edges.add(edge.id);
  };
  /** Per step, how it ended in each thread that ran it, and how many attempts it had. */
  const endings = new Map<string, StepStatus[]>();
  const attempts = new Map<string, number>();

  for (const [thread, all] of byThread) {
    const visited = reached(all);
    // Within a thread the last attempt tells how a step ended (a retry that passed wins).
    const final = new Map<string, StepStatus>();
    visited.forEach((entry, i) => {
      final.set(entry.step_id, entry.status);
      attempts.set(entry.step_id, (attempts.get(entry.step_id) ?? 0) + 1);
      const previous = visited[i - 1];
      if (previous && previous.step_id !== entry.step_id) follow(previous.step_id, entry.step_id);
    });
    for (const [id, status] of final) endings.set(id, [...(endings.get(id) ?? []), status]);
    const first = visited[0];
    if (!first) continue;
    // A branch or an iteration starts from its parallel or foreach step; the run from the trigger.
    if (first.parent_step) follow(first.parent_step, first.step_id);
    else if (thread === 0) follow(TRIGGER_ID, first.step_id);
  }

  const steps = new Map<string, StepVisit>();
  for (const [id, list] of endings) {
    steps.set(id, { status: list.reduce(worse), attempts: attempts.get(id) ?? list.length });
  }

  // A dependency was followed when both its ends ran (a DAG runs its ready steps in any order).
  for (const edge of graph.edges) {
    if (!edge.kinds.includes("depends_on")) continue;
    const from = steps.get(edge.source);
    const to = steps.get(edge.target);
    if (from?.status === "completed" && to && to.status !== "skipped") edges.add(edge.id);
  }
  return { steps, edges };
}
