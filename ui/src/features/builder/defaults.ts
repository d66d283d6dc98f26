// What a step dropped from the palette starts as: its type's required fields, with values that
// say what to fill in (the validator points at what is still missing). Pure.
import type { ActionCapability } from "./api";
import type { Step } from "./definition";

/** Palette entries that are `action` steps deciding the run. */
export const DECISIONS = ["allow", "block"] as const;

const CONTROL: Record<string, Record<string, unknown>> = {
  condition: { condition: { field: "", operator: "eq", value: "" } },
  switch: { value: "", cases: [] },
  parallel: { strategy: "all", steps: [] },
  wait: { event: "", timeout: "1h" },
  delay: { duration: "1m" },
  approval: { approver_role: "", message: "", timeout: "24h" },
  foreach: { items: "", steps: [] },
  subworkflow: { workflow_id: "" },
  set: { variables: {} },
  action: { action: "allow" },
  execute: { execute: [] },
};

/** An empty value of a JSON Schema's type, for a required config field. */
function emptyOf(schema: unknown): unknown {
  const type = typeof schema === "object" && schema !== null ? (schema as { type?: unknown }).type : undefined;
  const first = Array.isArray(type) ? type[0] : type;
  switch (first) {
    case "array":
      return [];
    case "object":
      return {};
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    default:
      return "";
  }
}

export function newStep(type: string, id: string, actions: ActionCapability[]): Step {
  if ((DECISIONS as readonly string[]).includes(type)) {
    return { id, type: "action", action: type, ...(type === "block" ? { reason: "" } : {}) };
  }
  const control = CONTROL[type];
  if (control) {
    return JSON.parse(JSON.stringify({ id, type, ...control })) as Step;
  }
  const action = actions.find((a) => a.name === type);
  const schema = action?.config_schema as { required?: string[]; properties?: Record<string, unknown> } | undefined;
  const config = Object.fromEntries((schema?.required ?? []).map((name) => [name, emptyOf(schema?.properties?.[name])]));
  return { id, type, config };
}

