// Where the builder's nodes are: kept beside the definition (a place is not part of a
// workflow). Nodes without one (a first look, steps added in the code view or by the
// interpreter) are laid out by elkjs in its worker; the places the user gave are kept.
import { useReactFlow } from "@xyflow/react";
import { useCallback, useEffect, useRef, useState } from "react";

import { layoutGraph, type Point } from "../graph/layout";
import type { WorkflowGraph } from "../graph/model";

export function usePositions(graph: WorkflowGraph) {
  const flow = useReactFlow();
  const [positions, setPositions] = useState<Map<string, Point>>(new Map());
  const [layoutError, setLayoutError] = useState<unknown>();
  // Read by edits that place a node, so they do not change (and re-render the panels) on every
  // frame of a drag.
  const placed = useRef(positions);
  placed.current = positions;
  const laidOut = graph.nodes.every((n) => positions.has(n.id));

  useEffect(() => {
    if (laidOut) return;
    let current = true;
    layoutGraph(graph, "DOWN").then(
      (layout) => {
        if (!current) return;
        setPositions((old) => {
          const next = new Map(old);
          for (const [id, point] of layout.nodes) if (!next.has(id)) next.set(id, point);
          return next;
        });
      },
      (error: unknown) => current && setLayoutError(error),
    );
    return () => {
      current = false;
    };
  }, [graph, laidOut]);

  /** Everything laid out afresh, then all of it in view. */
  const arrange = useCallback(() => {
    layoutGraph(graph, "DOWN").then(
      (layout) => {
        setPositions(new Map(layout.nodes));
        requestAnimationFrame(() => void flow.fitView({ padding: 0.15 }));
      },
      (error: unknown) => setLayoutError(error),
    );
  }, [graph, flow]);

  return { positions, setPositions, placed, laidOut, layoutError, arrange };
}
