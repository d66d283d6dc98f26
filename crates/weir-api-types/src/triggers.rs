//! Triggers seen from outside: a workflow's webhook (its URL, and what a delivery answers) and
//! when its schedules fire.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::executions::{Decision, ExecutionStatus};

/// `GET /api/v1/workflows/{id}/hook`: where the workflow's webhook takes deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HookUrl {
    pub workflow_id: String,
    /// `/hooks/{tenant}/{environment}/{token}`, on this server.
    #[schema(example = "/hooks/default/production/3f2a…")]
    pub path: String,
}

/// A delivery's JSON: an object is the run's payload; any other value arrives as
/// `{"body": value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"order": {"id": "o-1", "total": 120}}))]
pub struct HookPayload(pub Value);

/// A delivery's form: its fields are the run's payload, as strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HookForm(pub BTreeMap<String, String>);

/// A delivery accepted (202): the run it started, which goes on without the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HookAccepted {
    pub execution_id: String,
    pub status: ExecutionStatus,
}

/// A delivery to a webhook whose trigger waits (`response: wait`): the run as it stood when
/// it decided, finished or parked, or when the wait ran out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HookAnswer {
    pub execution_id: String,
    pub status: ExecutionStatus,
    pub decision: Option<Decision>,
    pub reason: Option<String>,
    /// The run's variables so far (`null` when it has none).
    pub output: Value,
    pub error: Option<String>,
}

crate::wire_enum! {
    /// What a schedule does about the fires it missed while no node ran.
    CatchUp {
        /// Skips them.
        None = "none",
        /// Fires once for the latest.
        Latest = "latest",
        /// Fires for each (the latest 100 at most).
        All = "all",
    }
}

/// One fire time, in UTC and in the schedule's zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FireTime {
    #[schema(format = DateTime)]
    pub at: String,
    #[schema(format = DateTime)]
    pub local: String,
}

/// One schedule trigger of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleTimes {
    /// The trigger's index among the workflow's triggers.
    pub trigger: u32,
    pub cron: String,
    /// An IANA zone (`Europe/Paris`); `UTC` when the trigger names none.
    pub timezone: String,
    /// The trigger's bounds, as written.
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub catch_up: CatchUp,
    /// The next fires after `after`, soonest first.
    pub next: Vec<FireTime>,
    /// When it last fired; `null` if never.
    #[schema(format = DateTime)]
    pub last_fire: Option<String>,
}

/// `GET /api/v1/workflows/{id}/schedule`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowSchedule {
    pub workflow_id: String,
    pub enabled: bool,
    pub schedules: Vec<ScheduleTimes>,
}

/// `GET /api/v1/workflows/{id}/schedule`'s query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    /// How many fire times per schedule (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub count: Option<i64>,
    /// List fires after this time (RFC 3339; default now).
    pub after: Option<String>,
}
