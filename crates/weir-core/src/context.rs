//! The execution context a run starts with: the trigger payload at the root, `trigger`, an empty
//! `steps`, and `vars` with the workflow's initial variables. Shared by the dry-run and the
//! executor so both see the same names.

use serde_json::{Map, Value, json};

use crate::env::Env;
use crate::model::Workflow;
use crate::template::{RenderTrace, Secrets};

/// Names the context itself puts at the root; a payload field of the same name is hidden.
pub const CONTEXT_ROOTS: [&str; 3] = ["trigger", "steps", "vars"];

/// The payload as the root of a context: an object as is, anything else under `payload`.
pub fn payload_root(payload: &Value) -> Value {
    match payload {
        Value::Object(map) => Value::Object(map.clone()),
        Value::Null => Value::Object(Map::new()),
        other => {
            let mut map = Map::new();
            map.insert("payload".into(), other.clone());
            Value::Object(map)
        }
    }
}

/// Builds the starting context over `root` (from [`payload_root`]). Returns notes about payload
/// fields the context hides.
pub fn initial_context(
    wf: &Workflow,
    mut ctx: Value,
    trigger_kind: &str,
    event: Option<&str>,
    env: &Env<'_>,
    secrets: Secrets,
    render: &mut RenderTrace,
) -> (Value, Vec<String>) {
    let mut notes = Vec::new();
    for reserved in CONTEXT_ROOTS {
        if ctx.get(reserved).is_some() {
            notes.push(format!(
                "the payload field '{reserved}' is hidden by the execution context's own '{reserved}'"
            ));
        }
    }
    if let Some(obj) = ctx.as_object_mut() {
        obj.insert(
            "trigger".into(),
            json!({"type": trigger_kind, "event": event}),
        );
        obj.insert("steps".into(), Value::Object(Map::new()));
        obj.insert("vars".into(), Value::Object(Map::new()));
    }
    // Initial variables render in order, so each can read the ones before it as vars.NAME.
    for (name, tv) in &wf.variables {
        let v = tv.render(&ctx, env, secrets, render);
        if let Some(Value::Object(vars)) = ctx.get_mut("vars") {
            vars.insert(name.clone(), v);
        }
    }
    (ctx, notes)
}
