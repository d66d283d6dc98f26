//! How fast the executions list answers each filter the console offers, and the statistics
//! endpoints their queries, with a million executions recorded (W1's shape: every run decided
//! and finished with its event, two step records each).
//!
//! `cargo run --release -p weir-store --example list_speed [COUNT]` on a fresh SQLite folder;
//! with `WEIR_BENCH_DATABASE_URL=postgres://…` on that (empty) PostgreSQL database instead.
//! Prints, per filter, the median of 7 answers of a 50-row page.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use weir_store::{Commit, ExecutionFilter, NewEvent, NewExecution, SqlStore, StepRow, Store};

const WORKFLOWS: usize = 20;
const BATCH: usize = 2000;

#[tokio::main]
async fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("weir-list-speed-{}", std::process::id()));
    let store: Arc<dyn Store> = Arc::new(match std::env::var("WEIR_BENCH_DATABASE_URL") {
        Ok(url) => SqlStore::connect(&url).await.expect("connect"),
        Err(_) => SqlStore::open_sqlite(&dir).await.expect("open"),
    });
    let scope = store.bootstrap("bench").await.expect("bootstrap").scope;
    let started = Instant::now();
    let mut written = 0;
    while written < count {
        let n = BATCH.min(count - written);
        let batch: Vec<_> = (written..written + n)
            .map(|i| {
                // 70% allowed, 25% blocked, 4% waiting, 1% failed; one event type in 1,000 is
                // rare.
                let (status, decision) = match i % 100 {
                    0 => ("failed", None),
                    1..=4 => ("waiting", None),
                    5..=29 => ("completed", Some("block")),
                    _ => ("completed", Some("allow")),
                };
                let event_type = if i % 1000 == 7 {
                    "order.refunded"
                } else {
                    "order.checkout.initiated"
                };
                let event = NewEvent {
                    id: uuid::Uuid::now_v7().to_string(),
                    event_type: event_type.into(),
                    source: None,
                    idempotency_key: None,
                    payload: json!({"order": {"id": format!("o{i}"), "total": i % 20_000}}).into(),
                };
                let execution = NewExecution {
                    id: uuid::Uuid::now_v7().to_string(),
                    workflow_id: format!("w{}", i % WORKFLOWS),
                    workflow_version: 1,
                    parent_id: None,
                    state: json!({}).into(),
                    status: "pending".into(),
                    initial: Some(Box::new(Commit {
                        state: json!({"done": status != "waiting"}).into(),
                        status: status.into(),
                        decision: decision.map(str::to_owned),
                        error: (status == "failed")
                            .then(|| "the billing service answered 503".to_owned()),
                        finished: status != "waiting",
                        steps: ["check", "decide"]
                            .into_iter()
                            .map(|step| StepRow {
                                key: format!("{step}#1"),
                                step_id: step.into(),
                                step_type: "condition".into(),
                                status: if status == "failed" && step == "decide" {
                                    "failed".into()
                                } else {
                                    "completed".into()
                                },
                                attempt: 1,
                                record: json!({"step_id": step}).into(),
                            })
                            .collect(),
                        ..Commit::default()
                    })),
                    held_by: None,
                };
                (scope.clone(), event, vec![execution])
            })
            .collect();
        store.ingest_many(Arc::from(batch)).await.expect("write");
        written += n;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{count} executions written in {elapsed:.0} s ({:.0}/s)",
        count as f64 / elapsed
    );
    let now = store.now_ms().await.expect("clock");
    let page = store
        .executions(
            &scope,
            &ExecutionFilter {
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    let cursor = page.last().map(|r| r.id.clone());
    let f = |edit: &dyn Fn(&mut ExecutionFilter)| {
        let mut filter = ExecutionFilter {
            limit: 50,
            ..Default::default()
        };
        edit(&mut filter);
        filter
    };
    let cases: Vec<(&str, ExecutionFilter)> = vec![
        ("no filter", f(&|_| {})),
        ("next page (cursor)", f(&|x| x.before = cursor.clone())),
        ("status=failed", f(&|x| x.status = Some("failed".into()))),
        (
            "status=cancelled (none)",
            f(&|x| x.status = Some("cancelled".into())),
        ),
        ("status=waiting", f(&|x| x.status = Some("waiting".into()))),
        ("decision=block", f(&|x| x.decision = Some("block".into()))),
        ("workflow_id=w7", f(&|x| x.workflow_id = Some("w7".into()))),
        (
            "workflow_id=w7&status=failed",
            f(&|x| {
                x.workflow_id = Some("w7".into());
                x.status = Some("failed".into());
            }),
        ),
        (
            "status=failed&decision=block (none)",
            f(&|x| {
                x.status = Some("failed".into());
                x.decision = Some("block".into());
            }),
        ),
        (
            "event_type=order.refunded (rare)",
            f(&|x| x.event_type = Some("order.refunded".into())),
        ),
        (
            "event_type=order.checkout.initiated",
            f(&|x| x.event_type = Some("order.checkout.initiated".into())),
        ),
        ("since=1 min ago", f(&|x| x.since_ms = Some(now - 60_000))),
        (
            "until=1 h ago (none)",
            f(&|x| x.until_ms = Some(now - 3_600_000)),
        ),
        (
            "since=in 1 min (none)",
            f(&|x| x.since_ms = Some(now + 60_000)),
        ),
        (
            "since=2 h ago&until=1 h ago (none)",
            f(&|x| {
                x.since_ms = Some(now - 7_200_000);
                x.until_ms = Some(now - 3_600_000);
            }),
        ),
        (
            "since=1 min ago&status=failed&cursor",
            f(&|x| {
                x.since_ms = Some(now - 60_000);
                x.status = Some("failed".into());
                x.before = cursor.clone();
            }),
        ),
        (
            "status=failed&cursor",
            f(&|x| {
                x.status = Some("failed".into());
                x.before = cursor.clone();
            }),
        ),
    ];
    println!("{:<40} {:>10} {:>6}", "filter", "median ms", "rows");
    for (name, filter) in cases {
        let (ms, rows) =
            median(|| async { store.executions(&scope, &filter).await.map(|r| r.len()) }).await;
        println!("{name:<40} {ms:>10.2} {rows:>6}");
    }
    // The statistics endpoints' reads, over the last day and the last 30 days.
    let hour = 3_600_000;
    let until = now - now % hour + hour;
    println!(
        "{:<40} {:>10} {:>6}",
        "statistics read", "median ms", "rows"
    );
    for (range, since) in [("day", until - 24 * hour), ("30 days", until - 720 * hour)] {
        let s = &store;
        let scope = &scope;
        let (ms, rows) = median(|| async move {
            s.finished_runs(scope, None, since, until)
                .await
                .map(|r| r.len())
        })
        .await;
        println!(
            "{:<40} {ms:>10.2} {rows:>6}",
            format!("finished runs, {range}")
        );
        let (ms, rows) = median(|| async move {
            s.finished_runs(scope, Some("w7"), since, until)
                .await
                .map(|r| r.len())
        })
        .await;
        println!(
            "{:<40} {ms:>10.2} {rows:>6}",
            format!("finished runs of w7, {range}")
        );
        let (ms, rows) = median(|| async move {
            s.ended_attempts(scope, "w7", since, until)
                .await
                .map(|r| r.len())
        })
        .await;
        println!(
            "{:<40} {ms:>10.2} {rows:>6}",
            format!("step attempts of w7, {range}")
        );
    }
    let (ms, rows) = median(|| async {
        let n = store.unfinished_runs(&scope, None).await?.len();
        store.pending_approvals(&scope, None).await?;
        Ok(n)
    })
    .await;
    println!(
        "{:<40} {ms:>10.2} {rows:>6}",
        "unfinished runs, pending approvals"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The median time of 7 reads, in milliseconds, and the rows the last one read.
async fn median<F, R>(read: impl Fn() -> F) -> (f64, usize)
where
    F: std::future::Future<Output = weir_store::Result<R>>,
    R: Into<usize>,
{
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..7 {
        let t = Instant::now();
        rows = read().await.expect("read").into();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[3], rows)
}
