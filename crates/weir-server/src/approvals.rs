//! Approvals (seed 000 §5.1, §6.1): list, read, approve and reject. Deciding needs
//! `approvals:decide` and, for an approval with an `approver_role`, a signed-in member of the
//! environment's team of that name, or a caller whose role is that name; a caller with `admin`
//! may decide any, as an override when it is neither. Decisions, overrides and refusals are
//! audited. An approval is decided once (409 after); one that expired took its step's
//! `on_timeout` path and cannot be decided.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use weir_store::{Approval, ApprovalFilter};

use crate::access::{Caller, Perm, Principal, audit, authorize_for};
use crate::params::{Params, next_cursor};
use crate::{ApiError, ApiResult, AppState, read_object, time};

fn approval_json(a: &Approval) -> Value {
    json!({
        "id": a.id, "execution_id": a.execution_id, "step_id": a.step_id, "status": a.status,
        "approver_role": a.approver_role, "entity": a.entity, "entity_id": a.entity_id,
        "message": a.message, "requested_at": time(Some(a.requested_ms)), "expires_at": time(a.expires_ms),
        "decided_by": a.decided_by, "decided_at": time(a.decided_ms), "reason": a.reason,
    })
}

/// `GET /api/v1/approvals`: filters `status`, `entity`, `entity_id`, `role`, `execution_id`;
/// newest first, keyset pages by `cursor`, `limit` up to 500.
pub async fn list_approvals(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
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
    if let Some(s) = q.text("status")
        && !matches!(
            s.as_str(),
            "pending" | "approved" | "rejected" | "expired" | "withdrawn"
        )
    {
        return Err(ApiError::bad_request(
            "status is pending, approved, rejected, expired or withdrawn",
        ));
    }
    let limit = q.number("limit", 50, 1, 500)?;
    let list = state
        .store
        .approvals(
            &caller.scope,
            &ApprovalFilter {
                status: q.text("status"),
                entity: q.text("entity"),
                entity_id: q.text("entity_id"),
                role: q.text("role"),
                execution_id: q.text("execution_id"),
                before: q.text("cursor"),
                limit,
            },
        )
        .await?;
    let next = next_cursor(&list, limit, |a| a.id.clone());
    let list: Vec<Value> = list.iter().map(approval_json).collect();
    Ok(axum::Json(json!({ "approvals": list, "next_cursor": next })).into_response())
}

/// `GET /api/v1/approvals/{id}`.
pub async fn get_approval(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let a = state
        .store
        .approval(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("approval"))?;
    Ok(axum::Json(approval_json(&a)).into_response())
}

async fn decide(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    body: Body,
    approved: bool,
) -> ApiResult {
    let caller = authorize_for(state, headers, Perm::Decide).await?;
    let map = read_object(headers, body, &["reason", "comment"], true).await?;
    let reason = match map.get("reason").or_else(|| map.get("comment")) {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) if r.len() <= 2000 => Some(r.clone()),
        Some(_) => {
            return Err(ApiError::invalid(
                "the reason is invalid",
                vec![
                    json!({ "path": "$.reason", "message": "a string of at most 2000 characters" }),
                ],
            ));
        }
    };
    let verb = if approved { "approve" } else { "reject" };
    let found = state
        .store
        .approval(&caller.scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("approval"))?;
    let role = found.approver_role.as_deref();
    let overriding = match role {
        None => false,
        Some(role) => match approver(state, &caller, role).await? {
            true => false,
            false if caller.may(Perm::Admin) => true,
            false => {
                audit(
                    state,
                    &caller,
                    "approval.refused",
                    id,
                    Some(json!({ "attempted": verb, "approver_role": role, "reason": reason })),
                )
                .await?;
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!(
                        "only members of the team '{role}' decide this approval: sign in as one (or ask an admin)"
                    ),
                ));
            }
        },
    };
    let (_, by) = caller.actor();
    state
        .store
        .decide_approval(&caller.scope, id, approved, by, reason.as_deref())
        .await
        .map_err(|e| match e {
            weir_store::Error::NotFound => ApiError::not_found("approval"),
            weir_store::Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            other => other.into(),
        })?;
    state.engine.nudge();
    let action = if approved {
        "approval.approve"
    } else {
        "approval.reject"
    };
    audit(
        state,
        &caller,
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
    // Seed 000 §4.2: workflows wait for the decision as the event approval.decision. Its
    // idempotency key makes it one event per approval, even if this answer is retried.
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
    Ok(axum::Json(approval_json(&a)).into_response())
}

/// Whether the caller may decide as `role`: a signed-in user who is a member of the scope's
/// team `role`, or a key or user whose permission role is `role`.
async fn approver(state: &AppState, caller: &Caller, role: &str) -> ApiResult<bool> {
    if caller.who.role == role {
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

/// `POST /api/v1/approvals/{id}/approve` `{"reason"?}`.
pub async fn approve(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    decide(&state, &headers, &id, body, true).await
}

/// `POST /api/v1/approvals/{id}/reject` `{"reason"?}`.
pub async fn reject(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    decide(&state, &headers, &id, body, false).await
}
