//! What actions write inside Weir, over the API: records and their notes, in-app
//! notifications, the email outbox and email templates.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::Detail;
use weir_api_types::records::{
    Email, EmailList, EmailMessage, EmailStatus, EmailTemplate, EmailTemplateDeleted,
    EmailTemplateList, EmailTemplateRequest, EmailTemplateUpdate, Note, Notification,
    NotificationChannel, NotificationList, NotificationQuery, OutboxQuery, Record, RecordDeleted,
    RecordDetail, RecordList, RecordQuery, RecordRequest,
};
use weir_store::{NotificationFilter, RecordWrite};

use crate::access::{Auth, Principal, audit, need, required, text};
use crate::params::{Params, next_cursor};
use crate::{ApiError, ApiResult, AppState, read_object, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_records))
        .routes(routes!(get_record, put_record, delete_record))
        .routes(routes!(list_notifications))
        .routes(routes!(read_notification))
        .routes(routes!(list_outbox))
        .routes(routes!(post_template, list_templates))
        .routes(routes!(get_template, put_template, delete_template))
}

/// A row of the store's (which keeps these as JSON) read into its shape; one that does not
/// fit is the server's fault.
fn row<T: DeserializeOwned>(v: Value, what: &str) -> ApiResult<T> {
    serde_json::from_value(v).map_err(|e| {
        tracing::error!("internal error: a stored {what} that does not read: {e}");
        ApiError::internal()
    })
}

#[derive(Deserialize)]
struct RecordRow {
    entity_type: String,
    entity_id: String,
    fields: Map<String, Value>,
    created_ms: i64,
    updated_ms: i64,
}

fn record_of(v: Value) -> ApiResult<Record> {
    let r: RecordRow = row(v, "record")?;
    Ok(Record {
        entity_type: r.entity_type,
        entity_id: r.entity_id,
        fields: r.fields,
        created_at: time_text(r.created_ms),
        updated_at: time_text(r.updated_ms),
    })
}

#[derive(Deserialize)]
struct NoteRow {
    id: String,
    entity_type: String,
    entity_id: String,
    note: String,
    visibility: String,
    execution_id: Option<String>,
    created_ms: i64,
}

fn note_of(v: Value) -> ApiResult<Note> {
    let n: NoteRow = row(v, "note")?;
    Ok(Note {
        id: n.id,
        entity_type: n.entity_type,
        entity_id: n.entity_id,
        note: n.note,
        visibility: n.visibility,
        execution_id: n.execution_id,
        created_at: time_text(n.created_ms),
    })
}

#[derive(Deserialize)]
struct NotificationRow {
    id: String,
    recipient: String,
    channel: NotificationChannel,
    subject: Option<String>,
    message: String,
    link: Option<String>,
    execution_id: Option<String>,
    read_ms: Option<i64>,
    created_ms: i64,
}

fn notification_of(v: Value) -> ApiResult<Notification> {
    let n: NotificationRow = row(v, "notification")?;
    Ok(Notification {
        id: n.id,
        recipient: n.recipient,
        channel: n.channel,
        subject: n.subject,
        message: n.message,
        link: n.link,
        execution_id: n.execution_id,
        read_at: n.read_ms.map(time_text),
        created_at: time_text(n.created_ms),
    })
}

#[derive(Deserialize)]
struct MailRow {
    id: String,
    message: EmailMessage,
    status: EmailStatus,
    error: Option<String>,
    execution_id: Option<String>,
    created_ms: i64,
    updated_ms: i64,
}

fn email_of(v: Value) -> ApiResult<Email> {
    let m: MailRow = row(v, "email")?;
    Ok(Email {
        id: m.id,
        message: m.message,
        status: m.status,
        error: m.error,
        execution_id: m.execution_id,
        created_at: time_text(m.created_ms),
        updated_at: time_text(m.updated_ms),
    })
}

#[derive(Deserialize)]
struct TemplateRow {
    name: String,
    subject: String,
    text: Option<String>,
    html: Option<String>,
    created_ms: i64,
    updated_ms: i64,
}

fn template_of(v: Value) -> ApiResult<EmailTemplate> {
    let t: TemplateRow = row(v, "email template")?;
    Ok(EmailTemplate {
        name: t.name,
        subject: t.subject,
        text: t.text,
        html: t.html,
        created_at: time_text(t.created_ms),
        updated_at: time_text(t.updated_ms),
    })
}

fn entity_type(t: &str) -> ApiResult<()> {
    if weir_actions::records::valid_type(t) {
        return Ok(());
    }
    Err(ApiError::bad_request(
        "an entity type is letters, digits, '_', '-' and '.', at most 100",
    ))
}

/// A record with its notes
///
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/records/{type}/{id}", tag = "records",
    responses((status = 200, body = RecordDetail)))]
