//! The executor as a state machine: apply inputs, compare effects. Every test also round-trips
//! the execution through JSON between inputs, as a store would, to show a run resumes anywhere.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use weir_core::dryrun::{ApprovalOutcome, DecisionKind};
use weir_core::executor::{
    ActionError, Effect, ExecStatus, Execution, Input, Start, StepState, TimerId,
};
use weir_core::{Env, Rules, Workflow};

use crate::support::{now, workflow};

struct Run {
    wf: Workflow,
    exec: Execution,
    now: DateTime<Utc>,
    log: Vec<Effect>,
}

impl Run {
    fn start(doc: Value, payload: Value) -> (Run, Vec<Effect>) {
        let wf = workflow(&doc);
        let rules = Rules::default();
        let env = Env::new(now(), &rules);
        let (exec, fx) = Execution::start(
            &wf,
            Start {
                id: "x1".into(),
                trigger_kind: "event",
                event: Some("e.x"),
                payload: &payload,
            },
            &env,
        );
        let mut run = Run {
            wf,
            exec,
            now: now(),
            log: fx.clone(),
        };
        run.persist();
        (run, fx)
    }

    /// What a store does between inputs: serialize and read back.
    fn persist(&mut self) {
        let text = serde_json::to_string(&self.exec).expect("execution serializes");
        self.exec = serde_json::from_str(&text).expect("execution deserializes");
    }

    fn apply(&mut self, input: Input) -> Vec<Effect> {
        let rules = Rules::default();
        let env = Env::new(self.now, &rules);
        let fx = self.exec.apply(&self.wf, input, &env);
        self.log.extend(fx.iter().cloned());
        self.persist();
        fx
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
    }
}

fn wf(steps: Value) -> Value {
    json!({"workflow_id": "w", "trigger": {"type": "event", "event": "e.x"}, "steps": steps})
}

fn performs(fx: &[Effect]) -> Vec<(u32, String, u32)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Perform {
                thread,
                step_id,
                attempt,
                ..
            } => Some((*thread, step_id.clone(), *attempt)),
            _ => None,
        })
        .collect()
}

fn timers(fx: &[Effect]) -> Vec<(TimerId, DateTime<Utc>)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::SetTimer { timer, at } => Some((*timer, *at)),
            _ => None,
        })
        .collect()
}

fn finished(fx: &[Effect]) -> Option<(ExecStatus, Option<String>)> {
    fx.iter().find_map(|e| match e {
        Effect::Finished { status, error } => Some((*status, error.clone())),
        _ => None,
    })
}

/// The steps whose records the effects close as cancelled.
fn cancelled(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Step(r) if r.status == StepState::Cancelled => Some(r.step_id.clone()),
            _ => None,
        })
        .collect()
}

fn ok(thread: u32, attempt: u32, output: Value) -> Input {
    Input::Action {
        thread,
        attempt,
        result: Ok(output),
    }
}

fn task(id: &str) -> Value {
    json!({"id": id, "type": "create_task", "config": {"title": "Task for {{who}}"}})
}

#[test]
fn a_decision_is_announced_before_its_actions_run() {
    let (mut run, fx) = Run::start(
        wf(json!([
            {"id": "check", "type": "condition", "condition": {"field": "order.total", "operator": "gte", "value": 10000}, "on_true": "hold", "on_false": "ok"},
            {"id": "hold", "type": "action", "action": "block", "reason": "order {{order.id}} needs approval",
             "execute": [{"type": "notify", "recipients": ["sales_manager"], "message": "order {{order.id}}"},
                         {"type": "create_approval_request", "entity": "order", "entity_id": "{{order.id}}"}]},
            {"id": "ok", "type": "action", "action": "allow"}
        ])),
        json!({"order": {"id": "o1", "total": 15000}}),
    );
    assert!(fx.contains(&Effect::Decided {
        decision: DecisionKind::Block,
        reason: Some("order o1 needs approval".into())
    }));
    assert_eq!(performs(&fx), [(0, "hold".into(), 1)]);
    let Some(Effect::Perform {
        input,
        idempotency_key,
        action_type,
        ..
    }) = fx.iter().find(|e| matches!(e, Effect::Perform { .. }))
    else {
        unreachable!()
    };
    assert_eq!(
        (action_type.as_str(), input["message"].as_str()),
        ("notify", Some("order o1"))
    );
    assert_eq!(idempotency_key, "x1:hold:t0:1");
    assert_eq!(run.exec.status, ExecStatus::Running);
    let fx = run.apply(ok(0, 1, json!({"sent": 1})));
    assert_eq!(
        performs(&fx),
        [(0, "hold".into(), 1)],
        "the second execute entry"
    );
    let second_key = fx.iter().find_map(|e| match e {
        Effect::Perform {
            idempotency_key, ..
        } => Some(idempotency_key.clone()),
        _ => None,
    });
    assert_eq!(
        second_key.as_deref(),
        Some("x1:hold#1:t0:1"),
        "each execute entry has its own key"
    );
    let fx = run.apply(ok(0, 1, json!({"approval": "a1"})));
    assert_eq!(finished(&fx), Some((ExecStatus::Completed, None)));
    assert_eq!(run.exec.decision, Some(DecisionKind::Block));
    assert_eq!(
        run.exec.ctx["steps"]["hold"]["output"]["results"],
        json!([{"sent": 1}, {"approval": "a1"}])
    );
    // Nothing more happens once finished.
    assert!(run.apply(ok(0, 1, json!({}))).is_empty());
}

