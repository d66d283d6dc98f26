//! Schedule triggers at run time. Every node keeps, per schedule, the time up to which it has
//! handled fires and the next fire after it, in memory; when a fire is due, it records the
//! fire and starts its execution in one transaction. The record's primary key (schedule, fire
//! time) is what makes each fire start exactly one execution, however many nodes see it due.
//!
//! A fire is on time until it is [`GRACE`] late. One later than that was missed (no node was
//! running, or every node was stalled), and the schedule's `catch_up` decides: `none` skips
//! it, `latest` starts the latest missed fire, `all` starts every missed fire up to
//! [`MAX_CATCH_UP`] (the latest ones).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use weir_core::Workflow;
use weir_core::model::{CatchUp, Schedule, TriggerKind};
use weir_store::{NewExecution, ScheduleFire, Scope};

use crate::ingest::pending_state;
use crate::{Engine, Indexed, Result, live_env};

/// How late a fire may start and still count as on time.
pub const GRACE: Duration = Duration::from_secs(5);

/// At most this many missed fires start for one schedule under `catch_up: all`.
pub const MAX_CATCH_UP: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    scope: Scope,
    workflow_id: String,
    trigger: usize,
}

#[derive(Clone)]
struct Entry {
    version: i64,
    updated_ms: i64,
    workflow: Arc<Workflow>,
    /// Every fire at or before this has been handled; `None` until read from the store.
    cursor: Option<DateTime<Utc>>,
    /// The first fire after the cursor, if the schedule fires again.
    next: Option<DateTime<Utc>>,
}

