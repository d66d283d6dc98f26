//! `/api/v1/ai/*`: what an AI agent needs to write workflows that work. Capabilities says what
//! exists in the caller's scope (entities, operators, step and action types with their
//! schemas, templates, the events received lately); validate says what is wrong with a
//! definition and how to fix it, with the fixed definition when every fix is sure.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::Detail;
use weir_api_types::ai::{
    ActionCapability, Capabilities, CapabilitiesRequest, EntityCapability, InterpretMode,
    InterpretRequest, Interpretation, SeenEvent, TemplateSummary, Understanding, ValidateRequest,
    Validation,
};
use weir_core::entities::{ENTITIES, ENTITY_ACTIONS};
use weir_store::{EventFilter, Scope};

use crate::access::{Auth, need};
use crate::body::{JsonBody, OptionalBody};
use crate::{ApiError, ApiResult, AppState, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(get_capabilities, post_capabilities))
        .routes(routes!(validate))
        .routes(routes!(interpret))
}

/// How many of the scope's newest events capabilities looks at.
const SEEN_EVENTS: i64 = 500;
/// The most payload fields listed per event type.
const MAX_FIELDS: usize = 100;
/// How many rounds of fixes validate applies (a fix may uncover the next problem).
const FIX_ROUNDS: usize = 5;

/// What the caller can build with
///
/// From the live registry of the caller's tenant × environment: the entity catalogue, the
/// condition operators, step types, every action type (built-ins and the tenant's connectors)
/// with its config schema, templates, and the event types and payload fields received lately.
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/ai/capabilities", tag = "ai",
    responses((status = 200, body = Capabilities)))]
async fn get_capabilities(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<Capabilities>> {
    capabilities(&state, &caller.scope).await.map(Json)
}

/// What the caller can build with (POST)
///
/// The same as `GET /api/v1/ai/capabilities`, for agents that only POST: no body, or an empty
/// object. Needs `workflows:read`.
#[utoipa::path(post, path = "/api/v1/ai/capabilities", tag = "ai",
    request_body(content = CapabilitiesRequest, description = "Optional: no body, or {}"),
    responses((status = 200, body = Capabilities)))]
async fn post_capabilities(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    OptionalBody(_): OptionalBody<CapabilitiesRequest>,
) -> ApiResult<Json<Capabilities>> {
    capabilities(&state, &caller.scope).await.map(Json)
}

async fn capabilities(state: &AppState, scope: &Scope) -> ApiResult<Capabilities> {
    let entities = ENTITIES
        .iter()
        .map(|e| {
            (
                e.name.to_owned(),
                EntityCapability {
                    fields: e.fields.iter().map(|f| f.to_string()).collect(),
                    events: e.events.iter().map(|f| f.to_string()).collect(),
                    actions: ENTITY_ACTIONS.iter().map(|a| a.to_string()).collect(),
                },
            )
        })
        .collect();
    let actions: Vec<ActionCapability> = state
        .engine
        .action_types(scope)
        .into_iter()
        .map(|a| ActionCapability {
            name: a.name,
            description: a.description,
            source: if a.connector { "connector" } else { "builtin" }.to_owned(),
            side_effect: a.side_effect,
            config_schema: a.schema,
        })
        .collect();
    let events = state
        .store
        .events(
            scope,
            &EventFilter {
                limit: SEEN_EVENTS,
                ..Default::default()
            },
        )
        .await?;
    let mut seen: BTreeMap<String, (i64, BTreeSet<String>, i64)> = BTreeMap::new();
    for e in &events {
        let (count, fields, last) = seen.entry(e.event_type.clone()).or_default();
        *count += 1;
        *last = (*last).max(e.received_ms);
        if fields.len() < MAX_FIELDS {
            field_paths(&e.payload, "", 0, fields);
        }
    }
    Ok(Capabilities {
        entities,
        operators: weir_core::condition::canonical_operators()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        step_types: weir_core::CONTROL_STEP_TYPES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        action_types: ["allow", "block", "execute"].map(str::to_owned).to_vec(),
        execution_types: actions.iter().map(|a| a.name.clone()).collect(),
        actions,
        templates: crate::templates::all()
            .iter()
            .map(|t| TemplateSummary {
                id: t.id.to_owned(),
                name: t.name.clone(),
                description: t.description.clone(),
                trigger_events: t.trigger_events.clone(),
            })
            .collect(),
        seen_events: seen
            .into_iter()
            .map(|(event_type, (count, fields, last))| SeenEvent {
                event_type,
                count,
                fields: fields.into_iter().take(MAX_FIELDS).collect(),
                last_seen_at: time_text(last),
            })
            .collect(),
    })
}

/// Adds the dotted paths of a payload's fields (`order.items[].sku`), four levels deep.
fn field_paths(v: &Value, prefix: &str, depth: usize, out: &mut BTreeSet<String>) {
    if depth >= 4 || out.len() >= MAX_FIELDS {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                field_paths(v, &path, depth + 1, out);
            }
        }
        Value::Array(items) => {
            if let Some(first) = items.first() {
                field_paths(first, &format!("{prefix}[]"), depth + 1, out);
            }
        }
        _ => {}
    }
}

/// Validate a workflow, with fixes
///
/// Every diagnostic storing the workflow in the caller's scope would give (its connectors,
/// rules and teams), each with a suggested `fix` when one is known: the nearest step id for a
/// misspelled target, the operator for a misspelled one, the field name for a misspelled
/// field, the missing field with an example value. `fixed_workflow` is the workflow with every
/// fix applied when each error had a sure one and the result validates. Nothing is stored.
/// `workflow` is a definition, or its text (JSON or YAML). Needs `workflows:read`.
#[utoipa::path(post, path = "/api/v1/ai/validate", tag = "ai", request_body = ValidateRequest,
    responses((status = 200, body = Validation)))]