#[test]
fn retries_back_off_and_then_fail_the_run_keeping_partial_results() {
    let mut doc = wf(json!([task("first"), task("flaky"), task("never")]));
    doc["settings"] = json!({"retry_policy": {"max_attempts": 3, "initial_interval": "1s", "backoff_coefficient": 2.0, "max_interval": "1m"}});
    let (mut run, fx) = Run::start(doc, json!({"who": "ann"}));
    assert_eq!(performs(&fx), [(0, "first".into(), 1)]);
    let fx = run.apply(ok(0, 1, json!({"task": 1})));
    assert_eq!(performs(&fx), [(0, "flaky".into(), 1)]);
    let fx = run.apply(Input::Action {
        thread: 0,
        attempt: 1,
        result: Err(ActionError::retryable("503")),
    });
    let t = timers(&fx);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].1, now() + Duration::seconds(1));
    assert_eq!(run.exec.status, ExecStatus::Waiting);
    run.advance(Duration::seconds(1));
    let fx = run.apply(Input::Timer(t[0].0));
    assert_eq!(performs(&fx), [(0, "flaky".into(), 2)]);
    // A late result of attempt 1 is ignored.
    assert!(run.apply(ok(0, 1, json!({}))).is_empty());
    let fx = run.apply(Input::Action {
        thread: 0,
        attempt: 2,
        result: Err(ActionError::retryable("503")),
    });
    assert_eq!(
        timers(&fx)[0].1,
        run.now + Duration::seconds(2),
        "exponential backoff"
    );
    let fx = run.apply(Input::Timer(timers(&fx)[0].0));
    let fx2 = run.apply(Input::Action {
        thread: 0,
        attempt: 3,
        result: Err(ActionError::retryable("503")),
    });
    assert_eq!(performs(&fx), [(0, "flaky".into(), 3)]);
    let (status, error) = finished(&fx2).expect("finished");
    assert_eq!(status, ExecStatus::Failed);
    assert!(
        error
            .unwrap()
            .contains("step 'flaky' failed: 503 (after 3 attempt(s))")
    );
    // EC-4: the completed step keeps its output; every attempt is recorded; `never` never ran.
    assert_eq!(run.exec.ctx["steps"]["first"]["output"], json!({"task": 1}));
    let records: Vec<(String, u32, StepState)> = run
        .log
        .iter()
        .filter_map(|e| match e {
            Effect::Step(r) if r.step_id == "flaky" && r.status != StepState::Running => {
                Some((r.step_id.clone(), r.attempt, r.status))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        records,
        [
            ("flaky".into(), 1, StepState::Failed),
            ("flaky".into(), 2, StepState::Failed),
            ("flaky".into(), 3, StepState::Failed)
        ]
    );
    assert!(!performs(&run.log).iter().any(|p| p.1 == "never"));
    // ... and it is recorded as skipped, not left out.
    assert!(run.log.iter().any(
        |e| matches!(e, Effect::Step(r) if r.step_id == "never" && r.status == StepState::Skipped
        && r.error.as_deref() == Some("not reached: the run failed before this step"))
    ));
    assert!(!run.log.iter().any(
        |e| matches!(e, Effect::Step(r) if r.step_id == "first" && r.status == StepState::Skipped)
    ));
}

#[test]
fn permanent_errors_and_retry_on_skip_retries() {
    let (mut run, _) = Run::start(wf(json!([task("a")])), json!({}));
    let fx = run.apply(Input::Action {
        thread: 0,
        attempt: 1,
        result: Err(ActionError::permanent("404 not found")),
    });
    assert_eq!(finished(&fx).unwrap().0, ExecStatus::Failed);

    let mut step = task("a");
    step["retry"] = json!({"max_attempts": 5, "retry_on": ["timeout"]});
    let (mut run, _) = Run::start(wf(json!([step])), json!({}));
    let err = ActionError::retryable("500").with_class("5xx");
    let fx = run.apply(Input::Action {
        thread: 0,
        attempt: 1,
        result: Err(err),
    });
    let (_, e) = finished(&fx).unwrap();
    assert!(
        e.unwrap()
            .contains("not retried: its class is not in retry_on")
    );
}

#[test]
fn a_retry_waits_at_least_as_long_as_the_other_side_asked() {
    let mut step = task("busy");
    step["retry"] = json!({"max_attempts": 3, "initial_interval": "1s"});
    let (mut run, _) = Run::start(wf(json!([step])), json!({}));
    let mut err = ActionError::retryable("429 too many requests").with_class("429");
    err.retry_after_ms = Some(30_000);
    let fx = run.apply(Input::Action {
        thread: 0,
        attempt: 1,
        result: Err(err),
    });
    assert_eq!(timers(&fx)[0].1, run.now + Duration::seconds(30));
    // Shorter than the backoff: the backoff wins.
    let mut err = ActionError::retryable("503").with_class("5xx");
    err.retry_after_ms = Some(10);
    run.advance(Duration::seconds(30));
    let fx = run.apply(Input::Timer(timers(&fx)[0].0));
    assert_eq!(performs(&fx), [(0, "busy".into(), 2)]);
    let fx = run.apply(Input::Action {
        thread: 0,
        attempt: 2,
        result: Err(err),
    });
    assert_eq!(timers(&fx)[0].1, run.now + Duration::seconds(2));
}

#[test]
fn step_timeouts_count_as_retryable_failures() {
    let mut step = task("slow");
    step["timeout"] = json!("30s");
    step["retry"] = json!({"max_attempts": 2, "initial_interval": "5s"});
    let (mut run, fx) = Run::start(wf(json!([step, task("after")])), json!({}));
    let deadline = timers(&fx)[0];
    assert_eq!(deadline.1, now() + Duration::seconds(30));
    run.advance(Duration::seconds(30));
    let fx = run.apply(Input::Timer(deadline.0));
    let retry = timers(&fx)[0];
    assert_eq!(retry.1, run.now + Duration::seconds(5));
    run.advance(Duration::seconds(5));
    let fx = run.apply(Input::Timer(retry.0));
    assert_eq!(performs(&fx), [(0, "slow".into(), 2)]);
    let fx = run.apply(ok(0, 2, json!({})));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::CancelTimer { .. })),
        "the attempt's deadline is cancelled"
    );
    assert_eq!(performs(&fx), [(0, "after".into(), 1)]);
}

