//! Several `weir serve` nodes on one PostgreSQL database under faults (issue 20, item 8).
//!
//! Orders run a workflow with HTTP calls to a recording sink, a delay and a wait for a payment
//! event with a timeout (half the orders are paid, the others time out), while one node is
//! killed (SIGKILL, then a replacement starts on its folder and port), another is paused past
//! its lease (SIGSTOP, then SIGCONT) and PostgreSQL is restarted. Then everything must finish,
//! and the figures are printed (`cargo test -p weir --test it chaos -- --nocapture`):
//!
//! - lost executions: orders accepted whose execution is missing, stuck or did not complete;
//! - completed steps re-run: a step completed twice in a run (the API's step attempts), or a
//!   completed step record written again (the database's log, below);
//! - actions applied twice with different keys: one order's call to one sink path under two
//!   `Idempotency-Key`s (or two executions for one order);
//! - stale writes: a commit under an epoch some other node's claim had already replaced, or a
//!   step record written outside a commit guarded by the lease;
//! - also required: no payment lost (sent after the run's wait was visible, answered while it
//!   had 300 ms left, yet the run timed out), every run on one of the two paths with its
//!   decision, and every call the path makes seen by the sink;
//! - and, reported without a bound: repeated deliveries with the same key (and whether any came
//!   after its step had completed), claims per run, and for each fault the time until the
//!   executions it held made progress again.
//!
//! What the nodes wrote is logged by triggers the test adds to the database (`chaos_log`): every
//! execution inserted, every claim (the epoch bumped, with the new owner), every commit (the
//! state written, with the owner and epoch that guarded it), every step record written and
//! every input queued or taken, each with its transaction; PostgreSQL's commit timestamps tell when each became visible.
//!
//! `WEIR_CHAOS_NODES` (default 2), `WEIR_CHAOS_EXECUTIONS` (default 600) and
//! `WEIR_CHAOS_RATE` (orders per second, default 25) size the run; the issue's figures are
//! with 3 nodes and 5,000 executions.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::peer::Peer;
use crate::serve::{Server, free_port, scratch};

const KEY: &str = "chaos-admin-key-0123456789abcdef";
const LEASE_MS: i64 = 1500;
/// How long the wait for the payment lasts, and when (after its order) a payment is sent.
const WAIT_MS: i64 = 3000;
const PAY_AFTER: Duration = Duration::from_millis(1500);
/// How long a node stays paused: well past its lease.
const PAUSE: Duration = Duration::from_secs(4);
/// How long PostgreSQL stays down.
const DB_DOWN: Duration = Duration::from_secs(2);

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn wall_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One request to a node, with timeouts (a paused node accepts connections but never answers).
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    timeout: Duration,
) -> Result<(u16, Value), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(body.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no answer: {text:?}"))?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let start = body.find(['{', '[']).unwrap_or(0);
    let end = body.rfind(['}', ']']).map_or(body.len(), |i| i + 1);
    let value = serde_json::from_str(&body[start..end.max(start)]).unwrap_or(Value::Null);
    Ok((status, value))
}

/// The nodes' ports and whether the test sends them work (a load balancer's view).
struct Nodes {
    ports: Vec<u16>,
    up: Vec<AtomicBool>,
}

impl Nodes {
    /// Posts an event to the nodes in turn from `first`, until one accepts it (the event's
    /// idempotency key makes a retry of an accepted event answer that event's executions).
    /// Returns the answer, the node and the attempts.
    fn post(&self, first: usize, body: &Value) -> Result<(Value, usize, u32), String> {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut last = String::new();
        for attempt in 0u32.. {
            let i = (first + attempt as usize) % self.ports.len();
            if self.up[i].load(Ordering::SeqCst) {
                match http(
                    self.ports[i],
                    "POST",
                    "/api/v1/events",
                    Some(body),
                    Duration::from_secs(10),
                ) {
                    Ok((200..=202, answer)) => return Ok((answer, i, attempt + 1)),
                    Ok((status, answer)) => last = format!("{status} {answer}"),
                    Err(e) => last = e,
                }
            }
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50 * u64::from(attempt.min(10))));
        }
        Err(last)
    }

    fn any_up(&self) -> u16 {
        let i = self.up.iter().position(|u| u.load(Ordering::SeqCst));
        self.ports[i.unwrap_or(0)]
    }
}

#[derive(Default, Clone)]
struct Order {
    accepted: bool,
    execution: Option<String>,
    node: usize,
    attempts: u32,
    /// When the payment was sent and answered (the wall clock, ms).
    paid_sent: Option<i64>,
    paid_answered: Option<i64>,
    /// How long the order's event took to be accepted (retries on other nodes included).
    took: Duration,
    error: Option<String>,
}

struct Fault {
    name: String,
    at: i64,
    /// When the node came back (SIGCONT, the replacement answering) or PostgreSQL was up.
    back: i64,
    /// The executions held (under a live lease) by what failed.
    held: Vec<String>,
    /// The node id of the node that failed.
    owner: Option<String>,
    /// A commit after this counts as progress (for a database restart: once it is back, not a
    /// commit that slipped in as it went down).
    moved_after: i64,
}

/// One row of `chaos_log`.
#[derive(Debug, Clone)]
struct Logged {
    seq: i64,
    tx: i64,
    at: i64,
    /// When it became visible (the commit timestamp), else `at`.
    ct: i64,
    kind: String,
    execution: String,
    owner: Option<String>,
    epoch: i64,
    lease: Option<i64>,
    step: Option<String>,
    key: Option<String>,
    old: Option<String>,
    new: Option<String>,
    /// A step record's `at`: when the run reached it, by the run's clock (ms).
    record_at: Option<i64>,
}

