// The builder's undo history: the definitions before and after the present one. Pure. Typing
// in a field makes one change per key; changes with the same `merge` key that follow each other
// closely replace the present instead of stacking, so one undo takes back one edit, not a letter.
import type { Definition } from "./definition";

export type History = {
  past: Definition[];
  present: Definition;
  future: Definition[];
  /** The merge key and time of the last change, to fold typing into one step. */
  last?: { merge: string; at: number };
};

/** How many steps back undo goes. */
const DEPTH = 200;
/** Changes of one field closer together than this are one step of the history. */
const MERGE_MS = 1000;

export function start(definition: Definition): History {
  return { past: [], present: definition, future: [] };
}

export function change(history: History, definition: Definition, merge?: string, now = Date.now()): History {
  if (definition === history.present) return history;
  if (merge && history.last?.merge === merge && now - history.last.at < MERGE_MS) {
    return { ...history, present: definition, future: [], last: { merge, at: now } };
  }
  return {
    past: [...history.past, history.present].slice(-DEPTH),
    present: definition,
    future: [],
    ...(merge ? { last: { merge, at: now } } : {}),
  };
}

export function undo(history: History): History {
  const previous = history.past[history.past.length - 1];
  if (previous === undefined) return history;
  return { past: history.past.slice(0, -1), present: previous, future: [history.present, ...history.future] };
}

export function redo(history: History): History {
  const [next, ...rest] = history.future;
  if (next === undefined) return history;
  return { past: [...history.past, history.present], present: next, future: rest };
}
