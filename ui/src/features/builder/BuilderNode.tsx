// A step (or the trigger) on the builder's canvas: its id, type and name, a badge when the
// validator found something wrong with it, how a test run went through it, and one connection
// handle per way out (true/false, approve/reject/timeout…), each labelled.
import { Handle, type Node, type NodeProps, Position } from "@xyflow/react";
import { memo } from "react";

import type { GraphNode } from "../graph/model";
import type { StepVisit } from "../graph/path";
import { EDGE_TONE } from "../graph/StepNode";
import type { Port } from "./definition";

export type BuilderNodeData = {
  node: GraphNode;
  ports: Port[];
  /** Errors and warnings the validator points at this node. */
  errors: number;
  warnings: number;
  /** A test run is shown: how it went through this node (undefined: not reached). */
  run: boolean;
  visit?: StepVisit;
};
export type BuilderNodeType = Node<BuilderNodeData, "builder">;

/** What a node says besides its id and type, also its accessible description. */
export function nodeStatus(data: BuilderNodeData): string {
  const parts: string[] = [];
  if (data.errors > 0) parts.push(`${data.errors} ${data.errors === 1 ? "error" : "errors"}`);
  if (data.warnings > 0) parts.push(`${data.warnings} ${data.warnings === 1 ? "warning" : "warnings"}`);
  if (data.run && data.node.kind === "step") parts.push(data.visit ? data.visit.status : "not reached");
  return parts.join(", ");
}

export const BuilderNode = memo(function BuilderNode({ data, selected }: NodeProps<BuilderNodeType>) {
  const { node, ports, errors, warnings, run, visit } = data;
  const trigger = node.kind === "trigger";
  const dimmed = run && !trigger && !visit;
  const tone = visit ? EDGE_TONE[visit.status] : "border-l-zinc-300 dark:border-l-zinc-600";
  return (
    <div
      className={[
        "relative flex h-[60px] w-[200px] flex-col justify-start border border-l-4 px-2.5 pt-1 text-left shadow-sm",
        trigger ? "rounded-2xl bg-sky-50 dark:bg-sky-950/60" : "rounded-md bg-white dark:bg-zinc-900",
        dimmed
          ? "border-dashed border-zinc-300 text-zinc-500 dark:border-zinc-700 dark:text-zinc-400"
          : "border-zinc-300 text-zinc-900 dark:border-zinc-700 dark:text-zinc-100",
        tone,
        errors > 0 ? "border-red-500 dark:border-red-500" : "",
        selected ? "ring-2 ring-sky-500 ring-offset-2 ring-offset-white dark:ring-offset-zinc-900" : "",
      ].join(" ")}
    >
      {trigger ? null : <Handle type="target" position={Position.Top} />}
      <div className="truncate text-xs font-semibold">
        {trigger ? "Trigger" : <span className="mono">{node.label}</span>}
        {run && !trigger ? (
          <span className="font-medium text-zinc-700 dark:text-zinc-300"> · {visit?.status ?? "not reached"}</span>
        ) : null}
      </div>
      <div className="truncate text-[11px] text-zinc-600 dark:text-zinc-400">
        {trigger ? node.label : node.name ? `${node.type} · ${node.name}` : node.type}
      </div>
      {errors + warnings > 0 ? (
        <span
          aria-hidden="true"
          className={`absolute -top-2 -right-2 rounded-full px-1.5 text-[10px] leading-4 font-bold text-white ${
            errors > 0 ? "bg-red-700" : "bg-amber-700"
          }`}
        >
          {errors + warnings}
        </span>
      ) : null}
      {ports.map((port, i) => {
        const left = `${((i + 1) * 100) / (ports.length + 1)}%`;
        return (
          <div key={port}>
            {/* Positioned through the CSSOM (React's style prop), which the CSP allows. */}
            <Handle id={port} type="source" position={Position.Bottom} style={{ left }} />
            {ports.length > 1 ? (
              <span
                aria-hidden="true"
                className="absolute bottom-0.5 -translate-x-1/2 text-[10px] leading-3 text-zinc-600 dark:text-zinc-400"
                style={{ left }}
              >
                {port}
              </span>
            ) : null}
          </div>
        );
      })}
    </div>
  );
});
