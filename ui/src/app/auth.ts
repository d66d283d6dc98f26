// Who is signed in, and signing out.
import { queryOptions, useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../api/client";
import type { Me, Permission } from "../api/types";
import { closeLiveStream } from "./live";
import { queryClient } from "./queryClient";

export const meQuery = queryOptions({
  queryKey: ["me"],
  queryFn: ({ signal }) => unwrap(api.GET("/api/v1/auth/me", { signal })),
  staleTime: 60_000,
});

export function useMe() {
  return useQuery(meQuery);
}

/** How the header names the caller: a user's email, or a key's id. */
export function callerName(me: Me): string {
  return me.user?.email ?? `API key ${me.id}`;
}

export async function signOut() {
  closeLiveStream();
  try {
    await unwrap(api.POST("/api/v1/auth/logout"));
  } finally {
    queryClient.clear();
  }
}

/** Where sign-in may send the user back to: a path of this app, never another site. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/sign-in")) return "/";
  return next;
}

/** Whether the signed-in caller's role grants a permission (the server checks again). */
export function useCan(permission: Permission): boolean {
  const me = useMe();
  return Boolean(me.data?.permissions.includes(permission));
}

