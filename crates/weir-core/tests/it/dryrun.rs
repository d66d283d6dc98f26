//! The dry run: every control step, decisions, guards, errors, trigger matching, and what it
//! answers the executor's effects with (mocks, defaults, assumptions, the virtual clock).

use serde_json::{Value, json};
use weir_core::dryrun::{
    ApprovalOutcome, DecisionKind, DryRun, RunStatus, StepStatus, WaitOutcome,
};
use weir_core::{DryRunOptions, Rules, dry_run};

use crate::support::{env, workflow};

fn run_with(doc: &Value, payload: Value, opts: DryRunOptions) -> DryRun {
    let wf = workflow(doc);
    let rules = Rules::default();
    dry_run(&wf, &payload, &env(&rules), &opts)
}

fn run(doc: &Value, payload: Value) -> DryRun {
    run_with(
        doc,
        payload,
        DryRunOptions {
            event: Some("e.x".into()),
            ..DryRunOptions::default()
        },
    )
}

fn wf(steps: Value) -> Value {
    json!({"workflow_id": "w", "trigger": {"type": "event", "event": "e.x"}, "steps": steps})
}

fn path(r: &DryRun) -> Vec<(String, StepStatus)> {
    r.steps
        .iter()
        .map(|s| (s.step_id.clone(), s.status))
        .collect()
}

fn ids(r: &DryRun) -> Vec<&str> {
    r.steps.iter().map(|s| s.step_id.as_str()).collect()
}

fn task(id: &str) -> Value {
    json!({"id": id, "type": "create_task", "config": {"title": "Task {{who}}"}})
}

#[test]
fn condition_routes_and_records_the_values_compared() {
    let doc = wf(json!([
        {"id": "c", "type": "condition", "condition": {"field": "n", "operator": "gte", "value": 10}, "on_true": "big", "on_false": "small"},
        {"id": "big", "type": "action", "action": "block", "reason": "n is {{n}}"},
        {"id": "small", "type": "action", "action": "allow"}
    ]));
    let r = run(&doc, json!({"n": 15}));
    assert_eq!(ids(&r), ["c", "big"]);
    assert_eq!(
        (r.status, r.decision),
        (RunStatus::Completed, DecisionKind::Block)
    );
    assert_eq!(r.reason.as_deref(), Some("n is 15"));
    let c = serde_json::to_value(&r.steps[0]).unwrap();
    assert_eq!(
        c["condition"],
        json!({"field": "n", "operator": "gte", "expected": 10, "actual": 15, "result": true})
    );
    assert_eq!(c["next"], json!("big"));
    let r = run(&doc, json!({"n": 5}));
    assert_eq!(ids(&r), ["c", "small"]);
    assert_eq!(r.decision, DecisionKind::Allow);
    // A missing field is absent: the comparison is false.
    let r = run(&doc, json!({}));
    assert_eq!(ids(&r), ["c", "small"]);
}

#[test]
fn guards_skip_steps_and_steps_fall_through_in_order() {
    let doc = wf(json!([
        {"id": "a", "type": "create_task", "config": {"title": "t"}, "condition": {"field": "vip", "operator": "eq", "value": true}},
        task("b"),
    ]));
    let r = run(&doc, json!({"vip": false, "who": "x"}));
    assert_eq!(
        path(&r),
        [
            ("a".into(), StepStatus::Skipped),
            ("b".into(), StepStatus::Completed)
        ]
    );
    assert_eq!(r.decision, DecisionKind::None);
    assert_eq!(r.steps[1].input, Some(json!({"title": "Task x"})));
    assert_eq!(
        r.steps[1]
            .output
            .as_ref()
            .map(|o| o["fields"]["title"].clone()),
        Some(json!("Task x")),
        "an action answers the shape its type returns, from its config"
    );
    let r = run(&doc, json!({"vip": true}));
    assert_eq!(path(&r)[0].1, StepStatus::Completed);
    assert_eq!(r.steps[1].templates.missing_paths, ["who"]);
}

