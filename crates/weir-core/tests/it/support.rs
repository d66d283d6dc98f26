//! Shared helpers: a fixed clock, a catalog, and reading definitions.

use chrono::{DateTime, Utc};
use serde_json::Value;
use weir_core::catalog::BuiltinCatalog;
use weir_core::condition::Condition;
use weir_core::diag::{Diagnostic, Diags};
use weir_core::{Env, Rules, Validated, Workflow, validate_value};

pub fn now() -> DateTime<Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

pub fn catalog() -> &'static BuiltinCatalog {
    static CATALOG: std::sync::OnceLock<BuiltinCatalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(BuiltinCatalog::new)
}

pub fn validate(doc: &Value) -> Validated {
    validate_value(doc, catalog(), &Rules::default())
}

/// Reads a definition that must be valid; panics with the diagnostics otherwise.
pub fn workflow(doc: &Value) -> Workflow {
    let v = validate(doc);
    let diags = v.diagnostics.clone();
    match v.into_valid() {
        Ok(w) => w,
        Err(_) => panic!("expected a valid workflow, got:\n{}", render(&diags)),
    }
}

pub fn render(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| format!("  {d}\n")).collect()
}

pub fn condition(doc: &Value) -> Condition {
    let mut diags = Diags::default();
    let c = Condition::parse(doc, "$", &mut diags);
    assert!(
        diags.0.is_empty(),
        "condition {doc} has problems:\n{}",
        render(&diags.0)
    );
    c.expect("condition parses")
}

pub fn env(rules: &Rules) -> Env<'_> {
    Env::new(now(), rules)
}

/// The dry-run options an `*.events.json` case asks for: its event and source, the outcomes it
/// assumes for approvals ("approve", "reject", "timeout") and waits ("timeout" or the awaited
/// payload), and action results by step id (`mocks`).
pub fn case_options(case: &Value) -> weir_core::DryRunOptions {
    use weir_core::dryrun::{ApprovalOutcome, WaitOutcome};
    weir_core::DryRunOptions {
        event: case["event"].as_str().map(str::to_owned),
        source: case["source"].as_str().map(str::to_owned),
        approval: match case["approval"].as_str() {
            Some("approve") => Some(ApprovalOutcome::Approve),
            Some("reject") => Some(ApprovalOutcome::Reject),
            Some("timeout") => Some(ApprovalOutcome::Timeout),
            _ => None,
        },
        wait: match &case["wait"] {
            Value::String(s) if s == "timeout" => Some(WaitOutcome::Timeout),
            Value::Object(_) => Some(WaitOutcome::Event(case["wait"].clone())),
            _ => None,
        },
        mocks: case["mocks"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        ..weir_core::DryRunOptions::default()
    }
}

/// A workflow whose foreach (4 at a time) runs a condition, then an action or a `set`, over
/// 1,500 items, and the case that sends them: past the 1,000 items a dry run once stopped at.
pub fn many_items_case() -> (Value, Value) {
    let wf = serde_json::json!({
        "workflow_id": "many", "trigger": {"type": "event", "event": "e.x"},
        "steps": [
            {"id": "each", "type": "foreach", "items": "{{items}}", "as": "item", "concurrency": 4, "steps": [
                {"id": "big", "type": "condition", "condition": {"field": "item.n", "operator": "gte", "value": 750},
                 "on_true": "mark", "on_false": "skip"},
                {"id": "mark", "type": "update_field", "config": {"entity_type": "item", "entity_id": "{{item.n}}", "field": "big", "value": true}, "end": true},
                {"id": "skip", "type": "set", "variables": {"last_small": "{{item.n}}"}}
            ]},
            {"id": "done", "type": "action", "action": "allow"}
        ]
    });
    let items: Vec<Value> = (0..1500).map(|n| serde_json::json!({ "n": n })).collect();
    let case =
        serde_json::json!({"name": "1,500 items", "event": "e.x", "payload": {"items": items}});
    (wf, case)
}
