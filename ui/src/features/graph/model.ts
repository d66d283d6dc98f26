// A workflow definition as a graph: one node per step (nested ones included) plus one for the
// trigger, and one edge per way control can go (docs/format.md §4-5). Pure: no React, no layout,
// so the execution view and the builder read definitions the same way.

/** How control goes along an edge. */
export type EdgeKind =
  | "start" // the trigger to the first step
  | "next" // `next`, or on to the following step
  | "true"
  | "false"
  | "case"
  | "default"
  | "timeout"
  | "approve"
  | "reject"
  | "error" // `on_error` naming a step
  | "depends_on" // a dependency, drawn from it to its dependent
  | "branch" // a parallel step to the head of one of its branches
  | "body"; // a foreach step to the head of its body

export type GraphNode = {
  id: string;
  kind: "trigger" | "step";
  /** The step's id (or the trigger's event), as the user wrote it. */
  label: string;
  /** The step's `name` when it has one. */
  name?: string;
  /** The step's type (`condition`, `http_request`…); for the trigger, its type(s). */
  type: string;
  /** `allow` or `block` for a decision step. */
  decision?: "allow" | "block";
  /** The parallel or foreach step whose branch or body holds this step. */
  parent?: string;
  /** Which branch of the parent parallel step (from 0). */
  branch?: number;
};

export type GraphEdge = {
  id: string;
  source: string;
  target: string;
  /** Every way this source reaches this target (a condition with both sides going to one step). */
  kinds: EdgeKind[];
  label?: string;
};

export type WorkflowGraph = { nodes: GraphNode[]; edges: GraphEdge[] };

/** The trigger's node id: `@` is not allowed in step ids, so it never clashes with one. */
export const TRIGGER_ID = "@trigger";

