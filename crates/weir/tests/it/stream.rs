//! `GET /api/v1/stream`: a tenant's stream shows its runs as they happen, within a second, and
//! never another tenant's; `Last-Event-ID` catches up on what was missed.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::serve::{Server, free_port, scratch};

/// Opens a stream; the reader yields its lines.
fn open(server: &Server, key: &str, last_event_id: Option<&str>) -> BufReader<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut head = format!(
        "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nAccept: text/event-stream\r\n"
    );
    if let Some(id) = last_event_id {
        head.push_str(&format!("Last-Event-ID: {id}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    BufReader::new(s)
}

/// The events read within `for_`: each `data:` line as JSON.
fn read_for(reader: &mut BufReader<TcpStream>, for_: Duration) -> Vec<Value> {
    let deadline = Instant::now() + for_;
    let mut events = Vec::new();
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {
                if let Some(data) = line.trim_end().strip_prefix("data:") {
                    events.push(serde_json::from_str(data.trim()).unwrap_or(Value::Null));
                }
            }
            Err(_) => continue, // the read timeout: look at the clock again
        }
    }
    events
}

/// Tenant B (made through `writer`) with an admin key, and the same workflow, which asks for
/// an approval, deployed in tenant A (`root`'s) and B.
fn two_tenants(writer: &Server, root: &str) -> String {
    // Tenant B with a key of its own, and the same workflow in both.
    assert_eq!(
        writer
            .with(
                root,
                "POST",
                "/api/v1/tenants",
                Some(json!({"name": "Beta"}))
            )
            .0,
        201
    );
    let (status, b) = writer.with(
        root,
        "POST",
        "/api/v1/api-keys",
        Some(
            json!({"tenant_id": "beta", "environment": "production", "role": "admin", "name": "b"}),
        ),
    );
    assert_eq!(status, 201, "{b}");
    let b = b["key"].as_str().unwrap().to_owned();
    let wf = json!({"workflow_id": "w", "trigger": {"type": "event", "event": "order.created"}, "steps": [
        {"id": "ask", "type": "approval", "approver_role": "admin", "timeout": "1h", "on_approve": "ok", "on_reject": "ok"},
        {"id": "ok", "type": "action", "action": "allow"}]});
    for key in [root, b.as_str()] {
        assert_eq!(
            writer
                .with(key, "POST", "/api/v1/workflows", Some(wf.clone()))
                .0,
            201
        );
    }
    b
}

