//! Workflows to start from: the starter workflows of `templates/` (the same `weir init` and
//! `weir create --template` use), built into the binary. Agents list them (capabilities, MCP
//! `list_templates`), and `GET /api/v1/templates[/{id}]` serves them.

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
        "cart-abandonment",
        include_str!("../../../templates/cart-abandonment.json"),
    ),
    (
        "customer-onboarding",
        include_str!("../../../templates/customer-onboarding.json"),
    ),
    (
        "deal-stage-notification",
        include_str!("../../../templates/deal-stage-notification.json"),
    ),
    (
        "fraud-detection",
        include_str!("../../../templates/fraud-detection.json"),
    ),
    (
        "inventory-sync",
        include_str!("../../../templates/inventory-sync.json"),
    ),
    (
        "lead-nurture",
        include_str!("../../../templates/lead-nurture.json"),
    ),
    (
        "lead-qualification",
        include_str!("../../../templates/lead-qualification.json"),
    ),
    (
        "order-approval",
        include_str!("../../../templates/order-approval.json"),
    ),
    (
        "pricing-rule",
        include_str!("../../../templates/pricing-rule.json"),
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
                // The events its triggers hear, as the model reads them (`event` or
                // `event_name`, one trigger or several).
                let parsed = weir_core::validate_value(
                    &workflow,
                    &weir_core::BuiltinCatalog::new(),
                    &weir_core::Rules::default(),
                )
                .workflow?;
                let mut trigger_events: Vec<String> = parsed
                    .triggers
                    .iter()
                    .filter_map(|t| match &t.kind {
                        weir_core::model::TriggerKind::Event { event, .. } => Some(event.clone()),
                        _ => None,
                    })
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
    fn every_file_of_the_templates_folder_is_served() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../templates");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".json") && !n.ends_with(".events.json"))
            .map(|n| n.trim_end_matches(".json").to_owned())
            .collect();
        files.sort();
        let served: Vec<&str> = super::SOURCES.iter().map(|(id, _)| *id).collect();
        assert_eq!(served, files, "add the template to SOURCES");
    }

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