const AUDIT: &str = r#"
CREATE TABLE chaos_log (
    seq BIGSERIAL PRIMARY KEY,
    tx BIGINT NOT NULL DEFAULT txid_current(),
    at_ms BIGINT NOT NULL DEFAULT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT),
    kind TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    owner TEXT,
    epoch BIGINT,
    lease_ms BIGINT,
    step_id TEXT,
    record_key TEXT,
    old_status TEXT,
    new_status TEXT,
    record_at TEXT
);
CREATE FUNCTION chaos_executions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO chaos_log (kind, execution_id, owner, epoch, lease_ms, new_status)
      VALUES ('insert', NEW.id, NEW.lease_owner, NEW.epoch, NEW.lease_expires_ms, NEW.status);
    RETURN NULL;
  END IF;
  IF NEW.epoch IS DISTINCT FROM OLD.epoch THEN
    INSERT INTO chaos_log (kind, execution_id, owner, epoch, lease_ms, old_status, new_status, step_id)
      VALUES ('claim', NEW.id, NEW.lease_owner, NEW.epoch, NEW.lease_expires_ms, OLD.status, NEW.status, OLD.lease_owner);
  END IF;
  IF NEW.updated_ms IS DISTINCT FROM OLD.updated_ms OR NEW.state IS DISTINCT FROM OLD.state THEN
    INSERT INTO chaos_log (kind, execution_id, owner, epoch, lease_ms, old_status, new_status)
      VALUES ('commit', NEW.id, OLD.lease_owner, OLD.epoch, OLD.lease_expires_ms, OLD.status, NEW.status);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER chaos_executions AFTER INSERT OR UPDATE ON executions
  FOR EACH ROW EXECUTE FUNCTION chaos_executions();
CREATE FUNCTION chaos_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO chaos_log (kind, execution_id, step_id, record_key, old_status, new_status, record_at)
    VALUES ('step', NEW.execution_id, NEW.step_id, NEW.record_key,
            CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status,
            CAST(NEW.record AS json) ->> 'at');
  RETURN NULL;
END $$;
CREATE TRIGGER chaos_steps AFTER INSERT OR UPDATE ON step_executions
  FOR EACH ROW EXECUTE FUNCTION chaos_steps();
CREATE FUNCTION chaos_inbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO chaos_log (kind, execution_id, step_id, record_key, lease_ms)
      VALUES ('dequeue', OLD.execution_id, OLD.kind, OLD.item_key, OLD.run_at_ms);
    RETURN NULL;
  END IF;
  INSERT INTO chaos_log (kind, execution_id, step_id, record_key, lease_ms)
    VALUES (CASE WHEN TG_OP = 'INSERT' THEN 'queue' ELSE 'requeue' END,
            NEW.execution_id, NEW.kind, NEW.item_key, NEW.run_at_ms);
  RETURN NULL;
END $$;
CREATE TRIGGER chaos_inbox AFTER INSERT OR UPDATE OR DELETE ON inbox
  FOR EACH ROW EXECUTE FUNCTION chaos_inbox();
"#;

struct Db<'a> {
    pg: &'a weir_store::testing::Server,
    url: &'a str,
    rt: &'a tokio::runtime::Runtime,
}

impl<'a> Db<'a> {
    fn new(
        pg: &'a weir_store::testing::Server,
        url: &'a str,
        rt: &'a tokio::runtime::Runtime,
    ) -> Db<'a> {
        Db { pg, url, rt }
    }

    fn query(&self, select: &str) -> Vec<Value> {
        match self.rt.block_on(self.pg.query_json(self.url, select)) {
            Ok(Value::Array(rows)) => rows,
            Ok(other) => panic!("{select}: {other}"),
            Err(e) => panic!("{select}: {e}"),
        }
    }

    /// The node id of the node that accepted these executions (it holds a run it starts).
    fn owner_of(&self, executions: &[String]) -> Option<String> {
        let ids: Vec<String> = executions.iter().map(|e| format!("'{e}'")).collect();
        if ids.is_empty() {
            return None;
        }
        let rows = self.query(&format!(
            "SELECT owner, count(*) AS n FROM chaos_log WHERE kind = 'insert' AND owner IS NOT NULL \
             AND execution_id IN ({}) GROUP BY owner ORDER BY n DESC",
            ids.join(", ")
        ));
        rows.first()
            .and_then(|r| r["owner"].as_str())
            .map(str::to_owned)
    }

    /// The executions a node holds under a lease that has not run out.
    fn held_by(&self, owner: Option<&str>, at: i64) -> Vec<String> {
        let filter = match owner {
            Some(o) => format!("lease_owner = '{o}'"),
            None => "lease_owner IS NOT NULL".to_owned(),
        };
        self.query(&format!(
            "SELECT id FROM executions WHERE {filter} AND lease_expires_ms >= {at}"
        ))
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
    }
}

fn signal(server: &Server, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &server.pid().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {}", server.pid());
}

fn sleep_until(t: Instant) {
    if let Some(d) = t.checked_duration_since(Instant::now()) {
        std::thread::sleep(d);
    }
}

