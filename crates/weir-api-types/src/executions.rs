//! Executions: runs of a workflow, their step attempts and timelines.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

crate::wire_enum! {
    /// Where an execution stands.
    ExecutionStatus {
        Pending = "pending",
        Running = "running",
        /// Parked: waiting for an event, an approval, a timer or a child run.
        Waiting = "waiting",
        /// A failed run sent back to its failed step.
        Retrying = "retrying",
        Completed = "completed",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl ExecutionStatus {
    /// Whether the run is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ExecutionStatus::Completed | ExecutionStatus::Failed | ExecutionStatus::Cancelled
        )
    }
}

crate::wire_enum! {
    /// A workflow's answer to the event that started it.
    Decision { Allow = "allow", Block = "block" }
}

crate::wire_enum! {
    /// Where a step attempt stands.
    StepStatus {
        Running = "running",
        Waiting = "waiting",
        Completed = "completed",
        Failed = "failed",
        Skipped = "skipped",
        Cancelled = "cancelled",
    }
}

/// One step attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StepAttempt {
    /// Unique within the run: thread, step and attempt.
    pub key: String,
    pub step_id: String,
    /// The step's type (`condition`, `http_request`, …).
    #[serde(rename = "type")]
    pub step_type: String,
    pub status: StepStatus,
    /// An action step's try: 1 for the first, 2 for the first retry, …; 0 for a step that
    /// performs no action (a condition, a set, a wait).
    pub attempt: u32,
    /// 0 for the top-level list; one per parallel branch and foreach iteration.
    pub thread: u32,
    /// The parallel or foreach step this attempt runs under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub parent_step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub branch: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub iteration: Option<u64>,
    /// The rendered input, secrets redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error: Option<String>,
    /// When the run reached it (the run's clock).
    #[schema(format = DateTime)]
    pub at: String,
    /// When the attempt was first written and last changed (the database's clock).
    #[schema(format = DateTime)]
    pub started_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub duration_ms: i64,
}

/// An execution, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionSummary {
    pub id: String,
    pub workflow_id: String,
    pub workflow_version: i64,
    pub status: ExecutionStatus,
    pub decision: Option<Decision>,
    pub reason: Option<String>,
    /// The event type that started it (`null` for a run started by hand or by a schedule).
    pub trigger_event: Option<String>,
    pub event_id: Option<String>,
    /// The run that started this one as a sub-workflow.
    pub parent_id: Option<String>,
    /// The run's context: the trigger's payload and what the steps added.
    pub context: Value,
    pub error: Option<String>,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    pub duration_ms: Option<i64>,
}

/// `GET /api/v1/executions/{id}`: the execution with every step attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Execution {
    #[serde(flatten)]
    pub summary: ExecutionSummary,
    pub steps: Vec<StepAttempt>,
}

/// `GET /api/v1/executions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionList {
    pub executions: Vec<ExecutionSummary>,
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/executions/{id}/cancel` and `/retry` (202).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionAccepted {
    pub execution_id: String,
    pub status: AcceptedStatus,
}

crate::wire_enum! {
    /// What was asked of the run: it is being cancelled, or sent back to its failed step.
    AcceptedStatus { Cancelling = "cancelling", Retrying = "retrying" }
}

/// One entry of a run's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineEntry {
    /// The run began.
    Started {
        #[schema(format = DateTime)]
        at: String,
        trigger_event: Option<String>,
        event_id: Option<String>,
        parent_id: Option<String>,
    },
    /// A step attempt; `at` is when it was first written.
    Step(Box<TimelineStep>),
    /// The run ended.
    Finished {
        #[schema(format = DateTime)]
        at: Option<String>,
        status: ExecutionStatus,
        decision: Option<Decision>,
        reason: Option<String>,
        error: Option<String>,
    },
}

/// A step attempt in a timeline: the attempt's fields, with `at` the time it was first written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimelineStep {
    pub key: String,
    pub step_id: String,
    #[serde(rename = "type")]
    pub step_type: String,
    pub status: StepStatus,
    pub attempt: u32,
    pub thread: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub parent_step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub branch: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub iteration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error: Option<String>,
    #[schema(format = DateTime)]
    pub at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub duration_ms: i64,
}

impl From<StepAttempt> for TimelineStep {
    fn from(s: StepAttempt) -> Self {
        TimelineStep {
            key: s.key,
            step_id: s.step_id,
            step_type: s.step_type,
            status: s.status,
            attempt: s.attempt,
            thread: s.thread,
            parent_step: s.parent_step,
            branch: s.branch,
            iteration: s.iteration,
            input: s.input,
            output: s.output,
            error: s.error,
            at: s.started_at,
            updated_at: s.updated_at,
            duration_ms: s.duration_ms,
        }
    }
}

/// `GET /api/v1/executions/{id}/trace`: the run as a timeline, in the order things were
/// first written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Trace {
    pub execution_id: String,
    pub workflow_id: String,
    pub workflow_version: i64,
    pub status: ExecutionStatus,
    pub decision: Option<Decision>,
    pub duration_ms: Option<i64>,
    pub timeline: Vec<TimelineEntry>,
}

/// The filters of `GET /api/v1/executions` (newest first).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExecutionQuery {
    /// Only this workflow's executions.
    pub workflow_id: Option<String>,
    pub status: Option<ExecutionStatus>,
    pub decision: Option<Decision>,
    /// Only those started by this event.
    pub event_id: Option<String>,
    /// Only those started by events of this type.
    pub event_type: Option<String>,
    /// Started at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Started before this time (RFC 3339).
    pub until: Option<String>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Items to skip (at most 100,000: `cursor` pages go on beyond).
    #[param(minimum = 0, maximum = 100000)]
    pub offset: Option<i64>,
    /// Items per page (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}
