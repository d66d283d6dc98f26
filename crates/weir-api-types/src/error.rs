//! The one error shape: `{"error": {"code", "message", "details"}}`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::wire_enum! {
    /// What went wrong, for a program to act on; each code has one HTTP status.
    ErrorCode {
        /// 400: a query parameter, path or body that cannot be read as asked.
        BadRequest = "bad_request",
        /// 400: a body that is not JSON (or YAML where taken); details give line and column.
        Malformed = "malformed",
        /// 401: no valid API key or session (or a wrong email or password).
        Unauthorized = "unauthorized",
        /// 403: the caller's role does not allow it.
        Forbidden = "forbidden",
        /// 404: no such object in the caller's tenant and environment, or no such endpoint.
        NotFound = "not_found",
        /// 405.
        MethodNotAllowed = "method_not_allowed",
        /// 408: the body did not arrive in time.
        RequestTimeout = "request_timeout",
        /// 409: conflicts with the object's state (decided already, in use, taken, reused key).
        Conflict = "conflict",
        /// 409: a webhook delivery seen before (its signature's timestamp and body).
        Replayed = "replayed",
        /// 413: the body is larger than the server takes.
        TooLarge = "too_large",
        /// 415: not JSON (or YAML where taken).
        UnsupportedMediaType = "unsupported_media_type",
        /// 422: well-formed, but a field is wrong; details name each.
        Invalid = "invalid",
        /// 422: the workflow definition is not valid; details are its diagnostics.
        InvalidWorkflow = "invalid_workflow",
        /// 422: the event is not valid; details name each field.
        InvalidEvent = "invalid_event",
        /// 429: over the key's rate limit; see `Retry-After`.
        RateLimited = "rate_limited",
        /// 500: nothing the caller did; the cause is in the server's log.
        Internal = "internal",
        /// 503: something the server needs is not there (the secrets' master key, say).
        Unavailable = "unavailable",
    }
}

impl ErrorCode {
    /// The HTTP status this code answers with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::Malformed => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::Conflict | ErrorCode::Replayed => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Invalid | ErrorCode::InvalidWorkflow | ErrorCode::InvalidEvent => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

/// Every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorInfo {
    pub code: ErrorCode,
    pub message: String,
    /// What exactly is wrong, one entry per field or diagnostic (may be empty).
    pub details: Vec<Detail>,
}

/// One thing wrong with a request: where (a JSON path into the body, `$` for all of it) and
/// what; for a definition, the diagnostic's code and severity; for a syntax error, its line
/// and column.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct Detail {
    pub path: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub column: Option<u64>,
    /// A change that would resolve it, when one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub fix: Option<SuggestedFix>,
}

crate::wire_enum! {
    Severity { Error = "error", Warning = "warning" }
}

crate::wire_enum! {
    /// How a fix changes the document, at the diagnostic's `path`.
    FixOp {
        /// Put `value` there.
        Replace = "replace",
        /// Rename the field there to `to`.
        Rename = "rename",
        /// Add `field` with the example `value` to the object there.
        Add = "add",
    }
}

/// A fix for a diagnostic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SuggestedFix {
    pub op: FixOp,
    /// `replace` and `add`: the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value: Option<serde_json::Value>,
    /// `rename`: the new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub to: Option<String>,
    /// `add`: the missing field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// Whether it is sure to be what was meant (a misspelling with one close match), so it
    /// can be applied unseen; an example value for a missing field is not.
    pub certain: bool,
    pub description: String,
}

impl From<&weir_core::Fix> for SuggestedFix {
    fn from(f: &weir_core::Fix) -> Self {
        let (op, value, to, field) = match f {
            weir_core::Fix::Replace { value } => (FixOp::Replace, Some(value.clone()), None, None),
            weir_core::Fix::Rename { to } => (FixOp::Rename, None, Some(to.clone()), None),
            weir_core::Fix::Add { field, value } => {
                (FixOp::Add, Some(value.clone()), None, Some(field.clone()))
            }
        };
        SuggestedFix {
            op,
            value,
            to,
            field,
            certain: f.is_certain(),
            description: f.describe(),
        }
    }
}

impl Detail {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Detail {
            path: path.into(),
            message: message.into(),
            ..Detail::default()
        }
    }
}

impl From<&weir_core::Diagnostic> for Detail {
    /// The one mapping of a definition's diagnostic to the API's shape.
    fn from(d: &weir_core::Diagnostic) -> Self {
        Detail {
            path: d.path.clone(),
            message: d.message.clone(),
            code: Some(d.code.to_string()),
            severity: Some(match d.severity {
                weir_core::Severity::Error => Severity::Error,
                weir_core::Severity::Warning => Severity::Warning,
            }),
            line: None,
            column: None,
            fix: d.fix.as_ref().map(SuggestedFix::from),
        }
    }
}
