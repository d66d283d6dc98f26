//! Templates: `{{path}}` inside strings, type-preserving whole-value templates, and the helpers
//! `{{now}}`, `{{now-30d}}`, `{{today}}`, `{{today+2}}`, `{{uuid}}` and `{{secrets.NAME}}`.
//!
//! This is deliberately not a general template language (no loops, filters or code): a template
//! is a list of literal text and lookups, compiled once when a definition is parsed, so rendering
//! a step's config costs a few hundred nanoseconds and can never run away.

use std::fmt::Write as _;

use chrono::{Duration as ChronoDuration, SecondsFormat};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::duration::Duration;
use crate::env::Env;
use crate::path::FieldPath;

/// What a secret renders as wherever a trace or log could show it.
pub const REDACTED: &str = "***";

/// How many bytes of context values one rendering may copy. A small definition can name a large
/// field many times; past this budget rendering stops and reports it, instead of exhausting
/// memory.
pub const MAX_RENDER_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Path(FieldPath),
    Now(i64),
    Today(i64),
    Uuid,
    Secret(String),
}

/// Whether secrets are revealed (to perform an action) or redacted (for traces and dry-runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    Reveal,
    Redact,
}

/// What rendering noticed: unknown paths and the secrets it touched.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RenderTrace {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_paths: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets_used: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_secrets: Vec<String>,
    /// Rendering copied more than [`MAX_RENDER_BYTES`]; what is left out rendered as null.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub over_budget: bool,
    /// Bytes of context values copied so far.
    #[serde(skip)]
    pub spent: usize,
}

impl RenderTrace {
    pub fn is_empty(&self) -> bool {
        self.missing_paths.is_empty()
            && self.secrets_used.is_empty()
            && self.missing_secrets.is_empty()
            && !self.over_budget
    }

    /// Charges `bytes` to the budget; false once it is spent.
    fn charge(&mut self, bytes: usize) -> bool {
        self.spent = self.spent.saturating_add(bytes);
        if self.spent > MAX_RENDER_BYTES {
            self.over_budget = true;
        }
        !self.over_budget
    }

    fn note(list: &mut Vec<String>, item: &str) {
        if !list.iter().any(|x| x == item) {
            list.push(item.to_owned());
        }
    }

    pub fn merge(&mut self, other: RenderTrace) {
        self.spent = self.spent.saturating_add(other.spent);
        self.over_budget |= other.over_budget;
        for p in other.missing_paths {
            Self::note(&mut self.missing_paths, &p);
        }
        for p in other.secrets_used {
            Self::note(&mut self.secrets_used, &p);
        }
        for p in other.missing_secrets {
            Self::note(&mut self.missing_secrets, &p);
        }
    }
}

