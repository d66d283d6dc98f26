//! What `weir serve` logs: JSON lines (`WEIR_LOG_FORMAT=json`) that parse, a request's id,
//! route and status, the failed step and execution with their ids, and never a key, a secret,
//! a password or a session token; and its readiness.

use serde_json::{Value, json};

use crate::serve::{Server, free_port, poll, scratch};

const ROOT: &str = "logs-root-key-canary-0123456789";
const PASSWORD: &str = "password-canary-5h2k9";
const SECRET: &str = "secret-value-canary-77ab1";

#[test]
fn json_log_lines_name_requests_and_failed_executions_and_hold_no_secret() {
    let dir = scratch("logs");
    let mut server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", ROOT),
            ("WEIR_LOG_FORMAT", "json"),
            ("WEIR_LOG_LEVEL", "debug"),
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
