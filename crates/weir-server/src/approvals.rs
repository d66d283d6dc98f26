//! Approvals: list, read, approve and reject. Deciding needs `approvals:decide` and, for an
//! approval with an `approver_role`, a signed-in member of the environment's team of that
//! name, or a caller whose role is that name; a caller with `admin` may decide any, as an
//! override when it is neither. Decisions, overrides and refusals are audited. An approval is
//! decided once (409 after); one that expired took its step's `on_timeout` path and cannot be
//! decided.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::approvals::{
    Approval, ApprovalList, ApprovalQuery, ApprovalStatus, DecisionRequest,
};
use weir_store::ApprovalFilter;

use crate::access::{Auth, Caller, Perm, Principal, audit, need};
use crate::body::OptionalBody;
use crate::params::{Params, next_cursor};
use crate::{ApiError, ApiResult, AppState, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_approvals))
        .routes(routes!(get_approval))
        .routes(routes!(approve))
        .routes(routes!(reject))
}

fn approval_of(a: weir_store::Approval) -> ApiResult<Approval> {
    let status = ApprovalStatus::parse(&a.status).ok_or_else(|| {
        tracing::error!("internal error: an approval with status '{}'", a.status);
        ApiError::internal()
    })?;
    Ok(Approval {
        id: a.id,
        execution_id: a.execution_id,
        step_id: a.step_id,
        status,
        approver_role: a.approver_role,
        entity: a.entity,
        entity_id: a.entity_id,
        message: a.message,
        requested_at: time_text(a.requested_ms),
        expires_at: a.expires_ms.map(time_text),
        decided_by: a.decided_by,
        decided_at: a.decided_ms.map(time_text),
        reason: a.reason,
    })
}

/// List approvals
///
/// Newest first, keyset pages by `cursor`. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "approvals", params(ApprovalQuery),
    responses((status = 200, body = ApprovalList)))]
async fn list_approvals(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ApprovalList>> {
    let q = Params::new(
        q,
        &[
            "status",
            "entity",
            "entity_id",
            "role",
            "execution_id",
            "cursor",
            "limit",
        ],
    )?;
    let statuses: Vec<&str> = ApprovalStatus::ALL.iter().map(|s| s.as_str()).collect();
    let status = q.one_of("status", &statuses)?;
    let limit = q.number("limit", 50, 1, 500)?;
    let list = state
        .store
        .approvals(
            &caller.scope,
            &ApprovalFilter {
                status,
                entity: q.text("entity"),
                entity_id: q.text("entity_id"),
                role: q.text("role"),
                execution_id: q.text("execution_id"),
                before: q.text("cursor"),
                limit,
            },
        )
        .await?;
    let next_cursor = next_cursor(&list, limit, |a| a.id.clone());
    Ok(Json(ApprovalList {
        approvals: list
            .into_iter()
            .map(approval_of)
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// An approval
///
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/approvals/{id}", tag = "approvals",
    responses((status = 200, body = Approval)))]
async fn get_approval(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<Approval>> {
    let a = state
        .store
        .approval(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("approval"))?;
    Ok(Json(approval_of(a)?))
}

async fn decide(
    state: &AppState,
    caller: &crate::access::Caller,
    id: &str,
    request: DecisionRequest,
    approved: bool,
) -> ApiResult<Json<Approval>> {
    let reason = request.reason.or(request.comment);
    if reason.as_ref().is_some_and(|r| r.len() > 2000) {
        return Err(ApiError::invalid_field(
            "$.reason",
            "a string of at most 2000 characters",
        ));
    }
    let verb = if approved { "approve" } else { "reject" };
    let found = state
        .store
        .approval(&caller.scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("approval"))?;
    let role = found.approver_role.as_deref();
    let overriding = match role {
        None => false,
        Some(role) => match approver(state, caller, role).await? {
            true => false,
            false if caller.may(Perm::Admin) => true,
            false => {
                audit(
                    state,
                    caller,
                    "approval.refused",
                    id,
                    Some(json!({ "attempted": verb, "approver_role": role, "reason": reason })),
                )
                .await?;
                return Err(ApiError::forbidden(format!(
                    "only members of the team '{role}' decide this approval: sign in as one (or ask an admin)"
                )));
            }
        },
    };
    let (_, by) = caller.actor();
    state
        .store
        .decide_approval(&caller.scope, id, approved, by, reason.as_deref())
        .await
        .map_err(crate::missing("approval"))?;
    state.engine.nudge();
    let action = if approved {
        "approval.approve"
    } else {
        "approval.reject"
    };
    audit(
        state,
        caller,
        action,
        id,
        Some(json!({ "reason": reason, "approver_role": role, "override": overriding })),
    )
    .await?;
    let a = state
        .store
        .approval(&caller.scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("approval"))?;
    state.engine.stream.publish(
        &caller.scope,
        "approval.decided",
        &a.execution_id,
        None,
        json!({ "approval_id": a.id, "status": a.status, "decided_by": a.decided_by, "override": overriding }),
    );
    // Workflows wait for the decision as the event approval.decision. Its idempotency key
    // makes it one event per approval, even if this answer is retried.
    let event = json!({
        "approval_id": a.id, "execution_id": a.execution_id, "step_id": a.step_id,
        "decision": a.status, "approved": approved, "reason": a.reason, "decided_by": a.decided_by,
        "entity": a.entity, "entity_id": a.entity_id, "approver_role": a.approver_role,
    });
    state
        .engine
        .ingest(
            &caller.scope,
            "approval.decision",
            &event,
            Some("weir"),
            Some(&format!("approval:{}", a.id)),
        )
        .await?;
    Ok(Json(approval_of(a)?))
}

/// Whether the caller may decide as `role`: a signed-in user who is a member of the scope's
/// team `role`, or a key or user whose permission role is `role`.
async fn approver(state: &AppState, caller: &Caller, role: &str) -> ApiResult<bool> {
    if caller.who.role.as_str() == role {
        return Ok(true);
    }
    if !matches!(caller.who.principal, Principal::User { .. }) {
        return Ok(false);
    }
    let team = state.store.team(&caller.scope, role).await?;
    Ok(team.is_some_and(|t| {
        t.members
            .iter()
            .any(|m| m.id == caller.who.id && m.disabled_ms.is_none())
    }))
}

/// Approve
///
/// Once: a decided approval answers 409, an expired one too (it took its step's `on_timeout`
/// path). Needs `approvals:decide` and, when it names an `approver_role`, membership of that
/// team (or that role); an `admin` may override, audited.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/approve", tag = "approvals",
    request_body(content = DecisionRequest, description = "Why (optional)"),
    responses((status = 200, body = Approval)))]
async fn approve(
    caller: Auth<need::Decide>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    OptionalBody(request): OptionalBody<DecisionRequest>,
) -> ApiResult<Json<Approval>> {
    decide(&state, &caller, &id, request, true).await
}

/// Reject
///
/// Once, as approving. Needs `approvals:decide`.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/reject", tag = "approvals",
    request_body(content = DecisionRequest, description = "Why (optional)"),
    responses((status = 200, body = Approval)))]
async fn reject(
    caller: Auth<need::Decide>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    OptionalBody(request): OptionalBody<DecisionRequest>,
) -> ApiResult<Json<Approval>> {
    decide(&state, &caller, &id, request, false).await
}
