//! `GET /api/v1/stats` and `GET /api/v1/workflows/{id}/stats`: totals by status and decision,
//! success rate, duration percentiles, runs per hour, the workflows that fail most and, for a
//! workflow, its steps, from the statistics rollup (never by reading executions).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::stats::{
    DecisionCounts, FinishedCounts, HourStats, Percentiles, Stats, StatsQuery, StepStats,
    UnfinishedCounts, WorkflowStatsRow,
};
use weir_store::{Durations, EndedAttempts, FinishedRuns, Scope};

use crate::access::{Auth, need};
use crate::params::Params;
use crate::{ApiError, ApiResult, AppState, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(scope_stats))
        .routes(routes!(workflow_stats))
}

const HOUR_MS: i64 = 3_600_000;
/// The longest range, in hours (a leap year).
const MAX_HOURS: i64 = 366 * 24;
/// The most workflows listed.
const MAX_WORKFLOWS: usize = 20;

/// Statistics of the caller's environment
///
/// How runs went over a range of whole hours (the last 24 by default): finished runs by
/// status and decision, success rate, p50/p95/p99 duration, every hour's counts, the workflows
/// that failed most, and what is unfinished or waits for approval now. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/stats", tag = "executions", params(StatsQuery),
    responses((status = 200, body = Stats)))]
async fn scope_stats(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Stats>> {
    let now = state.store.now_ms().await?;
    let (since, until) = range(q, now)?;
    stats(&state, &caller.scope, None, since, until)
        .await
        .map(Json)
}

/// A workflow's statistics
///
/// As `GET /api/v1/stats` for one workflow (also one deleted since), plus each step's ended
/// attempts, failures and p50/p95 duration, slowest first. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/workflows/{id}/stats", tag = "workflows", params(StatsQuery),
    responses((status = 200, body = Stats)))]
