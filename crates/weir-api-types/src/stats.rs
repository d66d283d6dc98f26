//! `GET /api/v1/stats` and `GET /api/v1/workflows/{id}/stats`: how runs went over a range of
//! hours, for the console's dashboard and anyone else.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The range of `GET /api/v1/stats` and `GET /api/v1/workflows/{id}/stats`: whole hours, the
/// last 24 by default, at most 366 days.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// From this time (RFC 3339), rounded down to its hour; default: 24 hours before `until`.
    pub since: Option<String>,
    /// To this time (RFC 3339), rounded up to an hour; default: now.
    pub until: Option<String>,
}

/// Runs that finished, by how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FinishedCounts {
    pub total: i64,
    pub completed: i64,
    pub failed: i64,
    pub cancelled: i64,
}

/// Finished runs by their answer to the event that started them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DecisionCounts {
    pub allow: i64,
    pub block: i64,
    /// Runs that gave no decision (processes rather than decisions, or failed before one).
    pub none: i64,
}

/// Runs that have not finished, now (whatever the range).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UnfinishedCounts {
    pub pending: i64,
    pub running: i64,
    /// Parked on an event, an approval, a timer or a child run.
    pub waiting: i64,
    pub retrying: i64,
}

/// Durations in milliseconds, each within a bucket of the truth (buckets are the first digit
/// of the duration: 200–299 ms, 1–2 s, …, interpolated).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// One hour of the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HourStats {
    /// The hour's start.
    #[schema(format = DateTime)]
    pub hour: String,
    pub finished: FinishedCounts,
    /// `completed / (completed + failed)`; `null` when none of those finished in the hour.
    #[schema(required = true)]
    pub success_rate: Option<f64>,
}

/// One workflow's finished runs over the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowStatsRow {
    pub workflow_id: String,
    /// Its current name; `null` for a workflow deleted since.
    #[schema(required = true)]
    pub name: Option<String>,
    pub finished: FinishedCounts,
    #[schema(required = true)]
    pub success_rate: Option<f64>,
    /// `null` without runs that completed or failed.
    #[schema(required = true)]
    pub duration_ms: Option<Percentiles>,
}

/// One step's attempts over the range: where a workflow spends its time and fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StepStats {
    pub step_id: String,
    /// Attempts that ended (completed, failed or cancelled; retries count each).
    pub runs: i64,
    pub failures: i64,
    #[schema(required = true)]
    pub p50_ms: Option<f64>,
    #[schema(required = true)]
    pub p95_ms: Option<f64>,
}

/// How runs went over a range of hours: finished runs are counted in the hour they finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    #[schema(format = DateTime)]
    pub since: String,
    #[schema(format = DateTime)]
    pub until: String,
    pub finished: FinishedCounts,
    pub decisions: DecisionCounts,
    /// `completed / (completed + failed)`; `null` when none of those finished.
    #[schema(required = true)]
    pub success_rate: Option<f64>,
    /// Of runs that completed or failed; `null` without any.
    #[schema(required = true)]
    pub duration_ms: Option<Percentiles>,
    /// Every hour of the range, oldest first, hours without runs included.
    pub per_hour: Vec<HourStats>,
    pub unfinished: UnfinishedCounts,
    pub pending_approvals: i64,
    /// The workflows with runs finished in the range, those that failed most first (at most
    /// 20).
    pub workflows: Vec<WorkflowStatsRow>,
    /// Per step, slowest p95 first (a workflow's statistics only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub steps: Option<Vec<StepStats>>,
}
