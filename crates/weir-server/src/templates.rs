//! Workflows to start from: the repository's examples, built into the binary. Agents list
//! them (capabilities, MCP `list_templates`) and the console offers them.

use std::sync::OnceLock;

use serde_json::Value;

/// A template: a complete workflow, ready to deploy as it is or to adapt.
pub(crate) struct Template {
    pub id: &'static str,
    pub name: String,
    pub description: String,
    pub trigger_events: Vec<String>,
    #[allow(dead_code)] // read by the suggest endpoint and the MCP server
    pub workflow: Value,
}

const SOURCES: &[(&str, &str)] = &[
    (
        "order-approval",
        include_str!("../../../examples/order-approval.workflow.json"),
    ),
    (
        "order-check",
        include_str!("../../../examples/quickstart.workflow.yaml"),
    ),
    (
        "auto-qualify-leads",
        include_str!("../../../examples/004-auto-qualify-leads.workflow.json"),
    ),
    (
        "deal-stage-notification",
        include_str!("../../../examples/004-deal-stage-notification.workflow.json"),
    ),
    (
        "lead-nurture",
        include_str!("../../../examples/004-lead-nurture.workflow.json"),
    ),
    (
        "crm-activity-log",
        include_str!("../../../examples/004-crm-activity-log.workflow.json"),
    ),
];

pub(crate) fn all() -> &'static [Template] {
    static ALL: OnceLock<Vec<Template>> = OnceLock::new();
    ALL.get_or_init(|| {
        SOURCES
            .iter()
            .filter_map(|(id, text)| {
                // The examples are checked by their own tests; one that does not read is left out.
                let workflow = weir_core::load_value(text.as_bytes(), None).ok()?;
                let text = |k: &str| {
                    workflow
                        .get(k)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                };
                let triggers = match workflow.get("triggers") {
                    Some(Value::Array(list)) => list.clone(),
                    _ => workflow.get("trigger").cloned().into_iter().collect(),
                };
                let mut trigger_events: Vec<String> = triggers
                    .iter()
                    .filter_map(|t| t.get("event")?.as_str().map(str::to_owned))
                    .collect();
                trigger_events.dedup();
                Some(Template {
                    id,
                    name: text("name"),
                    description: text("description"),
                    trigger_events,
                    workflow,
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_reads_and_validates() {
        let all = super::all();
        assert_eq!(all.len(), super::SOURCES.len());
        for t in all {
            assert!(
                !t.name.is_empty() && !t.trigger_events.is_empty(),
                "{}",
                t.id
            );
            let v = weir_core::validate_value(
                &t.workflow,
                &weir_core::BuiltinCatalog::new(),
                &weir_core::Rules::default(),
            );
            assert!(v.errors().next().is_none(), "{}: {:?}", t.id, v.diagnostics);
        }
    }
}
