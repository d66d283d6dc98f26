// Edits of a workflow definition, the builder's single source of truth: every change on the
// canvas or in a panel is one of these functions, from a definition to a new one (the old one is
// never touched, so the undo history can keep it). Pure: no React. Step lists are the ones of
// docs/format.md §4: the top level, each parallel branch and each foreach body.

export type Definition = Record<string, unknown>;
export type Step = Record<string, unknown> & { id: string };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStep(value: unknown): value is Step {
  return isRecord(value) && typeof value.id === "string";
}

/** Fields of a step that name another step of its list. */
export const TARGET_FIELDS = ["next", "on_true", "on_false", "default", "on_timeout", "on_approve", "on_reject"] as const;

/** `on_error` values that are policies, not step ids. */
const ERROR_POLICIES = new Set(["fail", "propagate", "continue", "ignore", "catch"]);

/** A parallel step's branches: each one step, or `{steps: [...]}` for a sequence. */
function branchLists(step: Record<string, unknown>): unknown[][] {
  const branches = Array.isArray(step.steps) ? step.steps : Array.isArray(step.branches) ? step.branches : [];
  return branches.map((branch) =>
    isRecord(branch) && Array.isArray(branch.steps) && !("type" in branch) ? (branch.steps as unknown[]) : [branch],
  );
}

/**
 * Every step list of a definition (mutable arrays of the object given), outermost first. A
 * parallel branch that is a single step is a list of one that is not in the document: edits that
 * insert into it go to the top level instead (see `listHolding`).
 */
function stepLists(definition: Definition): unknown[][] {
  const lists: unknown[][] = [];
  const visit = (list: unknown) => {
    if (!Array.isArray(list)) return;
    lists.push(list);
    for (const step of list) {
      if (!isRecord(step)) continue;
      if (step.type === "parallel") branchLists(step).forEach(visit);
      else if (step.type === "foreach") visit(step.steps);
    }
  };
  visit(definition.steps);
  return lists;
}

/** Every step of the definition, nested ones included, in document order. */
export function allSteps(definition: Definition): Step[] {
  return stepLists(definition).flatMap((list) => list.filter(isStep));
}

export function findStep(definition: Definition, id: string): Step | undefined {
  return allSteps(definition).find((s) => s.id === id);
}

/** The list that holds a step in the document (a single-step parallel branch has none). */
function listHolding(definition: Definition, id: string): unknown[] | undefined {
  return stepLists(definition).find((list) => list.some((s) => isStep(s) && s.id === id));
}

/** The other steps of a step's list: the ones its targets may name (docs/format.md §5.4). */
export function siblingsOf(definition: Definition, id: string): string[] {
  const list = stepLists(definition).find((l) => l.some((s) => isStep(s) && s.id === id)) ?? [];
  return list.filter(isStep).map((s) => s.id).filter((s) => s !== id);
}

/** A copy to change: definitions are plain JSON, so a deep copy is exact. */
function draft(definition: Definition): Definition {
  return structuredClone(definition);
}

function topLevel(definition: Definition): unknown[] {
  if (!Array.isArray(definition.steps)) definition.steps = [];
  return definition.steps as unknown[];
}

/** `base`, or `base_2`, `base_3`… : the first id no step has. */
export function uniqueId(definition: Definition, base: string, taken: Set<string> = new Set()): string {
  const used = new Set([...allSteps(definition).map((s) => s.id), ...taken]);
  const stem = base.replace(/[^A-Za-z0-9_.-]/g, "_") || "step";
  if (!used.has(stem)) return stem;
  for (let n = 2; ; n += 1) {
    if (!used.has(`${stem}_${n}`)) return `${stem}_${n}`;
  }
}

/** The id a new step of a type gets: `condition_1`, `condition_2`… */
export function newStepId(definition: Definition, type: string): string {
  const used = new Set(allSteps(definition).map((s) => s.id));
  for (let n = 1; ; n += 1) {
    if (!used.has(`${type}_${n}`)) return `${type}_${n}`;
  }
}

