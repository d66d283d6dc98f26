// The context paths a template or a condition of a step may read (docs/format.md §9): the
// trigger's payload fields (the fields seen in the scope's recent events of that type, and the
// entity catalogue's fields of an entity whose events it is), the run's variables, and the
// outputs of the other steps. Offered as suggestions while typing. Pure.
import type { Capabilities } from "./api";
import { allSteps, type Definition, isRecord, triggerEvents } from "./definition";

/** `items[sku, qty, price]` → `items`, `items[].sku`… */
function entityFields(entity: string, field: string): string[] {
  const m = /^([^[]+)\[(.*)\]$/.exec(field);
  if (!m) return [`${entity}.${field}`];
  const list = `${entity}.${m[1]}`;
  return [list, ...(m[2] ?? "").split(",").map((f) => `${list}[].${f.trim()}`)];
}

export function payloadFields(capabilities: Capabilities | undefined, definition: Definition): string[] {
  if (!capabilities) return [];
  const events = triggerEvents(definition);
  const matches = (type: string) =>
    events.some((e) => (e.endsWith("*") ? type.startsWith(e.slice(0, -1)) : e === type));
  const fields = new Set<string>();
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

/** Every path a step may read: payload fields, variables and the other steps' outputs. */
export function contextPaths(capabilities: Capabilities | undefined, definition: Definition, stepId?: string): string[] {
  const variables = isRecord(definition.variables) ? Object.keys(definition.variables).map((v) => `vars.${v}`) : [];
  const outputs = allSteps(definition)
    .filter((s) => s.id !== stepId)
    .map((s) => `steps.${s.id}.output`);
  return [...payloadFields(capabilities, definition), ...variables, ...outputs];
}
