//! Workers: claim executions with due work under a lease and drive them (the commit rounds are
//! in `round.rs`), and the clock of debounce windows and schedules.

use std::sync::Arc;
use std::time::Duration;

use crate::{Engine, Result};

/// How often closed debounce windows and due schedule fires are looked for: such a run starts
/// at most this late (plus its commit).
pub(crate) const TRIGGER_CHECK: Duration = Duration::from_millis(100);

impl Engine {
    /// Tells a worker that work was queued outside the engine (an approval decided, an
    /// execution cancelled), so it claims it now rather than at its next poll.
    pub fn nudge(&self) {
        self.wake.notify_one();
        self.held_wake.notify_one();
    }

    /// Runs a worker until `stop` resolves: claims up to `batch` executions with due work (no
    /// more than the action pool has room for), hands each to a task of its own, and claims
    /// again; sleeps briefly when idle or when the pool is full. Every few seconds it also
    /// rebuilds the trigger index, so workflows another node stored start matching here too.
    pub async fn run(self: &Arc<Self>, batch: i64, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            self.worker_beat.store(
                chrono::Utc::now().timestamp_millis(),
                std::sync::atomic::Ordering::Relaxed,
            );
            if self.index_is_due()
                && let Err(e) = self.refresh_all().await
            {
                tracing::error!("refreshing the trigger index: {e}");
            }
            let (room, full) = self.pool.claimable();
            let limit = batch.min(i64::try_from(room).unwrap_or(i64::MAX));
            let worked = if limit > 0 {
                let at = std::time::Instant::now();
                let claimed = self
                    .store
                    .claim_except(&self.node, self.lease_ms, limit, &full)
                    .await;
                match claimed {
                    Ok(claims) => {
                        let n = claims.len();
                        self.spawn_drives(claims, at);
                        n > 0
                    }
                    Err(e) => {
                        tracing::error!("claiming work: {e}");
                        false
                    }
                }
            } else {
                false
            };
            if !worked {
                tokio::select! {
                    _ = stop.changed() => {}
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }

    /// How long ago a worker last went round its loop; `None` when none has started. A worker
    /// goes round at least every 50 ms unless claiming (a database call) hangs.
    pub fn worker_silence(&self) -> Option<Duration> {
        let beat = self.worker_beat.load(std::sync::atomic::Ordering::Relaxed);
        (beat > 0).then(|| {
            let ms = chrono::Utc::now().timestamp_millis().saturating_sub(beat);
            Duration::from_millis(u64::try_from(ms).unwrap_or(0))
        })
    }

    /// Executions this node is working on now (their actions in flight or being committed).
    pub fn running_executions(&self) -> usize {
        self.live.len()
    }

    /// Starts the runs that time brings, apart from the workers so that slow actions never
    /// delay them: every [`TRIGGER_CHECK`] until `stop`, closed debounce windows and due
    /// schedule fires.
    pub async fn run_triggers(self: &Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(TRIGGER_CHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = stop.changed() => {}
                _ = tick.tick() => {}
            }
            if *stop.borrow() {
                return;
            }
            if self.debouncing.load(std::sync::atomic::Ordering::Relaxed)
                && let Err(e) = self.fire_debounces().await
            {
                tracing::error!("closing debounce windows: {e}");
            }
            if self.schedules.any()
                && let Err(e) = self.fire_schedules().await
            {
                tracing::error!("starting scheduled runs: {e}");
            }
        }
    }

    /// Claims up to `limit` executions with due work and drives each until it needs nothing
    /// more now (its actions performed and their results committed). Returns how many it
    /// claimed. For tests and tools; `run` does not wait for the executions it claims.
    pub async fn work_once(self: &Arc<Self>, limit: i64) -> Result<usize> {
        let at = std::time::Instant::now();
        let claims = self.store.claim(&self.node, self.lease_ms, limit).await?;
        let n = claims.len();
        let drives = claims.into_iter().map(|claim| async move {
            let id = claim.execution_id.clone();
            if let Err(e) = self.drive(claim, at, None).await {
                tracing::error!(execution_id = %id, "running the execution: {e}");
            }
        });
        futures_util::future::join_all(drives).await;
        Ok(n)
    }
}
