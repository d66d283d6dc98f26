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

/// The condition of a one-rule prompt, as the interpretation reports it.
fn conditions(prompt: &str) -> Value {
    let out = interpret(prompt, &InterpretContext::default());
    assert!(valid(&out.suggested_workflow), "{prompt}");
    Value::Array(out.interpretation.conditions)
}

#[test]
fn thresholds_sets_strings_and_time_windows_become_conditions() {
    use serde_json::json;
    let cases = [
        (
            "Block orders over $5,000",
            json!([{"field": "order.total", "operator": "gt", "value": 5000}]),
        ),
        (
            "Block orders of more than 5k",
            json!([{"field": "order.total", "operator": "gt", "value": 5000}]),
        ),
        (
            "Notify sales about leads scoring at least 80",
            json!([{"field": "lead.score", "operator": "gte", "value": 80}]),
        ),
        (
            "Block carts under 100",
            json!([{"field": "cart.total", "operator": "lt", "value": 100}]),
        ),
        (
            "Hold orders between 1,000 and 5,000 for the risk team",
            json!([{"field": "order.total", "operator": "between", "value": [1000, 5000]}]),
        ),
        (
            "Block quotes with a discount of 30% or more",
            json!([{"field": "quote.discount_percent", "operator": "gte", "value": 30}]),
        ),
        (
            "Notify finance when a deal worth 250k+ is won",
            json!([{"field": "deal.amount", "operator": "gte", "value": 250000}]),
        ),
        (
            "Allow orders from gold or platinum customers; block the rest",
            json!([{"field": "customer.tier", "operator": "in", "value": ["gold", "platinum"]}]),
        ),
        (
            "Only allow orders shipping to the US, CA or MX",
            json!([{"field": "order.country", "operator": "in", "value": ["US", "CA", "MX"]}]),
        ),
        (
            "Block non-US orders",
            json!([{"field": "order.country", "operator": "ne", "value": "US"}]),
        ),
        (
            "Block signups whose email ends with @tempmail.com",
            json!([{"field": "customer.email", "operator": "endswith", "value": "@tempmail.com"}]),
        ),
        (
            "Block customers whose email contains test",
            json!([{"field": "customer.email", "operator": "contains", "value": "test"}]),
        ),
        (
            "Block orders from new customers",
            json!([{"field": "customer.created_at", "operator": "within_last", "value": "30d"}]),
        ),
        (
            "Block orders from customers who signed up within the last 2 weeks",
            json!([{"field": "customer.created_at", "operator": "within_last", "value": "14d"}]),
        ),
        (
            "Block orders from customers with fewer than 3 previous orders",
            json!([{"field": "customer.orders_count", "operator": "lt", "value": 3}]),
        ),
        (
            "Block orders with more than 10 items",
            json!([{"field": "order.items.10", "operator": "exists", "value": true}]),
        ),
        (
            "Block orders over 10,000 EUR",
            json!([{"field": "order.currency", "operator": "eq", "value": "EUR"}, {"field": "order.total", "operator": "gt", "value": 10000}]),
        ),
        (
            "Block orders where the country is different from the customer's country",
            json!([{"field": "order.country", "operator": "ne", "value": "{{customer.country}}"}]),
        ),
    ];
    for (prompt, want) in cases {
        assert_eq!(conditions(prompt), want, "{prompt}");
    }
}

#[test]
fn events_come_from_the_entity_and_the_verb() {
    let cases = [
        (
            "When an order is placed, notify the warehouse",
            "order.created",
        ),
        (
            "Block orders over $1,000 at checkout",
            "order.checkout.initiated",
        ),
        (
            "Require approval from finance for orders over $10k",
            "order.checkout.initiated",
        ),
        ("When a deal is won, notify finance", "deal.won"),
        (
            "When a deal moves to negotiation, notify sales",
            "deal.stage_changed",
        ),
        ("When a lead comes in, notify sales", "lead.created"),
        (
            "When a product runs low, email buyer@acme.com",
            "product.inventory.low",
        ),
        (
            "When a product's price changes, notify pricing",
            "product.price.changed",
        ),
        ("When a quote is requested, notify sales", "quote.requested"),
        (
            "When a customer signs up, send them a welcome email",
            "customer.created",
        ),
        (
            "When a cart is abandoned, email the customer",
            "cart.abandoned",
        ),
        (
            "When an item is added to the cart, notify marketing",
            "cart.item.added",
        ),
        (
            "When an order is cancelled, notify finance",
            "order.cancelled",
        ),
        ("When a lead is updated, notify sales", "lead.updated"),
    ];
    for (prompt, event) in cases {
        let out = interpret(prompt, &InterpretContext::default());
        assert_eq!(
            out.suggested_workflow["trigger"]["event"], event,
            "{prompt}"
        );
    }
}
