// The JSON paths diagnostics carry (`$.steps[1].steps[0].config.recipents`): which node of the
// canvas and which field of its panel they point at, and applying a suggested fix there. Pure.
import type { Detail } from "../../api/types";
import { type Definition, isRecord } from "./definition";

export type Segment = string | number;

/** `$.steps[1].config["a b"]` → `["steps", 1, "config", "a b"]`; undefined when it does not read. */
export function parsePath(path: string): Segment[] | undefined {
  if (!path.startsWith("$")) return undefined;
  const segments: Segment[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\['([^']*)'\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) return undefined;
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else if (m[3] !== undefined) segments.push(JSON.parse(`"${m[3]}"`) as string);
    else segments.push(m[4] ?? "");
  }
  return segments;
}

export type Target = {
  /** The step's id, the trigger (`@trigger`), or none for the workflow itself. */
  node?: string;
  /** The field of that step or trigger: `condition`, `on_true`, `config.url`… */
  field?: string;
};

/**
 * Where a path points: the innermost step it goes through (an object with an `id` and a
 * `type`), or the trigger, and the field below it (with a config's property, `config.url`).
 */
export function targetOf(definition: Definition, path: string, triggerId: string): Target {
  const segments = parsePath(path);
  if (!segments) return {};
  if (segments[0] === "trigger" || segments[0] === "triggers") {
    const rest = segments.slice(segments[0] === "triggers" ? 2 : 1);
    return { node: triggerId, ...(typeof rest[0] === "string" ? { field: rest[0] } : {}) };
  }
  let value: unknown = definition;
  let found: Target = {};
  let below: Segment[] = segments;
  segments.forEach((segment, i) => {
    if (value === undefined) return;
    value = (value as Record<string | number, unknown>)[segment];
    if (isRecord(value) && typeof value.id === "string" && typeof value.type === "string") {
      found = { node: value.id };
      below = segments.slice(i + 1);
    }
  });
  if (!found.node) return {};
  const [first, second] = below;
  if (typeof first !== "string") return found;
  return { ...found, field: first === "config" && typeof second === "string" ? `config.${second}` : first };
}

/** A fix applied at its diagnostic's path: replace a value, rename a key, or add a field. */
export function applyFix(definition: Definition, detail: Detail): Definition | undefined {
  const fix = detail.fix;
  const segments = parsePath(detail.path);
  if (!fix || !segments) return undefined;
  const next = structuredClone(definition);
  if (fix.op === "add") {
    const holder = walk(next, segments);
    if (!isRecord(holder) || !fix.field) return undefined;
    holder[fix.field] = fix.value;
    return next;
  }
  const last = segments[segments.length - 1];
  const holder = walk(next, segments.slice(0, -1));
  if (last === undefined || holder === undefined || holder === null || typeof holder !== "object") return undefined;
  if (fix.op === "replace") {
    (holder as Record<string | number, unknown>)[last] = fix.value;
    return next;
  }
  if (!isRecord(holder) || typeof last !== "string" || !fix.to) return undefined;
  // Renamed in place: the key keeps its position among its neighbours.
  const renamed = Object.fromEntries(Object.entries(holder).map(([k, v]) => [k === last ? fix.to! : k, v]));
  for (const key of Object.keys(holder)) delete holder[key];
  Object.assign(holder, renamed);
  return next;
}

function walk(value: unknown, segments: Segment[]): unknown {
  return segments.reduce<unknown>(
    (at, segment) => (at !== null && typeof at === "object" ? (at as Record<string | number, unknown>)[segment] : undefined),
    value,
  );
}
