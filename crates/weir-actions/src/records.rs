//! Actions on Weir's own record store (`create_record` / `update_record`,
//! `update_field`, `add_note`, `create_task`, and the read-only `database_query`): generic
//! records of an entity type and id with JSON fields, so the seed examples run without an
//! outside CRM. Each write carries the step's operation key, so a repeated attempt does not
//! write twice.

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
    /// `database_query`: reads records, writes nothing.
    Query,
}

/// The most records a `database_query` returns, and returns by default.
const MAX_QUERY_LIMIT: u64 = 1000;
const DEFAULT_QUERY_LIMIT: u64 = 100;
/// The most records of a type a `database_query` reads to find its matches, a page at a time.
const MAX_QUERY_SCAN: usize = 10_000;
const QUERY_PAGE: i64 = 500;

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
            Kind::Query => self.query(scope, &input).await,
        }
    }
}

impl RecordAction {
    /// `database_query`: the records of one type, by id or by fields equal to the `where`
    /// values, in id order, at most `limit`; `output_format` `object` answers the first one.
    async fn query(&self, scope: &weir_store::Scope, input: &Value) -> Result<Value, ActionError> {
        let t = entity_type(input)?;
        let id = entity_id(input)?;
        let filter = match input.get("where") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(invalid("'where' is an object of field names and values")),
        };
        let limit = match input.get("limit") {
            None | Some(Value::Null) => DEFAULT_QUERY_LIMIT,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n| (1..=MAX_QUERY_LIMIT).contains(n))
                .ok_or_else(|| {
                    invalid(format!("'limit' is a number from 1 to {MAX_QUERY_LIMIT}"))
                })?,
        };
        let one = match input.get("output_format").and_then(Value::as_str) {
            None | Some("array") => false,
            Some("object") => true,
            Some(other) => {
                return Err(invalid(format!(
                    "output_format '{other}' is not array or object"
                )));
            }
        };
        let limit = if one { 1 } else { limit as usize };
        let matches = |record: &Value| {
            filter
                .iter()
                .all(|(field, want)| field_equals(record["fields"].get(field), want))
        };
        let mut found = Vec::new();
        if let Some(id) = id {
            let record = self
                .store
                .record(scope, &t, &id)
                .await
                .map_err(store_error)?;
            found.extend(record.filter(|r| matches(r)));
        } else {
            let (mut scanned, mut after) = (0, None::<String>);
            loop {
                let page = self
                    .store
                    .records(scope, &t, after.as_deref(), QUERY_PAGE)
                    .await
                    .map_err(store_error)?;
                scanned += page.len();
                after = page
                    .last()
                    .and_then(|r| r["entity_id"].as_str())
                    .map(str::to_owned);
                let last_page = page.len() < QUERY_PAGE as usize;
                found.extend(page.into_iter().filter(|r| matches(r)));
                if found.len() >= limit || last_page {
                    break;
                }
                if scanned >= MAX_QUERY_SCAN {
                    // An answer cut short would read as "no such record" to a condition.
                    return Err(ActionError::permanent(format!(
                        "database_query reads at most {MAX_QUERY_SCAN} {t} records and found {} of the {limit} asked for in them; ask for fewer or by entity_id",
                        found.len()
                    ))
                    .with_class("too_large"));
                }
            }
            found.truncate(limit);
        }
        if one {
            let record = found.pop().unwrap_or(Value::Null);
            return Ok(json!({ "found": !record.is_null(), "record": record }));
        }
        Ok(json!({ "count": found.len(), "records": found }))
    }
}

/// Whether a record's field holds a `where` value: equal as JSON, a number to the same number
/// (3 and 3.0), and `null` to a field that is null or absent.
fn field_equals(field: Option<&Value>, want: &Value) -> bool {
    match (field.unwrap_or(&Value::Null), want) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => a.as_f64() == b.as_f64(),
        },
        (have, want) => have == want,
    }
}

fn with_created(mut record: Value, created: bool) -> Value {
    record["created"] = json!(created);
    record
}
