//! Traces as a collector receives them: an OTLP/HTTP receiver (a recording HTTP server) gets
//! one trace per execution, a span for the run under the caller's `traceparent`, one per step
//! attempt and one per action call, and the service an `http_request` calls sees the trace
//! carried on.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::peer::Peer;
use crate::serve::{Server, free_port, poll, scratch};

const ROOT: &str = "traces-root-key-0123456789";
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// Every span the receiver got, each with its resource's and scope's spans flattened.
fn spans(peer: &Peer) -> Vec<Value> {
    peer.requests_to("/v1/traces")
        .iter()
        .flat_map(|r| {
            let body = r.json();
            assert!(
                !body.is_null(),
                "OTLP/HTTP JSON: {}",
                String::from_utf8_lossy(&r.body)
            );
            body["resourceSpans"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|rs| {
            assert_eq!(
                rs["resource"]["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["key"] == "service.name")
                    .map(|a| a["value"]["stringValue"].clone()),
                Some(json!("weir"))
            );
            rs["scopeSpans"].as_array().cloned().unwrap_or_default()
        })
        .flat_map(|ss| ss["spans"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn attr(span: &Value, key: &str) -> Value {
    span["attributes"]
        .as_array()
        .and_then(|a| a.iter().find(|kv| kv["key"] == key))
        .map(|kv| {
            let v = &kv["value"];
            v.get("stringValue")
                .or_else(|| v.get("intValue"))
                .cloned()
                .unwrap_or(Value::Null)
        })
        .unwrap_or(Value::Null)
}

#[test]
fn each_execution_is_a_trace_joined_to_its_callers_and_carried_to_the_services_it_calls() {
    let peer = Peer::start();
    peer.answer("/v1/traces", 200, json!({}));
    peer.answer("/crm", 200, json!({"ok": true}));
    let dir = scratch("traces");
    let mut server = Server::start_with(
        &dir,
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", ROOT),
            ("WEIR_OTLP_ENDPOINT", &peer.url("")),
            ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
        ],
    );
    let (status, body) = server.with(ROOT, "POST", "/api/v1/workflows", Some(json!({
        "workflow_id": "big_orders", "trigger": {"type": "event", "event": "order.created"},
        "steps": [
            {"id": "check", "type": "condition", "condition": {"field": "order.total", "operator": "gt", "value": 1000},
             "on_true": "tell_crm", "on_false": "allow"},
            {"id": "tell_crm", "type": "http_request", "config": {"url": peer.url("/crm"), "method": "POST", "body": {"order": "{{order.id}}"}},
             "next": "block"},
            {"id": "block", "type": "action", "action": "block"},
            {"id": "allow", "type": "action", "action": "allow"}]})));
    assert_eq!(status, 201, "{body}");
    let send = |traceparent: Option<&str>, total: u32| {
        let mut headers = vec![
            ("Content-Type", "application/json".to_owned()),
            ("Authorization", format!("Bearer {ROOT}")),
        ];
        if let Some(t) = traceparent {
            headers.push(("traceparent", t.to_owned()));
        }
        let body = json!({"event_type": "order.created", "payload": {"order": {"id": format!("o{total}"), "total": total}}});
        let (status, _, answer) = server.exchange(
            "POST",
            "/api/v1/events",
            &headers,
            body.to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{answer}");
        answer["executions"][0]["execution_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let joined = send(Some(&format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01")), 5000);
    let own = send(None, 10);
    // A traceparent that does not read is ignored, as the standard says.
    let ignored = send(Some("00-not-a-trace-01"), 20);
    poll(&server, ROOT, "/api/v1/executions?status=completed", |l| {
        l["executions"].as_array().is_some_and(|e| e.len() == 3)
    });
    // Stopping sends what is queued.
    server.stop_and_read_log();
    let spans = spans(&peer);

    let mut traces: HashMap<String, Vec<&Value>> = HashMap::new();
    for s in &spans {
        traces
            .entry(s["traceId"].as_str().unwrap().to_owned())
            .or_default()
            .push(s);
    }
    let runs: Vec<&Value> = spans
        .iter()
        .filter(|s| s["name"] == "run big_orders")
        .collect();
    assert_eq!(runs.len(), 3, "one run span per execution: {runs:?}");
    let ids: HashSet<Value> = runs.iter().map(|s| attr(s, "weir.execution_id")).collect();
    assert_eq!(
        ids,
        [&joined, &own, &ignored]
            .into_iter()
            .map(|i| json!(i))
            .collect()
    );

    // The caller's trace holds the run under the caller's span, and its steps and action
    // under the run.
    let trace = &traces[CALLER_TRACE];
    let run = trace
        .iter()
        .find(|s| s["name"] == "run big_orders")
        .expect("the run's span");
    assert_eq!(run["parentSpanId"], json!(CALLER_SPAN), "{run}");
    assert_eq!(attr(run, "weir.execution_id"), json!(joined));
    assert_eq!(attr(run, "weir.status"), json!("completed"));
    let run_id = run["spanId"].as_str().unwrap();
    let mut steps: Vec<String> = trace
        .iter()
        .filter(|s| s["name"].as_str().unwrap().starts_with("step "))
        .map(|s| {
            assert_eq!(s["parentSpanId"], json!(run_id), "{s}");
            s["name"].as_str().unwrap().to_owned()
        })
        .collect();
    steps.sort();
    assert_eq!(steps, ["step block", "step check", "step tell_crm"]);
    let call = trace
        .iter()
        .find(|s| s["name"] == "action http_request")
        .expect("the action call's span");
    assert_eq!(call["parentSpanId"], json!(run_id));
    assert_eq!(attr(call, "weir.outcome"), json!("ok"));
    assert_eq!(call["kind"], json!(3), "a client span: {call}");
    // The service called saw the trace go on under that call.
    let crm = peer.requests_to("/crm");
    assert_eq!(crm.len(), 1);
    assert_eq!(
        crm[0].headers.get("traceparent"),
        Some(&format!(
            "00-{CALLER_TRACE}-{}-01",
            call["spanId"].as_str().unwrap()
        ))
    );

    // A run without a caller is a trace of its own, named by its id, with no parent.
    for id in [&own, &ignored] {
        let trace_id = id.replace('-', "");
        let trace = &traces[&trace_id];
        let run = trace
            .iter()
            .find(|s| s["name"] == "run big_orders")
            .unwrap();
        assert!(
            run["parentSpanId"].as_str().is_none_or(str::is_empty),
            "{run}"
        );
        assert_eq!(
            trace
                .iter()
                .filter(|s| s["name"].as_str().unwrap().starts_with("step "))
                .count(),
            2,
            "check and allow"
        );
    }
    assert_eq!(traces.len(), 3, "no span outside the three traces");
}

#[test]
fn an_otlp_endpoint_that_is_not_a_url_stops_the_start() {
    let dir = scratch("traces-bad");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--data-dir",
        ])
        .arg(&dir)
        .env("WEIR_OTLP_ENDPOINT", "collector:4318")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("WEIR_OTLP_ENDPOINT 'collector:4318' is not an http(s) URL"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
