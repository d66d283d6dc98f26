// The builder's keyboard shortcuts, read from a key press. Pure: the page decides what each does.

export type Shortcut = "delete" | "undo" | "redo" | "select-all" | "copy" | "paste" | "duplicate";

/** The shortcut a key press means, or none; keys typed into a field or a dialog are theirs. */
export function shortcutOf(event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "shiftKey" | "target">): Shortcut | undefined {
  const target = event.target as HTMLElement | null;
  if (target?.closest?.("input, textarea, select, [contenteditable=true], dialog")) return undefined;
  const key = event.key.toLowerCase();
  if (!(event.ctrlKey || event.metaKey)) return key === "delete" || key === "backspace" ? "delete" : undefined;
  if (key === "z") return event.shiftKey ? "redo" : "undo";
  return ({ y: "redo", a: "select-all", c: "copy", v: "paste", d: "duplicate" } as const)[key as "y"];
}
