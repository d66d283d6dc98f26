// The workflows resource: the list, one workflow, its versions, enable and disable, importing a
// definition, and making an older version current.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, documentBody, unwrap } from "../../api/client";
import { FALLBACK_POLL_MS } from "../../app/live";
import { type Range, rangeSince } from "../dashboard/api";

export type WorkflowFilters = {
  q?: string;
  enabled?: boolean;
  tag?: string;
  event?: string;
  cursor?: string;
};

export function useWorkflows(filters: WorkflowFilters) {
  return useQuery({
    queryKey: ["workflows", filters],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/workflows", { params: { query: { ...filters, limit: 50 } }, signal })),
    placeholderData: keepPreviousData,
  });
}

export function useWorkflow(id: string) {
  return useQuery({
    queryKey: ["workflow", id],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/workflows/{id}", { params: { path: { id } }, signal })),
  });
}

export function useVersions(id: string) {
  return useQuery({
    queryKey: ["workflow", id, "versions"],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/workflows/{id}/versions", { params: { path: { id } }, signal })),
  });
}

/** One stored version (immutable, so it is never refetched). */
export function useVersion(id: string, version: number | null) {
  return useQuery({
    queryKey: ["workflow", id, "versions", version],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/workflows/{id}/versions/{version}", {
          params: { path: { id, version: String(version) } },
          signal,
        }),
      ),
    enabled: version !== null,
    staleTime: Infinity,
  });
}

export function useSetEnabled() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) =>
      unwrap(
        enabled
          ? api.POST("/api/v1/workflows/{id}/enable", { params: { path: { id } } })
          : api.POST("/api/v1/workflows/{id}/disable", { params: { path: { id } } }),
      ),
    onSettled: async (_data, _error, { id }) => {
      await queryClient.invalidateQueries({ queryKey: ["workflows"] });
      await queryClient.invalidateQueries({ queryKey: ["workflow", id] });
    },
  });
}

export type DocumentFormat = "json" | "yaml";

/** Stores a definition as written: a new workflow, or the next version of the one it names. */
export function useImportWorkflow() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ text, format }: { text: string; format: DocumentFormat }) =>
      unwrap(api.POST("/api/v1/workflows", documentBody(text, format))),
    onSuccess: async (stored) => {
      await queryClient.invalidateQueries({ queryKey: ["workflows"] });
      await queryClient.invalidateQueries({ queryKey: ["workflow", stored.workflow_id] });
    },
  });
}

export function useActivateVersion(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (version: number) =>
      unwrap(api.POST("/api/v1/workflows/{id}/versions/{version}/activate", { params: { path: { id, version: String(version) } } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["workflows"] });
      await queryClient.invalidateQueries({ queryKey: ["workflow", id] });
    },
  });
}

/** A workflow's statistics over a range, with its steps' (the server reads an hourly rollup). */
export function useWorkflowStats(id: string, range: Range) {
  const since = rangeSince(range);
  return useQuery({
    queryKey: ["workflow", id, "stats", since],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/workflows/{id}/stats", { params: { path: { id }, query: { since } }, signal })),
    // Another range keeps this workflow's figures shown until its own arrive (never another's).
    placeholderData: (previous, query) => (query?.queryKey[1] === id ? previous : undefined),
    refetchInterval: FALLBACK_POLL_MS,
  });
}
