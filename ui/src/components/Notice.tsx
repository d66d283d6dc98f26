// Loading, empty and error states, said the same way on every page.
import { errorMessage, isApiError } from "../api/client";

export function ErrorNotice({ error, what }: { error: unknown; what?: string }) {
  const forbidden = isApiError(error, 403);
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
    </div>
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
