//! Traces of runs, for OpenTelemetry: a trace per execution with a span for the run, one per
//! step attempt and one per action call. The engine describes finished spans ([`Span`]) and
//! hands them to the sink the server installs ([`install`], which exports them over OTLP);
//! without one nothing is built.
//!
//! A run outlives processes, so its ids are not kept in memory but derived: the trace is the
//! caller's when its event came with a W3C `traceparent` (kept in the run's state), else the
//! run's own id (a UUIDv7 is 128 bits, as a trace id is); span ids are hashes of what they
//! stand for (the run, a step record's key, an action's idempotency key), so a step recorded
//! on one node and its run ended on another share one tree.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use weir_store::{Scope, StepRow};

/// A finished span.
#[derive(Debug, Clone)]
pub struct Span {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// The parent's span id, and whether it is the caller's (remote).
    pub parent: Option<([u8; 8], bool)>,
    pub name: String,
    /// An outgoing call (an action) rather than work inside the run.
    pub client: bool,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<(&'static str, Attr)>,
    /// Set when what it stands for failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Text(String),
    Int(i64),
}

type Sink = Box<dyn Fn(Span) + Send + Sync>;
static SINK: OnceLock<Sink> = OnceLock::new();

/// Where finished spans go, for the life of the process (once).
pub fn install(sink: impl Fn(Span) + Send + Sync + 'static) {
    let _ = SINK.set(Box::new(sink));
}

/// Whether spans are wanted at all.
pub(crate) fn on() -> bool {
    SINK.get().is_some()
}

fn emit(span: Span) {
    if let Some(sink) = SINK.get() {
        sink(span);
    }
}

/// A W3C trace context: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. Returns the
/// normalized header, or `None` for one that does not read (which the standard says to
/// ignore).
pub fn parse_traceparent(text: &str) -> Option<String> {
    parse(text).map(|(t, s)| header(&t, &s))
}

fn parse(text: &str) -> Option<([u8; 16], [u8; 8])> {
    let parts: Vec<&str> = text.trim().split('-').collect();
    let [version, trace, span, flags, ..] = parts.as_slice() else {
        return None;
    };
    if version.len() != 2 || *version == "ff" || flags.len() != 2 {
        return None;
    }
    // Version 00 has exactly four parts; later versions may add more.
    if *version == "00" && parts.len() != 4 {
        return None;
    }
    let trace: [u8; 16] = hex(trace)?.try_into().ok()?;
    let span: [u8; 8] = hex(span)?.try_into().ok()?;
    hex(version)?;
    hex(flags)?;
    if trace == [0; 16] || span == [0; 8] {
        return None;
    }
    Some((trace, span))
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2)
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn header(trace: &[u8; 16], span: &[u8; 8]) -> String {
    format!("00-{}-{}-01", to_hex(trace), to_hex(span))
}

fn sha256(bytes: &[u8]) -> ring::digest::Digest {
    ring::digest::digest(&ring::digest::SHA256, bytes)
}

fn span_id(what: &str) -> [u8; 8] {
    let digest = sha256(what.as_bytes());
    let digest = digest.as_ref();
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    if id == [0; 8] {
        id[7] = 1;
    }
    id
}

/// A run's ids in its trace.
#[derive(Debug, Clone)]
pub(crate) struct RunIds {
    trace: [u8; 16],
    /// The run's own span.
    root: [u8; 8],
    /// The caller's span, when the run joined its trace.
    caller: Option<[u8; 8]>,
}

/// The id of the run a (sub-workflow) run descends from: `<root>-child-N-child-M`.
fn root_of(execution_id: &str) -> &str {
    execution_id
        .split_once("-child-")
        .map_or(execution_id, |(root, _)| root)
}

pub(crate) fn run_ids(execution_id: &str, traceparent: Option<&str>) -> RunIds {
    let root = span_id(&format!("run:{execution_id}"));
    match traceparent.and_then(parse) {
        Some((trace, caller)) => RunIds {
            trace,
            root,
            caller: Some(caller),
        },
        None => {
            let trace = uuid::Uuid::parse_str(root_of(execution_id))
                .map(|u| *u.as_bytes())
                .unwrap_or_else(|_| {
                    let d = sha256(execution_id.as_bytes());
                    let mut t = [0u8; 16];
                    t.copy_from_slice(&d.as_ref()[..16]);
                    t
                });
            RunIds {
                trace,
                root,
                caller: None,
            }
        }
    }
}

/// When a run began: its id (or its root run's) is a UUIDv7, which holds the time.
fn began(execution_id: &str) -> Option<SystemTime> {
    let (secs, nanos) = uuid::Uuid::parse_str(root_of(execution_id))
        .ok()?
        .get_timestamp()?
        .to_unix();
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, nanos))
}

fn common(scope: &Scope, workflow_id: &str, execution_id: &str) -> Vec<(&'static str, Attr)> {
    vec![
        ("weir.tenant", Attr::Text(scope.tenant.clone())),
        ("weir.environment", Attr::Text(scope.environment.clone())),
        ("weir.workflow_id", Attr::Text(workflow_id.to_owned())),
        ("weir.execution_id", Attr::Text(execution_id.to_owned())),
    ]
}

