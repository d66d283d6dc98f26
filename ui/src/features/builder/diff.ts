// A line diff of two texts, side by side: the longest common subsequence of their lines, with
// each run of removed lines paired with the run of added lines that replaces it; and which steps
// two definitions add, remove or change. Pure.
import { allSteps, type Definition, isRecord, type Step } from "./definition";

export type Row = { left?: string; right?: string; change: "same" | "removed" | "added" | "changed" };

/** Past this many cells the table would be too big to keep: the texts are shown as replaced. */
const MAX_CELLS = 16_000_000;

export function sideBySide(before: string, after: string): Row[] {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length * b.length > MAX_CELLS) return pair(a, b);
  // lcs[i * (m + 1) + j]: the common subsequence's length of a[i..] and b[j..].
  const m = b.length;
  const lcs = new Uint32Array((a.length + 1) * (m + 1));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i * (m + 1) + j] =
        a[i] === b[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  const rows: Row[] = [];
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    rows.push(...pair(removed, added));
    removed = [];
    added = [];
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < m) {
    if (i < a.length && j < m && a[i] === b[j]) {
      flush();
      rows.push({ left: a[i], right: b[j], change: "same" });
      i += 1;
      j += 1;
    } else if (j < m && (i === a.length || lcs[i * (m + 1) + j + 1]! >= lcs[(i + 1) * (m + 1) + j]!)) {
      added.push(b[j]!);
      j += 1;
    } else {
      removed.push(a[i]!);
      i += 1;
    }
  }
  flush();
  return rows;
}

function pair(removed: string[], added: string[]): Row[] {
  return Array.from({ length: Math.max(removed.length, added.length) }, (_, k) => {
    const left = removed[k];
    const right = added[k];
    if (left !== undefined && right !== undefined) return { left, right, change: "changed" as const };
    return left !== undefined ? { left, change: "removed" as const } : { right, change: "added" as const };
  });
}

/** A step list with each step named by its id (a sequence branch of a parallel step, by its ids). */
function idsOf(list: unknown): unknown {
  if (!Array.isArray(list)) return list;
  return list.map((item) =>
    isRecord(item) && typeof item.id === "string"
      ? item.id
      : isRecord(item) && Array.isArray(item.steps)
        ? { ...item, steps: idsOf(item.steps) }
        : item,
  );
}

/**
 * A step's own fields as text: the steps a parallel or foreach step holds count by id, so a
 * change inside a branch is that step's change, not its group's too.
 */
function ownText(step: Step): string {
  if (step.type !== "parallel" && step.type !== "foreach") return JSON.stringify(step);
  const own: Record<string, unknown> = { ...step };
  if ("steps" in own) own.steps = idsOf(own.steps);
  if ("branches" in own) own.branches = idsOf(own.branches);
  return JSON.stringify(own);
}

/** Which steps one definition adds, removes and changes against another, by id. */
export function stepChanges(before: Definition, after: Definition): { added: string[]; removed: string[]; changed: string[] } {
  const old = new Map(allSteps(before).map((s) => [s.id, ownText(s)]));
  const now = new Map(allSteps(after).map((s) => [s.id, ownText(s)]));
  return {
    added: [...now.keys()].filter((id) => !old.has(id)),
    removed: [...old.keys()].filter((id) => !now.has(id)),
    changed: [...now].filter(([id, text]) => old.has(id) && old.get(id) !== text).map(([id]) => id),
  };
}