#[test]
fn switch_matches_values_or_conditions_and_falls_back_to_default() {
    let doc = wf(json!([
        {"id": "s", "type": "switch", "value": "{{tier}}", "cases": [
            {"when": "gold", "next": "g"}, {"when": "silver", "next": "sv"}], "default": "d"},
        {"id": "g", "type": "action", "action": "allow", "reason": "gold"},
        {"id": "sv", "type": "action", "action": "allow", "reason": "silver"},
        {"id": "d", "type": "action", "action": "block", "reason": "other"}
    ]));
    assert_eq!(ids(&run(&doc, json!({"tier": "gold"}))), ["s", "g"]);
    assert_eq!(ids(&run(&doc, json!({"tier": "silver"}))), ["s", "sv"]);
    assert_eq!(ids(&run(&doc, json!({"tier": "bronze"}))), ["s", "d"]);
    assert_eq!(ids(&run(&doc, json!({}))), ["s", "d"]);
    let doc = wf(json!([
        {"id": "s", "type": "switch", "cases": [
            {"condition": {"field": "n", "operator": "gt", "value": 100}, "next": "hi"}]},
        task("lo"),
        {"id": "hi", "type": "action", "action": "block"}
    ]));
    assert_eq!(ids(&run(&doc, json!({"n": 500}))), ["s", "hi"]);
    // No case and no default: on to the following step.
    assert_eq!(ids(&run(&doc, json!({"n": 5}))), ["s", "lo", "hi"]);
}

#[test]
fn parallel_strategies() {
    let check = |id: &str, field: &str| json!({"id": id, "type": "condition", "condition": {"field": field, "operator": "eq", "value": true}});
    let doc = |strategy: &str| {
        wf(json!([
            {"id": "p", "type": "parallel", "strategy": strategy, "steps": [
                check("inv", "in_stock"),
                {"steps": [check("credit", "credit_ok"), task("note")]},
                check("fraud", "not_fraud")
            ], "on_true": "ok", "on_false": "deny"},
            {"id": "deny", "type": "action", "action": "block", "reason": "checks failed"},
            {"id": "ok", "type": "action", "action": "allow"}
        ]))
    };
    let pass = json!({"in_stock": true, "credit_ok": true, "not_fraud": true});
    let fail = json!({"in_stock": true, "credit_ok": false, "not_fraud": true});
    let r = run(&doc("all_must_pass"), pass.clone());
    assert_eq!(ids(&r), ["p", "inv", "credit", "note", "fraud", "ok"]);
    assert_eq!(r.steps[1].branch, Some(0));
    assert_eq!(r.steps[3].branch, Some(1));
    assert_eq!(r.steps[1].parent.as_deref(), Some("p"));
    assert_eq!(r.steps[0].result, Some(true));
    assert_eq!(r.decision, DecisionKind::Allow);
    let r = run(&doc("all_must_pass"), fail.clone());
    assert_eq!(r.steps[0].result, Some(false));
    assert_eq!(r.decision, DecisionKind::Block);
    assert_eq!(r.steps.last().unwrap().step_id, "deny");

    // For the other strategies on_true / on_false are not allowed; the parallel goes on.
    let other = |strategy: &str| {
        wf(json!([
            {"id": "p", "type": "parallel", "strategy": strategy, "steps": [task("a"), {"steps": [task("b1"), task("b2")]}]},
            task("after")
        ]))
    };
    // Branches run side by side and every action takes as long: branch 0's one action is done
    // while branch 1 is in its first, which `any` and `first` then cancel.
    for s in ["all", "any", "first"] {
        let r = run(&other(s), json!({}));
        let cancelled = s != "all";
        let expected: &[(&str, StepStatus)] = if cancelled {
            &[
                ("p", StepStatus::Completed),
                ("a", StepStatus::Completed),
                ("b1", StepStatus::Cancelled),
                ("after", StepStatus::Completed),
            ]
        } else {
            &[
                ("p", StepStatus::Completed),
                ("a", StepStatus::Completed),
                ("b1", StepStatus::Completed),
                ("b2", StepStatus::Completed),
                ("after", StepStatus::Completed),
            ]
        };
        let expected: Vec<(String, StepStatus)> = expected
            .iter()
            .map(|(i, st)| (i.to_string(), *st))
            .collect();
        assert_eq!(path(&r), expected, "{s}");
        assert_eq!(r.status, RunStatus::Completed);
        let out = r.steps[0].output.as_ref().unwrap();
        assert_eq!(out["branches"].as_array().unwrap().len(), 2);
        if cancelled {
            assert_eq!(out["winner"], json!(0));
        }
    }
    // A branch that waits: `all` waits, `any` and `first` go on with the branch that finished.
    let waiting = |strategy: &str| {
        wf(json!([
            {"id": "p", "type": "parallel", "strategy": strategy, "steps": [{"id": "w", "type": "wait", "event": "x"}, task("a")]},
            task("after")
        ]))
    };
    assert_eq!(run(&waiting("all"), json!({})).status, RunStatus::Waiting);
    let r = run(&waiting("any"), json!({}));
    assert_eq!(
        (r.status, ids(&r).last().copied()),
        (RunStatus::Completed, Some("after"))
    );
    let r = run(&waiting("first"), json!({}));
    assert_eq!(r.steps[0].output.as_ref().unwrap()["winner"], json!(1));
}

