//! A scope's connectors as the engine uses them: the action types they add to the catalog
//! (with their config schemas, checked when a workflow is saved) and, per action type, the
//! connector that performs it. A connector's action overrides a built-in of the same name, so
//! `update_field` can be pointed at an outside CRM.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};
use weir_core::catalog::{ActionCatalog, ActionType, BuiltinCatalog};

#[derive(Debug, Default)]
pub struct ConnectorSet {
    types: BTreeMap<String, ActionType>,
    /// Action type → (the connector's definition, the action's name in it).
    by_action: HashMap<String, (Arc<Value>, String)>,
    /// The stored rows it was built from, to rebuild only on a change.
    source: Vec<Value>,
}

impl ConnectorSet {
    /// Builds the set from stored rows (`{"name", "definition"}`); an action whose schema does
    /// not compile is left out (the API checks schemas before storing them).
    pub fn build(rows: Vec<Value>) -> ConnectorSet {
        let mut set = ConnectorSet::default();
        for row in &rows {
            let def = Arc::new(row["definition"].clone());
            let Some(actions) = def["actions"].as_object() else {
                continue;
            };
            for (name, action) in actions {
                let schema = match action.get("config_schema") {
                    Some(s) if s.is_object() => s.clone(),
                    _ => json!({"type": "object"}),
                };
                let description = action["description"]
                    .as_str()
                    .unwrap_or("A connector action")
                    .to_owned();
                match ActionType::new(name, &description, true, schema) {
                    Ok(t) => {
                        set.types.insert(name.clone(), t);
                        set.by_action
                            .insert(name.clone(), (def.clone(), name.clone()));
                    }
                    Err(e) => tracing::error!(
                        "connector {}: action {name}: {e}",
                        row["name"].as_str().unwrap_or("?")
                    ),
                }
            }
        }
        set.source = rows;
        set
    }

    pub fn same_source(&self, rows: &[Value]) -> bool {
        self.source == rows
    }

    /// The connector performing an action type, if one does.
    pub fn performer(&self, action_type: &str) -> Option<&(Arc<Value>, String)> {
        self.by_action.get(action_type)
    }

    /// The action types its connectors add.
    pub fn names(&self) -> Vec<&str> {
        self.types.keys().map(String::as_str).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

/// The built-in catalog with a scope's connector actions over it.
pub struct ScopedCatalog<'a> {
    pub base: &'a BuiltinCatalog,
    pub extra: &'a ConnectorSet,
}

impl ActionCatalog for ScopedCatalog<'_> {
    fn get(&self, name: &str) -> Option<&ActionType> {
        self.extra.types.get(name).or_else(|| self.base.get(name))
    }

    fn names(&self) -> Vec<&str> {
        let mut names = self.base.names();
        names.extend(self.extra.types.keys().map(String::as_str));
        names.sort_unstable();
        names.dedup();
        names
    }
}