#[test]
fn allow_failure_and_on_error_route_around_failures() {
    let mut a = task("a");
    a["allow_failure"] = json!(true);
    let mut b = task("b");
    b["on_error"] = json!("handler");
    let (mut run, _) = Run::start(
        wf(
            json!([a, b, task("skipped"), {"id": "handler", "type": "action", "action": "block", "reason": "handled"}]),
        ),
        json!({}),
    );
    let fx = run.apply(Input::Action {
        thread: 0,
        attempt: 1,
        result: Err(ActionError::permanent("boom")),
    });
    assert_eq!(performs(&fx), [(0, "b".into(), 1)]);
    let fx = run.apply(Input::Action {
        thread: 0,
        attempt: 1,
        result: Err(ActionError::permanent("boom")),
    });
    assert_eq!(finished(&fx), Some((ExecStatus::Completed, None)));
    assert_eq!(run.exec.decision, Some(DecisionKind::Block));
}

#[test]
fn delays_wait_and_approvals_park_the_run_until_their_input() {
    let doc = wf(json!([
        {"id": "pause", "type": "delay", "duration": "1h"},
        {"id": "paid", "type": "wait", "event": "payment.received", "match": {"field": "order_id", "operator": "eq", "value": "{{order.id}}"}, "timeout": "1d", "on_timeout": "cancel"},
        {"id": "ask", "type": "approval", "approver_role": "manager", "entity": "order", "entity_id": "{{order.id}}", "timeout": "2d", "on_approve": "ok", "on_reject": "cancel"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "cancel", "type": "action", "action": "block", "reason": "not paid or not approved"}
    ]));
    let (mut run, fx) = Run::start(doc, json!({"order": {"id": "o7"}}));
    assert_eq!(run.exec.status, ExecStatus::Waiting);
    let delay = timers(&fx)[0];
    assert_eq!(delay.1, now() + Duration::hours(1));
    run.advance(Duration::hours(1));
    let fx = run.apply(Input::Timer(delay.0));
    // The payment must name this order: a store delivers no other order's payment.
    assert!(fx.contains(&Effect::AwaitEvent {
        thread: 0,
        event: "payment.received".into(),
        requires: Some(("order_id".into(), "o7".into())),
    }));
    assert_eq!(run.exec.awaited_events(), ["payment.received"]);
    // Another order's payment does not match.
    let fx = run.apply(Input::Event {
        event_type: "payment.received".into(),
        payload: json!({"order_id": "o8"}),
    });
    assert!(fx.is_empty());
    let fx = run.apply(Input::Event {
        event_type: "payment.received".into(),
        payload: json!({"order_id": "o7", "amount": 5}),
    });
    let Some(Effect::RequestApproval {
        id,
        entity_id,
        expires_at,
        ..
    }) = fx
        .iter()
        .find(|e| matches!(e, Effect::RequestApproval { .. }))
        .cloned()
    else {
        panic!("approval requested: {fx:?}")
    };
    assert_eq!(entity_id, Some(json!("o7")));
    assert_eq!(expires_at, Some(run.now + Duration::days(2)));
    assert_eq!(run.exec.ctx["steps"]["paid"]["output"]["amount"], json!(5));
    // An unknown approval id changes nothing; the right one continues.
    assert!(
        run.apply(Input::Approval {
            id: "nope".into(),
            outcome: ApprovalOutcome::Approve
        })
        .is_empty()
    );
    let fx = run.apply(Input::Approval {
        id,
        outcome: ApprovalOutcome::Approve,
    });
    assert_eq!(finished(&fx), Some((ExecStatus::Completed, None)));
    assert_eq!(run.exec.decision, Some(DecisionKind::Allow));
}

#[test]
fn a_wait_that_times_out_takes_on_timeout() {
    let doc = wf(json!([
        {"id": "paid", "type": "wait", "event": "payment.received", "timeout": "1d", "on_timeout": "cancel"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "cancel", "type": "action", "action": "block", "reason": "not paid"}
    ]));
    let (mut run, fx) = Run::start(doc, json!({}));
    let t = timers(&fx)[0];
    run.advance(Duration::days(1));
    let fx = run.apply(Input::Timer(t.0));
    assert!(fx.contains(&Effect::StopAwaiting { thread: 0 }));
    assert_eq!(finished(&fx), Some((ExecStatus::Completed, None)));
    assert_eq!(run.exec.decision, Some(DecisionKind::Block));
}