async fn get_record(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Json<RecordDetail>> {
    entity_type(&kind)?;
    let record = state
        .store
        .record(&caller.scope, &kind, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("record"))?;
    let notes = state.store.notes(&caller.scope, &kind, &id).await?;
    Ok(Json(RecordDetail {
        record: record_of(record)?,
        notes: notes.into_iter().map(note_of).collect::<ApiResult<_>>()?,
    }))
}

/// Records of an entity type
///
/// By id; pages by `cursor` (the `next_cursor` of the page before). Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/records/{type}", tag = "records", params(RecordQuery),
    responses((status = 200, body = RecordList)))]
async fn list_records(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(kind): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<RecordList>> {
    entity_type(&kind)?;
    let q = Params::new(q, &["cursor", "limit"])?;
    let limit = q.number("limit", 100, 1, 500)?;
    let list = state
        .store
        .records(&caller.scope, &kind, q.text("cursor").as_deref(), limit)
        .await?;
    let records: Vec<Record> = list.into_iter().map(record_of).collect::<ApiResult<_>>()?;
    let next_cursor = next_cursor(&records, limit, |r| r.entity_id.clone());
    Ok(Json(RecordList {
        records,
        next_cursor,
    }))
}

/// A record request read field by field, so that each wrong field is named as before.
fn record_request(map: Map<String, Value>) -> ApiResult<RecordRequest> {
    let Some(Value::Object(fields)) = map.get("fields") else {
        return Err(ApiError::invalid(
            "fields is required",
            vec![Detail::new("$.fields", "an object")],
        ));
    };
    let merge = match map.get("merge") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::invalid(
                "merge is invalid",
                vec![Detail::new("$.merge", "true or false")],
            ));
        }
    };
    Ok(RecordRequest {
        fields: fields.clone(),
        merge,
    })
}

/// Write a record
///
/// Replaces its fields, or merges into them with `merge: true` (for data workflows read, like
/// a customer's credit limit); 201 when it is new. Needs `workflows:write`.
#[utoipa::path(put, path = "/api/v1/records/{type}/{id}", tag = "records",
    request_body = RecordRequest,
    responses((status = 200, body = Record, description = "Written"),
              (status = 201, body = Record, description = "Made")))]
async fn put_record(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path((kind, id)): Path<(String, String)>,
    request: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<Record>)> {
    entity_type(&kind)?;
    if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "a record id is 1 to 200 printable characters",
        ));
    }
    let (parts, body) = request.into_parts();
    let request = record_request(
        read_object(&state, &parts.headers, body, &["fields", "merge"], false).await?,
    )?;
    let fields = Value::Object(request.fields);
    let before = state.store.record(&caller.scope, &kind, &id).await?;
    let (record, created) = state
        .store
        .write_record(
            &caller.scope,
            &RecordWrite {
                entity_type: &kind,
                entity_id: &id,
                fields: &fields,
                merge: request.merge.unwrap_or(false),
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
    Ok((status, Json(record_of(record)?)))
}

/// Delete a record
///
/// Needs `workflows:write`.
#[utoipa::path(delete, path = "/api/v1/records/{type}/{id}", tag = "records",
    responses((status = 200, body = RecordDeleted)))]
async fn delete_record(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Json<RecordDeleted>> {
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
    Ok(Json(RecordDeleted {
        entity_type: kind,
        entity_id: id,
        deleted: true,
    }))
}

/// In-app notifications
///
/// Newest first; pages by `cursor`. A signed-in user sees its own. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "records", params(NotificationQuery),
    responses((status = 200, body = NotificationList)))]
async fn list_notifications(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<NotificationList>> {
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
    let notifications: Vec<Notification> = list
        .into_iter()
        .map(notification_of)
        .collect::<ApiResult<_>>()?;
    let next_cursor = next_cursor(&notifications, limit, |n| n.id.clone());
    Ok(Json(NotificationList {
        notifications,
        next_cursor,
    }))
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

/// Mark a notification read
///
/// A signed-in user marks its own. Needs `workflows:read`.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "records",
    responses((status = 200, body = Notification)))]
async fn read_notification(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<Notification>> {
    let me = own_recipient(&state, &caller).await?;
    let n = state
        .store
        .mark_notification_read(&caller.scope, &id, me.as_deref())
        .await
        .map_err(crate::missing("notification"))?;
    Ok(Json(notification_of(n)?))
}

/// The email outbox
///
/// Emails, newest first: sent, failed, or kept because no SMTP server is set. Needs
/// `workflows:read`.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "records", params(OutboxQuery),
    responses((status = 200, body = EmailList)))]
