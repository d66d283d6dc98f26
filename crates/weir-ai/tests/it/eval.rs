//! The evaluation set (`eval/prompts.yaml`, and the held-out phrasings of `eval/held_out.yaml`
//! and `eval/held_out_late.yaml`, each reported on its own line): every prompt interpreted,
//! its suggested workflow validated and dry-run on its cases by weir-core, the outcome compared
//! with what the case expects. Prints the score; fails below 90% of the cases, or when any
//! suggested workflow does not validate. `WEIR_EVAL_VERBOSE=1` prints every failure with the
//! suggested workflow.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use weir_ai::{InterpretContext, Interpretation, interpret};
use weir_core::dryrun::{ApprovalOutcome, DryRun, RunStatus, StepStatus, WaitOutcome};
use weir_core::{
    BuiltinCatalog, DryRunOptions, Env, Format, Rules, dry_run, load_value, validate_value,
};

#[derive(Default)]
struct Score {
    prompts: usize,
    prompts_passed: usize,
    cases: usize,
    cases_passed: usize,
    failures: Vec<String>,
    invalid: Vec<String>,
    warnings: Vec<String>,
}

impl Score {
    fn percent(&self) -> f64 {
        if self.cases == 0 {
            0.0
        } else {
            100.0 * self.cases_passed as f64 / self.cases as f64
        }
    }
}

fn now() -> DateTime<Utc> {
    "2026-11-16T12:00:00Z".parse().expect("a time")
}

fn load(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("eval")
        .join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match load_value(&bytes, Some(Format::Yaml)) {
        Ok(Value::Array(items)) => items,
        other => panic!("{file}: expected a list of prompts, got {other:?}"),
    }
}

