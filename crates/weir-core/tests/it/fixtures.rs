//! Fixtures: every seed example under `examples/seeds/` validates (by its kind), and every
//! `*.events.json` case of the full examples and shipped templates dry-runs as it expects.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use weir_core::condition::Condition;
use weir_core::diag::{Code, Diags};
use weir_core::{Rules, dry_run, validate};

use crate::support::{catalog, env, render, validate};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    weir_core::load_value(&bytes, None).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(suffix))
        })
        .collect();
    out.sort();
    out
}

/// Seed examples that cannot be valid as written, with the one diagnostic each must produce.
/// A source example shows `retry` on an http_request step but leaves out the request itself.
const KNOWN_INCOMPLETE: &[(&str, Code, &str)] = &[(
    "000-call-external-api.step.json",
    Code::ActionConfig,
    "$.steps[0].config",
)];

/// Step fragments name targets outside themselves; give each a stub step so it can validate.
fn embed_step(step: &Value) -> Value {
    let mut targets = Vec::new();
    collect_targets(step, &mut targets);
    let mut steps = vec![step.clone()];
    for t in targets {
        steps.push(json!({"id": t, "type": "action", "action": "allow"}));
    }
    json!({"workflow_id": "fixture", "trigger": {"type": "manual"}, "steps": steps})
}

fn collect_targets(step: &Value, out: &mut Vec<String>) {
    let Some(map) = step.as_object() else { return };
    for k in [
        "next",
        "on_true",
        "on_false",
        "on_timeout",
        "on_approve",
        "on_reject",
        "default",
    ] {
        if let Some(Value::String(t)) = map.get(k)
            && !out.contains(t)
        {
            out.push(t.clone());
        }
    }
    if let Some(Value::Array(cases)) = map.get("cases") {
        for c in cases {
            if let Some(Value::String(t)) = c.get("next")
                && !out.contains(t)
            {
                out.push(t.clone());
            }
        }
    }
}

