//! `weir test FILE --cases CASES`: dry-runs every case of a case file (the `*.events.json`
//! files beside the examples and templates) and compares what happens with what the case
//! expects. A case is `{"name", "event"?, "source"?, "payload"?, "approval"?, "wait"?,
//! "mocks"?, "fail"?, "expect": {"matched"?, "decision"?, "status"?, "steps"?}}`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};
use weir_core::dryrun::{ApprovalOutcome, WaitOutcome, failure_classes};
use weir_core::{DryRunOptions, Env, Workflow, dry_run};

use crate::input::{self, Failure};

/// The fields a case may have, and those of its `expect`.
const CASE_FIELDS: &[&str] = &[
    "name", "event", "source", "payload", "approval", "wait", "mocks", "fail", "expect",
];
const EXPECT_FIELDS: &[&str] = &["matched", "decision", "status", "steps"];

/// One case as read: its name, the dry run's options and payload, and what it expects.
pub struct Case {
    pub name: String,
    pub payload: Value,
    pub options: DryRunOptions,
    pub expect: Map<String, Value>,
}

/// Reads a case file: a JSON or YAML list of cases, each checked field by field (a usage
/// error naming the case and field).
pub fn read(path: &Path, workflow: &Workflow) -> Result<Vec<Case>, Failure> {
    let shown = input::sanitize(&path.display().to_string());
    let bytes = input::read_bytes(path)?;
    let doc = weir_core::load_value(&bytes, weir_core::Format::from_extension(&shown))
        .map_err(|e| Failure::Usage(format!("--cases {shown}: {e}")))?;
    let Value::Array(items) = doc else {
        return Err(Failure::Usage(format!(
            "--cases {shown}: expected a list of cases"
        )));
    };
    if items.is_empty() {
        return Err(Failure::Usage(format!(
            "--cases {shown}: the list is empty"
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = item["name"]
                .as_str()
                .map_or_else(|| format!("case {}", i + 1), str::to_owned);
            let bad = |why: String| {
                Failure::Usage(format!(
                    "--cases {shown}: case {} ({}): {why}",
                    i + 1,
                    input::sanitize(&name)
                ))
            };
            read_case(item, workflow)
                .map_err(bad)
                .map(|(payload, options, expect)| Case {
                    name,
                    payload,
                    options,
                    expect,
                })
        })
        .collect()
}

type Read = (Value, DryRunOptions, Map<String, Value>);

fn read_case(item: &Value, workflow: &Workflow) -> Result<Read, String> {
    let Value::Object(case) = item else {
        return Err("a case is an object".into());
    };
    if let Some(k) = case.keys().find(|k| !CASE_FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field '{}'; a case has {}",
            input::sanitize(k),
            CASE_FIELDS.join(", ")
        ));
    }
    let text = |k: &str| -> Result<Option<String>, String> {
        match case.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("'{k}' must be a string")),
        }
    };
    let payload = match case.get("payload") {
        None => json!({}),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => return Err("'payload' must be an object".into()),
    };
    let approval = match text("approval")?.as_deref() {
        None => None,
        Some("approve") => Some(ApprovalOutcome::Approve),
        Some("reject") => Some(ApprovalOutcome::Reject),
        Some("timeout") => Some(ApprovalOutcome::Timeout),
        Some(_) => return Err("'approval' is approve, reject or timeout".into()),
    };
    let wait = match case.get("wait") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "timeout" => Some(WaitOutcome::Timeout),
        Some(p @ Value::Object(_)) => Some(WaitOutcome::Event(p.clone())),
        Some(_) => return Err("'wait' is \"timeout\" or the awaited event's payload".into()),
    };
    let mut mocks = BTreeMap::new();
    for (step, value) in object(case, "mocks")?.into_iter().flatten() {
        crate::action_step(workflow, "mock", step).map_err(failure_text)?;
        mocks.insert(step.clone(), value.clone());
    }
    let mut failures = BTreeMap::new();
    for (step, class) in object(case, "fail")?.into_iter().flatten() {
        crate::action_step(workflow, "fail", step).map_err(failure_text)?;
        if mocks.contains_key(step) {
            return Err(format!(
                "step '{}' is in both mocks and fail: give one",
                input::sanitize(step)
            ));
        }
        match class.as_str() {
            Some(c) if failure_classes().contains(&c) => {
                failures.insert(step.clone(), c.to_owned());
            }
            _ => {
                return Err(format!(
                    "fail.{}: the class is one of {}",
                    input::sanitize(step),
                    failure_classes().join(", ")
                ));
            }
        }
    }
    let expect = match case.get("expect") {
        Some(Value::Object(e)) => e.clone(),
        _ => return Err("'expect' must be an object of matched, decision, status, steps".into()),
    };
    if let Some(k) = expect.keys().find(|k| !EXPECT_FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field 'expect.{}'; expect has {}",
            input::sanitize(k),
            EXPECT_FIELDS.join(", ")
        ));
    }
    let event = text("event")?;
    let source = text("source")?;
    if source.is_some() && event.is_none() {
        return Err("'source' needs 'event'".into());
    }
    let options = DryRunOptions {
        event,
        source,
        approval,
        wait,
        mocks,
        failures,
        ..DryRunOptions::default()
    };
    Ok((payload, options, expect))
}

/// A case's object of step ids (`mocks`, `fail`), if it has one.
fn object<'a>(
    case: &'a Map<String, Value>,
    k: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match case.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(format!("'{k}' must be an object of step ids")),
    }
}

fn failure_text(f: Failure) -> String {
    match f {
        Failure::Usage(m) | Failure::Check(m) => m,
    }
}

/// Dry-runs a case; the differences from what it expects, one line each (none: it passes),
/// and what happened, as `expect` spells it.
pub fn check(
    workflow: &Workflow,
    case: &Case,
    env: &Env<'_>,
    workflows: &BTreeMap<String, Workflow>,
) -> (Vec<String>, Value) {
    let options = DryRunOptions {
        workflows: workflows.clone(),
        ..case.options.clone()
    };
    let run = dry_run(workflow, &case.payload, env, &options);
    let got = json!({
        "matched": run.matched,
        "decision": run.decision,
        "status": run.status,
        "steps": run.steps.iter().map(|s| s.step_id.clone()).collect::<Vec<_>>(),
    });
    let differences = EXPECT_FIELDS
        .iter()
        .filter_map(|k| {
            let want = case.expect.get(*k)?;
            (want != &got[*k])
                .then(|| input::sanitize(&format!("{k} is {} but expected {want}", got[*k])))
        })
        .collect();
    (differences, got)
}
