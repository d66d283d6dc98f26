//! `POST /api/v1/dry-run`: a workflow walked for one event in memory by the same dry run as
//! `weir test` (`weir_core::dry_run`, which drives the executor), in the caller's scope: its
//! connectors' action types, its rules, its stored workflows. Nothing is stored or performed.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::dryrun::{
    AssumedApproval, DryRun, DryRunDecision, DryRunRequest, DryRunStatus, FormatRequest, Formatted,
    TextFormat,
};
use weir_api_types::{Detail, ErrorCode};
use weir_core::dryrun::{ApprovalOutcome, DecisionKind, RunStatus, WaitOutcome};

use crate::access::{Auth, need};
use crate::body::JsonBody;
use crate::{ApiError, ApiResult, AppState};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(dry_run))
        .routes(routes!(format))
}

/// Format a workflow
///
/// A definition (or its JSON or YAML text) in the canonical form `weir fmt` writes, in JSON or
/// YAML: known keys in the format's order, user data as written. The definition is not
/// validated (text that does not read is 422 with its line and column). Nothing is stored.
/// Needs `workflows:read`.
#[utoipa::path(post, path = "/api/v1/format", tag = "workflows", request_body = FormatRequest,
    responses((status = 200, body = Formatted)))]
async fn format(
    _caller: Auth<need::Read>,
    JsonBody(request): JsonBody<FormatRequest>,
) -> ApiResult<Json<Formatted>> {
    let definition = definition_of(request.workflow)?;
    if !definition.is_object() {
        return Err(ApiError::new(
            ErrorCode::InvalidWorkflow,
            "the workflow's text does not hold a definition (an object)",
        )
        .with_details(vec![Detail::new(
            "$.workflow",
            "JSON or YAML text of an object",
        )]));
    }
    let canonical = weir_core::format::canonicalize(&definition);
    let to = match request.format {
        TextFormat::Json => weir_core::document::Format::Json,
        TextFormat::Yaml => weir_core::document::Format::Yaml,
    };
    let text = weir_core::format::render(&canonical, to).map_err(|e| {
        ApiError::invalid(
            format!(
                "the workflow cannot be written as {:?}: {e}",
                request.format
            ),
            vec![Detail::new("$.workflow", e)],
        )
    })?;
    Ok(Json(Formatted {
        text,
        workflow: canonical,
        format: request.format,
    }))
}

/// Dry-run a workflow
///
/// Walks a workflow for one event in memory, as `weir test` does: which trigger hears it, the
/// values each condition compared, each action's rendered input, the path taken and the
/// decision. Actions answer their type's default result (or `mocks`, or fail as `failures`
/// say); approvals and waits take the outcome assumed, else the run stops there (`waiting`).
/// No secret is opened (each renders as `***`), nothing is stored and nothing is performed.
/// The workflow is a definition (or its text), checked as storing it would check it (an
/// invalid one is 422 with every diagnostic), or a stored one by `workflow_id`. Needs
/// `workflows:read`.
#[utoipa::path(post, path = "/api/v1/dry-run", tag = "workflows", request_body = DryRunRequest,
    responses((status = 200, body = DryRun)))]
