//! The dry run (`POST /api/v1/dry-run`) and the templates (`GET /api/v1/templates`) over HTTP:
//! what `weir test` does offline, in a server's scope, for agents and the console.

use serde_json::{Value, json};

use crate::serve::{Server, free_port, scratch};

const ROOT: &str = "dry-run-root-key-0123456789";

/// A dry run in the caller's scope (a definition, its text, or a stored workflow), its
/// refusals, and the templates.
#[test]
fn dry_runs_and_templates_over_rest() {
    let dir = scratch("dry-run");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", ROOT)]);
    let wf = json!({"workflow_id": "price_check", "trigger": {"type": "event", "event": "quote.requested"},
        "steps": [
            {"id": "price", "type": "http_request", "config": {"url": "https://pricing.example.com/q"}},
            {"id": "ok", "type": "condition", "condition": {"field": "steps.price.output.status", "operator": "eq", "value": 200},
             "on_true": "allow", "on_false": "deny"},
            {"id": "allow", "type": "action", "action": "allow"},
            {"id": "deny", "type": "action", "action": "block", "reason": "pricing answered {{steps.price.output.status}}"}]});
    let dry = |body: Value| server.with(ROOT, "POST", "/api/v1/dry-run", Some(body));

    let (status, run) = dry(json!({"workflow": wf, "event_type": "quote.requested"}));
    assert_eq!(status, 200, "{run}");
    assert_eq!(
        (&run["status"], &run["decision"], &run["matched"]),
        (&json!("completed"), &json!("allow"), &json!(true))
    );
    assert_eq!(run["steps"][0]["output"]["status"], 200, "{run}");
    // A mock takes the other branch; an assumed failure goes to on_error (here: fails the run).
    let (_, run) = dry(json!({"workflow": wf, "event_type": "quote.requested",
        "mocks": {"price": {"status": 503}}}));
    assert_eq!(
        (&run["decision"], &run["reason"]),
        (&json!("block"), &json!("pricing answered 503"))
    );
    let (_, run) = dry(json!({"workflow": wf, "event_type": "quote.requested",
        "failures": {"price": "4xx"}}));
    assert_eq!(run["status"], "failed", "{run}");
    // YAML text reads; another event is not heard; nothing was stored.
    let yaml = "workflow_id: y\ntrigger: {type: event, event: a.b}\nsteps:\n  - {id: no, type: action, action: block}\n";
    let (status, run) = dry(json!({"workflow": yaml, "event_type": "a.b"}));
    assert_eq!((status, &run["decision"]), (200, &json!("block")), "{run}");
    let (_, run) = dry(json!({"workflow": yaml, "event_type": "c.d"}));
    assert_eq!(run["status"], "not_matched");
    assert_eq!(server.get("/api/v1/workflows").1["workflows"], json!([]));
    // A stored workflow by id.
    assert_eq!(
        server
            .with(ROOT, "POST", "/api/v1/workflows", Some(wf.clone()))
            .0,
        201
    );
    let (status, run) = dry(json!({"workflow_id": "price_check", "event_type": "quote.requested"}));
    assert_eq!((status, &run["decision"]), (200, &json!("allow")), "{run}");

    // Refusals say what to correct.
    for (body, status, path) in [
        (json!({"event_type": "x"}), 422, "$.workflow"),
        (
            json!({"workflow": wf, "workflow_id": "price_check"}),
            422,
            "$.workflow",
        ),
        (
            json!({"workflow": wf, "mocks": {"ok": {}}}),
            422,
            "$.mocks.ok",
        ),
        (
            json!({"workflow": wf, "failures": {"price": "teapot"}}),
            422,
            "$.failures.price",
        ),
        (
            json!({"workflow": {"workflow_id": "t", "steps": [{"id": "a", "type": "condition", "on_true": "b"}]}}),
            422,
            "$.steps[0]",
        ),
        (
            json!({"workflow": "steps: [", "event_type": "x"}),
            422,
            "$.workflow",
        ),
        (json!({"workflow_id": "nope"}), 404, ""),
        (json!({"workflow": wf, "colour": "red"}), 422, ""),
    ] {
        let (got, answer) = dry(body.clone());
        assert_eq!(got, status, "{body}: {answer}");
        if !path.is_empty() {
            let details = answer["error"]["details"].as_array().unwrap();
            assert!(
                details
                    .iter()
                    .any(|d| d["path"].as_str().unwrap().starts_with(path)),
                "{body}: {answer}"
            );
        }
    }

    // Templates: each a complete workflow; one by id; an unknown one is 404.
    let (status, list) = server.get("/api/v1/templates");
    assert_eq!(status, 200, "{list}");
    let templates = list["templates"].as_array().unwrap();
    assert!(templates.len() >= 6, "{list}");
    let (status, one) = server.get("/api/v1/templates/order-approval");
    assert_eq!(status, 200, "{one}");
    assert!(templates.contains(&one), "{one}");
    let (status, run) = dry(json!({"workflow": one["workflow"],
        "event_type": one["trigger_events"][0], "payload": {"order": {"id": "o1", "total": 50}}}));
    assert_eq!(
        (status, &run["matched"], &run["decision"]),
        (200, &json!(true), &json!("allow")),
        "{run}"
    );
    assert_eq!(server.get("/api/v1/templates/nope").0, 404);
    assert_eq!(
        server.call("GET", "/api/v1/templates", None, None, b"").0,
        401
    );
    let _ = std::fs::remove_dir_all(dir);
}