#[test]
fn wait_stops_unless_an_outcome_is_assumed() {
    let doc = wf(json!([
        {"id": "w", "type": "wait", "event": "payment.received", "match": {"field": "order_id", "operator": "eq", "value": "{{order.id}}"},
         "timeout": "24h", "on_timeout": "cancel"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "cancel", "type": "action", "action": "block", "reason": "no payment"}
    ]));
    let payload = json!({"order": {"id": "o1"}});
    let r = run(&doc, payload.clone());
    assert_eq!(r.status, RunStatus::Waiting);
    assert_eq!(r.steps[0].status, StepStatus::Waiting);
    assert_eq!(
        r.steps[0].would.as_deref(),
        Some("would wait for event 'payment.received' for up to 1d")
    );
    assert_eq!(r.decision, DecisionKind::None);
    let base = DryRunOptions {
        event: Some("e.x".into()),
        ..DryRunOptions::default()
    };
    let r = run_with(
        &doc,
        payload.clone(),
        DryRunOptions {
            wait: Some(WaitOutcome::Timeout),
            ..base.clone()
        },
    );
    assert_eq!(
        (ids(&r), r.decision),
        (vec!["w", "cancel"], DecisionKind::Block)
    );
    // The match compares the new event's fields with templates over the waiting context.
    let r = run_with(
        &doc,
        payload.clone(),
        DryRunOptions {
            wait: Some(WaitOutcome::Event(json!({"order_id": "o1"}))),
            ..base.clone()
        },
    );
    assert_eq!(
        (ids(&r), r.decision),
        (vec!["w", "ok"], DecisionKind::Allow)
    );
    let r = run_with(
        &doc,
        payload,
        DryRunOptions {
            wait: Some(WaitOutcome::Event(json!({"order_id": "o2"}))),
            ..base
        },
    );
    assert_eq!(r.status, RunStatus::Waiting);
    assert_eq!(r.steps[0].result, Some(false));
}

#[test]
fn delay_is_reported_and_passed_on_the_virtual_clock() {
    let doc = wf(json!([
        {"id": "d", "type": "delay", "duration": "1h"},
        {"id": "u", "type": "delay", "until": "{{remind_at}}"},
        task("after")
    ]));
    let r = run(&doc, json!({"remind_at": "2026-12-01T09:00:00Z"}));
    assert_eq!(
        path(&r),
        [
            ("d".into(), StepStatus::Completed),
            ("u".into(), StepStatus::Completed),
            ("after".into(), StepStatus::Completed)
        ]
    );
    assert_eq!(
        r.steps[0].would.as_deref(),
        Some("would wait 1h, then go on")
    );
    assert_eq!(
        r.steps[1].would.as_deref(),
        Some("would wait until 2026-12-01T09:00:00Z, then go on")
    );
    assert_eq!(r.status, RunStatus::Completed);
    let r = run(&doc, json!({"remind_at": "tomorrow-ish"}));
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(r.steps[1].status, StepStatus::Failed);
}

#[test]
fn approval_waits_or_follows_the_assumed_outcome() {
    let doc = wf(json!([
        {"id": "a", "type": "approval", "approver_role": "sales_manager", "entity": "order", "entity_id": "{{order.id}}",
         "timeout": "48h", "on_approve": "yes", "on_reject": "no", "on_timeout": "no"},
        {"id": "yes", "type": "action", "action": "allow"},
        {"id": "no", "type": "action", "action": "block", "reason": "not approved"}
    ]));
    let payload = json!({"order": {"id": "o9"}});
    let r = run(&doc, payload.clone());
    assert_eq!(r.status, RunStatus::Waiting);
    assert_eq!(
        r.steps[0].would.as_deref(),
        Some("would ask role 'sales_manager' to approve for order o9 (timeout 2d)")
    );
    let base = DryRunOptions {
        event: Some("e.x".into()),
        ..DryRunOptions::default()
    };
    for (outcome, last, decision) in [
        (ApprovalOutcome::Approve, "yes", DecisionKind::Allow),
        (ApprovalOutcome::Reject, "no", DecisionKind::Block),
        (ApprovalOutcome::Timeout, "no", DecisionKind::Block),
    ] {
        let r = run_with(
            &doc,
            payload.clone(),
            DryRunOptions {
                approval: Some(outcome),
                ..base.clone()
            },
        );
        assert_eq!(
            (ids(&r).last().copied(), r.decision),
            (Some(last), decision),
            "{outcome:?}"
        );
    }
}

