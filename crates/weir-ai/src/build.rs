//! From a plan to a workflow definition. One rule without a decision puts its condition on the
//! trigger. Rules that decide (allow, block, approval) or have an "otherwise" become a chain of
//! condition steps, each rule's actions after its test and ending there, the "otherwise"
//! actions last. Several rules without decisions become guarded steps, all tried.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::InterpretContext;
use crate::plan::{Act, Cond, Plan, Recipient, Rule, TriggerPlan};
use crate::time::format_duration;

/// Words left out of a workflow's id.
const ID_SKIP: &[&str] = &[
    "the", "a", "an", "to", "of", "for", "and", "or", "is", "are", "be", "it", "that", "this",
    "with", "from", "in", "on", "at", "by", "as", "any", "all", "every", "each", "should", "must",
    "will", "can", "please", "then", "also", "them", "they", "their", "who", "which", "whose",
    "when", "whenever", "if", "so", "our", "my", "we", "i", "you", "up", "into", "via", "its",
    "has", "have", "s", "t",
];

pub(crate) fn workflow(plan: &Plan, prompt: &str, ctx: &InterpretContext) -> Value {
    let id = workflow_id(prompt, &ctx.workflow_ids);
    let name = id
        .split('_')
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(k, w)| if k == 0 { capitalize(w) } else { w.to_owned() })
        .collect::<Vec<_>>()
        .join(" ");
    let mut em = Emitter {
        steps: Vec::new(),
        ids: HashSet::new(),
        entity: plan.entity.clone(),
        scheduled: matches!(plan.trigger, TriggerPlan::Schedule(_)),
        name: name.clone(),
        reason: None,
    };
    let mut trigger = match &plan.trigger {
        TriggerPlan::Event { event } => json!({"type": "event", "event": event}),
        TriggerPlan::Schedule(s) => {
            json!({"type": "schedule", "cron": s.cron, "timezone": s.timezone})
        }
        TriggerPlan::Manual => json!({"type": "manual"}),
    };
    let has_branching = plan
        .rules
        .iter()
        .flat_map(|r| r.acts.iter())
        .any(Act::is_branching);
    let simple =
        !plan.decides() && plan.otherwise.is_none() && (plan.rules.len() <= 1 || !has_branching);
    if simple {
        match plan.rules.as_slice() {
            [] => {
                let id = em.id("describe_what_to_do");
                em.steps.push(json!({"id": id, "type": "log",
                    "config": {"message": "The interpreter did not find what this workflow should do"}}));
            }
            [rule] => {
                em.reason = rule.cond.as_ref().map(Cond::describe);
                match rule.cond.as_ref().and_then(Cond::split_item) {
                    Some((plain, Some(item))) if !rule.acts.iter().any(Act::is_branching) => {
                        if let Some(c) = plain {
                            trigger["conditions"] = c.to_json();
                        }
                        em.each_item(&item, &rule.acts);
                    }
                    _ => {
                        if let Some(c) = &rule.cond {
                            trigger["conditions"] = c.to_json();
                        }
                        em.seq(&rule.acts);
                    }
                }
            }
            rules => {
                for rule in rules {
                    em.reason = rule.cond.as_ref().map(Cond::describe);
                    for act in &rule.acts {
                        let mut step = em.simple(act);
                        if let Some(c) = &rule.cond
                            && let Value::Object(m) = &mut step
                        {
                            m.insert("condition".into(), c.to_json());
                        }
                        em.steps.push(step);
                    }
                }
            }
        }
    } else {
        em.chain(plan);
    }
    let mut wf = Map::new();
    wf.insert("workflow_id".into(), id.into());
    wf.insert("name".into(), name.into());
    let description: String = prompt.trim().chars().take(500).collect();
    wf.insert("description".into(), description.into());
    wf.insert("version".into(), "1.0.0".into());
    wf.insert("enabled".into(), true.into());
    wf.insert("trigger".into(), trigger);
    wf.insert("steps".into(), em.steps.into());
    wf.insert(
        "metadata".into(),
        json!({"interpreter": "weir-ai offline", "prompt": prompt.trim().chars().take(2000).collect::<String>()}),
    );
    Value::Object(wf)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// An id from the prompt's words ("Block orders over $5,000 from new customers" →
