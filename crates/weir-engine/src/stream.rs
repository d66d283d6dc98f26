//! What happens in each tenant × environment, as it happens: runs started, steps written, runs
//! finished, approvals asked for and decided. `GET /api/v1/stream` sends it to the console.
//! Nothing is kept or built while nobody listens; once someone has, the last events are kept
//! for a while so a stream that reconnects (`Last-Event-ID`) misses none of them.
//!
//! Nodes sharing a PostgreSQL database relay their events to each other ([`relay`]): a node
//! with streams open says so every few seconds, and while one does, the others send it what
//! happens on them, gathered into a message every 50 ms (LISTEN/NOTIFY). Ids are each node's
//! own: a stream that reconnects to another node starts from what happens next.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;
use weir_store::{Scope, Store};

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
    /// Until when another node has streams open (it says so every [`WANTED_EVERY`]).
    others_until: Mutex<Option<Instant>>,
    /// This node's events for the others, while they listen and a relay runs.
    outbox: Mutex<Vec<std::sync::Arc<Happening>>>,
    relaying: std::sync::atomic::AtomicBool,
    /// A stream opened here: the relay tells the others at once.
    opened: tokio::sync::Notify,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            tx: broadcast::channel(RECENT).0,
            closing: tokio::sync::watch::Sender::new(false),
            seq: AtomicU64::new(0),
            recent: Mutex::new((VecDeque::new(), None)),
            others_until: Mutex::new(None),
            outbox: Mutex::new(Vec::new()),
            relaying: std::sync::atomic::AtomicBool::new(false),
            opened: tokio::sync::Notify::new(),
        }
    }
}

/// The channel nodes send each other their events on.
const EVENTS: &str = "weir_stream";
/// The channel a node with streams open says so on.
const WANTED: &str = "weir_stream_wanted";
/// The channel a node names a scope on whose workflows, rules or connectors it changed:
/// `node\ntenant\nenvironment`. The others rebuild that scope's index at once instead of at
/// their next periodic rebuild.
pub(crate) const CHANGED: &str = "weir_scope_changed";
/// How often a node with streams open says so, and how long the others believe it.
const WANTED_EVERY: Duration = Duration::from_secs(5);
const WANTED_FOR: Duration = Duration::from_secs(15);
/// How often a node sends the others what happened on it.
const SEND_EVERY: Duration = Duration::from_millis(50);
/// The most events waiting to be sent; beyond, the oldest are dropped (a stream shows what
/// happens, it is not a log: runs are read from the API).
const OUTBOX: usize = 20_000;

/// One event as nodes send it to each other.
#[derive(Serialize, Deserialize)]
struct Relayed {
    tenant: String,
    environment: String,
    kind: String,
    execution_id: String,
    workflow_id: Option<String>,
    data: Value,
    at_ms: i64,
}

/// A message between nodes: whose events.
#[derive(Serialize, Deserialize)]
struct Message {
    node: String,
    events: Vec<Relayed>,
}

/// The kinds of events, as the `'static` names the stream uses.
const KINDS: [&str; 5] = [
    "execution.started",
    "execution.step",
    "execution.finished",
    "approval.created",
    "approval.decided",
];

impl Hub {
    /// Whether anyone listens, or did lately (then events are kept for catching up), here or
    /// on another node.
    pub fn wanted(&self) -> bool {
        self.wanted_here() || self.others_listen()
    }

    fn wanted_here(&self) -> bool {
        self.tx.receiver_count() > 0
            || self
                .recent
                .lock()
                .expect("stream")
                .1
                .is_some_and(|at| at.elapsed() < KEEP_WHILE)
    }