#[test]
fn foreach_runs_the_body_per_item() {
    let doc = wf(json!([
        {"id": "each", "type": "foreach", "items": "{{order.items}}", "as": "line", "steps": [
            {"id": "low", "type": "condition", "condition": {"field": "line.qty", "operator": "lt", "value": 5}, "on_true": "reorder", "on_false": "fine"},
            {"id": "reorder", "type": "create_task", "config": {"title": "Reorder {{line.sku}} (item {{loop.index}})"}, "end": true},
            {"id": "fine", "type": "set", "variables": {"last_ok": "{{line.sku}}"}}
        ]},
        task("after")
    ]));
    let r = run(
        &doc,
        json!({"order": {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 9}]}}),
    );
    assert_eq!(ids(&r), ["each", "low", "reorder", "low", "fine", "after"]);
    assert_eq!(r.steps[1].iteration, Some(0));
    assert_eq!(r.steps[3].iteration, Some(1));
    assert_eq!(
        r.steps[2].input,
        Some(json!({"title": "Reorder A (item 0)"}))
    );
    assert_eq!(r.variables["last_ok"], json!("B"));
    assert_eq!(r.steps[0].output.as_ref().unwrap()["iterations"], json!(2));
    // Items that are not a list fail the step; too many fail it too.
    let r = run(&doc, json!({"order": {"items": "nope"}}));
    assert_eq!(
        (r.status, r.steps[0].status),
        (RunStatus::Failed, StepStatus::Failed)
    );
    let mut limited = doc.clone();
    limited["steps"][0]["max_iterations"] = json!(1);
    let r = run(&limited, json!({"order": {"items": [{}, {}]}}));
    assert_eq!(r.status, RunStatus::Failed);
    assert!(
        r.steps[0]
            .error
            .as_deref()
            .unwrap()
            .contains("max_iterations")
    );
}

#[test]
fn subworkflow_is_reported_as_would_start() {
    let doc = wf(json!([
        {"id": "sub", "type": "subworkflow", "workflow_id": "fraud_check", "input": {"order": "{{order}}"}, "output": "fraud"},
        task("after")
    ]));
    let r = run(&doc, json!({"order": {"id": 1}}));
    assert_eq!(
        r.steps[0].would.as_deref(),
        Some("would start workflow 'fraud_check' and wait for its result")
    );
    assert_eq!(r.steps[0].input, Some(json!({"order": {"id": 1}})));
    assert_eq!(r.variables["fraud"]["workflow_id"], json!("fraud_check"));
    assert_eq!(ids(&r), ["sub", "after"]);
}

#[test]
fn set_variables_are_visible_to_later_steps() {
    let doc = wf(json!([
        {"id": "s", "type": "set", "variables": {"discount": "{{customer.discount}}", "label": "tier {{customer.tier}}"}},
        {"id": "c", "type": "condition", "condition": {"field": "vars.discount", "operator": "gt", "value": 10}, "on_true": "hi", "on_false": "lo"},
        {"id": "hi", "type": "action", "action": "block", "reason": "{{vars.label}}: discount {{steps.s.output.discount}}%"},
        {"id": "lo", "type": "action", "action": "allow"}
    ]));
    let r = run(&doc, json!({"customer": {"discount": 25, "tier": "gold"}}));
    assert_eq!(r.reason.as_deref(), Some("tier gold: discount 25%"));
    assert_eq!(
        r.variables,
        json!({"discount": 25, "label": "tier gold"})
            .as_object()
            .unwrap()
            .clone()
    );
}

#[test]
fn decision_steps_end_the_run_unless_they_name_next_and_block_wins() {
    let doc = wf(json!([
        {"id": "a", "type": "action", "action": "allow", "next": "b"},
        {"id": "b", "type": "action", "action": "block", "reason": "blocked", "execute": [
            {"type": "notify", "recipients": ["role:ops"], "message": "order {{order.id}} blocked"}], "next": "c"},
        {"id": "c", "type": "action", "action": "allow"},
        task("never")
    ]));
    let r = run(&doc, json!({"order": {"id": 7}}));
    assert_eq!(ids(&r), ["a", "b", "c"]);
    assert_eq!(r.decision, DecisionKind::Block);
    assert_eq!(
        r.steps[1].input.as_ref().unwrap()["execute"][0]["config"]["message"],
        json!("order 7 blocked")
    );
}

