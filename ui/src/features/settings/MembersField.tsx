// A team's members: the users who work in this environment, to tick; or, when the caller may
// not list users, their emails typed one per line.
import { useId } from "react";

import { useMe } from "../../app/auth";
import { TextAreaField } from "../../components/Field";
import { Loading } from "../../components/Notice";
import { useUsers } from "./api";

export function MembersField({ value, onChange }: { value: string[]; onChange: (emails: string[]) => void }) {
  const me = useMe();
  const users = useUsers();
  const legendId = useId();

  if (users.isPending) return <Loading label="Loading users…" />;
  if (users.isError) {
    return (
      <TextAreaField
        label="Members"
        hint="Emails or user ids, one per line (the users could not be listed)."
        rows={4}
        value={value.join("\n")}
        onChange={(e) =>
          onChange(
            e.target.value
              .split("\n")
              .map((line) => line.trim())
              .filter(Boolean),
          )
        }
      />
    );
  }

  const environment = me.data?.environment;
  const here = users.data.users.filter((u) => u.environment === null || u.environment === environment);
  const chosen = new Set(value.map((v) => v.toLowerCase()));
  // Members that are not (or no longer) users of this environment stay listed, ticked.
  const others = value.filter((v) => !here.some((u) => u.email === v.toLowerCase() || u.id === v));

  function toggle(email: string, on: boolean) {
    onChange(on ? [...value, email] : value.filter((v) => v.toLowerCase() !== email));
  }

  return (
    <fieldset aria-describedby={`${legendId}-hint`}>
      <legend className="label">Members</legend>
      <p id={`${legendId}-hint`} className="muted mb-1 text-xs">
        Users who work in {environment ?? "this environment"}.
      </p>
      <ul className="max-h-56 space-y-1 overflow-y-auto rounded-md border border-zinc-200 p-2 dark:border-zinc-700">
        {here.length === 0 && others.length === 0 ? <li className="muted text-sm">No user works here yet.</li> : null}
        {here.map((user) => (
          <li key={user.id}>
            <label className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                checked={chosen.has(user.email) || chosen.has(user.id)}
                onChange={(e) => toggle(user.email, e.target.checked)}
              />
              <span>{user.email}</span>
              {user.name !== user.email ? <span className="muted">{user.name}</span> : null}
              {user.disabled_at ? <span className="muted">(disabled)</span> : null}
            </label>
          </li>
        ))}
        {others.map((email) => (
          <li key={email}>
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked onChange={() => toggle(email.toLowerCase(), false)} />
              <span>{email}</span>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