/// Every step of a definition by id, nested lists included.
fn steps_by_id(steps: &Value, out: &mut BTreeMap<String, Value>) {
    for s in steps.as_array().into_iter().flatten() {
        if let Some(id) = s["id"].as_str() {
            out.insert(id.to_owned(), s.clone());
        }
        steps_by_id(&s["steps"], out);
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// What a run reached, as the eval set spells it.
fn effects(run: &DryRun, workflow: &Value) -> Vec<String> {
    let mut defs = BTreeMap::new();
    steps_by_id(&workflow["steps"], &mut defs);
    let mut out = Vec::new();
    for r in &run.steps {
        let def = defs.get(&r.step_id).cloned().unwrap_or(Value::Null);
        let reached = r.status == StepStatus::Completed;
        let input = r.input.clone().unwrap_or(Value::Null);
        let config = if input.is_object() {
            input.clone()
        } else {
            def["config"].clone()
        };
        let config = if config.get("config").is_some() {
            config["config"].clone()
        } else {
            config
        };
        match r.step_type.as_str() {
            "approval" if matches!(r.status, StepStatus::Completed | StepStatus::Waiting) => {
                out.push(format!(
                    "approval:{}",
                    def["approver_role"].as_str().unwrap_or("")
                ));
            }
            "wait" if matches!(r.status, StepStatus::Completed | StepStatus::Waiting) => {
                out.push(format!("wait:{}", def["event"].as_str().unwrap_or("")));
            }
            "notify" | "send_notification" if reached => {
                let mut rs = strings(&config["recipients"]);
                rs.extend(strings(&config["recipient"]));
                for r in rs {
                    out.push(format!("notify:{}", r.strip_prefix("role:").unwrap_or(&r)));
                }
            }
            "send_email" if reached => {
                for to in strings(&config["to"]) {
                    out.push(format!("email:{to}"));
                }
            }
            "http_request" | "call_webhook" | "webhook" if reached => {
                out.push(format!("http:{}", config["url"].as_str().unwrap_or("")));
            }
            "create_task" if reached => match config["assignee"].as_str() {
                Some(a) => out.push(format!("task:{a}")),
                None => out.push("task".into()),
            },
            "update_field" if reached => {
                let value = match &config["value"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push(format!(
                    "update:{}.{}={value}",
                    config["entity_type"].as_str().unwrap_or(""),
                    config["field"].as_str().unwrap_or("")
                ));
            }
            "enqueue_export" if reached => out.push("export".into()),
            _ => {}
        }
    }
    out
}

/// Whether the effects match the expected ones: the same number, each expected one matching
/// a distinct effect (an expectation without `:` matches any effect of its kind).
fn effects_match(got: &[String], want: &[String]) -> bool {
    if got.len() != want.len() {
        return false;
    }
    let mut left: Vec<&String> = got.iter().collect();
    // Exact expectations first, so a kind-only one does not take their effect.
    let mut wants: Vec<&String> = want.iter().collect();
    wants.sort_by_key(|w| !w.contains(':'));
    for w in wants {
        let pos = left.iter().position(|g| {
            if w.contains(':') {
                *g == w
            } else {
                g.split(':').next() == Some(w.as_str())
            }
        });
        match pos {
            Some(p) => {
                left.remove(p);
            }
            None => return false,
        }
    }
    true
}

fn context(v: &Value) -> InterpretContext {
    if v.is_null() {
        return InterpretContext::default();
    }
    serde_json::from_value(v.clone()).expect("a context")
}

fn check_case(case: &Value, out: &Interpretation) -> Result<(), String> {
    let catalog = BuiltinCatalog::new();
    let rules = Rules::default();
    let validated = validate_value(&out.suggested_workflow, &catalog, &rules);
    let workflow = validated.workflow.ok_or("the workflow did not validate")?;
    let approval = match case["approval"].as_str() {
        None => None,
        Some("approve") => Some(ApprovalOutcome::Approve),
        Some("reject") => Some(ApprovalOutcome::Reject),
        Some("timeout") => Some(ApprovalOutcome::Timeout),
        Some(other) => return Err(format!("bad approval '{other}' in the case")),
    };
    let wait = match &case["wait"] {
        Value::Null => None,
        Value::String(s) if s == "timeout" => Some(WaitOutcome::Timeout),
        p @ Value::Object(_) => Some(WaitOutcome::Event(p.clone())),
        other => return Err(format!("bad wait {other} in the case")),
    };
    let opts = DryRunOptions {
        event: case["event"].as_str().map(str::to_owned),
        trigger: case["trigger"].as_str().map(str::to_owned),
        approval,
        wait,
        ..DryRunOptions::default()
    };
    let payload = if case["payload"].is_object() {
        case["payload"].clone()
    } else {
        json!({})
    };
    let env = Env::new(now(), &rules);
    let run = dry_run(&workflow, &payload, &env, &opts);
    let expect = &case["expect"];
    let mut problems = Vec::new();
    let decision = serde_json::to_value(run.decision).unwrap_or(Value::Null);
    if let Some(want) = expect.get("decision")
        && *want != decision
    {
        problems.push(format!("decision {decision} (expected {want})"));
    }
    let got = effects(&run, &out.suggested_workflow);
    let want = strings(&expect["effects"]);
    if !effects_match(&got, &want) {
        problems.push(format!("effects {got:?} (expected {want:?})"));
    }
    let status = serde_json::to_value(run.status).unwrap_or(Value::Null);
    if let Some(want) = expect.get("status")
        && *want != status
    {
        problems.push(format!("status {status} (expected {want})"));
    }
    if run.status == RunStatus::Failed {
        problems.push(format!("the run failed: {:?}", run.error));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn run_set(file: &str) -> Score {
    let verbose = std::env::var_os("WEIR_EVAL_VERBOSE").is_some();
    let catalog = BuiltinCatalog::new();
    let rules = Rules::default();
    let mut score = Score::default();
    for p in load(file) {
        let id = p["id"].as_str().unwrap_or("?").to_owned();
        let prompt = p["prompt"].as_str().unwrap_or_default();
        let out = interpret(prompt, &context(&p["context"]));
        let validated = validate_value(&out.suggested_workflow, &catalog, &rules);
        if !validated.is_valid() {
            let errors: Vec<String> = validated
                .errors()
                .map(|d| format!("{} {}", d.path, d.message))
                .collect();
            score.invalid.push(format!("{id}: {}", errors.join("; ")));
        }
        score.warnings.extend(
            validated
                .warnings()
                .map(|d| format!("{id}: {} {}", d.path, d.message)),
        );
        score.prompts += 1;
        let mut passed = 0;
        let mut total = 0;
        let mut fail = |why: String| {
            score.failures.push(format!("{id} — {prompt}\n    {why}"));
        };
        if let Some(about) = p["question_about"].as_array() {
            total += 1;
            let words: Vec<String> = about
                .iter()
                .filter_map(|a| a.as_str())
                .map(str::to_lowercase)
                .collect();
            let asked = out
                .questions
                .iter()
                .any(|q| words.iter().any(|w| q.to_lowercase().contains(w)));
            if asked {
                passed += 1;
            } else {
                fail(format!(
                    "no question about {words:?}; asked {:?}",
                    out.questions
                ));
            }
        } else {
            if let Some(t) = p.get("trigger") {
                total += 1;
                let got = &out.suggested_workflow["trigger"];
                if got["cron"] == t["cron"] && got["timezone"] == t["timezone"] {
                    passed += 1;
                } else {
                    fail(format!("trigger {got} (expected {t})"));
                }
            }
            for case in p["cases"].as_array().into_iter().flatten() {
                total += 1;
                match check_case(case, &out) {
                    Ok(()) => passed += 1,
                    Err(why) => fail(format!(
                        "case '{}': {why}",
                        case["name"].as_str().unwrap_or("?")
                    )),
                }
            }
        }
        if verbose && passed < total {
            println!(
                "--- {id}: {prompt}\n{}\nquestions: {:?}",
                serde_json::to_string_pretty(&out.suggested_workflow).unwrap_or_default(),
                out.questions
            );
        }
        score.cases += total;
        score.cases_passed += passed;
        if passed == total {
            score.prompts_passed += 1;
        }
    }
    score
}

fn report(name: &str, s: &Score) {
    println!(
        "interpreter eval ({name}): {}/{} prompts, {}/{} cases = {:.1}%",
        s.prompts_passed,
        s.prompts,
        s.cases_passed,
        s.cases,
        s.percent()
    );
    for f in &s.failures {
        println!("  FAIL {f}");
    }
    for w in &s.warnings {
        println!("  warning {w}");
    }
}

#[test]
fn the_interpreter_scores_at_least_90_percent_on_its_evaluation_set() {
    let main = run_set("prompts.yaml");
    let held_out = run_set("held_out.yaml");
    let late = run_set("held_out_late.yaml");
    report("prompts.yaml", &main);
    report("held_out.yaml", &held_out);
    report("held_out_late.yaml", &late);
    let sets = [&main, &held_out, &late];
    let all = Score {
        prompts: sets.iter().map(|s| s.prompts).sum(),
        prompts_passed: sets.iter().map(|s| s.prompts_passed).sum(),
        cases: sets.iter().map(|s| s.cases).sum(),
        cases_passed: sets.iter().map(|s| s.cases_passed).sum(),
        ..Score::default()
    };
    println!(
        "interpreter eval: {}/{} prompts, {}/{} cases = {:.1}% ({} validator warnings)",
        all.prompts_passed,
        all.prompts,
        all.cases_passed,
        all.cases,
        all.percent(),
        sets.iter().map(|s| s.warnings.len()).sum::<usize>()
    );
    let invalid: Vec<&String> = sets.iter().flat_map(|s| s.invalid.iter()).collect();
    assert!(
        invalid.is_empty(),
        "suggested workflows that do not validate: {invalid:#?}"
    );
    assert!(
        main.prompts >= 60,
        "the evaluation set has {} prompts",
        main.prompts
    );
    assert!(
        all.percent() >= 90.0,
        "the interpreter scores {:.1}% of the cases, below 90%",
        all.percent()
    );
}
