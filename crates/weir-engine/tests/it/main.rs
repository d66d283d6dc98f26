//! The engine end to end on a real SQLite store: events in, executions out, across timers,
//! waits, approvals, child runs, idempotency, and a node that dies holding a lease.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use weir_engine::Engine;
use weir_store::{ExecutionFilter, NewItem, Scope, SqlStore, Store};

mod agreement;

async fn engine_on(store: Arc<dyn Store>) -> (Arc<Engine>, Scope) {
    let scope = store.bootstrap("hash").await.unwrap().scope;
    (Engine::new(store), scope)
}

async fn sqlite_engine() -> (Arc<Engine>, Scope) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = weir_store::testing::scratch(&format!("engine-{}", N.fetch_add(1, Ordering::SeqCst)));
    engine_on(Arc::new(SqlStore::open_sqlite(&dir).await.unwrap())).await
}

/// Every case runs as its own test on SQLite, and all of them on one throw-away PostgreSQL
/// server (a fresh database each).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (e, scope) = super::sqlite_engine().await;
                    super::$name(e, scope).await;
                }
            )*
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn on_postgres() {
            let Some(pg) = weir_store::testing::Server::start() else { return };
            $(
                let url = pg.fresh_database(stringify!($name)).await;
                let (e, scope) = engine_on(Arc::new(SqlStore::connect(&url).await.unwrap())).await;
                eprintln!("postgres: {}", stringify!($name));
                $name(e, scope).await;
            )*
        }
    };
}

on_both_backends!(
    an_event_starts_a_run_that_decides_and_records_every_step,
    an_idempotency_key_starts_one_run,
    runs_are_pinned_to_the_version_current_when_they_started,
    delays_waits_and_approvals_park_runs_until_time_events_and_people_move_them,
    a_subworkflow_runs_as_a_child_and_hands_back_its_variables,
    an_unimplemented_action_fails_its_step_without_retrying_and_keeps_what_was_done,
    tenants_do_not_see_each_others_workflows_or_events,
    work_held_by_a_dead_node_is_taken_over_when_its_lease_expires,
    a_failed_run_is_retried_from_its_failed_step,
    cancelling_a_parent_cancels_its_child_and_one_event_wakes_parallel_waiters_once,
    a_workflow_that_starts_itself_stops_at_the_depth_limit,
    a_wait_for_a_pattern_takes_any_event_it_matches,
);

