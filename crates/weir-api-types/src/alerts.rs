//! Alerts: a measure of an environment's runs watched against a threshold, told on a channel
//! once when it is crossed and once when it recovers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::wire_enum! {
    /// What an alert watches.
    AlertMetric {
        /// Runs that started within `over` and failed.
        Failures = "failures",
        /// The share (0 to 1) of failed runs among the finished runs that started within
        /// `over` (the newest 10,000 at most).
        FailureRate = "failure_rate",
        /// The 95th percentile of how long those runs took, in milliseconds.
        DurationP95Ms = "duration_p95_ms",
        /// Approvals that have waited for a decision longer than `over`.
        PendingApprovals = "pending_approvals",
    }
}

crate::wire_enum! {
    /// Where an alert is told.
    AlertChannel {
        /// A notification per recipient in the console (`GET /api/v1/notifications`).
        InApp = "in_app",
        /// Mail to each recipient that is an address (through the outbox and SMTP).
        Email = "email",
        /// A JSON POST to each recipient URL, through the outbound guard.
        Webhook = "webhook",
    }
}

crate::wire_enum! {
    /// Where an alert stands.
    AlertState {
        Ok = "ok",
        Firing = "firing",
    }
}

/// When an alert fires: `metric` measured over the last `over` is above `above`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertCondition {
    pub metric: AlertMetric,
    /// A duration (`15m`, `1h`, `1d`), from a minute to 31 days.
    #[schema(example = "15m")]
    pub over: String,
    #[schema(example = 5)]
    pub above: f64,
}

/// Who is told, and how. Recipients as for the `notify` action: user ids, email addresses,
/// `role:NAME` (a team or a role of the environment), URLs for `webhook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertNotify {
    pub channel: AlertChannel,
    #[schema(min_items = 1, max_items = 20)]
    pub recipients: Vec<String>,
}

/// `POST /api/v1/alerts`, `PUT /api/v1/alerts/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Only this workflow's runs; every workflow's when left out.
    #[serde(default)]
    pub workflow_id: Option<String>,
    pub condition: AlertCondition,
    pub notify: AlertNotify,
    /// A disabled alert is not evaluated (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// An alert and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    pub id: String,
    pub name: String,
    #[schema(required = true)]
    pub workflow_id: Option<String>,
    pub condition: AlertCondition,
    pub notify: AlertNotify,
    pub enabled: bool,
    pub state: AlertState,
    /// What the last evaluation measured.
    #[schema(required = true)]
    pub value: Option<f64>,
    /// When it last fired or recovered.
    #[schema(required = true)]
    pub changed_at: Option<String>,
    #[schema(required = true)]
    pub evaluated_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertList {
    pub alerts: Vec<Alert>,
}