/// `block_orders_over_5000_new_customers`), made unique against the ids the context knows.
fn workflow_id(prompt: &str, taken: &[String]) -> String {
    // Contractions ("doesn't") name nothing; the rest are words.
    let words: Vec<String> = prompt
        .split_whitespace()
        .filter(|w| !w.contains(['\'', '’']) || w.ends_with("'s"))
        .flat_map(|w| w.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty() && *w != "s")
        .map(str::to_lowercase)
        .filter(|w| !ID_SKIP.contains(&w.as_str()))
        .take(7)
        .collect();
    let mut base = words.join("_");
    base.truncate(60);
    let base = base.trim_matches('_').to_owned();
    let base = if base.is_empty()
        || !base
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        "interpreted_workflow".to_owned()
    } else {
        base.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let base = if base.is_empty() {
        "interpreted_workflow".to_owned()
    } else {
        base
    };
    let mut id = base.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    id
}

struct Emitter {
    steps: Vec<Value>,
    ids: HashSet<String>,
    entity: Option<String>,
    scheduled: bool,
    name: String,
    /// What the current rule tests, for reasons and messages.
    reason: Option<String>,
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_owned();
    out.chars()
        .take(48)
        .collect::<String>()
        .trim_matches('_')
        .to_owned()
}

impl Emitter {
    fn id(&mut self, base: &str) -> String {
        let base = slug(base);
        let base = if base.is_empty() {
            "step".to_owned()
        } else {
            base
        };
        let mut id = base.clone();
        let mut n = 2;
        while self.ids.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        self.ids.insert(id.clone());
        id
    }

    fn entity(&self) -> &str {
        self.entity.as_deref().unwrap_or("record")
    }

    fn entity_ref(&self) -> String {
        match &self.entity {
            Some(e) => format!("{} {{{{{e}.id}}}}", capitalize(e)),
            None => self.name.clone(),
        }
    }

    /// What happened, for messages: "Order {{order.id}} (order total over 5000)".
    fn message(&self) -> String {
        match &self.reason {
            Some(r) => format!("{}: {r}", self.entity_ref()),
            None => format!("{}: {}", self.entity_ref(), self.name),
        }
    }

    /// The rules as a chain of condition steps; the otherwise actions last.
    fn chain(&mut self, plan: &Plan) {
        let (conditional, always): (Vec<&Rule>, Vec<&Rule>) =
            plan.rules.iter().partition(|r| r.cond.is_some());
        // Unconditional actions that decide nothing run first.
        let mut otherwise = plan.otherwise.clone();
        for r in &always {
            if conditional.is_empty() && otherwise.is_none() {
                self.reason = None;
                self.seq(&r.acts);
                return;
            }
            let (decisions, rest): (Vec<Act>, Vec<Act>) = r
                .acts
                .iter()
                .cloned()
                .partition(|a| a.is_decision() || a.is_branching());
            for a in &rest {
                let s = self.simple(a);
                self.steps.push(s);
            }
            if !decisions.is_empty() && otherwise.is_none() {
                otherwise = Some(decisions);
            }
        }
        if conditional.is_empty() {
            if let Some(o) = &otherwise {
                self.reason = None;
                self.seq(o);
            }
            return;
        }
        let checks: Vec<String> = conditional
            .iter()
            .map(|r| {
                let base = r
                    .cond
                    .as_ref()
                    .and_then(Cond::first_field)
                    .map_or_else(|| "check".to_owned(), |f| format!("check_{f}"));
                self.id(&base)
            })
            .collect();
        // Each rule's first step, and the steps whose way out is the next rule: (step index,
        // the field naming it, the rule).
        let mut entries: Vec<String> = checks.clone();
        let mut outs: Vec<(usize, &str, usize)> = Vec::new();
        for (k, r) in conditional.iter().enumerate() {
            self.reason = r.cond.as_ref().map(Cond::describe);
            let split = r.cond.as_ref().and_then(Cond::split_item);
            if let Some((plain, Some(item))) = split
                && !r.acts.iter().any(Act::is_branching)
            {
                // A test on the order's lines: a loop over them, after the rest of the test.
                let check_at = plain.map(|c| {
                    let name = capitalize(&c.describe());
                    self.steps.push(json!({"id": checks[k], "name": name, "type": "condition", "condition": c.to_json()}));
                    self.steps.len() - 1
                });
                let each_at = self.steps.len();
                let each = self.each_item(&item, &r.acts);
                outs.push((each_at, "next", k));
                match check_at {
                    Some(c) => {
                        self.steps[c]["on_true"] = each.into();
                        outs.push((c, "on_false", k));
                    }
                    None => entries[k] = each,
                }
                continue;
            }
            let cond = r.cond.as_ref().map(Cond::to_json).unwrap_or(Value::Null);
            let name = r.cond.as_ref().map(Cond::describe).unwrap_or_default();
            let at = self.steps.len();
            self.steps.push(json!({"id": checks[k], "name": capitalize(&name), "type": "condition", "condition": cond}));
            outs.push((at, "on_false", k));
            let first = self.seq(&r.acts);
            if let Some(f) = first {
                self.steps[at]["on_true"] = f.into();
            }
        }
        self.reason = None;
        let other = match &otherwise {
            Some(o) if !o.is_empty() => self.seq(o),
            _ => None,
        };
        let fallback = match other {
            Some(o) => o,
            None => {
                let id = self.id("no_rule_applies");
                self.steps.push(json!({"id": id, "type": "log",
                    "config": {"message": format!("{}: no rule applies", self.entity_ref())}}));
                id
            }
        };
        // Each rule's way out goes to the next rule's first step.
        for (idx, field, k) in outs {
            let target = entries
                .get(k + 1)
                .cloned()
                .unwrap_or_else(|| fallback.clone());
            self.steps[idx][field] = target.into();
        }
    }

