//! Settings of an environment that are not secrets, connectors or templates.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `PUT /api/v1/settings/retention`: how long this environment keeps finished executions,
/// instead of the server's `--retain-executions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettingRequest {
    /// A duration (`7d`, `90d`, `12h`), from one minute to 100 years: finished executions
    /// with their steps and events, and sent mail, are deleted once this old.
    #[schema(min_length = 1, max_length = 40, example = "90d")]
    pub executions: String,
}

/// How long this environment keeps finished executions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RetentionSettingView {
    /// The environment's own setting; `null` when it follows the server's.
    #[schema(required = true)]
    pub executions: Option<String>,
    /// What applies now: the environment's setting, else the server's (`null`: kept for ever).
    #[schema(required = true)]
    pub effective: Option<String>,
    /// When the environment's setting was last changed.
    #[schema(required = true)]
    pub updated_at: Option<String>,
}
