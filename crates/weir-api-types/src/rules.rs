//! Rules: reusable conditions that workflows name with `{"rule": "id"}`, and testing one
//! against a context.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A rule in Weir's definition format (docs/format.md), as JSON or YAML: `rule_id` (or `id`),
/// `conditions` (or `condition`), and optionally `name`, `description`, `type` and `enabled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(
    description = "A rule in Weir's definition format (docs/format.md)",
    example = json!({"rule_id": "high_value", "name": "High value", "conditions": {"field": "order.total", "operator": "gt", "value": 1000}})
)]
pub struct RuleDefinition(pub Map<String, Value>);

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rule {
    pub rule_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    /// The definition's `type` (or `rule_type`), as written.
    #[serde(rename = "type")]
    pub rule_type: Option<String>,
    /// The rule's condition, as written (`conditions` or `condition`).
    pub conditions: Value,
    /// A disabled rule evaluates to false where it is named.
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `GET /api/v1/rules`: by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleList {
    pub rules: Vec<Rule>,
}

/// `DELETE /api/v1/rules/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleDeleted {
    pub rule_id: String,
    pub deleted: bool,
}

/// `POST /api/v1/rules/{id}/test`: the context to evaluate the rule against (fields are read
/// from it as from an event's payload; empty when left out).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"context": {"order": {"total": 1200}}}))]
pub struct RuleTestRequest {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: Option<Map<String, Value>>,
}

/// The answer of `POST /api/v1/rules/{id}/test`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleTest {
    pub rule_id: String,
    pub enabled: bool,
    /// What the condition evaluated to.
    pub result: bool,
    pub trace: ConditionTrace,
}

/// How a condition evaluated, part by part: each comparison with the values compared, each
/// `and`, `or`, `not` and named rule with its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ConditionTrace {
    /// A comparison of a field with a value.
    Compare {
        field: String,
        operator: String,
        expected: Value,
        /// The field's value (`null` when it is not there).
        actual: Value,
        result: bool,
        /// Why the comparison came out as it did, when that is not plain: the field is absent,
        /// the types differ, the expected value cannot be used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(nullable = false)]
        note: Option<String>,
    },
    And {
        #[schema(no_recursion)]
        and: Vec<ConditionTrace>,
        result: bool,
    },
    Or {
        #[schema(no_recursion)]
        or: Vec<ConditionTrace>,
        result: bool,
    },
    Not {
        #[schema(no_recursion)]
        not: Box<ConditionTrace>,
        result: bool,
    },
    /// A named rule: its own condition's trace, or a note when it was not evaluated (unknown,
    /// disabled, or nested too deep).
    Rule {
        rule: String,
        result: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(nullable = false)]
        #[schema(no_recursion)]
        condition: Option<Box<ConditionTrace>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(nullable = false)]
        note: Option<String>,
    },
}

impl From<&weir_core::condition::CondTrace> for ConditionTrace {
    /// The one mapping of a condition's trace to the API's shape.
    fn from(t: &weir_core::condition::CondTrace) -> Self {
        use weir_core::condition::CondTrace as T;
        match t {
            T::Compare {
                field,
                operator,
                expected,
                actual,
                result,
                note,
            } => ConditionTrace::Compare {
                field: field.clone(),
                operator: (*operator).to_owned(),
                expected: expected.clone(),
                actual: actual.clone(),
                result: *result,
                note: note.clone(),
            },
            T::And { and, result } => ConditionTrace::And {
                and: and.iter().map(Into::into).collect(),
                result: *result,
            },
            T::Or { or, result } => ConditionTrace::Or {
                or: or.iter().map(Into::into).collect(),
                result: *result,
            },
            T::Not { not, result } => ConditionTrace::Not {
                not: Box::new(not.as_ref().into()),
                result: *result,
            },
            T::Rule {
                rule,
                result,
                condition,
                note,
            } => ConditionTrace::Rule {
                rule: rule.clone(),
                result: *result,
                condition: condition.as_ref().map(|c| Box::new(c.as_ref().into())),
                note: note.clone(),
            },
        }
    }
}
