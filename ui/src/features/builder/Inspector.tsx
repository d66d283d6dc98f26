// The side panel: the selected step's fields (common ones, its type's, an action's config from
// its JSON Schema, conditions with the no-code builder), the trigger's, or the workflow's when
// nothing is selected. Each field shows what the validator says about it, with its fix.
import { memo, useEffect, useState } from "react";

import type { Detail } from "../../api/types";
import { SelectField, TextField } from "../../components/Field";
import { TRIGGER_ID } from "../graph/model";
import type { Capabilities } from "./api";
import { ConditionBuilder, grouped } from "./ConditionBuilder";
import { allSteps, type Definition, findStep, isRecord, siblingsOf, type Step, triggerOf } from "./definition";
import { JsonValueField, PathField, TargetField, TemplateField } from "./fields";
import { contextPaths } from "./context";
import { SchemaForm } from "./SchemaForm";

/** A diagnostic with the field of its node it points at. */
export type Problem = { detail: Detail; field?: string };

export type InspectorProps = {
  definition: Definition;
  selected?: string;
  capabilities: Capabilities;
  problems: Problem[];
  /** A new definition; `merge` folds quick successive edits of one field into one undo step. */
  onChange: (definition: Definition, merge?: string) => void;
  onEditStep: (id: string, change: (step: Step) => Step, merge?: string) => void;
  onRename: (from: string, to: string) => void;
  onFix: (detail: Detail) => void;
  /** Whether the workflow's id may change (a new workflow; a stored one keeps its id). */
  idEditable: boolean;
  /** The sample payload last tested with: its fields are suggested too. */
  sample?: unknown;
};

const ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** Memoized: the page re-renders on every frame of a drag, the panel need not. */
export const Inspector = memo(function Inspector(props: InspectorProps) {
  const { selected, definition } = props;
  if (selected === TRIGGER_ID) return <TriggerPanel {...props} />;
  const step = selected ? findStep(definition, selected) : undefined;
  if (step) return <StepPanel key={step.id} {...props} step={step} />;
  return <WorkflowPanel {...props} />;
});

