// Form fields with their label, an optional hint and an error, wired for screen readers: the
// label names the control, the hint and the error describe it.
import { useId } from "react";

type Described = {
  label: React.ReactNode;
  hint?: React.ReactNode;
  error?: string | null;
  className?: string;
};

function useDescription(hint: React.ReactNode, error: string | null | undefined) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return { id, hintId, errorId, describedBy };
}

function Frame({
  id,
  label,
  hint,
  hintId,
  error,
  errorId,
  className,
  children,
}: Described & { id: string; hintId?: string; errorId?: string; children: React.ReactNode }) {
  return (
    <div className={className}>
      <label htmlFor={id} className="label">
        {label}
      </label>
      {children}
      {hint ? (
        <p id={hintId} className="muted mt-1 text-xs">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="mt-1 text-xs font-medium text-red-700 dark:text-red-400">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function TextField({
  label,
  hint,
  error,
  className,
  ...input
}: Described & Omit<React.ComponentProps<"input">, "id">) {
  const d = useDescription(hint, error);
  return (
    <Frame {...d} label={label} hint={hint} error={error} className={className}>
      <input
        id={d.id}
        className="input"
        aria-describedby={d.describedBy}
        aria-invalid={error ? true : undefined}
        {...input}
      />
    </Frame>
  );
}

export function TextAreaField({
  label,
  hint,
  error,
  className,
  ...textarea
}: Described & Omit<React.ComponentProps<"textarea">, "id">) {
  const d = useDescription(hint, error);
  return (
    <Frame {...d} label={label} hint={hint} error={error} className={className}>
      <textarea
        id={d.id}
        className="input mono min-h-24"
        spellCheck={false}
        aria-describedby={d.describedBy}
        aria-invalid={error ? true : undefined}
        {...textarea}
      />
    </Frame>
  );
}

export function SelectField({
  label,
  hint,
  error,
  className,
  children,
  ...select
}: Described & Omit<React.ComponentProps<"select">, "id">) {
  const d = useDescription(hint, error);
  return (
    <Frame {...d} label={label} hint={hint} error={error} className={className}>
      <select
        id={d.id}
        className="input"
        aria-describedby={d.describedBy}
        aria-invalid={error ? true : undefined}
        {...select}
      >
        {children}
      </select>
    </Frame>
  );
}