#[test]
fn depends_on_runs_as_a_dag_and_skips_after_a_branch_not_taken() {
    let doc = wf(json!([
        {"id": "wallet", "type": "create_wallet", "config": {"currency": "USD"}, "depends_on": ["plan"]},
        {"id": "plan", "type": "assign_plan", "config": {"plan_id": "p"}},
        {"id": "vip", "type": "condition", "condition": {"field": "vip", "operator": "eq", "value": true}, "on_true": "bonus", "on_false": "mail", "depends_on": ["wallet"]},
        {"id": "bonus", "type": "grant_credits", "config": {"amount": 50}, "depends_on": ["vip"]},
        {"id": "mail", "type": "send_email", "config": {"to": "{{email}}", "subject": "Welcome"}, "depends_on": ["vip"]},
        {"id": "done", "type": "create_task", "config": {"title": "t"}, "depends_on": ["bonus"]}
    ]));
    let r = run(&doc, json!({"vip": false, "email": "a@b.c"}));
    assert_eq!(ids(&r), ["plan", "wallet", "vip", "bonus", "mail", "done"]);
    let st: Vec<StepStatus> = r.steps.iter().map(|s| s.status).collect();
    use StepStatus::*;
    assert_eq!(
        st,
        [Completed, Completed, Completed, Skipped, Completed, Skipped]
    );
    assert_eq!(
        r.steps[5].reason.as_deref(),
        Some("dependency 'bonus' did not complete")
    );
}

#[test]
fn errors_follow_on_error_and_allow_failure() {
    let failing = |extra: Value| {
        let mut step =
            json!({"id": "f", "type": "foreach", "items": "{{missing}}", "steps": [task("x")]});
        for (k, v) in extra.as_object().unwrap() {
            step[k] = v.clone();
        }
        wf(
            json!([step, task("after"), {"id": "handler", "type": "action", "action": "block", "reason": "handled"}]),
        )
    };
    let r = run(&failing(json!({})), json!({}));
    assert_eq!(
        (r.status, path(&r)),
        (
            RunStatus::Failed,
            vec![
                ("f".into(), StepStatus::Failed),
                ("after".into(), StepStatus::Skipped),
                ("handler".into(), StepStatus::Skipped)
            ]
        ),
        "the steps a failed run never reached are recorded as skipped"
    );
    assert!(r.error.as_deref().unwrap().contains("step 'f' failed"));
    let r = run(&failing(json!({"allow_failure": true})), json!({}));
    assert_eq!(r.status, RunStatus::Completed);
    let r = run(&failing(json!({"on_error": "handler"})), json!({}));
    assert_eq!(
        (ids(&r), r.decision),
        (vec!["f", "handler"], DecisionKind::Block)
    );
}

#[test]
fn trigger_matching_and_manual_starts() {
    let mut doc = wf(json!([{"id": "a", "type": "action", "action": "allow"}]));
    doc["trigger"] = json!({"type": "event", "event": "order.*", "conditions": {"field": "total", "operator": "gt", "value": 0}});
    let opts = |ev: &str| DryRunOptions {
        event: Some(ev.into()),
        ..DryRunOptions::default()
    };
    let r = run_with(&doc, json!({"total": 5}), opts("order.created"));
    assert!(r.matched);
    assert_eq!(r.trigger.as_ref().unwrap().index, 0);
    let r = run_with(&doc, json!({"total": 0}), opts("order.created"));
    assert!(!r.matched);
    assert_eq!(r.status, RunStatus::NotMatched);
    assert!(r.steps.is_empty());
    assert!(
        r.trigger.unwrap().conditions.is_some(),
        "the failed conditions are shown"
    );
    let r = run_with(&doc, json!({"total": 5}), opts("cart.created"));
    assert_eq!(
        (r.matched, r.reason.as_deref()),
        (
            false,
            Some("no trigger of this workflow listens for event 'cart.created'")
        )
    );
    // Manual start.
    doc["triggers"] = json!([{"type": "event", "event": "x"}, {"type": "manual"}]);
    doc.as_object_mut().unwrap().remove("trigger");
    let r = run_with(&doc, json!({}), DryRunOptions::default());
    assert!(r.matched);
    assert_eq!(r.trigger.unwrap().kind, "manual");
}