/// Whether a string contains template syntax at all.
pub fn is_templated(text: &str) -> bool {
    text.contains("{{")
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("'{text}' has '{{{{' without a closing '}}}}'"))?;
            let inner = after[..close].trim();
            parts.push(Part::Expr(
                parse_expr(inner).map_err(|e| format!("in '{text}': {e}"))?,
            ));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// A template that is exactly one `{{…}}` keeps the JSON type of what it names.
    pub fn is_whole_value(&self) -> bool {
        matches!(self.parts.as_slice(), [Part::Expr(_)])
    }

    /// The context paths this template reads.
    pub fn paths(&self) -> impl Iterator<Item = &FieldPath> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(Expr::Path(path)) => Some(path),
            _ => None,
        })
    }

    /// Whether this template reads a secret.
    pub fn names_secret(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Expr(Expr::Secret(_))))
    }

    /// Renders to a JSON value: the named value itself for a whole-value template, a string
    /// otherwise. Unknown paths give null (whole value) or "" (in text) and are traced.
    pub fn render(
        &self,
        ctx: &Value,
        env: &Env<'_>,
        secrets: Secrets,
        trace: &mut RenderTrace,
    ) -> Value {
        if let [Part::Expr(expr)] = self.parts.as_slice() {
            return eval_expr(expr, ctx, env, secrets, trace);
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(expr) => match eval_expr(expr, ctx, env, secrets, trace) {
                    Value::Null => {}
                    Value::String(s) => out.push_str(&s),
                    Value::Bool(b) => {
                        let _ = write!(out, "{b}");
                    }
                    Value::Number(n) => {
                        let _ = write!(out, "{n}");
                    }
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Value::String(out)
    }
}

fn parse_expr(inner: &str) -> Result<Expr, String> {
    if inner.is_empty() {
        return Err("empty '{{}}'".into());
    }
    if inner == "uuid" {
        return Ok(Expr::Uuid);
    }
    if let Some(name) = inner.strip_prefix("secrets.") {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!("'{inner}' is not a valid secret name"));
        }
        return Ok(Expr::Secret(name.to_owned()));
    }
    if let Some(rest) = inner.strip_prefix("today") {
        if rest.is_empty() {
            return Ok(Expr::Today(0));
        }
        // today+2 is two days; today-1w is a week, the same forms as in conditions. The result
        // is a date, so the offset must be whole days.
        const DAY_MS: u64 = 86_400_000;
        let days = |n: &str| match n.parse::<i64>() {
            Ok(d) => Some(d).filter(|d| d.abs() <= 36_600),
            Err(_) => Duration::parse(n)
                .ok()
                .filter(|d| d.as_millis().is_multiple_of(DAY_MS))
                .map(|d| (d.as_millis() / DAY_MS) as i64),
        };
        if let Some(days) = parse_signed(rest, days) {
            return Ok(Expr::Today(days));
        }
        if rest.starts_with(['+', '-']) {
            return Err(format!(
                "'{inner}': write today+N or today-N with N a number of days (or 1w, 2d)"
            ));
        }
    }
    if let Some(rest) = inner.strip_prefix("now") {
        if rest.is_empty() {
            return Ok(Expr::Now(0));
        }
        if let Some(ms) = parse_signed(rest, |d| {
            Duration::parse(d).ok().map(|d| d.as_millis() as i64)
        }) {
            return Ok(Expr::Now(ms));
        }
        if rest.starts_with(['+', '-']) {
            return Err(format!(
                "'{inner}': write now+DURATION or now-DURATION, like now-30d"
            ));
        }
    }
    FieldPath::parse(inner).map(Expr::Path)
}

fn parse_signed(rest: &str, number: impl Fn(&str) -> Option<i64>) -> Option<i64> {
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    number(digits.trim()).map(|n| sign * n)
}

fn eval_expr(
    expr: &Expr,
    ctx: &Value,
    env: &Env<'_>,
    secrets: Secrets,
    trace: &mut RenderTrace,
) -> Value {
    match expr {
        Expr::Path(path) => match path.lookup(ctx) {
            Some(_) if trace.over_budget => Value::Null,
            Some(v) if trace.charge(approx_size(v)) => v.clone(),
            Some(_) => Value::Null,
            None => {
                RenderTrace::note(&mut trace.missing_paths, path.as_str());
                Value::Null
            }
        },
        Expr::Now(offset_ms) => {
            let t = env.now + ChronoDuration::milliseconds(*offset_ms);
            Value::String(t.to_rfc3339_opts(SecondsFormat::Secs, true))
        }
        Expr::Today(days) => {
            let d = env.now.date_naive() + ChronoDuration::days(*days);
            Value::String(d.format("%Y-%m-%d").to_string())
        }
        Expr::Uuid => Value::String((env.ids)()),
        Expr::Secret(name) => match (env.secrets)(name) {
            Some(value) => {
                RenderTrace::note(&mut trace.secrets_used, name);
                match secrets {
                    Secrets::Reveal => Value::String(value),
                    Secrets::Redact => Value::String(REDACTED.to_owned()),
                }
            }
            None => {
                RenderTrace::note(&mut trace.missing_secrets, name);
                Value::Null
            }
        },
    }
}

