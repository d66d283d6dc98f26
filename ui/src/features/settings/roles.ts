// Which roles a caller may give: nobody grants more than it has (the owner role takes an owner
// or the platform admin; the server refuses the rest with 403 anyway).
import { type Me, ROLES, type Role } from "../../api/types";

export function managesTenant(me: Me | undefined): boolean {
  return Boolean(me && (me.platform_admin || me.permissions.includes("tenant:admin")));
}

export function grantableRoles(me: Me | undefined): Role[] {
  return ROLES.filter((role) => role !== "owner" || managesTenant(me));
}

/** What each role may do, in a few words, for the role pickers. */
export const ROLE_HINTS: Record<Role, string> = {
  owner: "everything, in every environment of the tenant",
  admin: "everything in this environment, keys and users included",
  editor: "reads, writes and runs workflows",
  operator: "reads and runs workflows, decides approvals",
  viewer: "reads",
  agent: "an AI agent: reads, writes and runs workflows",
};