async fn list_outbox(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<EmailList>> {
    let q = Params::new(q, &["status", "cursor", "limit"])?;
    if let Some(s) = q.text("status")
        && EmailStatus::parse(&s).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "status is {}",
            EmailStatus::names()
        )));
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
    let emails: Vec<Email> = list.into_iter().map(email_of).collect::<ApiResult<_>>()?;
    let next_cursor = next_cursor(&emails, limit, |m| m.id.clone());
    Ok(Json(EmailList {
        emails,
        next_cursor,
    }))
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

/// A template's texts read field by field; each must parse as a template.
fn template_content(map: &Map<String, Value>) -> ApiResult<EmailTemplateUpdate> {
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
    let t = EmailTemplateUpdate {
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

/// A new template's request read field by field: its name, then its texts.
fn template_request(map: &Map<String, Value>) -> ApiResult<EmailTemplateRequest> {
    let name = required(text(map, "name", 100)?, "name")?;
    template_name(&name)?;
    let t = template_content(map)?;
    Ok(EmailTemplateRequest {
        name,
        subject: t.subject,
        text: t.text,
        html: t.html,
    })
}

/// Stores a template; the stored row and its answer.
async fn store_template(
    state: &AppState,
    scope: &weir_store::Scope,
    name: String,
    t: EmailTemplateUpdate,
    create: bool,
) -> ApiResult<(Value, EmailTemplate)> {
    let t = weir_store::EmailTemplate {
        name,
        subject: t.subject,
        text: t.text,
        html: t.html,
    };
    let (stored, _) = state.store.put_email_template(scope, &t, create).await?;
    let shown = template_of(stored.clone())?;
    Ok((stored, shown))
}

/// Store an email template
///
/// A subject, a text and an HTML body (`text`, `html` or both), each rendered with the
/// template language; 409 when the name is taken. Needs `workflows:write`.
#[utoipa::path(post, path = "/api/v1/email-templates", tag = "records",
    request_body = EmailTemplateRequest,
    responses((status = 201, body = EmailTemplate)))]
async fn post_template(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<EmailTemplate>)> {
    let (parts, body) = request.into_parts();
    let map = read_object(
        &state,
        &parts.headers,
        body,
        &["name", "subject", "text", "html"],
        false,
    )
    .await?;
    let t = template_request(&map)?;
    let name = t.name.clone();
    let content = EmailTemplateUpdate {
        subject: t.subject,
        text: t.text,
        html: t.html,
    };
    let (stored, shown) = store_template(&state, &caller.scope, name, content, true).await?;
    audit(
        &state,
        &caller,
        "email_template.create",
        &shown.name,
        Some(stored),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(shown)))
}

/// Replace an email template
///
/// 404 when there is none (POST makes one). Needs `workflows:write`.
#[utoipa::path(put, path = "/api/v1/email-templates/{id}", tag = "records",
    request_body = EmailTemplateUpdate,
    responses((status = 200, body = EmailTemplate)))]
async fn put_template(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> ApiResult<Json<EmailTemplate>> {
    let before = state
        .store
        .email_templates(&caller.scope, Some(&name))
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("email template"))?;
    let (parts, body) = request.into_parts();
    let map = read_object(
        &state,
        &parts.headers,
        body,
        &["subject", "text", "html"],
        false,
    )
    .await?;
    let t = template_content(&map)?;
    let (stored, shown) = store_template(&state, &caller.scope, name, t, false).await?;
    audit(
        &state,
        &caller,
        "email_template.update",
        &shown.name,
        Some(json!({ "before": before, "after": stored })),
    )
    .await?;
    Ok(Json(shown))
}

/// List email templates
///
/// By name. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/email-templates", tag = "records",
    responses((status = 200, body = EmailTemplateList)))]
async fn list_templates(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<EmailTemplateList>> {
    let list = state.store.email_templates(&caller.scope, None).await?;
    Ok(Json(EmailTemplateList {
        email_templates: list
            .into_iter()
            .map(template_of)
            .collect::<ApiResult<_>>()?,
    }))
}

/// An email template
///
/// Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/email-templates/{id}", tag = "records",
    responses((status = 200, body = EmailTemplate)))]
async fn get_template(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> ApiResult<Json<EmailTemplate>> {
    let t = state
        .store
        .email_templates(&caller.scope, Some(&name))
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("email template"))?;
    Ok(Json(template_of(t)?))
}

/// Delete an email template
///
/// Needs `workflows:write`.
#[utoipa::path(delete, path = "/api/v1/email-templates/{id}", tag = "records",
    responses((status = 200, body = EmailTemplateDeleted)))]
async fn delete_template(
    caller: Auth<need::Write>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> ApiResult<Json<EmailTemplateDeleted>> {
    state
        .store
        .delete_email_template(&caller.scope, &name)
        .await
        .map_err(crate::missing("email template"))?;
    audit(&state, &caller, "email_template.delete", &name, None).await?;
    Ok(Json(EmailTemplateDeleted {
        name,
        deleted: true,
    }))
}