/// Works until nothing is due and nothing is running (bounded).
async fn settle(e: &Arc<Engine>) {
    for _ in 0..1000 {
        if e.work_once(16).await.unwrap() == 0 {
            if e.running_executions() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    panic!("the engine did not settle");
}

/// Sends an event that starts exactly one run, and returns the run's id.
async fn start_one(e: &Engine, scope: &Scope, event: &str, payload: Value) -> String {
    let ingest = e.ingest(scope, event, &payload, None, None).await.unwrap();
    assert_eq!(ingest.executions.len(), 1, "{event} starts one run");
    ingest.executions[0].id.clone()
}

async fn execution(e: &Engine, scope: &Scope, id: &str) -> weir_store::ExecutionRow {
    e.store()
        .execution(scope, id)
        .await
        .unwrap()
        .expect("execution exists")
}

fn order_workflow() -> Value {
    json!({
        "workflow_id": "order_check",
        "trigger": {"type": "event", "event": "order.checkout.initiated", "conditions": {"field": "order.total", "operator": "gt", "value": 0}},
        "steps": [
            {"id": "check", "type": "condition", "condition": {"field": "order.total", "operator": "gte", "value": 10000}, "on_true": "hold", "on_false": "ok"},
            {"id": "hold", "type": "action", "action": "block", "reason": "order {{order.id}} needs approval",
             "execute": [{"type": "log", "message": "held {{order.id}}"}]},
            {"id": "ok", "type": "action", "action": "allow"}
        ]
    })
}

async fn an_event_starts_a_run_that_decides_and_records_every_step(e: Arc<Engine>, scope: Scope) {
    e.put_workflow(&scope, &order_workflow()).await.unwrap();
    let ingest = e
        .ingest(
            &scope,
            "order.checkout.initiated",
            &json!({"order": {"id": "o1", "total": 15000}}),
            Some("shop"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(ingest.executions.len(), 1);
    let started = ingest.executions[0].clone();
    let id = started.id.clone();
    assert_eq!(
        (started.workflow_id.as_str(), started.version),
        ("order_check", 1)
    );
    assert_eq!(
        (started.status.as_str(), started.decision.as_deref()),
        ("running", Some("block")),
        "decided before the event was answered"
    );
    settle(&e).await;
    let row = execution(&e, &scope, &id).await;
    assert_eq!(
        (
            row.status.as_str(),
            row.decision.as_deref(),
            row.reason.as_deref()
        ),
        ("completed", Some("block"), Some("order o1 needs approval"))
    );
    let steps = e.store().steps(&scope, &id).await.unwrap();
    let ids: Vec<&str> = steps
        .iter()
        .map(|s| s["step_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["check", "hold"]);
    assert_eq!(steps[1]["status"], json!("completed"));
    assert_eq!(
        steps[1]["output"]["results"][0]["logged"]["message"],
        json!("held o1")
    );
    // A non-matching event and a zero total start nothing.
    assert!(
        e.ingest(&scope, "cart.updated", &json!({}), None, None)
            .await
            .unwrap()
            .executions
            .is_empty()
    );
    assert!(
        e.ingest(
            &scope,
            "order.checkout.initiated",
            &json!({"order": {"total": 0}}),
            None,
            None
        )
        .await
        .unwrap()
        .executions
        .is_empty()
    );
}

async fn an_idempotency_key_starts_one_run(e: Arc<Engine>, scope: Scope) {
    e.put_workflow(&scope, &order_workflow()).await.unwrap();
    let payload = json!({"order": {"id": "o1", "total": 5}});
    let a = e
        .ingest(
            &scope,
            "order.checkout.initiated",
            &payload,
            None,
            Some("k-1"),
        )
        .await
        .unwrap();
    let b = e
        .ingest(
            &scope,
            "order.checkout.initiated",
            &payload,
            None,
            Some("k-1"),
        )
        .await
        .unwrap();
    assert!(!a.duplicate && b.duplicate);
    assert_eq!(a.event_id, b.event_id);
    assert_eq!(a.executions, b.executions);
    // Another payload under the key is another event: refused, naming the one that has it.
    let other = json!({"order": {"id": "o1", "total": 50_000}});
    match e
        .ingest(
            &scope,
            "order.checkout.initiated",
            &other,
            None,
            Some("k-1"),
        )
        .await
    {
        Err(weir_engine::Error::KeyReused(id)) => assert_eq!(id, a.event_id),
        answer => panic!("{answer:?}"),
    }
    settle(&e).await;
    let all = e
        .store()
        .executions(&scope, &ExecutionFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
}

async fn runs_are_pinned_to_the_version_current_when_they_started(e: Arc<Engine>, scope: Scope) {
    let wf = json!({"workflow_id": "w", "trigger": {"type": "event", "event": "x"}, "steps": [
        {"id": "wait", "type": "delay", "duration": "200ms"},
        {"id": "v1", "type": "action", "action": "allow", "reason": "version 1"}]});
    e.put_workflow(&scope, &wf).await.unwrap();
    let first = start_one(&e, &scope, "x", json!({})).await;
    settle(&e).await;
    let mut v2 = wf.clone();
    v2["steps"][1] =
        json!({"id": "v2", "type": "action", "action": "block", "reason": "version 2"});
    e.put_workflow(&scope, &v2).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    settle(&e).await;
    let row = execution(&e, &scope, &first).await;
    assert_eq!(
        (row.workflow_version, row.reason.as_deref()),
        (1, Some("version 1"))
    );
}

async fn delays_waits_and_approvals_park_runs_until_time_events_and_people_move_them(
    e: Arc<Engine>,
    scope: Scope,
) {
    e.put_workflow(&scope, &json!({"workflow_id": "flow", "trigger": {"type": "event", "event": "order.placed"}, "steps": [
        {"id": "pause", "type": "delay", "duration": "200ms"},
        {"id": "paid", "type": "wait", "event": "payment.received", "match": {"field": "order_id", "operator": "eq", "value": "{{order.id}}"}, "timeout": "1h", "on_timeout": "deny"},
        {"id": "ask", "type": "approval", "approver_role": "manager", "entity": "order", "entity_id": "{{order.id}}", "on_approve": "ok", "on_reject": "deny"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "deny", "type": "action", "action": "block"}
    ]})).await.unwrap();
    let id = start_one(&e, &scope, "order.placed", json!({"order": {"id": "o9"}})).await;
    settle(&e).await;
    assert_eq!(execution(&e, &scope, &id).await.status, "waiting");
    tokio::time::sleep(Duration::from_millis(300)).await;
    settle(&e).await;
    assert_eq!(
        e.store()
            .awaiting(&scope, "payment.received")
            .await
            .unwrap()
            .len(),
        1,
        "waiting for the payment"
    );
    // Another order's payment is not it.
    e.ingest(
        &scope,
        "payment.received",
        &json!({"order_id": "o8"}),
        None,
        None,
    )
    .await
    .unwrap();
    settle(&e).await;
    assert_eq!(
        e.store()
            .awaiting(&scope, "payment.received")
            .await
            .unwrap()
            .len(),
        1
    );
    e.ingest(
        &scope,
        "payment.received",
        &json!({"order_id": "o9"}),
        None,
        None,
    )
    .await
    .unwrap();
    settle(&e).await;
    let state = execution(&e, &scope, &id).await;
    assert_eq!(state.status, "waiting");
    assert!(
        e.store()
            .awaiting(&scope, "payment.received")
            .await
            .unwrap()
            .is_empty()
    );
    let approval_id = e
        .store()
        .steps(&scope, &id)
        .await
        .unwrap()
        .iter()
        .find_map(|s| s["input"]["approval_id"].as_str().map(str::to_owned))
        .expect("an approval was requested");
    let approval = e
        .store()
        .approval(&scope, &approval_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (approval.status.as_str(), approval.entity_id.as_deref()),
        ("pending", Some("o9"))
    );
    e.store()
        .decide_approval(&scope, &approval_id, true, "ann", None)
        .await
        .unwrap();
    settle(&e).await;
    let row = execution(&e, &scope, &id).await;
    assert_eq!(
        (row.status.as_str(), row.decision.as_deref()),
        ("completed", Some("allow"))
    );
}

async fn a_subworkflow_runs_as_a_child_and_hands_back_its_variables(e: Arc<Engine>, scope: Scope) {
    e.put_workflow(&scope, &json!({"workflow_id": "score", "steps": [{"id": "s", "type": "set", "variables": {"score": "{{order.total}}"}}]})).await.unwrap();
    e.put_workflow(&scope, &json!({"workflow_id": "parent", "trigger": {"type": "event", "event": "order.placed"}, "steps": [
        {"id": "sub", "type": "subworkflow", "workflow_id": "score", "input": {"order": "{{order}}"}, "output": "result"},
        {"id": "c", "type": "condition", "condition": {"field": "vars.result.score", "operator": "gt", "value": 100}, "on_true": "deny", "on_false": "ok"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "deny", "type": "action", "action": "block"}
    ]})).await.unwrap();
    let id = start_one(&e, &scope, "order.placed", json!({"order": {"total": 500}})).await;
    settle(&e).await;
    let row = execution(&e, &scope, &id).await;
    assert_eq!(
        (row.status.as_str(), row.decision.as_deref()),
        ("completed", Some("block")),
        "{row:?}"
    );
    let all = e
        .store()
        .executions(
            &scope,
            &ExecutionFilter {
                workflow_id: Some("score".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (all.len(), all[0].parent_id.as_deref()),
        (1, Some(id.as_str()))
    );
}

async fn an_unimplemented_action_fails_its_step_without_retrying_and_keeps_what_was_done(
    e: Arc<Engine>,
    scope: Scope,
) {
    e.put_workflow(
        &scope,
        &json!({"workflow_id": "mail", "trigger": {"type": "event", "event": "x"}, "steps": [
            {"id": "note", "type": "log", "config": {"message": "first"}},
            {"id": "mail", "type": "send_email", "config": {"to": "a@b.c", "subject": "hi"}}
        ]}),
    )
    .await
    .unwrap();
    let id = start_one(&e, &scope, "x", json!({})).await;
    settle(&e).await;
    let row = execution(&e, &scope, &id).await;
    assert_eq!(row.status, "failed");
    assert!(
        row.error
            .unwrap()
            .contains("no implementation in this build")
    );
    let steps = e.store().steps(&scope, &id).await.unwrap();
    assert_eq!(steps[0]["status"], json!("completed"));
    assert_eq!(
        steps.iter().filter(|s| s["step_id"] == "mail").count(),
        1,
        "one attempt: the error is permanent"
    );
}

async fn tenants_do_not_see_each_others_workflows_or_events(e: Arc<Engine>, scope: Scope) {
    e.put_workflow(&scope, &order_workflow()).await.unwrap();
    let other = Scope::new("default", "staging");
    let none = e
        .ingest(
            &other,
            "order.checkout.initiated",
            &json!({"order": {"total": 5}}),
            None,
            None,
        )
        .await
        .unwrap();
    assert!(none.executions.is_empty());
}

async fn work_held_by_a_dead_node_is_taken_over_when_its_lease_expires(
    e: Arc<Engine>,
    scope: Scope,
) {
    // Another node starts the run and goes on with it itself (its log action), with a short
    // lease; the action hangs, and the node dies without committing.
    e.put_workflow(&scope, &order_workflow()).await.unwrap();
    let hung = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        hang: usize::MAX,
    });
    let mut actions = weir_engine::Actions::builtin();
    actions.register("log", hung.clone());
    let dead = Engine::with(e.store().clone(), 150, actions);
    dead.refresh(&scope).await.unwrap();
    let id = start_one(
        &dead,
        &scope,
        "order.checkout.initiated",
        json!({"order": {"id": "o1", "total": 15000}}),
    )
    .await;
    assert_eq!(e.work_once(16).await.unwrap(), 0, "the lease is still held");
    tokio::time::sleep(Duration::from_millis(250)).await;
    settle(&e).await;
    let row = execution(&e, &scope, &id).await;
    assert_eq!(
        (row.status.as_str(), row.decision.as_deref()),
        ("completed", Some("block"))
    );
    assert_eq!(hung.calls.load(Ordering::SeqCst), 1);
    // The dead node's late commit is refused and changes nothing.
    let late = weir_store::Commit {
        state: json!({"zombie": true}).into(),
        status: "failed".into(),
        finished: true,
        ..Default::default()
    };
    let its_claim = weir_store::Claim {
        execution_id: id.clone(),
        parent_id: None,
        scope: scope.clone(),
        workflow_id: "order_check".into(),
        workflow_version: 1,
        epoch: 0,
        state: Value::Null,
        items: Vec::new(),
    };
    assert!(matches!(
        e.store().commit(dead.node(), &its_claim, late).await,
        Err(weir_store::Error::LeaseLost(_))
    ));
    assert_eq!(execution(&e, &scope, &id).await.status, "completed");
}

async fn a_failed_run_is_retried_from_its_failed_step(e: Arc<Engine>, scope: Scope) {
    e.put_workflow(
        &scope,
        &json!({"workflow_id": "mail", "trigger": {"type": "event", "event": "x"}, "steps": [
            {"id": "note", "type": "log", "config": {"message": "first"}},
            {"id": "mail", "type": "send_email", "config": {"to": "a@b.c", "subject": "hi"}}
        ]}),
    )
    .await
    .unwrap();
    let id = start_one(&e, &scope, "x", json!({})).await;
    settle(&e).await;
    assert_eq!(execution(&e, &scope, &id).await.status, "failed");
    e.store().retry_execution(&scope, &id).await.unwrap();
    settle(&e).await;
    let row = execution(&e, &scope, &id).await;
    assert_eq!(
        row.status, "failed",
        "send_email still has no implementation"
    );
    let steps = e.store().steps(&scope, &id).await.unwrap();
    let keys: Vec<&str> = steps.iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        ["0:note:1", "0:mail:1", "r1/0:mail:1"],
        "the completed step did not run again"
    );
}

/// An action that never finishes its first `hang` calls, as if the process died during them.
struct Flaky {
    calls: std::sync::atomic::AtomicUsize,
    hang: usize,
}

#[async_trait::async_trait]
impl weir_engine::Action for Flaky {
    async fn perform(
        &self,
        _: &weir_engine::ActionContext,
        _: Value,
    ) -> Result<Value, weir_core::executor::ActionError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.hang {
            std::future::pending::<()>().await;
        }
        Ok(json!({"done": true}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_interrupted_twice_is_still_performed() {
    let dir = weir_store::testing::scratch("engine-flaky");
    let store: Arc<dyn Store> = Arc::new(SqlStore::open_sqlite(&dir).await.unwrap());
    let scope = store.bootstrap("h").await.unwrap().scope;
    let flaky = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        hang: 2,
    });
    let mut actions = weir_engine::Actions::builtin();
    actions.register("noop", flaky.clone());
    let e = Engine::with(store, 300, actions);
    e.put_workflow(&scope, &json!({"workflow_id": "w", "trigger": {"type": "event", "event": "x"},
        "steps": [{"id": "act", "type": "noop", "config": {}}, {"id": "end", "type": "action", "action": "allow"}]})).await.unwrap();
    // The node that started the run performs the action at once; it hangs, and with no
    // renewal of the lease (nothing keeps leases here) the action is stopped before the lease
    // runs out.
    let id = start_one(&e, &scope, "x", json!({})).await;
    tokio::time::sleep(Duration::from_millis(400)).await; // the lease expires
    assert_eq!(
        e.running_executions(),
        0,
        "the hung action outlived its lease"
    );
    // A worker claims it and dies during the action: its future is dropped mid-await.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), e.work_once(16))
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(400)).await; // the lease expires
    settle(&e).await;
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
    let row = execution(&e, &scope, &id).await;
    assert_eq!(
        (row.status.as_str(), row.decision.as_deref()),
        ("completed", Some("allow"))
    );
}

async fn cancelling_a_parent_cancels_its_child_and_one_event_wakes_parallel_waiters_once(
    e: Arc<Engine>,
    scope: Scope,
) {
    e.put_workflow(
        &scope,
        &json!({"workflow_id": "child", "steps": [{"id": "w", "type": "wait", "event": "never"}]}),
    )
    .await
    .unwrap();
    e.put_workflow(
        &scope,
        &json!({"workflow_id": "parent", "trigger": {"type": "event", "event": "go"}, "steps": [
            {"id": "sub", "type": "subworkflow", "workflow_id": "child"}
        ]}),
    )
    .await
    .unwrap();
    e.put_workflow(
        &scope,
        &json!({"workflow_id": "fan", "trigger": {"type": "event", "event": "go"}, "steps": [
            {"id": "p", "type": "parallel", "steps": [
            {"id": "a", "type": "wait", "event": "paid"},
            {"id": "b", "type": "wait", "event": "paid"}
        ]}
        ]}),
    )
    .await
    .unwrap();
    let started = e
        .ingest(&scope, "go", &json!({}), None, None)
        .await
        .unwrap();
    settle(&e).await;
    let id_of = |wf: &str| {
        started
            .executions
            .iter()
            .find(|x| x.workflow_id == wf)
            .unwrap()
            .id
            .clone()
    };
    let (parent, fan) = (id_of("parent"), id_of("fan"));
    let child = format!("{parent}-child-1");
    assert_eq!(execution(&e, &scope, &child).await.status, "waiting");

    e.store()
        .enqueue(&scope, &parent, NewItem::now(weir_store::Work::Cancel))
        .await
        .unwrap();
    settle(&e).await;
    assert_eq!(execution(&e, &scope, &parent).await.status, "cancelled");
    assert_eq!(
        execution(&e, &scope, &child).await.status,
        "cancelled",
        "the child is cancelled in the same commit as its parent"
    );

    // Both branches wait on `paid`; one event releases both, delivered to the run once.
    assert_eq!(execution(&e, &scope, &fan).await.status, "waiting");
    e.ingest(&scope, "paid", &json!({}), None, None)
        .await
        .unwrap();
    settle(&e).await;
    assert_eq!(execution(&e, &scope, &fan).await.status, "completed");
}

async fn a_workflow_that_starts_itself_stops_at_the_depth_limit(e: Arc<Engine>, scope: Scope) {
    e.put_workflow(
        &scope,
        &json!({"workflow_id": "again", "trigger": {"type": "event", "event": "go"}, "steps": [
            {"id": "sub", "type": "subworkflow", "workflow_id": "again"}
        ]}),
    )
    .await
    .unwrap();
    let root = start_one(&e, &scope, "go", json!({})).await;
    settle(&e).await;
    let row = execution(&e, &scope, &root).await;
    assert_eq!(row.status, "failed");
    let all = e
        .store()
        .executions(
            &scope,
            &ExecutionFilter {
                workflow_id: Some("again".into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 17, "the root and 16 levels of children");
    assert!(all.iter().all(|x| x.status == "failed"));
    let deepest = all.iter().max_by_key(|x| x.id.len()).unwrap();
    assert!(
        deepest
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("deeper than 16"),
        "{deepest:?}"
    );
}

async fn a_wait_for_a_pattern_takes_any_event_it_matches(e: Arc<Engine>, scope: Scope) {
    e.put_workflow(&scope, &json!({"workflow_id": "w", "trigger": {"type": "event", "event": "order.placed"}, "steps": [
        {"id": "paid", "type": "wait", "event": "payment.*", "timeout": "1h", "on_timeout": "deny"},
        {"id": "ok", "type": "action", "action": "allow", "reason": "paid {{steps.paid.output.amount}}"},
        {"id": "deny", "type": "action", "action": "block"}
    ]})).await.unwrap();
    let id = start_one(&e, &scope, "order.placed", json!({})).await;
    settle(&e).await;
    for other in ["refund.issued", "payments.exported"] {
        e.ingest(&scope, other, &json!({}), None, None)
            .await
            .unwrap();
        settle(&e).await;
        assert_eq!(
            execution(&e, &scope, &id).await.status,
            "waiting",
            "{other}"
        );
    }
    let sent = e
        .ingest(
            &scope,
            "payment.captured",
            &json!({"amount": 5}),
            None,
            None,
        )
        .await
        .unwrap();
    assert!(sent.queued, "the event was delivered to the waiting run");
    settle(&e).await;
    let row = execution(&e, &scope, &id).await;
    assert_eq!(
        (
            row.status.as_str(),
            row.decision.as_deref(),
            row.reason.as_deref()
        ),
        ("completed", Some("allow"), Some("paid 5"))
    );
}
