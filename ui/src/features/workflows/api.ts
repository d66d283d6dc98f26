// The workflows resource: list, enable, disable.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";

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

export function useSetEnabled() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) =>
      unwrap(
        enabled
          ? api.POST("/api/v1/workflows/{id}/enable", { params: { path: { id } } })
          : api.POST("/api/v1/workflows/{id}/disable", { params: { path: { id } } }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["workflows"] }),
  });
}
