//! What actions write inside Weir, over the API: records and their notes, in-app
//! notifications, the email outbox and email templates.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A record: an entity's fields, by type and id (a customer's credit limit, say), for
/// workflows to read and write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Record {
    pub entity_type: String,
    pub entity_id: String,
    pub fields: Map<String, Value>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A note on a record, as an `add_note` step wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Note {
    pub id: String,
    pub entity_type: String,
    pub entity_id: String,
    pub note: String,
    /// As the step said (`internal` by default).
    pub visibility: String,
    /// The run that wrote it.
    pub execution_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// `GET /api/v1/records/{type}/{id}`: the record and its notes, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecordDetail {
    #[serde(flatten)]
    pub record: Record,
    pub notes: Vec<Note>,
}

/// `GET /api/v1/records/{type}`: by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecordList {
    pub records: Vec<Record>,
    /// The `cursor` of the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// `PUT /api/v1/records/{type}/{id}`: the fields, replacing the record's (or merged into
/// them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"fields": {"name": "Acme", "credit_limit": 5000}, "merge": true}))]
pub struct RecordRequest {
    pub fields: Map<String, Value>,
    /// Merge into the fields the record has (default: replace them).
    #[serde(default)]
    pub merge: Option<bool>,
}

/// `DELETE /api/v1/records/{type}/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecordDeleted {
    pub entity_type: String,
    pub entity_id: String,
    pub deleted: bool,
}

/// `GET /api/v1/records/{type}`'s query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

crate::wire_enum! {
    /// How a kept notification reaches its recipient: in the app. (A `notify` step's email
    /// and webhook deliveries go out at once; the recipients no channel reaches are kept in
    /// the app.)
    NotificationChannel { InApp = "in_app" }
}

/// An in-app notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: String,
    /// A user's email, a role, or another name the step gave.
    pub recipient: String,
    pub channel: NotificationChannel,
    pub subject: Option<String>,
    pub message: String,
    pub link: Option<String>,
    /// The run that sent it.
    pub execution_id: Option<String>,
    /// When it was marked read; `null` while unread.
    #[schema(format = DateTime)]
    pub read_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// `GET /api/v1/notifications`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/notifications`'s query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only this recipient's (a signed-in user sees its own whatever this says).
    pub recipient: Option<String>,
    /// Only unread ones.
    pub unread: Option<bool>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Items per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

crate::wire_enum! {
    /// Where an email stands.
    EmailStatus {
        /// Kept: this server has no SMTP server to send it through.
        Outbox = "outbox",
        /// Being handed to the SMTP server.
        Sending = "sending",
        Sent = "sent",
        /// The SMTP server refused it; `error` says why.
        Failed = "failed",
    }
}

/// An email as composed (secrets in it redacted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmailMessage {
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reply_to: Option<String>,
    pub subject: String,
    /// The plain-text body (empty when there is only HTML).
    pub text: String,
    pub html: Option<String>,
}

/// An email in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Email {
    pub id: String,
    pub message: EmailMessage,
    pub status: EmailStatus,
    /// Why sending failed.
    pub error: Option<String>,
    /// The run that sent it.
    pub execution_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `GET /api/v1/outbox`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmailList {
    pub emails: Vec<Email>,
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/outbox`'s query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only emails in this state.
    pub status: Option<EmailStatus>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Items per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// An email template: its texts are templates (`{{variables.name}}`), rendered when a
/// `send_email` or `notify` step names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmailTemplate {
    pub name: String,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `GET /api/v1/email-templates`: by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmailTemplateList {
    pub email_templates: Vec<EmailTemplate>,
}

/// `POST /api/v1/email-templates`: a new template; `text`, `html` or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "welcome", "subject": "Welcome, {{variables.name}}", "text": "Hello {{variables.name}}!"}))]
pub struct EmailTemplateRequest {
    /// Letters, digits, `_`, `-` and `.`.
    #[schema(pattern = r"^[A-Za-z0-9_.-]{1,100}$")]
    pub name: String,
    /// One line.
    #[schema(min_length = 1, max_length = 998)]
    pub subject: String,
    /// The plain-text body.
    #[serde(default)]
    #[schema(max_length = 262144)]
    pub text: Option<String>,
    /// The HTML body.
    #[serde(default)]
    #[schema(max_length = 262144)]
    pub html: Option<String>,
}

/// `PUT /api/v1/email-templates/{id}`: a template's texts, replacing its own; `text`, `html`
/// or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "Welcome, {{variables.name}}", "text": "Hello {{variables.name}}!"}))]
pub struct EmailTemplateUpdate {
    /// One line.
    #[schema(min_length = 1, max_length = 998)]
    pub subject: String,
    /// The plain-text body.
    #[serde(default)]
    #[schema(max_length = 262144)]
    pub text: Option<String>,
    /// The HTML body.
    #[serde(default)]
    #[schema(max_length = 262144)]
    pub html: Option<String>,
}

/// `DELETE /api/v1/email-templates/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmailTemplateDeleted {
    pub name: String,
    pub deleted: bool,
}