async fn workflow_stats(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Stats>> {
    let now = state.store.now_ms().await?;
    let (since, until) = range(q, now)?;
    if state
        .store
        .workflow_versions(&caller.scope, &id)
        .await?
        .is_empty()
    {
        return Err(ApiError::not_found("workflow"));
    }
    stats(&state, &caller.scope, Some(&id), since, until)
        .await
        .map(Json)
}

/// The range asked for, in whole hours: `since` rounded down, `until` up.
fn range(q: HashMap<String, String>, now: i64) -> ApiResult<(i64, i64)> {
    let q = Params::new(q, &["since", "until"])?;
    let until = q.time("until")?.unwrap_or(now);
    let until = until - until.rem_euclid(HOUR_MS)
        + if until.rem_euclid(HOUR_MS) == 0 {
            0
        } else {
            HOUR_MS
        };
    let since = q.time("since")?.unwrap_or(until - 24 * HOUR_MS);
    let since = since - since.rem_euclid(HOUR_MS);
    if since >= until {
        return Err(ApiError::bad_request("since must be before until"));
    }
    if (until - since) / HOUR_MS > MAX_HOURS {
        return Err(ApiError::bad_request(format!(
            "the range is longer than {} days; ask for a shorter one",
            MAX_HOURS / 24
        )));
    }
    Ok((since, until))
}

async fn stats(
    state: &AppState,
    scope: &Scope,
    workflow: Option<&str>,
    since: i64,
    until: i64,
) -> ApiResult<Stats> {
    let store = &state.store;
    let finished = store.finished_runs(scope, workflow, since, until).await?;
    let unfinished = store.unfinished_runs(scope, workflow).await?;
    let pending_approvals = store.pending_approvals(scope, workflow).await?;
    let steps = match workflow {
        Some(id) => Some(store.ended_attempts(scope, id, since, until).await?),
        None => None,
    };
    let mut stats = summarize(&finished, since, until);
    for (status, n) in unfinished {
        match status.as_str() {
            "pending" => stats.unfinished.pending += n,
            "running" => stats.unfinished.running += n,
            "waiting" => stats.unfinished.waiting += n,
            "retrying" => stats.unfinished.retrying += n,
            _ => {}
        }
    }
    stats.pending_approvals = pending_approvals;
    stats.steps = steps.as_deref().map(step_stats);
    for row in &mut stats.workflows {
        row.name = store
            .workflow(scope, &row.workflow_id)
            .await?
            .and_then(|w| w.definition.get("name")?.as_str().map(str::to_owned));
    }
    Ok(stats)
}

fn count(into: &mut FinishedCounts, status: &str, runs: i64) {
    match status {
        "completed" => into.completed += runs,
        "failed" => into.failed += runs,
        "cancelled" => into.cancelled += runs,
        _ => return,
    }
    into.total += runs;
}

fn success_rate(c: &FinishedCounts) -> Option<f64> {
    let decided = c.completed + c.failed;
    (decided > 0).then(|| c.completed as f64 / decided as f64)
}

fn percentiles(d: &Durations) -> Option<Percentiles> {
    Some(Percentiles {
        p50: d.quantile(0.50)?,
        p95: d.quantile(0.95)?,
        p99: d.quantile(0.99)?,
    })
}

/// Everything but what is read apart (unfinished runs, approvals, names and steps).
fn summarize(rows: &[FinishedRuns], since: i64, until: i64) -> Stats {
    let mut finished = FinishedCounts::default();
    let mut decisions = DecisionCounts::default();
    let mut durations = Durations::default();
    let mut hours: BTreeMap<i64, FinishedCounts> = (0..(until - since) / HOUR_MS)
        .map(|h| (since + h * HOUR_MS, FinishedCounts::default()))
        .collect();
    let mut workflows: HashMap<&str, (FinishedCounts, Durations)> = HashMap::new();
    for r in rows {
        count(&mut finished, &r.status, r.runs);
        if let Some(hour) = hours.get_mut(&r.hour_ms) {
            count(hour, &r.status, r.runs);
        }
        let (counts, times) = workflows.entry(&r.workflow_id).or_default();
        count(counts, &r.status, r.runs);
        match r.decision.as_deref() {
            Some("allow") => decisions.allow += r.runs,
            Some("block") => decisions.block += r.runs,
            _ => decisions.none += r.runs,
        }
        if r.status != "cancelled" {
            durations.add(r.bucket, r.runs);
            times.add(r.bucket, r.runs);
        }
    }
    let mut workflows: Vec<WorkflowStatsRow> = workflows
        .into_iter()
        .map(|(id, (counts, times))| WorkflowStatsRow {
            workflow_id: id.to_owned(),
            name: None,
            finished: counts,
            success_rate: success_rate(&counts),
            duration_ms: percentiles(&times),
        })
        .collect();
    workflows.sort_by(|a, b| {
        (b.finished.failed, b.finished.total, &a.workflow_id).cmp(&(
            a.finished.failed,
            a.finished.total,
            &b.workflow_id,
        ))
    });
    workflows.truncate(MAX_WORKFLOWS);
    Stats {
        since: time_text(since),
        until: time_text(until),
        finished,
        decisions,
        success_rate: success_rate(&finished),
        duration_ms: percentiles(&durations),
        per_hour: hours
            .into_iter()
            .map(|(hour, counts)| HourStats {
                hour: time_text(hour),
                finished: counts,
                success_rate: success_rate(&counts),
            })
            .collect(),
        unfinished: UnfinishedCounts::default(),
        pending_approvals: 0,
        workflows,
        steps: None,
    }
}

/// Per step, slowest p95 first.
fn step_stats(rows: &[EndedAttempts]) -> Vec<StepStats> {
    let mut steps: BTreeMap<&str, (i64, i64, Durations)> = BTreeMap::new();
    for r in rows {
        let (runs, failures, times) = steps.entry(&r.step_id).or_default();
        *runs += r.runs;
        if r.status == "failed" {
            *failures += r.runs;
        }
        times.add(r.bucket, r.runs);
    }
    let mut steps: Vec<StepStats> = steps
        .into_iter()
        .map(|(id, (runs, failures, times))| StepStats {
            step_id: id.to_owned(),
            runs,
            failures,
            p50_ms: times.quantile(0.50),
            p95_ms: times.quantile(0.95),
        })
        .collect();
    steps.sort_by(|a, b| {
        b.p95_ms
            .unwrap_or(0.0)
            .total_cmp(&a.p95_ms.unwrap_or(0.0))
            .then_with(|| a.step_id.cmp(&b.step_id))
    });
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_store::bucket_of;

    fn run(
        workflow: &str,
        hour: i64,
        status: &str,
        decision: Option<&str>,
        ms: i64,
        runs: i64,
    ) -> FinishedRuns {
        FinishedRuns {
            workflow_id: workflow.into(),
            hour_ms: hour * HOUR_MS,
            status: status.into(),
            decision: decision.map(str::to_owned),
            bucket: bucket_of(ms),
            runs,
            total_ms: ms * runs,
        }
    }

    #[test]
    fn a_range_is_summed_by_hour_status_decision_and_workflow() {
        let rows = [
            run("w1", 10, "completed", Some("allow"), 3, 70),
            run("w1", 10, "completed", Some("block"), 4, 25),
            run("w2", 11, "failed", None, 250, 4),
            run("w2", 11, "cancelled", None, 90_000, 1),
            // Outside the hours asked for: counted in totals only if the store returned it,
            // which it does not; here it shows hours are not invented.
            run("w3", 13, "completed", None, 1, 1),
        ];
        let s = summarize(&rows, 10 * HOUR_MS, 12 * HOUR_MS);
        assert_eq!(
            s.finished,
            FinishedCounts {
                total: 101,
                completed: 96,
                failed: 4,
                cancelled: 1
            }
        );
        assert_eq!(
            s.decisions,
            DecisionCounts {
                allow: 70,
                block: 25,
                none: 6
            }
        );
        assert_eq!(s.success_rate, Some(96.0 / 100.0));
        assert_eq!(s.per_hour.len(), 2);
        assert_eq!(s.per_hour[0].finished.completed, 95);
        assert_eq!(s.per_hour[1].finished.failed, 4);
        assert_eq!(s.per_hour[1].success_rate, Some(0.0));
        // The cancelled run's 90 s is not a duration of work done.
        let d = s.duration_ms.unwrap();
        assert!((3.0..5.0).contains(&d.p50), "{d:?}");
        assert!((200.0..300.0).contains(&d.p99), "{d:?}");
        // Most failures first.
        assert_eq!(s.workflows[0].workflow_id, "w2");
        assert_eq!(s.workflows[0].success_rate, Some(0.0));
        assert_eq!(s.workflows[1].workflow_id, "w1");
    }

    #[test]
    fn an_empty_range_has_every_hour_and_no_rates() {
        let s = summarize(&[], 0, 3 * HOUR_MS);
        assert_eq!(s.per_hour.len(), 3);
        assert_eq!(s.success_rate, None);
        assert_eq!(s.duration_ms, None);
        assert!(s.per_hour.iter().all(|h| h.success_rate.is_none()));
    }

    #[test]
    fn steps_are_listed_slowest_first() {
        let attempt = |step: &str, status: &str, ms: i64, runs: i64| EndedAttempts {
            step_id: step.into(),
            hour_ms: 0,
            status: status.into(),
            bucket: bucket_of(ms),
            runs,
        };
        let s = step_stats(&[
            attempt("check", "completed", 2, 100),
            attempt("charge", "completed", 120, 90),
            attempt("charge", "failed", 3000, 10),
        ]);
        assert_eq!(s[0].step_id, "charge");
        assert_eq!((s[0].runs, s[0].failures), (100, 10));
        assert!(s[0].p95_ms.unwrap() >= 3000.0);
        assert_eq!(s[1].step_id, "check");
    }

    #[test]
    fn ranges_are_whole_hours_and_bounded() {
        let q = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let now = 100 * HOUR_MS + 5;
        assert_eq!(range(q(&[]), now).unwrap(), (77 * HOUR_MS, 101 * HOUR_MS));
        let (since, until) = range(
            q(&[
                ("since", "2026-12-04T10:30:00Z"),
                ("until", "2026-12-04T12:00:00Z"),
            ]),
            now,
        )
        .unwrap();
        assert_eq!(until - since, 2 * HOUR_MS);
        for bad in [
            q(&[
                ("since", "2026-12-04T12:00:00Z"),
                ("until", "2026-12-04T12:00:00Z"),
            ]),
            q(&[
                ("since", "2020-01-01T00:00:00Z"),
                ("until", "2026-12-04T12:00:00Z"),
            ]),
            q(&[("since", "yesterday")]),
            q(&[("window", "1h")]),
        ] {
            assert!(range(bad, now).is_err());
        }
    }
}
