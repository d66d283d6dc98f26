//! Retention: finished executions (with their steps and events), sent mail, expired sessions
//! and passed webhook windows are deleted once older than `--retain-executions` or an
//! environment's own `retention` setting; audit records once older than `--retain-audit`.
//! Running executions are never deleted.
//!
//! A pass goes through every environment in small batches, each a short transaction of its
//! own, and rests between batches as long as the batch took, so that the writers of live work
//! never wait behind more than one batch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::Detail;
use weir_api_types::settings::{RetentionSettingRequest, RetentionSettingView};
use weir_store::{Pruned, Scope, Store};

use crate::access::{Auth, audit, need};
use crate::body::JsonBody;
use crate::{ApiError, ApiResult, AppState, time_text};

/// How long what retention covers is kept: `None` is for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub executions: Option<weir_core::Duration>,
    pub audit: Option<weir_core::Duration>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            executions: Some(DEFAULT_EXECUTIONS),
            audit: Some(DEFAULT_AUDIT),
        }
    }
}

/// The default of `--retain-executions`: 30 days.
pub const DEFAULT_EXECUTIONS: weir_core::Duration = weir_core::Duration::from_secs(30 * 86_400);
/// The default of `--retain-audit`: 400 days (a year and the month it is looked at in).
pub const DEFAULT_AUDIT: weir_core::Duration = weir_core::Duration::from_secs(400 * 86_400);
/// The shortest retention an environment may set.
const SHORTEST: weir_core::Duration = weir_core::Duration::from_secs(60);
/// The shortest retention of the server's options (seconds, to watch it work).
const SHORTEST_OPTION: weir_core::Duration = weir_core::Duration::from_secs(1);

/// Reads a retention option: a duration of a second or more, or `off` (kept for ever).
pub fn parse(text: &str, what: &str) -> Result<Option<weir_core::Duration>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    at_least(text, SHORTEST_OPTION, "a second")
        .map(Some)
        .map_err(|e| format!("{what}: {e}; give a duration like 30d, or off"))
}

/// A duration of `shortest` or more.
fn at_least(
    text: &str,
    shortest: weir_core::Duration,
    named: &str,
) -> Result<weir_core::Duration, String> {
    let d = weir_core::Duration::parse(text)?;
    if d < shortest {
        return Err(format!("'{text}' is shorter than {named}"));
    }
    Ok(d)
}

/// Rows a batch deletes of each kind, at most.
const BATCH: i64 = 64;

/// How often a pass starts: a tenth of the shortest retention, from a second to a minute.
fn interval(r: &Retention) -> Duration {
    let shortest = r
        .executions
        .into_iter()
        .chain(r.audit)
        .map(|d| d.as_millis() / 10)
        .min()
        .unwrap_or(60_000);
    Duration::from_millis(shortest.clamp(1_000, 60_000))
}

