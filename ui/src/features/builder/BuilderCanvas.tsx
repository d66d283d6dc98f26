// The builder's canvas: React Flow over the graph of the definition (graph/model.ts), with the
// positions the builder keeps apart from the definition. It owns nothing: moving, selecting,
// connecting and dropping are reported to the page, which edits the definition. Nodes are
// memoized components whose data keep their identity while another node moves, and only what
// is in view is rendered, so a workflow of a thousand steps stays smooth.
import "@xyflow/react/dist/style.css";
import "../graph/graph.css";
import "./builder.css";

import {
  Background,
  type Connection,
  Controls,
  type Edge,
  type EdgeChange,
  MarkerType,
  MiniMap,
  type NodeChange,
  type NodeTypes,
  ReactFlow,
  useReactFlow,
} from "@xyflow/react";
import { useCallback, useMemo, useRef } from "react";

import type { Point } from "../graph/layout";
import { NODE_HEIGHT, NODE_WIDTH } from "../graph/layout";
import type { WorkflowGraph } from "../graph/model";
import { useColorMode } from "../graph/useColorMode";
import { initialViewport } from "../graph/viewport";
import { BuilderNode, type BuilderNodeData, type BuilderNodeType, nodeStatus } from "./BuilderNode";
import { BOX_PREFIX, GroupBox, groupBoxes, type GroupBoxType } from "./GroupBox";
import { type Port, portOfKind } from "./definition";

/** The drag data a palette button carries: the step type to add. */
export const PALETTE_MIME = "application/x-weir-step";

const nodeTypes: NodeTypes = { builder: BuilderNode, box: GroupBox };
const ORIGIN = { x: 0, y: 0 };
/**
 * A workflow this small fits the view, where an overview map would only hide a node of it; a
 * bigger one gets the map.
 */
const MINIMAP_FROM = 12;
/** Below this zoom a whole workflow is not worth showing at first: its start is. */
const SMALLEST_FIT = 0.35;

const ARIA = {
  "node.a11yDescription.default": "Press Enter or Space to select this node, then edit it in the side panel.",
};

export type Selection = { nodes: Set<string>; edges: Set<string> };

export type BuilderCanvasProps = {
  graph: WorkflowGraph;
  positions: Map<string, Point>;
  nodeData: Map<string, BuilderNodeData>;
  /** Edges a test run went along: drawn taken, the others dimmed. */
  taken?: Set<string>;
  selection: Selection;
  onSelection: (selection: Selection) => void;
  onMove: (moves: Map<string, Point>) => void;
  onConnect: (source: string, port: Port, target: string) => void;
  /**
   * A palette item dropped at a place of the canvas, on an edge (to insert it there), or in a
   * parallel or foreach step's box (to add it there).
   */
  onDrop: (type: string, at: Point, edge?: string, group?: string) => void;
};

function inside(point: Point, box: GroupBoxType): boolean {
  const { x, y } = box.position;
  return point.x >= x && point.y >= y && point.x <= x + (box.width ?? 0) && point.y <= y + (box.height ?? 0);
}

