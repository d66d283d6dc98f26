// The side panel's inputs, each labelled and saying what is wrong with it: template text with
// suggestions of context paths, a step picker for targets, JSON values and lists of strings that
// are only applied once they read.
import { useEffect, useId, useState } from "react";

import { SelectField, TextAreaField, TextField } from "../../components/Field";

/** Suggestions for a template: the text so far with each path completed after its last `{{`. */
export function templateSuggestions(text: string, paths: string[]): string[] {
  const open = text.lastIndexOf("{{");
  const unclosed = open >= 0 && !text.slice(open).includes("}}");
  if (!unclosed && text !== "") return [];
  const before = unclosed ? text.slice(0, open) : "";
  const typed = unclosed ? text.slice(open + 2).trim() : "";
  return paths.filter((p) => p.startsWith(typed)).slice(0, 50).map((p) => `${before}{{${p}}}`);
}

type TextProps = {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | null;
  hint?: React.ReactNode;
};

/** A text field with suggestions (a datalist): the user may pick one or type anything. */
function SuggestField({ options, ...props }: TextProps & { options: string[] }) {
  const listId = useId();
  return (
    <>
      <TextField
        label={props.label}
        hint={props.hint}
        error={props.error}
        value={props.value}
        list={listId}
        autoComplete="off"
        onChange={(e) => props.onChange(e.target.value)}
      />
      <datalist id={listId}>
        {options.map((o) => (
          <option key={o} value={o} />
        ))}
      </datalist>
    </>
  );
}

/** Text that may hold `{{…}}` templates, with the context's paths suggested after `{{`. */
export function TemplateField({ paths, hint, ...props }: TextProps & { paths: string[] }) {
  return (
    <SuggestField
      {...props}
      hint={hint ?? "Type {{ for the payload's fields and earlier steps' outputs."}
      options={templateSuggestions(props.value, paths)}
    />
  );
}

/** A field path of the context (`order.total`), picked from the known ones or typed. */
export function PathField({ paths, ...props }: TextProps & { paths: string[] }) {
  return <SuggestField {...props} options={paths.slice(0, 200)} />;
}

/** Where a step goes: one of the other steps, or nothing set (it falls through). */
export function TargetField({
  label,
  value,
  steps,
  onChange,
  error,
  unset = "(not set: the following step)",
}: {
  label: string;
  value: unknown;
  steps: string[];
  onChange: (target: string | undefined) => void;
  error?: string | null;
  unset?: string;
}) {
  const current = typeof value === "string" ? value : "";
  return (
    <SelectField label={label} value={current} error={error} onChange={(e) => onChange(e.target.value || undefined)}>
      <option value="">{unset}</option>
      {current && !steps.includes(current) ? <option value={current}>{current} (no such step)</option> : null}
      {steps.map((id) => (
        <option key={id} value={id}>
          {id}
        </option>
      ))}
    </SelectField>
  );
}

/**
 * Text edited locally and applied when it reads: a JSON value, a number… The text follows the
 * value when the value changes from elsewhere (an undo), and keeps what the user typed otherwise.
 */
function useParsedText<T>(value: T, show: (value: T) => string, read: (text: string) => { value?: T; error?: string }) {
  const [text, setText] = useState(() => show(value));
  const [error, setError] = useState<string>();
  const shown = show(value);
  useEffect(() => {
    setText((current) => {
      const parsed = read(current);
      return parsed.error === undefined && show(parsed.value as T) === shown ? current : shown;
    });
    setError(undefined);
    // `read` and `show` are pure and the same in meaning on every render: the value's text is
    // what the text follows.
  }, [shown]);
  return { text, setText, error, setError };
}

function readJson(text: string): { value?: unknown; error?: string } {
  if (text.trim() === "") return { value: undefined };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (e) {
    return { error: `Not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}

const showJson = (value: unknown) => (value === undefined ? "" : JSON.stringify(value, null, 2));

/** Any JSON value, as text; applied once it parses (empty removes it). */
export function JsonValueField({
  label,
  value,
  onChange,
  error,
  hint,
  rows = 4,
}: {
  label: string;
  value: unknown;
  onChange: (value: unknown) => void;
  error?: string | null;
  hint?: React.ReactNode;
  rows?: number;
}) {
  const state = useParsedText(value, showJson, readJson);
  return (
    <TextAreaField
      label={label}
      hint={hint ?? "JSON"}
      rows={rows}
      value={state.text}
      error={state.error ?? error}
      onChange={(e) => {
        state.setText(e.target.value);
        const parsed = readJson(e.target.value);
        state.setError(parsed.error);
        if (parsed.error === undefined) onChange(parsed.value);
      }}
    />
  );
}

/** A number, or a template that renders to one. */
export function NumberField({
  label,
  value,
  onChange,
  error,
  hint,
}: {
  label: string;
  value: unknown;
  onChange: (value: number | string | undefined) => void;
  error?: string | null;
  hint?: React.ReactNode;
}) {
  const show = (v: unknown) => (v === undefined ? "" : String(v));
  const read = (text: string): { value?: unknown; error?: string } => {
    const t = text.trim();
    if (t === "") return { value: undefined };
    if (t.includes("{{")) return { value: t };
    const n = Number(t);
    return Number.isFinite(n) ? { value: n } : { error: "Write a number (or a {{template}})." };
  };
  const state = useParsedText<unknown>(value, show, read);
  return (
    <TextField
      label={label}
      hint={hint}
      inputMode="decimal"
      value={state.text}
      error={state.error ?? error}
      onChange={(e) => {
        state.setText(e.target.value);
        const parsed = read(e.target.value);
        state.setError(parsed.error);
        if (parsed.error === undefined) onChange(parsed.value as number | string | undefined);
      }}
    />
  );
}

/** A list of strings, one per line. */
export function StringListField({
  label,
  value,
  onChange,
  error,
}: {
  label: string;
  value: unknown;
  onChange: (value: string[]) => void;
  error?: string | null;
}) {
  const lines = Array.isArray(value) ? value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))) : [];
  const [text, setText] = useState(lines.join("\n"));
  const joined = lines.join("\n");
  useEffect(() => {
    setText((current) => (current.split("\n").filter((l) => l.trim() !== "").join("\n") === joined ? current : joined));
  }, [joined]);
  return (
    <TextAreaField
      label={label}
      hint="One per line."
      rows={3}
      value={text}
      error={error}
      onChange={(e) => {
        setText(e.target.value);
        onChange(
          e.target.value
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== ""),
        );
      }}
    />
  );
}
