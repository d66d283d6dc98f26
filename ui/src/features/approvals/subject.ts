// What an approval is about, in figures: the fields of its entity in the requesting run's
// context (an `order` approval shows the run's `order.total`, `order.id`…). The approval itself
// carries only the entity's type and id, so this reads the run. Pure.

/** Keys the engine adds to a run's context: never the entity's own data. */
const RESERVED = new Set(["trigger", "steps", "vars", "loop", "secrets"]);
/** Fields that usually decide an approval come first. */
const FIRST = /amount|total|price|value|sum|cost|currency|quantity|qty|risk|score|reason|name|email/i;
const MAX_FIELDS = 6;

export type SubjectField = { name: string; value: string | number | boolean };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function approvalSubject(context: unknown, entity: string | null): SubjectField[] {
  if (!isRecord(context) || !entity || RESERVED.has(entity)) return [];
  const data = context[entity];
  if (!isRecord(data)) return [];
  const fields = Object.entries(data)
    .filter((entry): entry is [string, string | number | boolean] =>
      ["string", "number", "boolean"].includes(typeof entry[1]),
    )
    .map(([name, value]) => ({ name, value }));
  // Stable: the decisive fields first, each group in the payload's order.
  return [...fields.filter((f) => FIRST.test(f.name)), ...fields.filter((f) => !FIRST.test(f.name))].slice(
    0,
    MAX_FIELDS,
  );
}

export function showValue(value: string | number | boolean): string {
  return typeof value === "number" ? value.toLocaleString() : String(value);
}
