// Secrets: written, never read back. Create one, replace its value or its policy (the hosts and
// action types that may receive it), delete it. Listing needs workflows:read, changing admin.
import { useState } from "react";

import type { Secret } from "../../api/types";
import { useCan } from "../../app/auth";
import { TextAreaField, TextField } from "../../components/Field";
import { ConfirmDialog, FormDialog } from "../../components/FormDialog";
import { PermissionNote } from "../../components/PermissionNote";
import { DateTime } from "../../components/Time";
import { useCreateSecret, useDeleteSecret, useSecrets, useUpdateSecret } from "./api";
import { ResourceSection, RowActions } from "./ResourceSection";

/** A list typed one per line (or separated by commas); empty means no restriction (null). */
function parseList(text: string): string[] | null {
  const items = text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter(Boolean);
  return items.length > 0 ? items : null;
}

const HOSTS_HINT = "One per line: api.example.com, *.example.com (its subdomains), api.example.com:8443. Empty: any host.";
const ACTIONS_HINT =
  "Action types that may receive it, one per line (http_request, a connector's action…). Empty: any but code, transform and transform_data, which must be named.";

export function SecretsSettings() {
  const secrets = useSecrets();
  const canAdmin = useCan("admin");
  const remove = useDeleteSecret();
  const [editing, setEditing] = useState<Secret | "new">();
  const [deleting, setDeleting] = useState<Secret>();
  const [done, setDone] = useState<string>();

  return (
    <>
      <ResourceSection
        title="Secrets"
        description={
          <>
            Workflows use a secret as <span className="mono">{"{{secrets.NAME}}"}</span>. Values are encrypted, never
            shown, and scrubbed from traces: you can replace one, not read it.
          </>
        }
        done={done}
        actions={
          canAdmin ? (
            <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>
              New secret
            </button>
          ) : (
            <PermissionNote permission="admin" action="change secrets" />
          )
        }
        query={secrets}
        isEmpty={(d) => d.secrets.length === 0}
      >
        {(data) => (
          <table className="table">
            <caption className="sr-only">Secrets, by name (values are never shown)</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Allowed hosts</th>
                <th scope="col">Allowed actions</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.secrets.map((secret) => (
                <tr key={secret.name}>
                  <td className="mono font-medium">{secret.name}</td>
                  <td className="mono">{secret.allowed_hosts?.join(", ") ?? <span className="muted">any</span>}</td>
                  <td className="mono">
                    {secret.allowed_actions?.join(", ") ?? <span className="muted">any but code</span>}
                  </td>
                  <td>
                    <DateTime value={secret.updated_at} />
                  </td>
                  <td>
                    {canAdmin ? (
                      <RowActions>
                        <button type="button" className="btn" onClick={() => setEditing(secret)}>
                          Replace<span className="sr-only"> {secret.name}</span>
                        </button>
                        <button
                          type="button"
                          className="btn"
                          onClick={() => {
                            remove.reset();
                            setDeleting(secret);
                          }}
                        >
                          Delete<span className="sr-only"> {secret.name}</span>
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

      {editing ? (
        <SecretDialog
          key={editing === "new" ? "new" : editing.name}
          secret={editing === "new" ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={(secret, created) => {
            setEditing(undefined);
            setDone(`${created ? "Stored" : "Replaced"} the secret ${secret.name}.`);
          }}
        />
      ) : null}
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete the secret ${deleting?.name ?? ""}?`}
        confirmLabel="Delete the secret"
        pending={remove.isPending}
        error={remove.error}
        what="delete the secret"
        onClose={() => setDeleting(undefined)}
        onConfirm={() =>
          deleting &&
          remove.mutate(deleting.name, {
            onSuccess: () => {
              setDone(`Deleted the secret ${deleting.name}.`);
              setDeleting(undefined);
            },
          })
        }
      >
        <p>
          Steps that use <span className="mono">{`{{secrets.${deleting?.name ?? ""}}}`}</span> fail from now on. The value
          cannot be recovered.
        </p>
      </ConfirmDialog>
    </>
  );
}

function SecretDialog({
  secret,
  onClose,
  onSaved,
}: {
  secret: Secret | undefined;
  onClose: () => void;
  onSaved: (secret: Secret, created: boolean) => void;
}) {
  const create = useCreateSecret();
  const update = useUpdateSecret();
  const save = secret ? update : create;
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [hosts, setHosts] = useState(secret?.allowed_hosts?.join("\n") ?? "");
  const [actions, setActions] = useState(secret?.allowed_actions?.join("\n") ?? "");

  function submit() {
    const policy = { allowed_hosts: parseList(hosts), allowed_actions: parseList(actions) };
    if (secret) {
      update.mutate(
        { id: secret.name, body: { ...(value ? { value } : {}), ...policy } },
        { onSuccess: (s) => onSaved(s, false) },
      );
    } else {
      create.mutate({ name: name.trim(), value, ...policy }, { onSuccess: (s) => onSaved(s, true) });
    }
  }

  return (
    <FormDialog
      open
      title={secret ? `Replace the secret ${secret.name}` : "New secret"}
      submitLabel={secret ? "Save" : "Store the secret"}
      pending={save.isPending}
      error={save.error}
      what={secret ? "save the secret" : "store the secret"}
      onClose={onClose}
      onSubmit={submit}
    >
      {secret ? null : (
        <TextField
          label="Name"
          required
          pattern="[A-Za-z_][A-Za-z0-9_]*"
          hint="A letter or _, then letters, digits and _."
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      )}
      <TextField
        label={secret ? "New value" : "Value"}
        type="password"
        required={!secret}
        autoComplete="new-password"
        spellCheck={false}
        hint={secret ? "Left empty: the value is kept. It is never shown." : "It is never shown again, here or anywhere."}
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <TextAreaField label="Allowed hosts" rows={3} hint={HOSTS_HINT} value={hosts} onChange={(e) => setHosts(e.target.value)} />
      <TextAreaField
        label="Allowed actions"
        rows={3}
        hint={ACTIONS_HINT}
        value={actions}
        onChange={(e) => setActions(e.target.value)}
      />
    </FormDialog>
  );
}