/** Calls `change` on each reference to a step in a step's fields; `undefined` removes it. */
function rewriteReferences(step: Record<string, unknown>, change: (target: string) => string | undefined) {
  for (const field of TARGET_FIELDS) {
    if (typeof step[field] !== "string") continue;
    const next = change(step[field]);
    if (next === undefined) delete step[field];
    else step[field] = next;
  }
  if (typeof step.on_error === "string" && !ERROR_POLICIES.has(step.on_error)) {
    const next = change(step.on_error);
    if (next === undefined) delete step.on_error;
    else step.on_error = next;
  }
  if (Array.isArray(step.cases)) {
    step.cases = step.cases.filter((entry) => {
      if (!isRecord(entry) || typeof entry.next !== "string") return true;
      const next = change(entry.next);
      if (next === undefined) return false;
      entry.next = next;
      return true;
    });
  }
  if (Array.isArray(step.depends_on)) {
    step.depends_on = step.depends_on.flatMap((d) => {
      if (typeof d !== "string") return [d];
      const next = change(d);
      return next === undefined ? [] : [next];
    });
  }
}

/** Appends a step to the top-level list. */
export function addStep(definition: Definition, step: Step): Definition {
  const next = draft(definition);
  topLevel(next).push(step);
  return next;
}

/**
 * Adds a step inside a parallel step (as a branch of its own) or a foreach step (at the end of
 * its body): what dropping it in the group's box does.
 */
export function addToGroup(definition: Definition, group: string, step: Step): Definition {
  const next = draft(definition);
  const holder = findStep(next, group);
  if (!holder || (holder.type !== "parallel" && holder.type !== "foreach")) return addStep(definition, step);
  const key = holder.type === "parallel" && !Array.isArray(holder.steps) && Array.isArray(holder.branches) ? "branches" : "steps";
  holder[key] = [...(Array.isArray(holder[key]) ? (holder[key] as unknown[]) : []), step];
  return next;
}

/**
 * Puts a new step on the way from `source` to `target` (an edge of the canvas): the source's
 * references to the target go to the new step, which goes on to the target. The new step sits
 * just before the target in its list, so a source that fell through to the target falls
 * through to it.
 */
export function insertOnEdge(definition: Definition, step: Step, source: string, target: string): Definition {
  const next = draft(definition);
  const list = listHolding(next, target) ?? topLevel(next);
  const at = list.findIndex((s) => isStep(s) && s.id === target);
  const from = findStep(next, source);
  if (from) rewriteReferences(from, (t) => (t === target ? step.id : t));
  list.splice(at < 0 ? list.length : at, 0, { ...step, next: target });
  return next;
}

/** Removes steps, and every reference to them (the referring steps fall through instead). */
export function removeSteps(definition: Definition, ids: Iterable<string>): Definition {
  const gone = new Set(ids);
  if (gone.size === 0) return definition;
  const next = draft(definition);
  for (const list of stepLists(next)) {
    for (let i = list.length - 1; i >= 0; i -= 1) {
      const step = list[i];
      if (isStep(step) && gone.has(step.id)) list.splice(i, 1);
    }
  }
  for (const step of allSteps(next)) rewriteReferences(step, (t) => (gone.has(t) ? undefined : t));
  return next;
}

/** Gives a step another id, and every reference to it the same. */
export function renameStep(definition: Definition, from: string, to: string): Definition {
  const next = draft(definition);
  const step = findStep(next, from);
  if (!step) return definition;
  step.id = to;
  for (const s of allSteps(next)) rewriteReferences(s, (t) => (t === from ? to : t));
  return next;
}

/** Replaces one step's fields (its id stays). */
export function updateStep(definition: Definition, id: string, change: (step: Step) => Step): Definition {
  const next = draft(definition);
  for (const list of stepLists(next)) {
    const at = list.findIndex((s) => isStep(s) && s.id === id);
    if (at >= 0) {
      list[at] = change(list[at] as Step);
      return next;
    }
  }
  return definition;
}

/** How a connection leaves a node: the field it sets (see `connect`). */
export type Port = "next" | "true" | "false" | "approve" | "reject" | "timeout" | "case" | "default";

