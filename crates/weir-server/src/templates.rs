//! Workflows to start from: the repository's examples, built into the binary. Agents list
//! them (capabilities, MCP `list_templates`) and the console offers them:
//! `GET /api/v1/templates[/{id}]`.

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::extract::Path;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::templates::{Template as TemplateBody, TemplateList};
use weir_api_types::workflows::WorkflowDefinition;

use crate::access::{Auth, need};
use crate::{ApiError, ApiResult, AppState};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(get_template))
}

/// List templates
///
/// Complete workflows to start from, each deployable as it is or to adapt. Needs
/// `workflows:read`.
#[utoipa::path(get, path = "/api/v1/templates", tag = "workflows",
    responses((status = 200, body = TemplateList)))]
async fn list_templates(_caller: Auth<need::Read>) -> Json<TemplateList> {
    Json(TemplateList {
        templates: all().iter().map(Template::body).collect(),
    })
}

/// Get a template
///
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/templates/{id}", tag = "workflows",
    responses((status = 200, body = TemplateBody)))]
async fn get_template(
    _caller: Auth<need::Read>,
    Path(id): Path<String>,
) -> ApiResult<Json<TemplateBody>> {
    all()
        .iter()
        .find(|t| t.id == id)
        .map(|t| Json(t.body()))
        .ok_or_else(|| ApiError::not_found("template"))
}

/// A template: a complete workflow, ready to deploy as it is or to adapt.
pub(crate) struct Template {
    pub id: &'static str,
    pub name: String,
    pub description: String,
    pub trigger_events: Vec<String>,
    pub workflow: Value,
}

impl Template {
    fn body(&self) -> TemplateBody {
        TemplateBody {
            id: self.id.to_owned(),
            name: self.name.clone(),
            description: self.description.clone(),
            trigger_events: self.trigger_events.clone(),
            workflow: WorkflowDefinition(self.workflow.as_object().cloned().unwrap_or_default()),
        }
    }
}

const SOURCES: &[(&str, &str)] = &[
    (
        "order-approval",
        include_str!("../../../examples/order-approval.workflow.json"),
    ),
    (
        "order-check",
        include_str!("../../../examples/quickstart.workflow.yaml"),
    ),
    (
        "auto-qualify-leads",
        include_str!("../../../examples/004-auto-qualify-leads.workflow.json"),
    ),
    (
        "deal-stage-notification",
        include_str!("../../../examples/004-deal-stage-notification.workflow.json"),
    ),
    (
        "lead-nurture",
        include_str!("../../../examples/004-lead-nurture.workflow.json"),
    ),
    (
        "crm-activity-log",
        include_str!("../../../examples/004-crm-activity-log.workflow.json"),
    ),
];

pub(crate) fn all() -> &'static [Template] {
    static ALL: OnceLock<Vec<Template>> = OnceLock::new();
    ALL.get_or_init(|| {
        SOURCES
            .iter()
            .filter_map(|(id, text)| {
                // The examples are checked by their own tests; one that does not read is left out.
                let workflow = weir_core::load_value(text.as_bytes(), None).ok()?;
                let text = |k: &str| {
                    workflow
                        .get(k)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                };
                let triggers = match workflow.get("triggers") {
                    Some(Value::Array(list)) => list.clone(),
                    _ => workflow.get("trigger").cloned().into_iter().collect(),
                };
                let mut trigger_events: Vec<String> = triggers
                    .iter()
                    .filter_map(|t| t.get("event")?.as_str().map(str::to_owned))
                    .collect();
                trigger_events.dedup();
                Some(Template {
                    id,
                    name: text("name"),
                    description: text("description"),
                    trigger_events,
                    workflow,
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_reads_and_validates() {
        let all = super::all();
        assert_eq!(all.len(), super::SOURCES.len());
        for t in all {
            assert!(
                !t.name.is_empty() && !t.trigger_events.is_empty(),
                "{}",
                t.id
            );
            let v = weir_core::validate_value(
                &t.workflow,
                &weir_core::BuiltinCatalog::new(),
                &weir_core::Rules::default(),
            );
            assert!(v.errors().next().is_none(), "{}: {:?}", t.id, v.diagnostics);
        }
    }
}