    /// A loop over the order's lines running `acts` for each line that passes `item` (each
    /// action guarded by it; a decision ends the run at the first such line). Returns its id.
    fn each_item(&mut self, item: &Cond, acts: &[Act]) -> String {
        let list = self.entity.clone().unwrap_or_else(|| "order".into());
        let id = self.id(&format!("each_{list}_item"));
        let saved = std::mem::take(&mut self.steps);
        for act in crate::assemble::normalize(acts.to_vec()) {
            let mut step = self.simple(&act);
            step["condition"] = item.to_json();
            self.steps.push(step);
        }
        let body = std::mem::replace(&mut self.steps, saved);
        self.steps.push(json!({
            "id": id, "type": "foreach", "items": format!("{{{{{list}.items}}}}"), "as": "item",
            "condition": {"field": format!("{list}.items"), "operator": "not_empty"},
            "steps": body,
        }));
        id
    }

    /// Appends the steps of `acts` and returns the first one's id. The sequence ends: its last
    /// step decides, branches, or has `end: true`.
    fn seq(&mut self, acts: &[Act]) -> Option<String> {
        let acts = crate::assemble::normalize(acts.to_vec());
        let start = self.steps.len();
        for act in &acts {
            match act {
                Act::Approval {
                    team,
                    timeout,
                    on_approve,
                    on_reject,
                    on_timeout,
                } => {
                    let id = self.id(&format!("{team}_approval"));
                    let idx = self.steps.len();
                    let mut step = json!({"id": id, "type": "approval", "approver_role": team,
                        "message": format!("Approve {}?", self.message())});
                    if let Some(e) = &self.entity {
                        step["entity"] = e.clone().into();
                        step["entity_id"] = format!("{{{{{e}.id}}}}").into();
                    }
                    step["timeout"] = format_duration(timeout.unwrap_or(86_400)).into();
                    self.steps.push(step);
                    let mut approve = on_approve.clone();
                    if !approve.iter().any(Act::is_decision) {
                        approve.push(Act::Allow);
                    }
                    let mut reject = on_reject.clone().unwrap_or_default();
                    if !reject.iter().any(|a| matches!(a, Act::Allow | Act::Block)) {
                        reject.push(Act::Block);
                    }
                    let a = self.seq(&approve);
                    let r = self.seq(&reject);
                    let t = match on_timeout {
                        Some(t) if !t.is_empty() => {
                            let mut t = t.clone();
                            if !t.iter().any(|a| matches!(a, Act::Allow | Act::Block)) {
                                t.push(Act::Block);
                            }
                            self.seq(&t)
                        }
                        _ => r.clone(),
                    };
                    self.steps[idx]["on_approve"] = a.into();
                    self.steps[idx]["on_reject"] = r.into();
                    self.steps[idx]["on_timeout"] = t.into();
                    return self.first(start);
                }
                Act::Wait {
                    event,
                    field,
                    value,
                    timeout,
                    on_arrive,
                    on_timeout,
                } => {
                    let what = event.rsplit('.').next().unwrap_or("event").to_owned();
                    let waited = event.split('.').next().unwrap_or("event").to_owned();
                    let base = if waited == "payment" {
                        "wait_for_payment".to_owned()
                    } else {
                        format!("wait_for_{waited}_{what}")
                    };
                    let id = self.id(&base);
                    let idx = self.steps.len();
                    let mut step = json!({"id": id, "type": "wait", "event": event});
                    if let (Some(f), Some(v)) = (field, value) {
                        step["match"] = json!({"field": f, "operator": "eq", "value": v});
                    }
                    let timeout = format_duration(timeout.unwrap_or(86_400));
                    step["timeout"] = timeout.clone().into();
                    self.steps.push(step);
                    // The event arrived: the following steps (the default flow).
                    if on_arrive.is_empty() {
                        let id = self.id(&format!("{waited}_{what}"));
                        self.steps.push(json!({"id": id, "type": "log",
                            "config": {"message": format!("{event} arrived for {}", self.entity_ref())}, "end": true}));
                    } else {
                        self.seq(on_arrive);
                    }
                    let t = if on_timeout.is_empty() {
                        let id = self.id(&format!("no_{waited}_{what}"));
                        self.steps.push(json!({"id": id, "type": "log",
                            "config": {"message": format!("no {event} within {timeout} for {}", self.entity_ref())}, "end": true}));
                        id
                    } else {
                        // What the messages of the timeout branch say happened.
                        let reason = self.reason.replace(format!("no {event} within {timeout}"));
                        let first = self.seq(on_timeout).unwrap_or_default();
                        self.reason = reason;
                        first
                    };
                    self.steps[idx]["on_timeout"] = t.into();
                    return self.first(start);
                }
                other => {
                    let s = self.simple(other);
                    self.steps.push(s);
                }
            }
        }
        if self.steps.len() > start
            && let Some(last) = self.steps.last_mut()
        {
            let decides = last["type"] == "action"
                && matches!(last["action"].as_str(), Some("allow" | "block"));
            if !decides {
                last["end"] = true.into();
            }
        }
        self.first(start)
    }

