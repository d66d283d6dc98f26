//! Reads a definition from a JSON value into the model, reporting every problem at once.
//!
//! This is written by hand rather than derived with serde so that one pass can report all
//! unknown fields, wrong types and bad values together, each with its JSON path, accept the
//! spellings the seeds use (`event_name`, `timeout_seconds`, `retry_policy`), and compile
//! conditions, templates and durations on the way.

use serde_json::{Map, Value};

use crate::catalog::ActionCatalog;
use crate::condition::Condition;
use crate::diag::{self, Code, Diags, Fix};
use crate::duration::Duration;
use crate::env::Rule;
use crate::executor::RETRY_CLASSES;
use crate::model::*;
use crate::path::type_name;
use crate::template::{Template, TemplateValue};

const COMMON_STEP_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "type",
    "next",
    "end",
    "depends_on",
    "order",
    "ordering",
    "retry",
    "retry_policy",
    "timeout",
    "timeout_seconds",
    "allow_failure",
    "on_error",
    "metadata",
];

/// Names the execution context uses itself: a foreach variable may not take them.
pub const RESERVED_NAMES: &[&str] = &[
    "steps", "vars", "trigger", "loop", "secrets", "now", "today", "uuid",
];

/// Step types that are control flow rather than actions.
pub const CONTROL_STEP_TYPES: &[&str] = &[
    "condition",
    "switch",
    "parallel",
    "wait",
    "delay",
    "approval",
    "foreach",
    "subworkflow",
    "set",
    "action",
    "execute",
];

pub(crate) struct Reader<'a> {
    pub diags: Diags,
    catalog: &'a dyn ActionCatalog,
    /// Step ids seen so far, with where: ids are unique across the whole workflow.
    step_ids: std::collections::HashMap<String, String>,
}

type Obj = Map<String, Value>;

impl<'a> Reader<'a> {
    pub fn new(catalog: &'a dyn ActionCatalog) -> Self {
        Reader {
            diags: Diags::default(),
            catalog,
            step_ids: Default::default(),
        }
    }

    fn err(&mut self, code: Code, path: &str, msg: impl Into<String>) {
        self.diags.push(code, path, msg);
    }

    // -- small typed getters ------------------------------------------------------------------

    fn check_keys(&mut self, map: &Obj, path: &str, allowed: &[&str], what: &str) {
        for k in map.keys() {
            if !allowed.contains(&k.as_str()) {
                let hint = closest(k, allowed)
                    .map(|c| format!(" (did you mean '{c}'?)"))
                    .unwrap_or_default();
                // A rename is sure only when the right name is not there already.
                let fix = closest_unique(k, allowed)
                    .filter(|c| !map.contains_key(*c))
                    .map(|c| Fix::Rename { to: c.to_owned() });
                self.diags.push_fix(
                    Code::UnknownField,
                    &diag::key(path, k),
                    format!("unknown field '{k}' in {what}{hint}"),
                    fix,
                );
            }
        }
    }