#[test]
fn loops_through_next_are_bounded() {
    let doc = wf(json!([
        {"id": "a", "type": "set", "variables": {"x": 1}, "next": "b"},
        {"id": "b", "type": "set", "variables": {"y": 1}, "next": "a"}
    ]));
    let r = run_with(
        &doc,
        json!({}),
        DryRunOptions {
            event: Some("e.x".into()),
            ..DryRunOptions::default()
        },
    );
    assert_eq!(r.status, RunStatus::Failed);
    assert!(r.error.unwrap().contains("loop of jumps"));
}

#[test]
fn secrets_never_appear_in_a_dry_run() {
    let doc = wf(
        json!([{"id": "h", "type": "execute", "action": "http_request", "config": {
        "url": "https://api.example.com/x", "headers": {"Authorization": "Bearer {{secrets.API_KEY}}"}}}]),
    );
    let wf = workflow(&doc);
    let rules = Rules::default();
    let secret = |_: &str| Some("top-secret-value".to_owned());
    let ids = || "id".to_owned();
    let env = weir_core::Env {
        now: crate::support::now(),
        secrets: &secret,
        ids: &ids,
        rules: &rules,
    };
    let r = dry_run(
        &wf,
        &json!({}),
        &env,
        &DryRunOptions {
            event: Some("e.x".into()),
            ..DryRunOptions::default()
        },
    );
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains("top-secret-value"), "{text}");
    assert!(text.contains("Bearer ***"));
    assert_eq!(r.steps[0].templates.secrets_used, ["API_KEY"]);
}

// Regressions found in review of the first version.

#[test]
fn a_decision_inside_an_all_must_pass_branch_ends_the_run() {
    let doc = wf(json!([
        {"id": "p", "type": "parallel", "strategy": "all_must_pass", "steps": [
            {"id": "deny", "type": "action", "action": "block", "reason": "no"},
            {"id": "c", "type": "condition", "condition": {"field": "x", "operator": "eq", "value": 1}}
        ], "on_true": "after", "on_false": "after"},
        {"id": "after", "type": "action", "action": "allow"}
    ]));
    let r = run(&doc, json!({"x": 1}));
    assert_eq!(
        ids(&r),
        ["p", "deny"],
        "the decision ends the run before branch 1 moves"
    );
    assert_eq!(r.decision, DecisionKind::Block);
}

#[test]
fn settings_on_error_applies_to_steps_without_their_own() {
    let mut doc = wf(json!([
        {"id": "f", "type": "foreach", "items": "{{missing}}", "steps": [task("x")]},
        task("after")
    ]));
    doc["settings"] = json!({"on_error": "continue"});
    let r = run(&doc, json!({}));
    assert_eq!(
        (r.status, ids(&r)),
        (RunStatus::Completed, vec!["f", "after"])
    );
}

#[test]
fn foreach_results_come_from_each_iteration_even_when_it_ends_early() {
    let doc = wf(json!([
        {"id": "each", "type": "foreach", "items": "{{items}}", "steps": [
            {"id": "stop", "type": "set", "variables": {"early": "{{item}}"}, "condition": {"field": "item", "operator": "eq", "value": "A"}, "next": "done"},
            {"id": "rest", "type": "set", "variables": {"late": "{{item}}"}},
            {"id": "done", "type": "set", "variables": {"last": "{{item}}"}, "end": true}
        ]}
    ]));
    let r = run(&doc, json!({"items": ["A", "B"]}));
    let results = &r.steps[0].output.as_ref().unwrap()["results"];
    assert_eq!(results, &json!([{"last": "A"}, {"last": "B"}]));
}

#[test]
fn top_level_variables_can_read_earlier_ones_and_shadowed_payload_fields_are_noted() {
    let mut doc =
        wf(json!([{"id": "a", "type": "action", "action": "allow", "reason": "{{vars.label}}"}]));
    doc["variables"] = json!({"base": "{{tier}}", "label": "tier {{vars.base}}"});
    let r = run(&doc, json!({"tier": "gold", "steps": 3}));
    assert_eq!(r.reason.as_deref(), Some("tier gold"));
    assert!(
        r.notes.iter().any(|n| n.contains("'steps' is hidden")),
        "{:?}",
        r.notes
    );
}

// Regressions from the review of issue 2.

