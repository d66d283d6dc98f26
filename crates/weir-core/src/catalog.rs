//! The catalog of action types a workflow may use, each with a JSON Schema for its config.
//! Validation takes a catalog as input, so tenant-registered connectors can add types later.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::template::is_templated;

/// What validation asks of a catalog.
pub trait ActionCatalog {
    fn get(&self, name: &str) -> Option<&ActionType>;
    fn names(&self) -> Vec<&str>;
}

/// One action type: its name, what it does, and the schema its config must satisfy.
pub struct ActionType {
    pub name: String,
    pub description: String,
    /// Whether performing it changes something outside Weir (and so carries an idempotency key).
    pub side_effect: bool,
    pub schema: Value,
    validator: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for ActionType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionType")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ActionType {
    /// Compiles the schema. Remote `$ref`s are never fetched (jsonschema is built without its
    /// resolvers), so a tenant schema cannot make Weir call out.
    pub fn new(
        name: &str,
        description: &str,
        side_effect: bool,
        schema: Value,
    ) -> Result<Self, String> {
        let validator =
            jsonschema::validator_for(&schema).map_err(|e| format!("schema of '{name}': {e}"))?;
        Ok(ActionType {
            name: name.to_owned(),
            description: description.to_owned(),
            side_effect,
            schema,
            validator: Arc::new(validator),
        })
    }

    /// Checks a config. Returns (JSON pointer below the config, message) for each problem.
    /// A value that is a template string is only known at run time, so the schema is not held
    /// against it.
    pub fn check(&self, config: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        // Unknown top-level fields are reported one by one, at their own path, with a
        // suggestion; the schema's own message would name the whole object.
        let closed = self.schema.get("additionalProperties") == Some(&Value::Bool(false));
        let known: Vec<&str> = self
            .schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if closed && let Value::Object(fields) = config {
            for k in fields.keys().filter(|k| !known.contains(&k.as_str())) {
                let hint = crate::parse_closest(k, &known)
                    .map(|c| format!(" (did you mean '{c}'?)"))
                    .unwrap_or_default();
                let pointer = format!("/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push((
                    pointer,
                    format!("unknown field '{k}'{hint}; known: {}", known.join(", ")),
                ));
            }
        }
        for err in self.validator.iter_errors(config) {
            let pointer = err.instance_path().to_string();
            let at = config.pointer(&pointer);
            if matches!(at, Some(Value::String(s)) if is_templated(s)) {
                continue;
            }
            let message = err.to_string();
            if closed
                && pointer.is_empty()
                && message.contains("Additional properties are not allowed")
            {
                continue; // Reported above, field by field.
            }
            if message.contains("'anyOf'") {
                out.push((pointer, self.any_of_message()));
                continue;
            }
            out.push((pointer, message));
        }
        out
    }

    /// "needs one of: subject, template" from a schema's `anyOf` of `required` lists.
    fn any_of_message(&self) -> String {
        let options: Vec<String> = self
            .schema
            .get("anyOf")
            .and_then(Value::as_array)
            .map(|alts| {
                alts.iter()
                    .filter_map(|a| a.get("required").and_then(Value::as_array))
                    .map(|r| {
                        r.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" and ")
                    })
                    .collect()
            })
            .unwrap_or_default();
        if options.is_empty() {
            "the config matches none of the allowed forms".into()
        } else {
            format!("needs one of: {}", options.join(", "))
        }
    }
}

/// The built-in action types, plus whatever is added with [`BuiltinCatalog::add`].
#[derive(Debug, Clone)]
pub struct BuiltinCatalog {
    types: BTreeMap<String, Arc<ActionType>>,
}

impl Default for BuiltinCatalog {
    fn default() -> Self {
        Self::new()
    }
}

impl ActionCatalog for BuiltinCatalog {
    fn get(&self, name: &str) -> Option<&ActionType> {
        self.types.get(name).map(|t| t.as_ref())
    }

