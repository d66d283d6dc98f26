import type { Me, Role } from "../../api/types";
import { SelectField } from "../../components/Field";
import { grantableRoles, ROLE_HINTS } from "./roles";

/** The role picker of the key and user forms: the roles the caller may give, each explained. */
export function RoleSelect({
  me,
  value,
  onChange,
  label = "Role",
}: {
  me: Me | undefined;
  value: Role;
  onChange: (role: Role) => void;
  label?: string;
}) {
  const roles = grantableRoles(me);
  return (
    <SelectField
      label={label}
      value={value}
      hint={ROLE_HINTS[value]}
      onChange={(e) => onChange(e.target.value as Role)}
    >
      {/* A user's current role stays listed even when the caller could not give it. */}
      {(roles.includes(value) ? roles : [value, ...roles]).map((role) => (
        <option key={role} value={role} disabled={!roles.includes(role)}>
          {role}
        </option>
      ))}
    </SelectField>
  );
}
