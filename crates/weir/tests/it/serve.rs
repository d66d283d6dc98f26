//! `weir serve` over real HTTP on loopback: bootstrap, auth, synchronous decisions, bad input,
//! graceful shutdown, and a crash (SIGKILL) in the middle of 200 runs.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub(crate) struct Server {
    child: Child,
    /// What the server wrote to stderr so far, read as it writes (a pipe nobody reads would
    /// stop the server at its first 64 KiB of log).
    log: Arc<Mutex<Vec<u8>>>,
    drain: Option<std::thread::JoinHandle<()>>,
    pub(crate) port: u16,
    dir: PathBuf,
    /// The admin key when it was given in WEIR_ADMIN_KEY rather than written to the data folder.
    admin_key: Option<String>,
}

/// Whether a server on this port answers `GET /health` with 200.
fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let asked =
        s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let mut head = [0u8; 12];
    asked.is_ok() && s.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    pub(crate) fn start(dir: &Path, port: u16) -> Server {
        Self::start_with(dir, port, &[])
    }

    pub(crate) fn start_with(dir: &Path, port: u16, env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weir"));
        cmd.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env_remove("WEIR_ADMIN_KEY")
        .env_remove("WEIR_DATABASE_URL")
        .env_remove("WEIR_LEASE_MS")
        .env_remove("WEIR_MASTER_KEY")
        .env_remove("WEIR_OUTBOUND_ALLOW")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let admin_key = env
            .iter()
            .find(|(k, _)| *k == "WEIR_ADMIN_KEY")
            .map(|(_, v)| (*v).to_owned());
        let mut child = cmd.spawn().expect("start weir serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut err = child.stderr.take().expect("stderr is piped");
        let drain = std::thread::spawn({
            let log = log.clone();
            move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    log.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            }
        });
        // The port is taken before the database is ready: ready is when /health answers.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !healthy(port) {
            assert!(Instant::now() < deadline, "weir serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            child,
            log,
            drain: Some(drain),
            port,
            dir: dir.to_owned(),
            admin_key,
        }
    }

    pub(crate) fn key(&self) -> String {
        if let Some(k) = &self.admin_key {
            return k.clone();
        }
        std::fs::read_to_string(self.dir.join("admin-api-key"))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// One HTTP/1.1 request; returns the status and the body as JSON.
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (u16, Value) {
        let mut headers = Vec::new();
        if let Some(k) = key {
            headers.push(("Authorization", format!("Bearer {k}")));
        }
        if let Some(t) = content_type {
            headers.push(("Content-Type", t.to_owned()));
        }
        self.request(method, path, &headers, body)
    }

    /// One HTTP/1.1 request with these headers; returns the status and the body as JSON.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> (u16, Value) {
        let (status, _, value) = self.exchange(method, path, headers, body);
        (status, value)
    }

    /// One HTTP/1.1 request; returns the status, the response's head and the body as JSON.
    pub(crate) fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> (u16, String, Value) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).unwrap();
        // A server may answer (413) before reading a large body; a reset then is expected.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        // Chunked bodies: keep what looks like the JSON document.
        let json_start = body.find(['{', '[']).unwrap_or(0);
        let json_end = body.rfind(['}', ']']).map_or(body.len(), |i| i + 1);
        let value = serde_json::from_str(&body[json_start..json_end.max(json_start)])
            .unwrap_or(Value::Null);
        (status, head.to_owned(), value)
    }

    pub(crate) fn json(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let key = self.key();
        self.call(
            method,
            path,
            Some(&key),
            Some("application/json"),
            body.to_string().as_bytes(),
        )
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server (SIGTERM, then waits) and returns what it wrote to stderr.
    pub(crate) fn stop_and_read_log(&mut self) -> String {
        self.signal("-TERM");
        if let Some(drain) = self.drain.take() {
            let _ = drain.join();
        }
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    pub(crate) fn get(&self, path: &str) -> (u16, Value) {
        let key = self.key();
        self.call("GET", path, Some(&key), None, b"")
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub(crate) fn signal_kill(&mut self) {
        assert!(!self.signal("-KILL").success());
    }

    fn signal(&mut self, sig: &str) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn scratch(name: &str) -> PathBuf {
    weir_store::testing::scratch(&format!("serve-{name}"))
}

/// (method, path, content type, body, expected status)
type BadCase = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    u16,
);

const ORDER: &str = include_str!("../../../../examples/order-approval.workflow.json");

#[test]
fn serve_bootstraps_authenticates_and_decides_synchronously() {
    let dir = scratch("basic");
    let mut server = Server::start(&dir, free_port());
    // The admin key is generated, kept only in a 0600 file, and never printed.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("admin-api-key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let key = server.key();
    assert!(key.len() >= 40);
    assert_eq!(server.call("GET", "/health", None, None, b"").0, 200);
    assert_eq!(
        server.call("GET", "/api/v1/executions", None, None, b"").0,
        401
    );
    assert_eq!(
        server
            .call("GET", "/api/v1/executions", Some("wrong"), None, b"")
            .0,
        401
    );

    let (status, body) = server.call(
        "POST",
        "/api/v1/workflows",
        Some(&key),
        Some("application/json"),
        ORDER.as_bytes(),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["workflow_id"].clone(), body["version"].clone()),
        (json!("high_value_order_approval"), json!(1))
    );
    let (status, w) = server.get("/api/v1/workflows/high_value_order_approval");
    assert_eq!(
        (status, w["definition"]["name"].clone()),
        (200, json!("High Value Order Approval"))
    );

    let (status, answer) = server.json("POST", "/api/v1/events", &json!({"event_type": "order.checkout.initiated", "payload": {"order": {"id": "o1", "total": 15000}}}));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["decision"], json!("block"));
    assert_eq!(
        answer["matched_workflows"],
        json!(["high_value_order_approval"])
    );
    let ex = &answer["executions"][0];
    assert_eq!(
        (ex["decision"].clone(), ex["reason"].clone()),
        (
            json!("block"),
            json!("Order requires approval for amounts over $10,000")
        )
    );
    let (status, answer) = server.json("POST", "/api/v1/events", &json!({"event_type": "order.checkout.initiated", "payload": {"order": {"id": "o2", "total": 20}}, "idempotency_key": "k1"}));
    assert_eq!((status, answer["decision"].clone()), (200, json!("allow")));
    let (_, again) = server.json("POST", "/api/v1/events", &json!({"event_type": "order.checkout.initiated", "payload": {"order": {"id": "o2", "total": 20}}, "idempotency_key": "k1"}));
    assert_eq!(
        (
            again["duplicate"].clone(),
            again["executions"][0]["execution_id"].clone()
        ),
        (json!(true), answer["executions"][0]["execution_id"].clone())
    );
    // Regression: the key with another payload answered the old event's result as if it were
    // this one's.
    let (status, reused) = server.json("POST", "/api/v1/events", &json!({"event_type": "order.checkout.initiated", "payload": {"order": {"id": "o3", "total": 20000}}, "idempotency_key": "k1"}));
    assert_eq!(
        (status, &reused["error"]["code"]),
        (409, &json!("conflict")),
        "{reused}"
    );
    assert!(
        reused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("idempotency key was used for another event"),
        "{reused}"
    );

    let id = answer["executions"][0]["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, e) = server.get(&format!("/api/v1/executions/{id}"));
    assert_eq!(status, 200);
    for field in [
        "id",
        "workflow_id",
        "workflow_version",
        "status",
        "decision",
        "reason",
        "trigger_event",
        "context",
        "error",
        "started_at",
        "completed_at",
        "duration_ms",
        "steps",
    ] {
        assert!(e.get(field).is_some(), "execution JSON lacks {field}: {e}");
    }
    assert_eq!(
        (e["status"].clone(), e["trigger_event"].clone()),
        (json!("completed"), json!("order.checkout.initiated"))
    );
    let step = &e["steps"][0];
    for field in ["step_id", "type", "status", "attempt", "output", "at"] {
        assert!(step.get(field).is_some(), "step JSON lacks {field}: {step}");
    }
    let (status, list) = server.get("/api/v1/executions?limit=10");
    assert_eq!(
        (status, list["executions"].as_array().unwrap().len()),
        (200, 2)
    );

    // SIGTERM: graceful, exit 0.
    let status = server.signal("-TERM");
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn serve_answers_bad_input_with_4xx_and_writes_nothing() {
    let dir = scratch("bad");
    let server = Server::start(&dir, free_port());
    let key = server.key();
    let cases: Vec<BadCase> = vec![
        (
            "POST",
            "/api/v1/events",
            Some("application/json"),
            b"{not json".to_vec(),
            400,
        ),
        (
            "POST",
            "/api/v1/events",
            Some("application/json"),
            b"[1,2]".to_vec(),
            400,
        ),
        (
            "POST",
            "/api/v1/events",
            Some("application/json"),
            br#"{"event_type": 5, "payload": [], "extra": 1}"#.to_vec(),
            422,
        ),
        (
            "POST",
            "/api/v1/events",
            Some("application/x-www-form-urlencoded"),
            b"a=b".to_vec(),
            415,
        ),
        (
            "POST",
            "/api/v1/events",
            Some("application/json"),
            format!(
                "{{\"event_type\":\"x\",\"payload\":{{\"a\":\"{}\"}}}}",
                "x".repeat(10 * 1024 * 1024)
            )
            .into_bytes(),
            413,
        ),
        (
            "POST",
            "/api/v1/events",
            Some("application/json"),
            ("[".repeat(10_000) + &"]".repeat(10_000)).into_bytes(),
            400,
        ),
        (
            "POST",
            "/api/v1/workflows",
            Some("application/json"),
            br#"{"workflow_id": "w", "steps": [{"id": "a", "type": "nope"}]}"#.to_vec(),
            422,
        ),
        (
            "POST",
            "/api/v1/workflows",
            Some("application/yaml"),
            b"workflow_id: [unclosed".to_vec(),
            400,
        ),
        ("GET", "/api/v1/workflows/missing", None, Vec::new(), 404),
        ("GET", "/api/v1/executions/missing", None, Vec::new(), 404),
        ("GET", "/api/v1/executions?limit=-1", None, Vec::new(), 400),
        ("GET", "/api/v1/executions?limit=0", None, Vec::new(), 400),
        (
            "POST",
            "/api/v1/executions/missing/cancel",
            None,
            Vec::new(),
            404,
        ),
        ("GET", "/api/v1/executions/a%00b", None, Vec::new(), 400),
        (
            "GET",
            "/api/v1/executions?status=%1b",
            None,
            Vec::new(),
            400,
        ),
        (
            "POST",
            "/api/v1/events",
            Some("application/json"),
            br#"{"event_type": "x", "source": "a\u0000b", "idempotency_key": "k\n"}"#.to_vec(),
            422,
        ),
        ("DELETE", "/api/v1/events", None, Vec::new(), 405),
        ("GET", "/api/v1/nothing-here", None, Vec::new(), 404),
    ];
    for (method, path, ct, body, expected) in cases {
        let (status, answer) = server.call(method, path, Some(&key), ct, &body);
        assert_eq!(status, expected, "{method} {path}: {answer}");
        if expected != 413 {
            assert!(
                answer["error"]["code"].is_string() && answer["error"]["message"].is_string(),
                "{method} {path}: {answer}"
            );
        }
    }
    // A syntax error says where, as the CLI does.
    let (status, answer) = server.call(
        "POST",
        "/api/v1/events",
        Some(&key),
        Some("application/json"),
        b"{\"event_type\": \"x\",\n \"payload\": {\"a\": 1,,}}",
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        (
            &answer["error"]["details"][0]["line"],
            &answer["error"]["details"][0]["column"]
        ),
        (&json!(2), &json!(21)),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("(line 2, column 21)")
    );
    // Regression: a Content-Length over the limit waited for the body (30 s, then 408) before
    // answering 413. Now the head alone gets the 413, while the body never comes.
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut answer = [0u8; 64];
    let n = s.read(&mut answer).unwrap_or(0);
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    let (status, w) = server.get("/api/v1/workflows");
    assert_eq!(
        (status, w["workflows"].as_array().unwrap().len()),
        (200, 0),
        "an invalid workflow is not stored"
    );
    let (_, list) = server.get("/api/v1/executions");
    assert_eq!(
        list["executions"].as_array().unwrap().len(),
        0,
        "a rejected event starts nothing"
    );
}

#[test]
fn a_killed_server_loses_nothing_and_repeats_no_completed_step() {
    let dir = scratch("crash");
    let port = free_port();
    let mut server = Server::start(&dir, port);
    let workflow = json!({
        "workflow_id": "durable",
        "trigger": {"type": "event", "event": "job.created"},
        "steps": [
            {"id": "first", "type": "log", "config": {"message": "start {{job}}"}},
            {"id": "pause", "type": "delay", "duration": "1500ms"},
            {"id": "await", "type": "wait", "event": "job.never", "timeout": "500ms", "on_timeout": "last"},
            {"id": "skipped", "type": "log", "config": {"message": "not reached"}},
            {"id": "last", "type": "action", "action": "allow", "reason": "job {{job}} done"}
        ]
    });
    assert_eq!(server.json("POST", "/api/v1/workflows", &workflow).0, 201);
    for i in 0..200 {
        let (status, _) = server.json("POST", "/api/v1/events", &json!({"event_type": "job.created", "payload": {"job": i}, "timeout_ms": 0, "idempotency_key": format!("job-{i}")}));
        assert_eq!(status, 200);
    }
    std::thread::sleep(Duration::from_millis(700));
    // What had completed before the kill, with the time it was recorded.
    let before: HashMap<String, Value> = completed_steps(&server);
    let status = server.signal("-KILL");
    assert!(!status.success());
    let server = Server::start(&dir, port);
    let deadline = Instant::now() + Duration::from_secs(120);
    let executions = loop {
        let (_, list) = server.get("/api/v1/executions?limit=1000");
        let list = list["executions"].as_array().cloned().unwrap_or_default();
        if list.len() == 200 && list.iter().all(|e| e["status"] == "completed") {
            break list;
        }
        assert!(
            Instant::now() < deadline,
            "not all executions finished: {}",
            list.iter().filter(|e| e["status"] != "completed").count()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    // Every execution finished once, with its decision.
    assert_eq!(executions.len(), 200);
    let mut jobs: Vec<String> = executions
        .iter()
        .map(|e| e["reason"].as_str().unwrap().to_owned())
        .collect();
    jobs.sort();
    jobs.dedup();
    assert_eq!(jobs.len(), 200, "each job decided exactly once");
    // A re-sent event after the crash starts nothing new.
    let (_, again) = server.json("POST", "/api/v1/events", &json!({"event_type": "job.created", "payload": {"job": 0}, "timeout_ms": 0, "idempotency_key": "job-0"}));
    assert_eq!(again["duplicate"], json!(true));
    // Steps completed before the kill were not run again: their records are untouched.
    let after = completed_steps(&server);
    assert!(
        !before.is_empty(),
        "some steps had completed before the kill"
    );
    for (key, record) in &before {
        assert_eq!(
            after.get(key),
            Some(record),
            "step {key} was rewritten after the restart"
        );
    }
    // Every execution has each of its steps' outputs; none lost.
    for e in &executions {
        let (_, detail) = server.get(&format!("/api/v1/executions/{}", e["id"].as_str().unwrap()));
        let ids: Vec<&str> = detail["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["status"] == "completed")
            .map(|s| s["step_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["first", "pause", "await", "last"], "{detail}");
    }
}

/// Every completed step record, by execution and record key.
fn completed_steps(server: &Server) -> HashMap<String, Value> {
    let (_, list) = server.get("/api/v1/executions?limit=1000");
    let mut out = HashMap::new();
    for e in list["executions"].as_array().cloned().unwrap_or_default() {
        let id = e["id"].as_str().unwrap().to_owned();
        let (_, detail) = server.get(&format!("/api/v1/executions/{id}"));
        for s in detail["steps"].as_array().cloned().unwrap_or_default() {
            if s["status"] == "completed" {
                out.insert(format!("{id}/{}", s["key"].as_str().unwrap()), s);
            }
        }
    }
    out
}

#[test]
fn deleting_a_workflow_with_running_executions_needs_force_and_cancels_them() {
    let dir = scratch("delete");
    let server = Server::start(&dir, free_port());
    let wf = json!({"workflow_id": "slow", "trigger": {"type": "event", "event": "go"}, "steps": [
        {"id": "nap", "type": "delay", "duration": "1h"}, {"id": "end", "type": "action", "action": "allow"}]});
    assert_eq!(server.json("POST", "/api/v1/workflows", &wf).0, 201);
    let (_, answer) = server.json(
        "POST",
        "/api/v1/events",
        &json!({"event_type": "go", "payload": {}}),
    );
    let id = answer["executions"][0]["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        answer["executions"][0]["status"],
        json!("waiting"),
        "the event answered once the run parked"
    );
    let key = server.key();
    let (status, body) = server.call("DELETE", "/api/v1/workflows/slow", Some(&key), None, b"");
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("conflict")),
        "{body}"
    );
    let (status, body) = server.call(
        "POST",
        &format!("/api/v1/executions/{id}/retry"),
        Some(&key),
        None,
        b"",
    );
    assert_eq!(status, 409, "only a failed run can be retried: {body}");
    let (status, body) = server.call(
        "DELETE",
        "/api/v1/workflows/slow?force=true",
        Some(&key),
        None,
        b"",
    );
    assert_eq!(
        (status, body["cancelled_executions"].clone()),
        (200, json!([id.clone()])),
        "{body}"
    );
    assert_eq!(server.get("/api/v1/workflows/slow").0, 404);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, e) = server.get(&format!("/api/v1/executions/{id}"));
        if e["status"] == "cancelled" {
            break;
        }
        assert!(Instant::now() < deadline, "the run was not cancelled: {e}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A deleted workflow starts nothing.
    let (_, answer) = server.json(
        "POST",
        "/api/v1/events",
        &json!({"event_type": "go", "payload": {}}),
    );
    assert_eq!(answer["executions"], json!([]));
}

/// Regression: serve made its data folder, database and keys before it found its port taken.
#[test]
fn a_port_in_use_is_said_before_anything_is_made() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = scratch("port-in-use").join("fresh");
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "serve",
            "--listen",
            &taken.local_addr().unwrap().to_string(),
            "--data-dir",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot listen on") && err.contains("in use"),
        "{err}"
    );
    assert!(!dir.exists(), "the data folder was made");
}

/// Regression: a database URL that cannot connect waited 30 s and then said only "pool timed
/// out". It now names the cause (and never the URL's password).
#[test]
fn a_database_that_cannot_be_reached_is_named_with_its_cause() {
    let dir = scratch("no-database");
    // A port nothing listens on.
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--data-dir",
        ])
        .arg(&dir)
        .args([
            "--database-url",
            &format!("postgres://weir:hunter2-pw@127.0.0.1:{port}/weir"),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot connect to the database"), "{err}");
    assert!(err.contains("Connection refused"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_nodes_on_postgres_share_the_work_and_the_survivor_finishes_it() {
    let Some(pg) = weir_store::testing::Server::start() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(pg.fresh_database("two_nodes"));
    let env = [
        ("WEIR_ADMIN_KEY", "two-node-admin-key-0123456789"),
        ("WEIR_LEASE_MS", "1500"),
        ("WEIR_DATABASE_URL", url.as_str()),
        // Every node opens the same secrets: one master key.
        (
            "WEIR_MASTER_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        ),
    ];
    let mut a = Server::start_with(&scratch("node-a"), free_port(), &env);
    let b = Server::start_with(&scratch("node-b"), free_port(), &env);
    // A node with another master key refuses to start, saying why.
    let mut other = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--data-dir",
        ])
        .arg(scratch("node-c"))
        .env("WEIR_DATABASE_URL", &url)
        .env("WEIR_MASTER_KEY", "ff".repeat(32))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = other.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = other.kill();
            panic!("a node with another master key started");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut why = String::new();
    other
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut why)
        .unwrap();
    assert!(!status.success());
    assert!(why.contains("master key is not the one"), "{why}");
    let workflow = json!({"workflow_id": "shared", "trigger": {"type": "event", "event": "job"}, "steps": [
        {"id": "first", "type": "log", "config": {"message": "job {{n}}"}},
        {"id": "pause", "type": "delay", "duration": "800ms"},
        {"id": "done", "type": "action", "action": "allow", "reason": "job {{n}}"}]});
    assert_eq!(a.json("POST", "/api/v1/workflows", &workflow).0, 201);
    for n in 0..100 {
        assert_eq!(
            a.json(
                "POST",
                "/api/v1/events",
                &json!({"event_type": "job", "payload": {"n": n}, "timeout_ms": 0})
            )
            .0,
            200
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(!a.signal("-KILL").success());
    // Node B sees the same database and finishes everything once A's leases have expired.
    let deadline = Instant::now() + Duration::from_secs(90);
    let list = loop {
        let (_, list) = b.get("/api/v1/executions?limit=1000");
        let list = list["executions"].as_array().cloned().unwrap_or_default();
        if list.len() == 100 && list.iter().all(|e| e["status"] == "completed") {
            break list;
        }
        assert!(Instant::now() < deadline, "node B did not finish the work");
        std::thread::sleep(Duration::from_millis(250));
    };
    let mut reasons: Vec<&str> = list.iter().map(|e| e["reason"].as_str().unwrap()).collect();
    reasons.sort_unstable();
    reasons.dedup();
    assert_eq!(reasons.len(), 100, "each job finished exactly once");
    // B started before the workflow was stored through A; its trigger index catches up.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, answer) = b.json(
            "POST",
            "/api/v1/events",
            &json!({"event_type": "job", "payload": {"n": 100}, "timeout_ms": 0}),
        );
        assert_eq!(status, 200, "{answer}");
        if !answer["executions"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node B never matched the workflow stored through A"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

impl Server {
    /// A JSON request with another key.
    pub(crate) fn with(
        &self,
        key: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        match body {
            Some(b) => self.call(
                method,
                path,
                Some(key),
                Some("application/json"),
                b.to_string().as_bytes(),
            ),
            None => self.call(method, path, Some(key), None, b""),
        }
    }
}

#[test]
fn tenants_keys_and_roles_isolate_and_limit_callers() {
    on_both_backends(
        "access",
        &[("WEIR_ADMIN_KEY", "root-key-for-tests")],
        |server, _| {
            let root = server.key();
            let (status, acme) = server.with(
                &root,
                "POST",
                "/api/v1/tenants",
                Some(json!({"name": "Acme Inc."})),
            );
            assert_eq!(status, 201, "{acme}");
            assert_eq!(acme["id"], json!("acme-inc"));
            assert_eq!(acme["environments"], json!(["development", "production"]));
            assert_eq!(
                server
                    .with(
                        &root,
                        "POST",
                        "/api/v1/tenants",
                        Some(json!({"name": "again", "id": "acme-inc"}))
                    )
                    .0,
                409
            );
            let new_key = |by: &str, body: Value| {
                let (status, k) = server.with(by, "POST", "/api/v1/api-keys", Some(body));
                assert_eq!(status, 201, "{k}");
                assert!(k["key"].as_str().unwrap().starts_with("weir_"));
                k
            };
            let admin = new_key(
                &root,
                json!({"tenant_id": "acme-inc", "environment": "production", "role": "admin", "name": "acme admin"}),
            );
            let admin_key = admin["key"].as_str().unwrap().to_owned();
            let owner = new_key(
                &root,
                json!({"tenant_id": "acme-inc", "environment": "production", "role": "owner", "name": "acme owner"}),
            );
            let owner_key = owner["key"].as_str().unwrap().to_owned();
            // The tenant's admin makes keys for its own tenant and environment only.
            let viewer = new_key(&admin_key, json!({"role": "viewer", "name": "dashboards"}));
            assert_eq!(
                (
                    viewer["tenant_id"].clone(),
                    viewer["environment"].clone(),
                    viewer["permissions"].clone()
                ),
                (
                    json!("acme-inc"),
                    json!("production"),
                    json!(["workflows:read"])
                )
            );
            let viewer_key = viewer["key"].as_str().unwrap().to_owned();
            let dev_body = json!({"environment": "development", "role": "editor", "name": "dev"});
            let (status, refused) = server.with(
                &admin_key,
                "POST",
                "/api/v1/api-keys",
                Some(dev_body.clone()),
            );
            assert_eq!(
                status, 403,
                "another environment needs the owner: {refused}"
            );
            let dev = new_key(&owner_key, dev_body);
            let dev_key = dev["key"].as_str().unwrap().to_owned();
            assert_eq!(
                server
                    .with(
                        &admin_key,
                        "POST",
                        "/api/v1/api-keys",
                        Some(json!({"tenant_id": "default", "role": "admin", "name": "x"}))
                    )
                    .0,
                404,
                "another tenant is not there for a tenant's admin"
            );
            assert_eq!(
                server
                    .with(
                        &admin_key,
                        "POST",
                        "/api/v1/tenants",
                        Some(json!({"name": "mine"}))
                    )
                    .0,
                403
            );
            assert_eq!(
                server
                    .with(
                        &viewer_key,
                        "POST",
                        "/api/v1/api-keys",
                        Some(json!({"role": "admin", "name": "x"}))
                    )
                    .0,
                403
            );
            let (_, listed) = server.with(&admin_key, "GET", "/api/v1/tenants", None);
            assert_eq!(listed["tenants"].as_array().unwrap().len(), 1);
            let (_, listed) = server.with(&root, "GET", "/api/v1/tenants", None);
            assert_eq!(listed["tenants"].as_array().unwrap().len(), 2);
            assert_eq!(
                server
                    .with(&admin_key, "GET", "/api/v1/tenants/default", None)
                    .0,
                404
            );
            let (status, keys) = server.with(&admin_key, "GET", "/api/v1/api-keys", None);
            assert_eq!(status, 200);
            let keys = keys["api_keys"].as_array().unwrap();
            assert_eq!(keys.len(), 3, "acme's production keys only");
            let (_, all_keys) = server.with(&owner_key, "GET", "/api/v1/api-keys", None);
            assert_eq!(all_keys["api_keys"].as_array().unwrap().len(), 4);
            assert!(
                keys.iter().all(|k| k.get("key").is_none()),
                "a key is shown once"
            );
            let staging = json!({"name": "staging"});
            assert_eq!(
                server
                    .with(
                        &admin_key,
                        "POST",
                        "/api/v1/tenants/acme-inc/environments",
                        Some(staging.clone())
                    )
                    .0,
                403,
                "environments are the owner's"
            );
            let (status, env) = server.with(
                &owner_key,
                "POST",
                "/api/v1/tenants/acme-inc/environments",
                Some(staging),
            );
            assert_eq!(
                (status, env["environments"].clone()),
                (201, json!(["development", "production", "staging"]))
            );

            // Roles limit what a key may do.
            let wf = json!({"workflow_id": "w", "trigger": {"type": "event", "event": "order.placed"},
        "steps": [{"id": "wait", "type": "wait", "event": "payment.received", "timeout": "1h", "on_timeout": "no"},
                  {"id": "no", "type": "action", "action": "block"}]});
            assert_eq!(
                server
                    .with(&viewer_key, "POST", "/api/v1/workflows", Some(wf.clone()))
                    .0,
                403
            );
            assert_eq!(
                server
                    .with(&admin_key, "POST", "/api/v1/workflows", Some(wf))
                    .0,
                201
            );
            assert_eq!(
                server
                    .with(&viewer_key, "GET", "/api/v1/workflows/w", None)
                    .0,
                200
            );
            assert_eq!(
                server
                    .with(
                        &viewer_key,
                        "POST",
                        "/api/v1/events",
                        Some(json!({"event_type": "order.placed", "payload": {}}))
                    )
                    .0,
                403
            );
            // Another tenant, or another environment of the same tenant, sees nothing.
            for other in [&root, &dev_key] {
                assert_eq!(
                    server.with(other, "GET", "/api/v1/workflows/w", None).0,
                    404
                );
                let (_, sent) = server.with(
                    other,
                    "POST",
                    "/api/v1/events",
                    Some(json!({"event_type": "order.placed", "payload": {}, "timeout_ms": 0})),
                );
                assert_eq!(
                    sent["matched_workflows"],
                    json!([]),
                    "events never start another scope's workflows"
                );
            }
            let (_, sent) = server.with(
                &admin_key,
                "POST",
                "/api/v1/events",
                Some(json!({"event_type": "order.placed", "payload": {}, "timeout_ms": 0})),
            );
            let run = sent["executions"][0]["execution_id"]
                .as_str()
                .unwrap()
                .to_owned();
            for other in [&root, &dev_key] {
                assert_eq!(
                    server
                        .with(other, "GET", &format!("/api/v1/executions/{run}"), None)
                        .0,
                    404
                );
                assert_eq!(
                    server
                        .with(
                            other,
                            "POST",
                            &format!("/api/v1/executions/{run}/cancel"),
                            None
                        )
                        .0,
                    404
                );
                let (_, list) = server.with(other, "GET", "/api/v1/executions", None);
                assert!(
                    list["executions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|e| e["id"] != json!(run))
                );
            }
            assert_eq!(
                server
                    .with(
                        &viewer_key,
                        "GET",
                        &format!("/api/v1/executions/{run}"),
                        None
                    )
                    .0,
                200
            );
            assert_eq!(
                server
                    .with(
                        &viewer_key,
                        "POST",
                        &format!("/api/v1/executions/{run}/cancel"),
                        None
                    )
                    .0,
                403
            );

            // Revoked and expired keys stop working.
            let vid = viewer["id"].as_str().unwrap();
            assert_eq!(
                server
                    .with(&dev_key, "DELETE", &format!("/api/v1/api-keys/{vid}"), None)
                    .0,
                403
            );
            assert_eq!(
                server
                    .with(&root, "GET", &format!("/api/v1/api-keys/{vid}"), None)
                    .0,
                200
            );
            let (status, revoked) = server.with(
                &admin_key,
                "DELETE",
                &format!("/api/v1/api-keys/{vid}"),
                None,
            );
            assert_eq!(status, 200);
            assert!(revoked["revoked_at"].is_string());
            assert_eq!(
                server
                    .with(&viewer_key, "GET", "/api/v1/workflows/w", None)
                    .0,
                401
            );
            assert_eq!(
                server
                    .with(
                        &admin_key,
                        "DELETE",
                        &format!("/api/v1/api-keys/{vid}"),
                        None
                    )
                    .0,
                409
            );
            let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
            let brief = new_key(
                &admin_key,
                json!({"role": "viewer", "name": "brief", "expires_at": soon}),
            );
            let brief_key = brief["key"].as_str().unwrap();
            assert_eq!(
                server.with(brief_key, "GET", "/api/v1/workflows", None).0,
                200
            );
            std::thread::sleep(Duration::from_millis(1600));
            assert_eq!(
                server.with(brief_key, "GET", "/api/v1/workflows", None).0,
                401,
                "expired"
            );

            // Bad input is refused with the field named, and writes nothing.
            for (body, path) in [
                (json!({"role": "god", "name": "x"}), "$.role"),
                (json!({"role": "viewer"}), "$.name"),
                (
                    json!({"role": "viewer", "name": "x", "expires_at": "2001-01-01T00:00:00Z"}),
                    "$.expires_at",
                ),
                (
                    json!({"role": "viewer", "name": "x", "expires_at": "tomorrow"}),
                    "$.expires_at",
                ),
                (
                    json!({"role": "viewer", "name": "x", "environment": "nowhere"}),
                    "$.environment",
                ),
                (
                    json!({"role": "viewer", "name": "x", "admin": true}),
                    "$.admin",
                ),
                (json!({"role": 7, "name": "x"}), "$.role"),
            ] {
                let (status, err) =
                    server.with(&admin_key, "POST", "/api/v1/api-keys", Some(body.clone()));
                assert_eq!(
                    (status, err["error"]["details"][0]["path"].clone()),
                    (422, json!(path)),
                    "{body}: {err}"
                );
            }
            assert_eq!(
                server
                    .with(
                        &root,
                        "POST",
                        "/api/v1/tenants",
                        Some(json!({"name": "!!!"}))
                    )
                    .0,
                422
            );
            assert_eq!(
                server
                    .with(&root, "POST", "/api/v1/tenants", Some(json!(["acme"])))
                    .0,
                400
            );
            assert_eq!(
                server
                    .call(
                        "POST",
                        "/api/v1/tenants",
                        Some(&root),
                        Some("application/json"),
                        b"{\"name\": "
                    )
                    .0,
                400
            );
            let (_, keys) = server.with(&admin_key, "GET", "/api/v1/api-keys", None);
            assert_eq!(
                keys["api_keys"].as_array().unwrap().len(),
                4,
                "no key was made by bad input"
            );

            // The audit log names who did what; an AI agent by its headers; no key appears in it.
            let agent = [
                ("Authorization", format!("Bearer {admin_key}")),
                ("Content-Type", "application/json".to_owned()),
                ("X-Agent-ID", "openai-agent-123".to_owned()),
                ("X-Agent-Type", "llm".to_owned()),
                ("X-Session-ID", "s-42".to_owned()),
            ];
            let wf2 = json!({"workflow_id": "w2", "trigger": {"type": "event", "event": "x"}, "steps": [{"id": "ok", "type": "action", "action": "allow"}]});
            let (status, _) = server.request(
                "POST",
                "/api/v1/workflows",
                &agent,
                wf2.to_string().as_bytes(),
            );
            assert_eq!(status, 201);
            let (status, log) =
                server.with(&admin_key, "GET", "/api/v1/audit?action=workflow.put", None);
            assert_eq!(status, 200, "{log}");
            let records = log["audit"].as_array().unwrap();
            assert_eq!(records.len(), 2, "{log}");
            assert_eq!(
                (
                    records[0]["actor_type"].clone(),
                    records[0]["actor_id"].clone(),
                    records[0]["target"].clone()
                ),
                (json!("ai_agent"), json!("openai-agent-123"), json!("w2"))
            );
            assert_eq!(records[0]["changes"]["agent"]["session_id"], json!("s-42"));
            assert_eq!(records[0]["changes"]["agent"]["api_key_id"], admin["id"]);
            assert_eq!(
                (
                    records[1]["actor_type"].clone(),
                    records[1]["actor_id"].clone()
                ),
                (json!("api_key"), admin["id"].clone())
            );
            let (_, everything) = server.with(&admin_key, "GET", "/api/v1/audit?limit=500", None);
            let text = everything.to_string();
            for secret in [&admin_key, &owner_key, &viewer_key, &dev_key] {
                assert!(!text.contains(secret.as_str()), "no key in the audit log");
            }
            let actions: Vec<&str> = everything["audit"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["action"].as_str().unwrap())
                .collect();
            for a in [
                "api_key.create",
                "api_key.revoke",
                "environment.create",
                "workflow.put",
            ] {
                assert!(actions.contains(&a), "{a} in {actions:?}");
            }
            let (_, page) = server.with(&admin_key, "GET", "/api/v1/audit?limit=2", None);
            let cursor = page["next_cursor"].as_str().unwrap();
            let (_, next) = server.with(
                &admin_key,
                "GET",
                &format!("/api/v1/audit?limit=2&cursor={cursor}"),
                None,
            );
            assert!(
                next["audit"][0]["id"].as_i64().unwrap() < page["audit"][1]["id"].as_i64().unwrap(),
                "the next page starts after the last record of this one"
            );
            assert_eq!(
                server.with(&viewer_key, "GET", "/api/v1/audit", None).0,
                401
            );
            assert_eq!(server.with(&dev_key, "GET", "/api/v1/audit", None).0, 403);
            assert_eq!(
                server
                    .with(&admin_key, "GET", "/api/v1/audit?since=yesterday", None)
                    .0,
                400
            );
            assert_eq!(
                server
                    .with(&admin_key, "GET", "/api/v1/audit?who=me", None)
                    .0,
                400
            );
        },
    );
}

/// Every file under `dir`, read whole.
pub(crate) fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

#[test]
fn users_sign_in_with_passwords_and_get_short_lived_sessions() {
    on_both_backends(
        "users",
        &[("WEIR_ADMIN_KEY", "users-root"), ("WEIR_SESSION_TTL", "3")],
        |server, dir| {
            let root = "users-root";
            let password = "correct horse battery staple";
            let new_user = json!({"email": "Ana@Example.com", "password": password, "role": "operator", "name": "Ana"});
            let (status, ana) = server.with(root, "POST", "/api/v1/users", Some(new_user.clone()));
            assert_eq!(status, 201, "{ana}");
            assert_eq!(ana["email"], "ana@example.com");
            assert_eq!(
                ana["permissions"],
                json!(["workflows:read", "workflows:execute", "approvals:decide"])
            );
            assert!(!ana.to_string().contains(password), "{ana}");
            let ana_id = ana["id"].as_str().unwrap().to_owned();
            // Bad users: taken email (any case), short password, bad email, unknown role.
            let mut taken = new_user.clone();
            taken["email"] = json!("ANA@example.com");
            assert_eq!(
                server.with(root, "POST", "/api/v1/users", Some(taken)).0,
                409
            );
            for (field, value) in [
                ("password", json!("short")),
                ("password", json!(12345678901_u64)),
                ("email", json!("not-an-email")),
                ("email", json!("a b@example.com")),
                ("role", json!("god")),
            ] {
                let mut bad = new_user.clone();
                bad["email"] = json!("bad@example.com");
                bad[field] = value;
                let (status, answer) = server.with(root, "POST", "/api/v1/users", Some(bad));
                assert_eq!(status, 422, "{field}: {answer}");
                assert_eq!(answer["error"]["details"][0]["path"], format!("$.{field}"));
            }
            let (_, list) = server.with(root, "GET", "/api/v1/users", None);
            assert_eq!(list["users"].as_array().unwrap().len(), 1, "{list}");

            // Sign-in: a wrong password and an unknown email answer alike.
            let login = |email: &str, pass: &str, env: Option<&str>| {
                let mut body = json!({"email": email, "password": pass});
                if let Some(env) = env {
                    body["environment"] = json!(env);
                }
                server.exchange(
                    "POST",
                    "/api/v1/auth/login",
                    &[("Content-Type", "application/json".to_owned())],
                    body.to_string().as_bytes(),
                )
            };
            let (status, _, wrong) = login("ana@example.com", "not the password", None);
            assert_eq!(status, 401, "{wrong}");
            let (status, _, unknown) = login("bob@example.com", password, None);
            assert_eq!(status, 401);
            assert_eq!(wrong, unknown);
            let (status, head, session) = login("ANA@example.com", password, None);
            assert_eq!(status, 201, "{session}");
            let token = session["token"].as_str().unwrap().to_owned();
            assert!(token.starts_with("wses_"), "{token}");
            assert_eq!(session["environment"], "production");
            assert_eq!(session["user"]["id"], ana_id.as_str());
            let cookie = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
                .unwrap_or_else(|| panic!("a cookie: {head}"));
            for part in [
                format!("weir_session={token}"),
                "HttpOnly".into(),
                "SameSite=Strict".into(),
            ] {
                assert!(cookie.contains(&part), "{cookie}");
            }
            assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
            // Behind a proxy that terminated TLS, the cookie is Secure.
            let (status, head, _) = server.exchange(
                "POST",
                "/api/v1/auth/login",
                &[
                    ("Content-Type", "application/json".to_owned()),
                    ("X-Forwarded-Proto", "https".to_owned()),
                ],
                json!({"email": "ana@example.com", "password": password})
                    .to_string()
                    .as_bytes(),
            );
            assert_eq!(status, 201);
            assert!(
                head.lines()
                    .any(|l| l.to_ascii_lowercase().starts_with("set-cookie:")
                        && l.contains("; Secure")),
                "{head}"
            );

            // The session acts with the user's role, by bearer token or by cookie.
            let (status, me) = server.with(&token, "GET", "/api/v1/auth/me", None);
            assert_eq!(status, 200, "{me}");
            assert_eq!(me["type"], "user");
            assert_eq!(me["role"], "operator");
            assert_eq!(me["user"]["email"], "ana@example.com");
            let (status, by_cookie) = server.request(
                "GET",
                "/api/v1/auth/me",
                &[("Cookie", format!("theme=dark; weir_session={token}"))],
                b"",
            );
            assert_eq!((status, &by_cookie["id"]), (200, &json!(ana_id)));
            assert_eq!(server.with(&token, "GET", "/api/v1/workflows", None).0, 200);
            let wf = json!({"workflow_id": "w", "trigger": {"type": "event", "event": "e"}, "steps": [{"id": "a", "type": "action", "action": "allow"}]});
            let (status, denied) =
                server.with(&token, "POST", "/api/v1/workflows", Some(wf.clone()));
            assert_eq!(status, 403, "{denied}");
            assert!(
                denied["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("user's role")
            );
            assert_eq!(server.with(&token, "GET", "/api/v1/users", None).0, 403);
            assert_eq!(
                server.with(root, "POST", "/api/v1/workflows", Some(wf)).0,
                201
            );

            // A session of another environment sees that environment only.
            let (status, _, dev) = login("ana@example.com", password, Some("development"));
            assert_eq!(status, 201, "{dev}");
            let dev_token = dev["token"].as_str().unwrap();
            assert_eq!(
                server.with(dev_token, "GET", "/api/v1/workflows/w", None).0,
                404
            );
            assert_eq!(
                server.with(&token, "GET", "/api/v1/workflows/w", None).0,
                200
            );
            assert_eq!(login("ana@example.com", password, Some("staging")).0, 422);

            // Sessions expire (TTL 3 s here), by the store's clock and the cache's alike.
            std::thread::sleep(Duration::from_millis(3200));
            let (status, expired) = server.with(&token, "GET", "/api/v1/auth/me", None);
            assert_eq!(status, 401, "{expired}");
            assert_eq!(
                server.with(dev_token, "GET", "/api/v1/auth/me", None).0,
                401
            );

            // Refresh trades a live session for a new one; logout ends one.
            let (_, _, s1) = login("ana@example.com", password, None);
            let t1 = s1["token"].as_str().unwrap().to_owned();
            let (status, s2) = server.with(&t1, "POST", "/api/v1/auth/refresh", None);
            assert_eq!(status, 201, "{s2}");
            let t2 = s2["token"].as_str().unwrap().to_owned();
            assert_ne!(t1, t2);
            assert_eq!(server.with(&t1, "GET", "/api/v1/auth/me", None).0, 401);
            assert_eq!(server.with(&t2, "GET", "/api/v1/auth/me", None).0, 200);
            assert_eq!(server.with(&t2, "POST", "/api/v1/auth/logout", None).0, 204);
            assert_eq!(server.with(&t2, "GET", "/api/v1/auth/me", None).0, 401);
            // An API key is not a session.
            assert_eq!(
                server.with(root, "POST", "/api/v1/auth/logout", None).0,
                400
            );

            // A user changes its own password: every session ends, the old password stops.
            let (_, _, s3) = login("ana@example.com", password, None);
            let t3 = s3["token"].as_str().unwrap().to_owned();
            let (_, _, s4) = login("ana@example.com", password, None);
            let t4 = s4["token"].as_str().unwrap().to_owned();
            let new_password = "a much better passphrase";
            let change = |current: &str| {
                server.with(
                    &t3,
                    "POST",
                    "/api/v1/auth/password",
                    Some(json!({"current_password": current, "new_password": new_password})),
                )
            };
            assert_eq!(change("wrong wrong wrong").0, 422);
            assert_eq!(change(password).0, 204);
            assert_eq!(server.with(&t3, "GET", "/api/v1/auth/me", None).0, 401);
            assert_eq!(server.with(&t4, "GET", "/api/v1/auth/me", None).0, 401);
            assert_eq!(login("ana@example.com", password, None).0, 401);
            let (status, _, s5) = login("ana@example.com", new_password, None);
            assert_eq!(status, 201);
            let t5 = s5["token"].as_str().unwrap().to_owned();

            // The admin changes the role, then disables the user: its sessions end.
            let user_path = format!("/api/v1/users/{ana_id}");
            let (status, promoted) =
                server.with(root, "PATCH", &user_path, Some(json!({"role": "editor"})));
            assert_eq!(
                (status, &promoted["role"]),
                (200, &json!("editor")),
                "{promoted}"
            );
            assert_eq!(
                server
                    .with(root, "PATCH", &user_path, Some(json!({"disabled": "yes"})))
                    .0,
                422
            );
            assert_eq!(
                server
                    .with(
                        root,
                        "PATCH",
                        "/api/v1/users/nobody",
                        Some(json!({"name": "x"}))
                    )
                    .0,
                404
            );
            let (status, disabled) = server.with(root, "DELETE", &user_path, None);
            assert_eq!(status, 200, "{disabled}");
            assert!(disabled["disabled_at"].is_string());
            assert_eq!(server.with(&t5, "GET", "/api/v1/auth/me", None).0, 401);
            assert_eq!(login("ana@example.com", new_password, None).0, 401);
            let (status, back) =
                server.with(root, "PATCH", &user_path, Some(json!({"disabled": false})));
            assert_eq!((status, &back["disabled_at"]), (200, &Value::Null));
            assert_eq!(login("ana@example.com", new_password, None).0, 201);

            // Another tenant's admin cannot see or touch the user.
            assert_eq!(
                server
                    .with(
                        root,
                        "POST",
                        "/api/v1/tenants",
                        Some(json!({"name": "Globex"}))
                    )
                    .0,
                201
            );
            let (_, globex) = server.with(root, "POST", "/api/v1/api-keys", Some(json!({"tenant_id": "globex", "environment": "production", "role": "admin", "name": "g"})));
            let globex = globex["key"].as_str().unwrap().to_owned();
            assert_eq!(server.with(&globex, "GET", &user_path, None).0, 404);
            assert_eq!(server.with(&globex, "DELETE", &user_path, None).0, 404);
            assert_eq!(
                server
                    .with(&globex, "GET", "/api/v1/users?tenant_id=default", None)
                    .0,
                404
            );
            let (_, theirs) = server.with(&globex, "GET", "/api/v1/users", None);
            assert_eq!(theirs["users"], json!([]));
            // The same email may be a user of another tenant, who signs in there.
            let mut twin = new_user.clone();
            twin["password"] = json!("globex password 1");
            assert_eq!(
                server.with(&globex, "POST", "/api/v1/users", Some(twin)).0,
                201
            );
            let (status, _, g) = server.exchange(
                "POST",
                "/api/v1/auth/login",
                &[("Content-Type", "application/json".to_owned())],
                json!({"email": "ana@example.com", "password": "globex password 1", "tenant_id": "globex"}).to_string().as_bytes(),
            );
            assert_eq!((status, &g["tenant_id"]), (201, &json!("globex")), "{g}");

            // Guessing is limited per email: 429 with Retry-After after 10 failures a minute.
            let mut last = (0, String::new());
            for _ in 0..11 {
                let (status, head, _) = login("guess@example.com", "guess guess guess", None);
                last = (status, head);
            }
            assert_eq!(last.0, 429);
            assert!(
                last.1.to_ascii_lowercase().contains("retry-after:"),
                "{}",
                last.1
            );

            // The audit log names the user as actor; no password or token is in it, and no
            // password is in any file of the data folder.
            let (_, audit) = server.with(
                root,
                "GET",
                &format!("/api/v1/audit?actor_id={ana_id}"),
                None,
            );
            let actions: Vec<&str> = audit["audit"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["action"].as_str().unwrap())
                .collect();
            assert!(
                actions.contains(&"session.start") && actions.contains(&"user.password"),
                "{actions:?}"
            );
            assert!(
                audit["audit"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["actor_type"] == "user")
            );
            let (_, all) = server.with(root, "GET", "/api/v1/audit?limit=500", None);
            let all = all.to_string();
            for secret in [password, new_password, &t1, &t5] {
                assert!(!all.contains(secret), "{secret} in the audit log");
            }
            for (path, bytes) in files_under(dir) {
                for secret in [password, new_password] {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "{secret} in {}",
                        path.display()
                    );
                }
            }
        },
    );
}

#[test]
fn workflows_have_versions_rollback_enable_and_a_manual_trigger() {
    on_both_backends("versions", &[], |server, _| {
        let key = server.key();
        let call =
            |method: &str, path: &str, body: Option<Value>| server.with(&key, method, path, body);
        // The flat shape: no workflow_id, the trigger's event_name; its path.
        let (status, created) = call(
            "POST",
            "/api/v1/workflows/definitions",
            Some(
                json!({"name": "Customer Onboarding - Standard", "tags": ["billing"],
                    "trigger": {"type": "event", "event_name": "customer.created"},
                    "steps": [{"id": "step_1", "type": "set", "variables": {"plan": "plan_starter"}}],
                    "enabled": true}),
            ),
        );
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["status"], json!("published"));
        let id = created["id"].as_str().unwrap().to_owned();
        let other = json!({"workflow_id": "other", "trigger": {"type": "event", "event": "x"}, "steps": [{"id": "ok", "type": "action", "action": "allow"}]});
        assert_eq!(call("POST", "/api/v1/workflows", Some(other)).0, 201);
        let ids = |path: &str| -> Vec<String> {
            let (status, list) = call("GET", path, None);
            assert_eq!(status, 200, "{path}: {list}");
            list["workflows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["workflow_id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(ids("/api/v1/workflows").len(), 2);
        assert_eq!(ids("/api/v1/workflows?tag=billing"), vec![id.clone()]);
        assert_eq!(
            ids("/api/v1/workflows?event=customer.created"),
            vec![id.clone()]
        );
        assert_eq!(ids("/api/v1/workflows?q=ONBOARDING"), vec![id.clone()]);
        assert_eq!(
            ids("/api/v1/workflows/definitions?enabled=true&limit=50&offset=0").len(),
            2
        );
        let (_, first) = call("GET", "/api/v1/workflows?limit=1", None);
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let rest = ids(&format!("/api/v1/workflows?limit=1&cursor={cursor}"));
        assert_eq!(rest.len(), 1);
        assert_ne!(
            rest[0],
            first["workflows"][0]["workflow_id"].as_str().unwrap()
        );
        assert_eq!(call("GET", "/api/v1/workflows?enabled=maybe", None).0, 400);

        // PUT makes version 2; the body may not name another workflow.
        let v2 = json!({"name": "Customer Onboarding - Standard", "trigger": {"type": "event", "event": "customer.created"},
                    "steps": [{"id": "step_1", "type": "set", "variables": {"plan": "plan_pro"}}]});
        let (status, put) = call("PUT", &format!("/api/v1/workflows/{id}"), Some(v2.clone()));
        assert_eq!((status, put["version"].clone()), (200, json!(2)), "{put}");
        let mut wrong = v2.clone();
        wrong["workflow_id"] = json!("other");
        assert_eq!(
            call("PUT", &format!("/api/v1/workflows/{id}"), Some(wrong)).0,
            422
        );
        assert_eq!(call("PUT", "/api/v1/workflows/nobody", Some(v2)).0, 404);
        let (_, versions) = call("GET", &format!("/api/v1/workflows/{id}/versions"), None);
        assert_eq!(versions["current_version"], json!(2));
        assert_eq!(versions["versions"].as_array().unwrap().len(), 2);
        let (_, v1) = call("GET", &format!("/api/v1/workflows/{id}/versions/1"), None);
        assert_eq!(
            v1["definition"]["steps"][0]["variables"]["plan"],
            json!("plan_starter")
        );
        assert_eq!(
            call("GET", &format!("/api/v1/workflows/{id}/versions/9"), None).0,
            404
        );
        assert_eq!(
            call("GET", &format!("/api/v1/workflows/{id}/versions/one"), None).0,
            400
        );
        // Roll back to version 1: new runs use it.
        assert_eq!(
            call(
                "POST",
                &format!("/api/v1/workflows/{id}/versions/1/activate"),
                None
            )
            .0,
            200
        );
        assert_eq!(
            call(
                "POST",
                &format!("/api/v1/workflows/{id}/versions/7/activate"),
                None
            )
            .0,
            404
        );
        let (_, sent) = call(
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": "customer.created", "payload": {}})),
        );
        assert_eq!(
            sent["executions"][0]["workflow_version"],
            json!(1),
            "{sent}"
        );

        // Disabled, it matches no event and cannot be run by hand.
        assert_eq!(
            call(
                "POST",
                &format!("/api/v1/workflows/definitions/{id}/disable"),
                None
            )
            .0,
            200
        );
        let (_, sent) = call(
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": "customer.created", "payload": {}})),
        );
        assert_eq!(sent["matched_workflows"], json!([]));
        assert_eq!(
            call("POST", &format!("/api/v1/workflows/{id}/execute"), None).0,
            409
        );
        assert_eq!(
            call("POST", &format!("/api/v1/workflows/{id}/enable"), None).0,
            200
        );

        // The manual trigger, by both names, with or without input.
        let (status, run) = call(
            "POST",
            &format!("/api/v1/workflows/{id}/execute"),
            Some(json!({"input": {"customer_id": "c1"}})),
        );
        assert_eq!(
            (status, run["status"].clone()),
            (202, json!("pending")),
            "{run}"
        );
        let (status, _) = call(
            "POST",
            &format!("/api/v1/workflows/definitions/{id}/trigger"),
            Some(json!({"trigger_data": {"customer_id": "cust_123"}})),
        );
        assert_eq!(status, 202);
        assert_eq!(
            call("POST", &format!("/api/v1/workflows/{id}/execute"), None).0,
            202
        );
        assert_eq!(
            call(
                "POST",
                &format!("/api/v1/workflows/{id}/execute"),
                Some(json!({"input": 5}))
            )
            .0,
            422
        );
        assert_eq!(
            call(
                "POST",
                &format!("/api/v1/workflows/{id}/execute"),
                Some(json!({"inputs": {}}))
            )
            .0,
            422
        );
        assert_eq!(
            call("POST", "/api/v1/workflows/nobody/execute", None).0,
            404
        );
        let run_id = run["execution_id"].as_str().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, e) = call(
                "GET",
                &format!("/api/v1/workflows/executions/{run_id}"),
                None,
            );
            assert_eq!(status, 200);
            if e["status"] == json!("completed") {
                assert_eq!(e["context"]["customer_id"], json!("c1"), "{e}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the manual run did not finish: {e}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let (_, log) = call("GET", "/api/v1/audit?limit=500", None);
        let actions: Vec<&str> = log["audit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        for a in [
            "workflow.put",
            "workflow.update",
            "workflow.activate",
            "workflow.disable",
            "workflow.enable",
            "workflow.execute",
        ] {
            assert!(actions.contains(&a), "{a} in {actions:?}");
        }
        // The flat body of a billing use case, as written, creates a workflow (a new version of
        // the onboarding workflow above, whose name it shares).
        let uc1 = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../examples/seeds/002-uc1-onboarding.workflow.json"),
        )
        .unwrap();
        let (status, stored) = server.call(
            "POST",
            "/api/v1/workflows/definitions",
            Some(&key),
            Some("application/json"),
            &uc1,
        );
        assert_eq!(status, 201, "{stored}");
        let (_, got) = call(
            "GET",
            &format!(
                "/api/v1/workflows/definitions/{}",
                stored["id"].as_str().unwrap()
            ),
            None,
        );
        assert_eq!(
            got["definition"]["steps"][1]["type"],
            json!("create_wallet"),
            "{got}"
        );
    });
}

/// Makes an operator user with this email, puts it in the team (made now when there is none),
/// and signs it in: its session token.
pub(crate) fn sign_in_as_member(server: &Server, key: &str, email: &str, team: &str) -> String {
    let password = "member password 1";
    let user = json!({"email": email, "password": password, "role": "operator"});
    let (status, made) = server.with(key, "POST", "/api/v1/users", Some(user));
    assert_eq!(status, 201, "{made}");
    let path = format!("/api/v1/teams/{team}");
    let (status, found) = server.with(key, "GET", &path, None);
    let (status, joined) = match status {
        404 => server.with(
            key,
            "POST",
            "/api/v1/teams",
            Some(json!({"name": team, "members": [email]})),
        ),
        _ => {
            let mut members: Vec<Value> = found["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].clone())
                .collect();
            members.push(json!(email));
            server.with(key, "PUT", &path, Some(json!({"members": members})))
        }
    };
    assert!(matches!(status, 200 | 201), "{joined}");
    session_token(server, email, password)
}

/// Signs a user in (to `environment`, or the default one): the status and the answer.
pub(crate) fn sign_in(
    server: &Server,
    email: &str,
    password: &str,
    environment: Option<&str>,
) -> (u16, Value) {
    let mut body = json!({"email": email, "password": password});
    if let Some(env) = environment {
        body["environment"] = json!(env);
    }
    server.request(
        "POST",
        "/api/v1/auth/login",
        &[("Content-Type", "application/json".to_owned())],
        body.to_string().as_bytes(),
    )
}

/// The session token of a user that signs in to the default environment.
pub(crate) fn session_token(server: &Server, email: &str, password: &str) -> String {
    let (status, session) = sign_in(server, email, password, None);
    assert_eq!(status, 201, "{session}");
    session["token"].as_str().unwrap().to_owned()
}

/// Polls `GET path` until `done` holds for its answer (10 s at most).
pub(crate) fn poll(server: &Server, key: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, v) = server.with(key, "GET", path, None);
        if status == 200 && done(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{path} did not get there: {status} {v}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn approvals_are_listed_decided_once_and_expire_along_on_timeout() {
    on_both_backends("approvals", &[], |server, _| {
        let key = server.key();
        let call =
            |method: &str, path: &str, body: Option<Value>| server.with(&key, method, path, body);
        // The approvals name the team 'manager': Mia, one of its members, decides them.
        let mia = sign_in_as_member(server, &key, "mia@example.com", "manager");
        let decide = |path: &str, body: Option<Value>| server.with(&mia, "POST", path, body);
        let ask = json!({"workflow_id": "ask", "trigger": {"type": "event", "event": "order.placed"}, "steps": [
        {"id": "ask", "type": "approval", "approver_role": "manager", "entity": "order", "entity_id": "{{order.id}}",
         "message": "approve order {{order.id}}?", "timeout": "1h", "on_approve": "ok", "on_reject": "no"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "no", "type": "action", "action": "block", "reason": "rejected"}]});
        let quick = json!({"workflow_id": "quick", "trigger": {"type": "event", "event": "order.rushed"}, "steps": [
        {"id": "ask", "type": "approval", "approver_role": "manager", "timeout": "1s", "on_approve": "ok", "on_timeout": "late"},
        {"id": "ok", "type": "action", "action": "allow"},
        {"id": "late", "type": "action", "action": "block", "reason": "nobody decided"}]});
        assert_eq!(call("POST", "/api/v1/workflows", Some(ask)).0, 201);
        assert_eq!(call("POST", "/api/v1/workflows", Some(quick)).0, 201);
        let mut runs = HashMap::new();
        for order in ["o1", "o2"] {
            let (_, sent) = call(
                "POST",
                "/api/v1/events",
                Some(json!({"event_type": "order.placed", "payload": {"order": {"id": order}}})),
            );
            assert_eq!(sent["executions"][0]["status"], json!("waiting"), "{sent}");
            runs.insert(
                order,
                sent["executions"][0]["execution_id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        let pending = poll(
            server,
            &key,
            "/api/v1/approvals?status=pending&entity=order",
            |v| v["approvals"].as_array().unwrap().len() == 2,
        );
        assert_eq!(pending["approvals"][0]["approver_role"], json!("manager"));
        let (_, one) = call("GET", "/api/v1/approvals?entity_id=o1", None);
        let o1 = one["approvals"][0].clone();
        assert_eq!(
            (
                o1["message"].clone(),
                one["approvals"].as_array().unwrap().len()
            ),
            (json!("approve order o1?"), 1)
        );
        let o1_id = o1["id"].as_str().unwrap().to_owned();
        let (_, two) = call("GET", "/api/v1/approvals?entity_id=o2", None);
        let o2_id = two["approvals"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            call("GET", &format!("/api/v1/approvals/{o1_id}"), None).0,
            200
        );

        // Only a key that may decide approvals decides, and only once.
        let (_, viewer) = call(
            "POST",
            "/api/v1/api-keys",
            Some(json!({"role": "viewer", "name": "v"})),
        );
        let viewer = viewer["key"].as_str().unwrap().to_owned();
        assert_eq!(
            server
                .with(
                    &viewer,
                    "POST",
                    &format!("/api/v1/approvals/{o1_id}/approve"),
                    None
                )
                .0,
            403
        );
        assert_eq!(
            server
                .with(&viewer, "GET", &format!("/api/v1/approvals/{o1_id}"), None)
                .0,
            200
        );
        for (body, status) in [
            (json!({"reason": 5}), 422),
            (json!({"why": "x"}), 422),
            (json!("yes"), 400),
        ] {
            assert_eq!(
                decide(&format!("/api/v1/approvals/{o1_id}/approve"), Some(body)).0,
                status
            );
        }
        let (status, decided) = decide(
            &format!("/api/v1/approvals/{o1_id}/approve"),
            Some(json!({"reason": "good customer"})),
        );
        assert_eq!(
            (status, decided["status"].clone(), decided["reason"].clone()),
            (200, json!("approved"), json!("good customer"))
        );
        assert!(decided["decided_by"].is_string() && decided["decided_at"].is_string());
        let (status, again) = decide(&format!("/api/v1/approvals/{o1_id}/reject"), None);
        assert_eq!(
            (status, again["error"]["code"].clone()),
            (409, json!("conflict"))
        );
        assert_eq!(
            decide(
                &format!("/api/v1/approvals/{o2_id}/reject"),
                Some(json!({"reason": "fraud"}))
            )
            .0,
            200
        );
        assert_eq!(decide("/api/v1/approvals/nope/approve", None).0, 404);
        for (order, decision) in [("o1", "allow"), ("o2", "block")] {
            let run = poll(
                server,
                &key,
                &format!("/api/v1/executions/{}", runs[order]),
                |e| e["status"] == json!("completed"),
            );
            assert_eq!(run["decision"], json!(decision), "{run}");
        }

        // Nobody decides in time: the approval expires and the run takes on_timeout.
        let (_, sent) = call(
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": "order.rushed", "payload": {}})),
        );
        let run = sent["executions"][0]["execution_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let done = poll(server, &key, &format!("/api/v1/executions/{run}"), |e| {
            e["status"] == json!("completed")
        });
        assert_eq!(
            (done["decision"].clone(), done["reason"].clone()),
            (json!("block"), json!("nobody decided"))
        );
        let (_, expired) = call(
            "GET",
            &format!("/api/v1/approvals?execution_id={run}"),
            None,
        );
        let expired = expired["approvals"][0].clone();
        assert_eq!(expired["status"], json!("expired"), "{expired}");
        let eid = expired["id"].as_str().unwrap();
        assert_eq!(
            decide(&format!("/api/v1/approvals/{eid}/approve"), None).0,
            409
        );
        assert_eq!(call("GET", "/api/v1/approvals?status=later", None).0, 400);

        // Another tenant sees none of it.
        let (_, t) = call("POST", "/api/v1/tenants", Some(json!({"name": "Other"})));
        let (_, k) = call(
            "POST",
            "/api/v1/api-keys",
            Some(
                json!({"tenant_id": t["id"], "environment": "production", "role": "admin", "name": "o"}),
            ),
        );
        let other = k["key"].as_str().unwrap();
        assert_eq!(
            server
                .with(other, "GET", &format!("/api/v1/approvals/{o1_id}"), None)
                .0,
            404
        );
        assert_eq!(
            server
                .with(
                    other,
                    "POST",
                    &format!("/api/v1/approvals/{o2_id}/approve"),
                    None
                )
                .0,
            404
        );
        let (_, none) = server.with(other, "GET", "/api/v1/approvals", None);
        assert_eq!(none["approvals"], json!([]));
    });
}

#[test]
fn events_and_executions_are_filtered_paged_and_traced() {
    on_both_backends("lists", &[], |server, _| {
        let key = server.key();
        let call =
            |method: &str, path: &str, body: Option<Value>| server.with(&key, method, path, body);
        let wf = json!({"workflow_id": "order_check", "trigger": {"type": "event", "event": "order.checkout.initiated"}, "steps": [
        {"id": "check", "type": "condition", "condition": {"field": "order.total", "operator": "gte", "value": 10000},
         "on_true": "hold", "on_false": "ok"},
        {"id": "hold", "type": "action", "action": "block", "reason": "over 10000"},
        {"id": "ok", "type": "action", "action": "allow"}]});
        assert_eq!(call("POST", "/api/v1/workflows", Some(wf)).0, 201);
        let mut event_ids = Vec::new();
        for total in [15000, 50, 20000] {
            let (_, sent) = call(
                "POST",
                "/api/v1/events",
                Some(
                    json!({"event_type": "order.checkout.initiated", "source": "shop", "payload": {"order": {"total": total}}}),
                ),
            );
            event_ids.push(sent["event_id"].as_str().unwrap().to_owned());
        }
        call(
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": "cart.updated", "payload": {}})),
        );
        let list = |path: &str, field: &str| -> Vec<Value> {
            let (status, v) = call("GET", path, None);
            assert_eq!(status, 200, "{path}: {v}");
            v[field].as_array().unwrap().clone()
        };
        assert_eq!(list("/api/v1/events", "events").len(), 4);
        assert_eq!(
            list("/api/v1/events?event_type=cart.updated", "events").len(),
            1
        );
        assert_eq!(
            list(
                "/api/v1/events?type=order.checkout.initiated&source=shop",
                "events"
            )
            .len(),
            3
        );
        let (_, first) = call("GET", "/api/v1/events?limit=2", None);
        let cursor = first["next_cursor"].as_str().unwrap();
        let rest = list(&format!("/api/v1/events?limit=2&cursor={cursor}"), "events");
        assert_eq!(rest.len(), 2);
        assert!(rest.iter().all(|e| {
            first["events"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["id"] != e["id"])
        }));
        let (status, ev) = call("GET", &format!("/api/v1/events/{}", event_ids[0]), None);
        assert_eq!(status, 200);
        assert_eq!(ev["payload"]["order"]["total"], json!(15000));
        assert_eq!(ev["triggered"][0]["workflow_id"], json!("order_check"));
        assert_eq!(ev["triggered"][0]["decision"], json!("block"));
        assert_eq!(call("GET", "/api/v1/events/nope", None).0, 404);

        assert_eq!(
            list("/api/v1/executions?decision=block", "executions").len(),
            2
        );
        assert_eq!(
            list(
                "/api/v1/executions?status=completed&decision=allow",
                "executions"
            )
            .len(),
            1
        );
        assert_eq!(
            list(
                "/api/v1/executions?event_type=order.checkout.initiated",
                "executions"
            )
            .len(),
            3
        );
        assert_eq!(
            list("/api/v1/executions?event_type=cart.updated", "executions").len(),
            0
        );
        assert_eq!(
            list(
                "/api/v1/executions?since=2999-01-01T00:00:00Z",
                "executions"
            )
            .len(),
            0
        );
        assert_eq!(
            list(
                "/api/v1/executions?until=2999-01-01T00:00:00Z",
                "executions"
            )
            .len(),
            3
        );
        assert_eq!(call("GET", "/api/v1/executions?since=monday", None).0, 400);
        // Regression: a misspelled filter or a made-up cursor answered an empty list.
        for (path, says) in [
            (
                "/api/v1/executions?status=done",
                "status must be one of pending, running",
            ),
            (
                "/api/v1/executions?decision=maybe",
                "decision must be one of allow, block",
            ),
            (
                "/api/v1/executions?cursor=zzz",
                "cursor is not one this endpoint gave",
            ),
            (
                "/api/v1/events?cursor=zzz",
                "cursor is not one this endpoint gave",
            ),
        ] {
            let (status, answer) = call("GET", path, None);
            assert_eq!(status, 400, "{path}: {answer}");
            assert!(
                answer["error"]["message"].as_str().unwrap().contains(says),
                "{path}: {answer}"
            );
        }
        let (_, page) = call("GET", "/api/v1/executions?limit=2", None);
        let cursor = page["next_cursor"].as_str().unwrap();
        let last = list(
            &format!("/api/v1/executions?limit=2&cursor={cursor}"),
            "executions",
        );
        assert_eq!(last.len(), 1);
        // The CRM paths.
        let runs = list("/api/v1/workflows/order_check/runs/", "executions");
        assert_eq!(runs.len(), 3);
        let run_id = ev["triggered"][0]["execution_id"].as_str().unwrap();
        assert_eq!(
            call("GET", &format!("/api/v1/workflow-runs/{run_id}/"), None).0,
            200
        );

        // The trace: start, each step with what it compared or did, end.
        let (status, trace) = call("GET", &format!("/api/v1/executions/{run_id}/trace"), None);
        assert_eq!(status, 200, "{trace}");
        let timeline = trace["timeline"].as_array().unwrap();
        let kinds: Vec<&str> = timeline
            .iter()
            .map(|t| t["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["started", "step", "step", "finished"], "{trace}");
        assert_eq!(
            timeline[0]["trigger_event"],
            json!("order.checkout.initiated")
        );
        let check = &timeline[1];
        assert_eq!(check["step_id"], json!("check"));
        assert_eq!(
            check["input"]["condition"],
            json!({"field": "order.total", "operator": "gte", "expected": 10000, "actual": 15000, "result": true})
        );
        assert!(check["at"].is_string());
        assert_eq!(timeline[2]["output"]["reason"], json!("over 10000"));
        assert_eq!(timeline[3]["decision"], json!("block"));

        let (_, t) = call("POST", "/api/v1/tenants", Some(json!({"name": "Other"})));
        let (_, k) = call(
            "POST",
            "/api/v1/api-keys",
            Some(
                json!({"tenant_id": t["id"], "environment": "production", "role": "admin", "name": "o"}),
            ),
        );
        let other = k["key"].as_str().unwrap();
        assert_eq!(
            server
                .with(
                    other,
                    "GET",
                    &format!("/api/v1/events/{}", event_ids[0]),
                    None
                )
                .0,
            404
        );
        assert_eq!(
            server
                .with(
                    other,
                    "GET",
                    &format!("/api/v1/executions/{run_id}/trace"),
                    None
                )
                .0,
            404
        );
        assert_eq!(
            server
                .with(
                    other,
                    "GET",
                    &format!("/api/v1/workflow-runs/{run_id}/"),
                    None
                )
                .0,
            404
        );
        let (_, none) = server.with(other, "GET", "/api/v1/events", None);
        assert_eq!(none["events"], json!([]));
    });
}

#[test]
fn rules_are_kept_tested_used_by_workflows_and_changed_for_new_runs() {
    on_both_backends("rules", &[], |server, _| {
        let key = server.key();
        let call =
            |method: &str, path: &str, body: Option<Value>| server.with(&key, method, path, body);
        // A stored rule, as written.
        let rule = json!({"rule_id": "check_cart_value", "type": "threshold",
                      "conditions": {"field": "cart.total", "operator": "greater_than", "value": 1000}});
        let (status, created) = call("POST", "/api/v1/rules", Some(rule.clone()));
        assert_eq!(status, 201, "{created}");
        assert_eq!(
            (created["type"].clone(), created["enabled"].clone()),
            (json!("threshold"), json!(true))
        );
        assert_eq!(call("POST", "/api/v1/rules", Some(rule)).0, 409);
        let (status, bad) = call(
            "POST",
            "/api/v1/rules",
            Some(
                json!({"rule_id": "r2", "conditions": {"field": "x", "operator": "bogus", "value": 1}}),
            ),
        );
        assert_eq!(status, 422, "{bad}");
        assert!(
            bad["error"]["details"][0]["path"]
                .as_str()
                .unwrap()
                .starts_with("$.conditions")
        );
        assert_eq!(
            call(
                "POST",
                "/api/v1/rules",
                Some(json!({"rule_id": "r3", "conditions": {"rule": "nope"}}))
            )
            .0,
            422
        );
        assert_eq!(
            call("POST", "/api/v1/rules", Some(json!({"rule_id": "r4"}))).0,
            422
        );

        // Workflows name it, in a trigger and in a condition step.
        let wf = json!({"workflow_id": "big_carts", "trigger": {"type": "event", "event": "cart.updated", "conditions": {"rule": "check_cart_value"}},
        "steps": [{"id": "is_big", "type": "condition", "condition": {"rule": "check_cart_value"}, "on_true": "hold", "on_false": "ok"},
                  {"id": "hold", "type": "action", "action": "block", "reason": "big cart"},
                  {"id": "ok", "type": "action", "action": "allow"}]});
        let (status, deployed) = call("POST", "/api/v1/workflows", Some(wf));
        assert_eq!(status, 201, "{deployed}");
        let send = |total: i64| {
            let (_, sent) = call(
                "POST",
                "/api/v1/events",
                Some(json!({"event_type": "cart.updated", "payload": {"cart": {"total": total}}})),
            );
            (
                sent["matched_workflows"].as_array().unwrap().len(),
                sent["decision"].clone(),
            )
        };
        assert_eq!(send(1500), (1, json!("block")));
        assert_eq!(send(500), (0, Value::Null));

        // Testing shows each comparison with the values compared.
        let (status, tested) = call(
            "POST",
            "/api/v1/rules/check_cart_value/test",
            Some(json!({"context": {"cart": {"total": 2500}}})),
        );
        assert_eq!(status, 200, "{tested}");
        assert_eq!(tested["result"], json!(true));
        assert_eq!(
            (
                tested["trace"]["actual"].clone(),
                tested["trace"]["expected"].clone()
            ),
            (json!(2500), json!(1000))
        );
        let (_, tested) = call(
            "POST",
            "/api/v1/rules/check_cart_value/test",
            Some(json!({"context": {}})),
        );
        assert_eq!(tested["result"], json!(false));
        assert_eq!(
            call(
                "POST",
                "/api/v1/rules/check_cart_value/test",
                Some(json!({"context": 5}))
            )
            .0,
            422
        );
        assert_eq!(call("POST", "/api/v1/rules/nope/test", None).0, 404);

        // A change applies to what is evaluated next.
        let (status, _) = call(
            "PUT",
            "/api/v1/rules/check_cart_value",
            Some(json!({"type": "threshold",
        "conditions": {"field": "cart.total", "operator": "gt", "value": 2000}})),
        );
        assert_eq!(status, 200);
        assert_eq!(send(1500), (0, Value::Null));
        assert_eq!(send(2500), (1, json!("block")));
        assert_eq!(call("PUT", "/api/v1/rules/check_cart_value", Some(json!({"rule_id": "other", "conditions": {"field": "a", "operator": "eq", "value": 1}}))).0, 422);
        assert_eq!(
            call(
                "PUT",
                "/api/v1/rules/nope",
                Some(json!({"conditions": {"field": "a", "operator": "eq", "value": 1}}))
            )
            .0,
            404
        );
        let (_, list) = call("GET", "/api/v1/rules", None);
        assert_eq!(list["rules"][0]["conditions"]["value"], json!(2000));

        // In use, it stays.
        let (status, err) = call("DELETE", "/api/v1/rules/check_cart_value", None);
        assert_eq!(status, 409);
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("big_carts")
        );
        assert_eq!(
            call("DELETE", "/api/v1/workflows/big_carts?force=true", None).0,
            200
        );
        assert_eq!(
            call("DELETE", "/api/v1/rules/check_cart_value", None).0,
            200
        );
        assert_eq!(call("GET", "/api/v1/rules/check_cart_value", None).0, 404);
        let (_, log) = call("GET", "/api/v1/audit?target=check_cart_value", None);
        let actions: Vec<&str> = log["audit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["rule.delete", "rule.update", "rule.create"]);
    });
}

#[test]
fn a_key_over_its_rate_limit_gets_429_with_retry_after() {
    let dir = scratch("ratelimit");
    let server = Server::start_with(
        &dir,
        free_port(),
        &[("WEIR_ADMIN_KEY", "limited-key"), ("WEIR_RATE_LIMIT", "5")],
    );
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..40 {
        let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        s.write_all(
            b"GET /api/v1/workflows HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer limited-key\r\n\r\n",
        )
        .unwrap();
        let mut raw = String::new();
        let _ = s.read_to_string(&mut raw);
        let status: u16 = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
        if status == 429 {
            assert!(raw.contains("rate_limited"), "{raw}");
            retry_after = raw.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("retry-after: ")
                    .map(str::to_owned)
            });
        }
        statuses.push(status);
    }
    assert!(
        statuses.iter().take(10).all(|s| *s == 200),
        "a burst of twice the rate passes: {statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    let wait: u64 = retry_after.expect("Retry-After").trim().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // Health checks need no key and are not limited; the limited key recovers.
    assert_eq!(server.call("GET", "/health", None, None, b"").0, 200);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        server
            .call("GET", "/api/v1/workflows", Some("limited-key"), None, b"")
            .0,
        200
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Every operation the server's OpenAPI document lists that needs a key: (method, path).
fn documented_operations(server: &Server) -> Vec<(String, String)> {
    let (status, doc) = server.call("GET", "/api/v1/openapi.json", None, None, b"");
    assert_eq!(status, 200, "the document is served without a key");
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        // The event stream never ends; tests/it/stream.rs tries it.
        if path == "/api/v1/stream" {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            if op["security"] != json!([]) {
                let path = path
                    .replace("{version}", "{id}")
                    .replace("{type}", "customer");
                ops.push((method.to_uppercase(), path));
            }
        }
    }
    ops
}

/// Throws hostile input at every endpoint of one server: nothing answers 5xx or drops the
/// connection, and nothing is written.
fn every_endpoint_refuses_hostile_input(server: &Server) {
    let key = server.key();
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 << 20));
    let yaml_bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    let bodies: Vec<(Option<&str>, Vec<u8>)> = vec![
        (None, b"".to_vec()),
        (Some("application/json"), b"{".to_vec()),
        (Some("application/json"), b"[]".to_vec()),
        (Some("application/json"), b"\"text\"".to_vec()),
        (Some("application/json"), b"-5e999".to_vec()),
        (Some("application/json"), b"null".to_vec()),
        (Some("application/json"), b"{\"zzz\": 1}".to_vec()),
        (Some("application/json"), br#"{"name": 5, "role": [], "event_type": {}, "payload": 7, "rule_id": 9, "conditions": "x", "input": [], "context": 1, "reason": {}, "workflow_id": "\u0000", "steps": 3, "tenant_id": "default\u0000"}"#.to_vec()),
        (Some("application/json"), br#"{"event_type": "a b", "payload": {}, "timeout_ms": -1}"#.to_vec()),
        (Some("application/json"), br#"{"role": "viewer", "name": "n", "expires_at": "9999-99-99"}"#.to_vec()),
        (Some("application/json"), deep.clone().into_bytes()),
        (Some("application/json"), huge.clone().into_bytes()),
        (Some("application/json"), vec![0xff, 0xfe, b'{', 0x80]),
        (Some("application/yaml"), yaml_bomb.as_bytes().to_vec()),
        (Some("text/plain"), b"hello".to_vec()),
    ];
    let ids = [
        "x",
        "%00",
        "..%2F..%2Fetc%2Fpasswd",
        "%F0%9F%92%A9",
        "%FF%FE",
        &"i".repeat(5000),
        "1",
    ];
    let queries = [
        "",
        "?limit=-1",
        "?limit=abc&limit=2",
        "?cursor=%00",
        "?since=x",
        "?zzz=1",
        "?force=maybe",
    ];
    let mut calls = 0;
    let endpoints = documented_operations(server);
    assert!(endpoints.len() >= 50, "{}", endpoints.len());
    for (method, template) in &endpoints {
        let method = method.as_str();
        for id in ids {
            let path = template.replace("{id}", id);
            for q in queries {
                let (status, body) =
                    server.call(method, &format!("{path}{q}"), Some(&key), None, b"");
                assert!(
                    (200..500).contains(&status),
                    "{method} {path}{q}: {status} {body}"
                );
                if status >= 400 {
                    assert!(
                        body["error"]["code"].is_string(),
                        "{method} {path}{q}: {status} {body}"
                    );
                }
                calls += 1;
            }
            if method == "GET" || method == "DELETE" {
                continue;
            }
            for (kind, body) in &bodies {
                let (status, answer) = server.call(method, &path, Some(&key), *kind, body);
                assert!(
                    (400..500).contains(&status)
                        || (method == "POST" && (200..300).contains(&status) && body.is_empty()),
                    "{method} {path} with {kind:?} body of {} bytes: {status} {answer}",
                    body.len()
                );
                if status >= 400 && status != 413 {
                    let code = &answer["error"]["code"];
                    assert!(
                        code.is_string() && answer["error"]["message"].is_string(),
                        "{method} {path}: {answer}"
                    );
                }
                calls += 1;
            }
        }
        // Without a key, or with a wrong one: 401 before anything else.
        let path = template.replace("{id}", "x");
        assert_eq!(
            server.call(method, &path, None, None, b"").0,
            401,
            "{method} {path}"
        );
        assert_eq!(
            server.call(method, &path, Some("wrong"), None, b"").0,
            401,
            "{method} {path}"
        );
    }
    // Sign-in is open: hostile bodies get 4xx there too, with or without a key.
    for (kind, body) in &bodies {
        for key in [None, Some(key.as_str())] {
            let (status, answer) = server.call("POST", "/api/v1/auth/login", key, *kind, body);
            assert!(
                (400..500).contains(&status),
                "login with {kind:?} body of {} bytes: {status} {answer}",
                body.len()
            );
        }
    }
    assert!(calls > 3000, "{calls}");
    assert_eq!(
        server.call("GET", "/health", None, None, b"").0,
        200,
        "still up"
    );
    // Nothing was written by any of it.
    for (path, field, n) in [
        ("/api/v1/workflows", "workflows", 0),
        ("/api/v1/events", "events", 0),
        ("/api/v1/executions", "executions", 0),
        ("/api/v1/rules", "rules", 0),
        ("/api/v1/api-keys", "api_keys", 1),
        ("/api/v1/tenants", "tenants", 1),
        ("/api/v1/users", "users", 0),
        ("/api/v1/teams", "teams", 0),
        ("/api/v1/secrets", "secrets", 0),
        ("/api/v1/records/customer", "records", 0),
        ("/api/v1/email-templates", "email_templates", 0),
        ("/api/v1/notifications", "notifications", 0),
        ("/api/v1/outbox", "emails", 0),
        ("/api/v1/connectors", "connectors", 0),
    ] {
        let (_, v) = server.get(path);
        assert_eq!(v[field].as_array().map(Vec::len), Some(n), "{path}: {v}");
    }
}

#[test]
fn every_endpoint_refuses_hostile_input_on_sqlite() {
    let dir = scratch("hostile");
    let server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", "hostile-admin-key"),
            ("WEIR_RATE_LIMIT", "0"),
        ],
    );
    every_endpoint_refuses_hostile_input(&server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_endpoint_refuses_hostile_input_on_postgres() {
    let Some(pg) = weir_store::testing::Server::start() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(pg.fresh_database("hostile"));
    let dir = scratch("hostile-pg");
    let server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", "hostile-admin-key"),
            ("WEIR_RATE_LIMIT", "0"),
            ("WEIR_DATABASE_URL", url.as_str()),
        ],
    );
    every_endpoint_refuses_hostile_input(&server);
    let _ = std::fs::remove_dir_all(dir);
}

/// The commands of a Markdown section's `sh` blocks (from its heading to the next `## `).
fn readme_commands(readme: &str, heading: &str) -> String {
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("README has a '## {heading}' section"));
    let mut script = String::new();
    for block in section.split("```sh\n").skip(1) {
        script.push_str(block.split("```").next().unwrap());
    }
    script
}

#[test]
fn the_readme_quickstart_and_the_api_tour_work_as_written() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = scratch("readme");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(repo.join("examples"), dir.join("examples")).unwrap();
    // As a new user would: `weir serve` with no options, in an empty folder.
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", 8080)).is_ok(),
        "this test runs `weir serve` on its default port 8080, which is taken"
    );
    let child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .arg("serve")
        .current_dir(&dir)
        .env_remove("WEIR_ADMIN_KEY")
        .env_remove("WEIR_DATABASE_URL")
        .env_remove("WEIR_LISTEN")
        .env_remove("WEIR_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Stopped when dropped, even when an assertion fails.
    let _server = Server {
        child,
        log: Arc::default(),
        drain: None,
        port: 8080,
        dir: dir.clone(),
        admin_key: None,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !healthy(8080) {
        assert!(Instant::now() < deadline, "weir serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = |script: &str| -> String {
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", script])
            .current_dir(&dir)
            .output()
            .expect("bash runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{script}\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    // The README's quickstart, line by line; `cargo run -q -p weir --` is the binary this test
    // was built with.
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let script = readme_commands(&readme, "Quickstart")
        .replace("cargo run -q -p weir --", env!("CARGO_BIN_EXE_weir"));
    assert!(script.contains("weir approve"), "{script}");
    let out = run(&script);
    assert!(out.contains("deployed order_check version 1"), "{out}");
    assert!(out.contains(": decision allow"), "the small order: {out}");
    assert!(
        out.contains("order_check") && out.contains("waiting"),
        "the big order waits: {out}"
    );
    assert!(out.contains(" approved\n"), "{out}");
    // The last table: both runs completed and allowed, the approved one included.
    let table = &out[out.rfind("WORKFLOW").unwrap_or_else(|| panic!("{out}"))..];
    let finished: Vec<&str> = table
        .lines()
        .filter(|l| {
            l.starts_with("order_check") && l.contains(" completed ") && l.contains(" allow ")
        })
        .collect();
    assert_eq!(finished.len(), 2, "{table}");
    assert!(
        table.contains("ord_2 may go through"),
        "the approved order was allowed: {table}"
    );

    // The API tour in docs/api.md, as written.
    let api = std::fs::read_to_string(repo.join("docs/api.md")).unwrap();
    let script = format!(
        "{}{}",
        readme_commands(&api, "Sending an event"),
        readme_commands(&api, "The operations")
    );
    let out = run(&script);
    assert!(out.contains(r#""decision":"block""#), "{out}");
    assert!(out.contains(r#""id":"acme""#), "a tenant was made: {out}");
    assert!(
        out.contains(r#""role":"editor""#) && out.contains(r#""key":"weir_"#),
        "{out}"
    );
    assert!(
        out.contains(r#""email":"ana@example.com""#) && out.contains(r#""token":"wses_"#),
        "a user was made and signed in: {out}"
    );
    assert!(
        out.contains(r#""name":"sales_manager","description":null,"members":[{"#),
        "a team was made: {out}"
    );

    // The "Deploy and Test" walkthrough, as written but for the auth header.
    std::fs::copy(
        repo.join("examples/seeds/001-readme.workflow.json"),
        dir.join("high-value-order-approval.json"),
    )
    .unwrap();
    let out = run(r#"
KEY=$(cat weir-data/admin-api-key)
# Deploy workflow
curl -X POST http://localhost:8080/api/v1/workflows \
  -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" \
  -d @high-value-order-approval.json

# Trigger with an event
curl -X POST http://localhost:8080/api/v1/events \
  -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "event_type": "order.checkout.initiated",
    "payload": {"order": {"id": "ord_123", "total": 15000}}
  }'

# View execution
curl -H "Authorization: Bearer $KEY" http://localhost:8080/api/v1/executions
"#);
    // curl prints the three answers one after another; the last is the list.
    let last = out.rfind(r#"{"executions""#).unwrap_or(0);
    let listed: Value = serde_json::from_str(&out[last..]).unwrap_or(Value::Null);
    let blocked = listed["executions"]
        .as_array()
        .unwrap_or_else(|| panic!("{out}"))
        .iter()
        .any(|e| {
            e["workflow_id"] == json!("high_value_order_approval")
                && e["decision"] == json!("block")
        });
    assert!(blocked, "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs the `weir` command against a server; returns its exit code, stdout and stderr.
pub(crate) fn weir_cli(server: &Server, key: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .env("WEIR_SERVER", format!("http://127.0.0.1:{}", server.port))
        .env("WEIR_API_KEY", key)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_remote_cli_drives_a_server() {
    on_both_backends(
        "cli",
        &[("WEIR_ADMIN_KEY", "cli-admin-key")],
        |server, dir| {
            let key = "cli-admin-key";
            let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let seed = repo.join("examples/seeds/001-readme.workflow.json");
            let seed = seed.to_str().unwrap();
            let ok = |args: &[&str]| -> String {
                let (code, out, err) = weir_cli(server, key, args);
                assert_eq!(code, 0, "weir {args:?}: {out} {err}");
                out
            };
            assert!(ok(&["deploy", seed]).contains("deployed high_value_order_approval version 1"));
            std::fs::create_dir_all(dir).unwrap();
            let broken = dir.join("broken.json");
            std::fs::write(
                &broken,
                r#"{"workflow_id": "b", "trigger": {"type": "event", "event": "x"}, "steps": 5}"#,
            )
            .unwrap();
            // Checked locally first, as `weir validate` reports it: with one file broken,
            // none is deployed.
            let fine = dir.join("fine.json");
            std::fs::write(&fine, r#"{"workflow_id": "fine", "trigger": {"type": "event", "event": "x"}, "steps": [{"id": "a", "type": "action", "action": "allow"}]}"#).unwrap();
            let (code, _, err) = weir_cli(
                server,
                key,
                &["deploy", fine.to_str().unwrap(), broken.to_str().unwrap()],
            );
            assert_eq!(code, 1, "{err}");
            assert!(
                err.contains("broken.json: error[WEIR-V004] $.steps:")
                    && err.contains("nothing deployed"),
                "{err}"
            );
            assert_eq!(
                server.with(key, "GET", "/api/v1/workflows/fine", None).0,
                404
            );
            // What only the server knows (a connector's action type) is left to it.
            let other = dir.join("other.json");
            std::fs::write(&other, r#"{"workflow_id": "other", "trigger": {"type": "event", "event": "x"}, "steps": [{"id": "a", "type": "crm_sync", "config": {}}]}"#).unwrap();
            let (code, _, err) = weir_cli(server, key, &["deploy", other.to_str().unwrap()]);
            assert_eq!(code, 1, "{err}");
            assert!(err.contains("422") && err.contains("crm_sync"), "{err}");
            assert!(ok(&["list"]).contains("high_value_order_approval"));
            let listed: Value =
                serde_json::from_str(&ok(&["list", "--enabled", "--output", "json"])).unwrap();
            assert_eq!(listed["workflows"].as_array().unwrap().len(), 1);
            let emitted = ok(&[
                "emit",
                "order.checkout.initiated",
                "--payload",
                r#"{"order": {"id": "o1", "total": 15000}}"#,
            ]);
            assert!(emitted.contains("decision block"), "{emitted}");
            let listed = ok(&["executions", "--workflow", "high_value_order_approval"]);
            assert!(
                listed.starts_with("WORKFLOW") && listed.contains("block"),
                "{listed}"
            );
            // One execution: its state and steps, and its timeline.
            let runs: Value = serde_json::from_str(&ok(&["executions", "-o", "json"])).unwrap();
            let run_id = runs["executions"][0]["id"].as_str().unwrap().to_owned();
            let shown = ok(&["execution", "show", &run_id]);
            assert!(
                shown.contains("decision   block") && shown.contains("check_order_value"),
                "{shown}"
            );
            let shown: Value =
                serde_json::from_str(&ok(&["execution", "show", &run_id, "-o", "json"])).unwrap();
            assert_eq!(shown["decision"], "block");
            let trace = ok(&["execution", "trace", &run_id]);
            assert!(
                trace.contains("started")
                    && trace.contains("compared")
                    && trace.contains("finished"),
                "{trace}"
            );
            let trace: Value =
                serde_json::from_str(&ok(&["execution", "trace", &run_id, "-o", "json"])).unwrap();
            assert_eq!(trace["timeline"][0]["kind"], "started");
            let (code, _, err) = weir_cli(
                server,
                key,
                &["execution", "show", "01a24299-0000-7000-8000-000000000000"],
            );
            assert_eq!(code, 1, "{err}");
            assert!(err.contains("404"), "{err}");
            // Unknown names and bad filters say so instead of printing nothing.
            let (code, _, err) = weir_cli(server, key, &["logs", "nonexistent"]);
            assert_eq!((code, err.contains("404")), (1, true), "{err}");
            let (code, _, err) = weir_cli(server, key, &["executions", "--status", "done"]);
            assert_eq!(
                (code, err.contains("status must be one of pending")),
                (1, true),
                "{err}"
            );
            // What a payload says reaches tables, never the terminal's control sequences.
            let esc = dir.join("esc.json");
            std::fs::write(&esc, json!({"workflow_id": "esc", "trigger": {"type": "event", "event": "esc"}, "steps": [
                {"id": "b", "type": "action", "action": "block", "reason": "note: {{note}}"}]}).to_string()).unwrap();
            ok(&["deploy", esc.to_str().unwrap()]);
            ok(&[
                "emit",
                "esc",
                "--payload",
                r#"{"note": "\u001b[2J\u009bgone"}"#,
            ]);
            let shown = ok(&["executions", "--workflow", "esc"]);
            assert!(
                shown.contains("note: ") && shown.contains("gone"),
                "{shown}"
            );
            assert!(
                !shown.contains('\u{1b}') && !shown.contains('\u{9b}'),
                "{shown:?}"
            );
            let logs = ok(&["logs", "high_value_order_approval"]);
            assert!(logs.starts_with("STARTED"), "{logs}");
            let logs = ok(&["logs", "high_value_order_approval", "-o", "json"]);
            let first: Value = serde_json::from_str(logs.lines().next().unwrap()).unwrap();
            assert_eq!(first["workflow_id"], "high_value_order_approval");

            // Versions: a second, declared 2.0.0; roll back by number, forward by declared version.
            let mut v2: Value =
                serde_json::from_str(&std::fs::read_to_string(seed).unwrap()).unwrap();
            v2["version"] = json!("2.0.0");
            let v2_file = dir.join("v2.json");
            std::fs::write(&v2_file, v2.to_string()).unwrap();
            assert!(ok(&["deploy", v2_file.to_str().unwrap()]).contains("version 2"));
            let versions = ok(&["version", "high_value_order_approval"]);
            assert_eq!(versions.lines().count(), 3, "{versions}");
            let versions: Value =
                serde_json::from_str(&ok(&["version", "high_value_order_approval", "-o", "json"]))
                    .unwrap();
            assert_eq!(versions["versions"].as_array().unwrap().len(), 2);
            assert!(
                ok(&["version", "high_value_order_approval", "1"]).contains("now runs version 1")
            );
            assert!(
                ok(&["version", "high_value_order_approval", "2.0.0"])
                    .contains("now runs version 2")
            );
            assert_eq!(
                weir_cli(
                    server,
                    key,
                    &["version", "high_value_order_approval", "9.9.9"]
                )
                .0,
                1
            );

            // Approvals.
            let ask = dir.join("ask.json");
            std::fs::write(&ask, json!({"workflow_id": "ask", "trigger": {"type": "event", "event": "ask"}, "steps": [
        {"id": "ask", "type": "approval", "approver_role": "manager", "timeout": "1h", "on_approve": "ok", "on_reject": "no"},
        {"id": "ok", "type": "action", "action": "allow"}, {"id": "no", "type": "action", "action": "block"}]}).to_string()).unwrap();
            ok(&["deploy", ask.to_str().unwrap()]);
            ok(&["emit", "ask"]);
            // Regression: an event whose run failed exited 0.
            let boom = dir.join("boom.json");
            std::fs::write(&boom, json!({"workflow_id": "boom", "trigger": {"type": "event", "event": "boom"}, "steps": [
        {"id": "call", "type": "http_request", "config": {"url": "http://10.0.0.1/"}}]}).to_string()).unwrap();
            ok(&["deploy", boom.to_str().unwrap()]);
            let (code, out, err) = weir_cli(server, key, &["emit", "boom"]);
            assert_eq!(code, 1, "{out} {err}");
            assert!(out.contains("boom") && out.contains("failed"), "{out}");
            assert!(
                err.contains("of boom failed:") && err.contains("10.0.0.1"),
                "{err}"
            );
            let pending = poll(server, key, "/api/v1/approvals?status=pending", |v| {
                v["approvals"].as_array().unwrap().len() == 1
            });
            let id = pending["approvals"][0]["id"].as_str().unwrap().to_owned();
            let listed = ok(&["approvals", "--status", "pending"]);
            assert!(
                listed.starts_with("ID") && listed.contains(&id) && listed.contains("manager"),
                "{listed}"
            );
            let listed: Value = serde_json::from_str(&ok(&["approvals", "-o", "json"])).unwrap();
            assert_eq!(listed["approvals"][0]["id"], id.as_str());
            // A member of the team 'manager' decides, signed in: the CLI sends its session.
            let member = sign_in_as_member(server, key, "cli@example.com", "manager");
            let (code, out, err) = weir_cli(server, &member, &["approve", &id, "--reason", "fine"]);
            assert!(code == 0 && out.contains("approved"), "{out} {err}");
            let (code, _, err) = weir_cli(server, &member, &["reject", &id]);
            assert_eq!(code, 1);
            assert!(err.contains("409"), "{err}");

            // logs --tail prints new executions as they start.
            let mut tail = Command::new(env!("CARGO_BIN_EXE_weir"))
                .args(["logs", "high_value_order_approval", "--tail"])
                .env("WEIR_SERVER", format!("http://127.0.0.1:{}", server.port))
                .env("WEIR_API_KEY", key)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let stdout = tail.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stdout)
                    .lines()
                    .map_while(Result::ok)
                {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let header = rx.recv_timeout(Duration::from_secs(10)).expect("a header");
            assert!(header.starts_with("STARTED"), "{header}");
            let first = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("the existing execution");
            assert!(first.contains("block"), "{first}");
            let (_, sent) = server.with(key, "POST", "/api/v1/events", Some(json!({"event_type": "order.checkout.initiated", "payload": {"order": {"id": "o2", "total": 5}}})));
            let new_id = sent["executions"][0]["execution_id"]
                .as_str()
                .unwrap()
                .to_owned();
            let line = loop {
                let line = rx
                    .recv_timeout(Duration::from_secs(10))
                    .expect("the new execution, live");
                if line.contains(&new_id) {
                    break line;
                }
            };
            assert!(line.contains("allow"), "{line}");
            let _ = tail.kill();
            let _ = tail.wait();

            // A template, straight to the server.
            let created = ok(&[
                "create",
                "--template",
                "order-approval",
                "--name",
                "Big orders",
            ]);
            assert!(
                created.contains("created big_orders version 1"),
                "{created}"
            );
            // A wrong key is refused (1); a server that is not there is a usage problem (2).
            let (code, _, err) = weir_cli(server, "wrong", &["list"]);
            assert_eq!(code, 1, "{err}");
            assert!(err.contains("401"), "{err}");
            let out = Command::new(env!("CARGO_BIN_EXE_weir"))
                .args([
                    "list",
                    "--server",
                    &format!("http://127.0.0.1:{}", free_port()),
                    "--api-key",
                    "k",
                ])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2));
        },
    );
}

/// Runs `body` against a server on SQLite, then against one on a fresh PostgreSQL database
/// (when the PostgreSQL binaries are installed; see `weir_store::testing`).
pub(crate) fn on_both_backends(name: &str, env: &[(&str, &str)], body: impl Fn(&Server, &Path)) {
    let dir = scratch(name);
    {
        let server = Server::start_with(&dir, free_port(), env);
        body(&server, &dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let Some(pg) = weir_store::testing::Server::start() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(pg.fresh_database(name));
    let dir = scratch(&format!("{name}-pg"));
    let mut env = env.to_vec();
    env.push(("WEIR_DATABASE_URL", url.as_str()));
    {
        let server = Server::start_with(&dir, free_port(), &env);
        body(&server, &dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_openapi_document_describes_every_routed_operation() {
    let dir = scratch("openapi");
    let server = Server::start(&dir, free_port());
    let (status, doc) = server.call("GET", "/api/v1/openapi.json", None, None, b"");
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], json!("3.1.0"));
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    // Every reference resolves.
    let text = doc.to_string();
    for piece in text.split("\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "no schema {name}");
    }
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(operation_ids.insert(op["operationId"].as_str().unwrap().to_owned()));
            assert!(
                op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .any(|c| c.starts_with('2')),
                "{method} {path}"
            );
            // Routed: neither the catch-all 404 nor a 405. (The event stream never ends:
            // tests/it/stream.rs tries it.)
            if path == "/api/v1/stream" {
                continue;
            }
            let concrete = path.replace("{id}", "x").replace("{version}", "1");
            let key = server.key();
            let (status, answer) =
                server.call(&method.to_uppercase(), &concrete, Some(&key), None, b"");
            assert_ne!(status, 405, "{method} {path}");
            assert_ne!(
                answer["error"]["message"],
                json!("no such endpoint"),
                "{method} {path} is not routed"
            );
        }
    }
    assert!(operation_ids.len() >= 50, "{}", operation_ids.len());
    // The interactive reference is served from the binary, assets and all.
    let page = |path: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        String::from_utf8_lossy(&raw).into_owned()
    };
    let html = page("/api/v1/docs/");
    assert!(
        html.starts_with("HTTP/1.1 200") && html.contains("swagger-ui"),
        "{html}"
    );
    let init = page("/api/v1/docs/swagger-initializer.js");
    assert!(
        init.starts_with("HTTP/1.1 200") && init.contains("/api/v1/openapi.json"),
        "{init}"
    );
    let css = page("/api/v1/docs/swagger-ui.css");
    assert!(
        css.starts_with("HTTP/1.1 200"),
        "{}",
        &css[..css.len().min(200)]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_body_that_does_not_arrive_gets_408() {
    let dir = scratch("slowbody");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", "slow-body-key")]);
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer slow-body-key\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"event_type\": ")
        .unwrap();
    let started = Instant::now();
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    assert!(raw.starts_with("HTTP/1.1 408"), "{raw}");
    assert!(raw.contains("request_timeout"), "{raw}");
    assert!(
        started.elapsed() >= Duration::from_secs(25),
        "it waited for the body"
    );
    let (_, events) = server.get("/api/v1/events");
    assert_eq!(events["events"], json!([]), "nothing was written");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn schemathesis_finds_no_server_error_and_no_contract_mismatch_for_any_role() {
    let installed = Command::new("st")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        let msg = "schemathesis (`st`) is not installed: its run over the OpenAPI document is SKIPPED. \
                   `pip install schemathesis` (.ci/run does) to run it.";
        if std::env::var("WEIR_REQUIRE_SCHEMATHESIS").is_ok_and(|v| v == "1") {
            panic!("{msg}");
        }
        eprintln!("\n*** {msg} ***\n");
        return;
    }
    let dir = scratch("schemathesis");
    let server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", "schemathesis-key"),
            ("WEIR_RATE_LIMIT", "0"),
        ],
    );
    let root = "schemathesis-key";
    // Something to find: a workflow with a run waiting for an approval.
    let wf = json!({"workflow_id": "w", "trigger": {"type": "event", "event": "order.created"}, "steps": [
        {"id": "ask", "type": "approval", "timeout": "1h", "on_approve": "ok", "on_reject": "ok"},
        {"id": "ok", "type": "action", "action": "allow"}]});
    assert_eq!(
        server.with(root, "POST", "/api/v1/workflows", Some(wf)).0,
        201
    );
    let (status, _) = server.with(
        root,
        "POST",
        "/api/v1/events",
        Some(json!({"event_type": "order.created", "payload": {"order": {"id": "o1"}}})),
    );
    assert_eq!(status, 200);
    // One run per role: what a viewer, an editor and the admin may do differ, and so do the
    // error paths each reaches.
    let mut keys = vec![("admin", root.to_owned())];
    for role in ["viewer", "editor"] {
        let (status, key) = server.with(
            root,
            "POST",
            "/api/v1/api-keys",
            Some(json!({"role": role, "name": format!("schemathesis {role}")})),
        );
        assert_eq!(status, 201, "{key}");
        keys.push((role, key["key"].as_str().unwrap().to_owned()));
    }
    let base = format!("http://127.0.0.1:{}", server.port);
    let started = Instant::now();
    let runs: Vec<_> = keys
        .into_iter()
        .map(|(role, key)| {
            let base = base.clone();
            let dir = dir.join(role);
            std::fs::create_dir_all(&dir).unwrap();
            std::thread::spawn(move || {
                let out = Command::new("st")
                    .args([
                        "run",
                        &format!("{base}/api/v1/openapi.json"),
                        "--url",
                        &base,
                    ])
                    .args(["-H", &format!("Authorization: Bearer {key}")])
                    .args([
                        "--checks",
                        "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
                    ])
                    .args(["--max-examples", "50", "--seed", "1"])
                    // An event stream never ends, so no answer to check would come; its own
                    // test (tests/it/stream.rs) tries it.
                    .args(["--exclude-path", "/api/v1/stream"])
                    .current_dir(&dir)
                    .env("NO_COLOR", "1")
                    .output()
                    .expect("run schemathesis");
                (role, out)
            })
        })
        .collect();
    for run in runs {
        let (role, out) = run.join().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "as {role}:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("passed"), "{text}");
        // The figures, for the record: operations, test cases, time.
        let summary: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.contains("Operations:") || l.contains("passed") || l.contains("Test cases")
            })
            .collect();
        eprintln!("schemathesis as {role}: {}", summary.join(" | "));
    }
    eprintln!(
        "schemathesis: {:.0} s for the three roles",
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_endpoint_with_an_id_hides_other_tenants_and_environments() {
    on_both_backends(
        "isolation",
        &[("WEIR_ADMIN_KEY", "isolation-root")],
        |server, _| {
            let root = "isolation-root";
            let call = |key: &str, method: &str, path: &str, body: Option<Value>| {
                server.with(key, method, path, body)
            };
            // Tenant A (default, production): one of everything.
            let wf = json!({"workflow_id": "w", "trigger": {"type": "event", "event": "order.placed"}, "steps": [
            {"id": "tell", "type": "notify", "config": {"channel": "in_app", "recipients": ["ops@example.com"], "message": "tenant-a-only"}},
            {"id": "ask", "type": "approval", "timeout": "1h", "on_approve": "ok", "on_reject": "ok"},
            {"id": "ok", "type": "action", "action": "allow"}]});
            assert_eq!(call(root, "POST", "/api/v1/workflows", Some(wf)).0, 201);
            let (_, sent) = call(
                root,
                "POST",
                "/api/v1/events",
                Some(
                    json!({"event_type": "order.placed", "payload": {"secret_note": "tenant-a-only"}}),
                ),
            );
            let event = sent["event_id"].as_str().unwrap().to_owned();
            let run = sent["executions"][0]["execution_id"]
                .as_str()
                .unwrap()
                .to_owned();
            let pending = poll(server, root, "/api/v1/approvals?status=pending", |v| {
                v["approvals"].as_array().unwrap().len() == 1
            });
            let approval = pending["approvals"][0]["id"].as_str().unwrap().to_owned();
            let (_, told) = call(root, "GET", "/api/v1/notifications", None);
            let notification = told["notifications"][0]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{told}"))
                .to_owned();
            let record = json!({"fields": {"note": "tenant-a-only"}});
            assert_eq!(
                call(root, "PUT", "/api/v1/records/customer/c1", Some(record)).0,
                201
            );
            let connector = json!({"name": "conn", "description": "tenant-a-only", "base_url": "https://example.com",
                "actions": {"ping": {"request": {"method": "GET", "path": "/"}}}});
            assert_eq!(
                call(root, "POST", "/api/v1/connectors", Some(connector)).0,
                201
            );
            let note = json!({"description": "tenant-a-only", "entity_id": "{{customer.id}}", "record": true});
            assert_eq!(
                call(
                    root,
                    "PUT",
                    "/api/v1/data-sources/customer.note",
                    Some(note)
                )
                .0,
                200
            );
            let template = json!({"name": "t", "subject": "tenant-a-only", "text": "x"});
            assert_eq!(
                call(root, "POST", "/api/v1/email-templates", Some(template)).0,
                201
            );
            assert_eq!(call(root, "POST", "/api/v1/rules", Some(json!({"rule_id": "r", "conditions": {"field": "x", "operator": "eq", "value": 1}}))).0, 201);
            let (_, viewer) = call(
                root,
                "POST",
                "/api/v1/api-keys",
                Some(json!({"role": "viewer", "name": "a-viewer"})),
            );
            let key_id = viewer["id"].as_str().unwrap().to_owned();
            let (_, user) = call(
                root,
                "POST",
                "/api/v1/users",
                Some(
                    json!({"email": "a@example.com", "password": "tenant-a-only password", "role": "viewer"}),
                ),
            );
            let user_id = user["id"].as_str().unwrap().to_owned();
            let team = json!({"name": "t", "description": "tenant-a-only", "members": [user_id]});
            assert_eq!(call(root, "POST", "/api/v1/teams", Some(team)).0, 201);
            assert_eq!(
                call(
                    root,
                    "POST",
                    "/api/v1/secrets",
                    Some(json!({"name": "S", "value": "tenant-a-only"}))
                )
                .0,
                201
            );
            // Tenant B's admin, and an admin of tenant A's other environment.
            assert_eq!(
                call(
                    root,
                    "POST",
                    "/api/v1/tenants",
                    Some(json!({"name": "Other"}))
                )
                .0,
                201
            );
            let admin_of = |tenant: &str, env: &str| {
                let (_, k) = call(
                    root,
                    "POST",
                    "/api/v1/api-keys",
                    Some(
                        json!({"tenant_id": tenant, "environment": env, "role": "admin", "name": "x"}),
                    ),
                );
                k["key"].as_str().unwrap().to_owned()
            };
            let tenant_b = admin_of("other", "production");
            let other_env = admin_of("default", "development");
            let id_for = |path: &str| -> String {
                let (id, version) = if path.contains("/tenants/") {
                    ("default".to_owned(), "1")
                } else if path.contains("/api-keys/") {
                    (key_id.clone(), "1")
                } else if path.contains("/users/") {
                    (user_id.clone(), "1")
                } else if path.contains("/teams/") {
                    ("t".to_owned(), "1")
                } else if path.contains("/secrets/") {
                    ("S".to_owned(), "1")
                } else if path.contains("/records/") {
                    ("c1".to_owned(), "1")
                } else if path.contains("/notifications/") {
                    (notification.clone(), "1")
                } else if path.contains("/email-templates/") {
                    ("t".to_owned(), "1")
                } else if path.contains("/connectors/") {
                    ("conn".to_owned(), "1")
                } else if path.contains("/data-sources/") {
                    ("customer.note".to_owned(), "1")
                } else if path.contains("/context/") {
                    ("c1".to_owned(), "1")
                } else if path.contains("executions/") || path.contains("/workflow-runs/") {
                    (run.clone(), "1")
                } else if path.contains("/events/") {
                    (event.clone(), "1")
                } else if path.contains("/approvals/") {
                    (approval.clone(), "1")
                } else if path.contains("/rules/") {
                    ("r".to_owned(), "1")
                } else {
                    ("w".to_owned(), "1")
                };
                path.replace("{id}", &id)
                    .replace("{version}", version)
                    .replace("{type}", "customer")
            };
            let mut checked = 0;
            let (_, doc) = server.call("GET", "/api/v1/openapi.json", None, None, b"");
            for (template, item) in doc["paths"].as_object().unwrap() {
                if !template.contains("{id}") {
                    continue;
                }
                for method in item.as_object().unwrap().keys() {
                    let path = id_for(template);
                    // Tenants, and users of every environment, belong to the tenant, not to
                    // one of its environments.
                    let tenant_level =
                        template.contains("/tenants/") || template.contains("/users/");
                    let callers: Vec<&str> = if tenant_level {
                        vec![&tenant_b]
                    } else {
                        vec![&tenant_b, &other_env]
                    };
                    for key in callers {
                        let (status, answer) = call(key, &method.to_uppercase(), &path, None);
                        // Writing a record is an upsert: another scope's PUT names its own
                        // record (and without a body is refused); it never reaches A's.
                        let upsert = method == "put"
                            && (template.contains("/records/")
                                || template.contains("/data-sources/"));
                        let expected = if upsert { 400 } else { 404 };
                        assert_eq!(status, expected, "{method} {path}: {answer}");
                        assert!(
                            !answer.to_string().contains("tenant-a-only"),
                            "{method} {path}: {answer}"
                        );
                        checked += 1;
                    }
                }
            }
            assert!(checked >= 60, "{checked}");
            // Nothing of tenant A moved.
            assert_eq!(
                call(root, "GET", "/api/v1/workflows/w", None).1["enabled"],
                json!(true)
            );
            assert_eq!(call(root, "GET", "/api/v1/rules/r", None).0, 200);
            assert_eq!(
                call(root, "GET", &format!("/api/v1/executions/{run}"), None).1["status"],
                json!("waiting")
            );
            assert_eq!(
                call(root, "GET", &format!("/api/v1/approvals/{approval}"), None).1["status"],
                json!("pending")
            );
            assert!(
                call(root, "GET", &format!("/api/v1/api-keys/{key_id}"), None).1["revoked_at"]
                    .is_null()
            );
            assert!(
                call(root, "GET", &format!("/api/v1/users/{user_id}"), None).1["disabled_at"]
                    .is_null()
            );
            assert_eq!(call(root, "GET", "/api/v1/secrets/S", None).0, 200);
            let (_, kept_team) = call(root, "GET", "/api/v1/teams/t", None);
            assert_eq!(kept_team["members"][0]["id"], json!(user_id));
            let (_, kept) = call(root, "GET", "/api/v1/records/customer/c1", None);
            assert_eq!(kept["fields"]["note"], "tenant-a-only");
            let (_, unread) = call(root, "GET", "/api/v1/notifications?unread=true", None);
            assert_eq!(unread["notifications"].as_array().unwrap().len(), 1);
            assert_eq!(call(root, "GET", "/api/v1/email-templates/t", None).0, 200);
            assert_eq!(call(root, "GET", "/api/v1/connectors/conn", None).0, 200);
            assert_eq!(
                call(root, "GET", "/api/v1/tenants/default", None).1["environments"],
                json!(["development", "production"])
            );
        },
    );
}