    fn names(&self) -> Vec<&str> {
        self.types.keys().map(String::as_str).collect()
    }
}

impl BuiltinCatalog {
    /// The built-in action types. Their schemas are compiled once per process; each catalog
    /// shares them, so making one is cheap (validation of a rule makes one per call).
    pub fn new() -> Self {
        static BUILTIN: std::sync::OnceLock<BTreeMap<String, Arc<ActionType>>> =
            std::sync::OnceLock::new();
        let types = BUILTIN.get_or_init(|| {
            let mut types = BTreeMap::new();
            for (name, description, side_effect, schema) in builtin_schemas() {
                // The built-in schemas are constants checked by a test; a failure is a bug.
                let t = ActionType::new(name, description, side_effect, schema)
                    .expect("built-in action schema compiles");
                types.insert(name.to_owned(), Arc::new(t));
            }
            types
        });
        BuiltinCatalog {
            types: types.clone(),
        }
    }

    /// Adds (or replaces) an action type, such as a tenant's connector.
    pub fn add(&mut self, action: ActionType) {
        self.types.insert(action.name.clone(), Arc::new(action));
    }

    pub fn iter(&self) -> impl Iterator<Item = &ActionType> {
        self.types.values().map(|t| t.as_ref())
    }
}

fn string_or_list() -> Value {
    json!({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})
}

fn http_schema(extra: &[&str]) -> Value {
    let mut props = json!({
        "url": {"type": "string", "minLength": 1},
        "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "get", "post", "put", "patch", "delete", "head"]},
        "headers": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
        "query": {"type": "object"},
        "body": {},
        "form": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
        "timeout": {"type": ["string", "number"]},
        "auth": {"type": "object"},
        "expect_status": {"type": "array", "items": {"type": "integer"}},
        "signing_secret": {"type": "string", "minLength": 1},
        "signature_header": {"type": "string", "minLength": 1},
        "follow_redirects": {"type": "boolean"}
    });
    for e in extra {
        props[*e] = json!({});
    }
    json!({"type": "object", "required": ["url"], "additionalProperties": false, "properties": props})
}

type Builtin = (&'static str, &'static str, bool, Value);

