//! Inbound webhooks over real HTTP: signatures (checked against Python's hmac), replay,
//! content types, size, schema, and that a refused delivery starts nothing.

use serde_json::{Value, json};

use crate::actions::python_hmac;
use crate::serve::{Server, free_port, poll, scratch};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn webhooks_check_signatures_and_start_only_on_good_deliveries() {
    let dir = scratch("webhooks");
    let key = "webhooks-root";
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", key)]);
    let post = |path: &str, body: Value| server.with(key, "POST", path, Some(body));
    let secret_value = "shop-signing-secret";
    assert_eq!(
        post(
            "/api/v1/secrets",
            json!({"name": "SHOP_WEBHOOK_SECRET", "value": secret_value})
        )
        .0,
        201
    );
    assert_eq!(
        post(
            "/api/v1/secrets",
            json!({"name": "PING_TOKEN", "value": "ping-token-1"})
        )
        .0,
        201
    );
    // A webhook trigger, as written, deciding synchronously.
    let trigger: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../examples/seeds/003-webhook-trigger.trigger.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let shop = json!({"workflow_id": "shop", "trigger": trigger, "steps": [
        {"id": "big", "type": "condition", "condition": {"field": "order.total", "operator": "gte", "value": 10000},
         "on_true": "hold", "on_false": "pass"},
        {"id": "hold", "type": "action", "action": "block", "reason": "large order"},
        {"id": "pass", "type": "action", "action": "allow"}]});
    let (status, stored) = post("/api/v1/workflows", shop);
    assert_eq!(status, 201, "{stored}");
    let (status, hook) = server.with(key, "GET", "/api/v1/workflows/shop/hook", None);
    assert_eq!(status, 200, "{hook}");
    let path = hook["path"].as_str().unwrap().to_owned();
    assert!(path.starts_with("/hooks/default/production/"), "{path}");
    let (_, again) = server.with(key, "GET", "/api/v1/workflows/shop/hook", None);
    assert_eq!(again["path"], path.as_str(), "the URL is stable");
    let (code, out, err) = crate::serve::weir_cli(&server, key, &["hook-url", "shop"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        format!("http://127.0.0.1:{}{path}", server.port)
    );
    let (code, _, err) = crate::serve::weir_cli(&server, key, &["hook-url", "nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("404") || err.contains("no workflow"), "{err}");

    let body = br#"{"order": {"id": "o1", "total": 20000}}"#;
    let signed = |at: i64, body: &[u8], content_type: &str| -> Vec<(&'static str, String)> {
        let mut message = format!("{at}.").into_bytes();
        message.extend_from_slice(body);
        vec![
            ("Content-Type", content_type.to_owned()),
            ("X-Weir-Timestamp", at.to_string()),
            (
                "X-Shop-Signature",
                format!("sha256={}", python_hmac(secret_value, &message)),
            ),
        ]
    };
    let deliver =
        |headers: &[(&str, String)], body: &[u8]| server.exchange("POST", &path, headers, body);

    // A good delivery: the run's decision comes back.
    let good = signed(now(), body, "application/json");
    let (status, _, answer) = deliver(&good, body);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (&answer["status"], &answer["decision"]),
        (&json!("completed"), &json!("block")),
        "{answer}"
    );

    // Each refused delivery: its status, and no run.
    let mut wrong = signed(now(), body, "application/json");
    wrong[2].1 = format!("sha256={}", "0".repeat(64));
    let stale = signed(now() - 600, body, "application/json");
    let missing = vec![
        ("Content-Type", "application/json".to_owned()),
        ("X-Weir-Timestamp", now().to_string()),
    ];
    let big = format!(
        "{{\"order\": {{\"id\": \"{}\", \"total\": 1}}}}",
        "x".repeat(2 << 20)
    );
    let oversized = signed(now(), big.as_bytes(), "application/json");
    let multipart = signed(now(), b"--x\r\n", "multipart/form-data; boundary=x");
    let off_schema = br#"{"order": {"id": 5}}"#;
    let off = signed(now(), off_schema, "application/json");
    for (what, headers, body, expected) in [
        ("a wrong signature", &wrong, &body[..], 401),
        ("an expired timestamp", &stale, &body[..], 401),
        ("a replay", &good, &body[..], 409),
        ("a missing signature", &missing, &body[..], 401),
        ("an oversized body", &oversized, big.as_bytes(), 413),
        ("a wrong content type", &multipart, &b"--x\r\n"[..], 415),
        ("a payload off the schema", &off, &off_schema[..], 422),
    ] {
        let (status, _, answer) = deliver(headers, body);
        assert_eq!(status, expected, "{what}: {answer}");
        if status != 413 {
            assert!(answer["error"]["code"].is_string(), "{what}: {answer}");
        }
    }
    let (status, _, unknown) = server.exchange(
        "POST",
        "/hooks/default/production/00000000000000000000000000000000",
        &good,
        body,
    );
    assert_eq!(status, 404);
    assert_eq!(unknown["error"]["message"], "no such webhook");
    let (status, _, _) = server.exchange(
        "POST",
        &path.replace("/production/", "/development/"),
        &good,
        body,
    );
    assert_eq!(status, 404, "another environment's URL");
    let (status, _, _) = server.exchange("GET", &path, &good, b"");
    assert_eq!(status, 405);
    let (_, runs) = server.with(key, "GET", "/api/v1/executions?workflow_id=shop", None);
    assert_eq!(
        runs["executions"].as_array().unwrap().len(),
        1,
        "only the good delivery started a run: {runs}"
    );

    // A token webhook that answers at once, with a form body.
    let ping = json!({"workflow_id": "ping", "trigger": {"type": "webhook", "secret": "{{secrets.PING_TOKEN}}"},
        "steps": [{"id": "keep", "type": "set", "variables": {"who": "{{name}}"}}]});
    assert_eq!(post("/api/v1/workflows", ping).0, 201);
    let (_, hook) = server.with(key, "GET", "/api/v1/workflows/ping/hook", None);
    let ping_path = hook["path"].as_str().unwrap().to_owned();
    let form = vec![
        (
            "Content-Type",
            "application/x-www-form-urlencoded".to_owned(),
        ),
        ("X-Weir-Token", "ping-token-1".to_owned()),
    ];
    let (status, _, started) = server.exchange("POST", &ping_path, &form, b"name=Ana+Lee&x=1");
    assert_eq!(status, 202, "{started}");
    let run = started["execution_id"].as_str().unwrap();
    let done = poll(&server, key, &format!("/api/v1/executions/{run}"), |e| {
        e["status"] == "completed"
    });
    assert_eq!(done["context"]["vars"]["who"], "Ana Lee");
    let bad = vec![
        ("Content-Type", "text/plain".to_owned()),
        ("X-Weir-Token", "ping-token-2".to_owned()),
    ];
    assert_eq!(server.exchange("POST", &ping_path, &bad, b"hi").0, 401);
    let raw = vec![
        ("Content-Type", "text/plain".to_owned()),
        ("X-Weir-Token", "ping-token-1".to_owned()),
    ];
    assert_eq!(
        server.exchange("POST", &ping_path, &raw, b"raw text").0,
        202
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_manual_trigger_checks_its_input_schema() {
    let dir = scratch("input-schema");
    let key = "input-schema-root";
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", key)]);
    let wf = json!({"workflow_id": "onboard", "trigger": {"type": "api", "input_schema": {
            "type": "object", "required": ["customer_id"],
            "properties": {"customer_id": {"type": "string"}, "seats": {"type": "integer", "minimum": 1}}}},
        "steps": [{"id": "keep", "type": "set", "variables": {"c": "{{customer_id}}"}}]});
    assert_eq!(
        server.with(key, "POST", "/api/v1/workflows", Some(wf)).0,
        201
    );
    let execute = |input: Value| {
        server.with(
            key,
            "POST",
            "/api/v1/workflows/onboard/execute",
            Some(json!({"input": input})),
        )
    };
    let (status, refused) = execute(json!({"seats": 0}));
    assert_eq!(status, 422, "{refused}");
    let paths: Vec<&str> = refused["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"$.input") && paths.contains(&"$.input.seats"),
        "{refused}"
    );
    let (status, started) = execute(json!({"customer_id": "c1", "seats": 3}));
    assert_eq!(status, 202, "{started}");
    let (_, runs) = server.with(key, "GET", "/api/v1/executions?workflow_id=onboard", None);
    assert_eq!(
        runs["executions"].as_array().unwrap().len(),
        1,
        "the refused input started nothing"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_hundred_events_in_a_debounce_window_start_one_run_with_the_last_payload() {
    crate::serve::on_both_backends(
        "debounce",
        &[("WEIR_ADMIN_KEY", "debounce-root")],
        |server, _| {
            let key = "debounce-root";
            let wf = json!({"workflow_id": "restock", "trigger": {"type": "event", "event": "stock.changed",
                "debounce": {"window": "2s", "key": "{{sku}}"}},
            "steps": [{"id": "keep", "type": "set", "variables": {"level": "{{level}}", "sku": "{{sku}}"}}]});
            let (status, stored) = server.with(key, "POST", "/api/v1/workflows", Some(wf));
            assert_eq!(status, 201, "{stored}");
            let send = |sku: &str, level: i64| {
                let event = json!({"event_type": "stock.changed", "payload": {"sku": sku, "level": level}, "timeout_ms": 0});
                let (status, answer) = server.with(key, "POST", "/api/v1/events", Some(event));
                assert_eq!(status, 200, "{answer}");
                assert_eq!(
                    answer["executions"],
                    json!([]),
                    "a debounced event starts nothing at once"
                );
            };
            for level in 0..100 {
                send("A-1", level);
            }
            send("B-2", 7);
            let runs = poll(
                server,
                key,
                "/api/v1/executions?workflow_id=restock&status=completed",
                |v| v["executions"].as_array().is_some_and(|e| e.len() >= 2),
            );
            // Nothing more comes after the windows closed.
            std::thread::sleep(std::time::Duration::from_millis(500));
            let (_, all) = server.with(key, "GET", "/api/v1/executions?workflow_id=restock", None);
            let all = all["executions"].as_array().unwrap().clone();
            assert_eq!(all.len(), 2, "one run per key: {all:?}");
            let by_sku = |sku: &str| {
                runs["executions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["context"]["vars"]["sku"] == sku)
                    .unwrap_or_else(|| panic!("no run for {sku}: {runs}"))
                    .clone()
            };
            assert_eq!(
                by_sku("A-1")["context"]["vars"]["level"],
                99,
                "the last payload"
            );
            assert_eq!(by_sku("B-2")["context"]["vars"]["level"], 7);
            assert_eq!(by_sku("A-1")["trigger_event"], "stock.changed");
        },
    );
}

#[test]
fn an_event_trigger_with_a_source_hears_only_that_source() {
    let dir = scratch("source-filter");
    let key = "source-root";
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", key)]);
    let wf = json!({"workflow_id": "shop_only", "trigger": {"type": "event", "event": "order.placed", "source": "shop-*"},
        "steps": [{"id": "ok", "type": "action", "action": "allow"}]});
    assert_eq!(
        server.with(key, "POST", "/api/v1/workflows", Some(wf)).0,
        201
    );
    for (source, runs) in [(json!("shop-eu"), 1), (json!("pos"), 0), (Value::Null, 0)] {
        let (status, answer) = server.with(
            key,
            "POST",
            "/api/v1/events",
            Some(json!({"event_type": "order.placed", "source": source, "payload": {}})),
        );
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["executions"].as_array().unwrap().len(),
            runs,
            "{source}: {answer}"
        );
    }
}
