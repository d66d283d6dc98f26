// A workflow's stored versions, newest first: look at one, export it, or make an older one
// current again (a rollback; it is asked for twice).
import { useState } from "react";

import type { VersionSummary, Workflow } from "../../api/types";
import { Badge } from "../../components/Badge";
import { Dialog } from "../../components/Dialog";
import { ConfirmDialog } from "../../components/FormDialog";
import { JsonBlock } from "../../components/Json";
import { Empty, ErrorNotice, Loading, SuccessNotice } from "../../components/Notice";
import { PermissionNote } from "../../components/PermissionNote";
import { DateTime } from "../../components/Time";
import { useActivateVersion, useVersion, useVersions } from "./api";
import { ExportButtons } from "./ExportButtons";

function declared(version: VersionSummary): string {
  const value = version.declared_version;
  if (value === undefined || value === null) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function VersionsSection({ workflow, canWrite }: { workflow: Workflow; canWrite: boolean }) {
  const versions = useVersions(workflow.id);
  const activate = useActivateVersion(workflow.id);
  const [viewing, setViewing] = useState<number | null>(null);
  const [activating, setActivating] = useState<number | null>(null);
  const [done, setDone] = useState<string>();

  const sorted = [...(versions.data?.versions ?? [])].sort((a, b) => b.version - a.version);

  return (
    <section aria-labelledby="wf-versions" className="mb-8">
      <h2 id="wf-versions" className="mb-3 text-lg font-semibold">
        Versions
      </h2>
      <SuccessNotice>{done}</SuccessNotice>
      {!canWrite ? (
        <div className="mb-2">
          <PermissionNote permission="workflows:write" action="make another version current" />
        </div>
      ) : null}
      <div className="card overflow-x-auto">
        {versions.isPending ? (
          <Loading />
        ) : versions.isError ? (
          <div className="p-3">
            <ErrorNotice error={versions.error} what="list the versions" />
          </div>
        ) : sorted.length === 0 ? (
          <Empty>No version stored.</Empty>
        ) : (
          <table className="table">
            <caption className="sr-only">Versions of {workflow.id}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Name</th>
                <th scope="col">Declared version</th>
                <th scope="col">Stored</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((v) => (
                <tr key={v.version}>
                  <td className="whitespace-nowrap">
                    v{v.version}{" "}
                    {v.current ? <Badge tone="green">current</Badge> : null}
                  </td>
                  <td>{v.name ?? <span className="muted">—</span>}</td>
                  <td className="mono">{declared(v)}</td>
                  <td>
                    <DateTime value={v.created_at} />
                  </td>
                  <td>
                    <div className="flex justify-end gap-2">
                      <button type="button" className="btn" onClick={() => setViewing(v.version)}>
                        View<span className="sr-only"> version {v.version}</span>
                      </button>
                      {canWrite && !v.current ? (
                        <button
                          type="button"
                          className="btn"
                          onClick={() => {
                            setDone(undefined);
                            activate.reset();
                            setActivating(v.version);
                          }}
                        >
                          Make current<span className="sr-only"> (version {v.version})</span>
                        </button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <VersionDialog workflowId={workflow.id} version={viewing} onClose={() => setViewing(null)} />

      <ConfirmDialog
        open={activating !== null}
        title={`Make version ${activating ?? ""} current?`}
        confirmLabel={`Make version ${activating ?? ""} current`}
        danger={false}
        pending={activate.isPending}
        error={activate.error}
        what="change the current version"
        onClose={() => setActivating(null)}
        onConfirm={() => {
          if (activating === null) return;
          activate.mutate(activating, {
            onSuccess: (result) => {
              setActivating(null);
              setDone(`Version ${result.version} is current${result.enabled ? "" : " (the workflow is disabled)"}.`);
            },
          });
        }}
      >
        <p>
          Runs started from now on follow version {activating} of <span className="mono">{workflow.id}</span> instead of
          version {workflow.version}. Runs already going keep the version they started with. Nothing is deleted: you can
          make version {workflow.version} current again later.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function VersionDialog({
  workflowId,
  version,
  onClose,
}: {
  workflowId: string;
  version: number | null;
  onClose: () => void;
}) {
  const stored = useVersion(workflowId, version);
  return (
    <Dialog open={version !== null} wide title={`${workflowId}, version ${version ?? ""}`} onClose={onClose}>
      {stored.isPending ? (
        <Loading />
      ) : stored.isError ? (
        <ErrorNotice error={stored.error} what="load the version" />
      ) : (
        <>
          <p className="muted mb-2 text-sm">
            Stored <DateTime value={stored.data.created_at} />
            {stored.data.current ? "; the current version." : "."}
          </p>
          <JsonBlock value={stored.data.definition} label={`Definition of version ${stored.data.version}`} />
        </>
      )}
      <div className="mt-4 flex flex-wrap justify-between gap-2">
        {stored.data ? <ExportButtons definition={stored.data.definition} id={workflowId} version={stored.data.version} /> : <span />}
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
