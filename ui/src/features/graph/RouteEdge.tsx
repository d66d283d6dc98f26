// An edge drawn along the route elkjs laid out for it (right angles, rounded), with its label
// where the layout left room for it.
import { BaseEdge, type Edge, type EdgeProps } from "@xyflow/react";
import { memo } from "react";

import type { Point } from "./layout";

export type RouteEdgeData = { points: Point[]; labelAt?: Point };
export type RouteEdgeType = Edge<RouteEdgeData, "route">;

const RADIUS = 6;

/** A polyline with its corners rounded (never by more than half of either side). */
export function roundedPath(points: Point[]): string {
  const [first, ...rest] = points;
  if (!first) return "";
  let d = `M ${first.x} ${first.y}`;
  rest.forEach((point, i) => {
    const before = i === 0 ? first : rest[i - 1]!;
    const after = rest[i + 1];
    if (!after) {
      d += ` L ${point.x} ${point.y}`;
      return;
    }
    const r = Math.min(
      RADIUS,
      Math.hypot(point.x - before.x, point.y - before.y) / 2,
      Math.hypot(after.x - point.x, after.y - point.y) / 2,
    );
    const towards = (from: Point, to: Point) => {
      const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
      return { x: from.x + ((to.x - from.x) / length) * r, y: from.y + ((to.y - from.y) / length) * r };
    };
    const start = towards(point, before);
    const end = towards(point, after);
    d += ` L ${start.x} ${start.y} Q ${point.x} ${point.y} ${end.x} ${end.y}`;
  });
  return d;
}

export const RouteEdge = memo(function RouteEdge({ id, data, label, markerEnd }: EdgeProps<RouteEdgeType>) {
  return (
    <BaseEdge
      id={id}
      path={roundedPath(data?.points ?? [])}
      markerEnd={markerEnd}
      label={label}
      labelX={data?.labelAt?.x}
      labelY={data?.labelAt?.y}
      labelBgPadding={[4, 2]}
      labelBgBorderRadius={3}
    />
  );
});