/// Prunes until `stop`: a pass at start, then one every [`interval`].
pub async fn run(
    store: Arc<dyn Store>,
    retention: Retention,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let every = interval(&retention);
    loop {
        match pass(store.as_ref(), &retention, &mut stop).await {
            Ok(done) if done.total() > 0 => tracing::info!(
                executions = done.executions,
                steps = done.steps,
                events = done.events,
                mail = done.mail,
                sessions = done.sessions,
                webhook_deliveries = done.deliveries,
                audit = done.audit,
                "retention deleted what had outlived its time"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!("retention: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// One pass over every environment, batch after batch until nothing is left to delete.
async fn pass(
    store: &dyn Store,
    retention: &Retention,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<Pruned, weir_store::Error> {
    let mut total = Pruned::default();
    let now = store.now_ms().await?;
    for scope in store.scopes().await? {
        let keep = match scope_retention(store, &scope).await {
            Ok(Some(own)) => Some(own),
            Ok(None) => retention.executions,
            Err(e) => {
                tracing::error!(
                    tenant = scope.tenant,
                    environment = scope.environment,
                    "retention: cannot read the environment's setting: {e}"
                );
                continue;
            }
        };
        let Some(keep) = keep else { continue };
        let before = now.saturating_sub(keep.as_millis() as i64);
        loop {
            if *stop.borrow() {
                return Ok(total);
            }
            let started = Instant::now();
            let done = store.prune_scope(&scope, before, BATCH).await?;
            count(&done);
            total.add(done);
            if !full(&done) {
                break;
            }
            rest(started).await;
        }
    }
    let audit_before = match retention.audit {
        Some(keep) => now.saturating_sub(keep.as_millis() as i64),
        None => i64::MIN,
    };
    loop {
        if *stop.borrow() {
            break;
        }
        let started = Instant::now();
        let done = store.prune_shared(audit_before, BATCH).await?;
        count(&done);
        total.add(done);
        if !full(&done) {
            break;
        }
        rest(started).await;
    }
    Ok(total)
}

/// Whether a batch found as much as it could take, so more may be waiting.
fn full(p: &Pruned) -> bool {
    let most = BATCH as u64;
    p.executions >= most
        || p.events >= most
        || p.mail >= most
        || p.sessions >= most
        || p.deliveries >= most
        || p.audit >= most
}

/// Rests as long as the batch took (at least 5 ms): pruning takes at most half of the
/// database's writing time.
async fn rest(started: Instant) {
    tokio::time::sleep(started.elapsed().max(Duration::from_millis(5))).await;
}

fn count(p: &Pruned) {
    for (kind, n) in [
        ("executions", p.executions),
        ("steps", p.steps),
        ("events", p.events),
        ("mail", p.mail),
        ("sessions", p.sessions),
        ("webhook_deliveries", p.deliveries),
        ("audit", p.audit),
    ] {
        if n > 0 {
            metrics::counter!("weir_retention_deleted_total", "kind" => kind).increment(n);
        }
    }
}

/// The name of the scope setting.
const SETTING: &str = "retention";

#[derive(Serialize, Deserialize)]
struct Stored {
    executions: String,
}

/// The environment's own retention of executions, if it has one.
async fn scope_retention(
    store: &dyn Store,
    scope: &Scope,
) -> Result<Option<weir_core::Duration>, weir_store::Error> {
    let Some(setting) = store.scope_setting(scope, SETTING).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_value::<Stored>(setting.value)
        .ok()
        .and_then(|s| weir_core::Duration::parse(&s.executions).ok()))
}

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(get_setting, put_setting, delete_setting))
}

fn view(state: &AppState, own: Option<(String, i64)>) -> RetentionSettingView {
    let server = state.retention.executions.map(|d| d.to_string());
    RetentionSettingView {
        effective: own.as_ref().map(|(text, _)| text.clone()).or(server),
        updated_at: own.as_ref().map(|(_, ms)| time_text(*ms)),
        executions: own.map(|(text, _)| text),
    }
}

async fn own_setting(state: &AppState, scope: &Scope) -> ApiResult<Option<(String, i64)>> {
    Ok(match state.store.scope_setting(scope, SETTING).await? {
        Some(s) => {
            let stored: Stored =
                serde_json::from_value(s.value).map_err(|_| ApiError::internal())?;
            Some((stored.executions, s.updated_ms))
        }
        None => None,
    })
}

/// How long this environment keeps finished executions
///
/// Its own setting (`executions`, `null` when it follows the server's `--retain-executions`)
/// and what applies (`effective`, `null` for ever). Needs `admin`.
#[utoipa::path(get, path = "/api/v1/settings/retention", tag = "settings",
    responses((status = 200, body = RetentionSettingView)))]
async fn get_setting(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<RetentionSettingView>> {
    let own = own_setting(&state, &caller.scope).await?;
    Ok(Json(view(&state, own)))
}

/// Set how long this environment keeps finished executions
///
/// Finished executions with their steps and events, and sent mail, are deleted once older
/// than this (running executions never are); from one minute to 100 years. Audited. Needs
/// `admin`.
#[utoipa::path(put, path = "/api/v1/settings/retention", tag = "settings",
    request_body = RetentionSettingRequest,
    responses((status = 200, body = RetentionSettingView)))]
async fn put_setting(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<RetentionSettingRequest>,
) -> ApiResult<Json<RetentionSettingView>> {
    let text = request.executions.trim().to_owned();
    let parsed = if text.len() > 40 {
        Err("at most 40 characters".to_owned())
    } else {
        at_least(&text, SHORTEST, "a minute")
    };
    if let Err(message) = parsed {
        return Err(ApiError::invalid(
            format!("executions is not a retention: {message}"),
            vec![Detail::new("$.executions", message)],
        ));
    }
    let value = serde_json::to_value(Stored {
        executions: text.clone(),
    })
    .map_err(|_| ApiError::internal())?;
    let stored = state
        .store
        .put_scope_setting(&caller.scope, SETTING, &value)
        .await?;
    audit(&state, &caller, "setting.update", SETTING, Some(value)).await?;
    Ok(Json(view(&state, Some((text, stored.updated_ms)))))
}

/// Follow the server's retention again
///
/// Removes the environment's own setting. Audited. Needs `admin`.
#[utoipa::path(delete, path = "/api/v1/settings/retention", tag = "settings",
    responses((status = 204)))]
async fn delete_setting(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<StatusCode> {
    crate::access::remove_setting(&state, &caller, SETTING, "retention setting").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_options_read_durations_and_off() {
        assert_eq!(
            parse("30d", "--retain-executions").unwrap(),
            Some(DEFAULT_EXECUTIONS)
        );
        assert_eq!(parse("off", "--retain-executions").unwrap(), None);
        let short = parse("500ms", "--retain-executions").unwrap_err();
        assert!(short.contains("shorter than a second"), "{short}");
        let bad = parse("soon", "--retain-audit").unwrap_err();
        assert!(bad.starts_with("--retain-audit: "), "{bad}");
    }

    #[test]
    fn passes_come_at_a_tenth_of_the_shortest_retention() {
        assert_eq!(interval(&Retention::default()), Duration::from_secs(60));
        let short = Retention {
            executions: Some(weir_core::Duration::from_secs(60)),
            audit: None,
        };
        assert_eq!(interval(&short), Duration::from_secs(6));
        let none = Retention {
            executions: None,
            audit: None,
        };
        assert_eq!(interval(&none), Duration::from_secs(60));
    }
}