    fn object<'v>(&mut self, v: &'v Value, path: &str, what: &str) -> Option<&'v Obj> {
        match v {
            Value::Object(m) => Some(m),
            other => {
                self.err(
                    Code::WrongType,
                    path,
                    format!("{what} must be an object, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn string(&mut self, map: &Obj, key: &str, path: &str) -> Option<String> {
        match map.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(
                    Code::WrongType,
                    &diag::key(path, key),
                    format!("'{key}' must be a string, found {}", type_name(other)),
                );
                None
            }
        }
    }

    /// The first of several spellings present, as a string.
    fn string_any(&mut self, map: &Obj, keys: &[&str], path: &str) -> Option<(String, String)> {
        let present: Vec<&&str> = keys.iter().filter(|k| map.contains_key(**k)).collect();
        if present.len() > 1 {
            self.err(
                Code::InvalidValue,
                path,
                format!("give only one of {}", keys.join(", ")),
            );
        }
        let key = present.first()?;
        self.string(map, key, path).map(|s| (key.to_string(), s))
    }

    fn required_string(&mut self, map: &Obj, key: &str, path: &str, what: &str) -> Option<String> {
        if !map.contains_key(key) {
            self.diags.push_fix(
                Code::MissingField,
                path,
                format!("{what} needs '{key}'"),
                Some(Fix::Add {
                    field: key.to_owned(),
                    value: example_for(key),
                }),
            );
            return None;
        }
        let s = self.string(map, key, path)?;
        if s.trim().is_empty() {
            self.err(
                Code::InvalidValue,
                &diag::key(path, key),
                format!("'{key}' must not be empty"),
            );
            return None;
        }
        Some(s)
    }

    fn boolean(&mut self, map: &Obj, key: &str, path: &str) -> Option<bool> {
        match map.get(key)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.err(
                    Code::WrongType,
                    &diag::key(path, key),
                    format!("'{key}' must be true or false, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn integer(&mut self, map: &Obj, key: &str, path: &str, min: i64, max: i64) -> Option<i64> {
        let v = map.get(key)?;
        match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(n) => {
                self.err(
                    Code::InvalidValue,
                    &diag::key(path, key),
                    format!("'{key}' must be between {min} and {max}, found {n}"),
                );
                None
            }
            None => {
                self.err(
                    Code::WrongType,
                    &diag::key(path, key),
                    format!("'{key}' must be an integer, found {}", describe(v)),
                );
                None
            }
        }
    }

    fn duration(&mut self, map: &Obj, key: &str, path: &str) -> Option<Duration> {
        let v = map.get(key)?;
        match Duration::from_value(v) {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(Code::BadDuration, &diag::key(path, key), e);
                None
            }
        }
    }

    /// `timeout` (a duration) or `timeout_seconds` (an integer), as the seeds write them.
    fn timeout(&mut self, map: &Obj, path: &str) -> Option<Duration> {
        if map.contains_key("timeout") && map.contains_key("timeout_seconds") {
            self.err(
                Code::InvalidValue,
                path,
                "give only one of timeout, timeout_seconds",
            );
        }
        if map.contains_key("timeout_seconds") {
            let secs = self.integer(map, "timeout_seconds", path, 0, 100 * 366 * 86_400)?;
            return Some(Duration::from_secs(secs as u64));
        }
        self.duration(map, "timeout", path)
    }

    fn string_list(&mut self, map: &Obj, key: &str, path: &str) -> Vec<String> {
        let Some(v) = map.get(key) else {
            return Vec::new();
        };
        let p = diag::key(path, key);
        let Value::Array(items) = v else {
            self.err(
                Code::WrongType,
                &p,
                format!("'{key}' must be a list of strings, found {}", type_name(v)),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.clone()),
                other => self.err(
                    Code::WrongType,
                    &diag::index(&p, i),
                    format!("expected a string, found {}", type_name(other)),
                ),
            }
        }
        out
    }

    fn template(&mut self, map: &Obj, key: &str, path: &str) -> Option<Template> {
        let s = self.string(map, key, path)?;
        match Template::parse(&s) {
            Ok(t) => Some(t),
            Err(e) => {
                self.err(Code::BadTemplate, &diag::key(path, key), e);
                None
            }
        }
    }

    fn template_value(&mut self, v: &Value, path: &str) -> TemplateValue {
        let mut errors = Vec::new();
        let tv = TemplateValue::compile(v, path, &mut errors);
        for (p, e) in errors {
            self.err(Code::BadTemplate, &p, e);
        }
        tv
    }

    fn condition(&mut self, v: &Value, path: &str) -> Option<Condition> {
        Condition::parse(v, path, &mut self.diags)
    }

    fn variables(&mut self, v: &Value, path: &str) -> Vec<(String, TemplateValue)> {
        let Some(map) = self.object(v, path, "'variables'") else {
            return Vec::new();
        };
        map.iter()
            .map(|(k, v)| (k.clone(), self.template_value(v, &diag::key(path, k))))
            .collect()
    }

    fn json_schema(&mut self, map: &Obj, key: &str, path: &str) -> Option<Value> {
        let v = map.get(key)?;
        let p = diag::key(path, key);
        if !v.is_object() {
            self.err(
                Code::WrongType,
                &p,
                format!(
                    "'{key}' must be a JSON Schema object, found {}",
                    type_name(v)
                ),
            );
            return None;
        }
        if let Err(e) = jsonschema::validator_for(v) {
            self.err(
                Code::InvalidValue,
                &p,
                format!("not a valid JSON Schema: {e}"),
            );
            return None;
        }
        Some(v.clone())
    }

    // -- the workflow -------------------------------------------------------------------------

    pub fn workflow(&mut self, doc: &Value) -> Option<Workflow> {
        let path = "$";
        let map = self.object(doc, path, "a workflow")?;
        self.check_keys(map, path, crate::format::WORKFLOW_KEYS, "a workflow");
        let id = self
            .string_any(map, &["workflow_id", "id"], path)
            .map(|(_, s)| s);
        let name = self.string(map, "name", path);
        let id = match (id, &name) {
            (Some(id), _) => {
                if !valid_id(&id) {
                    self.err(Code::InvalidValue, "$.workflow_id", format!("'{id}' is not a valid workflow id; use letters, digits, '_', '-' and '.' (at most 128)"));
                }
                id
            }
            (None, Some(name)) => slug(name),
            (None, None) => {
                self.err(
                    Code::MissingField,
                    path,
                    "a workflow needs 'workflow_id' (or at least a 'name')",
                );
                String::new()
            }
        };
        let version = match map.get("version") {
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => self.string(map, "version", path),
        };
        let enabled = self.boolean(map, "enabled", path).unwrap_or(true);
        let description = self.string(map, "description", path);
        let category = self.string(map, "category", path);
        let tags = self.string_list(map, "tags", path);

        let triggers = match (map.get("trigger"), map.get("triggers")) {
            (Some(_), Some(_)) => {
                self.err(
                    Code::InvalidValue,
                    path,
                    "give either 'trigger' or 'triggers', not both",
                );
                Vec::new()
            }
            (Some(t), None) => self.trigger(t, "$.trigger").into_iter().collect(),
            (None, Some(Value::Array(list))) => {
                if list.is_empty() {
                    self.err(
                        Code::InvalidValue,
                        "$.triggers",
                        "'triggers' is empty; remove it for a manual-only workflow",
                    );
                }
                list.iter()
                    .enumerate()
                    .filter_map(|(i, t)| self.trigger(t, &diag::index("$.triggers", i)))
                    .collect()
            }
            (None, Some(other)) => {
                self.err(
                    Code::WrongType,
                    "$.triggers",
                    format!("'triggers' must be a list, found {}", type_name(other)),
                );
                Vec::new()
            }
            (None, None) => Vec::new(),
        };

        let context = map
            .get("context")
            .and_then(|c| self.context(c, "$.context"));
        let mut settings = map
            .get("settings")
            .map(|s| self.settings(s, "$.settings"))
            .unwrap_or_default();
        // The flat shape puts the retry policy and timeout at the top level.
        if let Some(rp) = map.get("retry_policy") {
            if settings.retry_policy.is_some() {
                self.err(
                    Code::InvalidValue,
                    "$.retry_policy",
                    "retry_policy is given both here and in settings",
                );
            }
            settings.retry_policy = self.retry(rp, "$.retry_policy");
        }
        if map.contains_key("timeout") || map.contains_key("timeout_seconds") {
            if settings.timeout.is_some() {
                self.err(
                    Code::InvalidValue,
                    path,
                    "the timeout is given both here and in settings",
                );
            }
            settings.timeout = self.timeout(map, path);
        }
        let variables = map
            .get("variables")
            .map(|v| self.variables(v, "$.variables"))
            .unwrap_or_default();
        let rules = match map.get("rules") {
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .filter_map(|(i, r)| self.rule(r, &diag::index("$.rules", i)))
                .collect(),
            Some(other) => {
                self.err(
                    Code::WrongType,
                    "$.rules",
                    format!("'rules' must be a list, found {}", type_name(other)),
                );
                Vec::new()
            }
            None => Vec::new(),
        };
        let steps = match map.get("steps") {
            Some(v) => self.step_list(v, "$.steps", "a workflow"),
            None => {
                self.diags.push_fix(
                    Code::MissingField,
                    path,
                    "a workflow needs 'steps'",
                    Some(Fix::Add {
                        field: "steps".into(),
                        value: serde_json::json!([{"id": "decide", "type": "action", "action": "allow"}]),
                    }),
                );
                StepList::default()
            }
        };
        Some(Workflow {
            name: name.unwrap_or_else(|| id.clone()),
            id,
            description,
            version,
            enabled,
            category,
            tags,
            triggers,
            context,
            settings,
            variables,
            steps,
            rules,
            metadata: map.get("metadata").cloned(),
        })
    }

    pub fn rule(&mut self, v: &Value, path: &str) -> Option<Rule> {
        let map = self.object(v, path, "a rule")?;
        self.check_keys(map, path, crate::format::RULE_KEYS, "a rule");
        let id = self
            .string_any(map, &["rule_id", "id"], path)
            .map(|(_, s)| s);
        if id.is_none() && !map.contains_key("rule_id") && !map.contains_key("id") {
            self.err(Code::MissingField, path, "a rule needs 'rule_id'");
        }
        let kind = self
            .string_any(map, &["type", "rule_type"], path)
            .map(|(_, s)| s);
        let name = self.string(map, "name", path);
        let description = self.string(map, "description", path);
        let enabled = self.boolean(map, "enabled", path).unwrap_or(true);
        let cond_key = if map.contains_key("conditions") {
            "conditions"
        } else {
            "condition"
        };
        let condition = match map.get(cond_key) {
            Some(c) => self.condition(c, &diag::key(path, cond_key)),
            None => {
                self.err(Code::MissingField, path, "a rule needs 'conditions'");
                None
            }
        };
        Some(Rule {
            id: id?,
            name,
            description,
            kind,
            enabled,
            condition: condition?,
        })
    }

    fn context(&mut self, v: &Value, path: &str) -> Option<ContextSpec> {
        /// How many data sources one workflow may load before its first step.
        const MAX_CONTEXT_LOADS: usize = 20;
        let map = self.object(v, path, "'context'")?;
        self.check_keys(map, path, &["load", "timeout", "on_error"], "'context'");
        let load = self.string_list(map, "load", path);
        if load.len() > MAX_CONTEXT_LOADS {
            self.err(
                Code::InvalidValue,
                &diag::key(path, "load"),
                format!(
                    "'load' names at most {MAX_CONTEXT_LOADS} sources, found {}",
                    load.len()
                ),
            );
        }
        for (i, name) in load.iter().enumerate() {
            if load[..i].contains(name) {
                self.err(
                    Code::InvalidValue,
                    &format!("{}[{i}]", diag::key(path, "load")),
                    format!("'{name}' is listed twice"),
                );
            }
        }
        let timeout = self.duration(map, "timeout", path);
        let on_error = self.string(map, "on_error", path);
        if let Some(e) = &on_error
            && !matches!(e.as_str(), "fail" | "continue")
        {
            self.err(
                Code::InvalidValue,
                &diag::key(path, "on_error"),
                format!("'on_error' is fail or continue, found '{e}'"),
            );
        }
        Some(ContextSpec {
            load,
            timeout,
            on_error,
        })
    }

    fn settings(&mut self, v: &Value, path: &str) -> Settings {
        let Some(map) = self.object(v, path, "'settings'") else {
            return Settings::default();
        };
        self.check_keys(
            map,
            path,
            &["timeout", "timeout_seconds", "retry_policy", "on_error"],
            "'settings'",
        );
        Settings {
            timeout: self.timeout(map, path),
            retry_policy: map
                .get("retry_policy")
                .and_then(|r| self.retry(r, &diag::key(path, "retry_policy"))),
            on_error: match self.on_error(map, path) {
                Some(OnError::Goto(t)) => {
                    let msg = format!(
                        "settings.on_error is fail, continue or catch, found '{t}' (a step id works only on a step)"
                    );
                    self.err(Code::InvalidValue, &diag::key(path, "on_error"), msg);
                    None
                }
                other => other,
            },
        }
    }

    fn retry(&mut self, v: &Value, path: &str) -> Option<RetryPolicy> {
        let map = self.object(v, path, "a retry policy")?;
        self.check_keys(map, path, crate::format::RETRY_KEYS, "a retry policy");
        let mut policy = RetryPolicy::default();
        if let Some(n) = self.integer(map, "max_attempts", path, 1, 100) {
            policy.max_attempts = n as u32;
        }
        for (key, secs_key, slot) in [
            (
                "initial_interval",
                "initial_interval_seconds",
                &mut policy.initial_interval,
            ),
            (
                "max_interval",
                "max_interval_seconds",
                &mut policy.max_interval,
            ),
        ] {
            if map.contains_key(key) && map.contains_key(secs_key) {
                self.err(
                    Code::InvalidValue,
                    path,
                    format!("give only one of {key}, {secs_key}"),
                );
            }
            if let Some(d) = self
                .duration(map, key, path)
                .or_else(|| self.duration(map, secs_key, path))
            {
                *slot = d;
            }
        }
        if let Some(v) = map.get("backoff_coefficient") {
            match v.as_f64() {
                Some(c) if (1.0..=100.0).contains(&c) => policy.backoff_coefficient = c,
                _ => self.err(
                    Code::InvalidValue,
                    &diag::key(path, "backoff_coefficient"),
                    format!(
                        "'backoff_coefficient' must be a number from 1 to 100, found {}",
                        describe(v)
                    ),
                ),
            }
        }
        if let Some(b) = self.string(map, "backoff", path) {
            policy.backoff = match b.as_str() {
                "exponential" => Backoff::Exponential,
                "linear" => Backoff::Linear,
                "fixed" | "constant" => Backoff::Fixed,
                other => {
                    self.err(
                        Code::InvalidValue,
                        &diag::key(path, "backoff"),
                        format!("'backoff' is exponential, linear or fixed, found '{other}'"),
                    );
                    Backoff::Exponential
                }
            };
        }
        let retry_on = self.string_list(map, "retry_on", path);
        for (i, r) in retry_on.iter().enumerate() {
            if !(RETRY_CLASSES.contains(&r.as_str()) || r == "any") {
                self.err(
                    Code::InvalidValue,
                    &diag::index(&diag::key(path, "retry_on"), i),
                    format!(
                        "'{r}' is not a retry class; known: {}, any",
                        RETRY_CLASSES.join(", ")
                    ),
                );
            }
        }
        policy.retry_on = retry_on;
        if policy.max_interval < policy.initial_interval {
            self.err(
                Code::InvalidValue,
                path,
                "max_interval is shorter than initial_interval",
            );
        }
        Some(policy)
    }

    fn on_error(&mut self, map: &Obj, path: &str) -> Option<OnError> {
        let s = self.string(map, "on_error", path)?;
        Some(match s.as_str() {
            "fail" | "propagate" => OnError::Fail,
            "continue" | "ignore" => OnError::Continue,
            "catch" => OnError::Catch,
            target => OnError::Goto(target.to_owned()),
        })
    }

    // -- triggers -----------------------------------------------------------------------------

    fn trigger(&mut self, v: &Value, path: &str) -> Option<Trigger> {
        let map = self.object(v, path, "a trigger")?;
        let ty = self.required_string(map, "type", path, "a trigger")?;
        let common = ["type", "name", "description", "conditions", "condition"];
        let allowed: Vec<&str> = match ty.as_str() {
            "event" => vec!["event", "event_name", "event_type", "source", "debounce"],
            "schedule" | "scheduled" | "cron" => vec![
                "cron",
                "schedule",
                "expression",
                "timezone",
                "start_at",
                "end_at",
                "catch_up",
                "payload",
            ],
            "webhook" => vec![
                "auth",
                "secret",
                "methods",
                "method",
                "schema",
                "response",
                "response_timeout",
            ],
            "manual" | "api" => vec!["input_schema", "schema"],
            other => {
                self.err(Code::InvalidValue, &diag::key(path, "type"), format!("unknown trigger type '{other}'; use event, schedule, webhook, manual or api"));
                return None;
            }
        };
        let allowed: Vec<&str> = common.iter().copied().chain(allowed).collect();
        self.check_keys(map, path, &allowed, &format!("a {ty} trigger"));
        self.string(map, "name", path);
        self.string(map, "description", path);
        if map.contains_key("conditions") && map.contains_key("condition") {
            self.err(
                Code::InvalidValue,
                path,
                "give only one of conditions, condition",
            );
        }
        let cond_key = if map.contains_key("conditions") {
            "conditions"
        } else {
            "condition"
        };
        let conditions = map
            .get(cond_key)
            .and_then(|c| self.condition(c, &diag::key(path, cond_key)));
        let kind = match ty.as_str() {
            "event" => {
                let event = self
                    .string_any(map, &["event", "event_name", "event_type"], path)
                    .map(|(_, s)| s);
                let Some(event) = event.filter(|e| !e.trim().is_empty()) else {
                    if !["event", "event_name", "event_type"]
                        .iter()
                        .any(|k| map.contains_key(*k))
                    {
                        self.err(
                            Code::MissingField,
                            path,
                            "an event trigger needs 'event' (the event type, like order.created)",
                        );
                    }
                    return None;
                };
                if event.len() > 255 || event.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    self.err(Code::InvalidValue, path, format!("'{event}' is not a valid event type (no spaces, at most 255 characters)"));
                }
                let source = self.string(map, "source", path);
                let debounce = map
                    .get("debounce")
                    .and_then(|d| self.debounce(d, &diag::key(path, "debounce")));
                TriggerKind::Event {
                    event,
                    source,
                    debounce,
                }
            }
            "schedule" | "scheduled" | "cron" => {
                TriggerKind::Schedule(Box::new(self.schedule(map, path)?))
            }
            "webhook" => TriggerKind::Webhook(self.webhook(map, path)?),
            _ => {
                if map.contains_key("input_schema") && map.contains_key("schema") {
                    self.err(
                        Code::InvalidValue,
                        path,
                        "give only one of input_schema, schema",
                    );
                }
                let key = if map.contains_key("input_schema") {
                    "input_schema"
                } else {
                    "schema"
                };
                let input_schema = self.json_schema(map, key, path);
                if ty == "api" {
                    TriggerKind::Api { input_schema }
                } else {
                    TriggerKind::Manual { input_schema }
                }
            }
        };
        Some(Trigger {
            kind,
            conditions,
            path: path.to_owned(),
        })
    }

    fn debounce(&mut self, v: &Value, path: &str) -> Option<Debounce> {
        match v {
            // `debounce` may be written as milliseconds.
            Value::Number(n) => match n.as_u64() {
                Some(ms) if ms <= 86_400_000 => Some(Debounce {
                    window: Duration::from_millis(ms),
                    key: None,
                }),
                _ => {
                    self.err(
                        Code::BadDuration,
                        path,
                        "a numeric 'debounce' is milliseconds, from 0 to 86400000",
                    );
                    None
                }
            },
            Value::String(s) if s.trim().parse::<u64>().is_ok() => {
                // A bare number in a string is ambiguous here: numbers are milliseconds.
                self.err(
                    Code::BadDuration,
                    path,
                    format!("'{s}' has no unit; write \"{s}ms\" or \"{s}s\""),
                );
                None
            }
            Value::String(s) => match Duration::parse(s) {
                Ok(window) => Some(Debounce { window, key: None }),
                Err(e) => {
                    self.err(Code::BadDuration, path, e);
                    None
                }
            },
            Value::Object(map) => {
                self.check_keys(map, path, &["window", "key"], "'debounce'");
                let window = match map.get("window") {
                    Some(_) => self.duration(map, "window", path)?,
                    None => {
                        self.err(
                            Code::MissingField,
                            path,
                            "'debounce' needs a 'window' like \"2s\"",
                        );
                        return None;
                    }
                };
                let key = self.template(map, "key", path);
                Some(Debounce { window, key })
            }
            other => {
                self.err(
                    Code::WrongType,
                    path,
                    format!(
                        "'debounce' is a duration or {{window, key}}, found {}",
                        type_name(other)
                    ),
                );
                None
            }
        }
    }

    fn schedule(&mut self, map: &Obj, path: &str) -> Option<Schedule> {
        let (key, cron) = match self.string_any(map, &["cron", "schedule", "expression"], path) {
            Some(found) => found,
            None => {
                if !["cron", "schedule", "expression"]
                    .iter()
                    .any(|k| map.contains_key(*k))
                {
                    self.err(
                        Code::MissingField,
                        path,
                        "a schedule trigger needs 'cron', like \"0 9 * * MON-FRI\"",
                    );
                }
                return None;
            }
        };
        let compiled = match crate::schedule::compile_cron(&cron) {
            Ok(c) => Some(c),
            Err(e) => {
                self.err(Code::BadCron, &diag::key(path, &key), e);
                None
            }
        };
        let timezone = self.string(map, "timezone", path);
        let tz = match &timezone {
            None => Some(chrono_tz::Tz::UTC),
            Some(tz) => {
                match tz.parse::<chrono_tz::Tz>() {
                    Ok(tz) => Some(tz),
                    Err(_) => {
                        self.err(
                        Code::BadTimezone,
                        &diag::key(path, "timezone"),
                        format!("'{tz}' is not an IANA time zone, like Europe/Paris or America/New_York"),
                    );
                        None
                    }
                }
            }
        };
        let zone = tz.unwrap_or(chrono_tz::Tz::UTC);
        let mut bound = |key: &str| -> (Option<String>, Option<chrono::DateTime<chrono::Utc>>) {
            let Some(s) = self.string(map, key, path) else {
                return (None, None);
            };
            let at = crate::schedule::parse_bound(&s, zone, key == "end_at");
            if at.is_none() {
                self.err(
                    Code::InvalidValue,
                    &diag::key(path, key),
                    format!("'{key}' must be an RFC 3339 time or a date, found '{s}'"),
                );
            }
            (Some(s), at)
        };
        let (start_at, start) = bound("start_at");
        let (end_at, end) = bound("end_at");
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            self.err(
                Code::InvalidValue,
                &diag::key(path, "end_at"),
                "'end_at' is not after 'start_at'",
            );
        }
        let catch_up = match self.string(map, "catch_up", path).as_deref() {
            None | Some("none") => CatchUp::None,
            Some("latest") => CatchUp::Latest,
            Some("all") => CatchUp::All,
            Some(other) => {
                self.err(
                    Code::InvalidValue,
                    &diag::key(path, "catch_up"),
                    format!("'catch_up' is none, latest or all, found '{other}'"),
                );
                CatchUp::None
            }
        };
        Some(Schedule {
            cron,
            timezone,
            start_at,
            end_at,
            catch_up,
            payload: map.get("payload").cloned(),
            plan: crate::schedule::Plan::new(compiled?, tz?, start, end),
        })
    }

    fn webhook(&mut self, map: &Obj, path: &str) -> Option<Webhook> {
        let mut auth = WebhookAuth::None;
        if map.contains_key("auth") && map.contains_key("secret") {
            self.err(Code::InvalidValue, path, "give only one of auth, secret");
        }
        if map.contains_key("secret") {
            let secret = self.template(map, "secret", path)?;
            auth = WebhookAuth::Token {
                header: "X-Weir-Token".into(),
                secret,
            };
        }
        if let Some(a) = map.get("auth") {
            let ap = diag::key(path, "auth");
            let am = self.object(a, &ap, "'auth'")?;
            self.check_keys(
                am,
                &ap,
                &["type", "header", "secret", "timestamp_header", "tolerance"],
                "webhook 'auth'",
            );
            let ty = self.required_string(am, "type", &ap, "webhook 'auth'")?;
            let secret = |r: &mut Self| -> Option<Template> {
                if !am.contains_key("secret") {
                    r.err(
                        Code::MissingField,
                        &ap,
                        "webhook auth needs 'secret', like \"{{secrets.WEBHOOK_KEY}}\"",
                    );
                    return None;
                }
                r.template(am, "secret", &ap)
            };
            auth = match ty.as_str() {
                "none" => WebhookAuth::None,
                "token" => WebhookAuth::Token {
                    header: self
                        .string(am, "header", &ap)
                        .unwrap_or_else(|| "X-Weir-Token".into()),
                    secret: secret(self)?,
                },
                "hmac" | "hmac_sha256" => WebhookAuth::Hmac {
                    header: self
                        .string(am, "header", &ap)
                        .unwrap_or_else(|| "X-Weir-Signature".into()),
                    timestamp_header: self
                        .string(am, "timestamp_header", &ap)
                        .unwrap_or_else(|| "X-Weir-Timestamp".into()),
                    tolerance: self
                        .duration(am, "tolerance", &ap)
                        .unwrap_or(Duration::from_secs(300)),
                    secret: secret(self)?,
                },
                other => {
                    self.err(
                        Code::InvalidValue,
                        &diag::key(&ap, "type"),
                        format!("webhook auth type is none, token or hmac, found '{other}'"),
                    );
                    return None;
                }
            };
        }
        let mut methods = self.string_list(map, "methods", path);
        if let Some(m) = self.string(map, "method", path) {
            methods.push(m);
        }
        for m in &mut methods {
            *m = m.to_ascii_uppercase();
            if !matches!(m.as_str(), "POST" | "PUT" | "GET" | "PATCH" | "DELETE") {
                self.err(
                    Code::InvalidValue,
                    path,
                    format!("'{m}' is not an HTTP method a webhook accepts"),
                );
            }
        }
        if methods.is_empty() {
            methods.push("POST".into());
        }
        let respond = match self.string(map, "response", path).as_deref() {
            None | Some("immediate") => WebhookResponse::Immediate,
            Some("wait") | Some("decision") => WebhookResponse::Wait,
            Some(other) => {
                self.err(
                    Code::InvalidValue,
                    &diag::key(path, "response"),
                    format!("'response' is immediate or wait, found '{other}'"),
                );
                WebhookResponse::Immediate
            }
        };
        Some(Webhook {
            auth,
            methods,
            schema: self.json_schema(map, "schema", path),
            respond,
            response_timeout: self.duration(map, "response_timeout", path),
        })
    }

    // -- steps --------------------------------------------------------------------------------

    fn step_list(&mut self, v: &Value, path: &str, owner: &str) -> StepList {
        let Value::Array(items) = v else {
            self.err(
                Code::WrongType,
                path,
                format!("'steps' must be a list, found {}", type_name(v)),
            );
            return StepList::new(Vec::new(), path.to_owned());
        };
        if items.is_empty() {
            self.err(
                Code::InvalidValue,
                path,
                format!("{owner} needs at least one step"),
            );
        }
        let mut steps: Vec<Step> = items
            .iter()
            .enumerate()
            .filter_map(|(i, s)| self.step(s, &diag::index(path, i)))
            .collect();
        // The flat shape orders steps with `order`; steps without one keep their place after those with.
        if steps.iter().any(|s| s.order.is_some()) {
            steps.sort_by_key(|s| s.order.unwrap_or(i64::MAX));
        }
        StepList::new(steps, path.to_owned())
    }

    fn target(&mut self, map: &Obj, key: &str, path: &str) -> Option<String> {
        let s = self.string(map, key, path)?;
        if s.trim().is_empty() {
            self.err(
                Code::InvalidValue,
                &diag::key(path, key),
                format!("'{key}' names no step"),
            );
            return None;
        }
        Some(s)
    }

    fn step(&mut self, v: &Value, path: &str) -> Option<Step> {
        let map = self.object(v, path, "a step")?;
        let ty = self.required_string(map, "type", path, "a step");
        let id = self.required_string(map, "id", path, "a step");
        if let Some(id) = &id
            && !valid_id(id)
        {
            self.err(Code::InvalidValue, &diag::key(path, "id"), format!("'{id}' is not a valid step id; use letters, digits, '_', '-' and '.' (at most 128)"));
        }
        if let Some(id) = &id {
            match self.step_ids.get(id) {
                Some(first) => {
                    let msg = format!("duplicate step id '{id}' (first used at {first})");
                    self.err(Code::DuplicateStepId, &diag::key(path, "id"), msg);
                }
                None => {
                    self.step_ids.insert(id.clone(), path.to_owned());
                }
            }
        }
        let ty = ty?;
        let mut known_type = true;
        let specific: &[&str] = match ty.as_str() {
            "condition" => &["condition", "on_true", "on_false"],
            "switch" => &["value", "cases", "default", "condition"],
            "parallel" => &[
                "steps",
                "branches",
                "strategy",
                "on_true",
                "on_false",
                "condition",
            ],
            "wait" => &["event", "match", "on_timeout", "condition"],
            "delay" => &["duration", "until", "condition"],
            "approval" => &[
                "approver_role",
                "entity",
                "entity_id",
                "message",
                "on_approve",
                "on_reject",
                "on_timeout",
                "condition",
            ],
            "foreach" => &[
                "items",
                "as",
                "steps",
                "max_iterations",
                "concurrency",
                "condition",
            ],
            "subworkflow" => &["workflow_id", "input", "output", "condition"],
            "set" => &["variables", "condition"],
            "action" => &["action", "reason", "execute", "condition"],
            "execute" => &["action", "config", "condition"],
            other if self.catalog.get(other).is_some() => &["config", "condition"],
            other => {
                let mut known: Vec<&str> = CONTROL_STEP_TYPES.to_vec();
                known.extend(self.catalog.names());
                let hint = closest(other, &known)
                    .map(|c| format!(" (did you mean '{c}'?)"))
                    .unwrap_or_default();
                let fix = replace_with(other, &known);
                self.diags.push_fix(Code::UnknownActionType, &diag::key(path, "type"), format!("unknown step type '{other}'{hint}; control steps are {} and actions are {}", CONTROL_STEP_TYPES.join(", "), self.catalog.names().join(", ")), fix);
                known_type = false;
                &[]
            }
        };
        if known_type {
            let allowed: Vec<&str> = COMMON_STEP_FIELDS.iter().chain(specific).copied().collect();
            self.check_keys(map, path, &allowed, &format!("a '{ty}' step"));
        }

        let name = self.string(map, "name", path);
        self.string(map, "description", path);
        let next = self.target(map, "next", path);
        let end = self.boolean(map, "end", path).unwrap_or(false);
        let depends_on = self.string_list(map, "depends_on", path);
        if map.contains_key("order") && map.contains_key("ordering") {
            self.err(Code::InvalidValue, path, "give only one of order, ordering");
        }
        let order_key = if map.contains_key("ordering") {
            "ordering"
        } else {
            "order"
        };
        let order = self.integer(
            map,
            order_key,
            path,
            i64::from(i32::MIN),
            i64::from(i32::MAX),
        );
        if map.contains_key("retry") && map.contains_key("retry_policy") {
            self.err(
                Code::InvalidValue,
                path,
                "give only one of retry, retry_policy",
            );
        }
        let retry_key = if map.contains_key("retry") {
            "retry"
        } else {
            "retry_policy"
        };
        let retry = map
            .get(retry_key)
            .and_then(|r| self.retry(r, &diag::key(path, retry_key)));
        let timeout = self.timeout(map, path);
        let allow_failure = self.boolean(map, "allow_failure", path).unwrap_or(false);
        let on_error = self.on_error(map, path);
        let guard = if ty != "condition" {
            map.get("condition")
                .and_then(|c| self.condition(c, &diag::key(path, "condition")))
        } else {
            None
        };

        // An invalid step is kept, with placeholders, so that the checks of the whole workflow
        // (targets, reachability) still see it; the workflow is invalid anyway.
        let kind = if known_type {
            self.step_kind(&ty, map, path, timeout)
        } else {
            placeholder_action(&ty, path)
        };
        Some(Step {
            id: id?,
            name,
            kind,
            next,
            end,
            depends_on,
            order,
            guard,
            retry,
            timeout,
            allow_failure,
            on_error,
            path: path.to_owned(),
        })
    }

    fn step_kind(
        &mut self,
        ty: &str,
        map: &Obj,
        path: &str,
        timeout: Option<Duration>,
    ) -> StepKind {
        match ty {
            "condition" => {
                let condition = match map.get("condition") {
                    Some(c) => self.condition(c, &diag::key(path, "condition")),
                    None => {
                        self.err(
                            Code::MissingField,
                            path,
                            "a condition step needs 'condition'",
                        );
                        None
                    }
                };
                let on_true = self.target(map, "on_true", path);
                let on_false = self.target(map, "on_false", path);
                StepKind::Condition {
                    condition: condition.unwrap_or(Condition::And(Vec::new())),
                    on_true,
                    on_false,
                }
            }
            "switch" => {
                let value = map
                    .get("value")
                    .map(|v| self.template_value(v, &diag::key(path, "value")));
                let default = self.target(map, "default", path);
                let cases_path = diag::key(path, "cases");
                let mut cases = Vec::new();
                match map.get("cases") {
                    Some(Value::Array(list)) if !list.is_empty() => {
                        for (i, c) in list.iter().enumerate() {
                            let cp = diag::index(&cases_path, i);
                            let Some(cm) = self.object(c, &cp, "a switch case") else {
                                continue;
                            };
                            self.check_keys(
                                cm,
                                &cp,
                                &["when", "condition", "next"],
                                "a switch case",
                            );
                            let when = cm.get("when").cloned();
                            let condition = cm
                                .get("condition")
                                .and_then(|c| self.condition(c, &diag::key(&cp, "condition")));
                            match (&when, cm.contains_key("condition")) {
                                (Some(_), true) => self.err(
                                    Code::InvalidValue,
                                    &cp,
                                    "a case has either 'when' or 'condition', not both",
                                ),
                                (None, false) => self.err(
                                    Code::MissingField,
                                    &cp,
                                    "a case needs 'when' (a value to match) or 'condition'",
                                ),
                                (Some(_), false) if value.is_none() => self.err(
                                    Code::MissingField,
                                    path,
                                    "a switch whose cases use 'when' needs 'value' to compare",
                                ),
                                _ => {}
                            }
                            let Some(next) = self.required_string(cm, "next", &cp, "a switch case")
                            else {
                                continue;
                            };
                            cases.push(SwitchCase {
                                when,
                                condition,
                                next,
                                path: cp,
                            });
                        }
                    }
                    Some(Value::Array(_)) => self.err(
                        Code::InvalidValue,
                        &cases_path,
                        "a switch needs at least one case",
                    ),
                    Some(other) => self.err(
                        Code::WrongType,
                        &cases_path,
                        format!("'cases' must be a list, found {}", type_name(other)),
                    ),
                    None => self.err(Code::MissingField, path, "a switch step needs 'cases'"),
                }
                StepKind::Switch {
                    value,
                    cases,
                    default,
                }
            }
            "parallel" => {
                if map.contains_key("steps") && map.contains_key("branches") {
                    self.err(Code::InvalidValue, path, "give only one of steps, branches");
                }
                let key = if map.contains_key("branches") {
                    "branches"
                } else {
                    "steps"
                };
                let bp = diag::key(path, key);
                let mut branches = Vec::new();
                match map.get(key) {
                    Some(Value::Array(list)) if !list.is_empty() => {
                        for (i, b) in list.iter().enumerate() {
                            let brp = diag::index(&bp, i);
                            // A branch is one step, or {"steps": [...]} for a sequence.
                            match b {
                                Value::Object(bm)
                                    if bm.contains_key("steps") && !bm.contains_key("type") =>
                                {
                                    self.check_keys(
                                        bm,
                                        &brp,
                                        &["steps", "name", "id"],
                                        "a parallel branch",
                                    );
                                    branches.push(self.step_list(
                                        &bm["steps"],
                                        &diag::key(&brp, "steps"),
                                        "a parallel branch",
                                    ));
                                }
                                _ => {
                                    let steps = self.step(b, &brp).into_iter().collect();
                                    branches.push(StepList::new(steps, brp));
                                }
                            }
                        }
                    }
                    Some(Value::Array(_)) => self.err(
                        Code::EmptyParallel,
                        &bp,
                        "a parallel step needs at least one branch",
                    ),
                    Some(other) => self.err(
                        Code::WrongType,
                        &bp,
                        format!(
                            "'{key}' must be a list of branches, found {}",
                            type_name(other)
                        ),
                    ),
                    None => self.err(
                        Code::EmptyParallel,
                        path,
                        "a parallel step needs 'steps': one branch each",
                    ),
                }
                let strategy = match self.string(map, "strategy", path).as_deref() {
                    None | Some("all") => Strategy::All,
                    Some("any") => Strategy::Any,
                    Some("first") => Strategy::First,
                    Some("all_must_pass") => Strategy::AllMustPass,
                    Some(other) => {
                        self.err(
                            Code::InvalidValue,
                            &diag::key(path, "strategy"),
                            format!(
                                "'strategy' is all, any, first or all_must_pass, found '{other}'"
                            ),
                        );
                        Strategy::All
                    }
                };
                let on_true = self.target(map, "on_true", path);
                let on_false = self.target(map, "on_false", path);
                if strategy != Strategy::AllMustPass && (on_true.is_some() || on_false.is_some()) {
                    self.err(
                        Code::InvalidValue,
                        path,
                        "on_true / on_false only apply to strategy all_must_pass",
                    );
                }
                StepKind::Parallel {
                    branches,
                    strategy,
                    on_true,
                    on_false,
                }
            }
            "wait" => {
                let event = self.required_string(map, "event", path, "a wait step");
                let matches = map
                    .get("match")
                    .and_then(|m| self.condition(m, &diag::key(path, "match")));
                let on_timeout = self.target(map, "on_timeout", path);
                let timeout_given =
                    map.contains_key("timeout") || map.contains_key("timeout_seconds");
                if on_timeout.is_some() && !timeout_given {
                    self.err(Code::MissingField, path, "'on_timeout' needs a 'timeout'");
                }
                StepKind::Wait {
                    event: event.unwrap_or_default(),
                    matches,
                    timeout,
                    on_timeout,
                }
            }
            "delay" => {
                let duration = self.duration(map, "duration", path);
                let until = self.template(map, "until", path);
                match (map.contains_key("duration"), map.contains_key("until")) {
                    (true, true) => self.err(
                        Code::InvalidValue,
                        path,
                        "a delay has 'duration' or 'until', not both",
                    ),
                    (false, false) => self.err(
                        Code::MissingField,
                        path,
                        "a delay step needs 'duration' (like \"1h\") or 'until' (a time)",
                    ),
                    _ => {}
                }
                if let Some(Value::String(u)) = map.get("until")
                    && !u.contains("{{")
                    && crate::condition::parse_time(u, chrono::DateTime::<chrono::Utc>::UNIX_EPOCH)
                        .is_none()
                {
                    self.err(
                        Code::InvalidValue,
                        &diag::key(path, "until"),
                        format!("'until' must be a time (RFC 3339) or a template, found '{u}'"),
                    );
                }
                StepKind::Delay { duration, until }
            }
            "approval" => StepKind::Approval(Approval {
                approver_role: self.string(map, "approver_role", path),
                entity: self.string(map, "entity", path),
                entity_id: map
                    .get("entity_id")
                    .map(|v| self.template_value(v, &diag::key(path, "entity_id"))),
                message: map
                    .get("message")
                    .map(|v| self.template_value(v, &diag::key(path, "message"))),
                timeout,
                on_approve: self.target(map, "on_approve", path),
                on_reject: self.target(map, "on_reject", path),
                on_timeout: self.target(map, "on_timeout", path),
            }),
            "foreach" => {
                let items = match map.get("items") {
                    Some(Value::Null) | None => {
                        self.err(Code::ForeachWithoutItems, path, "a foreach step needs 'items': a list or a template like \"{{order.items}}\"");
                        None
                    }
                    Some(Value::String(s)) if !s.contains("{{") => {
                        self.err(Code::ForeachWithoutItems, &diag::key(path, "items"), format!("'items' is the plain string '{s}'; write a template like \"{{{{{s}}}}}\" or a list"));
                        None
                    }
                    Some(v @ (Value::String(_) | Value::Array(_))) => {
                        Some(self.template_value(v, &diag::key(path, "items")))
                    }
                    Some(other) => {
                        self.err(
                            Code::ForeachWithoutItems,
                            &diag::key(path, "items"),
                            format!(
                                "'items' must be a list or a template, found {}",
                                type_name(other)
                            ),
                        );
                        None
                    }
                };
                let as_name = self
                    .string(map, "as", path)
                    .unwrap_or_else(|| "item".into());
                if RESERVED_NAMES.contains(&as_name.as_str()) {
                    let msg = format!(
                        "'{as_name}' is a reserved name in the context ({}); choose another",
                        RESERVED_NAMES.join(", ")
                    );
                    self.err(Code::InvalidValue, &diag::key(path, "as"), msg);
                } else if !valid_id(&as_name) || as_name.contains('.') {
                    self.err(
                        Code::InvalidValue,
                        &diag::key(path, "as"),
                        format!("'{as_name}' is not a valid variable name"),
                    );
                }
                let body = match map.get("steps") {
                    Some(v) => self.step_list(v, &diag::key(path, "steps"), "a foreach body"),
                    None => {
                        self.err(
                            Code::MissingField,
                            path,
                            "a foreach step needs 'steps': the body run for each item",
                        );
                        StepList::default()
                    }
                };
                let max_iterations = self
                    .integer(map, "max_iterations", path, 1, 100_000)
                    .map(|n| n as u32);
                let concurrency = self
                    .integer(map, "concurrency", path, 1, 1000)
                    .map(|n| n as u32);
                StepKind::Foreach {
                    items: items.unwrap_or(TemplateValue::Literal(Value::Null)),
                    as_name,
                    body,
                    max_iterations,
                    concurrency,
                }
            }
            "subworkflow" => {
                let workflow_id =
                    self.required_string(map, "workflow_id", path, "a subworkflow step");
                let input = map
                    .get("input")
                    .map(|v| self.template_value(v, &diag::key(path, "input")));
                let output = self.string(map, "output", path);
                StepKind::Subworkflow {
                    workflow_id: workflow_id.unwrap_or_default(),
                    input,
                    output,
                }
            }
            "set" => match map.get("variables") {
                Some(v) => StepKind::Set {
                    variables: self.variables(v, &diag::key(path, "variables")),
                },
                None => {
                    self.err(Code::MissingField, path, "a set step needs 'variables'");
                    StepKind::Set {
                        variables: Vec::new(),
                    }
                }
            },
            "action" => {
                let Some(action) = self.required_string(map, "action", path, "an action step")
                else {
                    return placeholder_action("action", path);
                };
                let verdict = match action.as_str() {
                    "allow" => Verdict::Allow,
                    "block" => Verdict::Block,
                    "execute" => Verdict::Execute,
                    other => {
                        let hint = if self.catalog.get(other).is_some() {
                            format!(
                                "; to run '{other}', write {{\"type\": \"{other}\", \"config\": {{…}}}} or list it under 'execute'"
                            )
                        } else {
                            String::new()
                        };
                        self.err(Code::InvalidValue, &diag::key(path, "action"), format!("an action step's 'action' is allow, block or execute, found '{other}'{hint}"));
                        return placeholder_action("action", path);
                    }
                };
                let reason = self.template(map, "reason", path);
                let metadata = map
                    .get("metadata")
                    .map(|v| self.template_value(v, &diag::key(path, "metadata")));
                let execute = match map.get("execute") {
                    Some(Value::Array(list)) => list
                        .iter()
                        .enumerate()
                        .filter_map(|(i, e)| {
                            self.execute_entry(e, &diag::index(&diag::key(path, "execute"), i))
                        })
                        .collect(),
                    Some(other) => {
                        self.err(
                            Code::WrongType,
                            &diag::key(path, "execute"),
                            format!(
                                "'execute' must be a list of actions, found {}",
                                type_name(other)
                            ),
                        );
                        Vec::new()
                    }
                    None => Vec::new(),
                };
                if verdict == Verdict::Execute && execute.is_empty() && !map.contains_key("execute")
                {
                    self.err(
                        Code::MissingField,
                        path,
                        "an 'execute' action step needs an 'execute' list",
                    );
                }
                StepKind::Decision(Decision {
                    verdict,
                    reason,
                    metadata,
                    execute,
                })
            }
            "execute" => {
                let Some(action) = self.required_string(map, "action", path, "an execute step")
                else {
                    return placeholder_action("execute", path);
                };
                StepKind::Action(self.action_call(
                    &action,
                    map.get("config"),
                    path,
                    &diag::key(path, "action"),
                    &diag::key(path, "config"),
                ))
            }
            other => StepKind::Action(self.action_call(
                other,
                map.get("config"),
                path,
                &diag::key(path, "type"),
                &diag::key(path, "config"),
            )),
        }
    }

    /// An entry of a decision step's `execute` list: `{"type": T, ...config}` or
    /// `{"type": T, "config": {...}}`.
    fn execute_entry(&mut self, v: &Value, path: &str) -> Option<ActionCall> {
        let map = self.object(v, path, "an execute entry")?;
        let ty = self.required_string(map, "type", path, "an execute entry")?;
        if map.contains_key("config") && map.len() > 2 {
            let msg = "give the action's config either inline or under 'config', not both";
            self.err(Code::InvalidValue, path, msg);
        }
        if map.len() == 2 && map.contains_key("config") {
            return Some(self.action_call(
                &ty,
                map.get("config"),
                path,
                &diag::key(path, "type"),
                &diag::key(path, "config"),
            ));
        }
        let mut config = map.clone();
        config.shift_remove("type");
        // Inline config: schema problems are reported at the entry's own fields.
        Some(self.action_call(
            &ty,
            Some(&Value::Object(config)),
            path,
            &diag::key(path, "type"),
            path,
        ))
    }

    fn action_call(
        &mut self,
        ty: &str,
        config: Option<&Value>,
        path: &str,
        type_path: &str,
        config_path: &str,
    ) -> ActionCall {
        let empty = Value::Object(Map::new());
        let config = config.unwrap_or(&empty);
        match self.catalog.get(ty) {
            Some(action) => {
                if !config.is_object() {
                    self.err(
                        Code::WrongType,
                        config_path,
                        format!(
                            "the config of '{ty}' must be an object, found {}",
                            type_name(config)
                        ),
                    );
                } else {
                    for (pointer, msg) in action.check(config) {
                        self.err(
                            Code::ActionConfig,
                            &pointer_to_path(config_path, &pointer),
                            format!("{ty}: {msg}"),
                        );
                    }
                }
            }
            None => {
                let names = self.catalog.names();
                let hint = closest(ty, &names)
                    .map(|c| format!(" (did you mean '{c}'?)"))
                    .unwrap_or_default();
                let fix = replace_with(ty, &names);
                self.diags.push_fix(
                    Code::UnknownActionType,
                    type_path,
                    format!(
                        "unknown action type '{ty}'{hint}; known: {}",
                        names.join(", ")
                    ),
                    fix,
                );
            }
        }
        let config = self.template_value(config, config_path);
        ActionCall {
            action_type: ty.to_owned(),
            config,
            path: path.to_owned(),
            config_path: config_path.to_owned(),
        }
    }
}

