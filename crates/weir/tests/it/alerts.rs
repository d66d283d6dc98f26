//! Alerts as an operator sets them: one fires once when failures cross its threshold, tells its
//! recipients in the console and by webhook, stays quiet while the breach lasts, and tells them
//! again once when it recovers. Bad rules are refused with the field at fault.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::peer::Peer;
use crate::serve::{Server, free_port, poll, scratch};

const ROOT: &str = "alerts-root-key-0123456789";

#[test]
fn an_alert_fires_once_per_breach_and_once_on_recovery() {
    let peer = Peer::start();
    peer.answer("/orders", 400, json!({"error": "no such order"}));
    peer.answer("/alerts", 200, json!({"ok": true}));
    let dir = scratch("alerts");
    let server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", ROOT),
            ("WEIR_ALERT_INTERVAL_MS", "150"),
            ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
        ],
    );
    let call =
        |method: &str, path: &str, body: Option<Value>| server.with(ROOT, method, path, body);
    let (status, body) = call(
        "POST",
        "/api/v1/workflows",
        Some(json!({
        "workflow_id": "sync_order", "trigger": {"type": "event", "event": "order.created"},
        "steps": [{"id": "push", "type": "http_request", "config": {"url": peer.url("/orders"), "method": "POST"}}]})),
    );
    assert_eq!(status, 201, "{body}");
    let fail = || {
        let (status, body) = call(
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": "order.created", "payload": {"order": {"id": "o1"}}})),
        );
        assert_eq!(status, 200, "{body}");
    };
    let failed = |n: usize| {
        poll(&server, ROOT, "/api/v1/executions?status=failed", |l| {
            l["executions"].as_array().is_some_and(|e| e.len() == n)
        });
    };
    let rule = |above: f64| {
        json!({"name": "Order sync failing", "workflow_id": "sync_order",
               "condition": {"metric": "failures", "over": "1h", "above": above},
               "notify": {"channel": "in_app", "recipients": ["ops@example.com"]}})
    };
    let (status, alert) = call("POST", "/api/v1/alerts", Some(rule(2.0)));
    assert_eq!(status, 201, "{alert}");
    assert_eq!(
        (&alert["state"], &alert["value"]),
        (&json!("ok"), &Value::Null)
    );
    let id = alert["id"].as_str().unwrap().to_owned();
    let mut hook = rule(2.0);
    hook["name"] = json!("Order sync failing (webhook)");
    hook["notify"] = json!({"channel": "webhook", "recipients": [peer.url("/alerts")]});
    let (status, body) = call("POST", "/api/v1/alerts", Some(hook));
    assert_eq!(status, 201, "{body}");

    // Two failures are not above 2: evaluated, not fired.
    fail();
    fail();
    failed(2);
    let seen = poll(&server, ROOT, &format!("/api/v1/alerts/{id}"), |a| {
        a["value"] == json!(2.0)
    });
    assert_eq!(seen["state"], json!("ok"), "{seen}");
    assert!(seen["evaluated_at"].is_string(), "{seen}");

    // The third fires it, once.
    fail();
    failed(3);
    let fired = poll(&server, ROOT, &format!("/api/v1/alerts/{id}"), |a| {
        a["state"] == json!("firing")
    });
    assert_eq!(fired["value"], json!(3.0), "{fired}");
    assert!(fired["changed_at"].is_string(), "{fired}");
    // Ten rounds later it has been told once, in the console and by webhook.
    std::thread::sleep(Duration::from_millis(1_500));
    let notes = notifications(&server);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(
        notes[0]["subject"],
        json!("Alert firing: Order sync failing")
    );
    let message = notes[0]["message"].as_str().unwrap();
    assert!(
        message.contains("failures of workflow sync_order over the last 1h is 3, above 2"),
        "{message}"
    );
    let hooks = wait_for(|| peer.requests_to("/alerts"), 1);
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        hooks[0].json()["subject"],
        json!("Alert firing: Order sync failing (webhook)")
    );

    // A higher threshold: it recovers, and says so once.
    let (status, body) = call("PUT", &format!("/api/v1/alerts/{id}"), Some(rule(10.0)));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["state"],
        json!("firing"),
        "a changed rule is judged at the next round"
    );
    poll(&server, ROOT, &format!("/api/v1/alerts/{id}"), |a| {
        a["state"] == json!("ok")
    });
    std::thread::sleep(Duration::from_millis(1_000));
    let notes = notifications(&server);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes
            .iter()
            .any(|n| n["subject"] == json!("Alert recovered: Order sync failing")),
        "{notes:?}"
    );
    let (_, list) = call("GET", "/api/v1/alerts", None);
    assert_eq!(list["alerts"].as_array().unwrap().len(), 2, "{list}");
    let (_, audit) = call("GET", "/api/v1/audit?action=alert.create", None);
    assert_eq!(audit["audit"].as_array().map(Vec::len), Some(2), "{audit}");
    let (status, _) = call("DELETE", &format!("/api/v1/alerts/{id}"), None);
    assert_eq!(status, 204);
    let (status, _) = call("GET", &format!("/api/v1/alerts/{id}"), None);
    assert_eq!(status, 404);
}

