//! What actions write inside Weir, over the API: records and their notes, in-app
//! notifications, the email outbox and email templates.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use weir_store::{EmailTemplate, NotificationFilter, RecordWrite};

use crate::access::{Perm, Principal, audit, authorize_for, required, text};
use crate::params::{Params, next_cursor};
use crate::{ApiError, ApiResult, AppState, read_object, time};
use weir_api_types::Detail;

/// This module's routes. (Not yet typed: their operations come from the hand-written
/// document in `openapi.rs`.)
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<Arc<AppState>> {
    use axum::routing::{get, post};
    utoipa_axum::router::OpenApiRouter::new()
        .route("/api/v1/records/{type}", get(list_records))
        .route(
            "/api/v1/records/{type}/{id}",
            get(get_record).put(put_record).delete(delete_record),
        )
        .route("/api/v1/notifications", get(list_notifications))
        .route("/api/v1/notifications/{id}/read", post(read_notification))
        .route("/api/v1/outbox", get(list_outbox))
        .route(
            "/api/v1/email-templates",
            post(post_template).get(list_templates),
        )
        .route(
            "/api/v1/email-templates/{id}",
            get(get_template).put(put_template).delete(delete_template),
        )
}

/// A stored row as the API shows it: `*_ms` times as RFC 3339 `*_at`.
fn shown(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| match k.strip_suffix("_ms") {
                    Some(stem) => (format!("{stem}_at"), json!(time(v.as_i64()))),
                    None => (k, shown(v)),
                })
                .collect::<Map<String, Value>>(),
        ),
        other => other,
    }
}

fn entity_type(t: &str) -> ApiResult<()> {
    if weir_actions::records::valid_type(t) {
        return Ok(());
    }
    Err(ApiError::bad_request(
        "an entity type is letters, digits, '_', '-' and '.', at most 100",
    ))
}

/// `GET /api/v1/records/{type}/{id}`: a record with its notes.
pub async fn get_record(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    entity_type(&kind)?;
    let record = state
        .store
        .record(&caller.scope, &kind, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("record"))?;
    let notes = state.store.notes(&caller.scope, &kind, &id).await?;
    let mut answer = shown(record);
    answer["notes"] = Value::Array(notes.into_iter().map(shown).collect());
    Ok(axum::Json(answer).into_response())
}

/// `GET /api/v1/records/{type}`: records of a type by id; pages by `cursor` (the last id).
pub async fn list_records(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    entity_type(&kind)?;
    let q = Params::new(q, &["cursor", "limit"])?;
    let limit = q.number("limit", 100, 1, 500)?;
    let list = state
        .store
        .records(&caller.scope, &kind, q.text("cursor").as_deref(), limit)
        .await?;
    let next = next_cursor(&list, limit, |r| {
        r["entity_id"].as_str().unwrap_or_default().to_owned()
    });
    let list: Vec<Value> = list.into_iter().map(shown).collect();
    Ok(axum::Json(json!({ "records": list, "next_cursor": next })).into_response())
}

/// `PUT /api/v1/records/{type}/{id}` `{"fields": {...}, "merge"?: bool}`: writes a record
/// (for data workflows read, like a customer's credit limit).
pub async fn put_record(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
    entity_type(&kind)?;
    if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "a record id is 1 to 200 printable characters",
        ));
    }
    let map = read_object(&state, &headers, body, &["fields", "merge"], false).await?;
    let Some(fields @ Value::Object(_)) = map.get("fields") else {
        return Err(ApiError::invalid(
            "fields is required",
            vec![Detail::new("$.fields", "an object")],
        ));
    };
    let merge = match map.get("merge") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::invalid(
                "merge is invalid",
                vec![Detail::new("$.merge", "true or false")],
            ));
        }
    };
    let before = state.store.record(&caller.scope, &kind, &id).await?;
    let (record, created) = state
        .store
        .write_record(
            &caller.scope,
            &RecordWrite {
                entity_type: &kind,
                entity_id: &id,
                fields,
                merge,
                create_only: false,
                op_key: None,
            },
        )
        .await?;
    audit(
        &state,
        &caller,
        "record.put",
        &format!("{kind}/{id}"),
        Some(json!({ "before": before.map(|b| b["fields"].clone()), "after": record["fields"] })),
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(shown(record))).into_response())
}

/// `DELETE /api/v1/records/{type}/{id}`.
pub async fn delete_record(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
    entity_type(&kind)?;
    state
        .store
        .delete_record(&caller.scope, &kind, &id)
        .await
        .map_err(crate::missing("record"))?;
    audit(
        &state,
        &caller,
        "record.delete",
        &format!("{kind}/{id}"),
        None,
    )
    .await?;
    Ok(
        axum::Json(json!({ "entity_type": kind, "entity_id": id, "deleted": true }))
            .into_response(),
    )
}

/// `GET /api/v1/notifications`: newest first; `recipient`, `unread=true`, pages by `cursor`.
/// A signed-in user sees its own.
pub async fn list_notifications(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let q = Params::new(q, &["recipient", "unread", "cursor", "limit"])?;
    let unread_only = match q.text("unread").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::bad_request("unread is true or false")),
    };
    let limit = q.number("limit", 50, 1, 500)?;
    let recipient = match own_recipient(&state, &caller).await? {
        Some(me) => Some(me),
        None => q.text("recipient"),
    };
    let list = state
        .store
        .notifications(
            &caller.scope,
            &NotificationFilter {
                recipient,
                id: None,
                unread_only,
                before: q.text("cursor"),
                limit,
            },
        )
        .await?;
    let next = next_cursor(&list, limit, |n| {
        n["id"].as_str().unwrap_or_default().to_owned()
    });
    let list: Vec<Value> = list.into_iter().map(shown).collect();
    Ok(axum::Json(json!({ "notifications": list, "next_cursor": next })).into_response())
}

