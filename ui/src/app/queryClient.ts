// Server state lives in TanStack Query; this is its one client.
import { QueryClient } from "@tanstack/react-query";

import { ApiError } from "../api/client";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will answer the same again; retry only what may pass (network, 5xx).
      retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
      staleTime: 1_000,
    },
    mutations: { retry: false },
  },
});
