//! Alerts: `POST /api/v1/alerts` and the rest of their API, and their evaluation. One node at a
//! time (whoever holds the `alerts` lease) measures every enabled alert of every environment
//! each round; an alert that crosses its threshold fires and is told once, and once more when
//! it recovers. The change of state is written only from the state read, so even two
//! evaluators would tell it once.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::Detail;
use weir_api_types::alerts::{
    Alert, AlertChannel, AlertList, AlertMetric, AlertRequest, AlertState,
};
use weir_engine::{ActionContext, Engine};
use weir_store::{AlertRow, Scope, Store};

use crate::access::{Auth, audit, need};
use crate::body::JsonBody;
use crate::{ApiError, ApiResult, AppState, time_text};

/// How often alerts are evaluated by default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// The most alerts an environment may have.
const MAX_ALERTS: usize = 100;
const SHORTEST_WINDOW: weir_core::Duration = weir_core::Duration::from_secs(60);
const LONGEST_WINDOW: weir_core::Duration = weir_core::Duration::from_secs(31 * 86_400);

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(create_alert, list_alerts))
        .routes(routes!(get_alert, put_alert, delete_alert))
}

fn store_metric(m: AlertMetric) -> weir_store::AlertMetric {
    match m {
        AlertMetric::Failures => weir_store::AlertMetric::Failures,
        AlertMetric::FailureRate => weir_store::AlertMetric::FailureRate,
        AlertMetric::DurationP95Ms => weir_store::AlertMetric::DurationP95Ms,
        AlertMetric::PendingApprovals => weir_store::AlertMetric::PendingApprovals,
    }
}

fn view(row: AlertRow) -> ApiResult<Alert> {
    let rule: AlertRequest =
        serde_json::from_value(row.definition).map_err(|_| ApiError::internal())?;
    Ok(Alert {
        id: row.id,
        name: rule.name,
        workflow_id: rule.workflow_id,
        condition: rule.condition,
        notify: rule.notify,
        enabled: rule.enabled,
        state: if row.state == "firing" {
            AlertState::Firing
        } else {
            AlertState::Ok
        },
        value: row.value,
        changed_at: row.changed_ms.map(time_text),
        evaluated_at: row.evaluated_ms.map(time_text),
        created_at: time_text(row.created_ms),
        updated_at: time_text(row.updated_ms),
    })
}

/// Every problem of a rule, each with its JSON path.
async fn check(state: &AppState, scope: &Scope, rule: &mut AlertRequest) -> ApiResult<()> {
    let mut problems: Vec<Detail> = Vec::new();
    rule.name = rule.name.trim().to_owned();
    if rule.name.is_empty() || rule.name.chars().count() > 200 {
        problems.push(Detail::new("$.name", "a name of 1 to 200 characters"));
    }
    if let Some(w) = &rule.workflow_id
        && state.store.workflow(scope, w).await?.is_none()
    {
        problems.push(Detail::new(
            "$.workflow_id",
            format!("there is no workflow '{w}' in this environment"),
        ));
    }
    match weir_core::Duration::parse(&rule.condition.over) {
        Ok(d) if (SHORTEST_WINDOW..=LONGEST_WINDOW).contains(&d) => {
            rule.condition.over = d.to_string();
        }
        Ok(_) => problems.push(Detail::new(
            "$.condition.over",
            "a window from a minute (1m) to 31 days (31d)",
        )),
        Err(e) => problems.push(Detail::new("$.condition.over", e)),
    }
    let above = rule.condition.above;
    if !above.is_finite() || above < 0.0 {
        problems.push(Detail::new("$.condition.above", "a number of 0 or more"));
    } else if rule.condition.metric == AlertMetric::FailureRate && above >= 1.0 {
        problems.push(Detail::new(
            "$.condition.above",
            "a failure rate is a share from 0 to 1: above must be less than 1 (0.05 is 5%)",
        ));
    }
    let recipients = &mut rule.notify.recipients;
    recipients.iter_mut().for_each(|r| *r = r.trim().to_owned());
    if recipients.is_empty() || recipients.len() > 20 {
        problems.push(Detail::new("$.notify.recipients", "1 to 20 recipients"));
    }
    for (i, r) in recipients.iter().enumerate() {
        let path = format!("$.notify.recipients[{i}]");
        if r.is_empty() || r.len() > 320 {
            problems.push(Detail::new(path, "a recipient of 1 to 320 characters"));
            continue;
        }
        if rule.notify.channel == AlertChannel::Webhook {
            let ok = url::Url::parse(r)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                problems.push(Detail::new(path, "a webhook recipient is an http(s) URL"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid("the alert is not valid", problems))
    }
}

/// Create an alert
///
/// Watches a measure of this environment's runs (of one workflow, or all): fires, and tells
/// its recipients, when the measure over the last `over` goes above `above`, and tells them
/// again when it recovers. Evaluated every 30 s. Audited. Needs `admin`.
#[utoipa::path(post, path = "/api/v1/alerts", tag = "alerts", request_body = AlertRequest,
    responses((status = 201, body = Alert)))]
