//! End-to-end tests of the `weir` binary: real files, real processes, real exit codes.

mod actions;
mod ai;
mod alerts;
mod chaos;
mod console;
mod console_e2e;
mod context;
mod contract;
mod dryrun;
mod hooks;
mod inflight;
mod logs;
mod mcp;
mod operations;
mod peer;
mod retention;
mod schedules;
mod serve;
mod stats;
mod stream;
mod teams;
mod traces;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

fn weir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run weir")
}

fn weir_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run weir")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally, not by a signal")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn no_panic(o: &Output) {
    let e = stderr(o);
    assert!(
        !e.contains("panicked") && !e.contains("stack overflow"),
        "weir crashed:\n{e}"
    );
}

/// A fresh scratch directory per test.
fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = weir_store::testing::scratch(&format!("cli-{}", N.fetch_add(1, Ordering::SeqCst)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn repo(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
        .display()
        .to_string()
}

const ORDER: &str = r#"{
  "workflow_id": "high_value_order_approval",
  "name": "High Value Order Approval",
  "trigger": {"type": "event", "event": "order.checkout.initiated"},
  "steps": [
    {"id": "check_order_value", "type": "condition",
     "condition": {"field": "order.total", "operator": "gte", "value": 10000},
     "on_true": "require_approval", "on_false": "allow_order"},
    {"id": "require_approval", "type": "action", "action": "block",
     "reason": "Order {{order.id}} requires approval",
     "execute": [{"type": "notify", "recipients": ["sales_manager"], "message": "Order {{order.id}} requires approval"}]},
    {"id": "allow_order", "type": "action", "action": "allow"}
  ]
}"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn validate_exits_0_on_valid_and_1_with_every_error_on_invalid() {
    let dir = scratch();
    let good = write(&dir, "good.json", ORDER);
    let o = weir(&["validate", &good]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("valid (0 error(s), 0 warning(s))"));

    let bad = write(
        &dir,
        "bad.yaml",
        "workflow_id: w\nsteps:\n  - id: a\n    type: condition\n    condition: {field: x, operator: nope, value: 1}\n    on_true: ghost\n  - id: a\n    type: delay\n    duration: soon\n",
    );
    let o = weir(&["validate", &good, &bad]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    for needle in [
        "$.steps[0].condition.operator",
        "WEIR-V008",
        "$.steps[1].id",
        "WEIR-V005",
        "$.steps[1].duration",
        "$.steps[0].on_true",
    ] {
        assert!(err.contains(needle), "missing {needle} in:\n{err}");
    }

    let o = weir(&["validate", "--output", "json", &good, &bad]);
    assert_eq!(code(&o), 1);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON on stdout");
    assert_eq!(v["valid"], json!(false));
    assert_eq!(v["files"][0]["valid"], json!(true));
    let diags = v["files"][1]["diagnostics"].as_array().unwrap();
    assert!(diags.iter().any(|d| d["code"] == "WEIR-V011"
        && d["path"] == "$.steps[1].duration"
        && d["severity"] == "error"));
}

#[test]
fn test_outputs_json_with_the_path_taken() {
    let dir = scratch();
    let f = write(&dir, "order.json", ORDER);
    let o = weir(&[
        "test",
        &f,
        "--event",
        "order.checkout.initiated",
        "--payload",
        r#"{"order": {"id": "ord_123", "total": 15000}}"#,
        "--output",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["matched"], json!(true));
    assert_eq!(v["decision"], json!("block"));
    assert_eq!(v["reason"], json!("Order ord_123 requires approval"));
    assert_eq!(v["status"], json!("completed"));
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps[0]["step_id"], json!("check_order_value"));
    assert_eq!(steps[0]["type"], json!("condition"));
    assert_eq!(steps[0]["status"], json!("completed"));
    assert_eq!(steps[0]["condition"]["actual"], json!(15000));
    assert_eq!(
        steps[1]["input"]["execute"][0]["config"]["message"],
        json!("Order ord_123 requires approval")
    );

    // A payload from a file, and the readable tree.
    let p = write(
        &dir,
        "payload.json",
        r#"{"order": {"id": "o2", "total": 50}}"#,
    );
    let o = weir(&[
        "test",
        &f,
        "--event",
        "order.checkout.initiated",
        "--payload",
        &format!("@{p}"),
    ]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert!(
        text.contains(
            "check_order_value (condition) order.total=50 gte 10000 ✗ → false → allow_order"
        ),
        "{text}"
    );
    assert!(text.contains("decision: ALLOW"), "{text}");

    // Not matched.
    let o = weir(&["test", &f, "--event", "cart.updated", "--output", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (
            v["matched"].clone(),
            v["status"].clone(),
            v["decision"].clone()
        ),
        (json!(false), json!("not_matched"), json!("none"))
    );
}

#[test]
fn test_mocks_an_action_result_so_a_branch_on_it_can_be_tried_offline() {
    let dir = scratch();
    let f = write(
        &dir,
        "quote.yaml",
        r#"
workflow_id: quote
trigger: {type: event, event: quote.requested, source: shop}
steps:
  - id: price
    type: http_request
    config: {url: "https://pricing.example.com/quote"}
  - id: ok
    type: condition
    condition: {field: steps.price.output.status, operator: eq, value: 200}
    on_true: allow
    on_false: deny
  - {id: allow, type: action, action: allow}
  - {id: deny, type: action, action: block, reason: "pricing answered {{steps.price.output.status}}"}
"#,
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "test",
            f.as_str(),
            "--event",
            "quote.requested",
            "--source",
            "shop",
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        let o = weir(&args);
        no_panic(&o);
        o
    };
    // Without a mock, an http_request answers {status: 200, headers: {}, body: null}.
    let o = run(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["decision"].clone(), v["steps"][0]["output"].clone()),
        (
            json!("allow"),
            json!({"status": 200, "headers": {}, "body": null})
        )
    );
    // A mock inline, and one from a file, take the other branch.
    let o = run(&[
        "--mock",
        r#"price={"status": 503, "headers": {}, "body": "down"}"#,
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["decision"].clone(), v["reason"].clone()),
        (json!("block"), json!("pricing answered 503"))
    );
    let m = write(&dir, "price.json", r#"{"status": 404}"#);
    let o = run(&["--mock", &format!("price=@{m}")]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["reason"], json!("pricing answered 404"));
    // Another source is not heard.
    let o = weir(&[
        "test",
        &f,
        "--event",
        "quote.requested",
        "--source",
        "crm",
        "--output",
        "json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["matched"], json!(false));
    assert!(
        v["reason"].as_str().unwrap().contains("source 'shop'"),
        "{}",
        v["reason"]
    );
    // A malformed mock is a usage error that says what is wrong.
    for (mock, says) in [
        ("price", "has no '='"),
        ("price={\"status\": }", "--mock price: invalid JSON"),
        ("nope={}", "the workflow has no step 'nope'"),
        ("ok={}", "is a condition step, which performs no action"),
        ("price=@/no/such/file.json", "--mock price:"),
    ] {
        let o = run(&["--mock", mock]);
        assert_eq!(code(&o), 2, "{mock}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{mock}: {}", stderr(&o));
    }
    let o = run(&["--mock", "price={}", "--mock", "price={}"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("given twice"), "{}", stderr(&o));
}

/// A dry run can assume an action fails, so the retry policy and `on_error` can be tried
/// offline: a retried class is attempted `max_attempts` times, a permanent one once.
#[test]
fn test_assumes_an_action_fails_and_follows_retries_and_on_error() {
    let dir = scratch();
    let f = write(
        &dir,
        "charge.yaml",
        r#"
workflow_id: charge
trigger: {type: event, event: order.paid}
steps:
  - id: bill
    type: http_request
    config: {url: "https://billing.example.com/charge"}
    retry: {max_attempts: 3, retry_on: [5xx, timeout]}
    on_error: hold
  - {id: allow, type: action, action: allow, end: true}
  - {id: hold, type: action, action: block, reason: "billing failed"}
"#,
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "test",
            f.as_str(),
            "--event",
            "order.paid",
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        let o = weir(&args);
        no_panic(&o);
        o
    };
    let attempts = |v: &Value| {
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["step_id"] == "bill")
            .count()
    };
    let v: Value = serde_json::from_str(&stdout(&run(&[]))).unwrap();
    assert_eq!((v["decision"].clone(), attempts(&v)), (json!("allow"), 1));
    for (class, tries) in [("5xx", 3), ("timeout", 3), ("4xx", 1), ("network", 1)] {
        let o = run(&["--fail", &format!("bill={class}")]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["decision"], json!("block"), "{class}: {v}");
        assert_eq!(attempts(&v), tries, "{class}: {v}");
        let last = v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .rfind(|s| s["step_id"] == "bill");
        let error = last.unwrap()["error"].to_string();
        assert!(
            error.contains(&format!("a {class} failure assumed by the dry run")),
            "{error}"
        );
    }
    for (args, says) in [
        (
            vec!["--fail", "bill=teapot"],
            "'teapot' is not an error class",
        ),
        (vec!["--fail", "bill"], "has no '='"),
        (vec!["--fail", "allow=5xx"], "performs no action"),
        (
            vec!["--fail", "bill=5xx", "--mock", "bill={}"],
            "has both --mock and --fail",
        ),
        (
            vec!["--fail", "bill=5xx", "--fail", "bill=4xx"],
            "given twice",
        ),
    ] {
        let o = run(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn test_dry_runs_a_subworkflow_given_with_its_file() {
    let dir = scratch();
    let parent = write(
        &dir,
        "parent.json",
        r#"{"workflow_id": "parent", "trigger": {"type": "event", "event": "order.created"},
            "steps": [
              {"id": "score", "type": "subworkflow", "workflow_id": "scoring", "input": {"total": "{{total}}"}, "output": "risk"},
              {"id": "high", "type": "condition", "condition": {"field": "vars.risk.level", "operator": "eq", "value": "high"},
               "on_true": "deny", "on_false": "ok"},
              {"id": "deny", "type": "action", "action": "block"},
              {"id": "ok", "type": "action", "action": "allow"}]}"#,
    );
    let child = write(
        &dir,
        "scoring.json",
        r#"{"workflow_id": "scoring", "steps": [
              {"id": "big", "type": "condition", "condition": {"field": "total", "operator": "gt", "value": 100},
               "on_true": "hi", "on_false": "lo"},
              {"id": "hi", "type": "set", "variables": {"level": "high"}, "end": true},
              {"id": "lo", "type": "set", "variables": {"level": "low"}}]}"#,
    );
    let test = |extra: &[&str], total: i64| {
        let payload = format!(r#"{{"total": {total}}}"#);
        let mut args = vec![
            "test",
            parent.as_str(),
            "--event",
            "order.created",
            "--payload",
            &payload,
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        let o = weir(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        serde_json::from_str::<Value>(&stdout(&o)).unwrap()
    };
    let with = ["--subworkflow", child.as_str()];
    assert_eq!(test(&with, 500)["decision"], json!("block"));
    assert_eq!(test(&with, 5)["decision"], json!("allow"));
    // Without its file, the child answers an assumed result.
    let v = test(&[], 500);
    assert_eq!(v["variables"]["risk"]["planned"], json!(true));
}

#[test]
fn test_assumes_outcomes_and_redacts_secrets() {
    let dir = scratch();
    let f = write(
        &dir,
        "appr.yaml",
        r#"
workflow_id: appr
trigger: {type: event, event: quote.requested}
steps:
  - id: call
    type: execute
    action: http_request
    config:
      url: https://pricing.example.com/quote
      headers: {Authorization: "Bearer {{secrets.PRICING_KEY}}"}
  - id: ask
    type: approval
    approver_role: sales_manager
    entity: quote
    entity_id: "{{quote.id}}"
    on_approve: ok
    on_reject: no
  - {id: ok, type: action, action: allow}
  - {id: no, type: action, action: block, reason: rejected}
"#,
    );
    let o = weir(&[
        "test",
        &f,
        "--event",
        "quote.requested",
        "--payload",
        r#"{"quote": {"id": "q1"}}"#,
        "--secret",
        "PRICING_KEY=hunter2",
        "--output",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("hunter2"), "secret leaked: {out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], json!("waiting"));
    assert_eq!(
        v["steps"][0]["input"]["headers"]["Authorization"],
        json!("Bearer ***")
    );
    let o = weir(&[
        "test",
        &f,
        "--event",
        "quote.requested",
        "--approval",
        "reject",
        "--output",
        "json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["decision"].clone(), v["status"].clone()),
        (json!("block"), json!("completed"))
    );
    assert!(
        v["steps"][0]["templates"]["missing_secrets"]
            .as_array()
            .is_some_and(|a| a == &[json!("PRICING_KEY")])
    );
}

#[test]
fn bad_input_gets_a_clear_error_and_a_nonzero_exit() {
    let dir = scratch();
    let cases: Vec<(String, &str)> = vec![
        (
            write(
                &dir,
                "malformed.json",
                "{\"workflow_id\": \"w\", \"steps\": [}",
            ),
            "invalid JSON",
        ),
        (
            write(
                &dir,
                "malformed.yaml",
                "workflow_id: w\nsteps: [\n  - id: a\n",
            ),
            "invalid YAML",
        ),
        (
            write(
                &dir,
                "deep.json",
                &("[".repeat(10_000) + &"]".repeat(10_000)),
            ),
            "nests deeper than 128",
        ),
        (
            write(
                &dir,
                "deep-obj.json",
                &("{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000)),
            ),
            "nests deeper than 128",
        ),
        (
            write(
                &dir,
                "deep.yaml",
                &("[".repeat(10_000) + &"]".repeat(10_000)),
            ),
            "nests deeper than 128",
        ),
        (
            write(
                &dir,
                "huge.json",
                &format!(
                    "{{\"workflow_id\": \"w\", \"description\": \"{}\"}}",
                    "x".repeat(10 * 1024 * 1024)
                ),
            ),
            "limit",
        ),
        (
            write(
                &dir,
                "types.json",
                r#"{"workflow_id": 5, "enabled": "yes", "steps": "all of them"}"#,
            ),
            "must be",
        ),
        (write(&dir, "binary.json", "\u{0}\u{1}garbage"), "invalid"),
        (write(&dir, "empty.json", ""), "empty"),
    ];
    // Block-style YAML 10,000 deep is ~50 MB of indentation and hits the size limit first;
    // 1,000 deep stays under it and must hit the depth limit.
    let mut block_yaml = String::new();
    for i in 0..1_000 {
        block_yaml.push_str(&" ".repeat(i));
        block_yaml.push_str("a:\n");
    }
    let block = write(&dir, "deep-block.yaml", &block_yaml);
    for (file, needle) in cases
        .iter()
        .map(|(f, n)| (f.as_str(), *n))
        .chain([(block.as_str(), "nests deeper")])
    {
        // fmt needs a well-formed document, not a valid workflow (as rustfmt formats code
        // that does not type-check); wrong types are validate's business.
        let mut cmds = vec![vec!["validate", file], vec!["test", file]];
        if needle != "must be" {
            cmds.push(vec!["fmt", "--check", file]);
        }
        for cmd in cmds {
            let o = weir(&cmd);
            no_panic(&o);
            assert_eq!(
                code(&o),
                1,
                "{cmd:?} should exit 1; stderr:\n{}",
                stderr(&o)
            );
            assert!(
                stderr(&o).contains(needle),
                "{cmd:?}: expected '{needle}' in:\n{}",
                stderr(&o)
            );
        }
    }
    // Bad payloads.
    let f = write(&dir, "order.json", ORDER);
    for (payload, needle) in [
        ("{not json", "invalid JSON"),
        (&*("[".repeat(10_000) + &"]".repeat(10_000)), "nests deeper"),
        (&*format!("@{}", cases[5].0), "limit"),
    ] {
        let o = weir(&[
            "test",
            &f,
            "--event",
            "order.checkout.initiated",
            "--payload",
            payload,
        ]);
        no_panic(&o);
        assert_eq!(code(&o), 1);
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    }
    // Usage errors exit 2.
    for args in [
        vec!["validate", "/no/such/file.json"],
        vec!["test", &f, "--now", "yesterday"],
        vec!["test", &f, "--secret", "novalue"],
        vec!["frobnicate"],
        vec!["validate"],
    ] {
        let o = weir(&args);
        no_panic(&o);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn init_writes_a_valid_workflow_from_every_template() {
    let dir = scratch();
    let o = weir(&["templates", "--output", "json"]);
    assert_eq!(code(&o), 0);
    let list: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for expected in [
        "order-approval",
        "fraud-detection",
        "inventory-sync",
        "pricing-rule",
        "cart-abandonment",
        "customer-onboarding",
        "lead-qualification",
        "deal-stage-notification",
        "lead-nurture",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for (i, t) in names.iter().enumerate() {
        let name = format!("My Flow {i}");
        let format = if i % 2 == 0 { "json" } else { "yaml" };
        let o = weir_in(&dir, &["init", &name, "--template", t, "--format", format]);
        assert_eq!(code(&o), 0, "{t}: {}", stderr(&o));
        let file = dir.join(format!("my-flow-{i}.{format}"));
        let o = weir(&["validate", "--strict", file.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{t}: {}", stderr(&o));
        let doc: Value = if format == "json" {
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
        } else {
            let o = weir(&["convert", file.to_str().unwrap(), "--to", "json"]);
            serde_json::from_str(&stdout(&o)).unwrap()
        };
        assert_eq!(doc["workflow_id"], json!(format!("my_flow_{i}")));
        assert_eq!(doc["name"], json!(name));
    }
    let o = weir_in(&dir, &["init", "My Flow 0"]);
    assert_eq!(code(&o), 2, "refuses to overwrite");
    assert!(stderr(&o).contains("--force"));
    let o = weir_in(&dir, &["init", "x", "--template", "nope"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("available: "));
}

/// `weir test FILE --cases CASES` runs a case file as the repository's own are run: every
/// shipped case passes, a differing case exits 1 and says how, a malformed file exits 2.
#[test]
fn test_runs_a_case_file_and_fails_on_a_difference() {
    let mut ran = 0;
    for (dir, suffix) in [("examples", ".workflow.json"), ("templates", ".json")] {
        for entry in std::fs::read_dir(repo(dir)).unwrap().flatten() {
            let cases = entry.path().display().to_string();
            let Some(base) = cases.strip_suffix(".events.json") else {
                continue;
            };
            let o = weir(&["test", &format!("{base}{suffix}"), "--cases", &cases]);
            assert_eq!(code(&o), 0, "{cases}: {}{}", stdout(&o), stderr(&o));
            assert!(stdout(&o).contains(" cases pass"), "{}", stdout(&o));
            ran += 1;
        }
    }
    assert!(ran >= 14, "ran {ran} case files");
    let dir = scratch();
    let wf = repo("templates/order-approval.json");
    let differs = write(
        &dir,
        "differs.yaml",
        r#"
- name: small order
  event: order.checkout.initiated
  payload: {order: {id: o1, total: 5}}
  expect: {decision: allow, steps: [check_order_value, allow_order]}
- name: wrongly expected
  event: order.checkout.initiated
  payload: {order: {id: o2, total: 5}}
  expect: {decision: block}
"#,
    );
    let o = weir(&["test", &wf, "--cases", &differs]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("ok   small order") && out.contains("FAIL wrongly expected"),
        "{out}"
    );
    assert!(
        out.contains(r#"decision is "allow" but expected "block""#),
        "{out}"
    );
    assert!(out.contains("1 of 2 cases pass"), "{out}");
    let o = weir(&["test", &wf, "--cases", &differs, "-o", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["passed"].clone(), v["failed"].clone()),
        (json!(1), json!(1))
    );
    for (text, says) in [
        ("{}", "expected a list of cases"),
        ("[]", "the list is empty"),
        (
            r#"[{"name": "n", "payload": [], "expect": {}}]"#,
            "case 1 (n): 'payload' must be an object",
        ),
        (
            r#"[{"name": "n", "expect": {"decisoin": "allow"}}]"#,
            "unknown field 'expect.decisoin'",
        ),
        (
            r#"[{"name": "n", "mocks": {"nope": {}}, "expect": {}}]"#,
            "the workflow has no step 'nope'",
        ),
        (
            r#"[{"name": "n", "approval": "maybe", "expect": {}}]"#,
            "'approval' is approve, reject or timeout",
        ),
        (r#"[{"name": "n"}]"#, "'expect' must be an object"),
    ] {
        let f = write(&dir, "bad.json", text);
        let o = weir(&["test", &wf, "--cases", &f]);
        assert_eq!(code(&o), 2, "{text}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{text}: {}", stderr(&o));
    }
    let o = weir(&["test", &wf, "--cases", &differs, "--event", "x"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn fmt_and_convert_round_trip() {
    let dir = scratch();
    let messy = r#"{"steps": [{"on_false": "allow_order", "type": "condition", "id": "check", "condition": {"value": 10000, "operator": "gte", "field": "order.total"}, "on_true": "block_it"}, {"type": "action", "action": "block", "id": "block_it"}, {"action": "allow", "id": "allow_order", "type": "action"}], "trigger": {"event": "order.created", "type": "event"}, "workflow_id": "fmt_me"}"#;
    let f = write(&dir, "messy.json", messy);
    let o = weir(&["fmt", "--check", &f]);
    assert_eq!(code(&o), 1);
    let o = weir(&["fmt", &f]);
    assert_eq!(code(&o), 0);
    let formatted = std::fs::read_to_string(&f).unwrap();
    assert!(
        formatted.starts_with(
            "{\n  \"workflow_id\": \"fmt_me\",\n  \"trigger\": {\n    \"type\": \"event\""
        ),
        "{formatted}"
    );
    assert!(
        formatted.contains(
            "\"field\": \"order.total\",\n        \"operator\": \"gte\",\n        \"value\": 10000"
        ),
        "{formatted}"
    );
    assert_eq!(
        code(&weir(&["fmt", "--check", &f])),
        0,
        "formatting is idempotent"
    );
    let before: Value = serde_json::from_str(messy).unwrap();
    let after: Value = serde_json::from_str(&formatted).unwrap();
    assert_eq!(before, after, "formatting changes no value");

    let yaml = dir.join("flow.yaml");
    let o = weir(&["convert", &f, "--to", "yaml", "-O", yaml.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = weir(&["validate", yaml.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = weir(&["convert", yaml.to_str().unwrap(), "--to", "json"]);
    let back: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(back, before);
    assert_eq!(code(&weir(&["fmt", "--check", yaml.to_str().unwrap()])), 0);
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["validate", "--help"],
        vec!["test", "--help"],
        vec!["init", "--help"],
        vec!["templates", "--help"],
        vec!["actions", "--help"],
        vec!["fmt", "--help"],
        vec!["convert", "--help"],
        vec!["--version"],
    ] {
        let o = weir(&args);
        assert_eq!(code(&o), 0, "{args:?}");
        assert!(!stdout(&o).is_empty());
    }
    let o = weir(&["actions", "--output", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let email = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "send_email")
        .unwrap();
    assert_eq!(email["config_schema"]["required"], json!(["to"]));
}

#[test]
fn the_examples_in_the_repository_validate_through_the_cli() {
    let o = weir(&[
        "validate",
        "--strict",
        &repo("examples/order-approval.workflow.json"),
        &repo("templates/order-approval.json"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

// Regressions from the review of issue 2.

#[test]
fn a_closed_pipe_ends_output_quietly() {
    for args in [vec!["actions", "--output", "json"], vec!["templates"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        no_panic(&out);
        assert_eq!(code(&out), 0, "{args:?}");
    }
}

#[test]
fn payloads_must_be_objects_and_secrets_are_never_echoed() {
    let dir = scratch();
    let f = write(&dir, "order.json", ORDER);
    for payload in ["[1, 2]", "42", "\"text\"", "null"] {
        let o = weir(&[
            "test",
            &f,
            "--event",
            "order.checkout.initiated",
            "--payload",
            payload,
        ]);
        assert_eq!(code(&o), 1, "{payload}");
        assert!(
            stderr(&o).contains("the payload must be a JSON object"),
            "{}",
            stderr(&o)
        );
    }
    let o = weir(&["test", &f, "--payload", "{\"a\": }"]);
    assert!(
        stderr(&o).contains("line 1, column 7") && stderr(&o).contains("inline payload is JSON"),
        "{}",
        stderr(&o)
    );
    let o = weir(&["test", &f, "--secret", "hunter2-very-secret"]);
    assert_eq!(code(&o), 2);
    assert!(!stderr(&o).contains("hunter2"), "{}", stderr(&o));
}

#[test]
fn control_characters_from_input_do_not_reach_the_terminal() {
    let dir = scratch();
    let f = write(
        &dir,
        "esc.json",
        r#"{"workflow_id": "esc", "steps": [{"id": "b", "type": "action", "action": "block", "reason": "{{name}}"}]}"#,
    );
    let o = weir(&[
        "test",
        &f,
        "--payload",
        "{\"name\": \"\\u001b[2Jgone\\u0007\"}",
    ]);
    assert_eq!(code(&o), 0);
    assert!(
        !stdout(&o).contains('\u{1b}') && !stdout(&o).contains('\u{7}'),
        "{:?}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("gone"));
    let bad = write(
        &dir,
        "bad.json",
        "{\"workflow_id\": \"w\", \"\\u001b[31mevil\": 1, \"steps\": [{\"id\": \"a\", \"type\": \"action\", \"action\": \"allow\"}]}",
    );
    let o = weir(&["validate", &bad]);
    assert_eq!(code(&o), 1);
    assert!(!stderr(&o).contains('\u{1b}'), "{:?}", stderr(&o));
}

#[test]
fn validate_checks_every_file_even_when_one_cannot_be_read() {
    let dir = scratch();
    let good = write(&dir, "good.json", ORDER);
    let o = weir(&["validate", "--output", "json", &good, "/no/such/file.json"]);
    assert_eq!(code(&o), 2);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("a report for every file");
    assert_eq!(v["files"][0]["valid"], json!(true));
    assert_eq!(v["files"][1]["valid"], json!(false));
}