#[test]
fn a_long_dependency_chain_dry_runs_in_linear_time() {
    let mut steps = vec![json!({"id": "s0", "type": "set", "variables": {"a": 0}})];
    for i in 1..5000 {
        steps.push(json!({"id": format!("s{i}"), "type": "set", "variables": {"a": i}, "depends_on": [format!("s{}", i - 1)]}));
    }
    let r = run(&wf(Value::Array(steps)), json!({}));
    assert_eq!((r.status, r.steps.len()), (RunStatus::Completed, 5000));
    assert_eq!(r.variables["a"], json!(4999));
}

#[test]
fn rendering_is_bounded_per_step() {
    let title = "{{big}}".repeat(100);
    let r = run(
        &wf(json!([{"id": "t", "type": "create_task", "config": {"title": title}}])),
        json!({"big": "x".repeat(100_000)}),
    );
    assert_eq!(r.status, RunStatus::Failed);
    assert!(
        r.steps[0]
            .error
            .as_deref()
            .unwrap()
            .contains("to more than"),
        "{:?}",
        r.steps[0].error
    );
}

#[test]
fn a_manual_start_must_satisfy_the_input_schema_and_a_disabled_workflow_is_noted() {
    let doc = json!({"workflow_id": "w", "enabled": false,
        "trigger": {"type": "manual", "input_schema": {"type": "object", "required": ["customer_id"], "properties": {"customer_id": {"type": "string"}}}},
        "steps": [{"id": "a", "type": "action", "action": "allow"}]});
    let r = run_with(&doc, json!({"customer_id": 5}), DryRunOptions::default());
    assert!(!r.matched);
    assert!(
        r.reason.as_deref().unwrap().contains("input_schema"),
        "{:?}",
        r.reason
    );
    let r = run_with(&doc, json!({"customer_id": "c1"}), DryRunOptions::default());
    assert!(r.matched);
    assert!(
        r.notes.iter().any(|n| n.contains("disabled")),
        "{:?}",
        r.notes
    );
}

#[test]
fn parallel_strategies_fail_as_they_should() {
    let failing =
        json!({"id": "bad", "type": "foreach", "items": "{{nothing}}", "steps": [task("x")]});
    let doc = |strategy: &str| {
        wf(
            json!([{"id": "p", "type": "parallel", "strategy": strategy, "steps": [failing.clone(), task("ok")]}, task("after")]),
        )
    };
    let r = run(&doc("all"), json!({}));
    assert_eq!(
        (r.status, path(&r).last().cloned()),
        (
            RunStatus::Failed,
            Some(("after".into(), StepStatus::Skipped))
        )
    );
    let r = run(&doc("any"), json!({}));
    assert_eq!(
        (r.status, ids(&r).last().copied()),
        (RunStatus::Completed, Some("after"))
    );
    let r = run(&doc("first"), json!({}));
    assert_eq!(
        r.status,
        RunStatus::Failed,
        "the first branch to finish failed"
    );
}

// The dry run drives the executor, so it behaves as a live run where they used to differ.

/// The dry run ignored a trigger's `source` filter: an event from any source matched.
#[test]
fn a_trigger_with_a_source_hears_only_events_from_it() {
    let doc = json!({"workflow_id": "w",
        "trigger": {"type": "event", "event": "order.*", "source": "shop"},
        "steps": [task("a")]});
    let opts = |source: Option<&str>| DryRunOptions {
        event: Some("order.paid".into()),
        source: source.map(str::to_owned),
        ..DryRunOptions::default()
    };
    assert!(run_with(&doc, json!({}), opts(Some("shop"))).matched);
    for source in [Some("crm"), None] {
        let r = run_with(&doc, json!({}), opts(source));
        assert_eq!((r.matched, r.status), (false, RunStatus::NotMatched));
        assert!(
            r.reason.as_deref().unwrap().contains("source 'shop'"),
            "{:?}",
            r.reason
        );
    }
}

/// The dry run ignored `debounce`: a debounced run starts when its window closes.
#[test]
fn a_debounced_trigger_runs_as_of_the_close_of_its_window() {
    let doc = json!({"workflow_id": "w",
        "trigger": {"type": "event", "event": "cart.updated", "debounce": {"window": "10m", "key": "{{cart.id}}"}},
        "steps": [{"id": "at", "type": "set", "variables": {"started": "{{now}}"}}]});
    let r = run_with(
        &doc,
        json!({"cart": {"id": "c1"}}),
        DryRunOptions {
            event: Some("cart.updated".into()),
            ..DryRunOptions::default()
        },
    );
    assert_eq!(r.trigger.as_ref().unwrap().debounce.as_deref(), Some("10m"));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("debounces") && n.contains("key 'c1'")),
        "{:?}",
        r.notes
    );
    let started = r.variables["started"].as_str().unwrap();
    assert!(started.starts_with("2026-11-22T12:10:00"), "{started}");
}