/// A run ended: its span, from its start to now, under the caller's span if it had one.
pub(crate) fn run_ended(
    scope: &Scope,
    workflow_id: &str,
    execution_id: &str,
    traceparent: Option<&str>,
    status: &str,
    error: Option<&str>,
) {
    if !on() {
        return;
    }
    let ids = run_ids(execution_id, traceparent);
    let end = SystemTime::now();
    let mut attributes = common(scope, workflow_id, execution_id);
    attributes.push(("weir.status", Attr::Text(status.to_owned())));
    emit(Span {
        trace_id: ids.trace,
        span_id: ids.root,
        parent: ids.caller.map(|c| (c, true)),
        name: format!("run {workflow_id}"),
        client: false,
        start: began(execution_id).unwrap_or(end).min(end),
        end,
        attributes,
        error: (status == "failed").then(|| error.unwrap_or("failed").to_owned()),
    });
}

/// When step records that have not ended were first written, by run and record key: an
/// attempt's span begins there. Bounded: past it, spans begin when they end.
static OPEN: OnceLock<Mutex<HashMap<String, SystemTime>>> = OnceLock::new();
const MAX_OPEN: usize = 100_000;

const ENDED: &[&str] = &["completed", "failed", "skipped", "cancelled", "timed_out"];

/// Step records were written: a span for each attempt that ended, under the run's span.
pub(crate) fn steps_written(
    scope: &Scope,
    workflow_id: &str,
    execution_id: &str,
    traceparent: Option<&str>,
    steps: &[StepRow],
) {
    if !on() || steps.is_empty() {
        return;
    }
    let ids = run_ids(execution_id, traceparent);
    let open = OPEN.get_or_init(Mutex::default);
    for s in steps {
        let record: serde_json::Value = serde_json::from_str(s.record.as_str()).unwrap_or_default();
        let at = record["at"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or_else(SystemTime::now, SystemTime::from);
        let key = format!("{execution_id}:{}", s.key);
        if !ENDED.contains(&s.status.as_str()) {
            let mut open = open.lock().expect("open steps");
            if open.len() < MAX_OPEN {
                open.entry(key).or_insert(at);
            }
            continue;
        }
        let start = open.lock().expect("open steps").remove(&key).unwrap_or(at);
        let mut attributes = common(scope, workflow_id, execution_id);
        attributes.push(("weir.step_id", Attr::Text(s.step_id.clone())));
        attributes.push(("weir.step_type", Attr::Text(s.step_type.clone())));
        attributes.push(("weir.attempt", Attr::Int(s.attempt)));
        attributes.push(("weir.status", Attr::Text(s.status.clone())));
        emit(Span {
            trace_id: ids.trace,
            span_id: span_id(&format!("step:{key}")),
            parent: Some((ids.root, false)),
            name: format!("step {}", s.step_id),
            client: false,
            start: start.min(at),
            end: at,
            attributes,
            error: (s.status == "failed").then(|| {
                record["error"]
                    .as_str()
                    .unwrap_or("failed")
                    .chars()
                    .take(500)
                    .collect()
            }),
        });
    }
}

/// An action call about to be made: its span's ids, and the `traceparent` it sends on.
pub(crate) struct Call {
    ids: RunIds,
    span: [u8; 8],
    start: SystemTime,
}

impl Call {
    pub(crate) fn begin(
        execution_id: &str,
        traceparent: Option<&str>,
        idempotency_key: &str,
    ) -> Call {
        Call {
            ids: run_ids(execution_id, traceparent),
            span: span_id(&format!("action:{idempotency_key}")),
            start: SystemTime::now(),
        }
    }

    /// What an outgoing request carries, so the other side joins this trace under the call.
    pub(crate) fn traceparent(&self) -> String {
        header(&self.ids.trace, &self.span)
    }

    pub(crate) fn end(
        self,
        scope: &Scope,
        workflow_id: &str,
        execution_id: &str,
        step_id: &str,
        action_type: &str,
        outcome: &str,
        error: Option<&str>,
    ) {
        if !on() {
            return;
        }
        let mut attributes = common(scope, workflow_id, execution_id);
        attributes.push(("weir.step_id", Attr::Text(step_id.to_owned())));
        attributes.push(("weir.action", Attr::Text(action_type.to_owned())));
        attributes.push(("weir.outcome", Attr::Text(outcome.to_owned())));
        emit(Span {
            trace_id: self.ids.trace,
            span_id: self.span,
            parent: Some((self.ids.root, false)),
            name: format!("action {action_type}"),
            client: true,
            start: self.start,
            end: SystemTime::now(),
            attributes,
            error: error.map(|e| e.chars().take(500).collect()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents_are_read_as_the_standard_says() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(parse_traceparent(good).as_deref(), Some(good));
        assert_eq!(
            parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").as_deref(),
            Some(good),
            "sent on sampled"
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
        assert!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future")
                .is_some(),
            "a later version may have more parts"
        );
    }

    #[test]
    fn a_run_without_a_caller_is_a_trace_of_its_own_and_its_children_share_it() {
        let id = "01937b3e-8f1a-7c2d-9e4f-0123456789ab";
        let own = run_ids(id, None);
        assert_eq!(to_hex(&own.trace), "01937b3e8f1a7c2d9e4f0123456789ab");
        assert!(own.caller.is_none());
        let child = run_ids(&format!("{id}-child-1"), None);
        assert_eq!(child.trace, own.trace);
        assert_ne!(child.root, own.root);
        let joined = run_ids(
            id,
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        assert_eq!(to_hex(&joined.trace), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            joined.caller.map(|c| to_hex(&c)).as_deref(),
            Some("00f067aa0ba902b7")
        );
        assert_eq!(
            joined.root, own.root,
            "the run's span id is its own either way"
        );
    }
}
