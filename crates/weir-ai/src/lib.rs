//! Weir's offline interpreter: English about orders, customers, carts, products, quotes, leads,
//! deals and billing turned into a workflow definition, deterministically and without a
//! network. [`interpret`] reads the prompt with a hand-written tokenizer and pattern matchers
//! over the domain's vocabulary (`lexicon.rs`), assembles what it found into rules (`plan.rs`),
//! builds a definition from them (`build.rs`) and checks it with weir-core's validator, so the
//! suggested workflow always validates. What it could not tell from the prompt it asks in
//! `questions`; nothing is deployed.

mod actions;
mod assemble;
mod build;
mod conds;
pub mod lexicon;
mod parse;
mod plan;
pub mod time;
pub mod token;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weir_core::{BuiltinCatalog, Rules, validate_value};

pub use lexicon::EntitySpec;

use crate::plan::{Act, Plan, Recipient, TriggerPlan};

/// Hints about the caller's environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterpretContext {
    /// The teams of the environment: approvers and recipients are matched against them, and a
    /// team the prompt names that is not among them is asked about.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Workflow ids already in use: the suggested id avoids them.
    #[serde(default)]
    pub workflow_ids: Vec<String>,
    /// Entities beyond the built-in catalogue (or more fields and events for a built-in one).
    #[serde(default)]
    pub entities: Vec<EntitySpec>,
}

/// What the interpreter read in the prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Understanding {
    /// The main action: `block`, `allow`, `require_approval`, `notify`, `send_email`,
    /// `http_request`, `call_webhook`, `create_task`, `update_field`, `wait`, `delay`,
    /// `export`; `None` when the prompt names none.
    pub action: Option<String>,
    /// The entities involved, the trigger's first.
    pub entities: Vec<String>,
    /// The trigger, without its conditions.
    pub trigger: Value,
    /// One condition per rule, in weir's condition DSL.
    pub conditions: Vec<Value>,
    /// Every action, in order, with its arguments; those of the "otherwise" branch and of a
    /// wait's or approval's outcome say `when`.
    pub actions: Vec<Value>,
}

/// The answer of [`interpret`]: what was understood, a complete workflow definition that
/// weir-core's validator accepts, how sure the interpreter is, and what it needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interpretation {
    pub interpretation: Understanding,
    pub suggested_workflow: Value,
    /// From 0 to 1: the share of the prompt understood, lowered by each open question.
    pub confidence: f64,
    /// Questions about what is ambiguous or missing (which team approves, which URL, what
    /// counts as "big").
    pub questions: Vec<String>,
}

/// Turns a prompt into a workflow. Deterministic: the same prompt and context always give the
/// same answer.
pub fn interpret(prompt: &str, context: &InterpretContext) -> Interpretation {
    // Prompts are sentences, not documents: a very long one is read up to a limit.
    let prompt: String = prompt.chars().take(4000).collect();
    let lex = lexicon::Lexicon::with(&context.entities);
    let mut parser = parse::Parser::new(&prompt, &lex, context);
    parser.run();
    let plan = assemble::assemble(&mut parser);
    let mut workflow = build::workflow(&plan, &prompt, context);
    let mut questions = plan.questions.clone();
    let mut confidence = confidence(&plan);

    let catalog = BuiltinCatalog::new();
    let rules = Rules::default();
    let mut validated = validate_value(&workflow, &catalog, &rules);
    // A time zone the prompt named that chrono-tz does not know: run in UTC and say so.
    if !validated.is_valid()
        && validated.errors().any(|d| d.path.contains("timezone"))
        && let Some(tz) = workflow["trigger"].get("timezone").cloned()
    {
        workflow["trigger"]["timezone"] = "UTC".into();
        questions.push(format!(
            "'{}' is not a time zone weir knows: which IANA zone should the schedule use? (UTC for now)",
            tz.as_str().unwrap_or_default()
        ));
        validated = validate_value(&workflow, &catalog, &rules);
    }
    if !validated.is_valid() {
        // Should not happen (the evaluation set checks every prompt), but an answer must
        // always validate: fall back to a workflow that only records the request.
        let problems: Vec<String> = validated.errors().map(|d| d.message.clone()).collect();
        workflow = json!({
            "workflow_id": workflow["workflow_id"],
            "name": workflow["name"],
            "description": workflow["description"],
            "version": "1.0.0",
            "enabled": false,
            "trigger": {"type": "manual"},
            "steps": [{"id": "describe_what_to_do", "type": "log",
                       "config": {"message": "The interpreter could not build this workflow"}}],
            "metadata": {"interpreter": "weir-ai offline", "problems": problems},
        });
        questions.push(
            "The interpreter could not turn this into a valid workflow: can you say it more simply, one rule per sentence?".into(),
        );
        confidence = 0.05;
    }
    Interpretation {
        interpretation: understanding(&plan),
        suggested_workflow: workflow,
        confidence,
        questions,
    }
}

