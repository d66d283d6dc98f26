// Users, who sign in to the console: create one, change a name, role or password, disable and
// enable. Weir keeps users for the audit trail: DELETE /api/v1/users/{id} disables too, so
// Disable is the delete. Needs `admin`.
import { useState } from "react";

import type { Role, User } from "../../api/types";
import { useCan, useMe } from "../../app/auth";
import { Badge } from "../../components/Badge";
import { TextField } from "../../components/Field";
import { ConfirmDialog, FormDialog } from "../../components/FormDialog";
import { ErrorNotice } from "../../components/Notice";
import { PermissionNote } from "../../components/PermissionNote";
import { useCreateUser, useUpdateUser, useUsers } from "./api";
import { ResourceSection, RowActions } from "./ResourceSection";
import { RoleSelect } from "./RoleSelect";
import { managesTenant } from "./roles";

const PASSWORD_HINT = "10 to 256 characters. Stored as a hash; signing in again is needed everywhere after a change.";

export function UsersSettings() {
  const me = useMe();
  const canAdmin = useCan("admin");
  const users = useUsers(canAdmin);
  const update = useUpdateUser();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<User>();
  const [disabling, setDisabling] = useState<User>();
  const [done, setDone] = useState<string>();

  function enable(user: User) {
    setDone(undefined);
    update.mutate(
      { id: user.id, body: { disabled: false } },
      { onSuccess: (u) => setDone(`${u.email} may sign in again.`) },
    );
  }

  return (
    <>
      <ResourceSection
        title="Users"
        description="People who sign in to this console, each with a role. Approvals for a team go to its members."
        done={done}
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New user
          </button>
        }
        query={users}
        isEmpty={(d) => d.users.length === 0}
        forbidden={canAdmin ? undefined : <PermissionNote permission="admin" action="see or manage users" />}
      >
        {(data) => (
          <table className="table">
            <caption className="sr-only">Users</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Environment</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.users.map((user) => (
                <tr key={user.id}>
                  <td className="font-medium">
                    {user.email}
                    {user.id === me.data?.user?.id ? <span className="muted text-xs"> (you)</span> : null}
                  </td>
                  <td>{user.name}</td>
                  <td>{user.role}</td>
                  <td>{user.environment ?? <span className="muted">every environment</span>}</td>
                  <td>{user.disabled_at ? <Badge tone="gray">disabled</Badge> : <Badge tone="green">active</Badge>}</td>
                  <td>
                    {canAdmin ? (
                      <RowActions>
                        <button type="button" className="btn" onClick={() => setEditing(user)}>
                          Edit<span className="sr-only"> {user.email}</span>
                        </button>
                        {user.disabled_at ? (
                          <button
                            type="button"
                            className="btn"
                            disabled={update.isPending && update.variables?.id === user.id}
                            onClick={() => enable(user)}
                          >
                            Enable<span className="sr-only"> {user.email}</span>
                          </button>
                        ) : (
                          <button
                            type="button"
                            className="btn"
                            onClick={() => {
                              update.reset();
                              setDisabling(user);
                            }}
                          >
                            Disable<span className="sr-only"> {user.email}</span>
                          </button>
                        )}
                      </RowActions>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ResourceSection>

      {update.isError && !disabling ? (
        <div className="mt-3">
          <ErrorNotice error={update.error} what="enable the user" />
        </div>
      ) : null}

      <CreateUserDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(user) => {
          setCreating(false);
          setDone(`Created ${user.email}; they can sign in now.`);
        }}
      />
      {editing ? (
        <EditUserDialog
          key={editing.id}
          user={editing}
          onClose={() => setEditing(undefined)}
          onSaved={(user) => {
            setEditing(undefined);
            setDone(`Saved ${user.email}.`);
          }}
        />
      ) : null}
      <ConfirmDialog
        open={disabling !== undefined}
        title={`Disable ${disabling?.email ?? ""}?`}
        confirmLabel="Disable the user"
        pending={update.isPending}
        error={update.error}
        what="disable the user"
        onClose={() => setDisabling(undefined)}
        onConfirm={() =>
          disabling &&
          update.mutate(
            { id: disabling.id, body: { disabled: true } },
            {
              onSuccess: (u) => {
                setDisabling(undefined);
                setDone(`${u.email} is disabled.`);
              },
            },
          )
        }
      >
        <p>
          Their sessions end now and they cannot sign in, decide approvals or receive notifications. The user is kept
          (the audit log names them) and can be enabled again.
        </p>
      </ConfirmDialog>
    </>
  );
}

function CreateUserDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (user: User) => void;
}) {
  const me = useMe();
  const create = useCreateUser();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("operator");
  const [environment, setEnvironment] = useState("");

  function close() {
    setEmail("");
    setName("");
    setPassword("");
    setRole("operator");
    setEnvironment("");
    create.reset();
    onClose();
  }

  return (
    <FormDialog
      open={open}
      title="New user"
      submitLabel="Create the user"
      pending={create.isPending}
      error={create.error}
      what="create the user"
      onClose={close}
      onSubmit={() =>
        create.mutate(
          {
            email: email.trim(),
            name: name.trim() || null,
            password,
            role,
            environment: environment.trim() || null,
          },
          {
            onSuccess: (user) => {
              close();
              onCreated(user);
            },
          },
        )
      }
    >
      <TextField
        label="Email"
        type="email"
        required
        autoComplete="off"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
      />
      <TextField label="Name" hint="Left empty: the email." value={name} onChange={(e) => setName(e.target.value)} />
      <TextField
        label="Password"
        type="password"
        required
        minLength={10}
        maxLength={256}
        autoComplete="new-password"
        hint={PASSWORD_HINT}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <RoleSelect me={me.data} value={role} onChange={setRole} />
      {managesTenant(me.data) ? (
        <TextField
          label="Environment"
          hint="The one environment they work in. Left empty: every environment of the tenant."
          value={environment}
          onChange={(e) => setEnvironment(e.target.value)}
        />
      ) : null}
    </FormDialog>
  );
}

function EditUserDialog({
  user,
  onClose,
  onSaved,
}: {
  user: User;
  onClose: () => void;
  onSaved: (user: User) => void;
}) {
  const me = useMe();
  const update = useUpdateUser();
  const [name, setName] = useState(user.name);
  const [role, setRole] = useState<Role>(user.role);
  const [password, setPassword] = useState("");

  return (
    <FormDialog
      open
      title={`Edit ${user.email}`}
      submitLabel="Save"
      pending={update.isPending}
      error={update.error}
      what="save the user"
      onClose={onClose}
      onSubmit={() =>
        update.mutate(
          {
            id: user.id,
            body: {
              ...(name.trim() !== user.name ? { name: name.trim() } : {}),
              ...(role !== user.role ? { role } : {}),
              ...(password ? { password } : {}),
            },
          },
          { onSuccess: onSaved },
        )
      }
    >
      <TextField label="Name" required value={name} onChange={(e) => setName(e.target.value)} />
      <RoleSelect me={me.data} value={role} onChange={setRole} />
      <TextField
        label="New password"
        type="password"
        minLength={10}
        maxLength={256}
        autoComplete="new-password"
        hint={`Left empty: unchanged. ${PASSWORD_HINT}`}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
    </FormDialog>
  );
}
