//! Who a workflow names by role: an approval's `approver_role` (the team, or permission role,
//! whose members may decide it) and a notification's `role:NAME` recipients. Whether a team of
//! that name exists is the server's to say (WEIR-W104); this finds the names and their paths.

use serde_json::Value;

use crate::diag::{self, Code, Diagnostic};
use crate::model::{ActionCall, StepKind, Workflow};
use crate::template::TemplateValue;
use crate::validate::visit_steps;

/// What a role stands for where it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleUse {
    /// Who may decide an approval.
    Approver,
    /// Who a notification goes to.
    Recipient,
}

/// A role named in a workflow, with the JSON path of the field that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleReference {
    pub name: String,
    pub path: String,
    pub used_as: RoleUse,
}

impl RoleReference {
    /// The warning for a role that names no team of the target environment.
    pub fn unknown_team(&self) -> Diagnostic {
        let consequence = match self.used_as {
            RoleUse::Approver => "only an admin can decide the approval, as an override",
            RoleUse::Recipient => "the notification reaches nobody until it exists",
        };
        Diagnostic::new(
            Code::UnknownTeam,
            &self.path,
            format!(
                "there is no team '{}' in this environment: {consequence} (create it with POST /api/v1/teams)",
                self.name
            ),
        )
    }
}

/// Every role the workflow names, in document order: approval steps' `approver_role`,
/// `create_approval_request`'s, and the `role:NAME` recipients of `notify` and
/// `send_notification` (in steps and in decisions' `execute` lists). Templated values are
/// left out: they are known only when the run renders them.
pub fn role_references(wf: &Workflow) -> Vec<RoleReference> {
    let mut out = Vec::new();
    visit_steps(&wf.steps, &mut |step| match &step.kind {
        StepKind::Approval(a) => {
            if let Some(role) = &a.approver_role {
                out.push(RoleReference {
                    name: role.clone(),
                    path: diag::key(&step.path, "approver_role"),
                    used_as: RoleUse::Approver,
                });
            }
        }
        StepKind::Action(call) => action_roles(call, &mut out),
        StepKind::Decision(d) => d.execute.iter().for_each(|c| action_roles(c, &mut out)),
        _ => {}
    });
    out
}

fn action_roles(call: &ActionCall, out: &mut Vec<RoleReference>) {
    let (fields, used_as): (&[&str], RoleUse) = match call.action_type.as_str() {
        "notify" | "send_notification" => (&["recipients", "recipient"], RoleUse::Recipient),
        "create_approval_request" => (&["approver_role"], RoleUse::Approver),
        _ => return,
    };
    for field in fields {
        let path = diag::key(&call.config_path, field);
        for (path, text) in literal_strings(field_of(&call.config, field), path) {
            let name = match used_as {
                RoleUse::Recipient => text.strip_prefix("role:"),
                RoleUse::Approver => Some(text),
            };
            if let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) {
                out.push(RoleReference {
                    name: name.to_owned(),
                    path,
                    used_as,
                });
            }
        }
    }
}

/// A field of an action's config, as compiled.
enum Field<'a> {
    Plain(&'a Value),
    Compiled(&'a TemplateValue),
    Absent,
}

fn field_of<'a>(config: &'a TemplateValue, name: &str) -> Field<'a> {
    match config {
        TemplateValue::Literal(Value::Object(map)) => {
            map.get(name).map_or(Field::Absent, Field::Plain)
        }
        TemplateValue::Object(fields) => fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or(Field::Absent, |(_, v)| Field::Compiled(v)),
        _ => Field::Absent,
    }
}

/// The strings without templates in a field that is a string or a list of them, each with
/// its path.
fn literal_strings(field: Field<'_>, path: String) -> Vec<(String, &str)> {
    match field {
        Field::Plain(Value::String(s)) => vec![(path, s.as_str())],
        Field::Plain(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((diag::index(&path, i), v.as_str()?)))
            .collect(),
        Field::Compiled(TemplateValue::Literal(v)) => literal_strings(Field::Plain(v), path),
        Field::Compiled(TemplateValue::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                TemplateValue::Literal(Value::String(s)) => {
                    Some((diag::index(&path, i), s.as_str()))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{BuiltinCatalog, Rules, validate_value};

    #[test]
    fn finds_approvers_and_role_recipients_with_their_paths() {
        let wf = json!({"workflow_id": "w", "trigger": {"type": "event", "event": "e"}, "steps": [
            {"id": "tell", "type": "notify", "config": {"channel": "email",
                "recipients": ["role:sales_manager", "ana@example.com", "role:{{who}}", "role:ops"],
                "message": "Order {{order.id}}"}},
            {"id": "one", "type": "send_notification", "config": {"recipient": "role:finance", "message": "x"}},
            {"id": "fork", "type": "parallel", "steps": [{"steps": [
                {"id": "ask", "type": "approval", "approver_role": "sales_manager", "timeout": "1h",
                 "on_approve": "fine", "on_reject": "fine"},
                {"id": "fine", "type": "set", "variables": {"asked": true}}]}]},
            {"id": "block", "type": "action", "action": "block", "execute": [
                {"type": "create_approval_request", "entity": "order", "entity_id": "{{order.id}}", "approver_role": "cfo"},
                {"type": "notify", "recipients": ["role:cfo"], "message": "plain"}]},
            {"id": "ok", "type": "action", "action": "allow"}
        ]});
        let validated = validate_value(&wf, &BuiltinCatalog::new(), &Rules::default());
        let wf = validated.into_valid().expect("valid");
        let found: Vec<(String, String, RoleUse)> = role_references(&wf)
            .into_iter()
            .map(|r| (r.name, r.path, r.used_as))
            .collect();
        let expected = [
            (
                "sales_manager",
                "$.steps[0].config.recipients[0]",
                RoleUse::Recipient,
            ),
            ("ops", "$.steps[0].config.recipients[3]", RoleUse::Recipient),
            ("finance", "$.steps[1].config.recipient", RoleUse::Recipient),
            (
                "sales_manager",
                "$.steps[2].steps[0].steps[0].approver_role",
                RoleUse::Approver,
            ),
            (
                "cfo",
                "$.steps[3].execute[0].approver_role",
                RoleUse::Approver,
            ),
            (
                "cfo",
                "$.steps[3].execute[1].recipients[0]",
                RoleUse::Recipient,
            ),
        ]
        .map(|(n, p, u)| (n.to_owned(), p.to_owned(), u));
        assert_eq!(found, expected);
        let warning = role_references(&wf)[3].unknown_team();
        assert_eq!(
            (warning.code.as_str(), warning.is_error()),
            ("WEIR-W104", false)
        );
        assert!(warning.message.contains("'sales_manager'"), "{warning}");
    }
}