#[test]
fn parallel_all_joins_and_any_cancels_the_losers() {
    let doc = |strategy: &str| {
        wf(json!([
            {"id": "p", "type": "parallel", "strategy": strategy, "steps": [
                task("a"),
                {"steps": [{"id": "nap", "type": "delay", "duration": "1h"}, task("b")]}
            ]},
            task("after")
        ]))
    };
    let (mut run, fx) = Run::start(doc("all"), json!({}));
    let p = performs(&fx);
    assert_eq!(p.len(), 1, "branch 0 acts, branch 1 sleeps: {p:?}");
    let (a_thread, ..) = p[0].clone();
    let nap = timers(&fx)[0];
    let fx = run.apply(ok(a_thread, 1, json!({"a": true})));
    assert!(performs(&fx).is_empty(), "`all` waits for the other branch");
    let fx = run.apply(Input::Timer(nap.0));
    let b = performs(&fx)[0].clone();
    assert_eq!(b.1, "b");
    let fx = run.apply(ok(b.0, 1, json!({})));
    assert_eq!(performs(&fx), [(0, "after".into(), 1)]);
    assert_eq!(
        run.exec.ctx["steps"]["p"]["output"]["branches"][1]["status"],
        json!("completed")
    );

    let (mut run, fx) = Run::start(doc("any"), json!({}));
    let a = performs(&fx)[0].clone();
    let nap = timers(&fx)[0];
    let fx = run.apply(ok(a.0, 1, json!({})));
    assert!(
        fx.contains(&Effect::CancelTimer { timer: nap.0 }),
        "the sleeping loser is cancelled: {fx:?}"
    );
    assert_eq!(performs(&fx), [(0, "after".into(), 1)]);
    assert_eq!(
        cancelled(&fx),
        ["nap"],
        "the loser's open step is closed as cancelled"
    );
    assert_eq!(run.exec.ctx["steps"]["p"]["output"]["winner"], json!(0));
    assert!(
        run.apply(Input::Timer(nap.0)).is_empty(),
        "a cancelled timer changes nothing"
    );
}

#[test]
fn all_must_pass_routes_like_a_condition() {
    let check = |id: &str, f: &str| json!({"id": id, "type": "condition", "condition": {"field": f, "operator": "eq", "value": true}});
    let doc = wf(json!([
        {"id": "p", "type": "parallel", "strategy": "all_must_pass", "steps": [check("x", "x"), check("y", "y")], "on_true": "ok", "on_false": "deny"},
        {"id": "deny", "type": "action", "action": "block"},
        {"id": "ok", "type": "action", "action": "allow"}
    ]));
    let (run, fx) = Run::start(doc.clone(), json!({"x": true, "y": true}));
    assert_eq!(
        (finished(&fx).unwrap().0, run.exec.decision),
        (ExecStatus::Completed, Some(DecisionKind::Allow))
    );
    let (run, _) = Run::start(doc, json!({"x": true, "y": false}));
    assert_eq!(run.exec.decision, Some(DecisionKind::Block));
    assert_eq!(run.exec.ctx["steps"]["p"]["output"]["result"], json!(false));
}

#[test]
fn foreach_respects_concurrency_and_keeps_results_in_item_order() {
    let doc = wf(json!([
        {"id": "each", "type": "foreach", "items": "{{skus}}", "as": "sku", "concurrency": 2, "steps": [
            {"id": "reserve", "type": "create_task", "config": {"title": "reserve {{sku}} ({{loop.index}})"}}
        ]},
        task("after")
    ]));
    let (mut run, fx) = Run::start(doc, json!({"skus": ["A", "B", "C", "D", "E"]}));
    let mut inflight = performs(&fx);
    assert_eq!(inflight.len(), 2, "two at a time");
    let mut titles = Vec::new();
    let mut done = 0;
    while let Some((thread, step, attempt)) = inflight.pop() {
        assert_eq!(step, "reserve");
        let input = run
            .log
            .iter()
            .rev()
            .find_map(|e| match e {
                Effect::Perform {
                    thread: t, input, ..
                } if *t == thread => Some(input.clone()),
                _ => None,
            })
            .unwrap();
        titles.push(input["title"].as_str().unwrap().to_owned());
        let fx = run.apply(ok(thread, attempt, json!({"n": input["title"]})));
        done += 1;
        for p in performs(&fx) {
            if p.1 == "after" {
                assert_eq!(done, 5);
            } else {
                inflight.push(p);
            }
        }
        assert!(inflight.len() <= 2);
    }
    titles.sort();
    assert_eq!(
        titles,
        [
            "reserve A (0)",
            "reserve B (1)",
            "reserve C (2)",
            "reserve D (3)",
            "reserve E (4)"
        ]
    );
    let results = run.exec.ctx["steps"]["each"]["output"]["results"].clone();
    assert_eq!(
        results,
        json!([{"n": "reserve A (0)"}, {"n": "reserve B (1)"}, {"n": "reserve C (2)"}, {"n": "reserve D (3)"}, {"n": "reserve E (4)"}])
    );
}

