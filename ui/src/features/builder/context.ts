// The context paths a template or a condition of a step may read (docs/format.md §9): the
// trigger's payload fields (the fields of the sample payload last tested with, the fields seen
// in the scope's recent events of that type, and the entity catalogue's fields of an entity whose
// events it is), the run's variables, and the outputs of the steps that may have run before it.
// Offered as suggestions while typing. Pure.
import { buildGraph, TRIGGER_ID } from "../graph/model";
import type { Capabilities } from "./api";
import { allSteps, type Definition, isRecord, triggerEvents } from "./definition";

/** Fields of a payload as the server lists them (`order.items[].sku`), four levels deep. */
export function samplePaths(payload: unknown, prefix = "", depth = 0): string[] {
  if (depth >= 4) return [];
  if (Array.isArray(payload)) return payload.length > 0 ? samplePaths(payload[0], `${prefix}[]`, depth + 1) : [];
  if (!isRecord(payload)) return [];
  return Object.entries(payload).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...samplePaths(value, path, depth + 1)];
  });
}

/**
 * The steps that may have run before a step, in document order: every step on a way from the
 * trigger to it (a parallel or foreach step counts for the steps it holds). A step not yet
 * connected has none.
 */
export function earlierSteps(definition: Definition, stepId: string): string[] {
  const into = new Map<string, string[]>();
  for (const edge of buildGraph(definition).edges) into.set(edge.target, [...(into.get(edge.target) ?? []), edge.source]);
  const seen = new Set<string>();
  const toVisit = [stepId];
  for (let id = toVisit.pop(); id !== undefined; id = toVisit.pop()) {
    for (const source of into.get(id) ?? []) {
      if (source === TRIGGER_ID || seen.has(source)) continue;
      seen.add(source);
      toVisit.push(source);
    }
  }
  // A step on a loop comes back to itself: its own output is no earlier step's.
  seen.delete(stepId);
  return allSteps(definition)
    .map((s) => s.id)
    .filter((id) => seen.has(id));
}

/** `items[sku, qty, price]` → `items`, `items[].sku`… */
function entityFields(entity: string, field: string): string[] {
  const m = /^([^[]+)\[(.*)\]$/.exec(field);
  if (!m) return [`${entity}.${field}`];
  const list = `${entity}.${m[1]}`;
  return [list, ...(m[2] ?? "").split(",").map((f) => `${list}[].${f.trim()}`)];
}

export function payloadFields(capabilities: Capabilities | undefined, definition: Definition, sample?: unknown): string[] {
  const fields = new Set<string>(samplePaths(sample));
  if (!capabilities) return [...fields].sort();
  const events = triggerEvents(definition);
  const matches = (type: string) =>
    events.some((e) => (e.endsWith("*") ? type.startsWith(e.slice(0, -1)) : e === type));
  for (const seen of capabilities.seen_events) {
    if (matches(seen.event_type)) seen.fields.forEach((f) => fields.add(f));
  }
  for (const [name, entity] of Object.entries(capabilities.entities)) {
    if (events.length === 0 || entity.events.some(matches)) {
      entity.fields.forEach((f) => entityFields(name, f).forEach((p) => fields.add(p)));
    }
  }
  return [...fields].sort();
}

/**
 * Every path a step may read (the trigger's, without `stepId`): payload fields, variables and
 * the earlier steps' outputs. `sample` is the sample payload last tested with.
 */
export function contextPaths(
  capabilities: Capabilities | undefined,
  definition: Definition,
  stepId?: string,
  sample?: unknown,
): string[] {
  const variables = isRecord(definition.variables) ? Object.keys(definition.variables).map((v) => `vars.${v}`) : [];
  const outputs = stepId ? earlierSteps(definition, stepId).map((id) => `steps.${id}.output`) : [];
  return [...payloadFields(capabilities, definition, sample), ...variables, ...outputs];
}
