//! What every Store back-end must do. Each case gets an empty database.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use weir_store::*;

type Case = fn(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        pub const CASES: &[(&str, Case)] = &[$((stringify!($name), |s| Box::pin($name(s)))),*];
    };
}

cases!(
    bootstrap_creates_one_default_scope_and_admin_key,
    workflow_versions_are_immutable_and_scoped,
    deleting_a_workflow_with_running_executions_needs_force,
    events_are_idempotent_per_scope,
    claims_take_due_work_under_a_lease,
    a_node_that_lost_its_lease_writes_nothing,
    commits_write_steps_waits_timers_and_approvals_together,
    approvals_are_decided_once_and_queue_the_outcome,
    executions_are_listed_and_read_only_within_their_scope,
    concurrent_claims_never_take_the_same_execution_twice,
    only_failed_executions_are_retried,
    steps_are_listed_in_the_order_they_were_first_written,
    events_reach_waiting_executions_but_never_their_own,
    events_reach_only_the_waits_whose_required_text_they_hold,
    concurrent_ingests_share_keys_but_not_failures,
    tenants_environments_and_keys,
    audit_records_are_scoped_filtered_and_paged,
    versions_are_listed_activated_and_enabled_per_scope,
    events_and_executions_are_filtered_and_paged,
    rules_are_kept_per_scope,
    each_schedule_fire_starts_one_execution,
    data_sources_and_their_cache_are_kept_per_scope,
    teams_are_users_of_their_scope,
    statistics_count_every_finish_once,
    executions_are_listed_by_time_range,
    scope_settings_are_kept_per_scope,
    retention_prunes_what_finished_and_nothing_running,
    alerts_change_state_once_and_measure_their_scope,
);

fn scope_b() -> Scope {
    Scope::new("other", "production")
}

pub(crate) fn new_execution(id: &str, workflow: &str) -> NewExecution {
    NewExecution {
        id: id.into(),
        workflow_id: workflow.into(),
        workflow_version: 1,
        parent_id: None,
        state: json!({"id": id}).into(),
        status: "running".into(),
        initial: None,
        held_by: None,
    }
}

pub(crate) fn event(id: &str, key: Option<&str>) -> NewEvent {
    NewEvent {
        id: id.into(),
        event_type: "order.created".into(),
        source: Some("shop".into()),
        idempotency_key: key.map(Into::into),
        payload: json!({"order": {"id": id}}).into(),
    }
}

fn finishing(claim: &Claim, status: &str) -> Commit {
    Commit {
        state: json!({"done": true}).into(),
        status: status.into(),
        finished: true,
        done_items: claim.items.iter().map(|i| i.id).collect(),
        release: true,
        ..Commit::default()
    }
}

async fn bootstrap_creates_one_default_scope_and_admin_key(s: Arc<dyn Store>) {
    let hash = hash_key("secret-admin-key");
    let b = s.bootstrap(&hash).await.unwrap();
    assert!(b.created);
    assert_eq!(b.scope, Scope::new("default", "production"));
    let again = s.bootstrap(&hash_key("another")).await.unwrap();
    assert!(!again.created, "a second start creates nothing");
    assert_eq!(again.scope, b.scope);
    let key = s.api_key(&hash).await.unwrap().expect("the admin key");
    assert_eq!((key.scope, key.role.as_str()), (b.scope.clone(), "admin"));
    assert!(s.api_key(&hash_key("another")).await.unwrap().is_none());
    assert!(s.api_key("").await.unwrap().is_none());
    assert_eq!(
        s.scopes().await.unwrap(),
        vec![Scope::new("default", "development"), b.scope],
        "the default tenant has a development and a production environment"
    );
    assert_ne!(hash, "secret-admin-key", "keys are stored hashed");
    assert_eq!(hash.len(), 64);
}

async fn workflow_versions_are_immutable_and_scoped(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let v1 = s
        .put_workflow(
            &a,
            "approve",
            &json!({"workflow_id": "approve", "rev": 1}),
            true,
        )
        .await
        .unwrap();
    let v2 = s
        .put_workflow(
            &a,
            "approve",
            &json!({"workflow_id": "approve", "rev": 2}),
            false,
        )
        .await
        .unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    let current = s.workflow(&a, "approve").await.unwrap().unwrap();
    assert_eq!(
        (
            current.version,
            current.enabled,
            current.definition["rev"].clone()
        ),
        (2, false, json!(2))
    );
    let old = s.workflow_version(&a, "approve", 1).await.unwrap().unwrap();
    assert_eq!(
        old.definition["rev"],
        json!(1),
        "an old version keeps its definition"
    );
    assert!(
        s.workflow_version(&a, "approve", 3)
            .await
            .unwrap()
            .is_none()
    );
    s.put_workflow(&a, "another", &json!({}), true)
        .await
        .unwrap();
    let ids: Vec<String> = s
        .workflows(&a)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.workflow_id)
        .collect();
    assert_eq!(ids, ["another", "approve"]);
    // Another tenant sees none of it, and can use the same id.
    assert!(s.workflow(&scope_b(), "approve").await.unwrap().is_none());
    assert!(s.workflows(&scope_b()).await.unwrap().is_empty());
    assert!(
        s.workflow_version(&scope_b(), "approve", 1)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.put_workflow(&scope_b(), "approve", &json!({}), true)
            .await
            .unwrap()
            .version,
        1
    );
}

async fn deleting_a_workflow_with_running_executions_needs_force(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    s.put_workflow(&a, "w", &json!({}), true).await.unwrap();
    s.ingest(
        &a,
        &event("e1", None),
        &[new_execution("x1", "w"), new_execution("x2", "w")],
    )
    .await
    .unwrap();
    assert!(
        matches!(s.delete_workflow(&a, "w", false).await, Err(Error::Conflict(m)) if m.contains("2 running"))
    );
    assert!(
        s.workflow(&a, "w").await.unwrap().is_some(),
        "a refused delete changes nothing"
    );
    assert!(matches!(
        s.delete_workflow(&scope_b(), "w", true).await,
        Err(Error::NotFound)
    ));
    let cancelled = s.delete_workflow(&a, "w", true).await.unwrap();
    assert_eq!(cancelled, ["x1", "x2"]);
    assert!(s.workflow(&a, "w").await.unwrap().is_none());
    let claims = s.claim("n1", 30_000, 10).await.unwrap();
    let kinds: Vec<Vec<String>> = claims
        .iter()
        .map(|c| c.items.iter().map(|i| i.kind().to_owned()).collect())
        .collect();
    assert!(kinds.iter().all(|k| k == &["start", "cancel"]), "{kinds:?}");
    assert!(matches!(
        s.delete_workflow(&a, "w", false).await,
        Err(Error::NotFound)
    ));
}

async fn events_are_idempotent_per_scope(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let first = s
        .ingest(
            &a,
            &event("e1", Some("k1")),
            &[new_execution("x1", "w"), new_execution("x2", "v")],
        )
        .await
        .unwrap();
    assert_eq!(
        first,
        Ingested::New {
            event_id: "e1".into(),
            queued: true
        }
    );
    // The same event sent again (another id, as a retrying client makes one) is a duplicate.
    let mut resent = event("e2", Some("k1"));
    resent.payload = event("e1", None).payload;
    let again = s
        .ingest(&a, &resent, &[new_execution("x3", "w")])
        .await
        .unwrap();
    assert_eq!(
        again,
        Ingested::Duplicate {
            event_id: "e1".into(),
            executions: vec!["x1".into(), "x2".into()]
        }
    );
    // Another event under the same key is not: it is refused, and names the one that has it.
    let reused = s
        .ingest(&a, &event("e4", Some("k1")), &[new_execution("x4", "w")])
        .await
        .unwrap();
    assert_eq!(
        reused,
        Ingested::KeyReused {
            event_id: "e1".into()
        }
    );
    assert!(s.execution(&a, "x4").await.unwrap().is_none());
    assert!(
        s.execution(&a, "x3").await.unwrap().is_none(),
        "a duplicate starts nothing"
    );
    // The same key in another scope is another event.
    let other = s
        .ingest(
            &scope_b(),
            &event("e3", Some("k1")),
            &[new_execution("x4", "w")],
        )
        .await
        .unwrap();
    assert_eq!(
        other,
        Ingested::New {
            event_id: "e3".into(),
            queued: true
        }
    );
    // Without a key every event is new; one that starts nothing queues nothing.
    assert!(matches!(
        s.ingest(&a, &event("e4", None), &[]).await.unwrap(),
        Ingested::New { queued: false, .. }
    ));
    assert!(matches!(
        s.ingest(&a, &event("e5", None), &[]).await.unwrap(),
        Ingested::New { .. }
    ));
}

