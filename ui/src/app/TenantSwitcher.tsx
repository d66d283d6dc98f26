// Where the caller acts: its tenant and environment, always shown. A session moves to another
// environment of its tenant (POST /api/v1/auth/switch: a new session, a new cookie) and the page
// stays, with everything cached from the old environment dropped. Another tenant has users of
// its own, so moving there is signing in again, as that tenant's user.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Link } from "react-router";

import { api, unwrap } from "../api/client";
import type { Me } from "../api/types";

export function TenantSwitcher({ me, onError }: { me: Me; onError: (error: unknown) => void }) {
  const queryClient = useQueryClient();
  const selectId = useId();
  const [announced, setAnnounced] = useState("");

  const switchTo = useMutation({
    mutationFn: (environment: string) => unwrap(api.POST("/api/v1/auth/switch", { body: { environment } })),
    onMutate: () => {
      onError(undefined);
      setAnnounced("");
    },
    onSuccess: async (session) => {
      // Who the caller is now is refetched in place (the header keeps its focus); every other
      // query starts again from nothing, so no figure of the old environment stays on screen.
      await Promise.all([
        queryClient.refetchQueries({ queryKey: ["me"] }),
        queryClient.resetQueries({ predicate: (query) => query.queryKey[0] !== "me" }),
      ]);
      setAnnounced(`Now in the ${session.environment} environment of ${session.tenant_id}.`);
    },
    onError,
  });

  const several = me.environments.length > 1;
  const shown = switchTo.isPending ? switchTo.variables : me.environment;

  return (
    <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
      <span>
        <span className="muted">Tenant </span>
        <span className="font-medium">{me.tenant_id}</span>
      </span>
      {several ? (
        <span className="flex items-center gap-1.5">
          <label htmlFor={selectId} className="muted">
            Environment
          </label>
          <select
            id={selectId}
            className="input w-auto py-1"
            value={shown}
            // Not `disabled`: a disabled select would drop the keyboard's focus while it switches.
            aria-disabled={switchTo.isPending || undefined}
            aria-describedby={switchTo.isPending ? `${selectId}-busy` : undefined}
            onChange={(e) => {
              if (!switchTo.isPending) switchTo.mutate(e.target.value);
            }}
          >
            {me.environments.map((environment) => (
              <option key={environment} value={environment}>
                {environment}
              </option>
            ))}
          </select>
          {switchTo.isPending ? (
            <span id={`${selectId}-busy`} className="muted text-xs">
              Switching…
            </span>
          ) : null}
        </span>
      ) : (
        <span>
          <span className="muted">Environment </span>
          <span className="font-medium">{me.environment}</span>
        </span>
      )}
      {me.type === "user" ? (
        <Link
          to={`/sign-in?tenant=&email=${encodeURIComponent(me.user?.email ?? "")}`}
          className="whitespace-nowrap"
        >
          Sign in to another tenant…
        </Link>
      ) : null}
      <span role="status" className="sr-only">
        {announced}
      </span>
    </div>
  );
}
