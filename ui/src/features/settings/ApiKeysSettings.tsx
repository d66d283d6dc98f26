// API keys: create one (its secret is shown once), list them, revoke one. Needs `admin`.
import { useState } from "react";

import type { ApiKey, CreatedApiKey, Role } from "../../api/types";
import { useCan, useMe } from "../../app/auth";
import { Badge } from "../../components/Badge";
import { CopyButton } from "../../components/CopyButton";
import { Dialog } from "../../components/Dialog";
import { TextField } from "../../components/Field";
import { ConfirmDialog, FormDialog } from "../../components/FormDialog";
import { PermissionNote } from "../../components/PermissionNote";
import { DateTime } from "../../components/Time";
import { useApiKeys, useCreateApiKey, useRevokeApiKey } from "./api";
import { RowActions, ResourceSection } from "./ResourceSection";
import { RoleSelect } from "./RoleSelect";
import { managesTenant } from "./roles";

export function ApiKeysSettings() {
  const canAdmin = useCan("admin");
  const keys = useApiKeys(canAdmin);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedApiKey>();
  const [revoking, setRevoking] = useState<ApiKey>();
  const [done, setDone] = useState<string>();
  const revoke = useRevokeApiKey();

  return (
    <>
      <ResourceSection
        title="API keys"
        noun="API keys"
        description="A key opens one tenant × environment to a program, with a role. Send it as Authorization: Bearer <key>."
        done={done}
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New API key
          </button>
        }
        query={keys}
        isEmpty={(d) => d.api_keys.length === 0}
        forbidden={canAdmin ? undefined : <PermissionNote permission="admin" action="see or manage API keys" />}
      >
        {(data) => (
          <table className="table">
            <caption className="sr-only">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Environment</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.api_keys.map((key) => (
                <tr key={key.id}>
                  <td className="font-medium">{key.name}</td>
                  <td className="mono">{key.id}</td>
                  <td>
                    {key.tenant_id} × {key.environment}
                  </td>
                  <td>
                    {key.role}
                    {key.platform_admin ? (
                      <>
                        {" "}
                        <Badge tone="blue">platform admin</Badge>
                      </>
                    ) : null}
                  </td>
                  <td>
                    <DateTime value={key.created_at} />
                  </td>
                  <td>{key.expires_at ? <DateTime value={key.expires_at} /> : <span className="muted">never</span>}</td>
                  <td>{key.revoked_at ? <Badge tone="red">revoked</Badge> : <Badge tone="green">active</Badge>}</td>
                  <td>
                    {canAdmin && !key.revoked_at && !key.platform_admin ? (
                      <RowActions>
                        <button
                          type="button"
                          className="btn"
                          onClick={() => {
                            revoke.reset();
                            setRevoking(key);
                          }}
                        >
                          Revoke<span className="sr-only"> {key.name}</span>
                        </button>
                      </RowActions>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ResourceSection>

      <CreateKeyDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(key) => {
          setCreating(false);
          setCreated(key);
          setDone(`Created the key ${key.name}.`);
        }}
      />
      <CreatedKeyDialog created={created} onClose={() => setCreated(undefined)} />
      <ConfirmDialog
        open={revoking !== undefined}
        title={`Revoke the key ${revoking?.name ?? ""}?`}
        confirmLabel="Revoke the key"
        pending={revoke.isPending}
        error={revoke.error}
        what="revoke the key"
        onClose={() => setRevoking(undefined)}
        onConfirm={() =>
          revoking &&
          revoke.mutate(revoking.id, {
            onSuccess: (key) => {
              setRevoking(undefined);
              setDone(`Revoked the key ${key.name}.`);
            },
          })
        }
      >
        <p>
          Every request made with it is refused from now on. A revoked key cannot be used again; create a new one if
          needed.
        </p>
      </ConfirmDialog>
    </>
  );
}

/** `YYYY-MM-DDTHH:mm` (a datetime-local field, the user's time) as RFC 3339, or null. */
function rfc3339(local: string): string | null {
  if (!local) return null;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function CreateKeyDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (key: CreatedApiKey) => void;
}) {
  const me = useMe();
  const create = useCreateApiKey();
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("editor");
  const [environment, setEnvironment] = useState("");
  const [expires, setExpires] = useState("");

  function close() {
    setName("");
    setRole("editor");
    setEnvironment("");
    setExpires("");
    create.reset();
    onClose();
  }

  return (
    <FormDialog
      open={open}
      title="New API key"
      submitLabel="Create the key"
      pending={create.isPending}
      error={create.error}
      what="create the key"
      onClose={close}
      onSubmit={() =>
        create.mutate(
          {
            name: name.trim(),
            role,
            environment: environment.trim() || null,
            expires_at: rfc3339(expires),
          },
          {
            onSuccess: (key) => {
              close();
              onCreated(key);
            },
          },
        )
      }
    >
      <TextField
        label="Name"
        hint="What uses it: shop backend, CI deploys…"
        required
        maxLength={200}
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <RoleSelect me={me.data} value={role} onChange={setRole} />
      {managesTenant(me.data) ? (
        <TextField
          label="Environment"
          hint={`Left empty: ${me.data?.environment ?? "yours"}.`}
          value={environment}
          onChange={(e) => setEnvironment(e.target.value)}
        />
      ) : null}
      <TextField
        label="Expires"
        type="datetime-local"
        hint="Left empty: it does not expire."
        value={expires}
        onChange={(e) => setExpires(e.target.value)}
      />
    </FormDialog>
  );
}

/** The new key's secret, shown this once: the server keeps only its hash. */
function CreatedKeyDialog({ created, onClose }: { created: CreatedApiKey | undefined; onClose: () => void }) {
  return (
    <Dialog open={created !== undefined} title={`Key ${created?.name ?? ""} created`} onClose={onClose}>
      {created ? (
        <>
          <p
            role="alert"
            className="mb-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950/50 dark:text-amber-100"
          >
            <strong>Copy the key now: it will not be shown again.</strong> Weir keeps only a hash of it; if it is lost,
            revoke it and create another.
          </p>
          <TextField
            label="API key"
            readOnly
            className="mb-2"
            value={created.key}
            onFocus={(e) => e.target.select()}
          />
          <div className="mb-4">
            <CopyButton text={created.key} label="Copy the key" />
          </div>
          <p className="muted mb-4 text-sm">
            Role {created.role} in {created.tenant_id} × {created.environment}
            {created.expires_at ? (
              <>
                , until <DateTime value={created.expires_at} />
              </>
            ) : null}
            .
          </p>
          <div className="flex justify-end">
            <button type="button" className="btn btn-primary" onClick={onClose}>
              Done
            </button>
          </div>
        </>
      ) : null}
    </Dialog>
  );
}
