// A step (or the trigger) on the canvas: its id, its type and, when a run is shown, how the
// step ended there. Colour is never the only cue: the status is written out.
import { Handle, type Node, type NodeProps, Position } from "@xyflow/react";
import { memo } from "react";

import type { GraphNode } from "./model";
import type { StepVisit } from "./path";

export type StepNodeData = {
  node: GraphNode;
  /** How the run went through this step; undefined when it did not, or no run is shown. */
  visit?: StepVisit;
  /** A run is shown: steps it did not reach are dimmed. */
  run: boolean;
  /** Compared with another version: what happened to this step there. */
  mark?: StepMark;
};
export type StepMark = "added" | "removed" | "changed";
export type StepNodeType = Node<StepNodeData, "step">;

// Each tone is given for the dark theme too: the dark border colour of the node's other sides
// comes later in the stylesheet and would paint over the left one.
export const EDGE_TONE: Record<string, string> = {
  completed: "border-l-emerald-500 dark:border-l-emerald-500",
  failed: "border-l-red-500 dark:border-l-red-500",
  waiting: "border-l-amber-500 dark:border-l-amber-500",
  running: "border-l-sky-500 dark:border-l-sky-500",
  cancelled: "border-l-zinc-400 dark:border-l-zinc-400",
  skipped: "border-l-zinc-400 dark:border-l-zinc-400",
};

const MARK_TONE: Record<StepMark, string> = {
  added: "border-l-emerald-500 dark:border-l-emerald-500",
  removed: "border-l-red-500 dark:border-l-red-500",
  changed: "border-l-amber-500 dark:border-l-amber-500",
};

/** What the node says about the run, also its accessible description. */
export function visitText(data: StepNodeData): string {
  if (data.node.kind === "trigger") return data.run ? "started the run" : "starts a run";
  if (!data.run) return [data.node.decision, data.mark].filter(Boolean).join(" · ");
  if (!data.visit) return "not reached";
  const { status, attempts } = data.visit;
  return attempts > 1 ? `${status} (${attempts} attempts)` : status;
}

export const StepNode = memo(function StepNode({ data, selected }: NodeProps<StepNodeType>) {
  const { node, visit, run, mark } = data;
  const reached = node.kind === "trigger" || Boolean(visit);
  const dimmed = run && !reached;
  const trigger = node.kind === "trigger";
  const tone = visit
    ? EDGE_TONE[visit.status]
    : mark
      ? MARK_TONE[mark]
      : run && trigger
      ? "border-l-sky-500 dark:border-l-sky-500"
      : "border-l-zinc-300 dark:border-l-zinc-600";
  const status = visitText(data);

  return (
    <div
      className={[
        "flex h-[60px] w-[200px] flex-col justify-center border border-l-4 px-2.5 text-left shadow-sm",
        trigger ? "rounded-2xl bg-sky-50 dark:bg-sky-950/60" : "rounded-md bg-white dark:bg-zinc-900",
        // Dimmed by colour, not opacity: see-through text fell to 2.1:1 in axe, and every line
        // must stay readable (4.5:1).
        dimmed
          ? "border-dashed border-zinc-300 text-zinc-500 dark:border-zinc-700 dark:text-zinc-400"
          : "border-zinc-300 text-zinc-900 dark:border-zinc-700 dark:text-zinc-100",
        tone,
        visit?.status === "skipped" || mark === "removed" ? "border-dashed" : "",
        selected ? "ring-2 ring-sky-500 ring-offset-2 ring-offset-white dark:ring-offset-zinc-900" : "",
      ].join(" ")}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="truncate text-xs font-semibold">
        {trigger ? "Trigger" : <span className="mono">{node.label}</span>}
      </div>
      <div className={`truncate text-[11px] ${dimmed ? "" : "text-zinc-600 dark:text-zinc-400"}`}>
        {trigger ? node.label : node.name ? `${node.type} · ${node.name}` : node.type}
      </div>
      {status ? (
        <div
          className={`truncate text-[11px] font-medium ${
            visit?.status === "failed"
              ? "text-red-700 dark:text-red-400"
              : dimmed
                ? ""
                : "text-zinc-700 dark:text-zinc-300"
          }`}
        >
          {status}
        </div>
      ) : null}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});