    fn first(&self, start: usize) -> Option<String> {
        self.steps
            .get(start)
            .and_then(|s| s["id"].as_str())
            .map(str::to_owned)
    }

    fn recipient(&self, r: &Recipient) -> String {
        match r {
            Recipient::Team(t) => format!("role:{t}"),
            Recipient::Address(a) => a.clone(),
            Recipient::Channel(c) => c.clone(),
            Recipient::EntityEmail(e) => format!("{{{{{e}.email}}}}"),
        }
    }

    fn recipient_slug(r: &Recipient) -> String {
        match r {
            Recipient::Team(t) => t.clone(),
            Recipient::Address(a) => a.split('@').next().unwrap_or("address").to_owned(),
            Recipient::Channel(c) => c.trim_start_matches('#').to_owned(),
            Recipient::EntityEmail(e) => e.clone(),
        }
    }

    /// The step of an action that neither branches nor waits.
    fn simple(&mut self, act: &Act) -> Value {
        let e = self.entity().to_owned();
        let entity_id = self.entity.as_ref().map(|e| format!("{{{{{e}.id}}}}"));
        match act {
            Act::Allow => {
                let id = self.id(&format!("allow_{e}"));
                json!({"id": id, "type": "action", "action": "allow",
                "reason": match &self.reason {
                    Some(r) => format!("{} allowed: {r}", self.entity_ref()),
                    None => format!("{} allowed", self.entity_ref()),
                }})
            }
            Act::Block => {
                let id = self.id(&format!("block_{e}"));
                json!({"id": id, "type": "action", "action": "block",
                "reason": match &self.reason {
                    Some(r) => format!("{} blocked: {r}", self.entity_ref()),
                    None => format!("{} blocked", self.entity_ref()),
                }})
            }
            Act::Notify { to, channel, note } => {
                let base = to.first().map_or_else(
                    || "notify".to_owned(),
                    |r| format!("notify_{}", Self::recipient_slug(r)),
                );
                let id = self.id(&base);
                let mut recipients: Vec<String> = to.iter().map(|r| self.recipient(r)).collect();
                if recipients.is_empty() {
                    recipients.push("role:ops".into());
                }
                let mut config = json!({"recipients": recipients,
                "message": match note {
                    Some(n) if self.scheduled => n.clone(),
                    Some(n) => format!("{n} — {}", self.message()),
                    None => self.message(),
                }});
                let channel = channel.clone().or_else(|| {
                    to.iter()
                        .any(|r| matches!(r, Recipient::Channel(_)))
                        .then(|| "slack".to_owned())
                });
                if let Some(c) = channel {
                    config["channel"] = c.into();
                }
                json!({"id": id, "type": "notify", "config": config})
            }
            Act::Email { to, subject } => {
                let id = self.id(&format!("email_{}", Self::recipient_slug(to)));
                let subject = subject.clone().unwrap_or_else(|| self.entity_ref());
                json!({"id": id, "type": "send_email", "config": {
                    "to": self.recipient(to), "subject": subject, "body": self.message()}})
            }
            Act::Http {
                url,
                method,
                webhook,
            } => {
                let host = url
                    .split("://")
                    .nth(1)
                    .and_then(|rest| rest.split(['/', ':', '?']).next())
                    .map(|h| {
                        h.split('.')
                            .find(|p| !matches!(*p, "www" | "api" | "hooks"))
                            .unwrap_or(h)
                            .to_owned()
                    })
                    .unwrap_or_else(|| "endpoint".into());
                let (kind, base) = if *webhook {
                    ("call_webhook", format!("call_{host}_webhook"))
                } else {
                    ("http_request", format!("call_{host}"))
                };
                let id = self.id(&base);
                let mut config = json!({"url": url, "method": method});
                if method != "GET" {
                    config["body"] = match &self.entity {
                        Some(e) if !self.scheduled => {
                            json!({"event": "{{trigger.event}}", e.clone(): format!("{{{{{e}}}}}")})
                        }
                        _ => json!({"workflow": self.name, "fired_at": "{{schedule.fire_time}}"}),
                    };
                }
                json!({"id": id, "type": kind, "config": config})
            }
            Act::Task {
                title,
                assignee,
                due_days,
            } => {
                let id = self.id("create_task");
                let title = title.clone().unwrap_or_else(|| "Follow up".into());
                let title = match &self.entity {
                    Some(_) if !self.scheduled => format!("{title} ({})", self.entity_ref()),
                    _ => title,
                };
                let mut config = json!({"title": title, "description": self.message()});
                if let Some(a) = assignee {
                    config["assignee"] = a.clone().into();
                }
                if let Some(d) = due_days {
                    config["due_date"] = format!("{{{{today+{d}}}}}").into();
                }
                if let (Some(e), Some(eid)) = (&self.entity, &entity_id)
                    && !self.scheduled
                {
                    config["entity_type"] = e.clone().into();
                    config["entity_id"] = eid.clone().into();
                }
                json!({"id": id, "type": "create_task", "config": config})
            }
            Act::Update {
                entity,
                field,
                value,
            } => {
                let base = if field == "status" && value == "cancelled" {
                    format!("cancel_{entity}")
                } else {
                    format!("set_{entity}_{field}")
                };
                let id = self.id(&base);
                json!({"id": id, "type": "update_field", "config": {
                    "entity_type": entity, "entity_id": format!("{{{{{entity}.id}}}}"),
                    "field": field, "value": value}})
            }
            Act::Delay { secs } => {
                let d = format_duration(*secs);
                let id = self.id(&format!("wait_{d}"));
                json!({"id": id, "type": "delay", "duration": d})
            }
            Act::Export {
                format,
                entity,
                email_to,
            } => {
                let id = self.id(&format!("export_{entity}s"));
                let mut config = json!({"export_type": format, "entity_type": entity});
                if let Some(a) = email_to {
                    config["email_to"] = a.clone().into();
                }
                json!({"id": id, "type": "enqueue_export", "config": config})
            }
            // Branching steps are emitted by `seq`; a guard list never holds them.
            Act::Approval { .. } | Act::Wait { .. } => {
                let id = self.id("unsupported");
                json!({"id": id, "type": "log", "config": {"message": "a branching step in a list of guarded steps"}})
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_ids_come_from_the_prompt_and_stay_unique() {
        assert_eq!(
            workflow_id("Block orders over $5,000 from new customers", &[]),
            "block_orders_over_5_000_new_customers"
        );
        assert_eq!(
            workflow_id(
                "Block orders over $5,000 from new customers",
                &["block_orders_over_5_000_new_customers".into()]
            ),
            "block_orders_over_5_000_new_customers_2"
        );
        assert_eq!(workflow_id("!!!", &[]), "interpreted_workflow");
    }
}