export default function BuilderCanvas({
  graph,
  positions,
  nodeData,
  taken,
  selection,
  onSelection,
  onMove,
  onConnect,
  onDrop,
}: BuilderCanvasProps) {
  const colorMode = useColorMode();
  const flow = useReactFlow();
  const box = useRef<HTMLDivElement>(null);
  const firstPositions = useRef(positions);

  // The first view: the whole workflow when it fits at a size whose labels can still be made
  // out, else its start (the trigger) at a readable zoom, as on a workflow's page; Fit View
  // shows it all.
  const onInit = useCallback(() => {
    const width = box.current?.clientWidth ?? 0;
    const height = box.current?.clientHeight ?? 0;
    const points = [...firstPositions.current.values()];
    if (width === 0 || height === 0 || points.length === 0) return;
    const spanX = Math.max(...points.map((p) => p.x)) - Math.min(...points.map((p) => p.x)) + NODE_WIDTH;
    const spanY = Math.max(...points.map((p) => p.y)) - Math.min(...points.map((p) => p.y)) + NODE_HEIGHT;
    if (Math.min(width / spanX, height / spanY) >= SMALLEST_FIT) void flow.fitView({ padding: 0.1, maxZoom: 1 });
    else void flow.setViewport(initialViewport({ nodes: firstPositions.current, edges: new Map() }, width, height, "DOWN"));
  }, [flow]);

  // Each node object is kept while its place, data and selection stay the same: React Flow then
  // skips it, so a frame of a drag redoes one node, not a thousand.
  const cache = useRef(new Map<string, BuilderNodeType>());
  const nodes = useMemo<(BuilderNodeType | GroupBoxType)[]>(() => {
    const next = new Map<string, BuilderNodeType>();
    const list = graph.nodes.flatMap((node) => {
      const data = nodeData.get(node.id);
      if (!data) return [];
      const position = positions.get(node.id) ?? ORIGIN;
      const selected = selection.nodes.has(node.id);
      const kept = cache.current.get(node.id);
      if (kept && kept.data === data && kept.position === position && kept.selected === selected) {
        next.set(node.id, kept);
        return [kept];
      }
      const status = nodeStatus(data);
      const made: BuilderNodeType = {
        id: node.id,
        type: "builder",
        position,
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        data,
        selected,
        deletable: node.kind === "step",
        ariaRole: "button",
        domAttributes: { "aria-pressed": selected },
        ariaLabel:
          node.kind === "trigger"
            ? `Trigger: ${node.label}`
            : `Step ${node.label}, ${node.type}${status ? `: ${status}` : ""}`,
      };
      next.set(node.id, made);
      return [made];
    });
    cache.current = next;
    return [...groupBoxes(graph, positions), ...list];
  }, [graph, nodeData, positions, selection.nodes]);

  const edges = useMemo<Edge[]>(
    () =>
      graph.edges.map((edge) => {
        const isTaken = taken?.has(edge.id) ?? false;
        const port = portOfKind(edge.kinds[0] ?? "next");
        const source = nodeData.get(edge.source);
        return {
          id: edge.id,
          source: edge.source,
          target: edge.target,
          sourceHandle: source?.ports.includes(port) ? port : (source?.ports[0] ?? null),
          type: "smoothstep",
          label: edge.label,
          selected: selection.edges.has(edge.id),
          className: taken ? (isTaken ? "wf-edge-taken" : "wf-edge-dim") : undefined,
          ariaLabel: `From ${edge.source === "@trigger" ? "the trigger" : edge.source} to ${edge.target}${edge.label ? ` (${edge.label})` : ""}`,
          markerEnd: {
            type: MarkerType.ArrowClosed,
            color: isTaken ? "var(--wf-edge-taken)" : "var(--wf-edge)",
            width: 16,
            height: 16,
          },
          labelBgPadding: [4, 2] as [number, number],
        };
      }),
    [graph, nodeData, taken, selection.edges],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<BuilderNodeType | GroupBoxType>[]) => {
      const moves = new Map<string, Point>();
      let selected: Set<string> | undefined;
      for (const change of changes) {
        if (change.type === "position" && change.position) moves.set(change.id, change.position);
        if (change.type === "select") {
          selected ??= new Set(selection.nodes);
          if (change.selected) selected.add(change.id);
          else selected.delete(change.id);
        }
      }
      if (moves.size > 0) onMove(moves);
      if (selected) onSelection({ nodes: selected, edges: selection.edges });
    },
    [onMove, onSelection, selection],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      let selected: Set<string> | undefined;
      for (const change of changes) {
        if (change.type !== "select") continue;
        selected ??= new Set(selection.edges);
        if (change.selected) selected.add(change.id);
        else selected.delete(change.id);
      }
      if (selected) onSelection({ nodes: selection.nodes, edges: selected });
    },
    [onSelection, selection],
  );

  const connectNodes = useCallback(
    (connection: Connection) => {
      onConnect(connection.source, (connection.sourceHandle ?? "next") as Port, connection.target);
    },
    [onConnect],
  );

  const onDragOver = useCallback((event: React.DragEvent) => {
    if (!event.dataTransfer.types.includes(PALETTE_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);

  const drop = useCallback(
    (event: React.DragEvent) => {
      const type = event.dataTransfer.getData(PALETTE_MIME);
      if (!type) return;
      event.preventDefault();
      const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      // Dropped on an edge (its wide invisible outline counts): the step goes on that way; in a
      // group's box, into that group.
      const edge = document
        .elementsFromPoint(event.clientX, event.clientY)
        .map((element) => element.closest(".react-flow__edge")?.getAttribute("data-id"))
        .find((id): id is string => Boolean(id));
      // Boxes take no pointer events (React Flow's choice for nodes that cannot be selected or
      // dragged): the innermost one around the drop point is found by its rectangle.
      const group = nodes
        .filter((n): n is GroupBoxType => n.type === "box")
        .filter((n) => inside(at, n))
        .sort((a, b) => (a.width ?? 0) * (a.height ?? 0) - (b.width ?? 0) * (b.height ?? 0))[0]
        ?.id.slice(BOX_PREFIX.length);
      onDrop(type, { x: at.x - NODE_WIDTH / 2, y: at.y - NODE_HEIGHT / 2 }, edge, group);
    },
    [flow, onDrop, nodes],
  );

  return (
    <div ref={box} className="h-full w-full" onDragOver={onDragOver} onDrop={drop}>
      <ReactFlow
        className="wf-graph wf-builder"
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={connectNodes}
        colorMode={colorMode}
        onInit={onInit}
        minZoom={0.05}
        snapToGrid
        // A connection dropped near a node's top handle counts, not only one dropped on it.
        connectionRadius={32}
        snapGrid={[16, 16]}
        onlyRenderVisibleElements
        // The page handles Delete and the other shortcuts, as edits of the definition.
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={["Meta", "Control", "Shift"]}
        ariaLabelConfig={ARIA}
      >
        <Background gap={16} />
        <Controls position="top-right" fitViewOptions={{ padding: 0.15 }} />
{graph.nodes.length > MINIMAP_FROM ? (
          <MiniMap
            position="top-left"
            pannable
            zoomable
            ariaLabel="Overview of the canvas"
            // Sized through the CSSOM (React's style prop), which the CSP allows.
            style={{ width: 140, height: 96 }}
          />
        ) : null}
      </ReactFlow>
    </div>
  );
}
