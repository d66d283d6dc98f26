//! The figures issue #2 asks for: evaluating a nested condition against a 20-field
//! context, rendering a 5-template action config, and dry-running the order approval workflow.
//! Run with `cargo bench -p weir-core`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use weir_core::catalog::BuiltinCatalog;
use weir_core::condition::Condition;
use weir_core::diag::Diags;
use weir_core::template::{RenderTrace, Secrets, TemplateValue};
use weir_core::{DryRunOptions, Env, Rules, dry_run, validate_value};

fn context() -> Value {
    // Twenty top-level fields, as a lead.created payload might carry.
    json!({
        "id": "lead_81723", "status": "qualified", "source": "web", "lead_score": 85,
        "company_name": "Tech Corp", "email": "jane@techcorp.io", "first_name": "Jane", "last_name": "Doe",
        "phone": "+1-555-0100", "country": "US", "industry": "software", "employees": 250,
        "annual_revenue": 12000000, "budget": 75000, "created_at": "2026-11-20T10:00:00Z",
        "tags": ["inbound", "demo"], "owner": {"email": "owner@example.com", "name": "Sam"},
        "campaign": "fall-2026", "stage": "proposal", "priority": "high"
    })
}

fn benches(c: &mut Criterion) {
    let rules = Rules::default();
    let now = "2026-11-22T12:00:00Z".parse().expect("valid time");
    let env = Env::new(now, &rules);
    let ctx = context();

    // A nested condition. The `or` takes its second arm, so all three comparisons run.
    let nested = json!({"and": [
        {"field": "status", "operator": "eq", "value": "qualified"},
        {"or": [
            {"field": "source", "operator": "eq", "value": "referral"},
            {"field": "lead_score", "operator": "gte", "value": 80}
        ]}
    ]});
    let mut diags = Diags::default();
    let cond = Condition::parse(&nested, "$", &mut diags).expect("the seed condition parses");
    assert!(cond.eval(&ctx, &env));
    c.bench_function("condition/seed004_nested_20_fields", |b| {
        b.iter(|| black_box(&cond).eval(black_box(&ctx), &env))
    });
    c.bench_function("condition/seed004_nested_20_fields_traced", |b| {
        b.iter(|| black_box(&cond).eval_traced(black_box(&ctx), &env, &mut RenderTrace::default()))
    });

    // A create_task config with five templates.
    let lead_ctx = json!({"lead": ctx});
    let config = json!({
        "title": "Follow up with {{lead.company_name}}",
        "description": "Lead showed high interest",
        "assignee": "{{lead.owner.email}}",
        "due_date": "{{today+2}}",
        "link": "/leads/{{lead.id}}",
        "score": "{{lead.lead_score}}",
        "priority": "high"
    });
    let mut errors = Vec::new();
    let tv = TemplateValue::compile(&config, "$", &mut errors);
    assert!(errors.is_empty());
    c.bench_function("template/render_5_template_config", |b| {
        b.iter(|| {
            black_box(&tv).render(
                black_box(&lead_ctx),
                &env,
                Secrets::Reveal,
                &mut RenderTrace::default(),
            )
        })
    });

    // The order approval workflow, dry-run for a blocked order.
    let text = include_str!("../../../examples/order-approval.workflow.json");
    let doc: Value = serde_json::from_str(text).expect("example is JSON");
    let catalog = BuiltinCatalog::new();
    let wf = validate_value(&doc, &catalog, &rules)
        .into_valid()
        .expect("example is valid");
    let payload = json!({"order": {"id": "ord_123", "total": 15000, "currency": "USD"}, "customer": {"id": "c1"}});
    let opts = DryRunOptions {
        event: Some("order.checkout.initiated".into()),
        ..DryRunOptions::default()
    };
    let run = dry_run(&wf, &payload, &env, &opts);
    assert!(run.matched && !run.steps.is_empty());
    c.bench_function("dryrun/order_approval", |b| {
        b.iter(|| dry_run(black_box(&wf), black_box(&payload), &env, &opts))
    });

    // A foreach of 1,500 items, four at a time, each a condition and one more step: the dry run
    // drives the executor as a live run does, so this is also the executor's cost per item.
    let items: Vec<Value> = (0..1500).map(|n| json!({ "n": n })).collect();
    let many = validate_value(
        &json!({
            "workflow_id": "many", "trigger": {"type": "event", "event": "e.x"},
            "steps": [
                {"id": "each", "type": "foreach", "items": "{{items}}", "as": "item", "concurrency": 4, "steps": [
                    {"id": "big", "type": "condition", "condition": {"field": "item.n", "operator": "gte", "value": 750},
                     "on_true": "mark", "on_false": "skip"},
                    {"id": "mark", "type": "update_field", "config": {"entity_type": "item", "entity_id": "{{item.n}}", "field": "big", "value": true}, "end": true},
                    {"id": "skip", "type": "set", "variables": {"last_small": "{{item.n}}"}}
                ]},
                {"id": "done", "type": "action", "action": "allow"}
            ]
        }),
        &catalog,
        &rules,
    )
    .into_valid()
    .expect("valid");
    let payload_many = json!({ "items": items });
    let opts_many = DryRunOptions {
        event: Some("e.x".into()),
        ..DryRunOptions::default()
    };
    c.bench_function("dryrun/foreach_1500_items", |b| {
        b.iter(|| dry_run(black_box(&many), black_box(&payload_many), &env, &opts_many))
    });

    // For context: reading and validating that workflow from JSON.
    c.bench_function("validate/order_approval_from_json", |b| {
        b.iter(|| {
            let doc: Value = serde_json::from_str(black_box(text)).expect("json");
            validate_value(&doc, &catalog, &rules)
        })
    });
}

criterion_group!(core, benches);
criterion_main!(core);