#[test]
fn a_failing_iteration_fails_the_foreach_and_cancels_the_others() {
    let doc = wf(json!([
        {"id": "each", "type": "foreach", "items": [1, 2, 3], "concurrency": 3, "steps": [
            {"id": "w", "type": "wait", "event": "never"}, task("t")]}
    ]));
    let mut doc = doc;
    doc["steps"][0]["steps"] = json!([task("t")]);
    let (mut run, fx) = Run::start(doc, json!({}));
    let p = performs(&fx);
    assert_eq!(p.len(), 3);
    let fx = run.apply(Input::Action {
        thread: p[1].0,
        attempt: 1,
        result: Err(ActionError::permanent("no stock")),
    });
    assert_eq!(finished(&fx).unwrap().0, ExecStatus::Failed);
    assert!(
        run.apply(ok(p[0].0, 1, json!({}))).is_empty(),
        "late results of cancelled iterations are ignored"
    );
}

#[test]
fn subworkflows_pass_output_back_and_errors_follow_on_error() {
    let doc = wf(json!([
        {"id": "score", "type": "subworkflow", "workflow_id": "fraud_score", "input": {"order": "{{order}}"}, "output": "fraud"},
        {"id": "c", "type": "condition", "condition": {"field": "vars.fraud.score", "operator": "gt", "value": 50}, "on_true": "deny", "on_false": "ok"},
        {"id": "deny", "type": "action", "action": "block"},
        {"id": "ok", "type": "action", "action": "allow"}
    ]));
    let (mut run, fx) = Run::start(doc.clone(), json!({"order": {"id": 1}}));
    let Some(Effect::StartChild {
        id,
        workflow_id,
        input,
    }) = fx
        .iter()
        .find(|e| matches!(e, Effect::StartChild { .. }))
        .cloned()
    else {
        panic!()
    };
    assert_eq!(
        (workflow_id.as_str(), input),
        ("fraud_score", json!({"order": {"id": 1}}))
    );
    let fx = run.apply(Input::Child {
        id,
        result: Ok(json!({"score": 80})),
    });
    assert_eq!(finished(&fx), Some((ExecStatus::Completed, None)));
    assert_eq!(run.exec.decision, Some(DecisionKind::Block));

    let mut caught = doc;
    caught["steps"][0]["on_error"] = json!("catch");
    let (mut run, fx) = Run::start(caught, json!({}));
    let Some(Effect::StartChild { id, .. }) = fx
        .iter()
        .find(|e| matches!(e, Effect::StartChild { .. }))
        .cloned()
    else {
        panic!()
    };
    run.apply(Input::Child {
        id,
        result: Err("child failed".into()),
    });
    assert_eq!(
        run.exec.ctx["steps"]["score"]["error"],
        json!("subworkflow failed: child failed")
    );
    assert_eq!(run.exec.status, ExecStatus::Completed);
}

#[test]
fn cancel_stops_everything_outstanding() {
    let doc = wf(json!([
        {"id": "p", "type": "parallel", "steps": [
            {"id": "w", "type": "wait", "event": "x", "timeout": "1h", "on_timeout": "t"},
            {"id": "d", "type": "delay", "duration": "1h"}
        ]}
    ]));
    let mut doc = doc;
    doc["steps"][0]["steps"][0] = json!({"steps": [{"id": "w", "type": "wait", "event": "x", "timeout": "1h", "on_timeout": "t"}, {"id": "t", "type": "create_task", "config": {"title": "t"}}]});
    let (mut run, fx) = Run::start(doc, json!({}));
    assert_eq!(timers(&fx).len(), 2);
    let fx = run.apply(Input::Cancel);
    assert_eq!(
        fx.iter()
            .filter(|e| matches!(e, Effect::CancelTimer { .. }))
            .count(),
        2
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::StopAwaiting { .. })));
    assert_eq!(finished(&fx), Some((ExecStatus::Cancelled, None)));
    let mut closed = cancelled(&fx);
    closed.sort();
    assert_eq!(
        closed,
        ["d", "p", "w"],
        "every open step, the parallel one too, ends cancelled"
    );
    let keys: Vec<&str> = run
        .log
        .iter()
        .filter_map(|e| match e {
            Effect::Step(r) if r.step_id == "w" => Some(r.key.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        keys.len() == 2 && keys[0] == keys[1],
        "the cancelled record replaces the waiting one: {keys:?}"
    );
    assert!(
        run.apply(Input::Event {
            event_type: "x".into(),
            payload: json!({})
        })
        .is_empty()
    );
}

#[test]
fn the_workflow_timeout_fails_the_run_and_a_retry_resumes_it() {
    let mut doc = wf(json!([
        {"id": "w", "type": "wait", "event": "x"},
        {"id": "after", "type": "set", "variables": {"a": 1}}
    ]));
    doc["settings"] = json!({"timeout": "10m"});
    let (mut run, fx) = Run::start(doc, json!({}));
    let t = timers(&fx)[0];
    assert_eq!(t.1, now() + Duration::minutes(10));
    let fx = run.apply(Input::Timer(t.0));
    assert_eq!(
        finished(&fx),
        Some((ExecStatus::Failed, Some("the workflow timed out".into())))
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::StopAwaiting { .. })));
    let skipped: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Step(r) if r.status == StepState::Skipped => Some(r.step_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(skipped, ["after"], "the step never reached is recorded");
    // A retry waits again, under a fresh timeout.
    let fx = run.apply(Input::Retry);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::AwaitEvent { event, .. } if event == "x"))
    );
    assert_eq!(timers(&fx).len(), 1, "the run timeout is armed again");
}

