// The code view beside the canvas: the same workflow as JSON or YAML, in the canonical form
// `weir fmt` writes (POST /api/v1/format). Text that reads updates the canvas; text that does
// not says where it stops reading, and the canvas keeps the last workflow that read.
import { useEffect, useId, useRef, useState } from "react";

import { errorMessage, isApiError } from "../../api/client";
import { toYaml } from "../workflows/yaml";
import { formatWorkflow, type TextFormat } from "./api";
import type { Definition } from "./definition";

/** How long typing must pause before the text is read. */
const READ_AFTER_MS = 400;

/** The text of a workflow written here: shown at once, until the canonical text arrives. */
function localText(definition: Definition, format: TextFormat): string {
  return format === "json" ? `${JSON.stringify(definition, null, 2)}\n` : toYaml(definition);
}

function describe(error: unknown): string {
  if (isApiError(error)) {
    const at = error.details.find((d) => d.line !== undefined);
    const message = at?.message ?? error.message;
    // The reader's message usually says where already.
    const where = at && !/\bline \d/.test(message) ? ` (line ${at.line}${at.column !== undefined ? `, column ${at.column}` : ""})` : "";
    return `${message}${where}`;
  }
  return errorMessage(error);
}

export function CodeView({ definition, onChange }: { definition: Definition; onChange: (definition: Definition) => void }) {
  const [format, setFormat] = useState<TextFormat>("json");
  const [text, setText] = useState(() => localText(definition, "json"));
  const [typed, setTyped] = useState(false);
  const [error, setError] = useState<string>();
  /** The definition the text last produced: when it comes back, the text is left as typed. */
  const own = useRef<Definition | undefined>(undefined);
  const id = useId();

  // A definition from elsewhere (the canvas, undo), or another format: the canonical text.
  useEffect(() => {
    if (definition === own.current) return;
    const controller = new AbortController();
    setText(localText(definition, format));
    setTyped(false);
    setError(undefined);
    formatWorkflow(definition, format, controller.signal).then(
      (answer) => setText(answer.text),
      // Without the format endpoint the local text stands; an aborted request is superseded.
      () => undefined,
    );
    return () => controller.abort();
  }, [definition, format]);

  // Typed text, once typing pauses: read (JSON here, YAML by the server) and applied.
  useEffect(() => {
    if (!typed) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const apply = (next: Definition) => {
        own.current = next;
        setError(undefined);
        onChange(next);
      };
      if (format === "json") {
        try {
          const value: unknown = JSON.parse(text);
          if (typeof value !== "object" || value === null || Array.isArray(value)) setError("The workflow is a JSON object: { … }.");
          else apply(value as Definition);
        } catch (e) {
          setError(`Not JSON: ${errorMessage(e)}`);
        }
        return;
      }
      formatWorkflow(text, "yaml", controller.signal).then(
        (answer) => apply(answer.workflow),
        (e: unknown) => {
          if (!controller.signal.aborted) setError(`Not YAML: ${describe(e)}`);
        },
      );
    }, READ_AFTER_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
    // `onChange` is the page's; a new one each render must not read the text again.
  }, [text, typed, format]);

  return (
    <section aria-label="Code" className="flex h-full flex-col">
      <div role="group" aria-label="Format" className="flex items-center gap-1 border-b border-zinc-200 p-2 dark:border-zinc-800">
        {(["json", "yaml"] as const).map((f) => (
          <button
            key={f}
            type="button"
            className="btn px-2 py-0.5 text-xs"
            aria-pressed={format === f}
            onClick={() => {
              own.current = undefined;
              setFormat(f);
            }}
          >
            {f.toUpperCase()}
          </button>
        ))}
      </div>
      <label htmlFor={id} className="sr-only">
        Workflow as {format.toUpperCase()}
      </label>
      <textarea
        id={id}
        className="mono min-h-0 flex-1 resize-none bg-transparent p-2 text-xs outline-offset-[-2px]"
        spellCheck={false}
        value={text}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setTyped(true);
        }}
      />
      {error ? (
        <p id={`${id}-error`} role="alert" className="border-t border-red-300 p-2 text-xs text-red-700 dark:text-red-400">
          {error}
        </p>
      ) : null}
    </section>
  );
}