/** The ports a node of this type offers, in the order they are drawn. */
export function portsOf(step: Record<string, unknown> | undefined): Port[] {
  switch (step?.type) {
    case "condition":
      return ["true", "false"];
    case "switch":
      return ["case", "default"];
    case "approval":
      return ["approve", "reject", "timeout"];
    case "wait":
      return ["next", "timeout"];
    case "parallel":
      return step.strategy === "all_must_pass" ? ["true", "false"] : ["next"];
    default:
      return ["next"];
  }
}

const PORT_FIELD: Record<Exclude<Port, "case">, string> = {
  next: "next",
  true: "on_true",
  false: "on_false",
  approve: "on_approve",
  reject: "on_reject",
  timeout: "on_timeout",
  default: "default",
};

/** Which port an edge of the graph model leaves from (its first way). */
export function portOfKind(kind: string): Port {
  switch (kind) {
    case "true":
    case "false":
    case "approve":
    case "reject":
    case "timeout":
    case "case":
    case "default":
      return kind;
    default:
      return "next";
  }
}

/**
 * Draws a connection: sets the source's field for the port to the target. From the trigger,
 * the target becomes the first step of the top-level list (where a run starts).
 */
export function connect(definition: Definition, source: string, port: Port, target: string, trigger: string): Definition {
  const next = draft(definition);
  if (source === trigger) {
    const list = topLevel(next);
    const at = list.findIndex((s) => isStep(s) && s.id === target);
    if (at > 0) list.unshift(...list.splice(at, 1));
    return next;
  }
  const step = findStep(next, source);
  if (!step || source === target) return definition;
  if (port === "case") {
    step.cases = [...(Array.isArray(step.cases) ? step.cases : []), { when: "", next: target }];
  } else {
    step[PORT_FIELD[port]] = target;
    if (port === "next") delete step.end;
  }
  return next;
}

/** Removes the connections from `source` to `target` that the definition writes down. */
export function disconnect(definition: Definition, source: string, target: string): Definition {
  const next = draft(definition);
  const step = findStep(next, source);
  if (step) rewriteReferences(step, (t) => (t === target ? undefined : t));
  const dependent = findStep(next, target);
  if (dependent && Array.isArray(dependent.depends_on)) {
    dependent.depends_on = dependent.depends_on.filter((d) => d !== source);
  }
  return next;
}

/**
 * Copies of steps under new ids, their references to each other following the copies: what
 * paste and duplicate add.
 */
export function copiesOf(definition: Definition, steps: Step[]): Step[] {
  const taken = new Set<string>();
  const ids = new Map<string, string>();
  for (const step of steps) {
    const id = uniqueId(definition, `${step.id}_copy`, taken);
    taken.add(id);
    ids.set(step.id, id);
  }
  return steps.map((step) => {
    const copy = structuredClone(step);
    copy.id = ids.get(step.id) ?? copy.id;
    rewriteReferences(copy, (t) => ids.get(t) ?? t);
    return copy;
  });
}

/** Appends copies of steps to the top-level list: the new steps' ids. */
export function pasteSteps(definition: Definition, steps: Step[]): { definition: Definition; ids: string[] } {
  const copies = copiesOf(definition, steps);
  const next = draft(definition);
  topLevel(next).push(...copies);
  return { definition: next, ids: copies.map((c) => c.id) };
}

/** The workflow's trigger (the first of `triggers`), or none. */
export function triggerOf(definition: Definition): Record<string, unknown> | undefined {
  if (Array.isArray(definition.triggers)) return definition.triggers.find(isRecord);
  return isRecord(definition.trigger) ? definition.trigger : undefined;
}

/** Replaces the trigger (the first of `triggers` when the definition lists several). */
export function setTrigger(definition: Definition, trigger: Record<string, unknown>): Definition {
  const next = draft(definition);
  if (Array.isArray(next.triggers) && next.triggers.length > 0) next.triggers[0] = trigger;
  else next.trigger = trigger;
  return next;
}

/** The event types the workflow's event triggers listen to. */
export function triggerEvents(definition: Definition): string[] {
  const triggers = Array.isArray(definition.triggers) ? definition.triggers : [definition.trigger];
  return triggers.flatMap((t) => {
    if (!isRecord(t)) return [];
    const event = t.event ?? t.event_name ?? t.event_type;
    return typeof event === "string" && event !== "" ? [event] : [];
  });
}
