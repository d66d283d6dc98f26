//! The one error type of the API: an [`ErrorCode`] (which decides the status), a message, and
//! details naming what is wrong; answered as `{"error": {"code", "message", "details"}}`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use weir_api_types::{Detail, ErrorBody, ErrorCode, ErrorInfo};

#[derive(Debug)]
pub struct ApiError {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    pub(crate) details: Vec<Detail>,
    /// Seconds to wait, for 429.
    pub(crate) retry_after: Option<u64>,
}

pub type ApiResult<T = Response> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Vec<Detail>) -> Self {
        self.details = details;
        self
    }

    /// 500, for what the caller cannot have caused; the cause is logged where it is known.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 400: a body that does not read as a document, with the line and column of a syntax
    /// error, as the CLI gives them.
    pub fn malformed(e: weir_core::document::DocumentError) -> Self {
        use weir_core::document::DocumentError;
        if let DocumentError::TooLarge { limit, .. } = e {
            return Self::too_large(limit);
        }
        let mut err = Self::new(ErrorCode::Malformed, e.to_string());
        if let DocumentError::Syntax {
            line: Some(line),
            column: Some(column),
            ..
        } = e
        {
            err.message = format!("{} (line {line}, column {column})", err.message);
            err.details = vec![Detail {
                line: Some(line as u64),
                column: Some(column as u64),
                ..Detail::new("$", e.to_string())
            }];
        }
        err
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            ErrorCode::TooLarge,
            format!("the body is larger than {limit} bytes"),
        )
    }

    /// 422: the body is well-formed but a field is wrong; `details` name the fields.
    pub fn invalid(message: impl Into<String>, details: Vec<Detail>) -> Self {
        Self::new(ErrorCode::Invalid, message).with_details(details)
    }

    /// 422 naming one field.
    pub fn invalid_field(path: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::invalid(message.clone(), vec![Detail::new(path, message)])
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("no {what} with that id"))
    }

    /// The body of this error, as sent.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorInfo {
                code: self.code,
                message: self.message.clone(),
                details: self.details.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

/// A store error as the API answers it, NotFound naming what was not there.
pub fn missing(what: &'static str) -> impl Fn(weir_store::Error) -> ApiError {
    move |e| match e {
        weir_store::Error::NotFound => ApiError::not_found(what),
        other => other.into(),
    }
}

impl From<weir_store::Error> for ApiError {
    fn from(e: weir_store::Error) -> Self {
        match e {
            weir_store::Error::NotFound => ApiError::not_found("object"),
            weir_store::Error::Conflict(m) => ApiError::conflict(m),
            e @ weir_store::Error::Taken(_) => ApiError::conflict(e.to_string()),
            other => {
                // The cause goes to the log, not to the caller.
                tracing::error!("internal error: {other}");
                ApiError::internal()
            }
        }
    }
}

impl From<weir_engine::Error> for ApiError {
    fn from(e: weir_engine::Error) -> Self {
        match e {
            weir_engine::Error::Invalid(diags) => {
                ApiError::new(ErrorCode::InvalidWorkflow, "the workflow is not valid")
                    .with_details(diags.iter().map(Detail::from).collect())
            }
            weir_engine::Error::Store(s) => s.into(),
            e @ weir_engine::Error::KeyReused(_) => ApiError::conflict(e.to_string()),
            other => {
                tracing::error!("internal error: {other}");
                ApiError::internal()
            }
        }
    }
}

/// 422 unless `value` satisfies a tenant's JSON Schema; the details name each failing path
/// under `root` (like `$.input`).
pub fn check_schema(
    schema: &serde_json::Value,
    value: &serde_json::Value,
    root: &str,
    message: &str,
) -> ApiResult<()> {
    let validator = jsonschema::validator_for(schema).map_err(|_| ApiError::internal())?;
    let details: Vec<Detail> = validator
        .iter_errors(value)
        .take(20)
        .map(|e| {
            let path = format!("{root}{}", e.instance_path()).replace('/', ".");
            Detail::new(path, e.to_string())
        })
        .collect();
    match details.is_empty() {
        true => Ok(()),
        false => Err(ApiError::invalid(message, details)),
    }
}
