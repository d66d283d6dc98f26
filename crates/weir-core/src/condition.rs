//! The condition DSL (DESIGN.md): `{field, operator, value}` comparisons combined
//! with `and`, `or` and `not`, and references to reusable rules.
//!
//! Semantics worth knowing:
//! - A field that is missing or null is *absent*. Every comparison with an absent field is false,
//!   except the negative ones (`ne`, `not_in`, `not_contains`, `not_exists`, `exists: false`,
//!   `is_empty`) and `eq null`.
//! - A type mismatch (a number compared with a string, `contains` on a number, …) is false and is
//!   explained in the trace; evaluation never fails.
//! - Numbers compare by value across integers and floats. Ordering operators compare strings
//!   lexically, except that RFC 3339 timestamps and dates compare as instants, and relative
//!   values (`now-30d`, `today-30`, `30d` meaning 30 days ago) are resolved against `Env::now`.

use std::cmp::Ordering;

use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, NaiveDateTime, Utc};
use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use crate::diag::{self, Code, Diags};
use crate::duration::Duration;
use crate::env::Env;
use crate::path::{FieldPath, type_name};
use crate::template::{RenderTrace, Secrets, TemplateValue};

/// How deep rule references may nest before evaluation gives up (a rule that refers to itself).
const MAX_RULE_DEPTH: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    NotIn,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Exists,
    NotExists,
    Matches,
    Between,
    Before,
    After,
    WithinLast,
    NotWithinLast,
    WithinNext,
    IsEmpty,
    NotEmpty,
}

/// Every spelling the DSL accepts, with the operator it means.
pub const OPERATOR_NAMES: &[(&str, Op)] = &[
    ("eq", Op::Eq),
    ("equals", Op::Eq),
    ("equal", Op::Eq),
    ("is", Op::Eq),
    ("==", Op::Eq),
    ("=", Op::Eq),
    ("ne", Op::Ne),
    ("neq", Op::Ne),
    ("not_equals", Op::Ne),
    ("not_equal", Op::Ne),
    ("is_not", Op::Ne),
    ("!=", Op::Ne),
    ("gt", Op::Gt),
    ("greater_than", Op::Gt),
    (">", Op::Gt),
    ("gte", Op::Gte),
    ("ge", Op::Gte),
    ("greater_than_or_equal", Op::Gte),
    ("greater_than_or_equals", Op::Gte),
    ("at_least", Op::Gte),
    (">=", Op::Gte),
    ("lt", Op::Lt),
    ("less_than", Op::Lt),
    ("<", Op::Lt),
    ("lte", Op::Lte),
    ("le", Op::Lte),
    ("less_than_or_equal", Op::Lte),
    ("less_than_or_equals", Op::Lte),
    ("at_most", Op::Lte),
    ("<=", Op::Lte),
    ("in", Op::In),
    ("one_of", Op::In),
    ("not_in", Op::NotIn),
    ("nin", Op::NotIn),
    ("not_one_of", Op::NotIn),
    ("none_of", Op::NotIn),
    ("contains", Op::Contains),
    ("includes", Op::Contains),
    ("not_contains", Op::NotContains),
    ("does_not_contain", Op::NotContains),
    ("startswith", Op::StartsWith),
    ("starts_with", Op::StartsWith),
    ("begins_with", Op::StartsWith),
    ("endswith", Op::EndsWith),
    ("ends_with", Op::EndsWith),
    ("exists", Op::Exists),
    ("is_set", Op::Exists),
    ("not_exists", Op::NotExists),
    ("is_not_set", Op::NotExists),
    ("matches", Op::Matches),
    ("regex", Op::Matches),
    ("between", Op::Between),
    ("before", Op::Before),
    ("is_before", Op::Before),
    ("after", Op::After),
    ("is_after", Op::After),
    ("within_last", Op::WithinLast),
    ("in_last", Op::WithinLast),
    ("not_within_last", Op::NotWithinLast),
    ("older_than", Op::NotWithinLast),
    ("within_next", Op::WithinNext),
    ("in_next", Op::WithinNext),
    ("is_empty", Op::IsEmpty),
    ("empty", Op::IsEmpty),
    ("not_empty", Op::NotEmpty),
    ("is_not_empty", Op::NotEmpty),
];

