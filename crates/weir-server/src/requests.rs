//! A span per HTTP request: its method, route (the pattern, never the ids in the path) and
//! request id; the request's line adds its status and duration. The id is the caller's `X-Request-Id` when it is a plain token, else
//! a new one; it is echoed in the answer, so a client can quote it and an operator find every
//! log line of that request. A request that fails on the server is logged as an error; the
//! others at `debug` (a line per request at `info` would cost a busy node more than its work).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub(crate) const REQUEST_ID: &str = "x-request-id";

/// A request id as given: 1 to 128 letters, digits, `-`, `_`, `.` or `:`.
fn plain(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A method as a metric's label: the ones HTTP defines, any other as `other` (a client picks
/// the method, and a label must not take any value a client sends).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub(crate) async fn trace(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| plain(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    // The matched route is shared text: taking it costs a count, not a copy.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let method = request.method().clone();
    // The status and duration go on the request's own log line, not on the span: recording them
    // there would format the span's fields again on every request for no line that shows them.
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        request_id = %id,
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if weir_engine::telemetry::enabled() {
        metrics::counter!(
            "weir_http_requests_total",
            "method" => method_label(&method),
            "route" => route.to_owned(),
            "status" => status.to_string()
        )
        .increment(1);
        metrics::histogram!("weir_http_request_duration_seconds", "route" => route.to_owned())
            .record(ms / 1000.0);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, duration_ms = ms, "request failed");
        } else {
            tracing::debug!(status, duration_ms = ms, "request");
        }
    });
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_ids_are_taken() {
        assert!(super::plain("req-42_a.b:c"));
        assert!(!super::plain(""));
        assert!(!super::plain("a b"));
        assert!(!super::plain("x\u{7f}"));
        assert!(!super::plain(&"a".repeat(129)));
    }
}
