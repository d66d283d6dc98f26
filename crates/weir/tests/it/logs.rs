//! What `weir serve` tells operators: JSON log lines (`WEIR_LOG_FORMAT=json`) that parse, with
//! a request's id, route and status, the failed step and execution with their ids, and never a
//! key, a secret, a password or a session token; its readiness; and its Prometheus metrics,
//! read by the official Python client's parser and counted against the runs made.

use serde_json::{Value, json};

use crate::serve::{Server, free_port, poll, scratch};

const ROOT: &str = "logs-root-key-canary-0123456789";
const PASSWORD: &str = "password-canary-5h2k9";
const SECRET: &str = "secret-value-canary-77ab1";

#[test]
fn json_log_lines_name_requests_and_failed_executions_and_hold_no_secret() {
    let dir = scratch("logs");
    // Allowed, but nothing listens there: a call to it fails and may be tried again.
    let closed = format!("127.0.0.1:{}", free_port());
    let mut server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", ROOT),
            ("WEIR_LOG_FORMAT", "json"),
            ("WEIR_LOG_LEVEL", "debug"),
            ("WEIR_OUTBOUND_ALLOW", closed.as_str()),
        ],
    );
    let (status, head, _) = server.exchange(
        "GET",
        "/health/ready",
        &[("X-Request-Id", "probe-1".to_owned())],
        b"",
    );
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_lowercase().contains("x-request-id: probe-1"),
        "{head}"
    );
    let (_, ready) = server.get("/health/ready");
    assert_eq!(
        ready,
        json!({"status": "ok", "database": "ok", "workers": "ok"})
    );
    // A request without an id gets one; a hostile one is replaced.
    let (_, head, _) = server.exchange("GET", "/health", &[], b"");
    assert!(head.to_lowercase().contains("x-request-id: "), "{head}");
    let (_, head, _) = server.exchange(
        "GET",
        "/health",
        &[("X-Request-Id", "a b<script>".to_owned())],
        b"",
    );
    assert!(!head.contains("<script>"), "{head}");

    // Secrets, a user's password and a session go through the server.
    let (status, _) = server.with(
        ROOT,
        "POST",
        "/api/v1/secrets",
        Some(json!({"name": "TOKEN", "value": SECRET})),
    );
    assert_eq!(status, 201);
    let user = json!({"email": "lo@example.com", "password": PASSWORD, "role": "editor"});
    assert_eq!(
        server.with(ROOT, "POST", "/api/v1/users", Some(user)).0,
        201
    );
    let login = json!({"email": "lo@example.com", "password": PASSWORD}).to_string();
    let (status, head, _) = server.exchange(
        "POST",
        "/api/v1/auth/login",
        &[("Content-Type", "application/json".to_owned())],
        login.as_bytes(),
    );
    assert_eq!(status, 201, "{head}");
    let session = head
        .split("weir_session=")
        .nth(1)
        .and_then(|t| t.split(';').next())
        .expect("a session cookie")
        .to_owned();
    assert_eq!(
        server
            .request(
                "GET",
                "/api/v1/workflows",
                &[("Cookie", format!("weir_session={session}"))],
                b""
            )
            .0,
        200
    );

    // A run whose call is refused (loopback, not allowed) fails.
    let wf = json!({"workflow_id": "doomed", "trigger": {"type": "event", "event": "order.created"},
        "steps": [{"id": "call", "type": "http_request",
            "config": {"url": "http://127.0.0.1:9/never", "headers": {"Authorization": "Bearer {{secrets.TOKEN}}"}}}]});
    let (status, head, _) = server.exchange(
        "POST",
        "/api/v1/workflows",
        &[
            ("Authorization", format!("Bearer {ROOT}")),
            ("Content-Type", "application/json".to_owned()),
            ("X-Request-Id", "deploy-7".to_owned()),
        ],
        wf.to_string().as_bytes(),
    );
    assert_eq!(status, 201, "{head}");
    let (_, event) = server.with(
        ROOT,
        "POST",
        "/api/v1/events",
        Some(json!({"event_type": "order.created", "payload": {"order": {"id": "o1"}}})),
    );
    let id = event["executions"][0]["execution_id"]
        .as_str()
        .or_else(|| event["execution_ids"][0].as_str())
        .unwrap_or_else(|| panic!("{event}"))
        .to_owned();
    let run = poll(&server, ROOT, &format!("/api/v1/executions/{id}"), |e| {
        e["status"] == "failed"
    });
    // A call that fails to connect logs from inside its action, in the action's span.
    let wf = json!({"workflow_id": "flaky", "trigger": {"type": "event", "event": "order.paid"},
        "steps": [{"id": "notify", "type": "http_request", "retry": {"max_attempts": 1},
            "config": {"url": format!("http://{closed}/hook")}}]});
    assert_eq!(
        server.with(ROOT, "POST", "/api/v1/workflows", Some(wf)).0,
        201
    );
    let (_, event) = server.with(
        ROOT,
        "POST",
        "/api/v1/events",
        Some(json!({"event_type": "order.paid", "payload": {}})),
    );
    let flaky = event["executions"][0]["execution_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{event}"))
        .to_owned();
    poll(&server, ROOT, &format!("/api/v1/executions/{flaky}"), |e| {
        e["status"] == "failed"
    });
    assert_eq!(run["status"], "failed", "{run}");

    let log = server.stop_and_read_log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 5, "{log}");
    let find = |what: &str, pred: &dyn Fn(&Value) -> bool| {
        lines
            .iter()
            .find(|l| pred(l))
            .unwrap_or_else(|| panic!("no line for {what} in:\n{log}"))
            .clone()
    };
    // Each line has a time, a level and a message.
    for l in &lines {
        assert!(l["timestamp"].is_string() && l["level"].is_string(), "{l}");
    }
    let deploy = find("the deploy request", &|l| {
        l["spans"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["request_id"] == "deploy-7"))
    });
    let span = &deploy["spans"][0];
    assert_eq!(
        (&span["method"], &span["route"]),
        (&json!("POST"), &json!("/api/v1/workflows")),
        "{deploy}"
    );
    assert_eq!(deploy["status"], 201, "{deploy}");
    let step = find("the failed step", &|l| l["message"] == "step failed");
    assert_eq!(
        (&step["execution_id"], &step["step_id"], &step["attempt"]),
        (&json!(id), &json!("call"), &json!(1)),
        "{step}"
    );
    assert_eq!(step["level"], "WARN");
    let failed = find("the failed execution", &|l| {
        l["message"] == "execution failed"
    });
    assert_eq!(
        (
            &failed["execution_id"],
            &failed["workflow_id"],
            &failed["tenant"]
        ),
        (&json!(id), &json!("doomed"), &json!("default")),
        "{failed}"
    );
    assert!(failed["error"].as_str().is_some_and(|e| !e.is_empty()));
    let retried = find("the call that may be tried again", &|l| {
        l["message"] == "action failed; it may be tried again"
    });
    let site = retried["spans"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "step"))
        .unwrap_or_else(|| panic!("no step span: {retried}"));
    assert_eq!(
        (
            &site["tenant"],
            &site["environment"],
            &site["workflow_id"],
            &site["execution_id"],
            &site["step_id"],
            &site["attempt"],
            &site["action"],
        ),
        (
            &json!("default"),
            &json!("production"),
            &json!("flaky"),
            &json!(flaky),
            &json!("notify"),
            &json!(1),
            &json!("http_request"),
        ),
        "{retried}"
    );
    for canary in [ROOT, PASSWORD, SECRET, session.as_str()] {
        assert!(!log.contains(canary), "{canary} is in the log:\n{log}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn log_options_are_checked() {
    for (args, says) in [
        (&["--log-level", "loud"][..], "log_level 'loud'"),
        (&["--log-format", "xml"][..], "xml"),
    ] {
        let dir = scratch("log-options");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .args(args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The samples of a Prometheus text, read by the official Python client's parser; `None` when
/// python3 has no prometheus_client (an error under `WEIR_REQUIRE_PROMETHEUS`).
fn parse_prometheus(text: &str) -> Option<Vec<Value>> {
    use std::io::Write;
    let has = std::process::Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .output();
    if !matches!(has, Ok(o) if o.status.success()) {
        assert!(
            std::env::var_os("WEIR_REQUIRE_PROMETHEUS").is_none(),
            "WEIR_REQUIRE_PROMETHEUS is set but python3 cannot import prometheus_client (pip install prometheus-client==0.26.0)"
        );
        eprintln!(
            "\n*** SKIPPED: the metrics test needs python3 with prometheus_client (pip install prometheus-client==0.26.0) ***\n"
        );
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/metrics/parse.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the text: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// `GET /metrics` on the metrics listener: its status, its content type and its text.
fn scrape(port: u16) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    // The body may come in chunks: join them.
    let text = if head.to_lowercase().contains("transfer-encoding: chunked") {
        let mut text = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            text.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        text
    } else {
        body.to_owned()
    };
    (status, head.to_owned(), text)
}

#[test]
fn metrics_parse_and_count_the_executions_run() {
    let dir = scratch("metrics");
    let metrics_port = free_port();
    let server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", ROOT),
            ("WEIR_METRICS_LISTEN", &format!("127.0.0.1:{metrics_port}")),
        ],
    );
    let deploy = |wf: Value| {
        let (status, body) = server.with(ROOT, "POST", "/api/v1/workflows", Some(wf));
        assert_eq!(status, 201, "{body}");
    };
    deploy(
        json!({"workflow_id": "passes", "trigger": {"type": "event", "event": "order.created"},
        "steps": [{"id": "ok", "type": "action", "action": "allow"}]}),
    );
    deploy(
        json!({"workflow_id": "fails", "trigger": {"type": "event", "event": "order.failing"},
        "steps": [{"id": "call", "type": "http_request", "config": {"url": "http://127.0.0.1:9/"}}]}),
    );
    let send = |event: &str| {
        let (status, body) = server.with(
            ROOT,
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": event, "payload": {"order": {"id": "o"}}})),
        );
        assert_eq!(status, 200, "{body}");
    };
    for _ in 0..5 {
        send("order.created");
    }
    for _ in 0..2 {
        send("order.failing");
    }
    send("nothing.listens");
    poll(&server, ROOT, "/api/v1/executions?status=failed", |l| {
        l["executions"].as_array().is_some_and(|e| e.len() == 2)
    });
    let (status, head, text) = scrape(metrics_port);
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    let Some(samples) = parse_prometheus(&text) else {
        return;
    };
    let value = |name: &str, labels: Value| -> f64 {
        samples
            .iter()
            .filter(|s| s["name"] == name)
            .filter(|s| {
                labels
                    .as_object()
                    .unwrap()
                    .iter()
                    .all(|(k, v)| &s["labels"][k] == v)
            })
            .map(|s| s["value"].as_f64().unwrap())
            .sum()
    };
    assert_eq!(
        value("weir_events_received_total", json!({})),
        8.0,
        "{text}"
    );
    assert_eq!(
        value("weir_executions_started_total", json!({})),
        7.0,
        "{text}"
    );
    assert_eq!(
        value(
            "weir_executions_finished_total",
            json!({"status": "completed"})
        ),
        5.0,
        "{text}"
    );
    assert_eq!(
        value(
            "weir_executions_finished_total",
            json!({"status": "failed"})
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        value("weir_execution_duration_seconds_count", json!({})),
        7.0,
        "{text}"
    );
    assert_eq!(
        value(
            "weir_actions_total",
            json!({"action": "http_request", "outcome": "refused"})
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        value(
            "weir_http_requests_total",
            json!({"method": "POST", "route": "/api/v1/events", "status": "200"})
        ),
        8.0,
        "{text}"
    );
    assert_eq!(
        value(
            "weir_http_request_duration_seconds_count",
            json!({"route": "/api/v1/events"})
        ),
        8.0
    );
    let histogram = samples
        .iter()
        .find(|s| s["name"] == "weir_step_duration_seconds_bucket")
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(histogram["type"], "histogram");
    for gauge in [
        "weir_actions_in_flight",
        "weir_queue_due_items",
        "process_resident_memory_bytes",
        "weir_store_commit_seconds_count",
        "weir_store_batch_size_count",
    ] {
        assert!(
            samples.iter().any(|s| s["name"] == gauge),
            "{gauge}: {text}"
        );
    }
    assert!(value("process_resident_memory_bytes", json!({})) > 1e6);
    // No label holds an execution's or an event's id.
    let (_, list) = server.with(ROOT, "GET", "/api/v1/executions", None);
    for e in list["executions"].as_array().unwrap() {
        let id = e["id"].as_str().or(e["execution_id"].as_str()).unwrap();
        assert!(!text.contains(id), "{id} is in the metrics");
    }
    // The API's listener has no /metrics: metrics are on their own listener.
    let (_, _, api) = scrape(server.port);
    assert!(!api.contains("weir_events_received_total"), "{api}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The Grafana dashboard in `deploy/` reads only metrics the server exports.
#[test]
fn the_grafana_dashboard_reads_metrics_the_server_exports() {
    let dashboard: Value =
        serde_json::from_str(include_str!("../../../../deploy/grafana-dashboard.json")).unwrap();
    let source = [
        include_str!("../../../weir-server/src/metrics.rs"),
        include_str!("../../../weir-engine/src/telemetry.rs"),
        include_str!("../../../weir-store/src/metrics.rs"),
        include_str!("../../../weir-server/src/requests.rs"),
    ]
    .concat();
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 10);
    for panel in panels {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let names: Vec<&str> = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("weir_") || w.starts_with("process_"))
                .collect();
            assert!(!names.is_empty(), "{expr}");
            for name in names {
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .unwrap_or(name);
                assert!(
                    source.contains(&format!("\"{base}\"")) || base.starts_with("process_"),
                    "{name} in {expr} is not a metric Weir exports"
                );
            }
        }
    }
}