async fn create_alert(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    JsonBody(mut rule): JsonBody<AlertRequest>,
) -> ApiResult<(StatusCode, Json<Alert>)> {
    check(&state, &caller.scope, &mut rule).await?;
    if state.store.alerts(&caller.scope).await?.len() >= MAX_ALERTS {
        return Err(ApiError::invalid(
            format!("an environment has {MAX_ALERTS} alerts at most; delete one first"),
            vec![],
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let definition = serde_json::to_value(&rule).map_err(|_| ApiError::internal())?;
    let row = state
        .store
        .create_alert(&caller.scope, &id, &definition)
        .await?;
    audit(&state, &caller, "alert.create", &id, Some(definition)).await?;
    Ok((StatusCode::CREATED, Json(view(row)?)))
}

/// List the alerts
///
/// Every alert of this environment with where it stands. Needs `read`.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts",
    responses((status = 200, body = AlertList)))]
async fn list_alerts(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<AlertList>> {
    let alerts = state
        .store
        .alerts(&caller.scope)
        .await?
        .into_iter()
        .map(view)
        .collect::<ApiResult<_>>()?;
    Ok(Json(AlertList { alerts }))
}

/// Get an alert
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts",
    params(("id" = String, Path, description = "The alert's id")),
    responses((status = 200, body = Alert)))]
async fn get_alert(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<Alert>> {
    let row = state
        .store
        .alert(&caller.scope, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("alert"))?;
    Ok(Json(view(row)?))
}

/// Replace an alert
///
/// Its new rule is judged at the next round; where it stands is kept. Audited. Needs `admin`.
#[utoipa::path(put, path = "/api/v1/alerts/{id}", tag = "alerts", request_body = AlertRequest,
    params(("id" = String, Path, description = "The alert's id")),
    responses((status = 200, body = Alert)))]
async fn put_alert(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> ApiResult<Json<Alert>> {
    // Another scope's alert is not found, whatever the body: looked up before it is read.
    if state.store.alert(&caller.scope, &id).await?.is_none() {
        return Err(ApiError::not_found("alert"));
    }
    let (parts, body) = request.into_parts();
    let value = crate::read_body(&state, &parts.headers, body, false, false).await?;
    let mut rule: AlertRequest = crate::body::from_value(value)?;
    check(&state, &caller.scope, &mut rule).await?;
    let definition = serde_json::to_value(&rule).map_err(|_| ApiError::internal())?;
    let row = state
        .store
        .replace_alert(&caller.scope, &id, &definition)
        .await
        .map_err(crate::missing("alert"))?;
    audit(&state, &caller, "alert.update", &id, Some(definition)).await?;
    Ok(Json(view(row)?))
}

/// Delete an alert
///
/// Audited. Needs `admin`.
#[utoipa::path(delete, path = "/api/v1/alerts/{id}", tag = "alerts",
    params(("id" = String, Path, description = "The alert's id")),
    responses((status = 204)))]
