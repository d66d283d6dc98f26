//! Context enrichment against a local HTTP server standing in for an orders service: data
//! sources through a connector and from the record store, loaded in parallel before the first
//! step, cached per entity for their TTL, a slow source timing out per its setting, and the
//! `/api/v1/context` endpoints.

use std::time::Duration;

use serde_json::{Value, json};

use crate::peer::Peer;
use crate::serve::{Server, free_port, scratch};

fn orders_connector(base: &str) -> Value {
    let get = |path: &str, output: Value| {
        json!({
            "config_schema": {"type": "object", "required": ["customer_id"], "properties": {"customer_id": {"type": "string"}}},
            "request": {"method": "GET", "path": path},
            "output": output,
        })
    };
    json!({"name": "orders", "base_url": base, "actions": {
        "customer_history": get("/customers/{{input.customer_id}}/history", json!({"history": "{{response.body}}"})),
        "customer_credit": get("/customers/{{input.customer_id}}/credit", json!({"limit": "{{response.body.credit_limit}}"})),
        "slow_lookup": get("/slow/{{input.customer_id}}", json!({"body": "{{response.body}}"})),
    }})
}

fn source(action: &str, select: &str, extra: Value) -> Value {
    let mut s = json!({"entity_id": "{{customer.id}}", "action": action,
        "config": {"customer_id": "{{entity_id}}"}, "select": select, "ttl": "1m"});
    for (k, v) in extra.as_object().into_iter().flatten() {
        s[k] = v.clone();
    }
    s
}

