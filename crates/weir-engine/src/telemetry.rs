//! What the engine counts and measures, through the `metrics` facade (the server exports it
//! as Prometheus text when `--metrics-listen` is given; without a recorder these are no-ops),
//! and what it logs when an execution fails. Labels are bounded: a status, an action type, a
//! step type; a workflow id only when the operator asks (`set_workflow_labels`), never an
//! execution's or an event's id.

use std::sync::atomic::{AtomicBool, Ordering};

use weir_store::Scope;

static WORKFLOW_LABELS: AtomicBool = AtomicBool::new(false);
/// Whether a recorder is installed: without one nothing is measured (a metric's labels cost
/// allocations even when nobody records them).
static ON: AtomicBool = AtomicBool::new(false);

/// Turns measuring on (the server does when it serves metrics).
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Whether metrics are recorded.
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Adds a `workflow` label to the executions' metrics (one series per workflow: off by default).
pub fn set_workflow_labels(on: bool) {
    WORKFLOW_LABELS.store(on, Ordering::Relaxed);
}

/// An event was recorded (not a duplicate).
pub(crate) fn event_received() {
    if !enabled() {
        return;
    }
    metrics::counter!("weir_events_received_total").increment(1);
}

/// Executions were recorded as started.
pub(crate) fn executions_started(n: usize) {
    if n > 0 && enabled() {
        metrics::counter!("weir_executions_started_total").increment(n as u64);
    }
}

/// An execution's end was committed: counted by status, timed from its start (its id is a
/// UUIDv7, which holds when it was made), and logged when it failed.
pub(crate) fn execution_finished(
    scope: &Scope,
    workflow_id: &str,
    execution_id: &str,
    status: &str,
    error: Option<&str>,
) {
    let status: &'static str = match status {
        "completed" => "completed",
        "failed" => "failed",
        "cancelled" => "cancelled",
        _ => "other",
    };
    if enabled() {
        count_finished(workflow_id, execution_id, status);
    }
    if status == "failed" {
        tracing::warn!(
            tenant = %scope.tenant,
            environment = %scope.environment,
            workflow_id,
            execution_id,
            error = error.unwrap_or_default(),
            "execution failed"
        );
    }
}

/// Counts a finished execution by status (and workflow, when asked) and times it from its start
/// (its id is a UUIDv7, which holds when it was made).
fn count_finished(workflow_id: &str, execution_id: &str, status: &'static str) {
    if WORKFLOW_LABELS.load(Ordering::Relaxed) {
        let workflow = workflow_id.to_owned();
        metrics::counter!("weir_executions_finished_total", "status" => status, "workflow" => workflow)
            .increment(1);
    } else {
        metrics::counter!("weir_executions_finished_total", "status" => status).increment(1);
    }
    let Some(started) = uuid::Uuid::parse_str(execution_id)
        .ok()
        .and_then(|u| u.get_timestamp())
    else {
        return;
    };
    let (secs, nanos) = started.to_unix();
    let started = std::time::UNIX_EPOCH + std::time::Duration::new(secs, nanos);
    if let Ok(took) = std::time::SystemTime::now().duration_since(started) {
        metrics::histogram!("weir_execution_duration_seconds").record(took.as_secs_f64());
    }
}

/// An action ended: `ok`, `error` (it may be tried again), `failed` (it may not) or `refused`.
pub(crate) fn action_ended(action_type: &str, outcome: &'static str, took: std::time::Duration) {
    if !enabled() {
        return;
    }
    let action = action_type.to_owned();
    metrics::counter!("weir_actions_total", "action" => action.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("weir_step_duration_seconds", "type" => action).record(took.as_secs_f64());
}