async fn validate(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<ValidateRequest>,
) -> ApiResult<Json<Validation>> {
    let definition = match request.workflow {
        Value::String(text) => match weir_core::load_value(text.as_bytes(), None) {
            Ok(v) => v,
            Err(e) => {
                let mut detail = Detail::from(&weir_core::validate::document_diagnostic(&e));
                if let weir_core::document::DocumentError::Syntax { line, column, .. } = e {
                    detail.line = line.map(|l| l as u64);
                    detail.column = column.map(|c| c as u64);
                }
                return Ok(Json(Validation {
                    valid: false,
                    diagnostics: vec![detail],
                    fixed_workflow: None,
                }));
            }
        },
        Value::Object(map) => Value::Object(map),
        _ => {
            return Err(ApiError::invalid(
                "workflow must be a definition (an object) or its text",
                vec![Detail::new("$.workflow", "an object, or JSON or YAML text")],
            ));
        }
    };
    let diagnostics = state.engine.check(&caller.scope, &definition).await?;
    let valid = !diagnostics.iter().any(|d| d.is_error());
    // Fix, check again, and go on while every error has a sure fix.
    let mut fixed_workflow = None;
    let (mut doc, mut found) = (definition, diagnostics.clone());
    for _ in 0..FIX_ROUNDS {
        let Some(next) = weir_core::fixes::fix_errors(&doc, &found) else {
            break;
        };
        found = state.engine.check(&caller.scope, &next).await?;
        doc = next;
        if !found.iter().any(|d| d.is_error()) {
            fixed_workflow = Some(doc);
            break;
        }
    }
    Ok(Json(Validation {
        valid,
        diagnostics: diagnostics.iter().map(Detail::from).collect(),
        fixed_workflow,
    }))
}

/// Turn English into a workflow
///
/// Reads a prompt about orders, customers, carts, products, quotes, leads, deals or billing —
/// thresholds ("over $5,000"), lists ("gold or platinum"), text tests ("ends with
/// @tempmail.com"), time windows ("new customers"), exceptions, verbs (block, allow, require
/// approval from a team, notify, email, call a URL, send a webhook, create a task), waits and
/// schedules — and answers what it understood, a complete workflow that validates, how sure it
/// is, and questions about what it could not tell. `offline` (the default) is deterministic and
/// needs no network. Nothing is deployed. The scope's teams and workflow ids are used as hints.
/// Needs `workflows:read`.
#[utoipa::path(post, path = "/api/v1/ai/interpret", tag = "ai", request_body = InterpretRequest,
    responses((status = 200, body = Interpretation)))]
async fn interpret(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<InterpretRequest>,
) -> ApiResult<Json<Interpretation>> {
    let prompt = request.prompt.trim();
    if prompt.is_empty() || prompt.chars().count() > 4000 {
        return Err(ApiError::invalid(
            "prompt must say what the workflow should do, in at most 4,000 characters",
            vec![Detail::new("$.prompt", "1 to 4000 characters")],
        ));
    }
    let mode = request.mode.unwrap_or(InterpretMode::Offline);
    if mode == InterpretMode::Llm {
        return Err(ApiError::invalid(
            "the llm mode is not available on this server yet; use \"offline\"",
            vec![Detail::new("$.mode", "offline")],
        ));
    }
    let mut context = weir_ai::InterpretContext::default();
    if let Some(hints) = &request.context {
        let Some(map) = hints.as_object() else {
            return Err(ApiError::invalid(
                "context must be an object",
                vec![Detail::new("$.context", "an object of hints")],
            ));
        };
        if let Some(v) = map.get("teams").cloned() {
            context.teams = serde_json::from_value(v).map_err(|_| {
                ApiError::invalid(
                    "context.teams must be a list of team names",
                    vec![Detail::new("$.context.teams", "a list of strings")],
                )
            })?;
        }
        if let Some(v) = map.get("workflow_ids").cloned() {
            context.workflow_ids = serde_json::from_value(v).map_err(|_| {
                ApiError::invalid(
                    "context.workflow_ids must be a list of ids",
                    vec![Detail::new("$.context.workflow_ids", "a list of strings")],
                )
            })?;
        }
        if let Some(v) = map.get("entities").cloned() {
            context.entities = serde_json::from_value(v).map_err(|e| {
                ApiError::invalid(
                    format!("context.entities is not a list of entities: {e}"),
                    vec![Detail::new(
                        "$.context.entities",
                        "[{\"name\", \"fields\", \"events\"}]",
                    )],
                )
            })?;
        }
    }
    for team in state.store.teams(&caller.scope).await? {
        if !context.teams.contains(&team.name) {
            context.teams.push(team.name);
        }
    }
    for w in state.store.workflows(&caller.scope).await? {
        context.workflow_ids.push(w.workflow_id);
    }
    let answer = weir_ai::interpret(prompt, &context);
    Ok(Json(Interpretation {
        interpretation: Understanding {
            action: answer.interpretation.action,
            entities: answer.interpretation.entities,
            trigger: answer.interpretation.trigger,
            conditions: answer.interpretation.conditions,
            actions: answer.interpretation.actions,
        },
        suggested_workflow: answer.suggested_workflow,
        confidence: answer.confidence,
        questions: answer.questions,
        mode,
    }))
}
