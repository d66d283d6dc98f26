// The visual builder, at /workflows/new and /workflows/:id/edit: a palette, the canvas and a
// side panel, with the code view, validation, tests, deploying, history and English beside
// them. The definition is the one source of truth, kept in an undo history; the canvas is drawn
// from it and every gesture is an edit of it. Loaded lazily: none of this is in the main bundle.
import { ReactFlowProvider } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";

import type { Detail } from "../../api/types";
import { useCan } from "../../app/auth";
import { parseJson } from "../../components/JsonField";
import { ErrorNotice, Loading, SuccessNotice, WarningNotice } from "../../components/Notice";
import { PageHeader } from "../../components/Page";
import { DateTime } from "../../components/Time";
import type { Point } from "../graph/layout";
import { buildGraph, TRIGGER_ID } from "../graph/model";
import type { PathTaken } from "../graph/path";
import { useWorkflow } from "../workflows/api";
import { WorkflowNotLoaded } from "../workflows/WorkflowDetailPage";
import { type Capabilities, useCapabilities, useDeploy, useValidation } from "./api";
import BuilderCanvas, { type Selection } from "./BuilderCanvas";
import type { BuilderNodeData } from "./BuilderNode";
import { CodeView } from "./CodeView";
import { newStep } from "./defaults";
import {
  addStep,
  addToGroup,
  allSteps,
  connect,
  type Definition,
  disconnect,
  findStep,
  insertOnEdge,
  newStepId,
  pasteSteps,
  type Port,
  portsOf,
  removeSteps,
  renameStep,
  type Step,
  updateStep,
} from "./definition";
import { DescribePanel } from "./DescribePanel";
import { clearDraft, type Draft, loadDraft, loadPayload, saveDraft } from "./draft";
import { change, type History, redo, start, undo } from "./history";
import { HistoryPanel } from "./HistoryPanel";
import { Inspector, type Problem } from "./Inspector";
import { applyFix, targetOf } from "./jsonPath";
import { Palette } from "./Palette";
import { usePositions } from "./positions";
import { shortcutOf } from "./shortcuts";
import { ProblemsPanel } from "./ProblemsPanel";
import { TestPanel } from "./TestPanel";

const EMPTY: Definition = {
  workflow_id: "new_workflow",
  name: "New workflow",
  trigger: { type: "event", event: "" },
  steps: [],
};

export default function BuilderPage() {
  const { id } = useParams();
  const capabilities = useCapabilities();
  const workflow = useWorkflow(id ?? "");
  const canWrite = useCan("workflows:write");
  const title = id ? `Edit ${id}` : "New workflow";

  if (capabilities.isPending || (id && workflow.isPending)) return <Loading />;
  if (capabilities.isError) return <ErrorNotice error={capabilities.error} what="load the step types" />;
  if (id && workflow.isError) return <WorkflowNotLoaded id={id} title={title} error={workflow.error} />;
  const stored = id && workflow.data ? (workflow.data.definition as Definition) : EMPTY;
  return (
    <ReactFlowProvider>
      <Builder
        key={id ?? "new"}
        workflowId={id}
        version={id ? workflow.data?.version : undefined}
        stored={stored}
        capabilities={capabilities.data}
        canWrite={canWrite}
        title={title}
      />
    </ReactFlowProvider>
  );
}

type Panel = "inspect" | "problems" | "test" | "history" | "describe";

const PANELS: { id: Panel; label: string }[] = [
  { id: "inspect", label: "Inspect" },
  { id: "problems", label: "Problems" },
  { id: "test", label: "Test" },
  { id: "history", label: "History" },
  { id: "describe", label: "Describe it in English" },
];

/** Where a new node goes when it is not dropped: below the selected one, or after the rest. */
function freeSpot(positions: Map<string, Point>, near?: Point): Point {
  if (near) return { x: near.x, y: near.y + 112 };
  const all = [...positions.values()];
  if (all.length === 0) return { x: 0, y: 0 };
  return { x: Math.max(...all.map((p) => p.x)) + 256, y: Math.min(...all.map((p) => p.y)) };
}

