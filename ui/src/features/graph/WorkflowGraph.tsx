// The workflow as a graph (React Flow, laid out by elkjs), with the path a run took highlighted
// when its attempts are given. Loaded lazily (React.lazy): neither React Flow nor elkjs is in the
// main bundle. Selecting a step (click, or Enter on a focused node) tells the page, which shows
// that step's attempts.
import "@xyflow/react/dist/style.css";
import "./graph.css";

import {
  Controls,
  type EdgeTypes,
  MarkerType,
  type NodeChange,
  type NodeTypes,
  ReactFlow,
} from "@xyflow/react";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";

import type { StepEntry } from "../../api/types";
import { ErrorNotice, Loading } from "../../components/Notice";
import { type Layout, layoutGraph } from "./layout";
import { boxHeight, initialViewport } from "./viewport";
import { buildGraph, type WorkflowGraph as Graph } from "./model";
import { pathTaken } from "./path";
import { RouteEdge, type RouteEdgeType } from "./RouteEdge";
import { type StepMark, StepNode, type StepNodeType, visitText } from "./StepNode";
import { useColorMode } from "./useColorMode";

const nodeTypes: NodeTypes = { step: StepNode };
const edgeTypes: EdgeTypes = { route: RouteEdge };

const ARIA = {
  "node.a11yDescription.default": "Press Enter or Space to show this step's attempts.",
  "node.a11yDescription.keyboardDisabled": "Press Enter or Space to show this step's attempts.",
};

export type WorkflowGraphProps = {
  definition: unknown;
  /** The run's step attempts: given, the path it took is highlighted and the rest dimmed. */
  entries?: StepEntry[];
  selected?: string | null;
  onSelect?: (stepId: string) => void;
  /** What the graph shows, for screen readers ("Graph of order_check, version 2"). */
  label: string;
  /** Steps marked as added, removed or changed against another version. */
  marks?: Map<string, StepMark>;
  /** Left to right (the default), or top to bottom for a narrow box. */
  direction?: "RIGHT" | "DOWN";
};

export default function WorkflowGraph({ definition, entries, selected, onSelect, label, marks, direction }: WorkflowGraphProps) {
  const graph = useMemo(() => buildGraph(definition), [definition]);
  const laid = useLayout(graph, direction);
  const path = useMemo(() => (entries ? pathTaken(graph, entries) : undefined), [graph, entries]);
  const colorMode = useColorMode();

  const nodes = useMemo<StepNodeType[]>(() => {
    if (!laid.layout) return [];
    const positions = laid.layout.nodes;
    return graph.nodes.map((node) => {
      const mark = marks?.get(node.id);
      const data = { node, visit: path?.steps.get(node.id), run: Boolean(path), ...(mark ? { mark } : {}) };
      const status = visitText(data);
      return {
        id: node.id,
        type: "step",
        position: positions.get(node.id) ?? { x: 0, y: 0 },
        data,
        selected: node.id === selected,
        selectable: Boolean(onSelect) && node.kind === "step",
        ariaRole: onSelect ? "button" : "group",
        ariaLabel:
          node.kind === "trigger"
            ? `Trigger: ${node.label}`
            : `Step ${node.label}, ${node.type}${status ? `: ${status}` : ""}`,
        domAttributes: onSelect && node.kind === "step" ? { "aria-pressed": node.id === selected } : {},
      };
    });
  }, [graph, laid.layout, path, selected, onSelect, marks]);

  const edges = useMemo<RouteEdgeType[]>(() => {
    if (!laid.layout) return [];
    const routes = laid.layout.edges;
    return graph.edges.map((edge) => {
      const taken = path?.edges.has(edge.id) ?? false;
      const route = routes.get(edge.id);
      return {
        id: edge.id,
        type: "route",
        source: edge.source,
        target: edge.target,
        label: edge.label,
        className: path ? (taken ? "wf-edge-taken" : "wf-edge-dim") : undefined,
        markerEnd: {
          type: MarkerType.ArrowClosed,
          color: taken ? "var(--wf-edge-taken)" : "var(--wf-edge)",
          width: 16,
          height: 16,
        },
        data: { points: route?.points ?? [], ...(route?.label ? { labelAt: route.label } : {}) },
        selectable: false,
        focusable: false,
      };
    });
  }, [graph, laid.layout, path]);

  const onNodesChange = useCallback(
    (changes: NodeChange<StepNodeType>[]) => {
      for (const change of changes) {
        if (change.type === "select" && change.selected) onSelect?.(change.id);
      }
    },
    [onSelect],
  );

  if (laid.error) return <ErrorNotice error={laid.error} what="lay out the graph" />;
  if (!laid.layout) return <Loading label="Laying out the graph…" />;
  return (
    <Canvas layout={laid.layout} label={label} direction={direction}>
      {(viewport) => (
        <ReactFlow
          className="wf-graph"
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          onNodesChange={onNodesChange}
          colorMode={colorMode}
          defaultViewport={viewport}
          minZoom={0.2}
          nodesDraggable={false}
          nodesConnectable={false}
          nodesFocusable={Boolean(onSelect)}
          edgesFocusable={false}
          deleteKeyCode={null}
          selectionKeyCode={null}
          multiSelectionKeyCode={null}
          // The page scrolls over the graph; zoom with the buttons, a pinch or Ctrl + wheel.
          zoomOnScroll={false}
          preventScrolling={false}
          ariaLabelConfig={ARIA}
        >
          <Controls position="top-right" showInteractive={false} fitViewOptions={{ padding: 0.05 }} />
        </ReactFlow>
      )}
    </Canvas>
  );
}

/**
 * The graph's box: as tall as the laid-out graph needs (within limits), and the first view
 * computed from its width, so a long workflow opens readable at its trigger instead of shrunk
 * to fit.
 */
function Canvas({
  layout,
  label,
  direction,
  children,
}: {
  layout: Layout;
  label: string;
  direction?: "RIGHT" | "DOWN";
  children: (viewport: { x: number; y: number; zoom: number }) => React.ReactNode;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState<number>();
  const height = boxHeight(layout);
  useLayoutEffect(() => setWidth(box.current?.clientWidth), []);
  return (
    // The height is set through the CSSOM (React's style prop), which the CSP allows.
    <div ref={box} className="w-full" style={{ height }} role="figure" aria-label={label}>
      {width ? children(initialViewport(layout, width, height, direction)) : null}
    </div>
  );
}

/** The layout of a graph, computed off the render path (in elkjs's worker). */
function useLayout(graph: Graph, direction?: "RIGHT" | "DOWN"): { layout?: Layout; error?: unknown } {
  const [state, setState] = useState<{ graph: Graph; layout?: Layout; error?: unknown }>();
  useEffect(() => {
    let current = true;
    layoutGraph(graph, direction).then(
      (layout) => current && setState({ graph, layout }),
      (error: unknown) => current && setState({ graph, error }),
    );
    return () => {
      current = false;
    };
  }, [graph, direction]);
  return state?.graph === graph ? state : {};
}
