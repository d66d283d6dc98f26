//! Reading request bodies: one reader under the server's body limit (413 at once when the
//! `Content-Length` is over it, 408 when a body does not arrive in time, 415 for another media
//! type, 400 with line and column for malformed text), and the extractors handlers take:
//! [`JsonBody`] (a typed JSON body; a wrong field answers 422 naming its path), [`OptionalBody`]
//! (the same, where an empty body is the default) and [`Document`] (JSON or YAML, for
//! definitions).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use weir_api_types::{Detail, ErrorCode};
use weir_core::Format;

use crate::{ApiError, ApiResult, AppState};

/// The default largest request body (a definition or an event is at most 1 MiB of JSON).
pub const DEFAULT_MAX_BODY_BYTES: usize = weir_core::document::MAX_DOCUMENT_BYTES;

/// The longest a client may take to send a request's body. (A handler's own waits are
/// bounded: a synchronous event by [`crate::MAX_WAIT_MS`].) Only a body still arriving arms
/// the timer, so the common case costs nothing.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// A request's bytes under `limit`.
pub async fn read_bytes(body: Body, limit: usize) -> ApiResult<axum::body::Bytes> {
    if axum::body::HttpBody::size_hint(&body).lower() > limit as u64 {
        return Err(ApiError::too_large(limit));
    }
    tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorCode::RequestTimeout,
                format!(
                    "the body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            )
        })?
        .map_err(|_| ApiError::too_large(limit))
}

/// A body as a JSON value: JSON (or YAML where `yaml`); `Null` for an empty body when
/// `optional`.
pub async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    yaml: bool,
    optional: bool,
) -> ApiResult<Value> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let format = if kind.is_empty() {
        None
    } else if kind.contains("json") {
        Some(Format::Json)
    } else if yaml && kind.contains("yaml") {
        Some(Format::Yaml)
    } else {
        let accepted = if yaml {
            "application/json or application/yaml"
        } else {
            "application/json"
        };
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("send {accepted}"),
        ));
    };
    let bytes = read_bytes(body, state.max_body_bytes).await?;
    if optional && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    // Without a media type, JSON unless YAML is taken (then sniffed).
    let format = format.or((!yaml).then_some(Format::Json));
    let value = weir_core::document::load_value_within(&bytes, format, state.max_body_bytes)
        .map_err(ApiError::malformed)?;
    // An optional body is left out, not `null`: only an absent one reads as nothing.
    if optional && value.is_null() {
        return Err(ApiError::bad_request(
            "the body must be a JSON object, or left out",
        ));
    }
    Ok(value)
}

/// A JSON value read into `T`: 422 naming the first field that does not fit, by its JSON
/// path (`$.members[2]`), with serde's account of what was expected.
pub fn from_value<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    if !value.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = match path.as_str() {
            "." | "" => "$".to_owned(),
            p if p.starts_with('[') => format!("${p}"),
            p => format!("$.{p}"),
        };
        let message = e.into_inner().to_string();
        ApiError::invalid(
            format!("the body is invalid: {message}"),
            vec![Detail::new(path, message)],
        )
    })
}

/// A typed JSON body (required).
#[allow(dead_code)] // until the access handlers take typed bodies
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> ApiResult<Self> {
        let (parts, body) = req.into_parts();
        let value = read_body(state, &parts.headers, body, false, false).await?;
        from_value(value).map(JsonBody)
    }
}

/// A typed JSON body that may be left out (an empty body reads as `T::default()`).
pub struct OptionalBody<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<Arc<AppState>> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> ApiResult<Self> {
        let (parts, body) = req.into_parts();
        match read_body(state, &parts.headers, body, false, true).await? {
            Value::Null => Ok(OptionalBody(T::default())),
            value => from_value(value).map(OptionalBody),
        }
    }
}

/// A JSON or YAML document (a workflow or rule definition) as a JSON value.
pub struct Document(pub Value);

impl FromRequest<Arc<AppState>> for Document {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> ApiResult<Self> {
        let (parts, body) = req.into_parts();
        read_body(state, &parts.headers, body, true, false)
            .await
            .map(Document)
    }
}

/// A JSON object body with only the fields named (422 naming any other). With `optional`,
/// an empty body reads as an empty object. For bodies whose checks go beyond their type's.
pub async fn read_object(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    fields: &[&str],
    optional: bool,
) -> ApiResult<serde_json::Map<String, Value>> {
    let map = match read_body(state, headers, body, false, optional).await? {
        Value::Null if optional => serde_json::Map::new(),
        Value::Object(map) => map,
        _ => return Err(ApiError::bad_request("the body must be a JSON object")),
    };
    let unknown: Vec<Detail> = map
        .keys()
        .filter(|k| !fields.contains(&k.as_str()))
        .map(|k| {
            Detail::new(
                format!("$.{k}"),
                format!("unknown field '{k}'; the body takes {}", fields.join(", ")),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid("the body has unknown fields", unknown));
    }
    Ok(map)
}

/// A definition sent to an object's path (PUT): the path's id when the body names none under
/// `key` or `id`; 422 when it names another.
pub fn with_path_id(mut definition: Value, id: &str, key: &str) -> ApiResult<Value> {
    let Some(map) = definition.as_object_mut() else {
        return Ok(definition);
    };
    for k in [key, "id"] {
        if let Some(given) = map.get(k)
            && given != id
        {
            return Err(ApiError::invalid(
                "the body names another object than the path",
                vec![Detail::new(
                    format!("$.{k}"),
                    format!("'{id}', as in the path, or left out"),
                )],
            ));
        }
    }
    if !map.contains_key("id") {
        map.insert(key.to_owned(), Value::from(id));
    }
    Ok(definition)
}
