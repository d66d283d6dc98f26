// What the builder asks the server: the scope's capabilities (step and action types, entities,
// operators, events seen), live validation, canonical text, dry runs, deploying, and English to
// a workflow. Nothing here is deployed unless the user deploys.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useDebounced } from "../../components/useDebounced";
import type { Definition } from "./definition";

export type Capabilities = components["schemas"]["Capabilities"];
export type ActionCapability = components["schemas"]["ActionCapability"];
export type Validation = components["schemas"]["Validation"];
export type DryRun = components["schemas"]["DryRun"];
export type DryRunRequest = components["schemas"]["DryRunRequest"];
export type Interpretation = components["schemas"]["Interpretation"];

export function useCapabilities() {
  return useQuery({
    queryKey: ["capabilities"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/ai/capabilities", { signal })),
    staleTime: 60_000,
  });
}

/** How long the definition must stay still before it is validated again. */
const VALIDATE_AFTER_MS = 400;

/** The server's diagnostics of the definition, asked again once it stops changing. */
export function useValidation(definition: Definition) {
  const settled = useDebounced(definition, VALIDATE_AFTER_MS);
  return useQuery({
    queryKey: ["validate", settled],
    queryFn: ({ signal }) => unwrap(api.POST("/api/v1/ai/validate", { body: { workflow: settled }, signal })),
    placeholderData: keepPreviousData,
    staleTime: Infinity,
    gcTime: 5_000,
  });
}

export type TextFormat = components["schemas"]["TextFormat"];

/**
 * The canonical text of a workflow as `weir fmt` writes it, and the object it reads as
 * (`POST /api/v1/format`); a text that does not read is an `ApiError` whose details carry the
 * line and column.
 */
export async function formatWorkflow(
  workflow: Definition | string,
  format: TextFormat,
  signal?: AbortSignal,
): Promise<{ text: string; workflow: Definition }> {
  // The document types `workflow` as an object; the endpoint reads text in its place too.
  const body = { workflow: workflow as Record<string, never>, format };
  const answer = await unwrap(api.POST("/api/v1/format", { body, signal }));
  return { text: answer.text, workflow: answer.workflow as Definition };
}

export function useDryRun() {
  return useMutation({
    mutationFn: (request: DryRunRequest) => unwrap(api.POST("/api/v1/dry-run", { body: request })),
  });
}

/** Stores the definition: a new workflow, or the next version of the one being edited. */
export function useDeploy(existing: string | undefined) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (definition: Definition) =>
      unwrap(
        existing
          ? api.PUT("/api/v1/workflows/{id}", { params: { path: { id: existing } }, body: definition })
          : api.POST("/api/v1/workflows", { body: definition }),
      ),
    onSuccess: async (stored) => {
      await queryClient.invalidateQueries({ queryKey: ["workflows"] });
      await queryClient.invalidateQueries({ queryKey: ["workflow", stored.workflow_id] });
    },
  });
}

export function useInterpret() {
  return useMutation({
    mutationFn: (prompt: string) => unwrap(api.POST("/api/v1/ai/interpret", { body: { prompt } })),
  });
}

/** The newest event of a type this scope received, for a sample payload. */
export async function latestEvent(eventType: string) {
  const list = await unwrap(api.GET("/api/v1/events", { params: { query: { event_type: eventType, limit: 1 } } }));
  return list.events[0];
}
