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

/// `POST /api/v1/format`: a definition or its text in the canonical form of `weir fmt`, in JSON
/// or YAML, each reading back as the same definition; text that does not read says where.
#[test]
fn workflows_are_formatted_as_weir_fmt_writes_them() {
    let dir = scratch("format");
    let server = Server::start_with(&dir, free_port(), &[("WEIR_ADMIN_KEY", ROOT)]);
    let format = |body: Value| server.with(ROOT, "POST", "/api/v1/format", Some(body));
    // Keys out of the format's order, user data (metadata) as written.
    let wf = json!({"steps": [{"type": "action", "action": "allow", "id": "ok"}],
        "metadata": {"z": 1, "a": 2}, "trigger": {"event": "order.created", "type": "event"},
        "workflow_id": "fmt_me"});
    let (status, json_form) = format(json!({"workflow": wf, "format": "json"}));
    assert_eq!(status, 200, "{json_form}");
    let text = json_form["text"].as_str().unwrap();
    assert!(
        text.find("\"workflow_id\"").unwrap() < text.find("\"trigger\"").unwrap()
            && text.find("\"trigger\"").unwrap() < text.find("\"steps\"").unwrap(),
        "{text}"
    );
    let step = &text[text.find("\"steps\"").unwrap()..];
    assert!(
        step.find("\"id\"").unwrap() < step.find("\"type\"").unwrap(),
        "{text}"
    );
    let reread: Value = serde_json::from_str(text).unwrap();
    assert_eq!(reread, json_form["workflow"]);
    let (status, yaml_form) = format(json!({"workflow": text, "format": "yaml"}));
    assert_eq!(status, 200, "{yaml_form}");
    let yaml = yaml_form["text"].as_str().unwrap();
    assert!(yaml.starts_with("workflow_id: fmt_me\n"), "{yaml}");
    assert_eq!(yaml_form["workflow"], json_form["workflow"]);
    // The YAML text formats back to the same JSON; formatting is idempotent.
    let (_, again) = format(json!({"workflow": yaml, "format": "json"}));
    assert_eq!(again["text"], json_form["text"]);
    // Text that does not read: 422 with its line and column; other bad requests 422 too.
    let (status, e) = format(json!({"workflow": "workflow_id: x\nsteps: [\n", "format": "yaml"}));
    assert_eq!(status, 422, "{e}");
    assert!(e["error"]["details"][0]["line"].as_u64().is_some(), "{e}");
    for body in [
        json!({"workflow": wf, "format": "toml"}),
        json!({"workflow": wf}),
        json!({"workflow": 3, "format": "json"}),
        json!({"workflow": "AAA", "format": "json"}),
        json!({"workflow": "[1, 2]", "format": "yaml"}),
        json!({"workflow": wf, "format": "json", "indent": 4}),
    ] {
        let (status, e) = format(body.clone());
        assert_eq!(status, 422, "{body}: {e}");
    }
    let (status, _) = server.call(
        "POST",
        "/api/v1/format",
        None,
        Some("application/json"),
        b"{}",
    );
    assert_eq!(status, 401);
    let _ = std::fs::remove_dir_all(dir);
}
