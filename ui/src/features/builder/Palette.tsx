// Every step type the scope offers, from its capabilities: control steps, the two decisions and
// each action type (built-ins and connectors). Drag one onto the canvas (or onto an edge to put
// it on that way), or press it to add it after the selected step.
import { memo, useId, useState } from "react";

import type { Capabilities } from "./api";
import { PALETTE_MIME } from "./BuilderCanvas";
import { DECISIONS } from "./defaults";

type Group = { title: string; items: { type: string; description?: string }[] };

function groups(capabilities: Capabilities): Group[] {
  return [
    { title: "Control", items: capabilities.step_types.map((type) => ({ type })) },
    { title: "Decisions", items: DECISIONS.map((type) => ({ type, description: `An action step that decides ${type}` })) },
    {
      title: "Actions",
      items: capabilities.actions.map((a) => ({
        type: a.name,
        description: a.source === "connector" ? `${a.description} (connector)` : a.description,
      })),
    },
  ];
}

/** Memoized: the page re-renders on every frame of a drag, the palette need not. */
export const Palette = memo(function Palette({
  capabilities,
  onAdd,
}: {
  capabilities: Capabilities;
  onAdd: (type: string) => void;
}) {
  const [query, setQuery] = useState("");
  const searchId = useId();
  const q = query.trim().toLowerCase();
  const shown = groups(capabilities)
    .map((g) => ({
      ...g,
      items: g.items.filter((i) => !q || i.type.includes(q) || (i.description ?? "").toLowerCase().includes(q)),
    }))
    .filter((g) => g.items.length > 0);

  return (
    <section aria-label="Palette" className="flex h-full min-h-0 flex-col">
      <label htmlFor={searchId} className="label">
        Search step types
      </label>
      <input
        id={searchId}
        type="search"
        className="input mb-2"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder="condition, http…"
      />
      <div className="min-h-0 flex-1 overflow-y-auto pr-1">
        {shown.length === 0 ? <p className="muted text-sm">No step type matches.</p> : null}
        {shown.map((group) => (
          <div key={group.title} className="mb-3">
            <h3 className="muted mb-1 text-xs font-semibold tracking-wide uppercase">{group.title}</h3>
            <ul className="space-y-1">
              {group.items.map((item) => (
                <li key={item.type}>
                  <button
                    type="button"
                    draggable
                    title={item.description}
                    className="mono w-full cursor-grab rounded border border-zinc-300 bg-white px-2 py-1 text-left text-xs hover:border-sky-500 dark:border-zinc-700 dark:bg-zinc-900"
                    onDragStart={(e) => {
                      e.dataTransfer.setData(PALETTE_MIME, item.type);
                      e.dataTransfer.effectAllowed = "copy";
                    }}
                    onClick={() => onAdd(item.type)}
                  >
                    {item.type}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ))}
      </div>
    </section>
  );
});