/// A signed-in user's email: the recipient its notifications are addressed to.
async fn own_recipient(
    state: &AppState,
    caller: &crate::access::Caller,
) -> ApiResult<Option<String>> {
    if !matches!(caller.who.principal, Principal::User { .. }) {
        return Ok(None);
    }
    let user = state
        .store
        .user(Some(&caller.scope.tenant), &caller.who.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(Some(user.email))
}

/// `POST /api/v1/notifications/{id}/read`.
pub async fn read_notification(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let me = own_recipient(&state, &caller).await?;
    let n = state
        .store
        .mark_notification_read(&caller.scope, &id, me.as_deref())
        .await
        .map_err(crate::missing("notification"))?;
    Ok(axum::Json(shown(n)).into_response())
}

/// `GET /api/v1/outbox`: emails, newest first; `status` (outbox, sending, sent, failed).
pub async fn list_outbox(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let q = Params::new(q, &["status", "cursor", "limit"])?;
    if let Some(s) = q.text("status")
        && !matches!(s.as_str(), "outbox" | "sending" | "sent" | "failed")
    {
        return Err(ApiError::bad_request(
            "status is outbox, sending, sent or failed",
        ));
    }
    let limit = q.number("limit", 50, 1, 500)?;
    let list = state
        .store
        .outbox(
            &caller.scope,
            q.text("status").as_deref(),
            q.text("cursor").as_deref(),
            limit,
        )
        .await?;
    let next = next_cursor(&list, limit, |m| {
        m["id"].as_str().unwrap_or_default().to_owned()
    });
    let list: Vec<Value> = list.into_iter().map(shown).collect();
    Ok(axum::Json(json!({ "emails": list, "next_cursor": next })).into_response())
}

/// A template's name: letters, digits, `_`, `-` and `.`, at most 100.
fn template_name(name: &str) -> ApiResult<()> {
    if weir_actions::records::valid_type(name) {
        return Ok(());
    }
    Err(ApiError::invalid(
        "the template name is invalid",
        vec![Detail::new(
            "$.name",
            "letters, digits, '_', '-' and '.', at most 100",
        )],
    ))
}

/// Reads a template body; each text must parse as a template.
fn template_body(map: &Map<String, Value>, name: String) -> ApiResult<EmailTemplate> {
    let subject = required(text(map, "subject", 998)?, "subject")?;
    let long = |field: &str| -> ApiResult<Option<String>> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() <= 256 * 1024 => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(
                format!("{field} is invalid"),
                vec![Detail::new(
                    format!("$.{field}"),
                    "a string of at most 256 KiB",
                )],
            )),
        }
    };
    let t = EmailTemplate {
        name,
        subject,
        text: long("text")?,
        html: long("html")?,
    };
    if t.text.is_none() && t.html.is_none() {
        return Err(ApiError::invalid(
            "a template needs text or html",
            vec![Detail::new("$.text", "the plain-text body")],
        ));
    }
    for (field, value) in [
        ("subject", Some(&t.subject)),
        ("text", t.text.as_ref()),
        ("html", t.html.as_ref()),
    ] {
        if let Some(v) = value
            && let Err(e) = weir_core::Template::parse(v)
        {
            return Err(ApiError::invalid(
                format!("{field} is not a valid template"),
                vec![Detail::new(format!("$.{field}"), e)],
            ));
        }
    }
    Ok(t)
}

/// `POST /api/v1/email-templates` `{"name", "subject", "text"?, "html"?}` (409 when taken).
pub async fn post_template(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
    let map = read_object(
        &state,
        &headers,
        body,
        &["name", "subject", "text", "html"],
        false,
    )
    .await?;
    let name = required(text(&map, "name", 100)?, "name")?;
    template_name(&name)?;
    let t = template_body(&map, name)?;
    let (stored, _) = state
        .store
        .put_email_template(&caller.scope, &t, true)
        .await?;
    audit(
        &state,
        &caller,
        "email_template.create",
        &t.name,
        Some(stored.clone()),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(shown(stored))).into_response())
}

/// `PUT /api/v1/email-templates/{name}`: replaces a template (404 when there is none).
pub async fn put_template(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
    let before = state
        .store
        .email_templates(&caller.scope, Some(&name))
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("email template"))?;
    let map = read_object(&state, &headers, body, &["subject", "text", "html"], false).await?;
    let t = template_body(&map, name)?;
    let (stored, _) = state
        .store
        .put_email_template(&caller.scope, &t, false)
        .await?;
    audit(
        &state,
        &caller,
        "email_template.update",
        &t.name,
        Some(json!({ "before": before, "after": stored })),
    )
    .await?;
    Ok(axum::Json(shown(stored)).into_response())
}

/// `GET /api/v1/email-templates`.
pub async fn list_templates(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let list = state.store.email_templates(&caller.scope, None).await?;
    let list: Vec<Value> = list.into_iter().map(shown).collect();
    Ok(axum::Json(json!({ "email_templates": list })).into_response())
}

/// `GET /api/v1/email-templates/{name}`.
pub async fn get_template(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let t = state
        .store
        .email_templates(&caller.scope, Some(&name))
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("email template"))?;
    Ok(axum::Json(shown(t)).into_response())
}

/// `DELETE /api/v1/email-templates/{name}`.
pub async fn delete_template(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Write).await?;
    state
        .store
        .delete_email_template(&caller.scope, &name)
        .await
        .map_err(crate::missing("email template"))?;
    audit(&state, &caller, "email_template.delete", &name, None).await?;
    Ok(axum::Json(json!({ "name": name, "deleted": true })).into_response())
}