#[test]
fn a_mock_gives_an_action_its_result_and_the_run_branches_on_it() {
    let doc = wf(json!([
        {"id": "price", "type": "http_request", "config": {"url": "https://pricing.example.com"}},
        {"id": "ok", "type": "condition", "condition": {"field": "steps.price.output.status", "operator": "eq", "value": 200},
         "on_true": "yes", "on_false": "no"},
        {"id": "yes", "type": "action", "action": "allow"},
        {"id": "no", "type": "action", "action": "block"}
    ]));
    let r = run(&doc, json!({}));
    assert_eq!(
        r.steps[0].output,
        Some(json!({"status": 200, "headers": {}, "body": null})),
        "without a mock, the action type's default"
    );
    assert_eq!(r.decision, DecisionKind::Allow);
    let r = run_with(
        &doc,
        json!({}),
        DryRunOptions {
            event: Some("e.x".into()),
            mocks: [("price".to_owned(), json!({"status": 503}))].into(),
            ..DryRunOptions::default()
        },
    );
    assert_eq!(
        (ids(&r), r.decision),
        (vec!["price", "ok", "no"], DecisionKind::Block)
    );
    assert_eq!(
        r.steps[1].condition.as_ref().map(|c| c.result()),
        Some(false)
    );
}

/// The dry run stopped a foreach at 1,000 items where a live run goes to 10,000.
#[test]
fn a_foreach_goes_to_the_live_limit_of_10000_items() {
    let doc = wf(json!([
        {"id": "each", "type": "foreach", "items": "{{items}}", "steps": [
            {"id": "n", "type": "set", "variables": {"last": "{{item}}"}}
        ]}
    ]));
    let items: Vec<Value> = (0..1500).map(|n| json!(n)).collect();
    let r = run(&doc, json!({ "items": items }));
    assert_eq!((r.status, r.steps.len()), (RunStatus::Completed, 1501));
    assert_eq!(r.variables["last"], json!(1499));
}

#[test]
fn a_subworkflow_given_is_dry_run_and_its_variables_are_the_result() {
    let child = workflow(&json!({"workflow_id": "score",
        "trigger": {"type": "event", "event": "never.sent"},
        "steps": [{"id": "s", "type": "set", "variables": {"score": "{{n}}"}}]}));
    let doc = wf(json!([
        {"id": "sub", "type": "subworkflow", "workflow_id": "score", "input": {"n": "{{n}}"}, "output": "scored"},
        {"id": "hi", "type": "condition", "condition": {"field": "vars.scored.score", "operator": "gt", "value": 5},
         "on_true": "yes", "on_false": "no"},
        {"id": "yes", "type": "action", "action": "allow"},
        {"id": "no", "type": "action", "action": "block"}
    ]));
    let opts = DryRunOptions {
        event: Some("e.x".into()),
        workflows: [("score".to_owned(), child)].into(),
        ..DryRunOptions::default()
    };
    let r = run_with(&doc, json!({"n": 9}), opts.clone());
    assert_eq!(r.variables["scored"], json!({"score": 9}));
    assert_eq!(r.decision, DecisionKind::Allow);
    let r = run_with(&doc, json!({"n": 1}), opts);
    assert_eq!(r.decision, DecisionKind::Block);
}

#[test]
fn a_delay_in_one_branch_passes_while_another_branch_waits() {
    let doc = wf(json!([
        {"id": "p", "type": "parallel", "strategy": "all", "steps": [
            {"id": "w", "type": "wait", "event": "paid", "timeout": "1d"},
            {"steps": [{"id": "d", "type": "delay", "duration": "1h"}, task("after_delay")]}
        ]}
    ]));
    let r = run(&doc, json!({}));
    assert_eq!(r.status, RunStatus::Waiting);
    assert_eq!(
        path(&r),
        [
            ("p".into(), StepStatus::Waiting),
            ("w".into(), StepStatus::Waiting),
            ("d".into(), StepStatus::Completed),
            ("after_delay".into(), StepStatus::Completed),
        ],
        "the delay passed; the wait's deadline did not"
    );
}
