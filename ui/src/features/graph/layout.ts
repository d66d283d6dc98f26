// Where each node and edge of a workflow graph goes: elkjs's layered layout, left to right,
// computed in a Web Worker (a file of this origin, as the Content-Security-Policy wants) so a
// large workflow never holds up the page.
import ELK, { type ElkExtendedEdge, type ElkNode } from "elkjs/lib/elk-api.js";
import elkWorkerUrl from "elkjs/lib/elk-worker.min.js?url";

import type { WorkflowGraph } from "./model";

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 60;
const LABEL_HEIGHT = 16;

export type Point = { x: number; y: number };

export type Layout = {
  nodes: Map<string, Point>;
  /** Each edge's route (start, bends, end) and where its label goes. */
  edges: Map<string, { points: Point[]; label?: Point }>;
};

let elk: InstanceType<typeof ELK> | undefined;

function engine() {
  elk ??= new ELK({ workerUrl: elkWorkerUrl });
  return elk;
}

/** A label's width for layout, without measuring: near enough for the 12 px labels drawn. */
function labelWidth(text: string): number {
  return Math.ceil(text.length * 6.5) + 10;
}

/** RIGHT for the read-only graph (wide boxes); DOWN for the builder, whose canvas is narrow. */
export async function layoutGraph(graph: WorkflowGraph, direction: "RIGHT" | "DOWN" = "RIGHT"): Promise<Layout> {
  const root: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": direction,
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.spacing.nodeNodeBetweenLayers": "56",
      "elk.spacing.nodeNode": "28",
      "elk.spacing.edgeNode": "16",
      "elk.spacing.edgeEdge": "10",
      "elk.edgeLabels.placement": "CENTER",
      // The definition's order is the reading order: keep it where the layout allows.
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    },
    children: graph.nodes.map((node) => ({ id: node.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: graph.edges.map(
      (edge): ElkExtendedEdge => ({
        id: edge.id,
        sources: [edge.source],
        targets: [edge.target],
        ...(edge.label ? { labels: [{ text: edge.label, width: labelWidth(edge.label), height: LABEL_HEIGHT }] } : {}),
      }),
    ),
  };

  const result = await engine().layout(root);
  const nodes = new Map<string, Point>();
  for (const child of result.children ?? []) nodes.set(child.id, { x: child.x ?? 0, y: child.y ?? 0 });
  const edges = new Map<string, { points: Point[]; label?: Point }>();
  for (const edge of (result.edges ?? []) as ElkExtendedEdge[]) {
    const section = edge.sections?.[0];
    if (!section) continue;
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
    const label = edge.labels?.[0];
    edges.set(edge.id, {
      points,
      ...(label && label.x !== undefined && label.y !== undefined
        ? { label: { x: label.x + (label.width ?? 0) / 2, y: label.y + (label.height ?? 0) / 2 } }
        : {}),
    });
  }
  return { nodes, edges };
}
