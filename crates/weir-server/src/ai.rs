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
    InterpretRequest, Interpretation, SeenEvent, SuggestRequest, Suggestion, Suggestions,
    TemplateSummary, Understanding, ValidateRequest, Validation,
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
        .routes(routes!(suggest))
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

pub(crate) async fn capabilities(state: &AppState, scope: &Scope) -> ApiResult<Capabilities> {
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
    let fixed_workflow = match valid {
        true => None,
        false => fix_until_valid(&state, &caller.scope, &definition, &diagnostics).await?,
    };
    Ok(Json(Validation {
        valid,
        diagnostics: diagnostics.iter().map(Detail::from).collect(),
        fixed_workflow,
    }))
}

/// The definition with the sure fixes of its errors applied, checked again, for as long as
/// every error has one; `None` when some error has no sure fix.
pub(crate) async fn fix_until_valid(
    state: &AppState,
    scope: &Scope,
    definition: &Value,
    diagnostics: &[weir_core::Diagnostic],
) -> ApiResult<Option<Value>> {
    let (mut doc, mut found) = (definition.clone(), diagnostics.to_vec());
    for _ in 0..FIX_ROUNDS {
        let Some(next) = weir_core::fixes::fix_errors(&doc, &found) else {
            return Ok(None);
        };
        found = state.engine.check(scope, &next).await?;
        doc = next;
        if !found.iter().any(|d| d.is_error()) {
            return Ok(Some(doc));
        }
    }
    Ok(None)
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
    // Hints the interpreter reads (`teams`, `workflow_ids`, `entities`); other keys are ignored.
    let mut context: weir_ai::InterpretContext = match request.context {
        None => weir_ai::InterpretContext::default(),
        Some(hints @ Value::Object(_)) => serde_path_to_error::deserialize(hints).map_err(|e| {
            let path = format!("$.context.{}", e.path());
            let message = e.into_inner().to_string();
            ApiError::invalid(
                format!("context is invalid: {message}"),
                vec![Detail::new(path, message)],
            )
        })?,
        Some(_) => {
            return Err(ApiError::invalid(
                "context must be an object",
                vec![Detail::new("$.context", "an object of hints")],
            ));
        }
    };
    for team in state.store.teams(&caller.scope).await? {
        if !context.teams.contains(&team.name) {
            context.teams.push(team.name);
        }
    }
    for w in state.store.workflows(&caller.scope).await? {
        context.workflow_ids.push(w.workflow_id);
    }
    let answer = weir_ai::interpret(prompt, &context);
    let mut fallback = None;
    if mode == InterpretMode::Llm {
        let asked = match crate::llm::endpoint(&state, &caller.scope).await {
            Ok(Some(endpoint)) => {
                crate::llm::interpret(
                    &state,
                    &caller.scope,
                    &endpoint,
                    prompt,
                    &context,
                    &answer.suggested_workflow,
                )
                .await
            }
            Ok(None) => Err(
                "no LLM endpoint is configured (the environment's llm setting, or WEIR_LLM_URL on the server)"
                    .to_owned(),
            ),
            Err(e) => Err(e),
        };
        match asked {
            Ok(llm) => {
                return Ok(Json(Interpretation {
                    interpretation: llm.interpretation,
                    suggested_workflow: llm.workflow,
                    confidence: llm.confidence,
                    questions: llm.questions,
                    mode,
                    llm_requests: Some(llm.requests),
                    fallback: None,
                }));
            }
            Err(why) => fallback = Some(format!("the offline interpreter answered: {why}")),
        }
    }
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
        mode: InterpretMode::Offline,
        llm_requests: None,
        fallback,
    }))
}

/// Suggest templates for a scenario
///
/// The templates that fit a scenario best, each filled in with what the scenario says: its
/// thresholds (where the template compares the same field) and the team that approves. A
/// filled template that would not validate in the caller's scope is given as it was. Nothing
/// is deployed. Needs `workflows:read`.
#[utoipa::path(post, path = "/api/v1/ai/suggest", tag = "ai", request_body = SuggestRequest,
    responses((status = 200, body = Suggestions)))]
