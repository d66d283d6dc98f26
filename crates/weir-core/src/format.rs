//! Canonical formatting of definitions: known keys in a fixed order (identity, trigger, flow,
//! then routing), user data (configs, payloads, variables) left exactly as written, two-space
//! JSON or block YAML.

use serde_json::{Map, Value};

use crate::document::Format;

/// The fields of a workflow, in canonical order; the reader accepts exactly these.
pub(crate) const WORKFLOW_KEYS: &[&str] = &[
    "$schema",
    "workflow_id",
    "id",
    "name",
    "description",
    "version",
    "enabled",
    "category",
    "tags",
    "trigger",
    "triggers",
    "context",
    "settings",
    "retry_policy",
    "timeout",
    "timeout_seconds",
    "variables",
    "rules",
    "steps",
    "metadata",
];
const TRIGGER_KEYS: &[&str] = &[
    "type",
    "name",
    "description",
    "event",
    "event_name",
    "event_type",
    "source",
    "cron",
    "schedule",
    "expression",
    "timezone",
    "start_at",
    "end_at",
    "catch_up",
    "auth",
    "secret",
    "methods",
    "method",
    "schema",
    "input_schema",
    "response",
    "response_timeout",
    "conditions",
    "condition",
    "debounce",
    "payload",
];
const STEP_KEYS: &[&str] = &[
    "id",
    "name",
    "description",
    "type",
    "action",
    "order",
    "ordering",
    "depends_on",
    "condition",
    "value",
    "event",
    "match",
    "duration",
    "until",
    "items",
    "as",
    "max_iterations",
    "concurrency",
    "workflow_id",
    "input",
    "output",
    "approver_role",
    "entity",
    "entity_id",
    "message",
    "strategy",
    "steps",
    "branches",
    "cases",
    "variables",
    "reason",
    "metadata",
    "config",
    "execute",
    "retry",
    "retry_policy",
    "timeout",
    "timeout_seconds",
    "allow_failure",
    "on_error",
    "on_true",
    "on_false",
    "on_approve",
    "on_reject",
    "on_timeout",
    "default",
    "next",
    "end",
];
const CONDITION_KEYS: &[&str] = &[
    "and", "or", "not", "all", "any", "rule", "field", "operator", "op", "value",
];
/// The fields of a rule, in canonical order; the reader accepts exactly these.
pub(crate) const RULE_KEYS: &[&str] = &[
    "rule_id",
    "id",
    "name",
    "description",
    "type",
    "rule_type",
    "enabled",
    "conditions",
    "condition",
];
/// The fields of a retry policy, in canonical order; the reader accepts exactly these.
pub(crate) const RETRY_KEYS: &[&str] = &[
    "max_attempts",
    "initial_interval",
    "initial_interval_seconds",
    "backoff",
    "backoff_coefficient",
    "max_interval",
    "max_interval_seconds",
    "retry_on",
];

/// Returns `doc` with the keys of every definition object in canonical order.
pub fn canonicalize(doc: &Value) -> Value {
    let Value::Object(map) = doc else {
        return doc.clone();
    };
    let mut out = reorder(map, WORKFLOW_KEYS);
    if let Some(t) = out.get_mut("trigger") {
        *t = trigger(t);
    }
    if let Some(Value::Array(ts)) = out.get_mut("triggers") {
        ts.iter_mut().for_each(|t| *t = trigger(t));
    }
    if let Some(Value::Object(s)) = out.get_mut("settings")
        && let Some(r) = s.get_mut("retry_policy")
    {
        *r = retry(r);
    }
    if let Some(r) = out.get_mut("retry_policy") {
        *r = retry(r);
    }
    if let Some(Value::Array(rules)) = out.get_mut("rules") {
        for r in rules.iter_mut() {
            if let Value::Object(m) = r {
                let mut m2 = reorder(m, RULE_KEYS);
                for k in ["conditions", "condition"] {
                    if let Some(c) = m2.get_mut(k) {
                        *c = condition(c);
                    }
                }
                *r = Value::Object(m2);
            }
        }
    }
    if let Some(s) = out.get_mut("steps") {
        *s = steps(s);
    }
    Value::Object(out)
}

