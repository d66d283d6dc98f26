// Testing the workflow on the canvas as it is: a sample payload (remembered per workflow, or
// the newest real event of the trigger's type), the outcome to assume for approvals, results to
// assume for action steps; the dry run's path is lit on the canvas and each step says what it
// compared and what it was given.
import { useState } from "react";

import { SelectField, TextField } from "../../components/Field";
import { JsonField, parseJson, useJsonText } from "../../components/JsonField";
import { ErrorNotice } from "../../components/Notice";
import type { WorkflowGraph } from "../graph/model";
import type { PathTaken } from "../graph/path";
import { type DryRunRequest, latestEvent, useDryRun } from "./api";
import { type Definition, triggerEvents } from "./definition";
import { loadPayload, savePayload } from "./draft";
import { dryRunPath, dryRunSteps } from "./testRun";

const APPROVALS = ["", "approve", "reject", "timeout"] as const;

export function TestPanel({
  workflowId,
  definition,
  graph,
  onPath,
  onSample,
}: {
  workflowId?: string;
  definition: Definition;
  graph: WorkflowGraph;
  onPath: (path: PathTaken | undefined) => void;
  /** The payload a test ran with, remembered for this workflow (its fields become suggestions). */
  onSample: (payload: unknown) => void;
}) {
  const events = triggerEvents(definition).filter((e) => !e.includes("*"));
  const [eventType, setEventType] = useState(events[0] ?? "");
  // The payload last tested with (read on every render, used by the first).
  const payload = useJsonText(parseJson(loadPayload(workflowId) ?? "{}", true).value ?? {});
  const mocks = useJsonText({});
  const [approval, setApproval] = useState<(typeof APPROVALS)[number]>("");
  const [sampleError, setSampleError] = useState<unknown>();
  const run = useDryRun();

  const useRecent = async () => {
    setSampleError(undefined);
    try {
      const event = await latestEvent(eventType);
      if (!event) setSampleError(new Error(`No ${eventType} event was received lately.`));
      else payload.setText(JSON.stringify(event.payload, null, 2));
    } catch (e) {
      setSampleError(e);
    }
  };

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (!payload.check() || !mocks.check()) return;
    savePayload(workflowId, payload.text);
    onSample(payload.value);
    const request: DryRunRequest = {
      workflow: definition,
      payload: payload.value as Record<string, unknown>,
      ...(eventType ? { event_type: eventType } : {}),
      ...(approval ? { approval } : {}),
      ...(mocks.value && Object.keys(mocks.value as object).length > 0 ? { mocks: mocks.value as Record<string, unknown> } : {}),
    };
    run.mutate(request, { onSuccess: (result) => onPath(dryRunPath(graph, result)) });
  };

  const result = run.data;
  return (
    <section aria-label="Test" className="space-y-3 text-sm">
      <h2 className="text-base font-semibold">Test</h2>
      <p className="muted">A dry run: nothing is sent, stored or deployed.</p>
      <form onSubmit={submit} className="space-y-3" noValidate>
        <TextField label="Event type" value={eventType} onChange={(e) => setEventType(e.target.value)} list="builder-events" />
        <datalist id="builder-events">
          {events.map((e) => (
            <option key={e} value={e} />
          ))}
        </datalist>
        <JsonField json={payload} label="Sample payload" rows={8} />
        <button type="button" className="btn" disabled={!eventType} onClick={() => void useRecent()}>
          Use the latest {eventType || "event"}
        </button>
        {sampleError ? <ErrorNotice error={sampleError} what="load a recent event" /> : null}
        <SelectField
          label="Approvals"
          value={approval}
          onChange={(e) => setApproval(e.target.value as (typeof APPROVALS)[number])}
        >
          <option value="">stop and wait</option>
          <option value="approve">assume approved</option>
          <option value="reject">assume rejected</option>
          <option value="timeout">assume timed out</option>
        </SelectField>
        <JsonField
          json={mocks}
          label="Mocks"
          rows={3}
          hint='Results of action steps by step id, e.g. {"score": {"status": 200, "body": {"risk": "low"}}}'
        />
        <button type="submit" className="btn btn-primary" disabled={run.isPending}>
          {run.isPending ? "Running…" : "Run the test"}
        </button>
      </form>
      {run.isError ? <ErrorNotice error={run.error} what="run the test" /> : null}
      {result ? (
        <div aria-label="Test result" role="region" className="space-y-2">
          <p role="status" className="font-semibold">
            {!result.matched
              ? "The trigger did not match: nothing would run."
              : `Decision: ${result.decision}${result.reason ? ` — ${result.reason}` : ""} (${result.status})`}
          </p>
          {result.error ? <p className="text-red-700 dark:text-red-400">{result.error}</p> : null}
          <ol className="space-y-2">
            {dryRunSteps(result).map((step, i) => (
              <li key={i} className="rounded border border-zinc-200 p-2 dark:border-zinc-700">
                <div>
                  <span className="mono font-semibold">{step.step_id}</span> {step.type} · {step.status}
                  {step.next ? <> → <span className="mono">{step.next}</span></> : null}
                </div>
                {step.condition !== undefined ? <Compared value={step.condition} /> : null}
                {step.input !== undefined ? <Shown label="Input" value={step.input} /> : null}
                {step.would ? <p className="muted">{step.would}</p> : null}
                {step.error ? <p className="text-red-700 dark:text-red-400">{step.error}</p> : null}
              </li>
            ))}
          </ol>
          <button type="button" className="btn" onClick={() => onPath(undefined)}>
            Clear the path
          </button>
        </div>
      ) : null}
    </section>
  );
}

/** A condition's evaluation: each comparison with the value found and the one expected. */
function Compared({ value }: { value: unknown }) {
  const v = value as { field?: string; operator?: string; actual?: unknown; expected?: unknown; result?: unknown };
  if (typeof v.field === "string") {
    return (
      <p className="mono mt-1">
        {v.field} = {JSON.stringify(v.actual)} {v.operator} {JSON.stringify(v.expected)} → {String(v.result)}
      </p>
    );
  }
  return <Shown label="Compared" value={value} />;
}

function Shown({ label, value }: { label: string; value: unknown }) {
  return (
    <details className="mt-1">
      <summary className="cursor-pointer">{label}</summary>
      <pre className="mono overflow-x-auto whitespace-pre-wrap">{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

