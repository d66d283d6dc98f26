// A JSON value written as YAML, for exporting definitions. Only what JSON holds (objects,
// arrays, strings, numbers, booleans, null), so no tags or anchors: block style, two-space
// indentation, strings plain where YAML reads them back as the same string and double-quoted
// (JSON's escapes are YAML's) otherwise, multi-line strings as literal blocks.

/** YAML 1.1 and 1.2 words that a plain scalar would turn into something other than a string. */
const RESERVED = /^(?:true|false|yes|no|y|n|on|off|null|~|\.nan|\.inf|-\.inf|\+\.inf)$/i;
/** Plain scalars: no indicator first, no `: ` or ` #` inside, no space at either end. */
const PLAIN = /^[A-Za-z0-9_/$.(][A-Za-z0-9_ ./$()@+'\-,]*$/;
const NUMBER_LIKE = /^[-+]?(?:\d[\d_]*)?(?:\.\d*)?(?:[eE][-+]?\d+)?$|^0x[0-9a-fA-F_]+$|^0o[0-7_]+$|^0b[01_]+$/;

function isPlain(text: string): boolean {
  return (
    text.length > 0 &&
    PLAIN.test(text) &&
    !text.endsWith(" ") &&
    !RESERVED.test(text) &&
    !NUMBER_LIKE.test(text) &&
    // A time or a sexagesimal number in YAML 1.1 (`1:30`) cannot occur: `:` is not allowed.
    !/^\d{4}-\d\d-\d\d/.test(text)
  );
}

function scalar(value: string | number | boolean | null): string {
  if (value === null) return "null";
  if (typeof value !== "string") return String(value);
  return isPlain(value) ? value : JSON.stringify(value);
}

/** A literal block (`|`) keeps a multi-line string readable; only for text it can hold exactly. */
function literalBlock(text: string, indent: string): string | null {
  if (!text.includes("\n")) return null;
  // Control characters (other than newline), a tab or space first, or trailing spaces on a
  // line need the quoted form to survive.
  if (/[\u0000-\u0009\u000b-\u001f\u007f\u2028\u2029\ufeff]/.test(text)) return null;
  if (/^[ \n]/.test(text) || / \n/.test(text) || text.endsWith(" ")) return null;
  const body = text.replace(/\n+$/, "");
  const trailing = text.length - body.length;
  const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  const lines = (trailing > 1 ? text.slice(0, -1) : body).split("\n");
  return `|${chomp}\n${lines.map((line) => (line ? indent + line : "")).join("\n")}`;
}

function key(name: string): string {
  return isPlain(name) ? name : JSON.stringify(name);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/** The text after `key:` or `-`: a scalar on the same line, or a nested block on the next. */
function after(value: unknown, indent: string): string {
  if (Array.isArray(value) && value.length === 0) return " []";
  if (isObject(value) && Object.keys(value).length === 0) return " {}";
  if (typeof value === "string") {
    const block = literalBlock(value, indent + "  ");
    if (block) return ` ${block}`;
  }
  if (isScalar(value)) return ` ${scalar(value)}`;
  return `\n${lines(value, indent + "  ")}`;
}

function lines(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    return value
      .map((item) => {
        if (isObject(item) && Object.keys(item).length > 0) {
          // The first key on the dash's line, the others aligned with it.
          const nested = lines(item, indent + "  ");
          return `${indent}- ${nested.slice(indent.length + 2)}`;
        }
        if (Array.isArray(item) && item.length > 0) {
          return `${indent}-\n${lines(item, indent + "  ")}`;
        }
        return `${indent}-${after(item, indent)}`;
      })
      .join("\n");
  }
  if (isObject(value)) {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${indent}${key(k)}:${after(v, indent)}`)
      .join("\n");
  }
  return `${indent}${scalar(value as string | number | boolean | null)}`;
}

export function toYaml(value: unknown): string {
  if (isScalar(value) || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0)) {
    return `${after(value, "").trimStart()}\n`;
  }
  return `${lines(value, "")}\n`;
}
