// The approvals resource: the queue, the history, and deciding. The live stream invalidates the
// lists when an approval is created or decided; they poll on their own only slowly.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { ApprovalStatus } from "../../api/types";
import { FALLBACK_POLL_MS } from "../../app/live";

export type ApprovalFilters = {
  status?: ApprovalStatus;
  role?: string;
  entity?: string;
  cursor?: string;
  limit?: number;
};

export function useApprovals(filters: ApprovalFilters, pollMs: number | false = FALLBACK_POLL_MS) {
  return useQuery({
    queryKey: ["approvals", filters],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/approvals", { params: { query: { limit: 50, ...filters } }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: pollMs,
  });
}

export type Verdict = "approve" | "reject";

export function useDecide() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, verdict, reason }: { id: string; verdict: Verdict; reason: string }) => {
      const options = { params: { path: { id } }, body: { reason: reason.trim() || null } };
      return unwrap(
        verdict === "approve"
          ? api.POST("/api/v1/approvals/{id}/approve", options)
          : api.POST("/api/v1/approvals/{id}/reject", options),
      );
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["approvals"] });
      await queryClient.invalidateQueries({ queryKey: ["executions"] });
      await queryClient.invalidateQueries({ queryKey: ["execution"] });
    },
  });
}