/// Who held an execution and wrote it, when (ms from the start), for a report of an anomaly.
fn history(log: &[Logged], execution: &str, start_ms: i64) -> String {
    let short = |o: &Option<String>| {
        o.as_deref().map_or("-".to_owned(), |o| {
            o[o.len().saturating_sub(6)..].to_owned()
        })
    };
    log.iter()
        .filter(|l| l.execution == execution && l.kind != "step")
        .map(|l| match l.kind.as_str() {
            "queue" | "requeue" | "dequeue" => format!(
                "{} {} {} due +{} +{}",
                l.kind,
                l.step.as_deref().unwrap_or(""),
                l.key.as_deref().unwrap_or(""),
                l.lease.unwrap_or(0) - start_ms,
                l.ct - start_ms
            ),
            _ => format!(
                "{} {}@{} +{}",
                l.kind,
                short(&l.owner),
                l.epoch,
                l.ct - start_ms
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Milliseconds as seconds with one decimal, for the report.
fn secs(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

#[test]
fn nodes_on_postgres_lose_and_repeat_nothing_under_kill_pause_and_a_database_restart() {
    let Some(mut pg) = weir_store::testing::Server::start() else {
        return;
    };
    let n_nodes = env_number("WEIR_CHAOS_NODES", 2).max(2);
    let total = env_number("WEIR_CHAOS_EXECUTIONS", 600).max(50);
    let rate = env_number("WEIR_CHAOS_RATE", 25).max(1);
    // Long enough for the three faults to be seconds apart, whatever the size.
    let window = Duration::from_millis(((total * 1000 / rate) as u64).max(24_000));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(pg.fresh_database("chaos"));
    let began = Instant::now();

    let sink = Peer::start();
    sink.slow("/reserve", Duration::from_millis(100));
    sink.slow("/charge", Duration::from_millis(300));
    sink.slow("/release", Duration::from_millis(300));
    let lease = LEASE_MS.to_string();
    let env = [
        ("WEIR_ADMIN_KEY", KEY),
        ("WEIR_LEASE_MS", lease.as_str()),
        ("WEIR_DATABASE_URL", url.as_str()),
        (
            "WEIR_MASTER_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        ),
        ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
    ];
    let dirs: Vec<PathBuf> = (0..n_nodes)
        .map(|i| scratch(&format!("chaos-{i}")))
        .collect();
    let ports: Vec<u16> = (0..n_nodes).map(|_| free_port()).collect();
    // The first node migrates the database and gets the workflow; the others start knowing it.
    let mut servers = vec![Server::start_with(&dirs[0], ports[0], &env)];
    let workflow = json!({
        "workflow_id": "chaos",
        "trigger": {"type": "event", "event": "chaos.order"},
        "steps": [
            {"id": "reserve", "type": "http_request", "config": {"url": sink.url("/reserve"), "method": "POST", "body": {"order": "{{order}}"}}},
            {"id": "pause", "type": "delay", "duration": "500ms"},
            {"id": "await", "type": "wait", "event": "chaos.paid",
             "match": {"field": "order", "operator": "eq", "value": "{{order}}"},
             "timeout": format!("{WAIT_MS}ms"), "on_timeout": "release"},
            {"id": "charge", "type": "http_request", "config": {"url": sink.url("/charge"), "method": "POST", "body": {"order": "{{order}}"}}},
            {"id": "paid", "type": "action", "action": "allow", "reason": "order {{order}} paid", "end": true},
            {"id": "release", "type": "http_request", "config": {"url": sink.url("/release"), "method": "POST", "body": {"order": "{{order}}"}}},
            {"id": "expired", "type": "action", "action": "block", "reason": "order {{order}} expired"}
        ]
    });
    let (status, answer) = http(
        ports[0],
        "POST",
        "/api/v1/workflows",
        Some(&workflow),
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(status, 201, "{answer}");
    for i in 1..n_nodes {
        servers.push(Server::start_with(&dirs[i], ports[i], &env));
    }
    rt.block_on(pg.execute(&url, AUDIT));

    let nodes = Nodes {
        ports: ports.clone(),
        up: (0..n_nodes).map(|_| AtomicBool::new(true)).collect(),
    };
    let orders: Mutex<Vec<Order>> = Mutex::new(vec![Order::default(); total]);
    let payments: Mutex<BinaryHeap<Reverse<(Instant, usize)>>> = Mutex::new(BinaryHeap::new());
    let next = AtomicUsize::new(0);
    let sent = AtomicUsize::new(0);
    let t0 = Instant::now() + Duration::from_millis(200);
    let start_ms = now_ms() + 200;
    let mut faults: Vec<Fault> = Vec::new();
    let mut killed_log = String::new();

    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        break;
                    }
                    sleep_until(t0 + window.mul_f64(i as f64 / total as f64));
                    let order = format!("o{i:05}");
                    let body = json!({"event_type": "chaos.order", "payload": {"order": order},
                        "timeout_ms": 0, "idempotency_key": format!("order-{order}")});
                    let asked = Instant::now();
                    let result = nodes.post(i, &body);
                    let took = asked.elapsed();
                    let mut o = orders.lock().unwrap();
                    let o = &mut o[i];
                    o.took = took;
                    match result {
                        Ok((answer, node, attempts)) => {
                            o.accepted = true;
                            o.node = node;
                            o.attempts = attempts;
                            o.execution = answer["executions"][0]["execution_id"]
                                .as_str()
                                .map(str::to_owned);
                            if i.is_multiple_of(2) {
                                payments
                                    .lock()
                                    .unwrap()
                                    .push(Reverse((Instant::now() + PAY_AFTER, i)));
                            }
                        }
                        Err(e) => o.error = Some(e),
                    }
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        for _ in 0..6 {
            s.spawn(|| {
                loop {
                    let due = payments.lock().unwrap().pop();
                    let Some(Reverse((at, i))) = due else {
                        if sent.load(Ordering::SeqCst) >= total {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    sleep_until(at);
                    let order = format!("o{i:05}");
                    let body = json!({"event_type": "chaos.paid", "payload": {"order": order},
                        "timeout_ms": 0, "idempotency_key": format!("paid-{order}")});
                    let sent_at = now_ms();
                    let result = nodes.post(i + 1, &body);
                    let answered = now_ms();
                    let mut o = orders.lock().unwrap();
                    match result {
                        Ok(_) => {
                            o[i].paid_sent = Some(sent_at);
                            o[i].paid_answered = Some(answered);
                        }
                        Err(e) => o[i].error = Some(format!("payment: {e}")),
                    }
                }
            });
        }

        // The faults, seconds apart.
        let accepted_by = |node: usize| -> Vec<String> {
            let o = orders.lock().unwrap();
            o.iter()
                .filter(|o| o.accepted && o.node == node)
                .filter_map(|o| o.execution.clone())
                .rev()
                .take(50)
                .collect()
        };
        sleep_until(t0 + window.mul_f64(0.2));
        let owner = Db::new(&pg, &url, &rt).owner_of(&accepted_by(0));
        nodes.up[0].store(false, Ordering::SeqCst);
        let at = now_ms();
        servers[0].signal_kill();
        killed_log = servers[0].stop_and_read_log();
        let held = owner
            .as_deref()
            .map_or(Vec::new(), |o| Db::new(&pg, &url, &rt).held_by(Some(o), at));
        servers[0] = Server::start_with(&dirs[0], ports[0], &env);
        nodes.up[0].store(true, Ordering::SeqCst);
        faults.push(Fault {
            name: "SIGKILL node 1, replacement started".into(),
            at,
            back: now_ms(),
            held,
            owner,
            moved_after: at,
        });

        sleep_until(t0 + window.mul_f64(0.45));
        let owner = Db::new(&pg, &url, &rt).owner_of(&accepted_by(1));
        nodes.up[1].store(false, Ordering::SeqCst);
        let at = now_ms();
        signal(&servers[1], "-STOP");
        let held = owner
            .as_deref()
            .map_or(Vec::new(), |o| Db::new(&pg, &url, &rt).held_by(Some(o), at));
        std::thread::sleep(PAUSE);
        signal(&servers[1], "-CONT");
        let back = now_ms();
        nodes.up[1].store(true, Ordering::SeqCst);
        faults.push(Fault {
            name: format!("SIGSTOP node 2 for {} s, SIGCONT", PAUSE.as_secs()),
            at,
            back,
            held,
            owner,
            moved_after: at,
        });

        sleep_until(t0 + window.mul_f64(0.75));
        let held = Db::new(&pg, &url, &rt).held_by(None, now_ms());
        let at = now_ms();
        pg.restart(DB_DOWN);
        let back = now_ms();
        faults.push(Fault {
            name: format!("PostgreSQL restart ({} s down)", DB_DOWN.as_secs()),
            at,
            back,
            held,
            owner: None,
            moved_after: back,
        });
    });
    let sending_ended = now_ms();
    let orders = orders.into_inner().unwrap();
    let db = Db::new(&pg, &url, &rt);

    // Everything finishes, within a bound.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut by_status: BTreeMap<String, i64>;
    loop {
        by_status = db
            .query("SELECT status, count(*) AS n FROM executions WHERE workflow_id = 'chaos' GROUP BY status")
            .iter()
            .map(|r| (r["status"].as_str().unwrap_or("?").to_owned(), r["n"].as_i64().unwrap_or(0)))
            .collect();
        let open: i64 = by_status
            .iter()
            .filter(|(s, _)| !["completed", "failed", "cancelled"].contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum();
        if open == 0 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let finished_ms = now_ms();

    // What the API says of every execution.
    let mut listed: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/executions?workflow_id=chaos&limit=1000&cursor={c}"),
            None => "/api/v1/executions?workflow_id=chaos&limit=1000".to_owned(),
        };
        let (status, page) =
            http(nodes.any_up(), "GET", &path, None, Duration::from_secs(60)).unwrap();
        assert_eq!(status, 200, "{page}");
        listed.extend(page["executions"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let details: Mutex<HashMap<String, Value>> = Mutex::new(HashMap::new());
    let ids: Vec<String> = listed
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    let cursor = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (ids, cursor, details, nodes) = (&ids, &cursor, &details, &nodes);
            s.spawn(move || {
                loop {
                    let i = cursor.fetch_add(1, Ordering::SeqCst);
                    let Some(id) = ids.get(i) else { break };
                    let port = nodes.ports[(i + t) % nodes.ports.len()];
                    let (status, detail) = http(
                        port,
                        "GET",
                        &format!("/api/v1/executions/{id}"),
                        None,
                        Duration::from_secs(30),
                    )
                    .unwrap();
                    assert_eq!(status, 200, "{detail}");
                    details.lock().unwrap().insert(id.clone(), detail);
                }
            });
        }
    });
    let details = details.into_inner().unwrap();

    // What the database logged.
    let log: Vec<Logged> = db
        .query(
            "SELECT seq, tx, at_ms, kind, execution_id, owner, epoch, lease_ms, step_id, record_key, old_status, new_status, record_at, \
             CAST(EXTRACT(EPOCH FROM pg_xact_commit_timestamp(xmin)) * 1000 AS BIGINT) AS ct FROM chaos_log ORDER BY seq",
        )
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().map(str::to_owned);
            Logged {
                seq: r["seq"].as_i64().unwrap_or(0),
                tx: r["tx"].as_i64().unwrap_or(0),
                at: r["at_ms"].as_i64().unwrap_or(0),
                ct: r["ct"].as_i64().or(r["at_ms"].as_i64()).unwrap_or(0),
                kind: text("kind").unwrap_or_default(),
                execution: text("execution_id").unwrap_or_default(),
                owner: text("owner"),
                epoch: r["epoch"].as_i64().unwrap_or(0),
                lease: r["lease_ms"].as_i64(),
                step: text("step_id"),
                key: text("record_key"),
                old: text("old_status"),
                new: text("new_status"),
                record_at: text("record_at")
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                    .map(|t| t.timestamp_millis()),
            }
        })
        .collect();
    // A connection a node opened and closed before sending a request (killed, say) is no call.
    let (requests, unsent): (Vec<_>, Vec<_>) = sink
        .requests()
        .into_iter()
        .partition(|r| !r.path.is_empty());

    // --- Lost executions.
    let not_accepted: Vec<String> = orders
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.accepted)
        .map(|(i, o)| format!("o{i:05}: {}", o.error.clone().unwrap_or_default()))
        .collect();
    let mut by_order: HashMap<String, Vec<&Value>> = HashMap::new();
    for e in &listed {
        if let Some(order) = e["context"]["order"].as_str() {
            by_order.entry(order.to_owned()).or_default().push(e);
        }
    }
    let mut lost: Vec<String> = Vec::new();
    let (mut no_execution, mut missing, mut stuck, mut failed) = (0, 0, 0, 0);
    for (i, o) in orders.iter().enumerate() {
        let order = format!("o{i:05}");
        if !o.accepted {
            continue;
        }
        let Some(id) = &o.execution else {
            no_execution += 1;
            lost.push(format!("{order}: accepted, no execution started"));
            continue;
        };
        match listed.iter().find(|e| e["id"].as_str() == Some(id)) {
            None => {
                missing += 1;
                lost.push(format!("{order}: execution {id} is not listed"));
            }
            Some(e)
                if !["completed", "failed", "cancelled"]
                    .contains(&e["status"].as_str().unwrap_or("")) =>
            {
                stuck += 1;
                lost.push(format!("{order}: execution {id} is still {}", e["status"]));
            }
            Some(e) if e["status"] != "completed" => {
                failed += 1;
                lost.push(format!(
                    "{order}: execution {id} ended {}: {}",
                    e["status"], e["error"]
                ));
            }
            Some(_) => {}
        }
    }

    // --- Completed steps re-run, and the path each run took.
    let final_status = ["completed", "failed", "skipped", "cancelled"];
    let mut completed_twice: Vec<String> = Vec::new();
    let mut retried_attempts = 0;
    let mut inconsistent: Vec<String> = Vec::new();
    let (mut paid_runs, mut expired_runs) = (0, 0);
    for (id, d) in &details {
        let steps = d["steps"].as_array().cloned().unwrap_or_default();
        let mut completed: HashMap<&str, usize> = HashMap::new();
        for s in &steps {
            let step = s["step_id"].as_str().unwrap_or("");
            if s["status"] == "completed" {
                *completed.entry(step).or_default() += 1;
            }
        }
        // Attempts after a step's first (an action's attempts count from 1, the others' from 0).
        let distinct: HashSet<&str> = steps.iter().filter_map(|s| s["step_id"].as_str()).collect();
        retried_attempts += steps.len() - distinct.len();
        for (step, n) in &completed {
            if *n > 1 {
                completed_twice.push(format!("{id}: {step} completed {n} times"));
            }
        }
        if d["status"] != "completed" {
            continue;
        }
        let order = d["context"]["order"].as_str().unwrap_or("?");
        let path: Vec<&str> = steps
            .iter()
            .filter(|s| s["status"] == "completed")
            .map(|s| s["step_id"].as_str().unwrap_or(""))
            .collect();
        let (decision, reason) = (d["decision"].as_str(), d["reason"].as_str().unwrap_or(""));
        if path == ["reserve", "pause", "await", "charge", "paid"]
            && decision == Some("allow")
            && reason == format!("order {order} paid")
        {
            paid_runs += 1;
        } else if path == ["reserve", "pause", "await", "release", "expired"]
            && decision == Some("block")
            && reason == format!("order {order} expired")
        {
            expired_runs += 1;
        } else {
            inconsistent.push(format!(
                "{id} ({order}): path {path:?}, decision {decision:?}, reason {reason:?}"
            ));
        }
    }
    let rewritten: Vec<&Logged> = log
        .iter()
        .filter(|l| l.kind == "step" && l.old.as_deref().is_some_and(|o| final_status.contains(&o)))
        .collect();

    // --- Actions applied twice: by order and sink path, the keys the calls carried.
    let mut keys: BTreeMap<(String, String), BTreeMap<String, Vec<SystemTime>>> = BTreeMap::new();
    for r in &requests {
        let route = r.path.split('?').next().unwrap_or("").to_owned();
        let order = r.json()["order"].as_str().unwrap_or("?").to_owned();
        let key = r
            .headers
            .get("idempotency-key")
            .cloned()
            .unwrap_or_default();
        keys.entry((route, order))
            .or_default()
            .entry(key)
            .or_default()
            .push(r.wall);
    }
    let mut different_keys: Vec<String> = Vec::new();
    let mut repeats: BTreeMap<String, usize> = BTreeMap::new();
    let mut repeats_after: BTreeMap<String, usize> = BTreeMap::new();
    let mut early_repeats: Vec<String> = Vec::new();
    for ((route, order), by_key) in &keys {
        if by_key.len() > 1 {
            different_keys.push(format!(
                "{order} {route}: keys {:?}",
                by_key.keys().collect::<Vec<_>>()
            ));
        }
        for (key, times) in by_key {
            *repeats.entry(route.clone()).or_default() += times.len() - 1;
            // Which fault the repeat followed.
            for t in times.iter().skip(1) {
                let fault = faults
                    .iter()
                    .rposition(|f| f.at <= wall_ms(*t))
                    .map_or("before any fault".to_owned(), |i| {
                        format!("after fault {}", i + 1)
                    });
                if fault == "before any fault" {
                    let exec = key.split(':').next().unwrap_or("");
                    early_repeats.push(format!(
                        "{key} again at +{} ms: {}",
                        wall_ms(*t) - start_ms,
                        history(&log, exec, start_ms)
                    ));
                }
                *repeats_after.entry(fault).or_default() += 1;
            }
        }
    }
    let two_executions: Vec<String> = by_order
        .iter()
        .filter(|(_, runs)| runs.len() > 1)
        .map(|(order, runs)| format!("{order}: {} executions", runs.len()))
        .collect();
    // A call the sink got after its step's completion was already committed.
    let mut completed_at: HashMap<(String, String), i64> = HashMap::new();
    for l in &log {
        if l.kind == "step" && l.new.as_deref() == Some("completed") {
            let k = (l.execution.clone(), l.step.clone().unwrap_or_default());
            let e = completed_at.entry(k).or_insert(l.ct);
            *e = (*e).min(l.ct);
        }
    }
    let mut after_completion: Vec<String> = Vec::new();
    for r in &requests {
        let key = r
            .headers
            .get("idempotency-key")
            .cloned()
            .unwrap_or_default();
        let mut parts = key.split(':');
        let (Some(exec), Some(step)) = (parts.next(), parts.next()) else {
            continue;
        };
        if let Some(done) = completed_at.get(&(exec.to_owned(), step.to_owned()))
            && wall_ms(r.wall) > *done
        {
            after_completion.push(format!(
                "{key}: the call came {} ms after the step completed, at +{} ms; {}",
                wall_ms(r.wall) - done,
                wall_ms(r.wall) - start_ms,
                history(&log, exec, start_ms)
            ));
        }
    }
    // Every order made its calls: a reservation, then a charge or a release.
    let mut calls_missing: Vec<String> = Vec::new();
    for (id, d) in &details {
        if d["status"] != "completed" {
            continue;
        }
        let order = d["context"]["order"].as_str().unwrap_or("?").to_owned();
        let second = if d["decision"] == "allow" {
            "/charge"
        } else {
            "/release"
        };
        for route in ["/reserve", second] {
            let called = keys
                .get(&(route.to_owned(), order.clone()))
                .is_some_and(|k| k.keys().all(|k| k.starts_with(id.as_str())));
            if !called {
                calls_missing.push(format!("{order} ({id}): {route}"));
            }
        }
    }

    // Claims per execution: a run is claimed again each time it has due work.
    let mut claimed: HashMap<&str, usize> = HashMap::new();
    for l in log.iter().filter(|l| l.kind == "claim") {
        *claimed.entry(l.execution.as_str()).or_default() += 1;
    }
    // Every payment is queued to every run waiting for the event type, whatever its `match`.
    let deliveries = log
        .iter()
        .filter(|l| l.kind == "queue" && l.step.as_deref() == Some("event"))
        .count();
    let payments_sent = orders.iter().filter(|o| o.paid_sent.is_some()).count();
    let most_claimed = claimed.iter().max_by_key(|(_, n)| **n);
    let claimed_often: Vec<String> = {
        let mut often: Vec<(&&str, &usize)> = claimed.iter().filter(|(_, n)| **n > 8).collect();
        often.sort_by_key(|(_, n)| Reverse(**n));
        often
            .iter()
            .map(|(e, n)| format!("{e} claimed {n} times: {}", history(&log, e, start_ms)))
            .collect()
    };

    // --- Stale writes.
    let mut claims: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    let mut guarded: HashSet<(i64, &str)> = HashSet::new();
    for l in &log {
        match l.kind.as_str() {
            "claim" => claims
                .entry(&l.execution)
                .or_default()
                .push((l.seq, l.epoch)),
            "commit" | "insert" => {
                guarded.insert((l.tx, l.execution.as_str()));
            }
            _ => {}
        }
    }
    let commits: Vec<&Logged> = log.iter().filter(|l| l.kind == "commit").collect();
    let superseded: Vec<String> = commits
        .iter()
        .filter(|c| {
            claims.get(c.execution.as_str()).is_some_and(|ks| {
                ks.iter()
                    .any(|(seq, epoch)| *epoch > c.epoch && *seq < c.seq)
            })
        })
        .map(|c| format!("{} by {:?} at epoch {}", c.execution, c.owner, c.epoch))
        .collect();
    let unguarded: Vec<String> = log
        .iter()
        .filter(|l| l.kind == "step" && !guarded.contains(&(l.tx, l.execution.as_str())))
        .map(|l| format!("{} {:?} {:?}", l.execution, l.key, l.new))
        .collect();
    let expired_lease_commits = commits
        .iter()
        .filter(|c| c.lease.is_some_and(|lease| lease < c.at))
        .count();
    // The paused node's commits after SIGCONT under leases it had taken before the pause.
    let mut acquired: HashMap<(&str, i64), i64> = HashMap::new();
    for l in &log {
        if l.kind == "claim" || l.kind == "insert" {
            acquired.insert((l.execution.as_str(), l.epoch), l.ct);
        }
    }
    let paused = faults.get(1);
    let paused_late: Vec<&&Logged> = commits
        .iter()
        .filter(|c| {
            paused.is_some_and(|f| {
                f.owner.is_some()
                    && c.owner == f.owner
                    && c.ct > f.back
                    && acquired
                        .get(&(c.execution.as_str(), c.epoch))
                        .is_some_and(|t| *t < f.at)
            })
        })
        .collect();
    let paused_late_expired = paused_late
        .iter()
        .filter(|c| c.lease.is_some_and(|lease| lease < c.at))
        .count();

    // --- Awaited payments that arrived while the run waited, yet the run timed out.
    // The wait of each run: when its waiting record became visible, and when it began by the
    // run's clock (its timeout is then WAIT_MS later).
    let mut waits: HashMap<&str, (i64, i64)> = HashMap::new();
    for l in &log {
        if l.kind == "step"
            && l.step.as_deref() == Some("await")
            && l.new.as_deref() == Some("waiting")
        {
            let began = l.record_at.unwrap_or(l.at);
            let e = waits.entry(l.execution.as_str()).or_insert((l.ct, began));
            *e = (e.0.min(l.ct), e.1.min(began));
        }
    }
    let (mut payments_lost, mut paid_too_early, mut paid_too_late) = (Vec::new(), 0, 0);
    for (i, o) in orders.iter().enumerate() {
        let (Some(id), Some(sent_at), Some(answered)) =
            (&o.execution, o.paid_sent, o.paid_answered)
        else {
            continue;
        };
        let Some((visible, began)) = waits.get(id.as_str()) else {
            continue;
        };
        let timed_out = details.get(id).is_some_and(|d| d["decision"] == "block");
        if !timed_out {
            continue;
        }
        if sent_at <= *visible {
            paid_too_early += 1;
        } else if answered + 300 > began + WAIT_MS {
            paid_too_late += 1;
        } else {
            payments_lost.push(format!(
                "o{i:05} ({id}): the wait began at +{} ms and was visible at +{} ms, the payment was sent at +{} ms and answered at +{} ms",
                began - start_ms,
                visible - start_ms,
                sent_at - start_ms,
                answered - start_ms,
            ));
        }
    }

    // --- Time to recover.
    let mut commit_times: HashMap<&str, Vec<i64>> = HashMap::new();
    for c in &commits {
        commit_times.entry(&c.execution).or_default().push(c.ct);
    }
    let mut buckets: BTreeMap<i64, usize> = BTreeMap::new();
    for c in &commits {
        *buckets.entry(c.ct / 250).or_default() += 1;
    }
    let mut recovery_lines = Vec::new();
    let mut finished_as_struck = 0;
    for f in &faults {
        let mut resumed: Vec<i64> = Vec::new();
        for e in &f.held {
            match commit_times
                .get(e.as_str())
                .and_then(|ts| ts.iter().filter(|t| **t > f.moved_after).min())
            {
                Some(t) => resumed.push(t - f.at),
                // It has no commit after the fault: it finished as the fault struck (an
                // execution that never finished is counted lost above).
                None => finished_as_struck += 1,
            }
        }
        resumed.sort_unstable();
        let before: Vec<usize> = ((f.at - 5000) / 250..f.at / 250)
            .map(|b| buckets.get(&b).copied().unwrap_or(0))
            .collect();
        let base = before.iter().sum::<usize>() as f64 / before.len().max(1) as f64;
        let back_to_half = (f.at / 250..f.at / 250 + 240)
            .find(|b| *b * 250 >= f.at && buckets.get(b).copied().unwrap_or(0) as f64 >= base / 2.0)
            .map(|b| (b * 250 - f.at).max(0));
        let took = |v: Option<&i64>| v.map_or("-".to_owned(), |ms| format!("+{}", secs(*ms)));
        recovery_lines.push(format!(
            "  {}{} at {} (back after {}): {} executions held; each moved on again: first {}, median {}, last {} ({} before it was back); commits back to half the rate before: {}",
            f.name,
            f.owner
                .as_deref()
                .map_or(String::new(), |o| format!(" (…{})", &o[o.len().saturating_sub(6)..])),
            secs(f.at - start_ms),
            secs(f.back - f.at),
            f.held.len(),
            took(resumed.first()),
            took(resumed.get(resumed.len() / 2)),
            took(resumed.last()),
            resumed.iter().filter(|ms| **ms < f.back - f.at).count(),
            took(back_to_half.as_ref()),
        ));
    }
    let per_second: Vec<String> = {
        let first = start_ms / 1000;
        let last = sending_ended / 1000 + 5;
        (first..=last)
            .map(|sec| {
                (0..4)
                    .map(|q| buckets.get(&(sec * 4 + q)).copied().unwrap_or(0))
                    .sum::<usize>()
                    .to_string()
            })
            .collect()
    };

    // What the nodes logged.
    let mut panics = Vec::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let logs: Vec<String> = std::iter::once(killed_log)
        .chain(servers.iter_mut().map(|s| s.stop_and_read_log()))
        .collect();
    for text in &logs {
        for line in text.lines().filter(|l| l.contains("ERROR")) {
            let what = line.split_once("ERROR").map_or(line, |(_, w)| w);
            let what: String = what.trim().chars().take(110).collect();
            *errors.entry(what).or_default() += 1;
        }
        if text.contains("panicked") {
            panics.push(
                text.lines()
                    .filter(|l| l.contains("panicked"))
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
    }
    drop(servers);
    for dir in &dirs {
        let _ = std::fs::remove_dir_all(dir);
    }

    let lost_n = no_execution + missing + stuck + failed;
    let rerun_n = completed_twice.len() + rewritten.len();
    let double_n = different_keys.len() + two_executions.len();
    let stale_n = superseded.len() + unguarded.len();
    let accepted = orders.iter().filter(|o| o.accepted).count();
    let retried_posts = orders.iter().filter(|o| o.attempts > 1).count();
    let percentiles = |mut v: Vec<i64>| {
        v.sort_unstable();
        let at = |q: f64| {
            v.get(((v.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or(0)
        };
        format!(
            "p50 {} ms, p99 {} ms, max {} ms",
            at(0.5),
            at(0.99),
            at(1.0)
        )
    };
    let order_latency = percentiles(orders.iter().map(|o| o.took.as_millis() as i64).collect());
    let payment_latency = percentiles(
        orders
            .iter()
            .filter_map(|o| Some(o.paid_answered? - o.paid_sent?))
            .collect(),
    );
    let payment_delay = percentiles(
        orders
            .iter()
            .filter_map(|o| {
                let (visible, _) = waits.get(o.execution.as_deref()?)?;
                Some(o.paid_sent? - visible)
            })
            .collect(),
    );
    let total_repeats: usize = repeats.values().sum();
    let sample = |v: &[String]| {
        v.iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n      ")
    };
    eprintln!(
        "\n==== chaos: {n_nodes} weir serve nodes on one PostgreSQL, {total} executions, lease {LEASE_MS} ms ====\n\
         orders sent over {} ({} per second), {} of them retried on another node; all finished {} after the last was sent ({} in all)\n\
         executions by status: {by_status:?}; paid {paid_runs}, expired {expired_runs}; orders accepted {accepted} of {total}\n\
         time to accept an order: {order_latency}; a payment: {payment_latency}; payments sent after the wait was visible by {payment_delay}\n\
         lost executions ............................ {lost_n}  (no execution {no_execution}, not listed {missing}, stuck {stuck}, failed {failed})\n\
         completed steps re-run ..................... {rerun_n}  (a step completed twice {}, completed records written again {})\n\
         actions applied twice with different keys .. {double_n}  (an order's call under two keys {}, an order with two executions {})\n\
         stale writes ............................... {stale_n}  (commits after another node's claim {}, step records outside a guarded commit {})\n\
         same-key repeats (allowed) ................. {total_repeats}  by path {repeats:?}, by fault {repeats_after:?}; of which after the step had completed: {}\n\
         step attempts after the first .............. {retried_attempts}\n\
         claims: {} in all, at most {} of one execution; executions claimed more than 8 times: {}\n\
         payment events queued to waiting runs: {deliveries} for {payments_sent} payments ({paid_runs} matched)\n\
         sink connections closed before a request: {}\n\
         commits under a lease that had run out, nobody having claimed: {expired_lease_commits}; the paused node's commits after SIGCONT under leases from before the pause: {} ({} under a lease that had run out)\n\
         payments lost while the run waited ......... {}  (sent before the wait began: {paid_too_early}, too close to its end: {paid_too_late})\n\
         calls missing from the sink ................ {}\n\
         inconsistent runs .......................... {}\n\
         time to recover (from the fault):\n{}\n\
         held executions that finished as the fault struck (not counted above): {finished_as_struck}\n\
         commits per second from the first order: {}\n\
         node log lines with ERROR : {}; panics: {}\n{}\n\
         ====",
        secs(window.as_millis() as i64),
        total * 1000 / window.as_millis().max(1) as usize,
        retried_posts,
        secs(finished_ms - sending_ended),
        secs(began.elapsed().as_millis() as i64),
        completed_twice.len(),
        rewritten.len(),
        different_keys.len(),
        two_executions.len(),
        superseded.len(),
        unguarded.len(),
        after_completion.len(),
        claimed.values().sum::<usize>(),
        most_claimed.map_or(0, |(_, n)| *n),
        claimed_often.len(),
        unsent.len(),
        paused_late.len(),
        paused_late_expired,
        payments_lost.len(),
        calls_missing.len(),
        inconsistent.len(),
        recovery_lines.join("\n"),
        per_second.join(" "),
        errors.values().sum::<usize>(),
        panics.len(),
        errors
            .iter()
            .take(8)
            .map(|(e, n)| format!("    {n} × {e}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let early_repeats: Vec<String> = early_repeats
        .into_iter()
        .take(2)
        .map(|h| h.chars().take(1500).collect::<String>() + " …")
        .collect();
    // One run that was claimed most often, to show why.
    let claimed_often: Vec<String> = claimed_often
        .into_iter()
        .take(1)
        .map(|h| h.chars().take(900).collect::<String>() + " …")
        .collect();
    for (what, v) in [
        ("not accepted", &not_accepted),
        ("lost", &lost),
        ("completed twice", &completed_twice),
        ("different keys", &different_keys),
        ("two executions", &two_executions),
        ("stale commits", &superseded),
        ("unguarded step writes", &unguarded),
        ("calls after completion", &after_completion),
        ("claimed often", &claimed_often),
        ("repeated before any fault", &early_repeats),
        ("payments lost", &payments_lost),
        ("calls missing", &calls_missing),
        ("inconsistent", &inconsistent),
        ("panics", &panics),
    ] {
        if !v.is_empty() {
            eprintln!("  {what}:\n      {}", sample(v));
        }
    }

    assert!(
        not_accepted.is_empty(),
        "orders not accepted: {not_accepted:?}"
    );
    assert_eq!(lost_n, 0, "lost executions");
    assert_eq!(rerun_n, 0, "completed steps re-run");
    assert_eq!(double_n, 0, "actions applied twice with different keys");
    assert_eq!(stale_n, 0, "stale writes");
    assert!(payments_lost.is_empty(), "payments lost");
    assert!(calls_missing.is_empty(), "calls missing");
    assert!(inconsistent.is_empty(), "inconsistent runs");
    assert!(panics.is_empty(), "a node panicked");
    assert_eq!(paid_runs + expired_runs, accepted);
}
