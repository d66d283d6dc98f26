//! What the interpreter understood, before it becomes a workflow: a trigger, rules (a condition
//! and what to do when it holds), and what to do otherwise.

use serde_json::{Value, json};

use crate::time::Schedule;

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Cmp {
        field: String,
        op: &'static str,
        value: Value,
    },
    /// A test without a value: `exists` / `not_exists`.
    Exists {
        field: String,
        present: bool,
    },
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    pub fn cmp(field: impl Into<String>, op: &'static str, value: Value) -> Self {
        Cond::Cmp {
            field: field.into(),
            op,
            value,
        }
    }

    /// All of `conds`, flattened; `None` when there are none.
    pub fn all(conds: Vec<Cond>) -> Option<Cond> {
        let mut flat = Vec::new();
        for c in conds {
            match c {
                Cond::And(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => None,
            1 => flat.pop(),
            _ => Some(Cond::And(flat)),
        }
    }

    /// Any of `conds`, flattened; `None` when there are none.
    pub fn any(conds: Vec<Cond>) -> Option<Cond> {
        let mut flat = Vec::new();
        for c in conds {
            match c {
                Cond::Or(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => None,
            1 => flat.pop(),
            _ => Some(Cond::Or(flat)),
        }
    }

    /// The condition in weir's DSL.
    pub fn to_json(&self) -> Value {
        match self {
            Cond::Cmp { field, op, value } => {
                json!({"field": field, "operator": op, "value": value})
            }
            Cond::Exists { field, present } => {
                json!({"field": field, "operator": "exists", "value": present})
            }
            Cond::And(list) => json!({"and": list.iter().map(Cond::to_json).collect::<Vec<_>>()}),
            Cond::Or(list) => json!({"or": list.iter().map(Cond::to_json).collect::<Vec<_>>()}),
            Cond::Not(c) => json!({"not": c.to_json()}),
        }
    }

    /// Renames fields in place (`product.sku` → `item.sku` for a test on an order's lines).
    pub fn map_fields(&mut self, f: &dyn Fn(&str) -> Option<String>) {
        match self {
            Cond::Cmp { field, .. } | Cond::Exists { field, .. } => {
                if let Some(new) = f(field) {
                    *field = new;
                }
            }
            Cond::And(l) | Cond::Or(l) => l.iter_mut().for_each(|c| c.map_fields(f)),
            Cond::Not(c) => c.map_fields(f),
        }
    }

    /// Whether the condition reads an order line (`item.…`).
    pub fn reads_item(&self) -> bool {
        match self {
            Cond::Cmp { field, .. } | Cond::Exists { field, .. } => field.starts_with("item."),
            Cond::And(l) | Cond::Or(l) => l.iter().any(Cond::reads_item),
            Cond::Not(c) => c.reads_item(),
        }
    }

    /// Splits a condition into what reads the payload and what reads each order line; `None`
    /// when both are mixed inside an `or` or a `not`.
    pub fn split_item(&self) -> Option<(Option<Cond>, Option<Cond>)> {
        if !self.reads_item() {
            return Some((Some(self.clone()), None));
        }
        match self {
            Cond::And(list) => {
                let mut plain = Vec::new();
                let mut item = Vec::new();
                for c in list {
                    match c.split_item()? {
                        (p, None) => plain.extend(p),
                        (None, i) => item.extend(i),
                        _ => return None,
                    }
                }
                Some((Cond::all(plain), Cond::all(item)))
            }
            Cond::Or(list) if list.iter().all(Cond::reads_item) => Some((None, Some(self.clone()))),
            Cond::Not(c) if !matches!(**c, Cond::And(_) | Cond::Or(_)) => {
                Some((None, Some(self.clone())))
            }
            Cond::Cmp { .. } | Cond::Exists { .. } => Some((None, Some(self.clone()))),
            _ => None,
        }
    }

    /// The first field compared, for naming the step that tests it.
    pub fn first_field(&self) -> Option<&str> {
        match self {
            Cond::Cmp { field, .. } | Cond::Exists { field, .. } => Some(field),
            Cond::And(l) | Cond::Or(l) => l.iter().find_map(Cond::first_field),
            Cond::Not(c) => c.first_field(),
        }
    }

    /// The entities the condition reads (the first segment of each field).
    pub fn entities(&self, out: &mut Vec<String>) {
        match self {
            Cond::Cmp { field, .. } | Cond::Exists { field, .. } => {
                let e = field.split('.').next().unwrap_or_default().to_owned();
                if !out.contains(&e) {
                    out.push(e);
                }
            }
            Cond::And(l) | Cond::Or(l) => l.iter().for_each(|c| c.entities(out)),
            Cond::Not(c) => c.entities(out),
        }
    }

    /// A short English reading of the condition, for reasons and descriptions.
    pub fn describe(&self) -> String {
        match self {
            Cond::Cmp { field, op, value } => {
                let f = field.replace(['_', '.'], " ");
                let v = match value {
                    Value::String(s) => s.clone(),
                    Value::Array(a) => a
                        .iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                let words = match *op {
                    "gt" => "over",
                    "gte" => "at least",
                    "lt" => "under",
                    "lte" => "at most",
                    "eq" => "is",
                    "ne" => "is not",
                    "in" => "is one of",
                    "not_in" => "is none of",
                    "between" => "between",
                    "contains" => "contains",
                    "not_contains" => "does not contain",
                    "startswith" => "starts with",
                    "endswith" => "ends with",
                    "within_last" => "within the last",
                    "not_within_last" => "older than",
                    other => other,
                };
                format!("{f} {words} {v}")
            }
            Cond::Exists { field, present } => {
                let f = field.replace(['_', '.'], " ");
                if *present {
                    format!("{f} is present")
                } else {
                    format!("{f} is absent")
                }
            }
            Cond::And(l) => l
                .iter()
                .map(Cond::describe)
                .collect::<Vec<_>>()
                .join(" and "),
            Cond::Or(l) => l
                .iter()
                .map(Cond::describe)
                .collect::<Vec<_>>()
                .join(" or "),
            Cond::Not(c) => format!("not ({})", c.describe()),
        }
    }
}

/// Who receives a notification or an e-mail.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipient {
    /// A team or role of the environment (`role:NAME`).
    Team(String),
    Address(String),
    Channel(String),
    /// The e-mail address of an entity of the payload (`{{customer.email}}`).
    EntityEmail(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Act {
    Allow,
    Block,
    Approval {
        team: String,
        timeout: Option<u64>,
        on_approve: Vec<Act>,
        on_reject: Option<Vec<Act>>,
        on_timeout: Option<Vec<Act>>,
    },
    Notify {
        to: Vec<Recipient>,
        channel: Option<String>,
        note: Option<String>,
    },
    Email {
        to: Recipient,
        subject: Option<String>,
    },
    Http {
        url: String,
        method: String,
        webhook: bool,
    },
    Task {
        title: Option<String>,
        assignee: Option<String>,
        due_days: Option<u64>,
    },
    Update {
        entity: String,
        field: String,
        value: Value,
    },
    Wait {
        event: String,
        /// The field of the awaited event that must equal `value` (a template over this run).
        field: Option<String>,
        value: Option<String>,
        timeout: Option<u64>,
        on_arrive: Vec<Act>,
        on_timeout: Vec<Act>,
    },
    Delay {
        secs: u64,
    },
    Export {
        format: String,
        entity: String,
        email_to: Option<String>,
    },
}

impl Act {
    pub fn is_decision(&self) -> bool {
        matches!(self, Act::Allow | Act::Block | Act::Approval { .. })
    }

    /// Steps that route (approval, wait) rather than go on to the following step.
    pub fn is_branching(&self) -> bool {
        matches!(self, Act::Approval { .. } | Act::Wait { .. })
    }

    /// The name of the act in the interpretation.
    pub fn kind(&self) -> &'static str {
        match self {
            Act::Allow => "allow",
            Act::Block => "block",
            Act::Approval { .. } => "require_approval",
            Act::Notify { .. } => "notify",
            Act::Email { .. } => "send_email",
            Act::Http { webhook: true, .. } => "call_webhook",
            Act::Http { .. } => "http_request",
            Act::Task { .. } => "create_task",
            Act::Update { .. } => "update_field",
            Act::Wait { .. } => "wait",
            Act::Delay { .. } => "delay",
            Act::Export { .. } => "export",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TriggerPlan {
    Event { event: String },
    Schedule(Schedule),
    Manual,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub cond: Option<Cond>,
    pub acts: Vec<Act>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub trigger: TriggerPlan,
    /// The entity the trigger's event is about.
    pub entity: Option<String>,
    pub rules: Vec<Rule>,
    pub otherwise: Option<Vec<Act>>,
    pub entities: Vec<String>,
    pub questions: Vec<String>,
    /// The share of the prompt's meaningful words that were understood.
    pub coverage: f64,
}

impl Plan {
    /// Whether the run decides allow or block anywhere.
    pub fn decides(&self) -> bool {
        self.rules
            .iter()
            .flat_map(|r| r.acts.iter())
            .chain(self.otherwise.iter().flatten())
            .any(Act::is_decision)
    }
}
