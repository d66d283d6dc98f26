// The no-code condition builder (docs/format.md §6): a comparison is a field, an operator and a
// value; groups hold "all of" or "any of" their items; "not" turns one around; they nest.
// Anything else (a rule reference) is edited as JSON.
import { SelectField } from "../../components/Field";
import { isRecord } from "./definition";
import { JsonValueField, NumberField, PathField, TemplateField } from "./fields";

/** Operators that compare nothing: the comparison has no `value`. */
const UNARY = new Set(["exists", "not_exists", "is_empty", "not_empty"]);
/** Operators whose value is a list or a pair. */
const LISTS = new Set(["in", "not_in", "between"]);
const NUMERIC = new Set(["gt", "gte", "lt", "lte"]);

type Props = {
  value: unknown;
  onChange: (value: unknown) => void;
  operators: string[];
  paths: string[];
  /** Where this item is in the tree ("1.2"), for the labels of nested items. */
  place?: string;
  error?: string | null;
};

function groupKey(c: Record<string, unknown>): "and" | "or" | "all" | "any" | undefined {
  return (["and", "or", "all", "any"] as const).find((k) => Array.isArray(c[k]));
}

const EMPTY_COMPARISON = { field: "", operator: "eq", value: "" };

export function ConditionBuilder(props: Props) {
  const { value, onChange, place } = props;
  const suffix = place ? ` of condition ${place}` : "";
  if (Array.isArray(value)) return <ConditionBuilder {...props} value={{ and: value }} />;
  if (!isRecord(value)) {
    return (
      <button type="button" className="btn" onClick={() => onChange(EMPTY_COMPARISON)}>
        Add a condition{suffix}
      </button>
    );
  }
  const group = groupKey(value);
  if (group) return <Group {...props} value={value} keyName={group} />;
  if ("not" in value) {
    return (
      <fieldset className="rounded border border-dashed border-zinc-300 p-2 dark:border-zinc-700">
        <legend className="px-1 text-xs font-semibold">Not{suffix}</legend>
        <ConditionBuilder {...props} value={value.not} place={place ? `${place}.1` : "1"} onChange={(c) => onChange({ not: c })} />
        <button type="button" className="btn mt-2" onClick={() => onChange(value.not)}>
          Remove not{suffix}
        </button>
      </fieldset>
    );
  }
  if ("field" in value || "operator" in value || "op" in value) return <Comparison {...props} value={value} />;
  return <JsonValueField label={`Condition${suffix}`} value={value} onChange={onChange} error={props.error} />;
}

function Comparison({ value, onChange, operators, paths, place, error }: Props & { value: Record<string, unknown> }) {
  const suffix = place ? ` of condition ${place}` : "";
  const operator = typeof value.operator === "string" ? value.operator : typeof value.op === "string" ? value.op : "eq";
  const set = (patch: Record<string, unknown>) => {
    const next: Record<string, unknown> = { ...value, ...patch };
    delete next.op;
    next.operator = patch.operator ?? operator;
    if (UNARY.has(next.operator as string)) delete next.value;
    onChange(next);
  };
  return (
    <div className="space-y-2">
      <PathField
        label={`Field${suffix}`}
        value={typeof value.field === "string" ? value.field : ""}
        paths={paths}
        error={error}
        onChange={(field) => set({ field })}
      />
      <SelectField label={`Operator${suffix}`} value={operator} onChange={(e) => set({ operator: e.target.value })}>
        {(operators.includes(operator) ? operators : [operator, ...operators]).map((op) => (
          <option key={op} value={op}>
            {op}
          </option>
        ))}
      </SelectField>
      {UNARY.has(operator) ? null : LISTS.has(operator) ? (
        <JsonValueField
          label={`Value${suffix}`}
          hint={operator === "between" ? "JSON: [low, high]" : 'JSON list: ["gold", "platinum"]'}
          rows={2}
          value={value.value}
          onChange={(v) => set({ value: v })}
        />
      ) : NUMERIC.has(operator) || typeof value.value === "number" ? (
        <NumberField label={`Value${suffix}`} value={value.value} onChange={(v) => set({ value: v })} />
      ) : (
        <TemplateField
          label={`Value${suffix}`}
          paths={paths}
          hint="Text, or {{a path}} to compare with another field."
          value={typeof value.value === "string" ? value.value : value.value === undefined ? "" : JSON.stringify(value.value)}
          onChange={(v) => set({ value: v })}
        />
      )}
    </div>
  );
}

function Group({
  value,
  onChange,
  keyName,
  place,
  ...rest
}: Props & { value: Record<string, unknown>; keyName: "and" | "or" | "all" | "any" }) {
  const items = value[keyName] as unknown[];
  const suffix = place ? ` of condition ${place}` : "";
  const all = keyName === "and" || keyName === "all";
  const setItems = (next: unknown[]) => onChange({ [all ? "and" : "or"]: next });
  return (
    <fieldset className="rounded border border-zinc-300 p-2 dark:border-zinc-700">
      <legend className="px-1 text-xs font-semibold">Group{suffix}</legend>
      <SelectField
        label={`Match${suffix}`}
        value={all ? "and" : "or"}
        onChange={(e) => onChange({ [e.target.value]: items })}
      >
        <option value="and">all of these</option>
        <option value="or">any of these</option>
      </SelectField>
      <ol className="mt-2 space-y-2">
        {items.map((item, i) => {
          const at = place ? `${place}.${i + 1}` : `${i + 1}`;
          return (
            <li key={i} className="rounded bg-zinc-50 p-2 dark:bg-zinc-800/50">
              <ConditionBuilder
                {...rest}
                value={item}
                place={at}
                onChange={(c) => setItems(items.map((x, j) => (j === i ? c : x)))}
              />
              <div className="mt-2 flex flex-wrap gap-2">
                <button type="button" className="btn" onClick={() => setItems(items.map((x, j) => (j === i ? { not: x } : x)))}>
                  Negate condition {at}
                </button>
                <button type="button" className="btn" onClick={() => setItems(items.filter((_, j) => j !== i))}>
                  Remove condition {at}
                </button>
              </div>
            </li>
          );
        })}
      </ol>
      <div className="mt-2 flex flex-wrap gap-2">
        <button type="button" className="btn" onClick={() => setItems([...items, EMPTY_COMPARISON])}>
          Add a comparison{suffix}
        </button>
        <button type="button" className="btn" onClick={() => setItems([...items, { and: [EMPTY_COMPARISON] }])}>
          Add a group{suffix}
        </button>
        {items.length === 1 ? (
          <button type="button" className="btn" onClick={() => onChange(items[0])}>
            Ungroup{suffix}
          </button>
        ) : null}
      </div>
    </fieldset>
  );
}

/** Wraps a condition in a group, to add a second comparison beside it. */
export function grouped(condition: unknown): unknown {
  if (isRecord(condition) && groupKey(condition)) return condition;
  return { and: condition === undefined ? [EMPTY_COMPARISON] : [condition, EMPTY_COMPARISON] };
}