/// A JSON value with templates compiled in place: what action configs, inputs and variables are
/// made of.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateValue {
    /// A subtree with no templates, returned as is.
    Literal(Value),
    Template(Template),
    Array(Vec<TemplateValue>),
    Object(Vec<(String, TemplateValue)>),
}

impl TemplateValue {
    /// Whether the value renders the same for as long as a run lasts: literals, the event's
    /// fields and a thread's own locals; no clock, new id or secret, and nothing later steps
    /// write (`vars`, `steps`).
    pub fn is_stable(&self) -> bool {
        match self {
            TemplateValue::Literal(_) => true,
            TemplateValue::Template(t) => t.parts.iter().all(|p| match p {
                Part::Text(_) => true,
                Part::Expr(Expr::Path(path)) => !matches!(path.first(), "vars" | "steps"),
                Part::Expr(_) => false,
            }),
            TemplateValue::Array(items) => items.iter().all(TemplateValue::is_stable),
            TemplateValue::Object(fields) => fields.iter().all(|(_, v)| v.is_stable()),
        }
    }

    /// Whether any template in this value reads a secret.
    pub fn names_secret(&self) -> bool {
        match self {
            TemplateValue::Literal(_) => false,
            TemplateValue::Template(t) => t.names_secret(),
            TemplateValue::Array(items) => items.iter().any(TemplateValue::names_secret),
            TemplateValue::Object(fields) => fields.iter().any(|(_, v)| v.names_secret()),
        }
    }

    /// Compiles every templated string in `value`. Errors name the JSON path below `path`.
    pub fn compile(value: &Value, path: &str, errors: &mut Vec<(String, String)>) -> TemplateValue {
        if !contains_template(value) {
            return TemplateValue::Literal(value.clone());
        }
        match value {
            Value::String(s) => match Template::parse(s) {
                Ok(t) => TemplateValue::Template(t),
                Err(e) => {
                    errors.push((path.to_owned(), e));
                    TemplateValue::Literal(value.clone())
                }
            },
            Value::Array(items) => TemplateValue::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Self::compile(v, &crate::diag::index(path, i), errors))
                    .collect(),
            ),
            Value::Object(map) => TemplateValue::Object(
                map.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            Self::compile(v, &crate::diag::key(path, k), errors),
                        )
                    })
                    .collect(),
            ),
            other => TemplateValue::Literal(other.clone()),
        }
    }

    pub fn render(
        &self,
        ctx: &Value,
        env: &Env<'_>,
        secrets: Secrets,
        trace: &mut RenderTrace,
    ) -> Value {
        match self {
            TemplateValue::Literal(v) => v.clone(),
            TemplateValue::Template(t) => t.render(ctx, env, secrets, trace),
            TemplateValue::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(ctx, env, secrets, trace))
                    .collect(),
            ),
            TemplateValue::Object(fields) => {
                let mut map = Map::with_capacity(fields.len());
                for (k, v) in fields {
                    map.insert(k.clone(), v.render(ctx, env, secrets, trace));
                }
                Value::Object(map)
            }
        }
    }

    pub fn as_literal(&self) -> Option<&Value> {
        match self {
            TemplateValue::Literal(v) => Some(v),
            _ => None,
        }
    }
}

fn contains_template(value: &Value) -> bool {
    match value {
        Value::String(s) => is_templated(s),
        Value::Array(items) => items.iter().any(contains_template),
        Value::Object(map) => map.values().any(contains_template),
        _ => false,
    }
}

/// The size of a value as JSON, roughly, without serializing it.
pub fn approx_size(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 8,
        Value::String(s) => s.len() + 2,
        Value::Array(items) => 2 + items.iter().map(approx_size).sum::<usize>(),
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| k.len() + 3 + approx_size(v))
                .sum::<usize>()
        }
    }
}