/// A's stream on `reader`, runs of A and B started on `writer`: A's run shows in A's stream
/// within a second, B's never. Returns the stream, to go on reading.
fn a_sees_its_runs_only(
    reader: &Server,
    writer: &Server,
    root: &str,
    b: &str,
) -> BufReader<TcpStream> {
    let mut a_stream = open(reader, root, None);
    // The stream is open once its headers came.
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !line.starts_with("HTTP/1.1 200") {
        line.clear();
        let _ = a_stream.read_line(&mut line);
        assert!(Instant::now() < deadline, "no answer: {line}");
    }
    // Another node learns that this one has a stream open from a message of its own.
    std::thread::sleep(Duration::from_millis(300));
    // A workflow deployed on another node reaches this one's trigger index within a few
    // seconds: until then an event matches nothing.
    let send = |key: &str, id: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (status, answer) = writer.with(
                key,
                "POST",
                "/api/v1/events",
                Some(json!({"event_type": "order.created", "payload": {"order": {"id": id}}})),
            );
            assert_eq!(status, 200, "{answer}");
            if let Some(run) = answer["executions"][0]["execution_id"].as_str() {
                return run.to_owned();
            }
            assert!(Instant::now() < deadline, "no run started: {answer}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let b_run = send(b, &format!("b-{n}"));
    let sent = Instant::now();
    let a_run = send(root, &format!("a-{n}"));
    let deadline = sent + Duration::from_secs(1);
    let mut events = Vec::new();
    let shown = loop {
        events.extend(read_for(&mut a_stream, Duration::from_millis(50)));
        if let Some(at) = events
            .iter()
            .position(|e| e["kind"] == "execution.started" && e["execution_id"] == json!(a_run))
        {
            break Some(at);
        }
        if Instant::now() > deadline {
            break None;
        }
    };
    let shown_in = sent.elapsed();
    let at = shown
        .unwrap_or_else(|| panic!("A's run was not in A's stream within a second: {events:?}"));
    println!(
        "A's run shown in A's stream {} ms after its event was sent",
        shown_in.as_millis()
    );
    assert_eq!(events[at]["workflow_id"], "w");
    // Anything of B's would have come by now.
    events.extend(read_for(&mut a_stream, Duration::from_millis(500)));
    assert!(
        events.iter().all(|e| e["execution_id"] != json!(b_run)),
        "tenant B's run reached tenant A's stream: {events:?}"
    );
    a_stream
}

#[test]
fn a_tenants_stream_shows_its_runs_at_once_and_never_another_tenants() {
    let dir = scratch("stream");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", "stream-root")]);
    let root = "stream-root";
    let b = two_tenants(&server, root);
    let mut a_stream = a_sees_its_runs_only(&server, &server, root, &b);
    let send = |key: &str, id: &str| {
        let (status, answer) = server.with(
            key,
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": "order.created", "payload": {"order": {"id": id}}})),
        );
        assert_eq!(status, 200, "{answer}");
        answer["executions"][0]["execution_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The run asks for an approval; deciding it shows up too.
    let (_, pending) = server.with(root, "GET", "/api/v1/approvals?status=pending", None);
    let approval = pending["approvals"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        server
            .with(
                root,
                "POST",
                &format!("/api/v1/approvals/{approval}/approve"),
                Some(json!({}))
            )
            .0,
        200
    );
    let events = read_for(&mut a_stream, Duration::from_millis(1500));
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"approval.decided"), "{kinds:?}");
    assert!(kinds.contains(&"execution.finished"), "{kinds:?}");
    let last = events.last().unwrap()["id"].as_u64().unwrap();
    // A stream that reconnects after an event catches up on what came after it.
    drop(a_stream);
    let missed = send(root, "a-2");
    let mut again = open(&server, root, Some(&(last).to_string()));
    let events = read_for(&mut again, Duration::from_millis(1500));
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "execution.started" && e["execution_id"] == json!(missed)),
        "{events:?}"
    );
    assert!(
        events.iter().all(|e| e["id"].as_u64().unwrap() > last),
        "{events:?}"
    );
    // Bad input is refused before anything streams.
    let (status, _) = server.request(
        "GET",
        "/api/v1/stream",
        &[
            ("Authorization", "Bearer stream-root".into()),
            ("Last-Event-ID", "yesterday".into()),
        ],
        b"",
    );
    assert_eq!(status, 400);
    let (status, _) = server.request(
        "GET",
        "/api/v1/stream?color=red",
        &[("Authorization", "Bearer stream-root".into())],
        b"",
    );
    assert_eq!(status, 400);
    // A stopping server ends its streams rather than waiting on them for ever.
    let _open = again;
    let (done, stopped) = std::sync::mpsc::channel();
    let mut server = server;
    std::thread::spawn(move || {
        let log = server.stop_and_read_log();
        let _ = done.send(log);
    });
    let log = stopped
        .recv_timeout(Duration::from_secs(20))
        .expect("weir serve did not stop while a stream was open");
    assert!(log.contains("shutting down"), "{log}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Two nodes sharing PostgreSQL: a run started on one shows in the streams of the other.
#[test]
fn streams_on_one_node_show_runs_started_on_another() {
    let Some(pg) = weir_store::testing::Server::start() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(pg.fresh_database("stream_nodes"));
    let root = "stream-nodes-root-key-0123456789";
    let env = [
        ("WEIR_ADMIN_KEY", root),
        ("WEIR_DATABASE_URL", url.as_str()),
        (
            "WEIR_MASTER_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        ),
    ];
    let one = Server::start_with(&scratch("stream-one"), free_port(), &env);
    let two = Server::start_with(&scratch("stream-two"), free_port(), &env);
    let b = two_tenants(&two, root);
    // Both ways: a stream on one, runs on two; then a stream on two, runs on one.
    drop(a_sees_its_runs_only(&one, &two, root, &b));
    drop(a_sees_its_runs_only(&two, &one, root, &b));
}
