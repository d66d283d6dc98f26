// The workflow's stored versions: compare one with the canvas side by side (the two graphs with
// the steps added, removed or changed marked, and the two texts line by line), open it on the
// canvas, or roll back (make it the current version, asked twice).
import { ReactFlowProvider } from "@xyflow/react";
import { useMemo, useState } from "react";

import { Badge } from "../../components/Badge";
import { Dialog } from "../../components/Dialog";
import { ConfirmDialog } from "../../components/FormDialog";
import { ErrorNotice, Loading, SuccessNotice } from "../../components/Notice";
import { DateTime } from "../../components/Time";
import { LazyWorkflowGraph } from "../graph/LazyWorkflowGraph";
import type { StepMark } from "../graph/StepNode";
import { useActivateVersion, useVersion, useVersions } from "../workflows/api";
import type { Definition } from "./definition";
import { sideBySide, stepChanges } from "./diff";

const TONE = {
  same: "",
  removed: "bg-red-50 dark:bg-red-950/50",
  added: "bg-emerald-50 dark:bg-emerald-950/50",
  changed: "bg-amber-50 dark:bg-amber-950/40",
};

export function HistoryPanel({
  workflowId,
  definition,
  canWrite,
  onLoad,
}: {
  workflowId: string;
  definition: Definition;
  canWrite: boolean;
  onLoad: (definition: Definition) => void;
}) {
  const versions = useVersions(workflowId);
  const activate = useActivateVersion(workflowId);
  const [comparing, setComparing] = useState<number | null>(null);
  const [rollingBack, setRollingBack] = useState<number | null>(null);
  const [done, setDone] = useState<string>();
  const compared = useVersion(workflowId, comparing);

  if (versions.isPending) return <Loading />;
  if (versions.isError) return <ErrorNotice error={versions.error} what="list the versions" />;
  const sorted = [...versions.data.versions].sort((a, b) => b.version - a.version);

  return (
    <section aria-label="History" className="space-y-3 text-sm">
      <h2 className="text-base font-semibold">History</h2>
      <SuccessNotice>{done}</SuccessNotice>
      <ul className="space-y-2">
        {sorted.map((v) => (
          <li key={v.version} className="rounded border border-zinc-200 p-2 dark:border-zinc-700">
            <div className="font-medium">
              Version {v.version} {v.current ? <Badge tone="green">current</Badge> : null}
            </div>
            <div className="muted text-xs">
              <DateTime value={v.created_at} />
            </div>
            <div className="mt-1 flex flex-wrap gap-1">
              <button type="button" className="btn px-2 py-0.5 text-xs" onClick={() => setComparing(v.version)}>
                Compare<span className="sr-only"> version {v.version} with the canvas</span>
              </button>
              {canWrite && !v.current ? (
                <button
                  type="button"
                  className="btn px-2 py-0.5 text-xs"
                  onClick={() => {
                    activate.reset();
                    setDone(undefined);
                    setRollingBack(v.version);
                  }}
                >
                  Roll back to version {v.version}
                </button>
              ) : null}
            </div>
          </li>
        ))}
      </ul>

      <Dialog open={comparing !== null} wide="widest" title={`Version ${comparing ?? ""} and the canvas`} onClose={() => setComparing(null)}>
        {compared.isPending ? (
          <Loading />
        ) : compared.isError ? (
          <ErrorNotice error={compared.error} what="load the version" />
        ) : (
          <>
            <Diff before={compared.data.definition} after={definition} version={compared.data.version} />
            <div className="mt-3 flex justify-end gap-2">
              <button
                type="button"
                className="btn"
                onClick={() => {
                  onLoad(compared.data.definition as Definition);
                  setComparing(null);
                }}
              >
                Open version {compared.data.version} on the canvas
              </button>
              <button type="button" className="btn" onClick={() => setComparing(null)}>
                Close
              </button>
            </div>
          </>
        )}
      </Dialog>

      <ConfirmDialog
        open={rollingBack !== null}
        title={`Roll back to version ${rollingBack ?? ""}?`}
        confirmLabel={`Make version ${rollingBack ?? ""} current`}
        danger={false}
        pending={activate.isPending}
        error={activate.error}
        what="roll back"
        onClose={() => setRollingBack(null)}
        onConfirm={() => {
          if (rollingBack === null) return;
          activate.mutate(rollingBack, {
            onSuccess: (result) => {
              setRollingBack(null);
              setDone(`Version ${result.version} is current again.`);
            },
          });
        }}
      >
        <p>
          Runs started from now on follow version {rollingBack} of <span className="mono">{workflowId}</span>. Runs
          already going keep their version; nothing is deleted.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function Diff({ before, after, version }: { before: unknown; after: unknown; version: number }) {
  const rows = sideBySide(JSON.stringify(before, null, 2), JSON.stringify(after, null, 2));
  const changes = rows.filter((r) => r.change !== "same").length;
  const steps = useMemo(() => stepChanges(before as Definition, after as Definition), [before, after]);
  const marks = useMemo(() => {
    const mark = (ids: string[], as: StepMark) => ids.map((id) => [id, as] as const);
    return {
      before: new Map([...mark(steps.removed, "removed"), ...mark(steps.changed, "changed")]),
      after: new Map([...mark(steps.added, "added"), ...mark(steps.changed, "changed")]),
    };
  }, [steps]);
  return (
    <>
      <p className="mb-2 text-sm" role="status">
        {changes === 0 ? "No difference." : `${changes} ${changes === 1 ? "line differs" : "lines differ"}.`}
      </p>
      <dl aria-label="Steps" className="mb-2 grid grid-cols-[auto_1fr] gap-x-3 text-sm">
        {(
          [
            ["Steps added on the canvas", steps.added],
            ["Steps removed", steps.removed],
            ["Steps changed", steps.changed],
          ] as const
        ).map(([label, ids]) => (
          <div key={label} className="contents">
            <dt className="font-medium">{label}</dt>
            <dd className="mono">{ids.length === 0 ? "none" : ids.join(", ")}</dd>
          </div>
        ))}
      </dl>
      <div className="mb-3 grid grid-cols-2 gap-3">
        {(
          [
            [`Version ${version}`, before, marks.before],
            ["The canvas", after, marks.after],
          ] as const
        ).map(([title, shown, marked]) => (
          <div key={title} className="min-w-0 rounded border border-zinc-200 dark:border-zinc-700">
            <h3 className="border-b border-zinc-200 px-2 py-1 text-sm font-medium dark:border-zinc-700">{title}</h3>
            {/* A flow of its own: the builder's canvas around this dialog has another. */}
            <ReactFlowProvider>
              <LazyWorkflowGraph definition={shown} label={`Graph of ${title.toLowerCase()}`} marks={marked} direction="DOWN" />
            </ReactFlowProvider>
          </div>
        ))}
      </div>
      {/* Focusable, so the keyboard scrolls it too. */}
      <div
        tabIndex={0}
        role="region"
        aria-label={`Differences between version ${version} and the canvas`}
        className="max-h-[60vh] overflow-auto rounded border border-zinc-200 dark:border-zinc-700"
      >
        <table className="mono w-full table-fixed text-left">
          <caption className="sr-only">Version {version} on the left, the canvas on the right</caption>
          <thead>
            <tr>
              <th scope="col" className="px-2 py-1">
                Version {version}
              </th>
              <th scope="col" className="px-2 py-1">
                The canvas
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={i} className={TONE[row.change]}>
                <td className="px-2 align-top whitespace-pre-wrap">
                  {row.change === "removed" || row.change === "changed" ? <span className="sr-only">removed: </span> : null}
                  {row.left ?? ""}
                </td>
                <td className="px-2 align-top whitespace-pre-wrap">
                  {row.change === "added" || row.change === "changed" ? <span className="sr-only">added: </span> : null}
                  {row.right ?? ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