#[test]
fn depends_on_lists_run_in_dependency_order_and_skip_after_a_branch_not_taken() {
    let doc = wf(json!([
        {"id": "wallet", "type": "create_wallet", "config": {"currency": "USD"}, "depends_on": ["plan"]},
        {"id": "plan", "type": "assign_plan", "config": {"plan_id": "p"}},
        {"id": "vip", "type": "condition", "condition": {"field": "vip", "operator": "eq", "value": true}, "on_true": "bonus", "on_false": "mail", "depends_on": ["wallet"]},
        {"id": "bonus", "type": "grant_credits", "config": {"amount": 50}, "depends_on": ["vip"]},
        {"id": "mail", "type": "send_email", "config": {"to": "a@b.c", "subject": "hi"}, "depends_on": ["vip"]}
    ]));
    let (mut run, fx) = Run::start(doc, json!({"vip": false}));
    assert_eq!(performs(&fx), [(0, "plan".into(), 1)]);
    let fx = run.apply(ok(0, 1, json!({})));
    assert_eq!(performs(&fx), [(0, "wallet".into(), 1)]);
    let fx = run.apply(ok(0, 1, json!({})));
    assert_eq!(performs(&fx), [(0, "mail".into(), 1)]);
    assert!(fx.iter().any(
        |e| matches!(e, Effect::Step(r) if r.step_id == "bonus" && r.status == StepState::Skipped)
    ));
    let fx = run.apply(ok(0, 1, json!({})));
    assert_eq!(finished(&fx), Some((ExecStatus::Completed, None)));
}