function same(a: Definition, b: Definition): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function Builder({
  workflowId,
  version,
  stored,
  capabilities,
  canWrite,
  title,
}: {
  workflowId?: string;
  version?: number;
  stored: Definition;
  capabilities: Capabilities;
  canWrite: boolean;
  title: string;
}) {
  const navigate = useNavigate();
  const location = useLocation();
  const [history, setHistory] = useState<History>(() => start(stored));
  const definition = history.present;
  const [base, setBase] = useState(stored);
  const [offered, setOffered] = useState<Draft | undefined>(() => {
    const draft = loadDraft(workflowId);
    return draft && !same(draft.definition, stored) ? draft : undefined;
  });
  const [selection, setSelection] = useState<Selection>({ nodes: new Set(), edges: new Set() });
  const [panel, setPanel] = useState<Panel>("inspect");
  const [codeOpen, setCodeOpen] = useState(false);
  const [path, setPath] = useState<PathTaken>();
  // The sample payload last tested with, whose fields the side panel suggests.
  const [sample, setSample] = useState<unknown>(() => parseJson(loadPayload(workflowId) ?? "", true).value);
  // A new workflow's first deploy moves to its own address: the news comes along.
  const [deployed, setDeployed] = useState<string | undefined>(
    () => (location.state as { deployed?: string } | null)?.deployed,
  );
  const clipboard = useRef<Step[]>([]);
  const deploy = useDeploy(workflowId);
  const validation = useValidation(definition);
  const dirty = !same(definition, base);

  const edit = useCallback((next: Definition, merge?: string) => {
    setHistory((h) => change(h, next, merge));
    setPath(undefined);
  }, []);

  // The stored workflow changed under a canvas without unsaved changes (a rollback from History,
  // another person's deploy): the canvas follows it. Unsaved work is never replaced.
  useEffect(() => {
    if (same(stored, base) || dirty) return;
    setBase(stored);
    edit(stored);
    // Only a new stored workflow calls for this, not each edit of the canvas.
  }, [stored]);

  // The draft follows every unsaved change; deploying or going back to the stored version ends it.
  useEffect(() => {
    if (offered) return;
    const timer = setTimeout(() => (dirty ? saveDraft(workflowId, definition) : clearDraft(workflowId)), 300);
    return () => clearTimeout(timer);
  }, [definition, dirty, offered, workflowId]);

  const graph = useMemo(() => buildGraph(definition), [definition]);

  const { positions, setPositions, placed, laidOut, layoutError, arrange } = usePositions(graph);

  // Diagnostics by node, each with the field it points at.
  const problems = useMemo(() => {
    const byNode = new Map<string | undefined, Problem[]>();
    for (const detail of validation.data?.diagnostics ?? []) {
      const target = targetOf(definition, detail.path, TRIGGER_ID);
      const list = byNode.get(target.node) ?? [];
      list.push({ detail, ...(target.field ? { field: target.field } : {}) });
      byNode.set(target.node, list);
    }
    return byNode;
    // The diagnostics are of the definition they were asked for; mapping them onto the one
    // shown is right as long as the steps are the same, and they are asked again at once.
  }, [validation.data, definition]);

  const steps = useMemo(() => new Map(allSteps(definition).map((s) => [s.id, s])), [definition]);
  const nodeData = useMemo(() => {
    const data = new Map<string, BuilderNodeData>();
    for (const node of graph.nodes) {
      const list = problems.get(node.id) ?? [];
      data.set(node.id, {
        node,
        ports: node.kind === "trigger" ? ["next"] : portsOf(steps.get(node.id)),
        errors: list.filter((p) => p.detail.severity !== "warning").length,
        warnings: list.filter((p) => p.detail.severity === "warning").length,
        run: Boolean(path),
        ...(path?.steps.get(node.id) ? { visit: path.steps.get(node.id) } : {}),
      });
    }
    return data;
  }, [graph, problems, steps, path]);

  const selectedSteps = [...selection.nodes].filter((id) => id !== TRIGGER_ID);
  const single = selection.nodes.size === 1 ? [...selection.nodes][0] : undefined;

  const select = useCallback((ids: string[]) => {
    setSelection({ nodes: new Set(ids), edges: new Set() });
    setPanel("inspect");
  }, []);

  const add = useCallback(
    (type: string, at?: Point, edgeId?: string, group?: string) => {
      const id = newStepId(definition, type);
      const step = newStep(type, id, capabilities.actions);
      // Pressed rather than dropped: the step goes on after the selected one.
      const anchor = !at && single && single !== TRIGGER_ID ? single : undefined;
      const edge = graph.edges.find((e) => e.id === edgeId) ?? (at ? undefined : graph.edges.find((e) => e.source === anchor));
      let next: Definition;
      if (edge) next = insertOnEdge(definition, step, edge.source, edge.target);
      else if (group) next = addToGroup(definition, group, step);
      else if (anchor) next = connect(addStep(definition, step), anchor, portsOf(findStep(definition, anchor))[0] ?? "next", id, TRIGGER_ID);
      else next = addStep(definition, step);
      const place = at ?? freeSpot(placed.current, anchor ? placed.current.get(anchor) : undefined);
      setPositions((old) => new Map(old).set(id, place));
      edit(next);
      select([id]);
    },
    [definition, capabilities.actions, single, graph.edges, edit, select],
  );

  const remove = useCallback(() => {
    let next = removeSteps(definition, selectedSteps);
    for (const edgeId of selection.edges) {
      const edge = graph.edges.find((e) => e.id === edgeId);
      if (edge && edge.source !== TRIGGER_ID) next = disconnect(next, edge.source, edge.target);
    }
    if (next !== definition) edit(next);
    setSelection({ nodes: new Set(), edges: new Set() });
  }, [definition, selectedSteps, selection.edges, graph.edges, edit]);

  const paste = useCallback(
    (copied: Step[]) => {
      if (copied.length === 0) return;
      const result = pasteSteps(definition, copied);
      setPositions((old) => {
        const next = new Map(old);
        result.ids.forEach((id, i) => {
          const from = old.get(copied[i]!.id) ?? { x: 0, y: 0 };
          next.set(id, { x: from.x + 32, y: from.y + 32 });
        });
        return next;
      });
      edit(result.definition);
      select(result.ids);
    },
    [definition, edit, select],
  );

  const copySelected = useCallback(
    () => selectedSteps.map((id) => findStep(definition, id)).filter((s): s is Step => Boolean(s)),
    [definition, selectedSteps],
  );

  const onKeyDown = useCallback(
    (event: KeyboardEvent) => {
      const shortcut = shortcutOf(event);
      if (!shortcut) return;
      event.preventDefault();
      if (shortcut === "delete") remove();
      else if (shortcut === "undo" || shortcut === "redo") {
        setHistory(shortcut === "undo" ? undo : redo);
        setPath(undefined);
      } else if (shortcut === "select-all") setSelection({ nodes: new Set(graph.nodes.map((n) => n.id)), edges: new Set() });
      else if (shortcut === "copy") clipboard.current = copySelected();
      else if (shortcut === "paste") paste(clipboard.current);
      else paste(copySelected());
    },
    [remove, graph.nodes, copySelected, paste],
  );
  // Shortcuts work wherever the focus is on the page (the canvas, a button, nothing).
  useEffect(() => {
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [onKeyDown]);

  const onConnect = useCallback(
    (source: string, port: Port, target: string) => edit(connect(definition, source, port, target, TRIGGER_ID)),
    [definition, edit],
  );
  const onMove = useCallback((moves: Map<string, Point>) => {
    setPositions((old) => {
      const next = new Map(old);
      for (const [id, point] of moves) next.set(id, point);
      return next;
    });
  }, []);
  const onSelection = useCallback((next: Selection) => {
    setSelection(next);
    if (next.nodes.size === 1) setPanel("inspect");
  }, []);

  const fix = useCallback(
    (detail: Detail) => {
      const next = applyFix(definition, detail);
      if (next) edit(next);
    },
    [definition, edit],
  );

  const editStep = useCallback(
    (id: string, f: (step: Step) => Step, merge?: string) => edit(updateStep(definition, id, f), merge),
    [definition, edit],
  );
  const rename = useCallback(
    (from: string, to: string) => {
      setPositions((old) => {
        const next = new Map(old);
        const at = old.get(from);
        if (at) next.set(to, at);
        return next;
      });
      edit(renameStep(definition, from, to));
      select([to]);
    },
    [definition, edit, select],
  );
  const nodeProblems = useMemo(() => problems.get(single) ?? [], [problems, single]);

  /** A whole new definition (interpreted, an older version, the code view): laid out afresh. */
  const replace = useCallback(
    (next: Definition, merge?: string) => {
      edit(next, merge);
      if (!merge) setPositions(new Map());
    },
    [edit],
  );

  const onDeploy = () => {
    setDeployed(undefined);
    deploy.mutate(definition, {
      onSuccess: (result) => {
        setBase(definition);
        clearDraft(workflowId);
        setDeployed(`Deployed version ${result.version} of ${result.workflow_id}.`);
        if (!workflowId) {
          clearDraft(undefined);
          void navigate(`/workflows/${result.workflow_id}/edit`, {
            replace: true,
            state: { deployed: `Deployed version ${result.version} of ${result.workflow_id}.` },
          });
        }
      },
    });
  };

  const errors = (validation.data?.diagnostics ?? []).filter((d) => d.severity !== "warning").length;

  return (
    <div className="flex min-h-0 flex-col">
      <p className="mb-1 text-sm">
        <Link to="/workflows">Workflows</Link> <span aria-hidden="true">/</span>{" "}
        {workflowId ? (
          <>
            <Link to={`/workflows/${workflowId}`}>{workflowId}</Link> <span aria-hidden="true">/</span>
          </>
        ) : null}
      </p>
      <PageHeader title={title}>
        <span className="muted text-sm" role="status">
          {dirty ? "Unsaved changes" : version ? `Version ${version}` : ""}
        </span>
        <button type="button" className="btn" disabled={history.past.length === 0} onClick={() => setHistory(undo)}>
          Undo
        </button>
        <button type="button" className="btn" disabled={history.future.length === 0} onClick={() => setHistory(redo)}>
          Redo
        </button>
        <button type="button" className="btn" onClick={arrange}>
          Arrange
        </button>
        <button type="button" className="btn" aria-pressed={codeOpen} onClick={() => setCodeOpen((o) => !o)}>
          Code
        </button>
        {canWrite ? (
          <button type="button" className="btn btn-primary" disabled={deploy.isPending} onClick={onDeploy}>
            {deploy.isPending ? "Deploying…" : "Deploy"}
          </button>
        ) : null}
      </PageHeader>

      {offered ? (
        <div className="mb-3 flex flex-wrap items-center gap-2 rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sm dark:border-sky-800 dark:bg-sky-950/50">
          <span>
            You have unsaved changes from <DateTime value={offered.savedAt} />.
          </span>
          <button
            type="button"
            className="btn"
            onClick={() => {
              replace(offered.definition);
              setOffered(undefined);
            }}
          >
            Restore the draft
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => {
              clearDraft(workflowId);
              setOffered(undefined);
            }}
          >
            Discard the draft
          </button>
        </div>
      ) : null}
      <SuccessNotice>{deployed}</SuccessNotice>
      {deploy.isError ? (
        <div className="mb-3">
          <ErrorNotice error={deploy.error} what="deploy" />
        </div>
      ) : null}
      {deploy.data && deploy.data.warnings.length > 0 && deployed ? (
        <div className="mb-3">
          <WarningNotice details={deploy.data.warnings}>Deployed with warnings:</WarningNotice>
        </div>
      ) : null}
      {layoutError ? <ErrorNotice error={layoutError} what="lay out the canvas" /> : null}

      <div className="grid h-[calc(100vh-12rem)] min-h-[34rem] grid-cols-[11rem_minmax(0,1fr)_21rem] gap-3">
        <Palette capabilities={capabilities} onAdd={add} />
        <div className="flex min-h-0 min-w-0 gap-3">
          <div
            role="region"
            aria-label="Canvas"
            className="card min-h-0 min-w-0 flex-1 overflow-hidden"
          >
            {positions.size === 0 && !laidOut ? (
              <Loading label="Laying out the graph…" />
            ) : (
              <BuilderCanvas
                graph={graph}
                positions={positions}
                nodeData={nodeData}
                taken={path?.edges}
                selection={selection}
                onSelection={onSelection}
                onMove={onMove}
                onConnect={onConnect}
                onDrop={add}
              />
            )}
          </div>
          {codeOpen ? (
            <div className="card min-h-0 w-[46%] shrink-0 overflow-hidden">
              <CodeView definition={definition} onChange={(next) => replace(next, "code")} />
            </div>
          ) : null}
        </div>
        <aside aria-label="Side panel" className="card flex min-h-0 flex-col overflow-hidden">
          <div role="toolbar" aria-label="Panels" className="flex flex-wrap gap-1 border-b border-zinc-200 p-2 dark:border-zinc-800">
            {PANELS.map((p) => (
              <button
                key={p.id}
                type="button"
                className="btn px-2 py-0.5 text-xs"
                aria-pressed={panel === p.id}
                onClick={() => setPanel(p.id)}
              >
                {p.id === "problems" ? `Problems (${errors})` : p.label}
              </button>
            ))}
          </div>
          <div className="min-h-0 flex-1 overflow-y-auto p-3">
            {panel === "inspect" ? (
              <Inspector
                definition={definition}
                selected={single}
                capabilities={capabilities}
                problems={nodeProblems}
                onChange={edit}
                onEditStep={editStep}
                onRename={rename}
                onFix={fix}
                idEditable={!workflowId}
                sample={sample}
              />
            ) : null}
            {panel === "problems" ? (
              <ProblemsPanel
                validation={validation}
                problems={problems}
                onFix={fix}
                onFixAll={(fixed) => edit(fixed)}
                onShow={(node) => select([node])}
              />
            ) : null}
            {panel === "test" ? (
              <TestPanel workflowId={workflowId} definition={definition} graph={graph} onPath={setPath} onSample={setSample} />
            ) : null}
            {panel === "history" ? (
              workflowId ? (
                <HistoryPanel workflowId={workflowId} definition={definition} canWrite={canWrite} onLoad={(d) => replace(d)} />
              ) : (
                <p className="muted text-sm">A new workflow has no versions yet: deploy it first.</p>
              )
            ) : null}
            {panel === "describe" ? <DescribePanel onSuggest={(d) => replace(d)} /> : null}
          </div>
        </aside>
      </div>
    </div>
  );
}
