// One kind of thing in Settings: its heading, what may be done with it (or why not), and its
// list in the states every list has (loading, not allowed, failed, empty).
import { errorMessage, isApiError } from "../../api/client";
import { useMe } from "../../app/auth";
import { Empty, ErrorNotice, Loading, SuccessNotice } from "../../components/Notice";

export function ResourceSection<T>({
  title,
  noun = title.toLowerCase(),
  description,
  actions,
  done,
  query,
  isEmpty,
  empty = "None yet.",
  forbidden,
  children,
}: {
  title: string;
  /** The title within a sentence. */
  noun?: string;
  description?: React.ReactNode;
  /** The section's buttons ("New API key"), or the note saying why there are none. */
  actions?: React.ReactNode;
  /** What the last change did, announced. */
  done?: string;
  query: { isPending: boolean; isError: boolean; error: unknown; data: T | undefined };
  isEmpty: (data: T) => boolean;
  empty?: React.ReactNode;
  /** The caller's role may not even list these: this note instead of the list (not asked for). */
  forbidden?: React.ReactNode;
  children: (data: T) => React.ReactNode;
}) {
  const me = useMe();
  let body: React.ReactNode;
  if (forbidden) body = <div className="px-3 py-4">{forbidden}</div>;
  else if (query.isPending) body = <Loading />;
  else if (query.isError && isApiError(query.error, 403))
    body = (
      <p className="px-3 py-4 text-sm" role="note">
        <strong>Your role{me.data ? ` (${me.data.role})` : ""} may not see {noun}.</strong>{" "}
        <span className="muted">{errorMessage(query.error)}</span>
      </p>
    );
  else if (query.isError)
    body = (
      <div className="p-3">
        <ErrorNotice error={query.error} what={`list ${noun}`} />
      </div>
    );
  else if (query.data === undefined || isEmpty(query.data)) body = <Empty>{empty}</Empty>;
  else body = children(query.data);

  return (
    <section aria-labelledby="settings-section-heading">
      <div className="mb-3 flex flex-wrap items-start justify-between gap-3">
        <div className="max-w-2xl">
          <h2 id="settings-section-heading" className="text-lg font-semibold">
            {title}
          </h2>
          {description ? <p className="muted mt-1 text-sm">{description}</p> : null}
        </div>
        {actions && !forbidden ? <div className="flex flex-wrap items-center gap-2">{actions}</div> : null}
      </div>
      <SuccessNotice>{done}</SuccessNotice>
      <div className="card overflow-x-auto">{body}</div>
    </section>
  );
}

/** A row's buttons, aligned at the end of the row. */
export function RowActions({ children }: { children: React.ReactNode }) {
  return <div className="flex flex-wrap justify-end gap-2">{children}</div>;
}
