// Cursor paging: the server answers a `next_cursor`; the pages seen are kept on a stack so the
// user can go back. A change of filters starts again from the first page.
import { useState } from "react";

export function useCursorPaging(filtersKey: string) {
  const [state, setState] = useState<{ key: string; stack: string[] }>({ key: filtersKey, stack: [] });
  const stack = state.key === filtersKey ? state.stack : [];
  return {
    cursor: stack.at(-1),
    page: stack.length + 1,
    next: (cursor: string) => setState({ key: filtersKey, stack: [...stack, cursor] }),
    previous: () => setState({ key: filtersKey, stack: stack.slice(0, -1) }),
    first: () => setState({ key: filtersKey, stack: [] }),
  };
}

export function Pager({
  paging,
  nextCursor,
}: {
  paging: ReturnType<typeof useCursorPaging>;
  nextCursor: string | null | undefined;
}) {
  return (
    <nav aria-label="Pages" className="mt-3 flex items-center justify-end gap-2 text-sm">
      <button type="button" className="btn" disabled={paging.page === 1} onClick={paging.first}>
        First page
      </button>
      <button type="button" className="btn" disabled={paging.page === 1} onClick={paging.previous}>
        Previous page
      </button>
      <span className="muted px-1">Page {paging.page}</span>
      <button
        type="button"
        className="btn"
        disabled={!nextCursor}
        onClick={() => nextCursor && paging.next(nextCursor)}
      >
        Next page
      </button>
    </nav>
  );
}