fn notifications(server: &Server) -> Vec<Value> {
    let (status, list) = server.with(
        ROOT,
        "GET",
        "/api/v1/notifications?recipient=ops@example.com",
        None,
    );
    assert_eq!(status, 200, "{list}");
    list["notifications"].as_array().unwrap().clone()
}

fn wait_for<T>(read: impl Fn() -> Vec<T>, n: usize) -> Vec<T> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = read();
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bad_alert_rules_are_refused_with_the_field_at_fault() {
    let dir = scratch("alerts-bad");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", ROOT)]);
    let good = json!({"name": "n", "condition": {"metric": "failures", "over": "15m", "above": 1},
                      "notify": {"channel": "email", "recipients": ["ops@example.com"]}});
    let (status, body) = server.with(ROOT, "POST", "/api/v1/alerts", Some(good.clone()));
    assert_eq!(status, 201, "{body}");
    let with = |path: &[&str], value: Value| {
        let mut rule = good.clone();
        let mut at = &mut rule;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        at[path[path.len() - 1]] = value;
        rule
    };
    for (rule, field) in [
        (with(&["condition", "metric"], json!("latency")), "metric"),
        (
            with(&["condition", "over"], json!("5s")),
            "$.condition.over",
        ),
        (
            with(&["condition", "over"], json!("soon")),
            "$.condition.over",
        ),
        (
            with(&["condition", "above"], json!(-1)),
            "$.condition.above",
        ),
        (
            with(&["condition", "metric"], json!("failure_rate")),
            "$.condition.above",
        ),
        (with(&["workflow_id"], json!("nowhere")), "$.workflow_id"),
        (with(&["name"], json!("  ")), "$.name"),
        (
            with(&["notify", "recipients"], json!([])),
            "$.notify.recipients",
        ),
        (with(&["notify", "channel"], json!("sms")), "channel"),
        (
            with(
                &["notify"],
                json!({"channel": "webhook", "recipients": ["not a url"]}),
            ),
            "$.notify.recipients[0]",
        ),
        (with(&["extra"], json!(1)), "extra"),
    ] {
        let (status, body) = server.with(ROOT, "POST", "/api/v1/alerts", Some(rule.clone()));
        assert_eq!(status, 422, "{rule}: {body}");
        assert!(body.to_string().contains(field), "{rule}: {body}");
    }
    let (status, _) = server.with(ROOT, "GET", "/api/v1/alerts/none", None);
    assert_eq!(status, 404);
    let (status, _) = server.with(ROOT, "PUT", "/api/v1/alerts/none", Some(good));
    assert_eq!(status, 404);
}