async fn delete_alert(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_alert(&caller.scope, &id)
        .await
        .map_err(crate::missing("alert"))?;
    audit(&state, &caller, "alert.delete", &id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Evaluates alerts every `every` while this node holds the `alerts` lease, until `stop`.
pub async fn run(
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // Held for three rounds: a node that stops evaluating hands over within that.
    let ttl = (every.as_millis() as i64).saturating_mul(3);
    loop {
        match store.take_lead("alerts", engine.node(), ttl).await {
            Ok(true) => {
                if let Err(e) = round(&engine, store.as_ref()).await {
                    tracing::error!("alerts: {e}");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::error!("alerts: cannot take the lease: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

async fn round(engine: &Engine, store: &dyn Store) -> Result<(), weir_store::Error> {
    let now = store.now_ms().await?;
    for scope in store.scopes().await? {
        for row in store.alerts(&scope).await? {
            let Ok(rule) = serde_json::from_value::<AlertRequest>(row.definition.clone()) else {
                tracing::error!(alert = row.id, "alerts: a stored rule does not read");
                continue;
            };
            if !rule.enabled {
                continue;
            }
            if let Err(e) = judge(engine, store, &scope, &row, &rule, now).await {
                tracing::error!(alert = row.id, "alerts: {e}");
            }
        }
    }
    Ok(())
}

async fn judge(
    engine: &Engine,
    store: &dyn Store,
    scope: &Scope,
    row: &AlertRow,
    rule: &AlertRequest,
    now: i64,
) -> Result<(), weir_store::Error> {
    let Ok(over) = weir_core::Duration::parse(&rule.condition.over) else {
        return Ok(());
    };
    let value = store
        .measure_alert(
            scope,
            store_metric(rule.condition.metric),
            rule.workflow_id.as_deref(),
            now - over.as_millis() as i64,
        )
        .await?;
    let firing = value > rule.condition.above;
    let to = if firing { "firing" } else { "ok" };
    let changed = store
        .judge_alert(scope, &row.id, &row.state, to, value)
        .await?;
    if !changed || to == row.state {
        return Ok(());
    }
    tracing::warn!(
        tenant = scope.tenant,
        environment = scope.environment,
        alert = row.id,
        name = rule.name,
        value,
        "alert {}",
        if firing { "fired" } else { "recovered" }
    );
    metrics::counter!("weir_alerts_total", "state" => if firing { "fired" } else { "recovered" })
        .increment(1);
    tell(engine, scope, &row.id, rule, firing, value, now).await;
    Ok(())
}

/// Tells the alert's recipients through the `notify` action, as a workflow would.
async fn tell(
    engine: &Engine,
    scope: &Scope,
    id: &str,
    rule: &AlertRequest,
    firing: bool,
    value: f64,
    now_ms: i64,
) {
    let metric = rule.condition.metric.as_str();
    let of = match &rule.workflow_id {
        Some(w) => format!(" of workflow {w}"),
        None => String::new(),
    };
    let (subject, message) = if firing {
        (
            format!("Alert firing: {}", rule.name),
            format!(
                "{metric}{of} over the last {} is {value}, above {}.",
                rule.condition.over, rule.condition.above
            ),
        )
    } else {
        (
            format!("Alert recovered: {}", rule.name),
            format!(
                "{metric}{of} over the last {} is {value}, no longer above {}.",
                rule.condition.over, rule.condition.above
            ),
        )
    };
    let state = if firing { "fired" } else { "recovered" };
    let ctx = ActionContext {
        scope: scope.clone(),
        execution_id: format!("alert-{id}"),
        step_id: "alert".into(),
        // One operation per change of state: a repeated delivery is recognised.
        idempotency_key: format!("alert:{id}:{state}:{now_ms}:1"),
        traceparent: None,
        secrets: Arc::default(),
        context: Value::Null,
    };
    let input = json!({
        "channel": rule.notify.channel.as_str(),
        "recipients": rule.notify.recipients,
        "subject": subject,
        "message": message,
    });
    if let Err(e) = engine.actions().perform("notify", &ctx, input).await {
        tracing::error!(
            alert = id,
            "alerts: telling the recipients failed: {}",
            e.message
        );
    }
}
