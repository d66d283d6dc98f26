// Loading, empty, success and error states, said the same way on every page. An error the server
// explained field by field (a refused definition's diagnostics, say) lists every detail.
import { errorMessage, isApiError } from "../api/client";
import type { Detail } from "../api/types";

export function ErrorNotice({ error, what }: { error: unknown; what?: string }) {
  const forbidden = isApiError(error, 403);
  const details = isApiError(error) ? error.details : [];
  return (
    <div
      role="alert"
      className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950/60 dark:text-red-200"
    >
      {forbidden ? (
        <>
          <strong>Not allowed{what ? ` to ${what}` : ""}.</strong> {errorMessage(error)}
        </>
      ) : (
        <>
          {what ? <strong>Could not {what}. </strong> : null}
          {errorMessage(error)}
        </>
      )}
      {details.length > 0 ? <DiagnosticList details={details} /> : null}
    </div>
  );
}

/** Where a detail points: its JSON path, and its line and column when the server knows them. */
function place(detail: Detail): string | null {
  if (detail.line === undefined) return null;
  return detail.column === undefined ? `line ${detail.line}` : `line ${detail.line}, column ${detail.column}`;
}

/** Diagnostics (errors and warnings), each with its path, code and place in the document. */
export function DiagnosticList({ details, label }: { details: Detail[]; label?: string }) {
  return (
    <ul aria-label={label} className="mt-2 space-y-1.5">
      {details.map((detail, i) => {
        const where = place(detail);
        return (
          <li key={i} className="break-words">
            {detail.severity === "warning" ? <span className="font-semibold">Warning: </span> : null}
            <code className="mono rounded bg-black/5 px-1 dark:bg-white/10">{detail.path}</code> {detail.message}
            {detail.code || where ? (
              <span className="block text-xs opacity-80">{[detail.code, where].filter(Boolean).join(" · ")}</span>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}

/** Warnings the server stored something with (it was stored anyway). */
export function WarningNotice({ details, children }: { details: Detail[]; children: React.ReactNode }) {
  return (
    <div className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950/50 dark:text-amber-100">
      {children}
      <DiagnosticList details={details} />
    </div>
  );
}

/**
 * What just went well (saved, deleted, decided), announced to screen readers. Render it
 * always, empty until there is news: a live region present before its text changes is the
 * one screen readers announce.
 */
export function SuccessNotice({ children }: { children?: React.ReactNode }) {
  return (
    <p role="status" className={children ? "mb-3 text-sm text-emerald-700 dark:text-emerald-400" : "sr-only"}>
      {children}
    </p>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p role="status" className="muted py-4 text-sm">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <p className="muted py-6 text-center text-sm">{children}</p>;
}
