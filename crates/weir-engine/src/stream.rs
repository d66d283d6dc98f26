//! What happens in each tenant × environment, as it happens: runs started, steps written, runs
//! finished, approvals asked for and decided. `GET /api/v1/stream` sends it to the console.
//! Nothing is kept or built while nobody listens; once someone has, the last events are kept
//! for a while so a stream that reconnects (`Last-Event-ID`) misses none of them.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::broadcast;
use weir_store::Scope;

/// One event of a scope's stream.
#[derive(Debug, Clone)]
pub struct Happening {
    /// Grows by one per event on this node: the stream's `id:`.
    pub seq: u64,
    pub scope: Scope,
    /// `execution.started`, `execution.step`, `execution.finished`, `approval.created` or
    /// `approval.decided`.
    pub kind: &'static str,
    pub execution_id: String,
    pub workflow_id: Option<String>,
    /// The rest: the run's status and decision, the step's id and status, the approval's id.
    pub data: Value,
    /// Milliseconds since the epoch.
    pub at_ms: i64,
}

/// How many events a reconnecting stream can catch up on.
const RECENT: usize = 4096;
/// How long after the last stream opened events are still kept for catching up.
const KEEP_WHILE: Duration = Duration::from_secs(300);

pub struct Hub {
    tx: broadcast::Sender<std::sync::Arc<Happening>>,
    /// Set when the node stops: streams end, so a stopping server does not wait on them.
    closing: tokio::sync::watch::Sender<bool>,
    seq: AtomicU64,
    recent: Mutex<(VecDeque<std::sync::Arc<Happening>>, Option<Instant>)>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            tx: broadcast::channel(RECENT).0,
            closing: tokio::sync::watch::Sender::new(false),
            seq: AtomicU64::new(0),
            recent: Mutex::new((VecDeque::new(), None)),
        }
    }
}

impl Hub {
    /// Whether anyone listens, or did lately (then events are kept for catching up).
    pub fn wanted(&self) -> bool {
        self.tx.receiver_count() > 0
            || self
                .recent
                .lock()
                .expect("stream")
                .1
                .is_some_and(|at| at.elapsed() < KEEP_WHILE)
    }

    /// Sends an event to every stream, and keeps it for catching up.
    pub fn publish(
        &self,
        scope: &Scope,
        kind: &'static str,
        execution_id: &str,
        workflow_id: Option<&str>,
        data: Value,
    ) {
        if !self.wanted() {
            return;
        }
        let event = std::sync::Arc::new(Happening {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            scope: scope.clone(),
            kind,
            execution_id: execution_id.to_owned(),
            workflow_id: workflow_id.map(str::to_owned),
            data,
            at_ms: chrono::Utc::now().timestamp_millis(),
        });
        {
            let mut recent = self.recent.lock().expect("stream");
            if recent.0.len() == RECENT {
                recent.0.pop_front();
            }
            recent.0.push_back(event.clone());
        }
        let _ = self.tx.send(event);
    }

    /// Ends every stream (the node is stopping).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Becomes true when the node stops.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// A new stream: what it missed after `after` (when still kept), then what comes.
    pub fn subscribe(
        &self,
        after: Option<u64>,
    ) -> (
        Vec<std::sync::Arc<Happening>>,
        broadcast::Receiver<std::sync::Arc<Happening>>,
    ) {
        let mut recent = self.recent.lock().expect("stream");
        recent.1 = Some(Instant::now());
        let rx = self.tx.subscribe();
        let missed = match after {
            Some(after) => recent.0.iter().filter(|e| e.seq > after).cloned().collect(),
            None => Vec::new(),
        };
        (missed, rx)
    }
}
