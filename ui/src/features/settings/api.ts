// What a tenant × environment is made of, for Settings: keys, users, teams, secrets, connectors,
// data sources and email templates. One query per list (a role that may not read one still
// sees the others), and the writes, each refreshing its list.
import { type QueryKey, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import type { ApiKeyRequest } from "../../api/types";

type Schemas = components["schemas"];

export function useApiKeys(enabled = true) {
  return useQuery({
    queryKey: ["api-keys"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/api-keys", { signal })),
    enabled,
  });
}
export function useUsers(enabled = true) {
  return useQuery({
    queryKey: ["users"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/users", { signal })),
    enabled,
  });
}
export function useTeams() {
  return useQuery({ queryKey: ["teams"], queryFn: ({ signal }) => unwrap(api.GET("/api/v1/teams", { signal })) });
}
export function useSecrets() {
  return useQuery({ queryKey: ["secrets"], queryFn: ({ signal }) => unwrap(api.GET("/api/v1/secrets", { signal })) });
}
export function useConnectors() {
  return useQuery({
    queryKey: ["connectors"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/connectors", { signal })),
  });
}
export function useDataSources() {
  return useQuery({
    queryKey: ["data-sources"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/data-sources", { signal })),
  });
}
export function useEmailTemplates() {
  return useQuery({
    queryKey: ["email-templates"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/email-templates", { signal })),
  });
}

/** A write that refreshes the lists it changes once it succeeds. */
function useWrite<Vars, Data>(keys: QueryKey[], mutationFn: (vars: Vars) => Promise<Data>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: async () => {
      await Promise.all(keys.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
    },
  });
}

export const useCreateApiKey = () =>
  useWrite([["api-keys"]], (body: ApiKeyRequest) => unwrap(api.POST("/api/v1/api-keys", { body })));
export const useRevokeApiKey = () =>
  useWrite([["api-keys"]], (id: string) => unwrap(api.DELETE("/api/v1/api-keys/{id}", { params: { path: { id } } })));

export const useCreateUser = () =>
  useWrite([["users"]], (body: Schemas["UserRequest"]) => unwrap(api.POST("/api/v1/users", { body })));
// A user's name, role or state shows in teams' member lists too.
export const useUpdateUser = () =>
  useWrite([["users"], ["teams"], ["me"]], ({ id, body }: { id: string; body: Schemas["UserUpdate"] }) =>
    unwrap(api.PATCH("/api/v1/users/{id}", { params: { path: { id } }, body })),
  );

export const useCreateTeam = () =>
  useWrite([["teams"]], (body: Schemas["TeamRequest"]) => unwrap(api.POST("/api/v1/teams", { body })));
export const useUpdateTeam = () =>
  useWrite([["teams"]], ({ name, body }: { name: string; body: Schemas["TeamRequest"] }) =>
    unwrap(api.PUT("/api/v1/teams/{name}", { params: { path: { name } }, body })),
  );
export const useDeleteTeam = () =>
  useWrite([["teams"]], (name: string) => unwrap(api.DELETE("/api/v1/teams/{name}", { params: { path: { name } } })));

export const useCreateSecret = () =>
  useWrite([["secrets"]], (body: Schemas["SecretRequest"]) => unwrap(api.POST("/api/v1/secrets", { body })));
export const useUpdateSecret = () =>
  useWrite([["secrets"]], ({ id, body }: { id: string; body: Schemas["SecretUpdate"] }) =>
    unwrap(api.PUT("/api/v1/secrets/{id}", { params: { path: { id } }, body })),
  );
export const useDeleteSecret = () =>
  useWrite([["secrets"]], (id: string) => unwrap(api.DELETE("/api/v1/secrets/{id}", { params: { path: { id } } })));

/** A definition to store: a new one, or the one of that name replaced. */
export type SaveDefinition = { name: string; definition: Record<string, unknown>; isNew: boolean };

export const useSaveConnector = () =>
  useWrite([["connectors"]], ({ name, definition, isNew }: SaveDefinition) =>
    unwrap(
      isNew
        ? api.POST("/api/v1/connectors", { body: definition })
        : api.PUT("/api/v1/connectors/{id}", { params: { path: { id: name } }, body: definition }),
    ),
  );
export const useDeleteConnector = () =>
  useWrite([["connectors"]], (id: string) =>
    unwrap(api.DELETE("/api/v1/connectors/{id}", { params: { path: { id } } })),
  );

// PUT creates or replaces: a new data source is the same call.
export const useSaveDataSource = () =>
  useWrite([["data-sources"]], ({ name, definition }: SaveDefinition) =>
    unwrap(api.PUT("/api/v1/data-sources/{id}", { params: { path: { id: name } }, body: definition })),
  );
export const useDeleteDataSource = () =>
  useWrite([["data-sources"]], (id: string) =>
    unwrap(api.DELETE("/api/v1/data-sources/{id}", { params: { path: { id } } })),
  );

export const useCreateEmailTemplate = () =>
  useWrite([["email-templates"]], (body: Schemas["EmailTemplateRequest"]) =>
    unwrap(api.POST("/api/v1/email-templates", { body })),
  );
export const useUpdateEmailTemplate = () =>
  useWrite([["email-templates"]], ({ id, body }: { id: string; body: Schemas["EmailTemplateUpdate"] }) =>
    unwrap(api.PUT("/api/v1/email-templates/{id}", { params: { path: { id } }, body })),
  );
export const useDeleteEmailTemplate = () =>
  useWrite([["email-templates"]], (id: string) =>
    unwrap(api.DELETE("/api/v1/email-templates/{id}", { params: { path: { id } } })),
  );