function Problems({ problems, onFix }: { problems: Problem[]; onFix: (detail: Detail) => void }) {
  if (problems.length === 0) return null;
  return (
    <ul aria-label="Problems here" className="mb-3 space-y-2 text-sm">
      {problems.map(({ detail }, i) => (
        <li
          key={i}
          className={`rounded border px-2 py-1 ${
            detail.severity === "warning"
              ? "border-amber-300 bg-amber-50 text-amber-950 dark:border-amber-800 dark:bg-amber-950/50 dark:text-amber-100"
              : "border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950/60 dark:text-red-200"
          }`}
        >
          {detail.severity === "warning" ? "Warning: " : ""}
          {detail.message}
          {detail.fix ? (
            <button type="button" className="btn mt-1 block" onClick={() => onFix(detail)}>
              Apply fix: {detail.fix.description}
            </button>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/** The message of the first problem at a field, for that field's error line. */
function errorAt(problems: Problem[], field: string): string | undefined {
  return problems.find((p) => p.field === field)?.detail.message;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value);
}

function StepPanel({ step, capabilities, definition, problems, onEditStep, onRename, onFix, sample }: InspectorProps & { step: Step }) {
  const paths = contextPaths(capabilities, definition, step.id, sample);
  // Targets name a step of the same list; ids must differ from every step's.
  const others = siblingsOf(definition, step.id);
  const taken = allSteps(definition)
    .map((s) => s.id)
    .filter((id) => id !== step.id);
  const set = (field: string, value: unknown, merge = true) =>
    onEditStep(
      step.id,
      (s) => {
        const next = { ...s };
        if (value === undefined || value === "") delete next[field];
        else next[field] = value;
        return next;
      },
      merge ? `${step.id}.${field}` : undefined,
    );
  const type = typeof step.type === "string" ? step.type : "";
  const action = capabilities.actions.find((a) => a.name === type);
  const configErrors = new Map(
    problems.flatMap((p) => (p.field?.startsWith("config.") ? [[p.field.slice(7), p.detail.message] as const] : [])),
  );
  const target = (field: string, label = field) => (
    <TargetField label={label} value={step[field]} steps={others} error={errorAt(problems, field)} onChange={(t) => set(field, t, false)} />
  );
  const template = (field: string) => (
    <TemplateField label={field} value={text(step[field])} paths={paths} error={errorAt(problems, field)} onChange={(v) => set(field, v)} />
  );
  const plain = (field: string, hint?: string) => (
    <TextField label={field} hint={hint} value={text(step[field])} error={errorAt(problems, field)} onChange={(e) => set(field, e.target.value)} />
  );

  return (
    <section aria-label={`Step ${step.id}`} className="space-y-3">
      <h2 className="text-base font-semibold">
        Step <span className="mono">{step.id}</span> <span className="muted text-sm font-normal">{type}</span>
      </h2>
      <Problems problems={problems} onFix={onFix} />
      <StepId id={step.id} taken={taken} onRename={(to) => onRename(step.id, to)} />
      {plain("name")}
      {type === "condition" ? (
        <>
          <fieldset className="space-y-2">
            <legend className="label">Condition</legend>
            <ConditionBuilder
              value={step.condition}
              operators={capabilities.operators}
              paths={paths}
              error={errorAt(problems, "condition")}
              onChange={(c) => set("condition", c)}
            />
            <button type="button" className="btn" onClick={() => set("condition", grouped(step.condition), false)}>
              Add another comparison
            </button>
          </fieldset>
          {target("on_true", "on_true (when it holds)")}
          {target("on_false", "on_false (when it does not)")}
        </>
      ) : null}
      {type === "action" ? (
        <>
          <SelectField label="action" value={text(step.action)} onChange={(e) => set("action", e.target.value, false)}>
            {capabilities.action_types.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </SelectField>
          {template("reason")}
          {step.action === "execute" ? (
            <JsonValueField label="execute" value={step.execute} error={errorAt(problems, "execute")} onChange={(v) => set("execute", v)} />
          ) : null}
        </>
      ) : null}
      {type === "approval" ? (
        <>
          {plain("approver_role", "A team of this environment, e.g. sales_manager.")}
          {plain("entity")}
          {template("entity_id")}
          {template("message")}
          {plain("timeout", "A duration: 30m, 24h, 7d.")}
          {target("on_approve")}
          {target("on_reject")}
          {target("on_timeout")}
        </>
      ) : null}
      {type === "wait" ? (
        <>
          {plain("event")}
          {plain("timeout", "A duration: 30m, 24h, 7d.")}
          {target("on_timeout")}
        </>
      ) : null}
      {type === "delay" ? plain("duration", "A duration: 30s, 15m, 1h.") : null}
      {type === "switch" ? (
        <>
          {template("value")}
          <JsonValueField
            label="cases"
            hint='JSON: [{"when": "eu", "next": "eu_flow"}, …]'
            value={step.cases}
            error={errorAt(problems, "cases")}
            onChange={(v) => set("cases", v)}
          />
          {target("default")}
        </>
      ) : null}
      {type === "parallel" ? (
        <SelectField label="strategy" value={text(step.strategy) || "all"} onChange={(e) => set("strategy", e.target.value, false)}>
          {["all", "any", "first", "all_must_pass"].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </SelectField>
      ) : null}
      {type === "foreach" ? (
        <>
          {template("items")}
          {plain("as")}
        </>
      ) : null}
      {type === "subworkflow" ? plain("workflow_id") : null}
      {type === "set" ? (
        <JsonValueField label="variables" value={step.variables} error={errorAt(problems, "variables")} onChange={(v) => set("variables", v)} />
      ) : null}
      {action ? (
        <fieldset className="space-y-2">
          <legend className="label">Config of {type}</legend>
          <SchemaForm
            schema={action.config_schema}
            value={step.config}
            paths={paths}
            errors={configErrors}
            onChange={(config) => onEditStep(step.id, (s) => ({ ...s, config }), `${step.id}.config`)}
          />
        </fieldset>
      ) : null}
      {step.action === "allow" || step.action === "block" ? null : target("next")}
      <details>
        <summary className="cursor-pointer text-sm">Edit the step as JSON</summary>
        <JsonValueField
          label="Step"
          rows={10}
          value={step}
          onChange={(v) => {
            if (isRecord(v)) onEditStep(step.id, () => ({ ...v, id: step.id }), `${step.id}.json`);
          }}
        />
      </details>
    </section>
  );
}

/** The step's id: applied on Enter or when leaving the field, if it is a free, valid id. */
function StepId({ id, taken, onRename }: { id: string; taken: string[]; onRename: (to: string) => void }) {
  const [value, setValue] = useState(id);
  useEffect(() => setValue(id), [id]);
  const error = !ID.test(value)
    ? "Letters, digits, _, - and . only (at most 128)."
    : value !== id && taken.includes(value)
      ? `Another step is ${value}.`
      : undefined;
  const apply = () => {
    if (!error && value !== id) onRename(value);
  };
  return (
    <TextField
      label="id"
      hint="Renaming updates every step that goes here."
      value={value}
      error={error}
      onChange={(e) => setValue(e.target.value)}
      onBlur={apply}
      onKeyDown={(e) => {
        if (e.key === "Enter") apply();
      }}
    />
  );
}

const TRIGGER_TYPES = ["event", "schedule", "webhook", "manual", "api"];

function TriggerPanel({ definition, capabilities, problems, onChange, onFix, sample }: InspectorProps) {
  const trigger = triggerOf(definition) ?? {};
  const paths = contextPaths(capabilities, definition, undefined, sample);
  const set = (field: string, value: unknown, merge = true) => {
    const next: Record<string, unknown> = { ...trigger };
    if (value === undefined || value === "") delete next[field];
    else next[field] = value;
    const draft = structuredClone(definition);
    if (Array.isArray(draft.triggers) && draft.triggers.length > 0) draft.triggers[0] = next;
    else draft.trigger = next;
    onChange(draft, merge ? `trigger.${field}` : undefined);
  };
  const events = [
    ...new Set([
      ...capabilities.seen_events.map((e) => e.event_type),
      ...Object.values(capabilities.entities).flatMap((e) => e.events),
    ]),
  ].sort();
  const type = text(trigger.type) || "event";
  return (
    <section aria-label="Trigger" className="space-y-3">
      <h2 className="text-base font-semibold">Trigger</h2>
      <Problems problems={problems} onFix={onFix} />
      {Array.isArray(definition.triggers) && definition.triggers.length > 1 ? (
        <p className="muted text-sm">This workflow has {definition.triggers.length} triggers: the first is edited here, the others in the code view.</p>
      ) : null}
      <SelectField label="Trigger type" value={type} onChange={(e) => set("type", e.target.value, false)}>
        {TRIGGER_TYPES.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </SelectField>
      {type === "event" ? (
        <PathField
          label="Event type"
          hint="e.g. order.checkout.initiated; order.* matches by prefix."
          paths={events}
          value={text(trigger.event)}
          error={errorAt(problems, "event")}
          onChange={(v) => set("event", v)}
        />
      ) : null}
      {type === "schedule" ? (
        <>
          <TextField label="cron" hint="e.g. 0 9 * * MON-FRI" value={text(trigger.cron)} error={errorAt(problems, "cron")} onChange={(e) => set("cron", e.target.value)} />
          <TextField label="timezone" hint="e.g. Europe/Paris" value={text(trigger.timezone)} onChange={(e) => set("timezone", e.target.value)} />
        </>
      ) : null}
      <fieldset className="space-y-2">
        <legend className="label">Start only when</legend>
        {trigger.conditions === undefined && trigger.condition === undefined ? (
          <button type="button" className="btn" onClick={() => set("conditions", { field: "", operator: "eq", value: "" }, false)}>
            Add a trigger condition
          </button>
        ) : (
          <>
            <ConditionBuilder
              value={trigger.conditions ?? trigger.condition}
              operators={capabilities.operators}
              paths={paths}
              onChange={(c) => set(trigger.conditions !== undefined ? "conditions" : "condition", c)}
            />
            <button
              type="button"
              className="btn"
              onClick={() => {
                const next = { ...trigger };
                delete next.conditions;
                delete next.condition;
                const draft = structuredClone(definition);
                if (Array.isArray(draft.triggers) && draft.triggers.length > 0) draft.triggers[0] = next;
                else draft.trigger = next;
                onChange(draft);
              }}
            >
              Remove the trigger condition
            </button>
          </>
        )}
      </fieldset>
    </section>
  );
}

function WorkflowPanel({ definition, problems, onChange, onFix, idEditable }: InspectorProps) {
  const set = (field: string, value: string) => {
    const next = { ...definition };
    if (value === "") delete next[field];
    else next[field] = value;
    onChange(next, `workflow.${field}`);
  };
  const id = text(definition.workflow_id ?? definition.id);
  return (
    <section aria-label="Workflow" className="space-y-3">
      <h2 className="text-base font-semibold">Workflow</h2>
      <p className="muted text-sm">Select a step or the trigger on the canvas to edit it.</p>
      <Problems problems={problems} onFix={onFix} />
      {idEditable ? (
        <TextField
          label="Workflow id"
          value={id}
          error={id !== "" && !ID.test(id) ? "Letters, digits, _, - and . only (at most 128)." : errorAt(problems, "workflow_id")}
          onChange={(e) => set("workflow_id", e.target.value)}
        />
      ) : (
        <p className="text-sm">
          Workflow id <span className="mono">{id}</span>
        </p>
      )}
      <TextField label="Name" value={text(definition.name)} error={errorAt(problems, "name")} onChange={(e) => set("name", e.target.value)} />
      <TextField
        label="Description"
        value={text(definition.description)}
        onChange={(e) => set("description", e.target.value)}
      />
    </section>
  );
}