fn confidence(plan: &Plan) -> f64 {
    let mut c = 0.3 + 0.65 * plan.coverage;
    if matches!(plan.trigger, TriggerPlan::Manual) {
        c -= 0.15;
    }
    for _ in &plan.questions {
        c *= 0.75;
    }
    if plan.rules.is_empty() && plan.otherwise.is_none() {
        c = c.min(0.2);
    }
    (c.clamp(0.05, 0.98) * 100.0).round() / 100.0
}

fn understanding(plan: &Plan) -> Understanding {
    let trigger = match &plan.trigger {
        TriggerPlan::Event { event } => json!({"type": "event", "event": event}),
        TriggerPlan::Schedule(s) => {
            json!({"type": "schedule", "cron": s.cron, "timezone": s.timezone})
        }
        TriggerPlan::Manual => json!({"type": "manual"}),
    };
    let conditions = match plan.rules.as_slice() {
        [only] => match only.cond.as_ref().map(plan::Cond::to_json) {
            Some(Value::Object(m)) if m.contains_key("and") => {
                m["and"].as_array().cloned().unwrap_or_default()
            }
            Some(c) => vec![c],
            None => Vec::new(),
        },
        rules => rules
            .iter()
            .filter_map(|r| r.cond.as_ref().map(plan::Cond::to_json))
            .collect(),
    };
    let mut actions = Vec::new();
    for r in &plan.rules {
        for a in &r.acts {
            summarize(a, None, &mut actions);
        }
    }
    for a in plan.otherwise.iter().flatten() {
        summarize(a, Some("otherwise"), &mut actions);
    }
    let action = plan
        .rules
        .iter()
        .flat_map(|r| r.acts.iter())
        .chain(plan.otherwise.iter().flatten())
        .find(|a| a.is_decision())
        .or_else(|| plan.rules.iter().flat_map(|r| r.acts.iter()).next())
        .map(|a| a.kind().to_owned());
    Understanding {
        action,
        entities: plan.entities.clone(),
        trigger,
        conditions,
        actions,
    }
}

fn recipient_text(r: &Recipient) -> String {
    match r {
        Recipient::Team(t) => format!("role:{t}"),
        Recipient::Address(a) | Recipient::Channel(a) => a.clone(),
        Recipient::EntityEmail(e) => format!("{{{{{e}.email}}}}"),
    }
}

fn summarize(a: &Act, when: Option<&str>, out: &mut Vec<Value>) {
    let mut v = match a {
        Act::Allow | Act::Block => json!({"type": a.kind()}),
        Act::Approval { team, timeout, .. } => {
            json!({"type": a.kind(), "team": team, "timeout": time::format_duration(timeout.unwrap_or(86_400))})
        }
        Act::Notify { to, channel, .. } => {
            json!({"type": a.kind(), "recipients": to.iter().map(recipient_text).collect::<Vec<_>>(), "channel": channel})
        }
        Act::Email { to, subject } => {
            json!({"type": a.kind(), "to": recipient_text(to), "subject": subject})
        }
        Act::Http { url, method, .. } => json!({"type": a.kind(), "url": url, "method": method}),
        Act::Task {
            title,
            assignee,
            due_days,
        } => {
            json!({"type": a.kind(), "title": title, "assignee": assignee, "due_in_days": due_days})
        }
        Act::Update {
            entity,
            field,
            value,
        } => {
            json!({"type": a.kind(), "field": format!("{entity}.{field}"), "value": value})
        }
        Act::Wait { event, timeout, .. } => {
            json!({"type": a.kind(), "event": event, "timeout": timeout.map(time::format_duration)})
        }
        Act::Delay { secs } => json!({"type": a.kind(), "duration": time::format_duration(*secs)}),
        Act::Export {
            format,
            entity,
            email_to,
        } => {
            json!({"type": a.kind(), "format": format, "entity": entity, "email_to": email_to})
        }
    };
    if let Some(w) = when {
        v["when"] = w.into();
    }
    out.push(v);
    match a {
        Act::Approval {
            on_approve,
            on_reject,
            on_timeout,
            ..
        } => {
            for x in on_approve {
                summarize(x, Some("on_approve"), out);
            }
            for x in on_reject.iter().flatten() {
                summarize(x, Some("on_reject"), out);
            }
            for x in on_timeout.iter().flatten() {
                summarize(x, Some("on_timeout"), out);
            }
        }
        Act::Wait {
            on_arrive,
            on_timeout,
            ..
        } => {
            for x in on_arrive {
                summarize(x, Some("on_arrival"), out);
            }
            for x in on_timeout {
                summarize(x, Some("on_timeout"), out);
            }
        }
        _ => {}
    }
}