    fn others_listen(&self) -> bool {
        self.relaying.load(Ordering::Relaxed)
            && self
                .others_until
                .lock()
                .expect("stream")
                .is_some_and(|until| Instant::now() < until)
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
        let (here, others) = (self.wanted_here(), self.others_listen());
        if !here && !others {
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
        if others {
            let mut outbox = self.outbox.lock().expect("stream");
            if outbox.len() == OUTBOX {
                outbox.remove(0);
            }
            outbox.push(event.clone());
        }
        if here {
            self.deliver(event);
        }
    }

    /// Sends an event to this node's streams, and keeps it for catching up.
    fn deliver(&self, event: std::sync::Arc<Happening>) {
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
        self.opened.notify_one();
        let missed = match after {
            Some(after) => recent.0.iter().filter(|e| e.seq > after).cloned().collect(),
            None => Vec::new(),
        };
        (missed, rx)
    }
}

/// Relays events between this node and the others that share its PostgreSQL database, until
/// `stop`; returns at once on a back-end with one node.
pub async fn relay(
    hub: &Hub,
    store: &dyn Store,
    node: &str,
    changed: tokio::sync::mpsc::UnboundedSender<Scope>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut listener = match store.listen(&[EVENTS, WANTED, CHANGED]).await {
        Ok(Some(listener)) => listener,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(
                "the event stream reaches this node's streams only: cannot listen to other nodes: {e}"
            );
            return;
        }
    };
    hub.relaying.store(true, Ordering::Relaxed);
    let mut send = tokio::time::interval(SEND_EVERY);
    send.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut say_wanted = tokio::time::interval(WANTED_EVERY);
    loop {
        tokio::select! {
            got = listener.recv() => match got {
                Ok((channel, text)) if channel == CHANGED => {
                    let mut parts = text.splitn(3, '\n');
                    if let (Some(from), Some(tenant), Some(environment)) =
                        (parts.next(), parts.next(), parts.next())
                        && from != node
                    {
                        let _ = changed.send(Scope::new(tenant, environment));
                    }
                }
                Ok((channel, text)) => receive(hub, node, &channel, &text),
                Err(e) => {
                    tracing::error!("listening to other nodes: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            _ = send.tick() => {
                let events = std::mem::take(&mut *hub.outbox.lock().expect("stream"));
                for text in messages(node, &events) {
                    if let Err(e) = store.notify(EVENTS, &text).await {
                        tracing::error!("sending events to other nodes: {e}");
                    }
                }
            }
            _ = say_wanted.tick() => tell_wanted(hub, store, node).await,
            _ = hub.opened.notified() => tell_wanted(hub, store, node).await,
            _ = stop.changed() => break,
        }
    }
    hub.relaying.store(false, Ordering::Relaxed);
}

async fn tell_wanted(hub: &Hub, store: &dyn Store, node: &str) {
    if hub.tx.receiver_count() > 0
        && let Err(e) = store.notify(WANTED, node).await
    {
        tracing::error!("telling other nodes about this node's streams: {e}");
    }
}

/// A message from a node (this one's own are ignored).
fn receive(hub: &Hub, node: &str, channel: &str, text: &str) {
    match channel {
        WANTED if text != node => {
            *hub.others_until.lock().expect("stream") = Some(Instant::now() + WANTED_FOR);
        }
        EVENTS => {
            let Ok(message) = serde_json::from_str::<Message>(text) else {
                tracing::error!("a message from another node does not read; ignored");
                return;
            };
            if message.node == node || !hub.wanted_here() {
                return;
            }
            for e in message.events {
                let Some(kind) = KINDS.iter().find(|k| **k == e.kind) else {
                    continue;
                };
                hub.deliver(std::sync::Arc::new(Happening {
                    seq: hub.seq.fetch_add(1, Ordering::Relaxed) + 1,
                    scope: Scope::new(e.tenant, e.environment),
                    kind,
                    execution_id: e.execution_id,
                    workflow_id: e.workflow_id,
                    data: e.data,
                    at_ms: e.at_ms,
                }));
            }
        }
        _ => {}
    }
}

/// Events as messages of at most [`weir_store::MAX_MESSAGE`] bytes (an event too long for
/// one alone is left out).
fn messages(node: &str, events: &[std::sync::Arc<Happening>]) -> Vec<String> {
    let head = serde_json::to_string(node).unwrap_or_default();
    let (open, close) = (format!("{{\"node\":{head},\"events\":["), "]}");
    let room = weir_store::MAX_MESSAGE.saturating_sub(open.len() + close.len());
    let mut out = Vec::new();
    let mut body = String::new();
    for h in events {
        let Ok(one) = serde_json::to_string(&Relayed {
            tenant: h.scope.tenant.clone(),
            environment: h.scope.environment.clone(),
            kind: h.kind.to_owned(),
            execution_id: h.execution_id.clone(),
            workflow_id: h.workflow_id.clone(),
            data: h.data.clone(),
            at_ms: h.at_ms,
        }) else {
            continue;
        };
        if one.len() > room {
            continue;
        }
        if !body.is_empty() && body.len() + 1 + one.len() > room {
            out.push(format!("{open}{body}{close}"));
            body.clear();
        }
        if !body.is_empty() {
            body.push(',');
        }
        body.push_str(&one);
    }
    if !body.is_empty() {
        out.push(format!("{open}{body}{close}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_relayed_in_messages_postgresql_takes() {
        let hub = Hub::default();
        let events: Vec<_> = (0..500)
            .map(|n| {
                std::sync::Arc::new(Happening {
                    seq: n,
                    scope: Scope::new("t", "production"),
                    kind: KINDS[n as usize % 5],
                    execution_id: format!("x{n}"),
                    workflow_id: Some("w".into()),
                    data: serde_json::json!({"status": "completed"}),
                    at_ms: 1,
                })
            })
            .collect();
        let texts = messages("node-a", &events);
        assert!(texts.len() > 1);
        assert!(texts.iter().all(|t| t.len() <= weir_store::MAX_MESSAGE));
        // Another node delivers them all, in order, to its streams; its own it ignores.
        let (_, mut rx) = hub.subscribe(None);
        for t in &texts {
            receive(&hub, "node-a", EVENTS, t);
        }
        assert!(
            rx.try_recv().is_err(),
            "a node's own events come back to it: ignored"
        );
        for t in &texts {
            receive(&hub, "node-b", EVENTS, t);
        }
        for n in 0..500 {
            let got = rx.try_recv().unwrap();
            assert_eq!(got.execution_id, format!("x{n}"));
            assert_eq!(got.kind, KINDS[n % 5]);
        }
        receive(&hub, "node-b", EVENTS, "{not json");
        assert!(rx.try_recv().is_err());
        // One too long to send is left out, not the others.
        let long = std::sync::Arc::new(Happening {
            data: serde_json::json!({"reason": "x".repeat(9000)}),
            ..(*events[0]).clone()
        });
        assert_eq!(messages("n", &[long, events[1].clone()]).len(), 1);
    }

    #[test]
    fn others_are_sent_events_only_while_they_listen() {
        let hub = Hub::default();
        let scope = Scope::new("t", "production");
        hub.publish(&scope, "execution.started", "x1", None, Value::Null);
        assert!(hub.outbox.lock().unwrap().is_empty());
        hub.relaying.store(true, Ordering::Relaxed);
        receive(&hub, "me", WANTED, "other-node");
        hub.publish(&scope, "execution.started", "x2", None, Value::Null);
        assert_eq!(hub.outbox.lock().unwrap().len(), 1);
        // Its own word does not count.
        let hub = Hub::default();
        hub.relaying.store(true, Ordering::Relaxed);
        receive(&hub, "me", WANTED, "me");
        assert!(!hub.wanted());
    }
}