/// Turns a JSON pointer below `base` into a JSON path.
fn pointer_to_path(base: &str, pointer: &str) -> String {
    let mut out = base.to_owned();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        out = match seg.parse::<usize>() {
            Ok(i) => diag::index(&out, i),
            Err(_) => diag::key(&out, &seg),
        };
    }
    out
}

pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A workflow id made from a name: "Customer Onboarding - Standard" → "customer_onboarding_standard".
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let trimmed = out.trim_end_matches('_');
    trimmed.chars().take(128).collect()
}

fn describe(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("\"{s}\""),
        other => type_name(other).to_owned(),
    }
}

/// The allowed name closest to a misspelling, if one is close.
/// The one option closest to `word`, when no other is as close: a fix that is sure.
pub(crate) fn closest_unique<'s>(word: &str, options: &[&'s str]) -> Option<&'s str> {
    let best = closest(word, options)?;
    let d = levenshtein(word, best);
    let ties = options
        .iter()
        .filter(|o| **o != best && levenshtein(word, o) == d)
        .count();
    (ties == 0).then_some(best)
}

/// A fix that puts the one close match of a misspelled value in its place.
pub(crate) fn replace_with(word: &str, options: &[&str]) -> Option<Fix> {
    closest_unique(word, options).map(|c| Fix::Replace {
        value: Value::String(c.to_owned()),
    })
}

