//! Templates: complete workflows to start from.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::workflows::WorkflowDefinition;

/// A workflow to start from, deployable as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The events its triggers listen for.
    pub trigger_events: Vec<String>,
    pub workflow: WorkflowDefinition,
}

/// `GET /api/v1/templates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateList {
    pub templates: Vec<Template>,
}