type Step = Record<string, unknown> & { id: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** `on_error` values that are not step ids. */
const ERROR_POLICIES = new Set(["fail", "propagate", "continue", "ignore", "catch"]);

/** The list's steps in run order: `order` / `ordering` first, the others after, stable. */
function stepsOf(list: unknown): Step[] {
  if (!Array.isArray(list)) return [];
  const steps = list.filter((s): s is Step => isRecord(s) && typeof s.id === "string");
  const key = (s: Step) => {
    const order = s.order ?? s.ordering;
    return typeof order === "number" ? order : Infinity;
  };
  return steps
    .map((step, index) => ({ step, index }))
    .sort((a, b) => key(a.step) - key(b.step) || a.index - b.index)
    .map(({ step }) => step);
}

function triggerNode(definition: Record<string, unknown>): GraphNode {
  const triggers = Array.isArray(definition.triggers)
    ? definition.triggers.filter(isRecord)
    : isRecord(definition.trigger)
      ? [definition.trigger]
      : [];
  const types = [...new Set(triggers.map((t) => text(t.type) ?? "trigger"))];
  const events = triggers.map((t) => text(t.event)).filter((e): e is string => e !== undefined);
  const schedule = triggers.map((t) => text(t.cron)).find((c) => c !== undefined);
  const label =
    events.length > 0 ? events.join(", ") : schedule ? schedule : types.length > 0 ? types.join(", ") : "by hand";
  return { id: TRIGGER_ID, kind: "trigger", label, type: types.join(", ") || "manual" };
}

function caseLabel(entry: Record<string, unknown>, index: number): string {
  if ("when" in entry) return `= ${JSON.stringify(entry.when)}`;
  return `case ${index + 1}`;
}

class Builder {
  nodes: GraphNode[] = [];
  private edges = new Map<string, GraphEdge>();

  edge(source: string, target: string | undefined, kind: EdgeKind, label?: string) {
    if (!target || target === source) return;
    const id = `${source}->${target}`;
    const existing = this.edges.get(id);
    if (existing) {
      if (!existing.kinds.includes(kind)) existing.kinds.push(kind);
      if (label && existing.label !== label) existing.label = existing.label ? `${existing.label}, ${label}` : label;
      return;
    }
    this.edges.set(id, { id, source, target, kinds: [kind], ...(label ? { label } : {}) });
  }

  /** Edges whose two ends are nodes (a definition that names no such step draws nothing). */
  finish(): WorkflowGraph {
    const ids = new Set(this.nodes.map((n) => n.id));
    return {
      nodes: this.nodes,
      edges: [...this.edges.values()].filter((e) => ids.has(e.source) && ids.has(e.target)),
    };
  }

  /** A step list, entered from `entry` (the trigger, a parallel step or a foreach step). */
  list(
    list: unknown,
    entry: { source: string; kind: EdgeKind; label?: string },
    place: { parent?: string; branch?: number } = {},
  ) {
    const steps = stepsOf(list);
    const dag = steps.some((s) => Array.isArray(s.depends_on) && s.depends_on.length > 0);
    if (dag) {
      for (const step of steps) {
        if (!Array.isArray(step.depends_on) || step.depends_on.length === 0) {
          this.edge(entry.source, step.id, entry.kind, entry.label);
        }
      }
    } else if (steps[0]) {
      this.edge(entry.source, steps[0].id, entry.kind, entry.label);
    }
    steps.forEach((step, index) => {
      // In a DAG list the following step routes nothing (§5.5).
      const following = dag ? undefined : steps[index + 1]?.id;
      this.step(step, following, place);
    });
  }

  private step(step: Step, following: string | undefined, place: { parent?: string; branch?: number }) {
    const type = text(step.type) ?? "step";
    const decision = type === "action" && (step.action === "allow" || step.action === "block") ? step.action : undefined;
    this.nodes.push({
      id: step.id,
      kind: "step",
      label: step.id,
      type,
      ...(text(step.name) ? { name: text(step.name) } : {}),
      ...(decision ? { decision } : {}),
      ...(place.parent !== undefined ? { parent: place.parent } : {}),
      ...(place.branch !== undefined ? { branch: place.branch } : {}),
    });

    const next = text(step.next);
    // A decision without `next` ends the run; `end: true` ends the list.
    const onward = next ?? (decision || step.end === true ? undefined : following);

    switch (type) {
      case "condition":
        this.edge(step.id, text(step.on_true) ?? onward, "true", "true");
        this.edge(step.id, text(step.on_false) ?? onward, "false", "false");
        break;
      case "switch": {
        const cases = Array.isArray(step.cases) ? step.cases.filter(isRecord) : [];
        cases.forEach((entry, i) => this.edge(step.id, text(entry.next), "case", caseLabel(entry, i)));
        this.edge(step.id, text(step.default) ?? onward, "default", "default");
        break;
      }
      case "parallel": {
        const branches = Array.isArray(step.steps) ? step.steps : Array.isArray(step.branches) ? step.branches : [];
        branches.forEach((branch, i) => {
          // A branch is one step, or `{steps: [...]}` for a sequence (an object with a type is a step).
          const list = isRecord(branch) && Array.isArray(branch.steps) && !("type" in branch) ? branch.steps : [branch];
          this.list(list, { source: step.id, kind: "branch", label: `branch ${i + 1}` }, { parent: step.id, branch: i });
        });
        if (step.strategy === "all_must_pass") {
          this.edge(step.id, text(step.on_true) ?? onward, "true", "true");
          this.edge(step.id, text(step.on_false) ?? onward, "false", "false");
        } else {
          this.edge(step.id, onward, "next");
        }
        break;
      }
      case "foreach":
        this.list(step.steps, { source: step.id, kind: "body", label: "each item" }, { parent: step.id });
        this.edge(step.id, onward, "next");
        break;
      case "wait":
        this.edge(step.id, onward, "next");
        this.edge(step.id, text(step.on_timeout), "timeout", "timeout");
        break;
      case "approval":
        this.edge(step.id, text(step.on_approve) ?? onward, "approve", "approve");
        this.edge(step.id, text(step.on_reject) ?? onward, "reject", "reject");
        this.edge(step.id, text(step.on_timeout), "timeout", "timeout");
        break;
      default:
        this.edge(step.id, onward, "next");
    }

    const onError = text(step.on_error);
    if (onError && !ERROR_POLICIES.has(onError)) this.edge(step.id, onError, "error", "on error");
    if (Array.isArray(step.depends_on)) {
      for (const dependency of step.depends_on) {
        if (typeof dependency === "string") this.edge(dependency, step.id, "depends_on");
      }
    }
  }
}

/** The graph of a definition (any JSON: what does not fit the format is left out). */
export function buildGraph(definition: unknown): WorkflowGraph {
  const builder = new Builder();
  if (!isRecord(definition)) return builder.finish();
  builder.nodes.push(triggerNode(definition));
  builder.list(definition.steps, { source: TRIGGER_ID, kind: "start" });
  return builder.finish();
}