fn builtin_schemas() -> Vec<Builtin> {
    let entity_ref = json!({"type": ["string", "number"]});
    vec![
        (
            "http_request",
            "Call an HTTP endpoint.",
            true,
            http_schema(&[]),
        ),
        (
            "webhook",
            "Send an HTTP request to a webhook.",
            true,
            http_schema(&["retries"]),
        ),
        (
            "call_webhook",
            "Call a webhook with a JSON body.",
            true,
            http_schema(&[]),
        ),
        (
            "send_email",
            "Send an email through SMTP, from a template or a subject and body.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["to"],
                "anyOf": [{"required": ["subject"]}, {"required": ["template"]}],
                "properties": {
                    "to": string_or_list(), "cc": string_or_list(), "bcc": string_or_list(),
                    "from": {"type": "string"}, "reply_to": {"type": "string"},
                    "subject": {"type": "string"}, "template": {"type": "string"},
                    "body": {"type": "string"}, "html": {"type": "string"},
                    "variables": {"type": "object"}, "attachments": {"type": "array"}
                }
            }),
        ),
        (
            "notify",
            "Notify people or roles on a channel.",
            true,
            json!({
                "type": "object", "additionalProperties": false,
                "anyOf": [{"required": ["recipients"]}, {"required": ["recipient"]}],
                "properties": {
                    "channel": {"type": "string", "enum": ["email", "sms", "slack", "in_app", "webhook"]},
                    "recipients": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "recipient": {"type": "string"},
                    "message": {"type": "string"}, "template": {"type": "string"}, "subject": {"type": "string"},
                    "variables": {"type": "object"}, "link": {"type": "string"}
                }
            }),
        ),
        (
            "send_notification",
            "Send an in-app or push notification.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["recipient", "message"],
                "properties": {
                    "recipient": {"type": "string"}, "message": {"type": "string"},
                    "notification_type": {"type": "string", "enum": ["in_app", "email", "sms", "push", "slack"]},
                    "link": {"type": "string"}
                }
            }),
        ),
        (
            "create_approval_request",
            "Open an approval request for an entity.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["entity", "entity_id"],
                "properties": {
                    "entity": {"type": "string"}, "entity_id": entity_ref,
                    "approver_role": {"type": "string"}, "reason": {"type": "string"},
                    "timeout": {"type": ["string", "number"]}
                }
            }),
        ),
        (
            "add_note",
            "Add a note to an entity's timeline.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["entity_type", "entity_id", "note"],
                "properties": {
                    "entity_type": {"type": "string"}, "entity_id": entity_ref, "note": {"type": "string"},
                    "visibility": {"type": "string", "enum": ["internal", "public", "private"]}
                }
            }),
        ),
        (
            "update_field",
            "Set one field of a record.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["entity_type", "entity_id", "field", "value"],
                "properties": {"entity_type": {"type": "string"}, "entity_id": entity_ref, "field": {"type": "string"}, "value": {}}
            }),
        ),
        (
            "create_task",
            "Create a task for someone.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["title"],
                "properties": {
                    "title": {"type": "string", "minLength": 1}, "description": {"type": "string"},
                    "assignee": {"type": "string"}, "due_date": {"type": "string"},
                    "priority": {"type": "string", "enum": ["low", "normal", "medium", "high", "urgent"]},
                    "entity_type": {"type": "string"}, "entity_id": entity_ref
                }
            }),
        ),
        (
            "enqueue_export",
            "Queue an export of records, mailed when ready.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["export_type", "entity_type"],
                "properties": {
                    "export_type": {"type": "string", "enum": ["csv", "json", "xlsx"]},
                    "entity_type": {"type": "string"}, "filters": {"type": "object"}, "email_to": {"type": "string"}
                }
            }),
        ),
        (
            "assign_plan",
            "Subscribe a customer to a plan.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["plan_id"],
                "properties": {
                    "plan_id": {"type": "string"}, "currency": {"type": "string", "minLength": 3, "maxLength": 3},
                    "customer_id": entity_ref, "start_date": {"type": "string"}, "billing_period": {"type": "string"}
                }
            }),
        ),
        (
            "create_wallet",
            "Create a prepaid wallet for a customer.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["currency"],
                "properties": {
                    "currency": {"type": "string", "minLength": 3, "maxLength": 3},
                    "conversion_rate": {"type": "number", "exclusiveMinimum": 0},
                    "initial_credits": {"type": "number", "minimum": 0},
                    "customer_id": entity_ref, "name": {"type": "string"}
                }
            }),
        ),
        (
            "grant_credits",
            "Grant credits to a wallet.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["amount"],
                "properties": {
                    "amount": {"type": "number", "exclusiveMinimum": 0}, "wallet_id": entity_ref,
                    "customer_id": entity_ref, "currency": {"type": "string"}, "reason": {"type": "string"},
                    "expires_at": {"type": "string"}
                }
            }),
        ),
        (
            "create_entitlement",
            "Give a customer access to a feature.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["feature_id"],
                "properties": {
                    "feature_id": {"type": "string"}, "customer_id": entity_ref, "plan_id": {"type": "string"},
                    "usage_limit": {"type": ["number", "null"]}, "reset_period": {"type": "string"}
                }
            }),
        ),
        (
            "update_customer",
            "Update fields of a customer.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["fields"],
                "properties": {"customer_id": entity_ref, "fields": {"type": "object", "minProperties": 1}}
            }),
        ),
        (
            "create_record",
            "Create a record in Weir's record store.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["entity_type", "data"],
                "properties": {"entity_type": {"type": "string"}, "entity_id": entity_ref, "data": {"type": "object"}}
            }),
        ),
        (
            "update_record",
            "Update a record in Weir's record store.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["entity_type", "entity_id", "data"],
                "properties": {"entity_type": {"type": "string"}, "entity_id": entity_ref, "data": {"type": "object"}}
            }),
        ),
        (
            "database_query",
            "Read records of one type from Weir's record store, by id or by field values (read-only, no connections to other databases).",
            false,
            json!({
                "type": "object", "additionalProperties": false, "required": ["entity_type"],
                "properties": {
                    "entity_type": {"type": "string"}, "entity_id": entity_ref, "where": {"type": "object"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "output_format": {"type": "string", "enum": ["array", "object"]}
                }
            }),
        ),
        (
            "emit_event",
            "Emit an event that other workflows can trigger on.",
            true,
            json!({
                "type": "object", "additionalProperties": false, "required": ["event"],
                "properties": {"event": {"type": "string", "minLength": 1}, "payload": {}, "source": {"type": "string"}}
            }),
        ),
        (
            "noop",
            "Do nothing and succeed, echoing the input (for tests and placeholders).",
            false,
            json!({"type": "object"}),
        ),
        (
            "log",
            "Record a message in the run's step output.",
            false,
            json!({
                "type": "object", "additionalProperties": false, "required": ["message"],
                "properties": {"message": {}, "level": {"type": "string", "enum": ["debug", "info", "warn", "error"]}}
            }),
        ),
        (
            "transform",
            "Build a new value: from templates (`output`), declaratively (`operation` map or filter over `items`), or with sandboxed JavaScript (`code`).",
            false,
            json!({
                "type": "object", "additionalProperties": false,
                "anyOf": [{"required": ["output"]}, {"required": ["code"]}, {"required": ["operation", "items"]}],
                "properties": {
                    "output": {},
                    "language": {"type": "string", "enum": ["javascript"]}, "code": {"type": "string", "minLength": 1},
                    "input": {}, "timeout": {"type": ["string", "number"]},
                    "memory_limit_mb": {"type": "integer", "minimum": 1, "maximum": 512},
                    "operation": {"type": "string", "enum": ["map", "filter"]},
                    "items": {"type": ["array", "string"]},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "where": {"type": "object"}
                }
            }),
        ),
        (
            "transform_data",
            "Map, filter or reduce data with a sandboxed expression.",
            false,
            json!({
                "type": "object", "additionalProperties": false, "required": ["operation", "expression"],
                "properties": {
                    "operation": {"type": "string", "enum": ["map", "filter", "reduce", "aggregate"]},
                    "expression": {"type": "string"}, "input": {},
                    "input_mapping": {"type": "object"}, "output_mapping": {"type": "object"}
                }
            }),
        ),
        (
            "code",
            "Run JavaScript in a sandbox with memory and time limits.",
            false,
            json!({
                "type": "object", "additionalProperties": false,
                "anyOf": [{"required": ["code"]}, {"required": ["source"]}],
                "properties": {
                    "language": {"type": "string", "enum": ["javascript"]},
                    "code": {"type": "string", "minLength": 1}, "source": {"type": "string", "minLength": 1},
                    "input": {}, "timeout": {"type": ["string", "number"]}, "memory_limit_mb": {"type": "integer", "minimum": 1, "maximum": 512}
                }
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_schema_compiles() {
        let c = BuiltinCatalog::new();
        assert!(c.names().len() >= 20);
        assert!(c.get("send_email").is_some());
    }

    #[test]
    fn templates_are_not_held_against_the_schema() {
        let c = BuiltinCatalog::new();
        let t = c.get("create_wallet").unwrap();
        assert!(
            t.check(&json!({"currency": "USD", "initial_credits": "{{credits}}"}))
                .is_empty()
        );
        let errs = t.check(&json!({"currency": "USD", "initial_credits": "lots"}));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, "/initial_credits");
    }
}
