import { useCallback } from "react";
import { useSearchParams } from "react-router";

/**
 * Filters kept in the URL (a link carries them, Back restores them): the current parameters,
 * and a setter that drops a parameter set to "" and replaces the history entry.
 */
export function useSearchParam(): [URLSearchParams, (name: string, value: string) => void, () => void] {
  const [params, setParams] = useSearchParams();
  const set = useCallback(
    (name: string, value: string) =>
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          if (value) next.set(name, value);
          else next.delete(name);
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  const clear = useCallback(() => setParams(new URLSearchParams(), { replace: true }), [setParams]);
  return [params, set, clear];
}
