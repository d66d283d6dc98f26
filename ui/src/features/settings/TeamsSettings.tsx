// Teams: the people an approval's approver_role and a notification's role:NAME mean. Create one,
// change its members and description, delete it. Reading needs workflows:read, changing admin.
import { useState } from "react";

import type { Team } from "../../api/types";
import { useCan } from "../../app/auth";
import { TextField } from "../../components/Field";
import { ConfirmDialog, FormDialog } from "../../components/FormDialog";
import { PermissionNote } from "../../components/PermissionNote";
import { useCreateTeam, useDeleteTeam, useTeams, useUpdateTeam } from "./api";
import { MembersField } from "./MembersField";
import { ResourceSection, RowActions } from "./ResourceSection";

export function TeamsSettings() {
  const teams = useTeams();
  const canAdmin = useCan("admin");
  const remove = useDeleteTeam();
  const [editing, setEditing] = useState<Team | "new">();
  const [deleting, setDeleting] = useState<Team>();
  const [done, setDone] = useState<string>();

  return (
    <>
      <ResourceSection
        title="Teams"
        description="An approval step's approver_role names a team: its members decide. A team belongs to this environment."
        done={done}
        actions={
          canAdmin ? (
            <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>
              New team
            </button>
          ) : (
            <PermissionNote permission="admin" action="change teams" />
          )
        }
        query={teams}
        isEmpty={(d) => d.teams.length === 0}
      >
        {(data) => (
          <table className="table">
            <caption className="sr-only">Teams</caption>
            <thead>
              <tr>
                <th scope="col">Team</th>
                <th scope="col">Description</th>
                <th scope="col">Members</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.teams.map((team) => (
                <tr key={team.name}>
                  <td className="mono font-medium">{team.name}</td>
                  <td>{team.description ?? <span className="muted">—</span>}</td>
                  <td>
                    {team.members.length === 0 ? (
                      <span className="muted">nobody</span>
                    ) : (
                      <ul className="flex flex-wrap gap-x-3">
                        {team.members.map((m) => (
                          <li key={m.id} className={m.disabled ? "muted line-through" : undefined}>
                            {m.email}
                            {m.disabled ? <span className="sr-only"> (disabled)</span> : null}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>
                    {canAdmin ? (
                      <RowActions>
                        <button type="button" className="btn" onClick={() => setEditing(team)}>
                          Edit<span className="sr-only"> {team.name}</span>
                        </button>
                        <button
                          type="button"
                          className="btn"
                          onClick={() => {
                            remove.reset();
                            setDeleting(team);
                          }}
                        >
                          Delete<span className="sr-only"> {team.name}</span>
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
        <TeamDialog
          key={editing === "new" ? "new" : editing.name}
          team={editing === "new" ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={(team, created) => {
            setEditing(undefined);
            setDone(`${created ? "Created" : "Saved"} the team ${team.name}.`);
          }}
        />
      ) : null}
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete the team ${deleting?.name ?? ""}?`}
        confirmLabel="Delete the team"
        pending={remove.isPending}
        error={remove.error}
        what="delete the team"
        onClose={() => setDeleting(undefined)}
        onConfirm={() =>
          deleting &&
          remove.mutate(deleting.name, {
            onSuccess: () => {
              setDone(`Deleted the team ${deleting.name}.`);
              setDeleting(undefined);
            },
          })
        }
      >
        <p>
          Approvals waiting for <span className="mono">{deleting?.name}</span> can then be decided only by an admin, and
          role:{deleting?.name} notifications reach only users whose role has that name. Its users are not touched.
        </p>
      </ConfirmDialog>
    </>
  );
}

function TeamDialog({
  team,
  onClose,
  onSaved,
}: {
  team: Team | undefined;
  onClose: () => void;
  onSaved: (team: Team, created: boolean) => void;
}) {
  const create = useCreateTeam();
  const update = useUpdateTeam();
  const save = team ? update : create;
  const [name, setName] = useState(team?.name ?? "");
  const [description, setDescription] = useState(team?.description ?? "");
  const [members, setMembers] = useState<string[]>(team?.members.map((m) => m.email) ?? []);

  function submit() {
    const body = { members, description: description.trim() || null };
    if (team) update.mutate({ name: team.name, body }, { onSuccess: (t) => onSaved(t, false) });
    else create.mutate({ ...body, name: name.trim() }, { onSuccess: (t) => onSaved(t, true) });
  }

  return (
    <FormDialog
      open
      title={team ? `Edit the team ${team.name}` : "New team"}
      submitLabel={team ? "Save" : "Create the team"}
      pending={save.isPending}
      error={save.error}
      what={team ? "save the team" : "create the team"}
      onClose={onClose}
      onSubmit={submit}
    >
      {team ? null : (
        <TextField
          label="Name"
          required
          pattern="[a-z][a-z0-9_.\-]{0,63}"
          hint="A lowercase letter, then up to 63 lowercase letters, digits, _, . or -; not a role's name. Approval steps name it as approver_role."
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      )}
      <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <MembersField value={members} onChange={setMembers} />
    </FormDialog>
  );
}