/// An example value for a missing field, for a suggested (never applied) fix.
pub(crate) fn example_for(key: &str) -> Value {
    match key {
        "id" => "step_1".into(),
        "workflow_id" => "my_workflow".into(),
        "rule_id" => "my_rule".into(),
        "name" => "My workflow".into(),
        "event" => "order.created".into(),
        "action" => "allow".into(),
        "operator" => "eq".into(),
        "field" => "order.total".into(),
        "duration" | "timeout" => "1h".into(),
        "approver_role" => "manager".into(),
        "url" => "https://example.com/hook".into(),
        "type" => "action".into(),
        "items" => "{{order.items}}".into(),
        "cron" => "0 9 * * 1-5".into(),
        _ => "…".into(),
    }
}

pub(crate) fn closest<'s>(word: &str, options: &[&'s str]) -> Option<&'s str> {
    options
        .iter()
        .map(|o| (levenshtein(word, o), *o))
        .filter(|(d, o)| *d <= 2.max(o.len() / 4) && *d < o.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o)
}

pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Stands in for a step whose type or shape is invalid, so whole-workflow checks still see it.
fn placeholder_action(ty: &str, path: &str) -> StepKind {
    StepKind::Action(ActionCall {
        action_type: ty.to_owned(),
        config: TemplateValue::Literal(Value::Null),
        path: path.to_owned(),
        config_path: path.to_owned(),
    })
}
