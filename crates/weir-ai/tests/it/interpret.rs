//! The interpreter's contract: answers that always validate, field names as the API spells
//! them, determinism, and the context's hints.

use serde_json::Value;
use weir_ai::{InterpretContext, interpret};
use weir_core::{BuiltinCatalog, Rules, validate_value};

fn valid(v: &Value) -> bool {
    validate_value(v, &BuiltinCatalog::new(), &Rules::default()).is_valid()
}

#[test]
fn any_prompt_gives_a_valid_workflow() {
    let prompts = [
        "",
        "   ",
        "hello",
        "!!!???",
        "Do something with leads",
        "when",
        "block",
        "notify",
        "every",
        "wait",
        "if it doesn't arrive, cancel",
        "otherwise allow",
        "except gold customers",
        "approve",
        "Send a webhook",
        "between 5 and",
        "over $",
        "email",
        "export",
        "at 25:99 every 0 minutes",
        "Every day at midnight Mars/Olympus_Mons time, call https://x.example/a",
        "Block orders over $5,000 from new customers; notify fraud; require approval from finance; allow the rest; otherwise block; if rejected, email a@b.c",
        "wait wait wait for for for up to up to 3 days days",
        "\u{202e}Block \u{202e}orders “over” $1e9 from 🇺🇸",
    ];
    for p in prompts {
        let out = interpret(p, &InterpretContext::default());
        assert!(
            valid(&out.suggested_workflow),
            "{p:?}: {}",
            out.suggested_workflow
        );
        assert!((0.0..=1.0).contains(&out.confidence), "{p:?}");
    }
    let long = "Block orders over $5,000 from new customers and ".repeat(400);
    assert!(valid(
        &interpret(&long, &InterpretContext::default()).suggested_workflow
    ));
}

#[test]
fn the_answer_has_the_fields_of_the_api() {
    let out = interpret(
        "Block orders over $5,000 from new customers",
        &InterpretContext::default(),
    );
    let v = serde_json::to_value(&out).expect("serializes");
    for k in [
        "interpretation",
        "suggested_workflow",
        "confidence",
        "questions",
    ] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    for k in ["action", "entities", "trigger", "conditions", "actions"] {
        assert!(
            v["interpretation"].get(k).is_some(),
            "interpretation.{k} missing: {v}"
        );
    }
    assert_eq!(v["interpretation"]["action"], "block");
    assert_eq!(
        v["interpretation"]["trigger"]["event"],
        "order.checkout.initiated"
    );
    assert_eq!(
        v["interpretation"]["conditions"],
        serde_json::json!([
            {"field": "order.total", "operator": "gt", "value": 5000},
            {"field": "customer.created_at", "operator": "within_last", "value": "30d"}
        ])
    );
    assert!(out.questions.is_empty(), "{:?}", out.questions);
    assert!(out.confidence > 0.8, "{}", out.confidence);
}

#[test]
fn the_same_prompt_gives_the_same_answer() {
    let ctx = InterpretContext::default();
    let p = "When a deal over $100,000 is won, notify the finance team and create a task for legal";
    assert_eq!(interpret(p, &ctx), interpret(p, &ctx));
}

#[test]
fn an_ambiguous_prompt_asks_and_is_less_sure() {
    let ctx = InterpretContext::default();
    let clear = interpret("Require approval from finance for orders over $10k", &ctx);
    let vague = interpret("Orders above 10k need approval", &ctx);
    assert!(clear.questions.is_empty(), "{:?}", clear.questions);
    assert!(!vague.questions.is_empty());
    assert!(vague.confidence < clear.confidence);
}

#[test]
fn known_teams_and_workflow_ids_from_the_context() {
    let ctx = InterpretContext {
        teams: vec!["Finance-Team".into(), "sales_managers".into()],
        workflow_ids: vec!["orders_over_50k_need_approval_finance".into()],
        ..InterpretContext::default()
    };
    let out = interpret("Orders over $50k need approval from finance", &ctx);
    let steps = out.suggested_workflow["steps"]
        .as_array()
        .expect("steps")
        .clone();
    let approval = steps
        .iter()
        .find(|s| s["type"] == "approval")
        .expect("an approval");
    assert_eq!(approval["approver_role"], "Finance-Team");
    assert_ne!(
        out.suggested_workflow["workflow_id"],
        "orders_over_50k_need_approval_finance"
    );
    let out = interpret("Big deals need a sales manager to sign off", &ctx);
    let _ = out;
    let out = interpret(
        "Require approval from the treasury for orders over $50k",
        &ctx,
    );
    assert!(
        out.questions.iter().any(|q| q.contains("treasury")),
        "{:?}",
        out.questions
    );
}

#[test]
fn a_context_entity_is_understood() {
    let ctx = InterpretContext {
        entities: vec![weir_ai::EntitySpec {
            name: "ticket".into(),
            fields: vec!["priority".into(), "age_hours".into()],
            events: vec!["ticket.escalated".into()],
        }],
        ..InterpretContext::default()
    };
    let out = interpret("When a ticket is escalated, notify the support team", &ctx);
    assert_eq!(
        out.suggested_workflow["trigger"]["event"],
        "ticket.escalated"
    );
    assert!(valid(&out.suggested_workflow));
}