fn reorder(map: &Map<String, Value>, order: &[&str]) -> Map<String, Value> {
    let mut out = Map::with_capacity(map.len());
    for k in order {
        if let Some(v) = map.get(*k) {
            out.insert((*k).to_owned(), v.clone());
        }
    }
    for (k, v) in map {
        if !order.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

fn trigger(t: &Value) -> Value {
    let Value::Object(m) = t else {
        return t.clone();
    };
    let mut out = reorder(m, TRIGGER_KEYS);
    for k in ["conditions", "condition"] {
        if let Some(c) = out.get_mut(k) {
            *c = condition(c);
        }
    }
    Value::Object(out)
}

fn retry(r: &Value) -> Value {
    match r {
        Value::Object(m) => Value::Object(reorder(m, RETRY_KEYS)),
        other => other.clone(),
    }
}

fn condition(c: &Value) -> Value {
    match c {
        Value::Array(items) => Value::Array(items.iter().map(condition).collect()),
        Value::Object(m) => {
            let mut out = reorder(m, CONDITION_KEYS);
            for k in ["and", "or", "all", "any", "not"] {
                if let Some(inner) = out.get_mut(k) {
                    *inner = condition(inner);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn steps(s: &Value) -> Value {
    match s {
        Value::Array(items) => Value::Array(items.iter().map(step).collect()),
        other => other.clone(),
    }
}

fn step(s: &Value) -> Value {
    let Value::Object(m) = s else {
        return s.clone();
    };
    // A parallel branch written as {"steps": [...]}.
    if m.contains_key("steps") && !m.contains_key("type") {
        let mut out = m.clone();
        if let Some(inner) = out.get_mut("steps") {
            *inner = steps(inner);
        }
        return Value::Object(out);
    }
    let mut out = reorder(m, STEP_KEYS);
    let is_condition_step = out.get("type").and_then(Value::as_str) == Some("condition");
    for k in ["condition", "match"] {
        if let Some(c) = out.get_mut(k)
            && (k == "match" || is_condition_step || c.is_object())
        {
            *c = condition(c);
        }
    }
    for k in ["steps", "branches"] {
        if let Some(inner) = out.get_mut(k) {
            *inner = steps(inner);
        }
    }
    for k in ["retry", "retry_policy"] {
        if let Some(r) = out.get_mut(k) {
            *r = retry(r);
        }
    }
    if let Some(Value::Array(cases)) = out.get_mut("cases") {
        for c in cases.iter_mut() {
            if let Value::Object(cm) = c {
                let mut cm2 = reorder(cm, &["when", "condition", "next"]);
                if let Some(cond) = cm2.get_mut("condition") {
                    *cond = condition(cond);
                }
                *c = Value::Object(cm2);
            }
        }
    }
    Value::Object(out)
}

/// Renders a value as text in a format: two-space JSON or block YAML, ending with a newline.
pub fn render(value: &Value, format: Format) -> Result<String, String> {
    match format {
        Format::Json => serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
        Format::Yaml => serde_saphyr::to_string(value).map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn orders_known_keys_and_keeps_user_data() {
        let doc = json!({
            "steps": [{"next": "b", "type": "send_email", "id": "a", "config": {"z": 1, "a": 2}}],
            "name": "N", "workflow_id": "w"
        });
        let c = canonicalize(&doc);
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(
            text,
            r#"{"workflow_id":"w","name":"N","steps":[{"id":"a","type":"send_email","config":{"z":1,"a":2},"next":"b"}]}"#
        );
    }

    #[test]
    fn yaml_and_json_round_trip() {
        let doc = json!({"workflow_id": "w", "steps": [{"id": "a", "type": "action", "action": "allow"}], "n": 1.5});
        for f in [Format::Json, Format::Yaml] {
            let text = render(&doc, f).unwrap();
            assert_eq!(
                crate::document::load_value(text.as_bytes(), Some(f)).unwrap(),
                doc,
                "{f}"
            );
        }
    }
}
