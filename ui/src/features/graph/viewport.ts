// The graph's first view: the whole graph when it fits at a readable size, otherwise the start
// of it (the trigger) at the smallest readable zoom; the controls' Fit View shows it all.
import { type Layout, NODE_HEIGHT, NODE_WIDTH } from "./layout";
import { TRIGGER_ID } from "./model";

const PAD = 24;
/** Room kept free on the right for the zoom controls. */
const CONTROLS = 56;
const READABLE = 0.8;
const MIN_HEIGHT = 180;
const MAX_HEIGHT = 520;

type Bounds = { x: number; y: number; width: number; height: number };

function bounds(layout: Layout): Bounds {
  const xs = [...layout.nodes.values()];
  if (xs.length === 0) return { x: 0, y: 0, width: NODE_WIDTH, height: NODE_HEIGHT };
  const minX = Math.min(...xs.map((p) => p.x));
  const minY = Math.min(...xs.map((p) => p.y));
  const maxX = Math.max(...xs.map((p) => p.x + NODE_WIDTH));
  const maxY = Math.max(...xs.map((p) => p.y + NODE_HEIGHT));
  return { x: minX, y: minY, width: maxX - minX, height: maxY - minY };
}

/** The box's height in pixels: the graph's at a readable zoom, within limits. */
export function boxHeight(layout: Layout): number {
  const b = bounds(layout);
  return Math.round(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, b.height * 0.85 + 2 * PAD)));
}

/**
 * `direction` is the layout's: left to right, the trigger is met at the left, halfway down; top
 * to bottom, at the top, halfway across.
 */
export function initialViewport(layout: Layout, width: number, height: number, direction: "RIGHT" | "DOWN" = "RIGHT") {
  const b = bounds(layout);
  const room = width - PAD - CONTROLS;
  const fit = Math.min(1, room / b.width, (height - 2 * PAD) / b.height);
  if (fit >= READABLE) {
    return {
      x: PAD + (room - b.width * fit) / 2 - b.x * fit,
      y: (height - b.height * fit) / 2 - b.y * fit,
      zoom: fit,
    };
  }
  const zoom = READABLE;
  const trigger = layout.nodes.get(TRIGGER_ID) ?? { x: b.x, y: b.y };
  if (direction === "DOWN") {
    const x =
      b.width * zoom <= room
        ? PAD + (room - b.width * zoom) / 2 - b.x * zoom
        : PAD + room / 2 - (trigger.x + NODE_WIDTH / 2) * zoom;
    const y =
      b.height * zoom <= height - 2 * PAD ? (height - b.height * zoom) / 2 - b.y * zoom : PAD - trigger.y * zoom;
    return { x, y, zoom };
  }
  const y =
    b.height * zoom <= height - 2 * PAD
      ? (height - b.height * zoom) / 2 - b.y * zoom
      : height / 2 - (trigger.y + NODE_HEIGHT / 2) * zoom;
  return { x: PAD - b.x * zoom, y, zoom };
}
