// Why a control is missing: the caller's role lacks a permission. Shown where the control
// would be, so nobody hunts for a button they may not have.
import { useMe } from "../app/auth";
import type { Permission } from "../api/types";

export function PermissionNote({ permission, action }: { permission: Permission; action: string }) {
  const me = useMe();
  return (
    <p role="note" className="muted text-xs">
      Your role{me.data ? ` (${me.data.role})` : ""} may not {action}: that needs the{" "}
      <span className="mono">{permission}</span> permission.
    </p>
  );
}
