//! What evaluation needs from outside the core: the time, secrets, fresh ids and reusable rules.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::condition::Condition;

/// Resolves a tenant secret by name.
pub type SecretFn<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);
/// Produces a fresh unique id for `{{uuid}}`.
pub type IdFn<'a> = &'a (dyn Fn() -> String + Sync);

/// The environment of one evaluation. The core never reads the clock or generates randomness
/// itself, so tests fix `now` and the id generator.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub now: DateTime<Utc>,
    pub secrets: SecretFn<'a>,
    pub ids: IdFn<'a>,
    pub rules: &'a Rules,
}

fn no_secret(_: &str) -> Option<String> {
    None
}

fn fixed_id() -> String {
    "00000000-0000-0000-0000-000000000000".to_owned()
}

impl<'a> Env<'a> {
    /// An environment with no secrets, a constant id and the given rules.
    pub fn new(now: DateTime<Utc>, rules: &'a Rules) -> Self {
        Env {
            now,
            secrets: &no_secret,
            ids: &fixed_id,
            rules,
        }
    }
}

/// Reusable rules, referenced from conditions as `{"rule": "check_cart_value"}`.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: HashMap<String, Arc<Rule>>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: Option<String>,
    /// A disabled rule evaluates to false wherever it is referenced.
    pub enabled: bool,
    pub condition: Condition,
}

impl Rules {
    pub fn insert(&mut self, rule: Rule) {
        self.rules.insert(rule.id.clone(), Arc::new(rule));
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.get(id).map(|r| r.as_ref())
    }

    pub fn contains(&self, id: &str) -> bool {
        self.rules.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.rules.keys().map(String::as_str)
    }
}