impl Entry {
    fn schedule(&self, trigger: usize) -> Option<&Schedule> {
        match &self.workflow.triggers.get(trigger)?.kind {
            TriggerKind::Schedule(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Default)]
pub(crate) struct Schedules {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Schedules {
    /// Takes a scope's freshly indexed workflows: new or changed schedules start afresh (their
    /// cursor read again from the store), unchanged ones keep their place, gone ones go.
    pub(crate) fn sync(&self, scope: &Scope, indexed: &[Arc<Indexed>]) {
        let mut entries = self.entries.lock().expect("schedules lock");
        let mut present = std::collections::HashSet::new();
        for e in indexed.iter().filter(|e| e.enabled) {
            for (trigger, t) in e.workflow.triggers.iter().enumerate() {
                if !matches!(t.kind, TriggerKind::Schedule(_)) {
                    continue;
                }
                let key = Key {
                    scope: scope.clone(),
                    workflow_id: e.workflow_id.clone(),
                    trigger,
                };
                let same = entries
                    .get(&key)
                    .is_some_and(|old| old.version == e.version && old.updated_ms == e.updated_ms);
                if !same {
                    entries.insert(
                        key.clone(),
                        Entry {
                            version: e.version,
                            updated_ms: e.updated_ms,
                            workflow: e.workflow.clone(),
                            cursor: None,
                            next: None,
                        },
                    );
                }
                present.insert(key);
            }
        }
        entries.retain(|k, _| &k.scope != scope || present.contains(k));
    }

    /// Whether any schedule is indexed.
    pub(crate) fn any(&self) -> bool {
        !self.entries.lock().expect("schedules lock").is_empty()
    }
}

/// One fire to start.
struct Fire {
    at: DateTime<Utc>,
    missed: bool,
}

impl Engine {
    /// Starts an execution for every schedule fire that is due. Returns how many started here.
    /// A schedule whose fires cannot be written is said and left for the next pass; the
    /// others go on.
    pub async fn fire_schedules(&self) -> Result<usize> {
        let now = Utc::now();
        let due: Vec<(Key, Entry)> = {
            let entries = self.schedules.entries.lock().expect("schedules lock");
            entries
                .iter()
                .filter(|(_, e)| e.cursor.is_none() || e.next.is_some_and(|n| n <= now))
                .map(|(k, e)| (k.clone(), e.clone()))
                .collect()
        };
        let mut started = 0;
        for (key, entry) in due {
            match self.fire_one(&key, entry, now).await {
                Ok(n) => started += n,
                Err(e) => tracing::error!(
                    "{}/{}: schedule of workflow {}: {e}",
                    key.scope.tenant,
                    key.scope.environment,
                    key.workflow_id
                ),
            }
        }
        if started > 0 {
            self.wake.notify_one();
        }
        Ok(started)
    }

    /// Handles one schedule's fires up to `now`, then moves its cursor there.
    async fn fire_one(&self, key: &Key, entry: Entry, now: DateTime<Utc>) -> Result<usize> {
        let Some(schedule) = entry.schedule(key.trigger) else {
            return Ok(0);
        };
        let (version, updated_ms, workflow) = (entry.version, entry.updated_ms, &entry.workflow);
        let due = match entry.cursor {
            // This node was running: every fire since its last look is on time.
            Some(c) => fires_while_running(schedule, c, now),
            None => {
                let last = self
                    .store
                    .last_schedule_fire(&key.scope, &key.workflow_id, key.trigger as i64)
                    .await?;
                let anchor = last.unwrap_or(i64::MIN).max(updated_ms);
                let anchor = Utc.timestamp_millis_opt(anchor).single().unwrap_or(now);
                fires(schedule, anchor, now)
            }
        };
        let mut started = 0;
        for fire in due {
            if self
                .start_fire(key, workflow, version, schedule, &fire)
                .await?
            {
                started += 1;
            }
        }
        let mut entries = self.schedules.entries.lock().expect("schedules lock");
        if let Some(e) = entries.get_mut(key)
            && e.version == version
            && e.updated_ms == updated_ms
        {
            e.cursor = Some(now);
            e.next = e.schedule(key.trigger).and_then(|s| s.plan.next_after(now));
        }
        Ok(started)
    }

    /// Records one fire and starts its run, unless another node did, or the workflow is no
    /// longer this version, enabled. A trigger condition that does not hold records the fire
    /// and starts nothing.
    async fn start_fire(
        &self,
        key: &Key,
        workflow: &Workflow,
        version: i64,
        schedule: &Schedule,
        fire: &Fire,
    ) -> Result<bool> {
        let payload = schedule.fire_payload(fire.at, fire.missed);
        let mut holds = true;
        if let Some(condition) = &workflow.triggers[key.trigger].conditions {
            let secrets = self.secret_values(&key.scope).await?;
            let rules = self.rules_for(&key.scope, workflow);
            let root = weir_core::context::payload_root(&payload);
            holds = condition.eval(&root, &live_env(&rules, &secrets));
        }
        let execution = NewExecution {
            id: uuid::Uuid::now_v7().to_string(),
            workflow_id: key.workflow_id.clone(),
            workflow_version: version,
            parent_id: None,
            state: pending_state("schedule", None, &payload),
            status: "pending".into(),
            initial: None,
            held_by: None,
        };
        let fire = ScheduleFire {
            workflow_id: &key.workflow_id,
            version,
            trigger: key.trigger as i64,
            fire_ms: fire.at.timestamp_millis(),
        };
        let started = self
            .store
            .fire_schedule(&key.scope, &fire, holds.then_some(&execution))
            .await?;
        if started && holds {
            crate::telemetry::executions_started(1);
        }
        Ok(started && holds)
    }
}

/// The fires in `(anchor, now]` for a schedule this node has not looked at yet (it just
/// started, or the workflow changed): on-time ones always, missed ones per `catch_up`.
fn fires(schedule: &Schedule, anchor: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Fire> {
    let grace = chrono::Duration::from_std(GRACE).expect("grace fits");
    let late = now - grace;
    let mut out = Vec::new();
    if late > anchor {
        let keep = match schedule.catch_up {
            CatchUp::None => 0,
            CatchUp::Latest => 1,
            CatchUp::All => MAX_CATCH_UP,
        };
        out.extend(
            schedule
                .plan
                .latest_between(anchor, late, keep)
                .into_iter()
                .map(|at| Fire { at, missed: true }),
        );
    }
    out.extend(
        schedule
            .plan
            .latest_between(anchor.max(late), now, MAX_CATCH_UP)
            .into_iter()
            .map(|at| Fire { at, missed: false }),
    );
    out
}

/// The fires in `(cursor, now]` for a schedule this node was already watching: all on time,
/// however slow the pass was, but at most the latest [`MAX_CATCH_UP`] (a node frozen for
/// hours does not start a day of per-second runs).
fn fires_while_running(
    schedule: &Schedule,
    cursor: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Fire> {
    schedule
        .plan
        .latest_between(cursor, now, MAX_CATCH_UP)
        .into_iter()
        .map(|at| Fire { at, missed: false })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schedule(cron: &str, catch_up: &str) -> Schedule {
        let doc = json!({
            "id": "s", "name": "s",
            "triggers": [{"type": "schedule", "cron": cron, "catch_up": catch_up}],
            "steps": [{"id": "a", "type": "noop"}]
        });
        let wf =
            weir_core::validate_value(&doc, &weir_core::BuiltinCatalog::new(), &Default::default())
                .into_valid()
                .unwrap();
        match &wf.triggers[0].kind {
            TriggerKind::Schedule(s) => (**s).clone(),
            _ => unreachable!(),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn times(f: &[Fire]) -> Vec<(String, bool)> {
        f.iter()
            .map(|f| (f.at.format("%H:%M:%S").to_string(), f.missed))
            .collect()
    }

    #[test]
    fn missed_fires_follow_catch_up_and_on_time_ones_always_start() {
        let (down, now) = (at("2026-01-01T10:00:00Z"), at("2026-01-01T10:11:03Z"));
        let on_time = |v: &[(String, bool)]| v.iter().filter(|f| !f.1).count();
        let none = times(&fires(&schedule("*/2 * * * *", "none"), down, now));
        assert_eq!(none, []);
        let latest = times(&fires(&schedule("*/2 * * * *", "latest"), down, now));
        assert_eq!(latest, [("10:10:00".to_owned(), true)]);
        let all = times(&fires(&schedule("*/2 * * * *", "all"), down, now));
        assert_eq!(all.len(), 5, "{all:?}");
        assert_eq!(on_time(&all), 0);
        // A per-second schedule looked at 1.5 s after its last look: two fires, on time.
        let every = schedule("* * * * * *", "none");
        let got = times(&fires(
            &every,
            at("2026-01-01T10:00:00.500Z"),
            at("2026-01-01T10:00:02.000Z"),
        ));
        assert_eq!(
            got,
            [
                ("10:00:01".to_owned(), false),
                ("10:00:02".to_owned(), false)
            ]
        );
        // A year down with catch_up all: the latest MAX_CATCH_UP, found without walking the year.
        let all = fires(
            &schedule("* * * * * *", "all"),
            at("2025-01-01T00:00:00Z"),
            now,
        );
        assert_eq!(all.iter().filter(|f| f.missed).count(), MAX_CATCH_UP);
        assert_eq!(all.iter().filter(|f| !f.missed).count(), 5);
    }
}