#[test]
fn runs_load_their_context_once_per_ttl_and_slow_sources_time_out_per_setting() {
    let peer = Peer::start();
    peer.answer(
        "/orders/customers/c1/history",
        200,
        json!({"orders": 12, "last": "2026-11-01"}),
    );
    peer.answer(
        "/orders/customers/c1/credit",
        200,
        json!({"credit_limit": 5000}),
    );
    peer.answer("/orders/slow/c1", 200, json!({"late": true}));
    peer.slow("/orders/slow/c1", Duration::from_secs(3));
    let key = "context-root";
    let server = Server::start_with(
        &scratch("context"),
        free_port(),
        &[
            ("WEIR_ADMIN_KEY", key),
            ("WEIR_OUTBOUND_ALLOW", "127.0.0.1"),
        ],
    );
    let call = |method: &str, path: &str, body: Option<Value>| server.with(key, method, path, body);
    let (status, made) = call(
        "POST",
        "/api/v1/connectors",
        Some(orders_connector(&peer.url("/orders"))),
    );
    assert_eq!(status, 201, "{made}");
    let sources = [
        (
            "customer.history",
            source("customer_history", "history", json!({})),
        ),
        (
            "customer.credit_limit",
            source("customer_credit", "limit", json!({})),
        ),
        (
            "customer.risk",
            json!({"entity_id": "{{customer.id}}", "record": true}),
        ),
        (
            "customer.slow",
            source(
                "slow_lookup",
                "body",
                json!({"timeout": "300ms", "on_error": "continue"}),
            ),
        ),
        (
            "customer.slow_strict",
            source("slow_lookup", "body", json!({"timeout": "300ms"})),
        ),
    ];
    for (name, def) in &sources {
        let (status, put) = call(
            "PUT",
            &format!("/api/v1/data-sources/{name}"),
            Some(def.clone()),
        );
        assert_eq!(status, 200, "{put}");
        assert_eq!(put["created"], true);
    }
    let (status, put) = call(
        "PUT",
        "/api/v1/data-sources/customer.history",
        Some(sources[0].1.clone()),
    );
    assert_eq!((status, put["created"].clone()), (200, json!(false)));
    let (_, list) = call("GET", "/api/v1/data-sources", None);
    assert_eq!(list["data_sources"].as_array().unwrap().len(), 5);
    let (status, _) = call(
        "PUT",
        "/api/v1/records/customer/c1",
        Some(json!({"fields": {"risk": "low", "segment": "retail"}})),
    );
    assert_eq!(status, 201);

    let workflow = json!({"workflow_id": "credit_check",
        "trigger": {"type": "event", "event": "order.placed"},
        "context": {"load": ["customer.history", "customer.credit_limit", "customer.risk", "customer.slow", "order.details"]},
        "steps": [
            {"id": "within_limit", "type": "condition",
             "condition": {"field": "customer.credit_limit", "operator": "gte", "value": "{{order.total}}"},
             "on_true": "ok", "on_false": "hold"},
            {"id": "ok", "type": "action", "action": "allow",
             "reason": "{{customer.history.orders}} orders, risk {{customer.risk.risk}}, slow {{customer.slow}}"},
            {"id": "hold", "type": "action", "action": "block", "reason": "over the limit"}]});
    let (status, stored) = call("POST", "/api/v1/workflows", Some(workflow));
    assert_eq!(status, 201, "{stored}");
    let event = |total: i64| {
        let (status, answer) = call(
            "POST",
            "/api/v1/events",
            Some(
                json!({"event_type": "order.placed", "payload": {"customer": {"id": "c1"}, "order": {"total": total}}, "timeout_ms": 5000}),
            ),
        );
        assert_eq!(status, 200, "{answer}");
        answer
    };
    // The first run calls the orders service (the slow source times out and is left null)...
    let first = event(100);
    assert_eq!(first["decision"], "allow", "{first}");
    assert_eq!(
        first["executions"][0]["reason"], "12 orders, risk low, slow ",
        "{first}"
    );
    assert_eq!(peer.requests_to("/orders/customers/c1/history").len(), 1);
    assert_eq!(peer.requests_to("/orders/customers/c1/credit").len(), 1);
    let id = first["executions"][0]["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, run) = call("GET", &format!("/api/v1/executions/{id}"), None);
    assert_eq!(
        run["context"]["customer"]["history"],
        json!({"orders": 12, "last": "2026-11-01"})
    );
    assert_eq!(run["context"]["customer"]["credit_limit"], 5000);
    let trace = &run["steps"][0];
    assert_eq!(
        (trace["step_id"].clone(), trace["status"].clone()),
        (json!("context"), json!("completed")),
        "{run}"
    );
    let loaded = &trace["output"]["sources"];
    assert_eq!(loaded["customer.history"]["from"], "source", "{trace}");
    assert_eq!(loaded["customer.slow"]["on_error"], "continue", "{trace}");
    assert!(
        loaded["customer.slow"]["error"]
            .as_str()
            .unwrap()
            .contains("timed out after 300 ms"),
        "{trace}"
    );
    assert_eq!(
        loaded["order.details"]["loaded"], false,
        "a name without a source loads nothing"
    );
    // ...the next within the TTL does not.
    let second = event(9000);
    assert_eq!(second["decision"], "block", "{second}");
    assert_eq!(
        peer.requests_to("/orders/customers/c1/history").len(),
        1,
        "served from the cache"
    );
    assert_eq!(peer.requests_to("/orders/customers/c1/credit").len(), 1);
    let id = second["executions"][0]["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, run) = call("GET", &format!("/api/v1/executions/{id}"), None);
    assert_eq!(
        run["steps"][0]["output"]["sources"]["customer.history"]["from"], "cache",
        "{run}"
    );

    // A slow source whose setting is to fail fails the run, before its first step.
    let strict = json!({"workflow_id": "strict", "trigger": {"type": "event", "event": "order.strict"},
        "context": {"load": ["customer.slow_strict"]},
        "steps": [{"id": "ok", "type": "action", "action": "allow"}]});
    assert_eq!(call("POST", "/api/v1/workflows", Some(strict)).0, 201);
    let (_, answer) = call(
        "POST",
        "/api/v1/events",
        Some(
            json!({"event_type": "order.strict", "payload": {"customer": {"id": "c1"}}, "timeout_ms": 5000}),
        ),
    );
    let id = answer["executions"][0]["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = crate::serve::poll(&server, key, &format!("/api/v1/executions/{id}"), |r| {
        r["status"] == "failed"
    });
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("loading context customer.slow_strict: timed out after 300 ms"),
        "{run}"
    );
    assert_eq!(
        run["steps"].as_array().unwrap().len(),
        1,
        "no step ran: {run}"
    );

    // An entity's context over the API, and a refresh that loads again.
    let (status, ctx) = call("GET", "/api/v1/context/customer/c1", None);
    assert_eq!(status, 200, "{ctx}");
    assert_eq!(ctx["data"]["history"]["orders"], 12);
    assert_eq!(ctx["data"]["credit_limit"], 5000);
    assert_eq!(
        ctx["data"]["risk"],
        json!({"risk": "low", "segment": "retail"})
    );
    assert_eq!(ctx["sources"]["customer.history"]["from"], "cache");
    assert_eq!(peer.requests_to("/orders/customers/c1/history").len(), 1);
    let (status, fresh) = call(
        "POST",
        "/api/v1/context/refresh",
        Some(json!({"entity_type": "customer", "entity_id": "c1", "source": "customer.history"})),
    );
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(fresh["dropped"], 1);
    assert_eq!(
        fresh["context"]["sources"]["customer.history"]["from"],
        "source"
    );
    assert_eq!(
        peer.requests_to("/orders/customers/c1/history").len(),
        2,
        "a refresh loads again"
    );

    // A changed definition drops what the old one cached.
    let (status, _) = call(
        "PUT",
        "/api/v1/data-sources/customer.history",
        Some(sources[0].1.clone()),
    );
    assert_eq!(status, 200);
    let (_, ctx) = call("GET", "/api/v1/context/customer/c1", None);
    assert_eq!(
        ctx["sources"]["customer.history"]["from"], "source",
        "{ctx}"
    );
    assert_eq!(peer.requests_to("/orders/customers/c1/history").len(), 3);

    // A failing source's error never shows a secret it was called with.
    let leaked = "orders-key-do-not-show";
    assert_eq!(
        call(
            "POST",
            "/api/v1/secrets",
            Some(json!({"name": "ORDERS_KEY", "value": leaked}))
        )
        .0,
        201
    );
    let (status, put) = call(
        "PUT",
        "/api/v1/data-sources/customer.closed",
        Some(
            json!({"entity_id": "{{customer.id}}", "action": "http_request",
            "config": {"method": "GET", "url": format!("http://127.0.0.1:{}/x?key={{{{secrets.ORDERS_KEY}}}}", free_port())}}),
        ),
    );
    assert_eq!(status, 200, "{put}");
    let (_, ctx) = call("GET", "/api/v1/context/customer/c1", None);
    let error = ctx["sources"]["customer.closed"]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}"));
    assert!(!ctx.to_string().contains(leaked), "{ctx}");
    assert!(!error.is_empty());

    // Loading again takes the right to run things; a viewer may only read.
    let (_, viewer) = call(
        "POST",
        "/api/v1/api-keys",
        Some(json!({"role": "viewer", "name": "reader"})),
    );
    let viewer = viewer["key"].as_str().unwrap().to_owned();
    assert_eq!(
        server
            .with(&viewer, "GET", "/api/v1/context/customer/c1", None)
            .0,
        200
    );
    assert_eq!(
        server
            .with(
                &viewer,
                "GET",
                "/api/v1/context/customer/c1?refresh=true",
                None
            )
            .0,
        403
    );

    // Bad input: a precise 4xx.
    let (status, bad) = call(
        "PUT",
        "/api/v1/data-sources/customer.mailer",
        Some(
            json!({"entity_id": "{{customer.id}}", "action": "send_email", "config": {"to": "a@example.com"}}),
        ),
    );
    assert_eq!(status, 422, "a data source only reads: {bad}");
    assert_eq!(bad["error"]["details"][0]["path"], "$.action");
    let (status, bad) = call(
        "PUT",
        "/api/v1/data-sources/customer.bad",
        Some(json!({"action": "x", "record": true, "ttl": "soon", "extra": 1})),
    );
    assert_eq!(status, 422, "{bad}");
    let paths: Vec<&str> = bad["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    for p in ["$.extra", "$.entity_id", "$", "$.ttl"] {
        assert!(paths.contains(&p), "{p} in {bad}");
    }
    assert_eq!(call("GET", "/api/v1/context/vendor/v1", None).0, 404);
    assert_eq!(call("GET", "/api/v1/data-sources/ghost", None).0, 404);
    assert_eq!(
        call(
            "POST",
            "/api/v1/context/refresh",
            Some(json!({"entity_id": "c1"}))
        )
        .0,
        422
    );
    assert_eq!(
        call(
            "POST",
            "/api/v1/context/refresh",
            Some(json!({"entity_type": 5}))
        )
        .0,
        422
    );
    assert_eq!(
        call("GET", "/api/v1/context/customer/c1?refresh=maybe", None).0,
        400
    );
    assert_eq!(
        call("DELETE", "/api/v1/data-sources/customer.slow", None).0,
        200
    );
    assert_eq!(
        call("DELETE", "/api/v1/data-sources/customer.slow", None).0,
        404
    );
}
