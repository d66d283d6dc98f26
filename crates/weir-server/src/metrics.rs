//! Prometheus metrics on a listener of their own (`--metrics-listen`, off by default): what the
//! engine, the store and the HTTP layer record through the `metrics` facade, the gauges read at
//! each scrape (actions in flight, due work, running executions) and the process's own (CPU,
//! memory, file descriptors, threads). Histograms have fixed buckets; no label holds an
//! execution's or event's id, and a workflow id only with `--metrics-workflow-labels`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use weir_engine::Engine;
use weir_store::Store;

/// Seconds: from a quarter of a millisecond to a minute.
const SECONDS: &[f64] = &[
    0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0,
];
/// Items a write transaction holds.
const ITEMS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// Installs the process's recorder (once) and describes every metric.
pub fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full("weir_store_batch_size".into()), ITEMS)
        })
        .map_err(|e| format!("cannot set up metrics: {e}"))?
        .install_recorder()
        .map_err(|e| format!("cannot set up metrics: {e}"))?;
    describe();
    weir_engine::telemetry::enable();
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "weir_events_received_total",
        "Events recorded (duplicates not counted)."
    );
    describe_counter!("weir_executions_started_total", "Executions started.");
    describe_counter!(
        "weir_executions_finished_total",
        "Executions ended, by status."
    );
    describe_histogram!(
        "weir_execution_duration_seconds",
        "From an execution's start to its end."
    );
    describe_histogram!(
        "weir_step_duration_seconds",
        "How long an action step's attempt took, by type."
    );
    describe_counter!(
        "weir_actions_total",
        "Action attempts ended, by action type and outcome (ok, error, failed, refused)."
    );
    describe_gauge!("weir_actions_in_flight", "Actions running on this node.");
    describe_gauge!("weir_queue_due_items", "Work items due now, every node's.");
    describe_gauge!(
        "weir_executions_running",
        "Executions this node works on now."
    );
    describe_counter!(
        "weir_http_requests_total",
        "HTTP requests answered, by method, route and status."
    );
    describe_histogram!(
        "weir_http_request_duration_seconds",
        "HTTP request durations, by route."
    );
    describe_histogram!(
        "weir_store_commit_seconds",
        "Write transactions of events and steps."
    );
    describe_histogram!(
        "weir_store_batch_size",
        "Events and steps per write transaction."
    );
    describe_counter!(
        "weir_alerts_total",
        "Alerts that fired or recovered, by state."
    );
    describe_counter!(
        "weir_retention_deleted_total",
        "Rows retention deleted, by kind."
    );
}

struct Scrape {
    handle: PrometheusHandle,
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    process: metrics_process::Collector,
}

async fn scrape(State(s): State<Arc<Scrape>>) -> impl IntoResponse {
    metrics::gauge!("weir_actions_in_flight").set(s.engine.actions_in_flight() as f64);
    metrics::gauge!("weir_executions_running").set(s.engine.running_executions() as f64);
    match s.store.due_items().await {
        Ok(n) => metrics::gauge!("weir_queue_due_items").set(n as f64),
        Err(e) => tracing::error!("metrics: counting due work: {e}"),
    }
    s.process.collect();
    s.handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.handle.render(),
    )
}

/// Serves `GET /metrics` on `listener` until `stop`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let process = metrics_process::Collector::default();
    process.describe();
    let state = Arc::new(Scrape {
        handle,
        engine,
        store,
        process,
    });
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(state);
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    let done = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await;
    if let Err(e) = done {
        tracing::error!("the metrics listener {addr:?} failed: {e}");
    }
}