async fn suggest(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<SuggestRequest>,
) -> ApiResult<Json<Suggestions>> {
    let scenario = request.scenario.trim();
    if scenario.is_empty() || scenario.chars().count() > 2000 {
        return Err(ApiError::invalid(
            "scenario must describe the situation, in at most 2,000 characters",
            vec![Detail::new("$.scenario", "1 to 2000 characters")],
        ));
    }
    let limit = match request.limit {
        None => 3,
        Some(n @ 1..=10) => n as usize,
        Some(_) => {
            return Err(ApiError::invalid(
                "limit is 1 to 10",
                vec![Detail::new("$.limit", "an integer from 1 to 10")],
            ));
        }
    };
    let wanted = words(scenario);
    let mut ranked: Vec<(f64, Vec<String>, &crate::templates::Template)> = crate::templates::all()
        .iter()
        .filter_map(|t| {
            let mut text = format!(
                "{} {} {}",
                t.name,
                t.description,
                t.trigger_events.join(" ")
            );
            for key in ["tags", "category"] {
                if let Some(v) = t.workflow.get(key) {
                    text.push(' ');
                    text.push_str(&v.to_string());
                }
            }
            let have = words(&text);
            let matched: Vec<String> = wanted
                .iter()
                .filter(|w| have.contains(*w))
                .cloned()
                .collect();
            (!matched.is_empty()).then(|| (matched.len() as f64 / wanted.len() as f64, matched, t))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.2.id.cmp(b.2.id)));
    ranked.truncate(limit);
    let understood = weir_ai::interpret(scenario, &weir_ai::InterpretContext::default());
    let mut suggestions = Vec::new();
    for (score, matched, t) in ranked {
        let mut workflow = t.workflow.clone();
        let changes = fill(&mut workflow, &understood);
        let fits = !changes.is_empty()
            && !state
                .engine
                .check(&caller.scope, &workflow)
                .await?
                .iter()
                .any(|d| d.is_error());
        let (workflow, changes) = match fits {
            true => (workflow, changes),
            false => (t.workflow.clone(), Vec::new()),
        };
        suggestions.push(Suggestion {
            template_id: t.id.to_owned(),
            name: t.name.clone(),
            description: t.description.clone(),
            score: (score * 100.0).round() / 100.0,
            matched,
            workflow,
            changes,
        });
    }
    Ok(Json(Suggestions { suggestions }))
}

/// The words of a text that say something: lowercase, without the commonest words, plural
/// `s` taken off.
fn words(text: &str) -> BTreeSet<String> {
    const COMMON: &[&str] = &[
        "a", "an", "the", "and", "or", "of", "to", "for", "in", "on", "at", "by", "is", "are",
        "be", "it", "its", "with", "that", "this", "we", "our", "i", "my", "when", "if", "every",
        "all", "any", "from", "as", "then", "than", "more", "less", "over", "under", "want",
        "need", "needs", "should", "get", "gets", "into", "each", "their", "them", "they",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| {
            w.len() > 1 && !COMMON.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit())
        })
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.len() > 2 && !stem.ends_with('s') => stem.to_owned(),
            _ => w,
        })
        .collect()
}

/// Puts what the scenario says into a template: each threshold the interpreter read where the
/// template compares the same field with a number, and the approving team it read. Returns
/// what it changed.
fn fill(workflow: &mut Value, understood: &weir_ai::Interpretation) -> Vec<String> {
    let mut changes = Vec::new();
    // Field, whether it is a lower bound (gt, gte) or an upper one, and the number.
    let mut thresholds: Vec<(String, bool, Value)> = Vec::new();
    let mut collect = |c: &Value| {
        if let (Some(field), Some(op), Some(value)) = (
            c.get("field").and_then(Value::as_str),
            c.get("operator").and_then(Value::as_str),
            c.get("value").filter(|v| v.is_number()),
        ) && let Some(lower) = bound(op)
        {
            thresholds.push((field.to_owned(), lower, value.clone()));
        }
    };
    for c in &understood.interpretation.conditions {
        walk(c, &mut |v| collect(v));
    }
    let mut team = None;
    walk(&understood.suggested_workflow, &mut |v| {
        if let Some(role) = v.get("approver_role").and_then(Value::as_str) {
            team.get_or_insert_with(|| role.to_owned());
        }
    });
    // Steps and rules only: a trigger's conditions say which events it hears, not the
    // threshold the scenario speaks of.
    let mut fill_one = |v: &mut Value| {
        let Some(map) = v.as_object_mut() else {
            return;
        };
        let field = map.get("field").and_then(Value::as_str).map(str::to_owned);
        let lower = map.get("operator").and_then(Value::as_str).and_then(bound);
        if let (Some(field), Some(lower)) = (field, lower)
            && let Some((_, _, new)) = thresholds
                .iter()
                .find(|(f, l, _)| *f == field && *l == lower)
            && let Some(old) = map.get("value").filter(|v| v.is_number() && *v != new)
        {
            changes.push(format!("{field}: {old} → {new}"));
            map.insert("value".into(), new.clone());
        }
        if let (Some(team), Some(Value::String(old))) = (&team, map.get("approver_role"))
            && old != team
        {
            changes.push(format!("approver_role: {old} → {team}"));
            map.insert("approver_role".into(), Value::String(team.clone()));
        }
    };
    for key in ["steps", "rules"] {
        if let Some(part) = workflow.get_mut(key) {
            walk_mut(part, &mut fill_one);
        }
    }
    changes
}

/// Whether a comparison is a lower bound (`gt`, `gte`), an upper one (`lt`, `lte`), or
/// neither.
fn bound(op: &str) -> Option<bool> {
    match op {
        "gt" | "gte" | "greater_than" | "at_least" => Some(true),
        "lt" | "lte" | "less_than" | "at_most" => Some(false),
        _ => None,
    }
}

fn walk(v: &Value, f: &mut dyn FnMut(&Value)) {
    f(v);
    match v {
        Value::Object(map) => map.values().for_each(|v| walk(v, f)),
        Value::Array(items) => items.iter().for_each(|v| walk(v, f)),
        _ => {}
    }
}

fn walk_mut(v: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    f(v);
    match v {
        Value::Object(map) => map.values_mut().for_each(|v| walk_mut(v, f)),
        Value::Array(items) => items.iter_mut().for_each(|v| walk_mut(v, f)),
        _ => {}
    }
}