async fn dry_run(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<DryRunRequest>,
) -> ApiResult<Json<DryRun>> {
    let definition = match (request.workflow, &request.workflow_id) {
        (Some(workflow), None) => definition_of(workflow)?,
        (None, Some(id)) => {
            state
                .store
                .workflow(&caller.scope, id)
                .await?
                .ok_or_else(|| ApiError::not_found("workflow"))?
                .definition
        }
        _ => {
            return Err(ApiError::invalid(
                "give the workflow to try: `workflow` (a definition) or `workflow_id` (a stored one)",
                vec![Detail::new("$.workflow", "this or $.workflow_id, not both")],
            ));
        }
    };
    let (workflow, diagnostics) = state.engine.compile(&caller.scope, &definition).await?;
    let Some(workflow) = workflow else {
        return Err(
            ApiError::new(ErrorCode::InvalidWorkflow, "the workflow is not valid")
                .with_details(diagnostics.iter().map(Detail::from).collect()),
        );
    };
    // What is assumed must name steps that perform actions, as `weir test` requires.
    let mut wrong = Vec::new();
    for (field, ids) in [
        ("mocks", request.mocks.keys().collect::<Vec<_>>()),
        ("failures", request.failures.keys().collect()),
    ] {
        for id in ids {
            if let Err(e) = weir_core::dryrun::check_assumed_step(&workflow, id) {
                wrong.push(Detail::new(format!("$.{field}.{id}"), e));
            }
        }
    }
    let classes = weir_core::dryrun::failure_classes();
    for (id, class) in &request.failures {
        if !classes.contains(&class.as_str()) {
            wrong.push(Detail::new(
                format!("$.failures.{id}"),
                format!("one of {}", classes.join(", ")),
            ));
        }
        if request.mocks.contains_key(id) {
            wrong.push(Detail::new(
                format!("$.failures.{id}"),
                "a step is mocked or fails, not both",
            ));
        }
    }
    if request.wait_event.is_some() && request.wait_timeout {
        wrong.push(Detail::new(
            "$.wait_timeout",
            "a wait receives its event or times out, not both",
        ));
    }
    if !wrong.is_empty() {
        return Err(ApiError::invalid(
            "the dry run's assumptions do not fit the workflow",
            wrong,
        ));
    }
    let opts = weir_core::DryRunOptions {
        event: request.event_type,
        trigger: None,
        approval: request.approval.map(|a| match a {
            AssumedApproval::Approve => ApprovalOutcome::Approve,
            AssumedApproval::Reject => ApprovalOutcome::Reject,
            AssumedApproval::Timeout => ApprovalOutcome::Timeout,
        }),
        wait: match (request.wait_event, request.wait_timeout) {
            (Some(payload), _) => Some(WaitOutcome::Event(Value::Object(payload))),
            (None, true) => Some(WaitOutcome::Timeout),
            (None, false) => None,
        },
        source: request.source,
        mocks: request.mocks,
        failures: request.failures,
        workflows: Default::default(),
    };
    // A walk is bounded (loops, iterations, document size) but can take a while: not on the
    // runtime's threads.
    let (engine, scope, payload) = (
        state.engine.clone(),
        caller.scope.clone(),
        Value::Object(request.payload),
    );
    let run =
        tokio::task::spawn_blocking(move || engine.dry_run(&scope, &workflow, &payload, &opts))
            .await
            .map_err(|e| {
                tracing::error!("internal error: a dry run ended badly: {e}");
                ApiError::internal()
            })?;
    Ok(Json(DryRun {
        workflow_id: run.workflow_id,
        matched: run.matched,
        status: match run.status {
            RunStatus::Completed => DryRunStatus::Completed,
            RunStatus::Failed => DryRunStatus::Failed,
            RunStatus::Waiting => DryRunStatus::Waiting,
            RunStatus::NotMatched => DryRunStatus::NotMatched,
        },
        decision: match run.decision {
            DecisionKind::Allow => DryRunDecision::Allow,
            DecisionKind::Block => DryRunDecision::Block,
            DecisionKind::None => DryRunDecision::None,
        },
        reason: run.reason,
        trigger: run.trigger.as_ref().map(json),
        steps: run.steps.iter().map(json).collect(),
        variables: run.variables,
        notes: run.notes,
        error: run.error,
        warnings: diagnostics
            .iter()
            .filter(|d| !d.is_error())
            .map(Detail::from)
            .collect(),
    }))
}

/// A definition given as an object, or as its JSON or YAML text (422 with the line and
/// column of a text that does not read).
fn definition_of(workflow: Value) -> ApiResult<Value> {
    match workflow {
        Value::Object(map) => Ok(Value::Object(map)),
        Value::String(text) => weir_core::load_value(text.as_bytes(), None).map_err(|e| {
            let mut detail = Detail::from(&weir_core::validate::document_diagnostic(&e));
            detail.path = format!("$.workflow{}", detail.path.trim_start_matches('$'));
            if let weir_core::document::DocumentError::Syntax { line, column, .. } = e {
                detail.line = line.map(|l| l as u64);
                detail.column = column.map(|c| c as u64);
            }
            ApiError::new(ErrorCode::InvalidWorkflow, "the workflow does not read")
                .with_details(vec![detail])
        }),
        _ => Err(ApiError::invalid(
            "workflow must be a definition (an object) or its text",
            vec![Detail::new("$.workflow", "an object, or JSON or YAML text")],
        )),
    }
}

/// A piece of the core's report (plain serde types, which always serialize) as JSON.
fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}
