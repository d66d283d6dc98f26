// An action's config as a form, generated from its JSON Schema (the capabilities' config_schema):
// one labelled field per property, named after it: text (with template suggestions), numbers,
// booleans, choices from an enum, lists of strings, and anything else as JSON.
import { SelectField } from "../../components/Field";
import { isRecord } from "./definition";
import { JsonValueField, NumberField, StringListField, TemplateField } from "./fields";

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  description?: string;
};

function typeOf(schema: Schema): string | undefined {
  return Array.isArray(schema.type) ? (schema.type.length === 1 ? schema.type[0] : undefined) : schema.type;
}

export function SchemaForm({
  schema,
  value,
  onChange,
  paths,
  errors,
}: {
  schema: unknown;
  value: unknown;
  onChange: (config: Record<string, unknown>) => void;
  paths: string[];
  /** Messages by property, from the validator. */
  errors: Map<string, string>;
}) {
  const s = (isRecord(schema) ? schema : {}) as Schema;
  const config = isRecord(value) ? value : {};
  const required = new Set(s.required ?? []);
  const set = (name: string, v: unknown) => {
    const next = { ...config };
    if (v === undefined || v === "") delete next[name];
    else next[name] = v;
    onChange(next);
  };
  const properties = Object.entries(s.properties ?? {});
  if (properties.length === 0) {
    return <JsonValueField label="config" value={config} onChange={(v) => onChange(isRecord(v) ? v : {})} />;
  }
  return (
    <div className="space-y-3">
      {properties.map(([name, prop]) => {
        const label = required.has(name) ? `${name} (required)` : name;
        const error = errors.get(name);
        const current = config[name];
        const type = typeOf(prop);
        if (prop.enum) {
          return (
            <SelectField
              key={name}
              label={label}
              error={error}
              value={typeof current === "string" ? current : ""}
              onChange={(e) => set(name, e.target.value || undefined)}
            >
              <option value="">(not set)</option>
              {prop.enum.map((option) => (
                <option key={String(option)} value={String(option)}>
                  {String(option)}
                </option>
              ))}
            </SelectField>
          );
        }
        if (type === "string" && (current === undefined || typeof current === "string")) {
          return (
            <TemplateField
              key={name}
              label={label}
              error={error}
              paths={paths}
              value={current ?? ""}
              onChange={(v) => set(name, v)}
            />
          );
        }
        if ((type === "number" || type === "integer") && (current === undefined || typeof current !== "object")) {
          return <NumberField key={name} label={label} error={error} value={current} onChange={(v) => set(name, v)} />;
        }
        if (type === "boolean" && (current === undefined || typeof current === "boolean")) {
          return (
            <label key={name} className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={current === true} onChange={(e) => set(name, e.target.checked)} />
              {label}
              {error ? <span className="text-xs text-red-700 dark:text-red-400">{error}</span> : null}
            </label>
          );
        }
        if (type === "array" && typeOf(prop.items ?? {}) === "string" && (current === undefined || Array.isArray(current))) {
          return <StringListField key={name} label={label} error={error} value={current} onChange={(v) => set(name, v.length ? v : undefined)} />;
        }
        return <JsonValueField key={name} label={label} error={error} value={current} onChange={(v) => set(name, v)} />;
      })}
    </div>
  );
}