#[test]
fn every_seed_fixture_validates() {
    let all = files("examples/seeds", ".json");
    assert!(
        all.len() >= 40,
        "expected the seed fixtures, found {}",
        all.len()
    );
    let mut failures = Vec::new();
    for path in &all {
        let name = path.file_name().unwrap().to_str().unwrap();
        let doc = read(path);
        let kind = name.rsplit('.').nth(1).unwrap_or("");
        let diagnostics = match kind {
            "workflow" => validate(&doc).diagnostics,
            "step" => validate(&embed_step(&doc)).diagnostics,
            "trigger" => validate(&json!({"workflow_id": "fixture", "trigger": doc, "steps": [{"id": "a", "type": "action", "action": "allow"}]})).diagnostics,
            "action" => {
                let step = json!({"id": "a", "type": doc["type"], "config": doc["config"]});
                validate(&json!({"workflow_id": "fixture", "steps": [step]})).diagnostics
            }
            "condition" => {
                let mut d = Diags::default();
                // A list of conditions is their `and`, as the interpreter writes them.
                Condition::parse(&doc, "$", &mut d);
                d.0
            }
            "rule" => validate::read_rules(&doc, catalog()).1,
            other => panic!("{name}: unknown fixture kind '{other}'"),
        };
        let expected: Vec<_> = KNOWN_INCOMPLETE
            .iter()
            .filter(|(n, _, _)| *n == name)
            .collect();
        let ok = match expected.as_slice() {
            [] => diagnostics.is_empty(),
            [(_, code, path)] => {
                diagnostics.len() == 1
                    && diagnostics[0].code == *code
                    && diagnostics[0].path == *path
            }
            _ => false,
        };
        if !ok {
            failures.push(format!("{name}:\n{}", render(&diagnostics)));
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures with unexpected diagnostics:\n{}",
        failures.join("\n")
    );
}

/// Runs every case of `events` against `workflow` and compares matched, decision, status, and
/// the ids of the steps visited.
fn check_cases(workflow: &Path, events: &Path) -> Vec<String> {
    check_cases_covering(workflow, events, &mut Coverage::default())
}

/// The branches a set of cases took: (step id, condition result or switch case), and whether
/// the trigger matched.
#[derive(Default)]
struct Coverage {
    branches: std::collections::BTreeSet<(String, String)>,
    matched: std::collections::BTreeSet<bool>,
}

/// Every way out of every condition, all_must_pass parallel and switch, in every list, and both
/// trigger outcomes when the trigger has conditions, that no case took.
fn uncovered(wf: &weir_core::Workflow, coverage: &Coverage) -> Vec<String> {
    use weir_core::model::{StepKind, StepList, Strategy};
    fn walk(list: &StepList, coverage: &Coverage, out: &mut Vec<String>) {
        for step in &list.steps {
            let ways: Vec<String> = match &step.kind {
                StepKind::Condition { .. }
                | StepKind::Parallel {
                    strategy: Strategy::AllMustPass,
                    ..
                } => {
                    vec!["true".into(), "false".into()]
                }
                StepKind::Switch { cases, .. } => (0..cases.len())
                    .map(|i| i.to_string())
                    .chain(["null".into()])
                    .collect(),
                _ => Vec::new(),
            };
            for w in ways {
                if !coverage.branches.contains(&(step.id.clone(), w.clone())) {
                    out.push(format!("{} never took '{w}'", step.id));
                }
            }
            match &step.kind {
                StepKind::Parallel { branches, .. } => {
                    branches.iter().for_each(|b| walk(b, coverage, out))
                }
                StepKind::Foreach { body, .. } => walk(body, coverage, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&wf.steps, coverage, &mut out);
    if wf.triggers.iter().any(|t| t.conditions.is_some()) && !coverage.matched.contains(&false) {
        out.push("no case leaves the trigger conditions unmet".into());
    }
    out
}

fn check_cases_covering(workflow: &Path, events: &Path, coverage: &mut Coverage) -> Vec<String> {
    let doc = read(workflow);
    let v = validate(&doc);
    let diags = v.diagnostics.clone();
    let Ok(wf) = v.into_valid() else {
        return vec![format!(
            "{}: invalid:\n{}",
            workflow.display(),
            render(&diags)
        )];
    };
    if !diags.is_empty() {
        return vec![format!(
            "{}: has warnings:\n{}",
            workflow.display(),
            render(&diags)
        )];
    }
    let mut rules = Rules::default();
    for r in &wf.rules {
        rules.insert(r.clone());
    }
    let cases = read(events);
    let cases = cases
        .as_array()
        .unwrap_or_else(|| panic!("{}: not a list", events.display()));
    assert!(!cases.is_empty(), "{}: no cases", events.display());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let opts = crate::support::case_options(case);
        let run = dry_run(&wf, &case["payload"], &env(&rules), &opts);
        coverage.matched.insert(run.matched);
        for r in &run.steps {
            if let Some(result) = r.result {
                coverage
                    .branches
                    .insert((r.step_id.clone(), result.to_string()));
            }
            if r.step_type == "switch" {
                let case = r.output.as_ref().map_or(Value::Null, |o| o["case"].clone());
                coverage
                    .branches
                    .insert((r.step_id.clone(), case.to_string()));
            }
        }
        let got = json!({
            "matched": run.matched,
            "decision": run.decision,
            "status": run.status,
            "steps": run.steps.iter().map(|s| s.step_id.clone()).collect::<Vec<_>>(),
        });
        let expect = &case["expect"];
        for key in ["matched", "decision", "status", "steps"] {
            if !expect[key].is_null() && expect[key] != got[key] {
                failures.push(format!(
                    "{} / {name}: {key} is {} but expected {}",
                    events.display(),
                    got[key],
                    expect[key]
                ));
            }
        }
    }
    failures
}

#[test]
fn full_examples_take_every_branch_as_expected() {
    let workflows = files("examples", ".workflow.json");
    assert!(
        workflows.len() >= 4,
        "expected the CRM usage examples and the order approval"
    );
    let mut failures = Vec::new();
    for wf in &workflows {
        let events = PathBuf::from(
            wf.to_str()
                .unwrap()
                .replace(".workflow.json", ".events.json"),
        );
        assert!(events.exists(), "{} has no events file", wf.display());
        let mut coverage = Coverage::default();
        failures.extend(check_cases_covering(wf, &events, &mut coverage));
        let parsed = weir_core::validate_value(&read(wf), catalog(), &Rules::default());
        if let Some(parsed) = parsed.workflow {
            for gap in uncovered(&parsed, &coverage) {
                failures.push(format!("{}: {gap}", wf.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shipped_templates_are_valid_and_behave_as_their_cases_say() {
    let names = [
        "order-approval",
        "fraud-detection",
        "inventory-sync",
        "pricing-rule",
        "cart-abandonment",
        "customer-onboarding",
        "lead-qualification",
        "deal-stage-notification",
        "lead-nurture",
    ];
    let mut failures = Vec::new();
    for n in names {
        let wf = root().join(format!("templates/{n}.json"));
        let events = root().join(format!("templates/{n}.events.json"));
        assert!(
            wf.exists() && events.exists(),
            "template {n} or its cases are missing"
        );
        failures.extend(check_cases(&wf, &events));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
