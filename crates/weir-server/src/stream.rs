//! `GET /api/v1/stream`: Server-Sent Events of what happens in the caller's tenant ×
//! environment (runs started, steps, runs finished, approvals asked for and decided), never
//! another's; filtered by `workflow_id` or `execution_id`; a comment every 15 s keeps idle
//! connections open; `Last-Event-ID` catches up on what this node still keeps.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::stream::{StreamEvent, StreamKind, StreamQuery};
use weir_engine::stream::Happening;

use crate::access::{Auth, need};
use crate::params::Params;
use crate::{ApiError, ApiResult, AppState, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(stream))
}

/// The event as sent, when the stream wants it.
fn event_of(
    h: &Happening,
    scope: &weir_store::Scope,
    q: &(Option<String>, Option<String>),
) -> Option<Event> {
    if h.scope != *scope
        || q.0
            .as_ref()
            .is_some_and(|w| h.workflow_id.as_ref() != Some(w))
        || q.1.as_ref().is_some_and(|e| *e != h.execution_id)
    {
        return None;
    }
    let body = StreamEvent {
        id: h.seq,
        kind: StreamKind::parse(h.kind)?,
        execution_id: h.execution_id.clone(),
        workflow_id: h.workflow_id.clone(),
        at: time_text(h.at_ms),
        data: h.data.clone(),
    };
    Event::default()
        .id(h.seq.to_string())
        .event(h.kind)
        .json_data(body)
        .ok()
}

/// Stream what happens
///
/// Server-Sent Events for the caller's tenant and environment: `execution.started`,
/// `execution.step`, `execution.finished`, `approval.created`, `approval.decided`, each with
/// an `id:`; send the last one back as `Last-Event-ID` to catch up. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/stream", tag = "stream", params(StreamQuery),
    responses((status = 200, description = "Server-Sent Events; each `data:` is a StreamEvent",
        content_type = "text/event-stream", body = StreamEvent)))]
async fn stream(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let q = Params::new(q, &["workflow_id", "execution_id"])?;
    let filter = (q.text("workflow_id"), q.text("execution_id"));
    let after = match headers.get("last-event-id").map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => Some(v.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request("Last-Event-ID is the id of an event of this stream")
        })?),
        Some(Err(_)) => return Err(ApiError::bad_request("Last-Event-ID is not text")),
    };
    let scope = caller.scope.clone();
    let (missed, rx) = state.engine.stream.subscribe(after);
    let closing = state.engine.stream.closing();
    let first: Vec<Event> = missed
        .iter()
        .filter_map(|h| event_of(h, &scope, &filter))
        .collect();
    let live = futures_util::stream::unfold(
        (rx, scope, filter, closing),
        |(mut rx, scope, filter, mut closing)| async move {
            loop {
                if *closing.borrow() {
                    // The node stops: the browser reconnects (to another node, or to this
                    // one once it is back) with Last-Event-ID.
                    return None;
                }
                tokio::select! {
                    got = rx.recv() => match got {
                        Ok(h) => {
                            if let Some(event) = event_of(&h, &scope, &filter) {
                                return Some((Ok(event), (rx, scope, filter, closing)));
                            }
                        }
                        // Too slow a reader misses events; it goes on with the next.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    },
                    changed = closing.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                    }
                }
            }
        },
    );
    let all =
        futures_util::StreamExt::chain(futures_util::stream::iter(first.into_iter().map(Ok)), live);
    Ok(Sse::new(all).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
