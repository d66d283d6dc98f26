// The executions resource. The live stream (src/app/live.tsx) invalidates these queries when a
// run starts, steps or finishes; they poll on their own only slowly, in case it is down.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { Decision, ExecutionStatus } from "../../api/types";
import { FALLBACK_POLL_MS } from "../../app/live";

export type ExecutionFilters = {
  workflow_id?: string;
  status?: ExecutionStatus;
  decision?: Decision;
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number;
};

const ACTIVE: ReadonlySet<ExecutionStatus> = new Set(["pending", "running", "waiting", "retrying"]);

export function isActive(status: ExecutionStatus): boolean {
  return ACTIVE.has(status);
}

export function useExecutions(filters: ExecutionFilters, options: { poll?: boolean } = {}) {
  return useQuery({
    queryKey: ["executions", filters],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/executions", { params: { query: { limit: 50, ...filters } }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: options.poll === false ? false : FALLBACK_POLL_MS,
  });
}

export function useExecution(id: string) {
  return useQuery({
    queryKey: ["execution", id],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/executions/{id}", { params: { path: { id } }, signal })),
    // A run still going is watched; a finished one does not change.
    refetchInterval: (query) => (query.state.data && !isActive(query.state.data.status) ? false : FALLBACK_POLL_MS),
  });
}

export function useTrace(id: string, active: boolean) {
  return useQuery({
    queryKey: ["execution", id, "trace"],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/executions/{id}/trace", { params: { path: { id } }, signal })),
    refetchInterval: active ? FALLBACK_POLL_MS : false,
  });
}

export function useExecutionAction(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (action: "retry" | "cancel") =>
      unwrap(
        action === "retry"
          ? api.POST("/api/v1/executions/{id}/retry", { params: { path: { id } } })
          : api.POST("/api/v1/executions/{id}/cancel", { params: { path: { id } } }),
      ),
    onSettled: async () => {
      await queryClient.invalidateQueries({ queryKey: ["execution", id] });
      await queryClient.invalidateQueries({ queryKey: ["executions"] });
    },
  });
}