impl Op {
    pub fn from_name(name: &str) -> Option<Op> {
        let lower = name.trim().to_ascii_lowercase();
        OPERATOR_NAMES
            .iter()
            .find(|(n, _)| *n == lower)
            .map(|(_, op)| *op)
    }

    /// The canonical spelling.
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::StartsWith => "startswith",
            Op::EndsWith => "endswith",
            Op::Exists => "exists",
            Op::NotExists => "not_exists",
            Op::Matches => "matches",
            Op::Between => "between",
            Op::Before => "before",
            Op::After => "after",
            Op::WithinLast => "within_last",
            Op::NotWithinLast => "not_within_last",
            Op::WithinNext => "within_next",
            Op::IsEmpty => "is_empty",
            Op::NotEmpty => "not_empty",
        }
    }

    /// Operators that take no `value`.
    fn value_optional(self) -> bool {
        matches!(
            self,
            Op::Exists | Op::NotExists | Op::IsEmpty | Op::NotEmpty
        )
    }

    /// Operators that may compare with a secret: they tell whether a guess of the whole value
    /// is right, and nothing about a part of it (an ordering or a prefix test would).
    fn may_compare_secrets(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::In | Op::NotIn)
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Condition {
    Compare(Box<Compare>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Rule(String),
}

#[derive(Debug, Clone)]
pub struct Compare {
    pub field: FieldPath,
    pub op: Op,
    pub value: TemplateValue,
    /// The compiled pattern of a `matches` with a literal value.
    regex: Option<Regex>,
    /// The duration of `within_last` and friends with a literal value.
    span: Option<Duration>,
}

// ---------------------------------------------------------------------------------------------
// Parsing

impl Condition {
    /// Reads a condition from JSON, reporting every problem under `path`. A JSON array is read as
    /// the `and` of its items (trigger conditions are often written as a list).
    pub fn parse(value: &Value, path: &str, diags: &mut Diags) -> Option<Condition> {
        match value {
            Value::Array(items) => Self::parse_list(items, path, diags).map(Condition::And),
            Value::Object(map) => {
                let logical: Vec<&str> = ["and", "or", "not", "all", "any", "rule"]
                    .into_iter()
                    .filter(|k| map.contains_key(*k))
                    .collect();
                if logical.len() > 1 || (!logical.is_empty() && map.contains_key("field")) {
                    diags.push(
                        Code::InvalidValue,
                        path,
                        "a condition has exactly one of: field/operator/value, and, or, not, rule",
                    );
                    return None;
                }
                if let Some(&kind) = logical.first() {
                    for k in map.keys().filter(|k| *k != kind) {
                        diags.push(
                            Code::UnknownField,
                            &diag::key(path, k),
                            format!("unknown field '{k}' in a '{kind}' condition"),
                        );
                    }
                    let inner = &map[kind];
                    let inner_path = diag::key(path, kind);
                    return match kind {
                        "and" | "all" | "or" | "any" => {
                            let Value::Array(items) = inner else {
                                diags.push(
                                    Code::WrongType,
                                    &inner_path,
                                    format!(
                                        "'{kind}' takes a list of conditions, found {}",
                                        type_name(inner)
                                    ),
                                );
                                return None;
                            };
                            if items.is_empty() {
                                diags.push(
                                    Code::InvalidValue,
                                    &inner_path,
                                    format!("'{kind}' needs at least one condition"),
                                );
                                return None;
                            }
                            let list = Self::parse_list(items, &inner_path, diags)?;
                            Some(if matches!(kind, "and" | "all") {
                                Condition::And(list)
                            } else {
                                Condition::Or(list)
                            })
                        }
                        "not" => Self::parse(inner, &inner_path, diags)
                            .map(|c| Condition::Not(Box::new(c))),
                        _ => match inner {
                            Value::String(id) if !id.trim().is_empty() => {
                                Some(Condition::Rule(id.trim().to_owned()))
                            }
                            _ => {
                                diags.push(
                                    Code::WrongType,
                                    &inner_path,
                                    "'rule' takes the id of a rule, as a string",
                                );
                                None
                            }
                        },
                    };
                }
                Compare::parse(map, path, diags).map(|c| Condition::Compare(Box::new(c)))
            }
            other => {
                diags.push(
                    Code::WrongType,
                    path,
                    format!("expected a condition object, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn parse_list(items: &[Value], path: &str, diags: &mut Diags) -> Option<Vec<Condition>> {
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match Self::parse(item, &diag::index(path, i), diags) {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// Every rule this condition refers to, with the JSON path of the reference.
    pub fn rule_refs(&self, out: &mut Vec<String>) {
        match self {
            Condition::Rule(id) => out.push(id.clone()),
            Condition::And(list) | Condition::Or(list) => {
                list.iter().for_each(|c| c.rule_refs(out))
            }
            Condition::Not(c) => c.rule_refs(out),
            Condition::Compare(_) => {}
        }
    }
}

impl Compare {
    fn parse(
        map: &serde_json::Map<String, Value>,
        path: &str,
        diags: &mut Diags,
    ) -> Option<Compare> {
        let before = diags.0.len();
        for k in map.keys() {
            if !matches!(k.as_str(), "field" | "operator" | "op" | "value") {
                diags.push(Code::UnknownField, &diag::key(path, k), format!("unknown field '{k}' in a condition; a comparison has field, operator and value"));
            }
        }
        let field = match map.get("field") {
            Some(Value::String(s)) => match FieldPath::parse(s) {
                Ok(p) => Some(p),
                Err(e) => {
                    diags.push(Code::InvalidValue, &diag::key(path, "field"), e);
                    None
                }
            },
            Some(other) => {
                diags.push(
                    Code::WrongType,
                    &diag::key(path, "field"),
                    format!("'field' must be a string path, found {}", type_name(other)),
                );
                None
            }
            None => {
                diags.push(
                    Code::MissingField,
                    path,
                    "a condition needs 'field' (or and, or, not, rule)",
                );
                None
            }
        };
        let op_key = if map.contains_key("operator") {
            "operator"
        } else {
            "op"
        };
        let op = match map.get(op_key) {
            Some(Value::String(s)) => match Op::from_name(s) {
                Some(op) => Some(op),
                None => {
                    let names: Vec<&str> = OPERATOR_NAMES.iter().map(|(n, _)| *n).collect();
                    // The canonical name of the one operator whose spellings are closest.
                    let fix = crate::parse::closest(s, &names).and_then(|best| {
                        let d = crate::parse::levenshtein(s, best);
                        let mut ops = OPERATOR_NAMES
                            .iter()
                            .filter(|(n, _)| crate::parse::levenshtein(s, n) == d)
                            .map(|(_, op)| op.name());
                        let first = ops.next()?;
                        ops.all(|o| o == first).then(|| crate::diag::Fix::Replace {
                            value: Value::String(first.to_owned()),
                        })
                    });
                    diags.push_fix(
                        Code::UnknownOperator,
                        &diag::key(path, op_key),
                        format!(
                            "unknown operator '{s}'; known: {}",
                            canonical_operator_list()
                        ),
                        fix,
                    );
                    None
                }
            },
            Some(other) => {
                diags.push(
                    Code::WrongType,
                    &diag::key(path, op_key),
                    format!("'operator' must be a string, found {}", type_name(other)),
                );
                None
            }
            None => {
                diags.push_fix(
                    Code::MissingField,
                    path,
                    "a condition needs 'operator'",
                    Some(crate::diag::Fix::Add {
                        field: "operator".into(),
                        value: "eq".into(),
                    }),
                );
                None
            }
        };
        let value_path = diag::key(path, "value");
        let raw = map.get("value");
        let mut template_errors = Vec::new();
        let value = match raw {
            Some(v) => TemplateValue::compile(v, &value_path, &mut template_errors),
            None => TemplateValue::Literal(Value::Null),
        };
        for (p, e) in template_errors {
            diags.push(Code::BadTemplate, &p, e);
        }
        let (field, op) = (field?, op?);
        if value.names_secret() && !op.may_compare_secrets() {
            diags.push(
                Code::InvalidValue,
                &value_path,
                format!(
                    "a secret is compared only with eq, neq, in or not_in; '{}' would let a workflow find it out piece by piece",
                    op.name()
                ),
            );
        }
        if raw.is_none() && !op.value_optional() {
            diags.push(
                Code::MissingField,
                path,
                format!("operator '{}' needs a 'value'", op.name()),
            );
        }
        let mut regex = None;
        let mut span = None;
        if let Some(lit) = value.as_literal().filter(|_| raw.is_some()) {
            match op {
                Op::Matches => match lit {
                    Value::String(p) => match compile_regex(p) {
                        Ok(r) => regex = Some(r),
                        Err(e) => diags.push(
                            Code::BadRegex,
                            &value_path,
                            format!(
                                "the pattern does not compile: {}",
                                first_line(&e.to_string())
                            ),
                        ),
                    },
                    other => diags.push(
                        Code::WrongType,
                        &value_path,
                        format!(
                            "'matches' takes a regular expression string, found {}",
                            type_name(other)
                        ),
                    ),
                },
                Op::In | Op::NotIn if !lit.is_array() => {
                    diags.push(
                        Code::WrongType,
                        &value_path,
                        format!(
                            "'{}' takes a list of values, found {}",
                            op.name(),
                            type_name(lit)
                        ),
                    );
                }
                Op::Between if !matches!(lit, Value::Array(a) if a.len() == 2) => {
                    diags.push(
                        Code::WrongType,
                        &value_path,
                        "'between' takes a list of two bounds, like [10, 20]",
                    );
                }
                Op::Exists | Op::NotExists if !lit.is_boolean() => {
                    diags.push(
                        Code::WrongType,
                        &value_path,
                        format!("'{}' takes true or false", op.name()),
                    );
                }
                Op::WithinLast | Op::NotWithinLast | Op::WithinNext => {
                    match Duration::from_value(lit) {
                        Ok(d) => span = Some(d),
                        Err(e) => diags.push(Code::BadDuration, &value_path, e),
                    }
                }
                Op::Before | Op::After if !matches!(lit, Value::String(s) if parse_time(s, DateTime::<Utc>::UNIX_EPOCH).is_some()) =>
                {
                    diags.push(
                        Code::InvalidValue,
                        &value_path,
                        format!(
                            "'{}' takes a date or time: RFC 3339, YYYY-MM-DD, now-30d or today-30",
                            op.name()
                        ),
                    );
                }
                _ => {}
            }
        }
        if diags.0.len() > before && diags.0[before..].iter().any(|d| d.is_error()) {
            return None;
        }
        Some(Compare {
            field,
            op,
            value,
            regex,
            span,
        })
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_owned()
}

/// Every operator by its canonical name, in the order of the table.
pub fn canonical_operators() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for (_, op) in OPERATOR_NAMES {
        if !names.contains(&op.name()) {
            names.push(op.name());
        }
    }
    names
}

pub fn canonical_operator_list() -> String {
    canonical_operators().join(", ")
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// Why a comparison came out false without comparing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Note {
    Absent,
    Mismatch(&'static str, &'static str),
    BadExpected(&'static str),
    UnknownRule,
    RuleDepth,
}

impl Note {
    fn text(self) -> String {
        match self {
            Note::Absent => "field is absent".into(),
            Note::Mismatch(a, e) => format!("type mismatch: {a} compared with {e}"),
            Note::BadExpected(why) => why.into(),
            Note::UnknownRule => "unknown rule".into(),
            Note::RuleDepth => {
                format!("rules nest deeper than {MAX_RULE_DEPTH} (a rule refers to itself?)")
            }
        }
    }
}

/// The trace of one evaluation: which comparisons ran, with the values compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CondTrace {
    Compare {
        field: String,
        operator: &'static str,
        expected: Value,
        actual: Value,
        result: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    And {
        and: Vec<CondTrace>,
        result: bool,
    },
    Or {
        or: Vec<CondTrace>,
        result: bool,
    },
    Not {
        not: Box<CondTrace>,
        result: bool,
    },
    Rule {
        rule: String,
        result: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        condition: Option<Box<CondTrace>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
}

impl CondTrace {
    pub fn result(&self) -> bool {
        match self {
            CondTrace::Compare { result, .. }
            | CondTrace::And { result, .. }
            | CondTrace::Or { result, .. }
            | CondTrace::Not { result, .. }
            | CondTrace::Rule { result, .. } => *result,
        }
    }
}

impl Condition {
    /// Evaluates without building a trace: the fast path for trigger matching.
    pub fn eval(&self, ctx: &Value, env: &Env<'_>) -> bool {
        self.eval_depth(ctx, ctx, env, 0)
    }

    fn eval_depth(&self, fields: &Value, ctx: &Value, env: &Env<'_>, depth: usize) -> bool {
        match self {
            Condition::Compare(c) => c.eval(fields, ctx, env, &mut RenderTrace::default()).0,
            Condition::And(list) => list.iter().all(|c| c.eval_depth(fields, ctx, env, depth)),
            Condition::Or(list) => list.iter().any(|c| c.eval_depth(fields, ctx, env, depth)),
            Condition::Not(c) => !c.eval_depth(fields, ctx, env, depth),
            Condition::Rule(id) => match env.rules.get(id) {
                Some(rule) if rule.enabled && depth < MAX_RULE_DEPTH => {
                    rule.condition.eval_depth(fields, ctx, env, depth + 1)
                }
                _ => false,
            },
        }
    }

    /// Evaluates and records every comparison made. Short-circuited branches are not in the
    /// trace. Unknown template paths in values are added to `render`.
    pub fn eval_traced(&self, ctx: &Value, env: &Env<'_>, render: &mut RenderTrace) -> CondTrace {
        self.trace_depth(ctx, ctx, env, render, 0)
    }

    /// A text the event's payload must hold at a path for this condition to hold on it: the
    /// value of an `eq` comparison (alone, or one of an `and`) on a plain path, rendered in
    /// `ctx`, when it is a string that is not a time (times are equal as instants, whatever
    /// their text), holds no NUL, and renders the same for as long as the run waits (from
    /// literals and the event's fields only: no clock, id, secret, `vars` or `steps`, which
    /// may change meanwhile). A store queues an event only to the waits it can match; the
    /// condition still decides.
    pub fn required_text(&self, ctx: &Value, env: &Env<'_>) -> Option<(String, String)> {
        match self {
            Condition::Compare(c) => c.required_text(ctx, env),
            Condition::And(list) => list.iter().find_map(|c| c.required_text(ctx, env)),
            Condition::Or(_) | Condition::Not(_) | Condition::Rule(_) => None,
        }
    }

    /// Like [`Condition::eval_traced`], but fields are looked up in `fields` (a new event's
    /// payload) while templates in values render over `ctx` (the waiting execution's context).
    pub fn eval_traced_on(
        &self,
        fields: &Value,
        ctx: &Value,
        env: &Env<'_>,
        render: &mut RenderTrace,
    ) -> CondTrace {
        self.trace_depth(fields, ctx, env, render, 0)
    }

    fn trace_depth(
        &self,
        fields: &Value,
        ctx: &Value,
        env: &Env<'_>,
        render: &mut RenderTrace,
        depth: usize,
    ) -> CondTrace {
        match self {
            Condition::Compare(c) => {
                let (result, note, expected) = c.eval(fields, ctx, env, render);
                CondTrace::Compare {
                    field: c.field.as_str().to_owned(),
                    operator: c.op.name(),
                    expected,
                    actual: c.field.lookup(fields).cloned().unwrap_or(Value::Null),
                    result,
                    note: note.map(Note::text),
                }
            }
            Condition::And(list) | Condition::Or(list) => {
                let is_and = matches!(self, Condition::And(_));
                let mut children = Vec::new();
                let mut result = is_and;
                for c in list {
                    let t = c.trace_depth(fields, ctx, env, render, depth);
                    let r = t.result();
                    children.push(t);
                    if r != is_and {
                        result = r;
                        break;
                    }
                }
                if is_and {
                    CondTrace::And {
                        and: children,
                        result,
                    }
                } else {
                    CondTrace::Or {
                        or: children,
                        result,
                    }
                }
            }
            Condition::Not(c) => {
                let t = c.trace_depth(fields, ctx, env, render, depth);
                CondTrace::Not {
                    result: !t.result(),
                    not: Box::new(t),
                }
            }
            Condition::Rule(id) => match env.rules.get(id) {
                Some(rule) if !rule.enabled => CondTrace::Rule {
                    rule: id.clone(),
                    result: false,
                    condition: None,
                    note: Some("the rule is disabled".into()),
                },
                Some(_) if depth >= MAX_RULE_DEPTH => CondTrace::Rule {
                    rule: id.clone(),
                    result: false,
                    condition: None,
                    note: Some(Note::RuleDepth.text()),
                },
                Some(rule) => {
                    let t = rule
                        .condition
                        .trace_depth(fields, ctx, env, render, depth + 1);
                    CondTrace::Rule {
                        rule: id.clone(),
                        result: t.result(),
                        condition: Some(Box::new(t)),
                        note: None,
                    }
                }
                None => CondTrace::Rule {
                    rule: id.clone(),
                    result: false,
                    condition: None,
                    note: Some(Note::UnknownRule.text()),
                },
            },
        }
    }
}

impl Compare {
    /// Returns the result, why it is false without a real comparison, and the expected value.
    fn eval(
        &self,
        fields: &Value,
        ctx: &Value,
        env: &Env<'_>,
        render: &mut RenderTrace,
    ) -> (bool, Option<Note>, Value) {
        let actual = self.field.lookup(fields).filter(|v| !v.is_null());
        let expected_owned;
        let mut shown = None;
        let expected: &Value = match &self.value {
            TemplateValue::Literal(v) => v,
            other => {
                let (missing, secrets) = (render.missing_paths.len(), render.secrets_used.len());
                // Compare with the real value of a secret; only the trace shows it redacted.
                expected_owned = other.render(ctx, env, Secrets::Reveal, render);
                if render.secrets_used.len() > secrets {
                    shown =
                        Some(other.render(ctx, env, Secrets::Redact, &mut RenderTrace::default()));
                }
                if render.missing_paths.len() > missing {
                    // The value names a field that is absent: there is nothing to compare with.
                    let note = Note::BadExpected("the value's template names an absent field");
                    return (false, Some(note), shown.unwrap_or(expected_owned));
                }
                &expected_owned
            }
        };
        let (result, note) = match self.check(actual, expected, env) {
            Ok(r) => (r, None),
            Err(note) => (negative_default(self.op, note), Some(note)),
        };
        (result, note, shown.unwrap_or_else(|| expected.clone()))
    }

    /// See [`Condition::required_text`].
    fn required_text(&self, ctx: &Value, env: &Env<'_>) -> Option<(String, String)> {
        if self.op != Op::Eq {
            return None;
        }
        let path = self.field.plain_keys()?;
        if !self.value.is_stable() {
            return None;
        }
        let mut render = RenderTrace::default();
        let expected = match &self.value {
            TemplateValue::Literal(v) => v.clone(),
            other => other.render(ctx, env, Secrets::Redact, &mut render),
        };
        if !render.missing_paths.is_empty() {
            return None;
        }
        match expected {
            Value::String(text) if parse_absolute_time(&text).is_none() && !text.contains('\0') => {
                Some((path, text))
            }
            _ => None,
        }
    }

    fn check(&self, actual: Option<&Value>, expected: &Value, env: &Env<'_>) -> Result<bool, Note> {
        use Op::*;
        match self.op {
            Exists => return Ok(actual.is_some() == expected.as_bool().unwrap_or(true)),
            NotExists => return Ok(actual.is_none() == expected.as_bool().unwrap_or(true)),
            IsEmpty => return Ok(is_empty(actual)),
            NotEmpty => return Ok(!is_empty(actual)),
            Eq if expected.is_null() => return Ok(actual.is_none()),
            Ne if expected.is_null() => return Ok(actual.is_some()),
            _ => {}
        }
        let actual = actual.ok_or(Note::Absent)?;
        match self.op {
            Eq => equals(actual, expected),
            Ne => equals(actual, expected).map(|b| !b),
            Gt => order(actual, expected, env).map(|o| o == Ordering::Greater),
            Gte => order(actual, expected, env).map(|o| o != Ordering::Less),
            Lt => order(actual, expected, env).map(|o| o == Ordering::Less),
            Lte => order(actual, expected, env).map(|o| o != Ordering::Greater),
            In | NotIn => {
                let Value::Array(options) = expected else {
                    return Err(Note::BadExpected("the value of 'in' is not a list"));
                };
                let mut mismatch = None;
                let mut found = false;
                for o in options {
                    match equals(actual, o) {
                        Ok(true) => {
                            found = true;
                            break;
                        }
                        Ok(false) => mismatch = Some(None),
                        Err(note) => {
                            mismatch.get_or_insert(Some(note));
                        }
                    }
                }
                // Every option had another type than the field: that is a mismatch, not an answer.
                if let (false, Some(Some(note))) = (found, mismatch) {
                    return Err(note);
                }
                Ok(found == (self.op == In))
            }
            Contains | NotContains => {
                let found = match (actual, expected) {
                    (Value::String(a), Value::String(e)) => a.contains(e.as_str()),
                    (Value::Array(items), e) => items.iter().any(|i| equals(i, e).unwrap_or(false)),
                    (Value::Object(map), Value::String(k)) => map.contains_key(k),
                    (a, e) => return Err(Note::Mismatch(type_name(a), type_name(e))),
                };
                Ok(found == (self.op == Contains))
            }
            StartsWith | EndsWith => match (actual, expected) {
                (Value::String(a), Value::String(e)) => Ok(if self.op == StartsWith {
                    a.starts_with(e.as_str())
                } else {
                    a.ends_with(e.as_str())
                }),
                (a, e) => Err(Note::Mismatch(type_name(a), type_name(e))),
            },
            Matches => {
                let Value::String(text) = actual else {
                    return Err(Note::Mismatch(type_name(actual), "string"));
                };
                match &self.regex {
                    Some(r) => Ok(r.is_match(text)),
                    None => match expected {
                        Value::String(p) if p.len() > MAX_DYNAMIC_PATTERN => {
                            Err(Note::BadExpected("the pattern is longer than 1024 bytes"))
                        }
                        Value::String(p) => compile_regex(p)
                            .map(|r| r.is_match(text))
                            .map_err(|_| Note::BadExpected("the pattern does not compile")),
                        _ => Err(Note::BadExpected("the pattern is not a string")),
                    },
                }
            }
            Between => {
                let Value::Array(bounds) = expected else {
                    return Err(Note::BadExpected(
                        "the value of 'between' is not a list of two bounds",
                    ));
                };
                let [lo, hi] = bounds.as_slice() else {
                    return Err(Note::BadExpected(
                        "the value of 'between' is not a list of two bounds",
                    ));
                };
                Ok(order(actual, lo, env)? != Ordering::Less
                    && order(actual, hi, env)? != Ordering::Greater)
            }
            Before | After => {
                let a = time_of(actual, env).ok_or(Note::Mismatch(type_name(actual), "date"))?;
                let e = time_of(expected, env)
                    .ok_or(Note::BadExpected("the value is not a date or time"))?;
                Ok(if self.op == Before { a < e } else { a > e })
            }
            WithinLast | NotWithinLast | WithinNext => {
                let a = time_of(actual, env).ok_or(Note::Mismatch(type_name(actual), "date"))?;
                let span = match self.span {
                    Some(d) => d,
                    None => Duration::from_value(expected)
                        .map_err(|_| Note::BadExpected("the value is not a duration"))?,
                }
                .as_chrono();
                Ok(match self.op {
                    WithinLast => a >= env.now - span && a <= env.now,
                    NotWithinLast => a < env.now - span,
                    _ => a >= env.now && a <= env.now + span,
                })
            }
            Exists | NotExists | IsEmpty | NotEmpty => unreachable!("handled above"),
        }
    }
}

/// What a comparison that could not be made evaluates to: false, except for negative operators
/// on an absent field.
fn negative_default(op: Op, note: Note) -> bool {
    note == Note::Absent && matches!(op, Op::Ne | Op::NotIn | Op::NotContains)
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(_) => false,
    }
}

pub(crate) fn equals(a: &Value, e: &Value) -> Result<bool, Note> {
    match (a, e) {
        (Value::Number(_), Value::Number(_)) => Ok(compare_numbers(a, e) == Some(Ordering::Equal)),
        (Value::String(x), Value::String(y)) => Ok(x == y
            || matches!((parse_absolute_time(x), parse_absolute_time(y)), (Some(a), Some(b)) if a == b)),
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => Ok(a == e),
        _ => Err(Note::Mismatch(type_name(a), type_name(e))),
    }
}

fn compare_numbers(a: &Value, e: &Value) -> Option<Ordering> {
    let (Value::Number(x), Value::Number(y)) = (a, e) else {
        return None;
    };
    if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
        return Some(x.cmp(&y));
    }
    // An integer against a float: compare exactly when the float is a whole number in range,
    // so 9007199254740993 is not equal to 9007199254740992.0.
    let exact = |n: &serde_json::Number| -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                let f = n.as_f64()?;
                (f.fract() == 0.0 && f.abs() < 1.7e38).then_some(f as i128)
            })
    };
    if let (Some(a), Some(b)) = (exact(x), exact(y))
        && (x.is_f64() != y.is_f64())
    {
        return Some(a.cmp(&b));
    }
    x.as_f64()?.partial_cmp(&y.as_f64()?)
}

fn order(a: &Value, e: &Value, env: &Env<'_>) -> Result<Ordering, Note> {
    match (a, e) {
        (Value::Number(_), Value::Number(_)) => {
            compare_numbers(a, e).ok_or(Note::BadExpected("numbers that cannot be ordered"))
        }
        (Value::String(x), Value::String(y)) => {
            if let Some(et) = parse_relative_time(y, env.now) {
                match parse_absolute_time(x) {
                    Some(at) => return Ok(at.cmp(&et)),
                    // A bare duration ("2w") may just be text; `now-2w` cannot be.
                    None if !is_bare_duration(y) => {
                        return Err(Note::Mismatch("string (not a date)", "relative date"));
                    }
                    None => {}
                }
            }
            if let (Some(at), Some(et)) = (parse_absolute_time(x), parse_absolute_time(y)) {
                return Ok(at.cmp(&et));
            }
            Ok(x.as_str().cmp(y.as_str()))
        }
        _ => Err(Note::Mismatch(type_name(a), type_name(e))),
    }
}

fn time_of(v: &Value, env: &Env<'_>) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => parse_time(s, env.now),
        // Unix seconds.
        Value::Number(n) => n.as_i64().and_then(|s| DateTime::from_timestamp(s, 0)),
        _ => None,
    }
}

/// Whether a string is one of the relative time forms: `now`, `now-30d`, `today`, `today+2`,
/// `30d` (30 days ago), `-30d`, `30d ago`.
fn is_bare_duration(s: &str) -> bool {
    let s = s.trim();
    s.chars().last().is_some_and(|c| c.is_ascii_alphabetic()) && Duration::parse(s).is_ok()
}

/// Parses only the relative forms, exactly: `now`, `now±DURATION`, `today`, `today±N` (days) or
/// `today±DURATION`, `DURATION ago`, `-DURATION`, and a bare `DURATION` (that long ago).
/// "nowak" or "today's special" are not times.
pub fn parse_relative_time(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if parse_absolute_time(s).is_some() {
        return None;
    }
    parse_time(s, now)
}

/// Parses an absolute time: RFC 3339, `YYYY-MM-DDTHH:MM:SS` (UTC), or `YYYY-MM-DD` (midnight UTC).
pub fn parse_absolute_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.len() < 10 || !s.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Parses an absolute or relative time, resolving relative forms against `now`.
pub fn parse_time(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(t) = parse_absolute_time(s) {
        return Some(t);
    }
    let offset = |rest: &str, unit_days: bool| -> Option<ChronoDuration> {
        let rest = rest.trim();
        if rest.is_empty() {
            return Some(ChronoDuration::zero());
        }
        let (sign, body) = match rest.as_bytes()[0] {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            _ => return None,
        };
        let d = if unit_days {
            match body.trim().parse::<i64>() {
                Ok(days) if days.abs() <= 36_600 => ChronoDuration::days(days),
                _ => Duration::parse(body).ok()?.as_chrono(),
            }
        } else {
            Duration::parse(body).ok()?.as_chrono()
        };
        Some(d * sign)
    };
    if let Some(rest) = s.strip_prefix("today") {
        let midnight = now.date_naive().and_hms_opt(0, 0, 0)?.and_utc();
        return offset(rest, true).map(|d| midnight + d);
    }
    if let Some(rest) = s.strip_prefix("now") {
        return offset(rest, false).map(|d| now + d);
    }
    if let Some(body) = s.strip_suffix(" ago") {
        return Duration::parse(body).ok().map(|d| now - d.as_chrono());
    }
    if let Some(body) = s.strip_prefix('-') {
        return Duration::parse(body).ok().map(|d| now - d.as_chrono());
    }
    // A bare duration with a unit ("30d") means that long ago, as in the
    // `{"field": "customer.created_at", "operator": "gt", "value": "30d"}`.
    if s.chars().last().is_some_and(|c| c.is_ascii_alphabetic()) {
        return Duration::parse(s).ok().map(|d| now - d.as_chrono());
    }
    None
}

/// The longest pattern a `matches` value may render to at run time.
pub const MAX_DYNAMIC_PATTERN: usize = 1024;

/// Compiles a pattern with bounded memory; Rust's regex engine matches in linear time, so the
/// compile is the only cost to bound.
fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
}
