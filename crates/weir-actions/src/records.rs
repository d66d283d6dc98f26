//! Actions on Weir's own record store (seed 000 `create_record` / `update_record`, seed 004
//! `update_field`, `add_note`, `create_task`): generic records of an entity type and id with
//! JSON fields, so the seed examples run without an outside CRM. Each write carries the step's
//! operation key, so a repeated attempt does not write twice.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use weir_core::executor::ActionError;

use crate::{invalid, operation_id};
use weir_engine::{Action, ActionContext};
use weir_store::{NewNote, RecordWrite, Store};

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Create,
    Update,
    UpdateField,
    AddNote,
    CreateTask,
}

pub struct RecordAction {
    pub store: Arc<dyn Store>,
    pub kind: Kind,
}

fn store_error(e: weir_store::Error) -> ActionError {
    match e {
        weir_store::Error::Conflict(m) => ActionError::permanent(m).with_class("conflict"),
        other => ActionError::retryable(format!("the record store: {other}")),
    }
}

/// An entity type: letters, digits, `_`, `-` and `.`, at most 100.
pub fn valid_type(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 100
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn entity_type(input: &Value) -> Result<String, ActionError> {
    match input.get("entity_type").and_then(Value::as_str) {
        Some(t) if valid_type(t) => Ok(t.to_owned()),
        Some(t) => Err(invalid(format!(
            "entity_type '{t}' is not letters, digits, '_', '-' and '.' (at most 100)"
        ))),
        None => Err(invalid("the config needs 'entity_type'")),
    }
}

/// An entity id from a string or a number, at most 200 characters.
fn entity_id(input: &Value) -> Result<Option<String>, ActionError> {
    let id = match input.get("entity_id") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(invalid("entity_id is a string or a number")),
    };
    if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
        return Err(invalid("entity_id is 1 to 200 printable characters"));
    }
    Ok(Some(id))
}

fn text(input: &Value, field: &str) -> Option<String> {
    match input.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[async_trait]
impl Action for RecordAction {
    async fn perform(&self, ctx: &ActionContext, input: Value) -> Result<Value, ActionError> {
        // Everything here is kept and shown by the API: no secret goes in.
        let mut input = input;
        ctx.secrets.scrub(&mut input);
        let scope = &ctx.scope;
        let op = ctx.operation_key().to_owned();
        let write = |entity_type: &str, id: &str, fields: Value, merge: bool, create_only: bool| {
            let op = op.clone();
            let (t, i) = (entity_type.to_owned(), id.to_owned());
            async move {
                self.store
                    .write_record(
                        scope,
                        &RecordWrite {
                            entity_type: &t,
                            entity_id: &i,
                            fields: &fields,
                            merge,
                            create_only,
                            op_key: Some(&op),
                        },
                    )
                    .await
                    .map_err(store_error)
            }
        };
        match self.kind {
            Kind::Create => {
                let t = entity_type(&input)?;
                let id = entity_id(&input)?.unwrap_or_else(|| operation_id(ctx));
                let Some(data) = input.get("data").filter(|d| d.is_object()) else {
                    return Err(invalid("the config needs 'data', an object of fields"));
                };
                let (record, created) = write(&t, &id, data.clone(), false, true).await?;
                Ok(with_created(record, created))
            }
            Kind::Update | Kind::UpdateField => {
                let t = entity_type(&input)?;
                let id =
                    entity_id(&input)?.ok_or_else(|| invalid("the config needs 'entity_id'"))?;
                let fields = match self.kind {
                    Kind::UpdateField => {
                        let field = input
                            .get("field")
                            .and_then(Value::as_str)
                            .filter(|f| !f.is_empty() && f.len() <= 200)
                            .ok_or_else(|| invalid("the config needs 'field', a name"))?;
                        let value = input.get("value").cloned().unwrap_or(Value::Null);
                        Value::Object(Map::from_iter([(field.to_owned(), value)]))
                    }
                    _ => match input.get("data") {
                        Some(d @ Value::Object(_)) => d.clone(),
                        _ => return Err(invalid("the config needs 'data', an object of fields")),
                    },
                };
                let (record, created) = write(&t, &id, fields, true, false).await?;
                Ok(with_created(record, created))
            }
            Kind::AddNote => {
                let t = entity_type(&input)?;
                let id =
                    entity_id(&input)?.ok_or_else(|| invalid("the config needs 'entity_id'"))?;
                let note = text(&input, "note")
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| invalid("the config needs 'note'"))?;
                let visibility = text(&input, "visibility").unwrap_or_else(|| "internal".into());
                self.store
                    .add_note(
                        scope,
                        &NewNote {
                            entity_type: t,
                            entity_id: id,
                            note,
                            visibility,
                            execution_id: Some(ctx.execution_id.clone()),
                            op_key: Some(op.clone()),
                        },
                    )
                    .await
                    .map_err(store_error)
            }
            Kind::CreateTask => {
                let title = text(&input, "title")
                    .filter(|t| !t.trim().is_empty())
                    .ok_or_else(|| invalid("the config needs 'title'"))?;
                let mut fields = Map::new();
                fields.insert("title".into(), json!(title));
                for f in [
                    "description",
                    "assignee",
                    "due_date",
                    "entity_type",
                    "entity_id",
                ] {
                    if let Some(v) = input.get(f).filter(|v| !v.is_null()) {
                        fields.insert(f.into(), v.clone());
                    }
                }
                fields.insert(
                    "priority".into(),
                    json!(text(&input, "priority").unwrap_or_else(|| "normal".into())),
                );
                fields.insert("status".into(), json!("open"));
                fields.insert("execution_id".into(), json!(ctx.execution_id));
                let id = operation_id(ctx);
                let (record, created) =
                    write("task", &id, Value::Object(fields), false, true).await?;
                let mut out = with_created(record, created);
                out["task_id"] = json!(id);
                Ok(out)
            }
        }
    }
}

fn with_created(mut record: Value, created: bool) -> Value {
    record["created"] = json!(created);
    record
}