async fn claims_take_due_work_under_a_lease(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    s.ingest(&a, &event("e1", None), &[new_execution("x1", "w")])
        .await
        .unwrap();
    let claims = s.claim("n1", 30_000, 10).await.unwrap();
    assert_eq!(claims.len(), 1);
    let c = &claims[0];
    assert_eq!(
        (c.execution_id.as_str(), c.scope.clone(), c.items.len()),
        ("x1", a.clone(), 1)
    );
    assert_eq!(c.items[0].kind(), "start");
    assert_eq!(c.state, json!({"id": "x1"}));
    assert!(
        s.claim("n2", 30_000, 10).await.unwrap().is_empty(),
        "leased work is not claimed twice"
    );
    // Consume the start item, schedule a timer 300 ms ahead and give the lease back.
    let now = s.now_ms().await.unwrap();
    let commit = Commit {
        state: json!({"step": 1}).into(),
        status: "waiting".into(),
        done_items: vec![c.items[0].id],
        new_items: vec![NewItem {
            work: weir_store::Work::Timer { timer: 1 },
            key: Some("t1".into()),
            run_at_ms: Some(now + 300),
        }],
        release: true,
        ..Commit::default()
    };
    s.commit("n1", c, commit).await.unwrap();
    assert!(
        s.claim("n2", 30_000, 10).await.unwrap().is_empty(),
        "the timer is not due yet"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let claims = s.claim("n2", 30_000, 10).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(
        (claims[0].items[0].kind(), claims[0].items[0].key.as_deref()),
        ("timer", Some("t1"))
    );
    assert_eq!(claims[0].state, json!({"step": 1}));
    s.commit("n2", &claims[0], finishing(&claims[0], "completed"))
        .await
        .unwrap();
    let row = s.execution(&a, "x1").await.unwrap().unwrap();
    assert_eq!(row.status, "completed");
    assert!(row.completed_ms.is_some());
    assert!(s.claim("n3", 30_000, 10).await.unwrap().is_empty());
}

async fn a_node_that_lost_its_lease_writes_nothing(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    s.ingest(&a, &event("e1", None), &[new_execution("x1", "w")])
        .await
        .unwrap();
    let old = s.claim("n1", 100, 10).await.unwrap().remove(0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The lease expired by the database's clock: another node takes the work over.
    let new = s.claim("n2", 30_000, 10).await.unwrap().remove(0);
    assert_eq!(new.epoch, old.epoch + 1);
    let stale = Commit {
        state: json!({"by": "n1"}).into(),
        status: "running".into(),
        done_items: vec![old.items[0].id],
        ..Commit::default()
    };
    assert!(matches!(s.commit("n1", &old, stale).await, Err(Error::LeaseLost(id)) if id == "x1"));
    assert_eq!(
        s.execution(&a, "x1").await.unwrap().unwrap().state,
        json!({"id": "x1"}),
        "nothing written"
    );
    // The same owner with an old epoch is refused too (it claimed again since).
    let again = Commit {
        state: json!({"by": "n2"}).into(),
        status: "running".into(),
        ..Commit::default()
    };
    let mut older = new.clone();
    older.epoch -= 1;
    assert!(matches!(
        s.commit("n2", &older, again.clone()).await,
        Err(Error::LeaseLost(_))
    ));
    s.commit("n2", &new, finishing(&new, "completed"))
        .await
        .unwrap();
    assert_eq!(
        s.execution(&a, "x1").await.unwrap().unwrap().state,
        json!({"done": true})
    );
}

async fn commits_write_steps_waits_timers_and_approvals_together(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    s.ingest(&a, &event("e1", None), &[new_execution("x1", "w")])
        .await
        .unwrap();
    let c = s.claim("n1", 30_000, 10).await.unwrap().remove(0);
    let step = |key: &str, status: &str| StepRow {
        key: key.into(),
        step_id: "pay".into(),
        step_type: "wait".into(),
        status: status.into(),
        attempt: 0,
        record: json!({"step_id": "pay", "status": status}).into(),
    };
    let far = s.now_ms().await.unwrap() + 3_600_000;
    let commit = Commit {
        state: json!({}).into(),
        status: "waiting".into(),
        done_items: vec![c.items[0].id],
        new_items: vec![
            NewItem {
                work: weir_store::Work::Timer { timer: 1 },
                key: Some("t1".into()),
                run_at_ms: Some(far),
            },
            NewItem {
                work: weir_store::Work::Timer { timer: 2 },
                key: Some("t2".into()),
                run_at_ms: Some(far),
            },
        ],
        steps: vec![step("0:pay:0", "waiting")],
        awaits_add: vec![
            awaiting(0, "payment.received"),
            awaiting(3, "refund.issued"),
        ],
        approvals: vec![NewApproval {
            id: "ap1".into(),
            step_id: "ask".into(),
            approver_role: Some("manager".into()),
            entity: Some("order".into()),
            entity_id: Some("o1".into()),
            message: None,
            expires_ms: Some(far),
        }],
        ..Commit::default()
    };
    s.commit("n1", &c, commit).await.unwrap();
    assert_eq!(
        s.awaiting(&a, "payment.received").await.unwrap(),
        [("x1".to_owned(), 0)]
    );
    assert!(
        s.awaiting(&scope_b(), "payment.received")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.approval(&a, "ap1").await.unwrap().unwrap().status,
        "pending"
    );
    // Same lease, next step: the step record is replaced, a wait and a timer go away.
    let commit = Commit {
        state: json!({}).into(),
        status: "running".into(),
        steps: vec![step("0:pay:0", "completed")],
        awaits_remove: vec![0],
        cancel_keys: vec!["t1".into()],
        new_executions: vec![new_execution("child1", "sub")],
        ..Commit::default()
    };
    s.commit("n1", &c, commit).await.unwrap();
    assert!(s.awaiting(&a, "payment.received").await.unwrap().is_empty());
    assert_eq!(s.awaiting(&a, "refund.issued").await.unwrap().len(), 1);
    let steps = s.steps(&a, "x1").await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(
        (steps[0]["step_id"].clone(), steps[0]["status"].clone()),
        (json!("pay"), json!("completed"))
    );
    assert!(
        steps[0]["started_at"].is_string()
            && steps[0]["updated_at"].is_string()
            && steps[0]["duration_ms"].as_i64().is_some_and(|d| d >= 0),
        "{}",
        steps[0]
    );
    assert!(s.steps(&scope_b(), "x1").await.unwrap().is_empty());
    assert_eq!(
        s.execution(&a, "child1")
            .await
            .unwrap()
            .unwrap()
            .workflow_id,
        "sub"
    );
    // Finishing drops what is left: the other timer and the other wait.
    s.commit(
        "n1",
        &c,
        Commit {
            state: json!({}).into(),
            status: "completed".into(),
            finished: true,
            release: true,
            ..Commit::default()
        },
    )
    .await
    .unwrap();
    assert!(s.awaiting(&a, "refund.issued").await.unwrap().is_empty());
    let claims = s.claim("n2", 30_000, 10).await.unwrap();
    assert_eq!(
        claims
            .iter()
            .map(|c| c.execution_id.as_str())
            .collect::<Vec<_>>(),
        ["child1"],
        "only the child's start is left"
    );
}

async fn approvals_are_decided_once_and_queue_the_outcome(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    s.ingest(&a, &event("e1", None), &[new_execution("x1", "w")])
        .await
        .unwrap();
    let c = s.claim("n1", 30_000, 10).await.unwrap().remove(0);
    let approval = NewApproval {
        id: "ap1".into(),
        step_id: "ask".into(),
        approver_role: None,
        entity: None,
        entity_id: None,
        message: Some("ok?".into()),
        expires_ms: None,
    };
    s.commit(
        "n1",
        &c,
        Commit {
            state: json!({}).into(),
            status: "waiting".into(),
            done_items: vec![c.items[0].id],
            approvals: vec![approval],
            release: true,
            ..Commit::default()
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        s.decide_approval(&scope_b(), "ap1", true, "mallory", None)
            .await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        s.decide_approval(&a, "nope", true, "ann", None).await,
        Err(Error::NotFound)
    ));
    s.decide_approval(&a, "ap1", false, "ann", Some("too risky"))
        .await
        .unwrap();
    assert!(
        matches!(s.decide_approval(&a, "ap1", true, "bob", None).await, Err(Error::Conflict(m)) if m.contains("rejected"))
    );
    let ap = s.approval(&a, "ap1").await.unwrap().unwrap();
    assert_eq!(
        (ap.status.as_str(), ap.decided_by.as_deref()),
        ("rejected", Some("ann"))
    );
    let claim = s.claim("n1", 30_000, 10).await.unwrap().remove(0);
    assert_eq!(
        claim.items[0].work,
        weir_store::Work::Approval {
            id: "ap1".into(),
            approved: false
        }
    );
    assert_eq!(ap.reason.as_deref(), Some("too risky"));
    assert!(ap.decided_ms.is_some());
    let list = |f: ApprovalFilter| {
        let (s, a) = (s.clone(), a.clone());
        async move {
            s.approvals(&a, &ApprovalFilter { limit: 10, ..f })
                .await
                .unwrap()
        }
    };
    assert_eq!(list(ApprovalFilter::default()).await.len(), 1);
    assert_eq!(
        list(ApprovalFilter {
            status: Some("rejected".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert!(
        list(ApprovalFilter {
            status: Some("pending".into()),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    assert!(
        list(ApprovalFilter {
            before: Some("ap1".into()),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    assert!(
        s.approvals(
            &scope_b(),
            &ApprovalFilter {
                limit: 10,
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_empty()
    );
}

async fn executions_are_listed_and_read_only_within_their_scope(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    s.ingest(
        &a,
        &event("e1", None),
        &[new_execution("x1", "w"), new_execution("x2", "v")],
    )
    .await
    .unwrap();
    s.ingest(&scope_b(), &event("e2", None), &[new_execution("y1", "w")])
        .await
        .unwrap();
    let all = s.executions(&a, &ExecutionFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let only_w = s
        .executions(
            &a,
            &ExecutionFilter {
                workflow_id: Some("w".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        only_w.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["x1"]
    );
    let by_event = s
        .executions(
            &a,
            &ExecutionFilter {
                event_id: Some("e1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_event.len(), 2);
    assert!(
        s.executions(
            &a,
            &ExecutionFilter {
                status: Some("failed".into()),
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert!(
        s.execution(&a, "y1").await.unwrap().is_none(),
        "another tenant's execution is not found"
    );
    assert!(matches!(
        s.enqueue(&a, "y1", NewItem::now(weir_store::Work::Cancel))
            .await,
        Err(Error::NotFound)
    ));
    s.enqueue(&a, "x1", NewItem::now(weir_store::Work::Cancel))
        .await
        .unwrap();
    let page = s
        .executions(
            &a,
            &ExecutionFilter {
                limit: 1,
                offset: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    s.audit(
        &a,
        ("api_key", "k1"),
        "workflow.create",
        "w",
        Some(&json!({"after": 1})),
    )
    .await
    .unwrap();
}

async fn concurrent_claims_never_take_the_same_execution_twice(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let execs: Vec<NewExecution> = (0..60)
        .map(|i| new_execution(&format!("x{i:02}"), "w"))
        .collect();
    s.ingest(&a, &event("e1", None), &execs).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let owner = format!("n{n}");
            let mut mine = Vec::new();
            for _ in 0..30 {
                let claims = s.claim(&owner, 30_000, 5).await.unwrap();
                for c in claims {
                    s.commit(&owner, &c, finishing(&c, "completed"))
                        .await
                        .unwrap();
                    mine.push(c.execution_id);
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "an execution was claimed twice");
    assert_eq!(all.len(), 60, "every execution was claimed once");
}

async fn only_failed_executions_are_retried(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    s.ingest(&a, &event("e1", None), &[new_execution("x1", "w")])
        .await
        .unwrap();
    assert!(
        matches!(s.retry_execution(&a, "x1").await, Err(Error::Conflict(m)) if m.contains("running"))
    );
    let c = s.claim("n1", 30_000, 10).await.unwrap().remove(0);
    s.commit(
        "n1",
        &c,
        Commit {
            error: Some("boom".into()),
            ..finishing(&c, "failed")
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        s.retry_execution(&scope_b(), "x1").await,
        Err(Error::NotFound)
    ));
    s.retry_execution(&a, "x1").await.unwrap();
    let row = s.execution(&a, "x1").await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.error, row.completed_ms),
        ("retrying", None, None)
    );
    let c = s.claim("n2", 30_000, 10).await.unwrap().remove(0);
    assert_eq!(
        c.items.iter().map(|i| i.kind()).collect::<Vec<_>>(),
        ["retry"]
    );
    assert!(
        matches!(s.retry_execution(&a, "x1").await, Err(Error::Conflict(_))),
        "a retry is not queued twice"
    );
}

async fn steps_are_listed_in_the_order_they_were_first_written(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    s.ingest(&a, &event("e1", None), &[new_execution("x1", "w")])
        .await
        .unwrap();
    let c = s.claim("n1", 30_000, 10).await.unwrap().remove(0);
    let row = |key: &str, status: &str| StepRow {
        key: key.into(),
        step_id: key.into(),
        step_type: "log".into(),
        status: status.into(),
        attempt: 1,
        record: json!({"key": key, "status": status}).into(),
    };
    // Written in one commit, within one millisecond, with keys that sort the other way.
    let commit = Commit {
        state: json!({}).into(),
        status: "running".into(),
        steps: vec![row("0:zeta:1", "running"), row("0:alpha:1", "running")],
        ..Commit::default()
    };
    s.commit("n1", &c, commit).await.unwrap();
    // Updating the first one does not move it.
    let commit = Commit {
        state: json!({}).into(),
        status: "running".into(),
        steps: vec![row("0:zeta:1", "completed"), row("0:beta:1", "running")],
        ..Commit::default()
    };
    s.commit("n1", &c, commit).await.unwrap();
    let keys: Vec<Value> = s
        .steps(&a, "x1")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r["key"].clone())
        .collect();
    assert_eq!(
        keys,
        [json!("0:zeta:1"), json!("0:alpha:1"), json!("0:beta:1")]
    );
}

async fn events_reach_waiting_executions_but_never_their_own(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    // An execution whose first step waits for "payment": written with its first step.
    let waiting = |id: &str| NewExecution {
        initial: Some(Box::new(Commit {
            state: json!({"waiting": true}).into(),
            status: "waiting".into(),
            awaits_add: vec![awaiting(0, "payment")],
            steps: vec![StepRow {
                key: "0:wait:0".into(),
                step_id: "wait".into(),
                step_type: "wait".into(),
                status: "waiting".into(),
                attempt: 0,
                record: json!({}).into(),
            }],
            ..Commit::default()
        })),
        ..new_execution(id, "w")
    };
    let mut started_by_payment = event("e1", None);
    started_by_payment.event_type = "payment".into();
    let mut later_payment = event("e2", None);
    later_payment.event_type = "payment".into();
    // One batch: e1 (type payment) starts x1, which waits for payment; e2 is a later payment.
    let answers = s
        .ingest_many(std::sync::Arc::from(vec![
            (a.clone(), started_by_payment, vec![waiting("x1")]),
            (a.clone(), later_payment, vec![]),
        ]))
        .await
        .unwrap();
    assert!(answers.iter().all(|r| matches!(r, Ingested::New { .. })));
    assert_eq!(
        s.execution(&a, "x1").await.unwrap().unwrap().status,
        "waiting"
    );
    assert_eq!(s.steps(&a, "x1").await.unwrap().len(), 1);
    let claims = s.claim("n1", 30_000, 10).await.unwrap();
    assert_eq!(claims.len(), 1, "x1 got the later payment");
    let items: Vec<&Item> = claims[0].items.iter().collect();
    assert_eq!(
        items.len(),
        1,
        "and not the payment that started it: {items:?}"
    );
    assert_eq!(
        items[0].work,
        weir_store::Work::Event {
            event_type: "payment".into(),
            payload: json!({"order": {"id": "e2"}})
        }
    );
}

fn awaiting(thread: i64, event_type: &str) -> NewAwait {
    NewAwait {
        thread,
        event_type: event_type.into(),
        requires: None,
    }
}

/// A wait whose `match` requires a text at a path of the payload is queued only the events
/// that hold that text there, or no text at all (a number, nothing: its `match` decides); a
/// wait that requires nothing gets every event of its type. Whether the wait was written with
/// its run's first step, by a later commit, or earlier in the same batch as the event.
async fn events_reach_only_the_waits_whose_required_text_they_hold(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let wait = |thread: i64, event_type: &str, requires: Option<(&str, &str)>| NewAwait {
        thread,
        event_type: event_type.into(),
        requires: requires.map(|(p, t)| (p.into(), t.into())),
    };
    let waiting = |id: &str, requires: Option<(&str, &str)>| NewExecution {
        initial: Some(Box::new(Commit {
            state: json!({"waiting": true}).into(),
            status: "waiting".into(),
            awaits_add: vec![wait(0, "payment", requires)],
            ..Commit::default()
        })),
        ..new_execution(id, "w")
    };
    let payment = |id: &str, payload: Value| NewEvent {
        event_type: "payment".into(),
        payload: payload.into(),
        ..event(id, None)
    };
    let claimed = |claims: Vec<Claim>| {
        let mut ids: Vec<String> = claims.into_iter().map(|c| c.execution_id).collect();
        ids.sort();
        ids
    };
    s.ingest_many(Arc::from(vec![(
        a.clone(),
        event("e0", None),
        vec![
            waiting("x1", Some(("order.id", "o-1"))),
            waiting("x2", Some(("order.id", "o-2"))),
            waiting("x3", None),
            waiting("x4", Some(("order.total", "5"))),
        ],
    )]))
    .await
    .unwrap();
    s.ingest(
        &a,
        &payment("p1", json!({"order": {"id": "o-1", "total": 5}})),
        &[],
    )
    .await
    .unwrap();
    let claims = s.claim("n1", 30_000, 10).await.unwrap();
    let x1 = claims.iter().find(|c| c.execution_id == "x1").cloned();
    assert_eq!(
        claimed(claims),
        ["x1", "x3", "x4"],
        "o-2's wait got o-1's payment"
    );

    // A wait written by a later commit.
    let x1 = x1.unwrap();
    let commit = Commit {
        state: json!({"step": 2}).into(),
        status: "waiting".into(),
        done_items: x1.items.iter().map(|i| i.id).collect(),
        awaits_remove: vec![0],
        awaits_add: vec![wait(1, "refund", Some(("id", "r-1")))],
        release: true,
        ..Commit::default()
    };
    s.commit("n1", &x1, commit).await.unwrap();
    let refund = |id: &str, of: &str| NewEvent {
        event_type: "refund".into(),
        payload: json!({"id": of}).into(),
        ..event(id, None)
    };
    s.ingest(&a, &refund("r2", "r-2"), &[]).await.unwrap();
    assert!(
        s.claim("n2", 30_000, 10).await.unwrap().is_empty(),
        "r-2 reached r-1's wait"
    );
    s.ingest(&a, &refund("r1", "r-1"), &[]).await.unwrap();
    assert_eq!(claimed(s.claim("n2", 30_000, 10).await.unwrap()), ["x1"]);

    // Waits opened earlier in the same batch as the event.
    s.ingest_many(Arc::from(vec![
        (
            a.clone(),
            event("e5", None),
            vec![
                waiting("x5", Some(("order.id", "o-9"))),
                waiting("x6", Some(("order.id", "o-8"))),
            ],
        ),
        (
            a.clone(),
            payment("p9", json!({"order": {"id": "o-9"}})),
            vec![],
        ),
    ]))
    .await
    .unwrap();
    assert_eq!(claimed(s.claim("n3", 30_000, 10).await.unwrap()), ["x5"]);

    // A payload with a NUL (which PostgreSQL's jsonb cannot hold) goes to every wait of its
    // type, and their `match` decides.
    s.ingest(
        &a,
        &payment("p0", json!({"note": "a\u{0}b", "order": {"id": "o-2"}})),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(
        claimed(s.claim("n4", 30_000, 10).await.unwrap()),
        ["x2", "x6"]
    );
}

/// Events written at the same time (which a store may put in one transaction): a key used by
/// several is stored once and the others answer with it; one event that cannot be written
/// (its id is taken) fails alone and leaves nothing behind.
async fn concurrent_ingests_share_keys_but_not_failures(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    s.ingest(&a, &event("taken", None), &[]).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (s, a) = (s.clone(), a.clone());
        tasks.push(tokio::spawn(async move {
            let (id, key) = match i {
                0 => ("taken".to_owned(), None),
                1..=8 => (format!("e{i}"), Some("shared")),
                _ => (format!("e{i}"), None),
            };
            let x = new_execution(&format!("x{i}"), "w");
            // The events sharing a key are one event sent eight times.
            let mut e = event(&id, key);
            if key.is_some() {
                e.payload = event("shared", None).payload;
            }
            s.ingest(&a, &e, &[x]).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(answers[0].is_err(), "an event id that is taken fails");
    assert!(
        s.execution(&a, "x0").await.unwrap().is_none(),
        "and writes nothing"
    );
    let shared: Vec<&Ingested> = answers[1..=8].iter().map(|r| r.as_ref().unwrap()).collect();
    let first: Vec<&String> = shared
        .iter()
        .filter_map(|r| match r {
            Ingested::New { event_id, .. } => Some(event_id),
            _ => None,
        })
        .collect();
    assert_eq!(first.len(), 1, "one event holds the shared key: {shared:?}");
    for r in &shared {
        match r {
            Ingested::Duplicate { event_id, .. } => assert_eq!(event_id, first[0]),
            Ingested::New { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    for (i, r) in answers.iter().enumerate().skip(9) {
        assert!(
            matches!(r, Ok(Ingested::New { queued: true, .. })),
            "event {i}: {r:?}"
        );
        assert!(s.execution(&a, &format!("x{i}")).await.unwrap().is_some());
    }
}

async fn tenants_environments_and_keys(s: Arc<dyn Store>) {
    let boot = s.bootstrap(&hash_key("root")).await.unwrap();
    let root = s.api_key(&hash_key("root")).await.unwrap().unwrap();
    assert!(root.platform && root.role == "admin");
    assert_eq!(boot.scope, Scope::new("default", "production"));
    let acme = s.create_tenant("acme", "Acme Inc").await.unwrap();
    assert_eq!(acme.environments, ["development", "production"]);
    assert!(matches!(
        s.create_tenant("acme", "again").await,
        Err(Error::Conflict(_))
    ));
    s.create_environment("acme", "staging").await.unwrap();
    assert!(matches!(
        s.create_environment("acme", "staging").await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        s.create_environment("nobody", "staging").await,
        Err(Error::NotFound)
    ));
    assert_eq!(
        s.tenant("acme").await.unwrap().unwrap().environments,
        ["development", "production", "staging"]
    );
    let ids: Vec<String> = s
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["default", "acme"]);

    let key = |id: &str, env: &str, expires_ms: Option<i64>| NewApiKey {
        id: id.into(),
        scope: Scope::new("acme", env),
        key_hash: hash_key(id),
        role: "viewer".into(),
        name: format!("key {id}"),
        expires_ms,
    };
    let k1 = s.create_api_key(&key("k1", "staging", None)).await.unwrap();
    assert!(!k1.platform && k1.revoked_ms.is_none());
    assert!(matches!(
        s.create_api_key(&key("k2", "nowhere", None)).await,
        Err(Error::NotFound)
    ));
    let now = s.now_ms().await.unwrap();
    s.create_api_key(&key("old", "production", Some(now - 1)))
        .await
        .unwrap();
    s.create_api_key(&key("later", "production", Some(now + 60_000)))
        .await
        .unwrap();
    assert_eq!(
        s.api_key(&hash_key("k1")).await.unwrap().unwrap().scope,
        Scope::new("acme", "staging")
    );
    assert!(
        s.api_key(&hash_key("old")).await.unwrap().is_none(),
        "an expired key opens nothing"
    );
    assert!(s.api_key(&hash_key("later")).await.unwrap().is_some());
    assert_eq!(s.api_keys(Some("acme"), None).await.unwrap().len(), 3);
    assert_eq!(
        s.api_keys(Some("acme"), Some("production"))
            .await
            .unwrap()
            .len(),
        2,
        "an environment's keys only"
    );
    assert_eq!(s.api_keys(Some("default"), None).await.unwrap().len(), 1);
    assert_eq!(s.api_keys(None, None).await.unwrap().len(), 4);
    assert!(
        s.api_key_by_id(Some("default"), "k1")
            .await
            .unwrap()
            .is_none(),
        "another tenant's key is not found"
    );
    assert!(matches!(
        s.revoke_api_key(Some("default"), "k1").await,
        Err(Error::NotFound)
    ));
    s.revoke_api_key(Some("acme"), "k1").await.unwrap();
    assert!(s.api_key(&hash_key("k1")).await.unwrap().is_none());
    assert!(
        matches!(s.revoke_api_key(None, "k1").await, Err(Error::NotFound)),
        "a key is revoked once"
    );
    assert!(
        s.api_key_by_id(None, "k1")
            .await
            .unwrap()
            .unwrap()
            .revoked_ms
            .is_some()
    );
}

async fn audit_records_are_scoped_filtered_and_paged(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let b = scope_b();
    for n in 0..5 {
        let actor = if n % 2 == 0 {
            ("api_key", "k1")
        } else {
            ("ai_agent", "bot")
        };
        s.audit(
            &a,
            actor,
            "workflow.put",
            &format!("w{n}"),
            Some(&json!({"version": n})),
        )
        .await
        .unwrap();
    }
    s.audit(&b, ("api_key", "k9"), "workflow.put", "w0", None)
        .await
        .unwrap();
    let all = |f: AuditFilter| {
        let s = s.clone();
        let a = a.clone();
        async move {
            s.audit_log(&a, &AuditFilter { limit: 100, ..f })
                .await
                .unwrap()
        }
    };
    let every = all(AuditFilter::default()).await;
    assert_eq!(every.len(), 5, "another scope's records are not here");
    assert_eq!(every[0].target, "w4", "newest first");
    assert_eq!(every[4].changes, Some(json!({"version": 0})));
    let agent = all(AuditFilter {
        actor_type: Some("ai_agent".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        agent.iter().map(|r| r.target.as_str()).collect::<Vec<_>>(),
        ["w3", "w1"]
    );
    let one = all(AuditFilter {
        target: Some("w2".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(one.len(), 1);
    let page = s
        .audit_log(
            &a,
            &AuditFilter {
                limit: 2,
                before: Some(every[1].id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|r| r.target.as_str()).collect::<Vec<_>>(),
        ["w2", "w1"]
    );
    let later = all(AuditFilter {
        since_ms: Some(every[0].at_ms + 1),
        ..Default::default()
    })
    .await;
    assert!(later.is_empty());
}

async fn versions_are_listed_activated_and_enabled_per_scope(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    for n in 1..=3 {
        s.put_workflow(&a, "w", &json!({"workflow_id": "w", "n": n}), true)
            .await
            .unwrap();
    }
    let versions: Vec<i64> = s
        .workflow_versions(&a, "w")
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    assert!(
        s.workflow_versions(&scope_b(), "w")
            .await
            .unwrap()
            .is_empty()
    );
    let back = s.activate_version(&a, "w", 1).await.unwrap();
    assert_eq!(back.definition["n"], json!(1));
    let current = s.workflow(&a, "w").await.unwrap().unwrap();
    assert_eq!((current.version, current.enabled), (1, true));
    assert!(matches!(
        s.activate_version(&a, "w", 9).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        s.activate_version(&scope_b(), "w", 1).await,
        Err(Error::NotFound)
    ));
    s.set_workflow_enabled(&a, "w", false).await.unwrap();
    assert!(!s.workflow(&a, "w").await.unwrap().unwrap().enabled);
    assert!(matches!(
        s.set_workflow_enabled(&scope_b(), "w", true).await,
        Err(Error::NotFound)
    ));
    // A new version keeps counting from the highest.
    let v4 = s
        .put_workflow(&a, "w", &json!({"workflow_id": "w", "n": 4}), true)
        .await
        .unwrap();
    assert_eq!(v4.version, 4);
}

async fn events_and_executions_are_filtered_and_paged(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    for n in 1..=4 {
        let mut e = event(&format!("e{n}"), None);
        if n % 2 == 0 {
            e.event_type = "order.paid".into();
        }
        let mut x = new_execution(&format!("x{n}"), "w");
        x.status = if n == 4 {
            "completed".into()
        } else {
            "running".into()
        };
        s.ingest(&a, &e, &[x]).await.unwrap();
    }
    s.ingest(&scope_b(), &event("b1", None), &[]).await.unwrap();
    let events = |f: EventFilter| {
        let (s, a) = (s.clone(), a.clone());
        async move {
            s.events(&a, &EventFilter { limit: 10, ..f })
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        events(EventFilter::default()).await,
        ["e4", "e3", "e2", "e1"]
    );
    assert_eq!(
        events(EventFilter {
            event_type: Some("order.paid".into()),
            ..Default::default()
        })
        .await,
        ["e4", "e2"]
    );
    assert_eq!(
        events(EventFilter {
            before: Some("e3".into()),
            ..Default::default()
        })
        .await,
        ["e2", "e1"]
    );
    let got = s.event(&a, "e2").await.unwrap().unwrap();
    assert_eq!(
        (got.event_type.as_str(), got.source.as_deref()),
        ("order.paid", Some("shop"))
    );
    assert_eq!(got.payload, json!({"order": {"id": "e2"}}));
    assert!(s.event(&scope_b(), "e2").await.unwrap().is_none());
    let runs = |f: ExecutionFilter| {
        let (s, a) = (s.clone(), a.clone());
        async move {
            s.executions(&a, &ExecutionFilter { limit: 10, ..f })
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        runs(ExecutionFilter::default()).await,
        ["x4", "x3", "x2", "x1"]
    );
    assert_eq!(
        runs(ExecutionFilter {
            event_type: Some("order.paid".into()),
            ..Default::default()
        })
        .await,
        ["x4", "x2"]
    );
    assert_eq!(
        runs(ExecutionFilter {
            before: Some("x2".into()),
            ..Default::default()
        })
        .await,
        ["x1"]
    );
    assert!(
        runs(ExecutionFilter {
            decision: Some("block".into()),
            ..Default::default()
        })
        .await
        .is_empty()
    );
}

/// Execution ids are UUIDv7s (time first), and a time range is read as an id range; a
/// sub-workflow's run carries its parent's id, however long after its parent it started.
async fn executions_are_listed_by_time_range(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let now = s.now_ms().await.unwrap();
    let id_at = |ms: i64| {
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            (ms / 1000) as u64,
            ((ms % 1000) * 1_000_000) as u32,
        );
        uuid::Uuid::new_v7(ts).to_string()
    };
    // A parent made two days ago (its id says so), its child started now, and a run of now.
    let parent = id_at(now - 2 * 86_400_000);
    let child = format!("{parent}-child-1");
    let fresh = id_at(now);
    let mut c = new_execution(&child, "sub");
    c.parent_id = Some(parent.clone());
    s.ingest(&a, &event("e1", None), &[new_execution(&fresh, "w"), c])
        .await
        .unwrap();
    let runs = |since_ms: Option<i64>, until_ms: Option<i64>, offset: i64| {
        let (s, a) = (s.clone(), a.clone());
        async move {
            s.executions(
                &a,
                &ExecutionFilter {
                    since_ms,
                    until_ms,
                    offset,
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
        }
    };
    let newest_first = vec![fresh.clone(), child.clone()];
    assert_eq!(runs(Some(now - 60_000), None, 0).await, newest_first);
    assert_eq!(
        runs(Some(now - 60_000), Some(now + 60_000), 0).await,
        newest_first
    );
    assert_eq!(runs(Some(now - 60_000), None, 1).await, [child]);
    assert_eq!(runs(None, Some(now + 60_000), 0).await, newest_first);
    assert!(runs(Some(now + 60_000), None, 0).await.is_empty());
    assert!(runs(None, Some(now - 3_600_000), 0).await.is_empty());
    assert!(
        runs(Some(now - 3 * 86_400_000), Some(now - 86_400_000), 0)
            .await
            .is_empty(),
        "the child started now, not when its parent's id was made"
    );
}

async fn rules_are_kept_per_scope(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let def = json!({"rule_id": "r", "conditions": {"field": "x", "operator": "eq", "value": 1}});
    assert!(s.put_rule(&a, "r", &def, true).await.unwrap(), "new");
    assert!(!s.put_rule(&a, "r", &def, false).await.unwrap(), "replaced");
    let r = s.rule(&a, "r").await.unwrap().unwrap();
    assert_eq!((r.definition, r.enabled), (def, false));
    assert!(s.rule(&scope_b(), "r").await.unwrap().is_none());
    assert!(s.rules(&scope_b()).await.unwrap().is_empty());
    assert!(matches!(
        s.delete_rule(&scope_b(), "r").await,
        Err(Error::NotFound)
    ));
    s.delete_rule(&a, "r").await.unwrap();
    assert!(s.rules(&a).await.unwrap().is_empty());
}

async fn each_schedule_fire_starts_one_execution(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let b = scope_b();
    let def = json!({"workflow_id": "w"});
    s.put_workflow(&a, "w", &def, true).await.unwrap();
    s.put_workflow(&b, "w", &def, true).await.unwrap();
    let fire = |trigger: i64, fire_ms: i64| ScheduleFire {
        workflow_id: "w",
        version: 1,
        trigger,
        fire_ms,
    };
    assert_eq!(s.last_schedule_fire(&a, "w", 0).await.unwrap(), None);
    // Four nodes see the same fire due at once: one of them starts it.
    let mut tasks = Vec::new();
    for n in 0..4 {
        let (s, a) = (s.clone(), a.clone());
        tasks.push(tokio::spawn(async move {
            let run = new_execution(&format!("fire{n}"), "w");
            s.fire_schedule(&a, &fire(0, 60_000), Some(&run))
                .await
                .unwrap()
        }));
    }
    let mut started = 0;
    for t in tasks {
        started += usize::from(t.await.unwrap());
    }
    assert_eq!(started, 1, "one node starts a fire");
    let mut runs = 0;
    for n in 0..4 {
        runs += usize::from(
            s.execution(&a, &format!("fire{n}"))
                .await
                .unwrap()
                .is_some(),
        );
    }
    assert_eq!(runs, 1, "one execution for the fire");
    // Another time, another trigger, another scope: each its own fire. A fire whose condition
    // does not hold is recorded without a run.
    let later = new_execution("later", "w");
    assert!(
        s.fire_schedule(&a, &fire(0, 120_000), Some(&later))
            .await
            .unwrap()
    );
    assert!(s.fire_schedule(&a, &fire(0, 180_000), None).await.unwrap());
    assert!(!s.fire_schedule(&a, &fire(0, 180_000), None).await.unwrap());
    let second = new_execution("second", "w");
    assert!(
        s.fire_schedule(&a, &fire(1, 60_000), Some(&second))
            .await
            .unwrap()
    );
    let b1 = new_execution("b1", "w");
    assert!(
        s.fire_schedule(&b, &fire(0, 60_000), Some(&b1))
            .await
            .unwrap()
    );
    assert_eq!(
        s.last_schedule_fire(&a, "w", 0).await.unwrap(),
        Some(180_000)
    );
    assert_eq!(
        s.last_schedule_fire(&a, "w", 1).await.unwrap(),
        Some(60_000)
    );
    assert_eq!(s.last_schedule_fire(&a, "other", 0).await.unwrap(), None);
    assert!(s.execution(&b, "later").await.unwrap().is_none());
    // A node whose index is behind: an old version, a disabled or a deleted workflow starts
    // nothing and records nothing.
    let stale = ScheduleFire {
        version: 7,
        ..fire(0, 240_000)
    };
    assert!(
        !s.fire_schedule(&a, &stale, Some(&new_execution("stale", "w")))
            .await
            .unwrap()
    );
    s.set_workflow_enabled(&a, "w", false).await.unwrap();
    assert!(
        !s.fire_schedule(&a, &fire(0, 240_000), Some(&new_execution("off", "w")))
            .await
            .unwrap()
    );
    s.delete_workflow(&b, "w", true).await.unwrap();
    assert!(
        !s.fire_schedule(&b, &fire(0, 240_000), Some(&new_execution("gone", "w")))
            .await
            .unwrap()
    );
    for id in ["stale", "off"] {
        assert!(s.execution(&a, id).await.unwrap().is_none());
    }
    assert_eq!(
        s.last_schedule_fire(&a, "w", 0).await.unwrap(),
        Some(180_000)
    );
}

async fn data_sources_and_their_cache_are_kept_per_scope(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let b = scope_b();
    let def = json!({"entity_id": "{{customer.id}}", "action": "history"});
    let (row, created) = s
        .put_named(Named::DataSources, &a, "customer.history", &def, true)
        .await
        .unwrap();
    assert!(created);
    assert_eq!(row["definition"], def);
    assert!(matches!(
        s.put_named(Named::DataSources, &a, "customer.history", &def, true)
            .await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(s.named(Named::DataSources, &a).await.unwrap().len(), 1);
    assert!(
        s.named_one(Named::DataSources, &b, "customer.history")
            .await
            .unwrap()
            .is_none()
    );
    let entry = |id: &str, data: Value| CachedContext {
        source: "customer.history".into(),
        entity_type: "customer".into(),
        entity_id: id.into(),
        data,
        cached_ms: 0,
        expires_ms: 0,
    };
    let kept = s
        .cache_context(&a, &entry("c1", json!({"orders": 3})), 60_000)
        .await
        .unwrap();
    assert_eq!(kept.data, json!({"orders": 3}));
    assert!(kept.expires_ms - kept.cached_ms == 60_000);
    let got = s
        .cached_context(&a, "customer.history", "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.data, json!({"orders": 3}));
    assert!(
        s.cached_context(&b, "customer.history", "c1")
            .await
            .unwrap()
            .is_none()
    );
    // A newer load replaces the entry; one that expires at once is not served.
    s.cache_context(&a, &entry("c1", json!({"orders": 4})), 60_000)
        .await
        .unwrap();
    assert_eq!(
        s.cached_context(&a, "customer.history", "c1")
            .await
            .unwrap()
            .unwrap()
            .data,
        json!({"orders": 4})
    );
    s.cache_context(&a, &entry("c2", json!(1)), 0)
        .await
        .unwrap();
    assert!(
        s.cached_context(&a, "customer.history", "c2")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.uncache_context(&b, Some("customer"), None, None)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.uncache_context(&a, Some("customer"), Some("c1"), None)
            .await
            .unwrap(),
        1
    );
    assert!(
        s.cached_context(&a, "customer.history", "c1")
            .await
            .unwrap()
            .is_none()
    );
    s.delete_named(Named::DataSources, &a, "customer.history")
        .await
        .unwrap();
    assert!(matches!(
        s.delete_named(Named::DataSources, &a, "customer.history")
            .await,
        Err(Error::NotFound)
    ));
}

async fn teams_are_users_of_their_scope(s: Arc<dyn Store>) {
    let prod = s.bootstrap("h").await.unwrap().scope;
    let dev = Scope::new("default", "development");
    s.create_tenant("other", "Other").await.unwrap();
    let user = |id: &str, tenant: &str, environment: Option<&str>| NewUser {
        id: id.into(),
        tenant: tenant.into(),
        environment: environment.map(Into::into),
        email: format!("{id}@example.com"),
        name: id.to_uppercase(),
        role: "viewer".into(),
        password_hash: "argon2-hash".into(),
    };
    let ana = s.create_user(&user("ana", "default", None)).await.unwrap();
    assert_eq!(ana.environment, None);
    let bob = s
        .create_user(&user("bob", "default", Some("development")))
        .await
        .unwrap();
    assert!(bob.works_in("development") && !bob.works_in("production"));
    assert!(matches!(
        s.create_user(&user("eve", "default", Some("staging")))
            .await,
        Err(Error::NotFound)
    ));
    s.create_user(&user("olga", "other", None)).await.unwrap();

    let team = |name: &str, members: &[&str]| NewTeam {
        name: name.into(),
        description: Some(format!("the {name}")),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
    };
    let made = s
        .create_team(&prod, &team("sales_manager", &["ana", "ana"]))
        .await
        .unwrap();
    assert_eq!(made.name, "sales_manager");
    assert_eq!(made.description.as_deref(), Some("the sales_manager"));
    let ids: Vec<&str> = made.members.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["ana"], "a member is in a team once");
    assert_eq!(made.members[0].email, "ana@example.com");
    assert!(matches!(
        s.create_team(&prod, &team("sales_manager", &[])).await,
        Err(Error::Conflict(_))
    ));
    // A user of another environment or tenant, or nobody, is not a member; nothing is written.
    for stranger in ["bob", "olga", "ghost"] {
        assert!(matches!(
            s.create_team(&prod, &team("ops", &["ana", stranger])).await,
            Err(Error::NotFound)
        ));
        assert!(s.team(&prod, "ops").await.unwrap().is_none(), "{stranger}");
    }
    // The same name is another team in another environment.
    let dev_team = s
        .create_team(&dev, &team("sales_manager", &["bob", "ana"]))
        .await
        .unwrap();
    let emails: Vec<&str> = dev_team.members.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails, ["ana@example.com", "bob@example.com"]);
    s.create_team(&prod, &team("finance", &[])).await.unwrap();
    let names: Vec<String> = s
        .teams(&prod)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["finance", "sales_manager"]);
    assert!(
        s.teams(&Scope::new("other", "production"))
            .await
            .unwrap()
            .is_empty()
    );

    // Replacing sets the description and the members, all or nothing.
    let before = s.team(&prod, "finance").await.unwrap().unwrap();
    let replaced = s
        .replace_team(
            &prod,
            &NewTeam {
                name: "finance".into(),
                description: None,
                members: vec!["ana".into()],
            },
        )
        .await
        .unwrap();
    assert_eq!((replaced.description, replaced.members.len()), (None, 1));
    assert_eq!(replaced.created_ms, before.created_ms);
    assert!(matches!(
        s.replace_team(&prod, &team("finance", &["bob"])).await,
        Err(Error::NotFound)
    ));
    assert_eq!(
        s.team(&prod, "finance")
            .await
            .unwrap()
            .unwrap()
            .members
            .len(),
        1,
        "a refused replacement changes nothing"
    );
    assert!(matches!(
        s.replace_team(&prod, &team("nobody", &[])).await,
        Err(Error::NotFound)
    ));

    // A member who is disabled stays listed, marked so.
    s.update_user(
        Some("default"),
        "ana",
        &UserChange {
            disabled: Some(true),
            ..UserChange::default()
        },
    )
    .await
    .unwrap();
    let listed = s.team(&prod, "sales_manager").await.unwrap().unwrap();
    assert!(listed.members[0].disabled_ms.is_some());

    s.delete_team(&prod, "sales_manager").await.unwrap();
    assert!(matches!(
        s.delete_team(&prod, "sales_manager").await,
        Err(Error::NotFound)
    ));
    assert!(s.team(&prod, "sales_manager").await.unwrap().is_none());
    assert_eq!(
        s.team(&dev, "sales_manager")
            .await
            .unwrap()
            .unwrap()
            .members
            .len(),
        2,
        "the other environment's team stays"
    );
    // A team made again under a deleted one's name starts with no members.
    let again = s
        .create_team(&prod, &team("sales_manager", &[]))
        .await
        .unwrap();
    assert!(again.members.is_empty());

    // A session opens only an environment the user works in.
    let session = |id: &str, user: &str, env: &str| NewSession {
        id: id.into(),
        token_hash: hash_key(id),
        user_id: user.into(),
        scope: Scope::new("default", env),
        expires_ms: i64::MAX / 2,
    };
    s.create_session(&session("s1", "bob", "development"))
        .await
        .unwrap();
    assert!(matches!(
        s.create_session(&session("s2", "bob", "production")).await,
        Err(Error::NotFound)
    ));
}

async fn statistics_count_every_finish_once(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let step = |step_id: &str, status: &str| StepRow {
        key: format!("0:{step_id}:0"),
        step_id: step_id.into(),
        step_type: "condition".into(),
        status: status.into(),
        attempt: 0,
        record: json!({"step_id": step_id, "status": status}).into(),
    };
    // Decided as they were recorded (a batch): three allowed, one blocked, one failed, with
    // their step records; and one parked.
    let decided = |n: usize, status: &str, decision: Option<&str>| NewExecution {
        initial: Some(Box::new(Commit {
            state: json!({}).into(),
            status: status.into(),
            decision: decision.map(str::to_owned),
            finished: status != "waiting",
            steps: vec![step(
                "check",
                if status == "failed" {
                    "failed"
                } else {
                    "completed"
                },
            )],
            ..Commit::default()
        })),
        ..new_execution(&format!("d{n}"), "w")
    };
    let batch: Vec<_> = [
        ("completed", Some("allow")),
        ("completed", Some("allow")),
        ("completed", Some("allow")),
        ("completed", Some("block")),
        ("failed", None),
        ("waiting", None),
    ]
    .into_iter()
    .enumerate()
    .map(|(n, (status, decision))| {
        (
            a.clone(),
            event(&format!("e{n}"), None),
            vec![decided(n, status, decision)],
        )
    })
    .collect();
    s.ingest_many(Arc::from(batch)).await.unwrap();
    // Worked by a worker: a step that ends in a later commit, then a failure, a retry and a
    // completion (each finish counts).
    s.ingest(&a, &event("e9", None), &[new_execution("x1", "w")])
        .await
        .unwrap();
    let c = s.claim("n1", 30_000, 10).await.unwrap().remove(0);
    let commit = |status: &str, steps: Vec<StepRow>| Commit {
        state: json!({}).into(),
        status: status.into(),
        steps,
        ..Commit::default()
    };
    s.commit("n1", &c, commit("running", vec![step("charge", "running")]))
        .await
        .unwrap();
    s.commit(
        "n1",
        &c,
        commit("running", vec![step("charge", "completed")]),
    )
    .await
    .unwrap();
    s.commit(
        "n1",
        &c,
        commit("running", vec![step("charge", "completed")]),
    )
    .await
    .unwrap();
    s.commit("n1", &c, finishing(&c, "failed")).await.unwrap();
    s.retry_execution(&a, "x1").await.unwrap();
    let c = s.claim("n2", 30_000, 10).await.unwrap().remove(0);
    s.commit("n2", &c, finishing(&c, "completed"))
        .await
        .unwrap();

    let until = s.now_ms().await.unwrap() + 3_600_000;
    let runs = s.finished_runs(&a, None, 0, until).await.unwrap();
    let count = |status: &str, decision: Option<&str>| -> i64 {
        runs.iter()
            .filter(|r| {
                r.status == status && r.decision.as_deref() == decision && r.workflow_id == "w"
            })
            .map(|r| r.runs)
            .sum()
    };
    assert_eq!(count("completed", Some("allow")), 3, "{runs:?}");
    assert_eq!(count("completed", Some("block")), 1, "{runs:?}");
    assert_eq!(count("failed", None), 2, "{runs:?}");
    assert_eq!(count("completed", None), 1, "{runs:?}");
    assert_eq!(runs.iter().map(|r| r.runs).sum::<i64>(), 7, "{runs:?}");
    assert_eq!(
        s.finished_runs(&a, Some("other"), 0, until).await.unwrap(),
        []
    );
    assert_eq!(
        s.finished_runs(&scope_b(), None, 0, until).await.unwrap(),
        []
    );
    assert_eq!(
        s.finished_runs(&a, None, until, until + 3_600_000)
            .await
            .unwrap(),
        [],
        "hours outside the range are not read"
    );
    let attempts = s.ended_attempts(&a, "w", 0, until).await.unwrap();
    let ended = |step_id: &str, status: &str| -> i64 {
        attempts
            .iter()
            .filter(|r| r.step_id == step_id && r.status == status)
            .map(|r| r.runs)
            .sum()
    };
    assert_eq!(ended("check", "completed"), 5, "{attempts:?}");
    assert_eq!(ended("check", "failed"), 1, "{attempts:?}");
    assert_eq!(
        ended("charge", "completed"),
        1,
        "rewritten, counted once: {attempts:?}"
    );
    assert!(
        s.ended_attempts(&scope_b(), "w", 0, until)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.unfinished_runs(&a, None).await.unwrap(),
        [("waiting".to_owned(), 1)]
    );
    assert_eq!(
        s.unfinished_runs(&a, Some("w")).await.unwrap(),
        [("waiting".to_owned(), 1)]
    );
    assert!(
        s.unfinished_runs(&a, Some("other"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.pending_approvals(&a, None).await.unwrap(), 0);
    let now = s.now_ms().await.unwrap();
    let last = s.last_runs(&a).await.unwrap();
    assert_eq!(last.len(), 1, "{last:?}");
    assert!(
        last[0].0 == "w" && (now - 60_000..=now).contains(&last[0].1),
        "{last:?}"
    );
    assert!(s.last_runs(&scope_b()).await.unwrap().is_empty());
    let mut by_workflow = s.finished_by_workflow(&a, 0, until).await.unwrap();
    by_workflow.sort();
    assert_eq!(
        by_workflow,
        [
            ("w".to_owned(), "completed".to_owned(), 5),
            ("w".to_owned(), "failed".to_owned(), 2)
        ]
    );
}

async fn scope_settings_are_kept_per_scope(s: Arc<dyn Store>) {
    let prod = s.bootstrap("h").await.unwrap().scope;
    // The readiness probe reads and writes, again and again.
    s.probe().await.unwrap();
    s.probe().await.unwrap();
    let dev = Scope::new("default", "development");
    assert!(s.scope_setting(&prod, "llm").await.unwrap().is_none());
    let first = json!({"url": "https://llm.example.com/v1", "model": "m1"});
    let made = s.put_scope_setting(&prod, "llm", &first).await.unwrap();
    assert_eq!((made.name.as_str(), &made.value), ("llm", &first));
    let second = json!({"url": "https://llm.example.com/v1", "model": "m2"});
    s.put_scope_setting(&prod, "llm", &second).await.unwrap();
    let read = s.scope_setting(&prod, "llm").await.unwrap().unwrap();
    assert_eq!(read.value, second, "a put replaces the value");
    // Another environment or tenant sees nothing, and deleting there changes nothing here.
    assert!(s.scope_setting(&dev, "llm").await.unwrap().is_none());
    assert!(s.scope_setting(&scope_b(), "llm").await.unwrap().is_none());
    assert!(matches!(
        s.delete_scope_setting(&scope_b(), "llm").await,
        Err(Error::NotFound)
    ));
    assert!(s.scope_setting(&prod, "llm").await.unwrap().is_some());
    s.delete_scope_setting(&prod, "llm").await.unwrap();
    assert!(s.scope_setting(&prod, "llm").await.unwrap().is_none());
    assert!(matches!(
        s.delete_scope_setting(&prod, "llm").await,
        Err(Error::NotFound)
    ));
}

async fn retention_prunes_what_finished_and_nothing_running(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let b = scope_b();
    let id = || uuid::Uuid::now_v7().to_string();
    let step = |key: &str, status: &str| StepRow {
        key: key.into(),
        step_id: "pay".into(),
        step_type: "http_request".into(),
        status: status.into(),
        attempt: 0,
        record: json!({"step_id": "pay", "status": status}).into(),
    };
    // Runs one execution of an event of its own in `scope`, to its end or to a wait.
    let run = |scope: Scope, finish: bool, child: Option<String>| {
        let s = s.clone();
        async move {
            let (event_id, execution) = (id(), id());
            s.ingest(
                &scope,
                &event(&event_id, None),
                &[new_execution(&execution, "w")],
            )
            .await
            .unwrap();
            let c = s.claim("n1", 30_000, 10).await.unwrap().remove(0);
            let mut commit = if finish {
                finishing(&c, "completed")
            } else {
                Commit {
                    state: json!({}).into(),
                    status: "waiting".into(),
                    done_items: c.items.iter().map(|i| i.id).collect(),
                    awaits_add: vec![awaiting(0, "payment.received")],
                    release: true,
                    ..Commit::default()
                }
            };
            commit.steps = vec![step("0:pay:0", "completed"), step("1:ship:0", "completed")];
            if let Some(child) = child {
                let child = format!("{execution}-child-{child}");
                commit.new_executions = vec![NewExecution {
                    parent_id: Some(execution.clone()),
                    status: "pending".into(),
                    ..new_execution(&child, "sub")
                }];
            }
            s.commit("n1", &c, commit).await.unwrap();
            (event_id, execution)
        }
    };
    let (done_event, done) = run(a.clone(), true, None).await;
    let (_, done_too) = run(a.clone(), true, None).await;
    let (waiting_event, waiting) = run(a.clone(), false, None).await;
    let (_, elsewhere) = run(b.clone(), true, None).await;
    // Last: the child run's work would be claimed next.
    let (_, parent) = run(a.clone(), true, Some("1".into())).await;
    s.audit(&a, ("api_key", "k1"), "workflow.put", "w", None)
        .await
        .unwrap();
    let now = s.now_ms().await.unwrap();

    // A cut an hour ago finds nothing old enough.
    let past = s.prune_scope(&a, now - 3_600_000, 100).await.unwrap();
    assert_eq!(past, Pruned::default());
    // A cut in the future: everything of the scope that finished, a batch at a time.
    let cut = now + 60_000;
    let first = s.prune_scope(&a, cut, 1).await.unwrap();
    assert_eq!((first.executions, first.steps), (1, 2), "{first:?}");
    let second = s.prune_scope(&a, cut, 100).await.unwrap();
    assert_eq!(second.executions, 1, "{second:?}");
    assert_eq!(
        first.events + second.events,
        2,
        "the events of the pruned runs, and nothing else: {first:?} {second:?}"
    );
    assert_eq!(
        s.prune_scope(&a, cut, 100).await.unwrap(),
        Pruned::default()
    );
    for gone in [&done, &done_too] {
        assert!(s.execution(&a, gone).await.unwrap().is_none());
        assert!(s.steps(&a, gone).await.unwrap().is_empty());
    }
    assert!(s.event(&a, &done_event).await.unwrap().is_none());
    // What still runs stays, with its steps, its wait and its event; so does a finished run
    // whose sub-workflow run has not finished, and another scope's runs.
    assert_eq!(
        s.execution(&a, &waiting).await.unwrap().unwrap().status,
        "waiting"
    );
    assert_eq!(s.steps(&a, &waiting).await.unwrap().len(), 2);
    assert_eq!(s.awaiting(&a, "payment.received").await.unwrap().len(), 1);
    assert!(s.event(&a, &waiting_event).await.unwrap().is_some());
    assert!(s.execution(&a, &parent).await.unwrap().is_some());
    assert!(
        s.execution(&a, &format!("{parent}-child-1"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(s.execution(&b, &elsewhere).await.unwrap().is_some());

    // Audit records have their own cut, and other rows of no scope go by theirs.
    let kept = s.prune_shared(now - 3_600_000, 100).await.unwrap();
    assert_eq!(kept.audit, 0);
    let shared = s.prune_shared(cut, 100).await.unwrap();
    assert!(shared.audit >= 1, "{shared:?}");
    let left = s
        .audit_log(
            &a,
            &AuditFilter {
                limit: 10,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

async fn alerts_change_state_once_and_measure_their_scope(s: Arc<dyn Store>) {
    let a = s.bootstrap("h").await.unwrap().scope;
    let b = scope_b();
    let rule =
        json!({"name": "failing", "condition": {"metric": "failures", "over": "1h", "above": 1}});
    let made = s.create_alert(&a, "al1", &rule).await.unwrap();
    assert_eq!(
        (made.state.as_str(), made.value, made.definition.clone()),
        ("ok", None, rule.clone())
    );
    assert!(matches!(
        s.create_alert(&a, "al1", &rule).await,
        Err(Error::Conflict(_))
    ));
    assert!(
        s.alert(&b, "al1").await.unwrap().is_none(),
        "another scope's"
    );
    assert!(s.alerts(&b).await.unwrap().is_empty());
    // A change is made once: the second evaluator that read `ok` changes nothing.
    assert!(s.judge_alert(&a, "al1", "ok", "firing", 3.0).await.unwrap());
    assert!(!s.judge_alert(&a, "al1", "ok", "firing", 3.0).await.unwrap());
    let firing = s.alert(&a, "al1").await.unwrap().unwrap();
    assert_eq!((firing.state.as_str(), firing.value), ("firing", Some(3.0)));
    assert!(firing.changed_ms.is_some() && firing.evaluated_ms.is_some());
    // Still firing: the value and time of the evaluation move, not the time of the change.
    assert!(
        s.judge_alert(&a, "al1", "firing", "firing", 4.0)
            .await
            .unwrap()
    );
    let again = s.alert(&a, "al1").await.unwrap().unwrap();
    assert_eq!(
        (again.value, again.changed_ms),
        (Some(4.0), firing.changed_ms)
    );
    let changed =
        json!({"name": "failing", "condition": {"metric": "failures", "over": "1h", "above": 5}});
    let replaced = s.replace_alert(&a, "al1", &changed).await.unwrap();
    assert_eq!(
        (replaced.definition, replaced.state.as_str()),
        (changed, "firing")
    );
    assert!(matches!(
        s.replace_alert(&b, "al1", &rule).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        s.delete_alert(&b, "al1").await,
        Err(Error::NotFound)
    ));
    s.delete_alert(&a, "al1").await.unwrap();
    assert!(s.alerts(&a).await.unwrap().is_empty());

    // Measures: two runs of `w` fail, one completes; another scope's failure is not counted.
    let now = s.now_ms().await.unwrap();
    for (scope, workflow, status) in [
        (&a, "w", "failed"),
        (&a, "w", "failed"),
        (&a, "w", "completed"),
        (&a, "other", "completed"),
        (&b, "w", "failed"),
    ] {
        let id = uuid::Uuid::now_v7().to_string();
        s.ingest(
            scope,
            &event(&uuid::Uuid::now_v7().to_string(), None),
            &[new_execution(&id, workflow)],
        )
        .await
        .unwrap();
        let c = s.claim("n1", 30_000, 10).await.unwrap().remove(0);
        s.commit("n1", &c, finishing(&c, status)).await.unwrap();
    }
    let since = now - 60_000;
    let m = |metric, workflow| {
        let (s, a) = (s.clone(), a.clone());
        async move { s.measure_alert(&a, metric, workflow, since).await.unwrap() }
    };
    assert_eq!(m(AlertMetric::Failures, None).await, 2.0);
    assert_eq!(m(AlertMetric::Failures, Some("other")).await, 0.0);
    assert_eq!(m(AlertMetric::FailureRate, None).await, 0.5);
    assert!((m(AlertMetric::FailureRate, Some("w")).await - 2.0 / 3.0).abs() < 1e-9);
    assert!(m(AlertMetric::DurationP95Ms, None).await >= 0.0);
    assert_eq!(
        s.measure_alert(&a, AlertMetric::Failures, None, now + 3_600_000)
            .await
            .unwrap(),
        0.0
    );
    assert_eq!(m(AlertMetric::PendingApprovals, None).await, 0.0);

    // One node at a time holds a lease, until it expires.
    assert!(s.take_lead("alerts", "n1", 60_000).await.unwrap());
    assert!(
        s.take_lead("alerts", "n1", 60_000).await.unwrap(),
        "its holder keeps it"
    );
    assert!(!s.take_lead("alerts", "n2", 60_000).await.unwrap());
    assert!(s.take_lead("short", "n1", 1).await.unwrap());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        s.take_lead("short", "n2", 60_000).await.unwrap(),
        "an expired lease is taken over"
    );
}
