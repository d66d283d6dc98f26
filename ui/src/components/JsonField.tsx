// A JSON value edited as text: it is parsed as the user types, and a text that does not parse
// (or is not an object where one is needed) says why before anything is sent.
import { useRef, useState } from "react";

import { TextAreaField } from "./Field";

export type JsonText = {
  text: string;
  setText: (text: string) => void;
  /** The parsed value, when the text parses (and is an object where one is needed). */
  value: unknown;
  error: string | null;
  /** Whether the error is shown: once there is something to judge, not on an empty new form. */
  shown: boolean;
  /**
   * Called on submit: true when the value may be sent; otherwise shows the error and puts the
   * focus on the field.
   */
  check: () => boolean;
  ref: React.RefObject<HTMLTextAreaElement | null>;
};

export function parseJson(text: string, object: boolean): { value: unknown; error: string | null } {
  if (!text.trim()) return { value: undefined, error: "Write a JSON value." };
  try {
    const value: unknown = JSON.parse(text);
    if (object && (typeof value !== "object" || value === null || Array.isArray(value))) {
      return { value: undefined, error: "Write a JSON object: { … }." };
    }
    return { value, error: null };
  } catch (e) {
    return { value: undefined, error: `Not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export function useJsonText(initial: unknown, { object = true }: { object?: boolean } = {}): JsonText {
  const [text, setTextState] = useState(() => (initial === undefined ? "" : JSON.stringify(initial, null, 2)));
  const [shown, setShown] = useState(initial !== undefined);
  const ref = useRef<HTMLTextAreaElement>(null);
  const { value, error } = parseJson(text, object);
  return {
    text,
    setText: (next) => {
      setTextState(next);
      setShown(true);
    },
    value,
    error,
    shown,
    check: () => {
      if (!error) return true;
      setShown(true);
      ref.current?.focus();
      return false;
    },
    ref,
  };
}

export function JsonField({
  json,
  label,
  hint,
  rows = 12,
}: {
  json: JsonText;
  label: string;
  hint?: React.ReactNode;
  rows?: number;
}) {
  return (
    <TextAreaField
      ref={json.ref}
      label={label}
      hint={hint}
      rows={rows}
      value={json.text}
      error={json.shown ? json.error : null}
      onChange={(e) => json.setText(e.target.value)}
    />
  );
}
