// Parallel and foreach steps as groups: a box drawn behind the steps of their branches or body,
// around wherever those steps are, so it follows them as they move. It is drawn, not selected:
// the parallel or foreach step itself is the node to select and connect.
import type { Node, NodeProps } from "@xyflow/react";
import { memo } from "react";

import { NODE_HEIGHT, NODE_WIDTH, type Point } from "../graph/layout";
import type { WorkflowGraph } from "../graph/model";

export type GroupBoxType = Node<{ label: string }, "box">;

/** A box's node id is its group's step id after this (no step id has a `:`). */
export const BOX_PREFIX = "box:";
const PAD = 20;
const TITLE = 18;

export const GroupBox = memo(function GroupBox({ data }: NodeProps<GroupBoxType>) {
  return (
    <div className="h-full w-full rounded-lg border border-dashed border-sky-700/60 bg-sky-50/40 dark:border-sky-400/50 dark:bg-sky-950/20">
      <div className="px-2 pt-0.5 text-[11px] font-medium text-sky-900 dark:text-sky-200">{data.label}</div>
    </div>
  );
});

/** A box per parallel or foreach step around the steps it holds (nested ones included). */
export function groupBoxes(graph: WorkflowGraph, positions: Map<string, Point>): GroupBoxType[] {
  const children = new Map<string, string[]>();
  for (const node of graph.nodes) {
    if (node.parent) children.set(node.parent, [...(children.get(node.parent) ?? []), node.id]);
  }
  const inside = (id: string): string[] => (children.get(id) ?? []).flatMap((c) => [c, ...inside(c)]);
  return graph.nodes.flatMap((node) => {
    const held = inside(node.id)
      .map((id) => positions.get(id))
      .filter((p): p is Point => p !== undefined);
    if (held.length === 0) return [];
    const x = Math.min(...held.map((p) => p.x)) - PAD;
    const y = Math.min(...held.map((p) => p.y)) - PAD - TITLE;
    const width = Math.max(...held.map((p) => p.x)) + NODE_WIDTH + PAD - x;
    const height = Math.max(...held.map((p) => p.y)) + NODE_HEIGHT + PAD - y;
    return [
      {
        id: `${BOX_PREFIX}${node.id}`,
        type: "box" as const,
        position: { x, y },
        width,
        height,
        data: { label: node.type === "foreach" ? `${node.label}: each item` : `${node.label}: branches` },
        selectable: false,
        draggable: false,
        focusable: false,
        connectable: false,
        zIndex: -1,
        ariaRole: "group" as const,
        ariaLabel: `Group of ${node.label}`,
      },
    ];
  });
}
