// A workflow's on/off state: a switch for a caller who may change it, the word otherwise.
import type { WorkflowSummary } from "../../api/types";
import { Badge } from "../../components/Badge";
import { Switch } from "../../components/Switch";
import type { useSetEnabled } from "./api";

export function EnabledCell({
  workflow,
  canWrite,
  setEnabled,
}: {
  workflow: Pick<WorkflowSummary, "id" | "name" | "enabled">;
  canWrite: boolean;
  setEnabled: ReturnType<typeof useSetEnabled>;
}) {
  if (!canWrite) {
    return workflow.enabled ? <Badge tone="green">enabled</Badge> : <Badge tone="gray">disabled</Badge>;
  }
  return (
    <Switch
      checked={workflow.enabled}
      label={`${workflow.name} enabled`}
      disabled={setEnabled.isPending && setEnabled.variables?.id === workflow.id}
      onChange={(enabled) => setEnabled.mutate({ id: workflow.id, enabled })}
    />
  );
}