#[test]
fn secrets_reach_the_action_but_not_the_record() {
    let doc = wf(
        json!([{"id": "keep", "type": "set", "variables": {"copied": "{{secrets.KEY}}"}}, {"id": "h", "type": "execute", "action": "http_request", "config": {"url": "https://x.example", "headers": {"Authorization": "Bearer {{secrets.KEY}}"}}}]),
    );
    let wf = workflow(&doc);
    let rules = Rules::default();
    let secret = |_: &str| Some("s3cret".to_owned());
    let ids = || "id".to_owned();
    let env = Env {
        now: now(),
        secrets: &secret,
        ids: &ids,
        rules: &rules,
    };
    let (exec, fx) = Execution::start(
        &wf,
        Start {
            id: "x".into(),
            trigger_kind: "event",
            event: None,
            payload: &json!({}),
        },
        &env,
    );
    let perform = fx
        .iter()
        .find_map(|e| match e {
            Effect::Perform { input, .. } => Some(input.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(perform["headers"]["Authorization"], json!("Bearer s3cret"));
    let records: String = fx
        .iter()
        .filter(|e| matches!(e, Effect::Step(_)))
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    assert!(
        !records.contains("s3cret") && records.contains("Bearer ***"),
        "{records}"
    );
    assert!(!serde_json::to_string(&exec).unwrap().contains("s3cret"));
}

/// One step on a run's path: its id and how its last record left it.
type PathStep = (String, String);

/// Drives an execution as a live runtime would in the world a dry run assumes: every action
/// takes as long (answers come in the order they were asked for) and returns its mock or its
/// type's default result; delays and retries pass on the clock; waits and approvals resolve only
/// as the case says. With `persist`, the execution goes through JSON after every input, as a
/// store keeps it.
/// Returns the status, the decision and the path: each step record's step id in the order the
/// records first appeared, with the status of its latest version.
fn drive(
    wf: &Workflow,
    case: &Value,
    persist: bool,
) -> (ExecStatus, Option<DecisionKind>, Vec<PathStep>) {
    let rules = Rules::default();
    let opts = crate::support::case_options(case);
    let mut env = Env::new(now(), &rules);
    let event = case["event"].as_str();
    let start = Start {
        id: "c".into(),
        trigger_kind: if event.is_some() { "event" } else { "manual" },
        event,
        payload: &case["payload"],
    };
    let (mut exec, fx) = Execution::start(wf, start, &env);
    let mut queue: std::collections::VecDeque<Effect> = fx.into();
    let mut answers: std::collections::VecDeque<Input> = Default::default();
    let mut timers: Vec<(DateTime<Utc>, TimerId)> = Vec::new();
    let mut open_waits = 0usize;
    let mut path: Vec<PathStep> = Vec::new();
    let mut keys: std::collections::HashMap<String, usize> = Default::default();
    let approval = case["approval"].as_str();
    for _ in 0..1_000_000 {
        if let Some(effect) = queue.pop_front() {
            match effect {
                Effect::Step(r) => {
                    let status = serde_json::to_value(r.status).unwrap();
                    let status = status.as_str().unwrap().to_owned();
                    match keys.get(&r.key) {
                        Some(&i) => path[i].1 = status,
                        None => {
                            keys.insert(r.key.clone(), path.len());
                            path.push((r.step_id.clone(), status));
                        }
                    }
                }
                Effect::Perform {
                    thread,
                    attempt,
                    step_id,
                    action_type,
                    input,
                    ..
                } => {
                    let result = opts.mocks.get(&step_id).cloned().unwrap_or_else(|| {
                        weir_core::dryrun::default_action_result(&action_type, &input)
                    });
                    answers.push_back(ok(thread, attempt, result));
                }
                Effect::SetTimer { timer, at } => timers.push((at, timer)),
                Effect::CancelTimer { timer } => timers.retain(|(_, t)| *t != timer),
                Effect::RequestApproval { id, .. } => match approval {
                    Some("approve") => answers.push_back(Input::Approval {
                        id,
                        outcome: ApprovalOutcome::Approve,
                    }),
                    Some("reject") => answers.push_back(Input::Approval {
                        id,
                        outcome: ApprovalOutcome::Reject,
                    }),
                    _ => open_waits += 1,
                },
                Effect::ExpireApproval { .. } | Effect::WithdrawApproval { .. } => {
                    open_waits = open_waits.saturating_sub(1)
                }
                Effect::AwaitEvent { event, .. } if case["wait"].is_object() => {
                    answers.push_back(Input::Event {
                        event_type: event,
                        payload: case["wait"].clone(),
                    });
                }
                _ => {}
            }
            continue;
        }
        let input = match answers.pop_front() {
            Some(input) => input,
            None => {
                if exec.status.is_terminal() {
                    break;
                }
                // Only time is left: delays and retries pass. A wait or approval the case does
                // not resolve keeps the run waiting, unless the case assumes it times out.
                let timeouts = case["wait"] == json!("timeout") || approval == Some("timeout");
                let waiting = open_waits > 0 || !exec.awaited_events().is_empty();
                timers.sort();
                let Some(i) = timers
                    .iter()
                    .position(|(_, t)| !(waiting && !timeouts && exec.is_deadline(*t)))
                else {
                    break;
                };
                let (at, timer) = timers.remove(i);
                env.now = env.now.max(at);
                Input::Timer(timer)
            }
        };
        if persist {
            exec = serde_json::from_value(serde_json::to_value(&exec).unwrap()).unwrap();
        }
        queue.extend(exec.apply(wf, input, &env));
    }
    (exec.status, exec.decision, path)
}

/// Every example and template case, as (workflow, case file) pairs.
fn example_cases() -> Vec<(std::path::PathBuf, std::path::PathBuf)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut pairs = Vec::new();
    for dir in ["examples", "templates"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let p = entry.path();
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            if let Some(base) = name.strip_suffix(".events.json") {
                let wf_name = if dir == "examples" {
                    format!("{base}.workflow.json")
                } else {
                    format!("{base}.json")
                };
                pairs.push((root.join(dir).join(wf_name), p));
            }
        }
    }
    pairs
}

/// Where a dry run and a live run of the same case part: `None` when they agree on the status,
/// the decision and the whole ordered path (step ids with their statuses).
fn disagreement(wf: &Workflow, case: &Value, persist: bool) -> Option<String> {
    use weir_core::dry_run;
    use weir_core::dryrun::RunStatus;
    let rules = Rules::default();
    let opts = crate::support::case_options(case);
    let planned = dry_run(wf, &case["payload"], &Env::new(now(), &rules), &opts);
    if !planned.matched {
        return None; // Trigger matching is the engine's trigger index, not the executor.
    }
    let (status, decision, path) = drive(wf, case, persist);
    let dry_status = match planned.status {
        RunStatus::Completed => ExecStatus::Completed,
        RunStatus::Failed => ExecStatus::Failed,
        RunStatus::Waiting => ExecStatus::Waiting,
        RunStatus::NotMatched => unreachable!(),
    };
    let dry_decision = match planned.decision {
        DecisionKind::None => None,
        d => Some(d),
    };
    // A step the live run leaves running (a parallel joining, a delay) is one the dry run
    // reports as waiting.
    let live_path: Vec<PathStep> = path
        .into_iter()
        .map(|(id, st)| match st.as_str() {
            "running" => (id, "waiting".to_owned()),
            _ => (id, st),
        })
        .collect();
    let dry_path: Vec<PathStep> = planned
        .steps
        .iter()
        .map(|s| {
            let st = serde_json::to_value(s.status).unwrap();
            (s.step_id.clone(), st.as_str().unwrap().to_owned())
        })
        .collect();
    let live_status = if status == ExecStatus::Running {
        ExecStatus::Waiting
    } else {
        status
    };
    if (live_status, decision, &live_path) == (dry_status, dry_decision, &dry_path) {
        return None;
    }
    Some(format!(
        "live {live_status:?} {decision:?} {live_path:?}\n    dry  {dry_status:?} {dry_decision:?} {dry_path:?}"
    ))
}

#[test]
fn the_executor_agrees_with_the_dry_run_on_every_example_case() {
    let pairs = example_cases();
    assert!(pairs.len() >= 13);
    let (mut compared, mut failures) = (0, Vec::new());
    for (wf_path, events) in pairs {
        let wf =
            workflow(&serde_json::from_str(&std::fs::read_to_string(&wf_path).unwrap()).unwrap());
        let cases: Value =
            serde_json::from_str(&std::fs::read_to_string(&events).unwrap()).unwrap();
        for case in cases.as_array().unwrap() {
            compared += 1;
            if let Some(d) = disagreement(&wf, case, true) {
                failures.push(format!(
                    "{} / {}:\n    {d}",
                    events.display(),
                    case["name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    assert!(compared >= 40, "compared only {compared} cases");
    assert!(
        failures.is_empty(),
        "{} of {compared} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The dry run stopped a foreach at 1,000 items where a live run goes to 10,000.
#[test]
fn the_executor_agrees_with_the_dry_run_on_a_foreach_of_1500_items() {
    let (doc, case) = crate::support::many_items_case();
    let wf = workflow(&doc);
    // Not persisted between inputs: the state holds the 1,500 items, and a copy per input
    // would make the test quadratic for nothing the example cases do not show already.
    assert_eq!(disagreement(&wf, &case, false), None);
    let rules = Rules::default();
    let opts = crate::support::case_options(&case);
    let planned = weir_core::dry_run(&wf, &case["payload"], &Env::new(now(), &rules), &opts);
    assert_eq!(
        planned.steps.len(),
        1 + 1500 * 2 + 1,
        "every item is visited: the foreach, a condition and one more step per item, the decision"
    );
    assert_eq!(planned.decision, DecisionKind::Allow);
}

#[test]
fn a_failed_run_retries_from_its_failed_step_with_new_keys() {
    let (mut run, _) = Run::start(
        wf(json!([task("done_first"), task("flaky"), task("after")])),
        json!({}),
    );
    run.apply(ok(0, 1, json!({"n": 1})));
    let fx = run.apply(Input::Action {
        thread: 0,
        attempt: 1,
        result: Err(ActionError::permanent("down")),
    });
    assert_eq!(finished(&fx).unwrap().0, ExecStatus::Failed);
    let fx = run.apply(Input::Retry);
    assert_eq!(
        performs(&fx),
        [(0, "flaky".into(), 1)],
        "only the failed step runs again"
    );
    let key = fx.iter().find_map(|e| match e {
        Effect::Perform {
            idempotency_key, ..
        } => Some(idempotency_key.clone()),
        _ => None,
    });
    assert_eq!(
        key.as_deref(),
        Some("x1:r1:flaky:t0:1"),
        "a retry is not a duplicate of the failed attempt"
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Step(r) if r.key == "r1/0:flaky:1"))
    );
    assert_eq!(run.exec.status, ExecStatus::Running);
    assert_eq!(
        run.exec.ctx["steps"]["done_first"]["output"],
        json!({"n": 1}),
        "completed steps keep their outputs"
    );
    let fx = run.apply(ok(0, 1, json!({})));
    assert_eq!(performs(&fx), [(0, "after".into(), 1)]);
    let fx = run.apply(ok(0, 1, json!({})));
    assert_eq!(finished(&fx).unwrap().0, ExecStatus::Completed);
    // Retrying anything but a failed run does nothing.
    assert!(run.apply(Input::Retry).is_empty());
}

#[test]
fn a_step_visited_again_by_a_jump_keeps_its_first_record_and_gets_a_new_action_key() {
    let (mut run, fx) = Run::start(
        wf(json!([
            task("poll"),
            {"id": "again", "type": "condition", "condition": {"field": "steps.poll.output.done", "operator": "eq", "value": false},
             "on_true": "poll", "on_false": "end"},
            {"id": "end", "type": "action", "action": "allow"}
        ])),
        json!({"who": "ann"}),
    );
    let key = |fx: &[Effect]| {
        fx.iter()
            .find_map(|e| match e {
                Effect::Perform {
                    idempotency_key, ..
                } => Some(idempotency_key.clone()),
                _ => None,
            })
            .expect("an action is performed")
    };
    assert_eq!(key(&fx), "x1:poll:t0:1");
    let fx = run.apply(ok(0, 1, json!({"done": false})));
    assert_eq!(
        key(&fx),
        "x1:poll~1:t0:1",
        "the second visit is another call"
    );
    let fx = run.apply(ok(0, 1, json!({"done": true})));
    assert_eq!(finished(&fx), Some((ExecStatus::Completed, None)));
    let completed: Vec<(String, Value)> = run
        .log
        .iter()
        .filter_map(|e| match e {
            Effect::Step(r) if r.status == StepState::Completed => {
                Some((r.key.clone(), r.output.clone().unwrap_or(Value::Null)))
            }
            _ => None,
        })
        .collect();
    let keys: Vec<&str> = completed.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "0:poll:1",
            "0:again:0",
            "0:poll~1:1",
            "0:again~1:0",
            "0:end:0"
        ]
    );
    assert_eq!(
        completed[0].1,
        json!({"done": false}),
        "the first visit's record stays"
    );
    assert_eq!(completed[2].1, json!({"done": true}));
}

/// A thread's locals are laid over the context in place while its step reads them: after the
/// run, what they covered is back as it was, in its place, and nothing of them is left.
#[test]
fn a_foreach_leaves_the_context_as_it_found_it() {
    let (run, fx) = Run::start(
        wf(json!([
            {"id": "each", "type": "foreach", "items": "{{items}}", "as": "item", "concurrency": 2, "steps": [
                {"id": "inner", "type": "foreach", "items": "{{item.parts}}", "as": "part", "steps": [
                    {"id": "seen", "type": "set", "variables": {"last": "{{item.name}}/{{part}}/{{loop.index}}"}}
                ]}
            ]},
            {"id": "after", "type": "set", "variables": {"outer": "{{item}}", "loop_left": "{{loop}}"}}
        ])),
        json!({"item": "outer", "items": [{"name": "a", "parts": [1, 2]}, {"name": "b", "parts": [3]}], "z": 1}),
    );
    assert_eq!(finished(&fx).map(|f| f.0), Some(ExecStatus::Completed));
    let ctx = &run.exec.ctx;
    // Both items run at once, each seeing its own item, part and loop: b's one part is done
    // before a's second.
    assert_eq!(ctx["vars"]["last"], json!("a/2/1"));
    assert_eq!(ctx["vars"]["outer"], json!("outer"));
    assert_eq!(ctx["vars"]["loop_left"], Value::Null);
    assert!(ctx.get("part").is_none() && ctx.get("loop").is_none());
    let keys: Vec<&str> = ctx
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys[..3],
        ["item", "items", "z"],
        "the payload keeps its order"
    );
}
