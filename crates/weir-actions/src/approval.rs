//! `create_approval_request`, in a decision's `execute` list: opens an
//! approval for an entity, linked to the execution, without holding the run. Deciding it
//! (`POST /api/v1/approvals/{id}/approve|reject`) emits an `approval.decision` event, which a
//! `wait` step can wait for.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use weir_core::executor::ActionError;
use weir_engine::{Action, ActionContext};
use weir_store::{NewApproval, Store};

pub struct ApprovalRequest {
    pub store: Arc<dyn Store>,
}

fn text(input: &Value, field: &str) -> Option<String> {
    match input.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[async_trait]
impl Action for ApprovalRequest {
    async fn perform(&self, ctx: &ActionContext, input: Value) -> Result<Value, ActionError> {
        // The approval is kept and shown by the API: no secret goes in.
        let mut input = input;
        ctx.secrets.scrub(&mut input);
        let entity = text(&input, "entity")
            .ok_or_else(|| ActionError::permanent("the config needs 'entity'"))?;
        let entity_id = text(&input, "entity_id")
            .ok_or_else(|| ActionError::permanent("the config needs 'entity_id'"))?;
        let expires_ms = match input.get("timeout").filter(|t| !t.is_null()) {
            Some(t) => {
                let d = weir_core::Duration::from_value(t)
                    .map_err(|e| ActionError::permanent(format!("timeout: {e}")))?;
                Some(chrono::Utc::now().timestamp_millis() + d.as_millis() as i64)
            }
            None => None,
        };
        // The same id on every attempt of the step: a retry finds the first request.
        let id = crate::operation_id(ctx);
        let approval = self
            .store
            .create_approval(
                &ctx.scope,
                &ctx.execution_id,
                &NewApproval {
                    id: format!("apr_{id}"),
                    step_id: ctx.step_id.clone(),
                    approver_role: text(&input, "approver_role"),
                    entity: Some(entity),
                    entity_id: Some(entity_id),
                    message: text(&input, "reason").or_else(|| text(&input, "message")),
                    expires_ms,
                },
            )
            .await
            .map_err(|e| ActionError::retryable(format!("the approval store: {e}")))?;
        Ok(json!({
            "approval_id": approval.id, "status": approval.status, "entity": approval.entity,
            "entity_id": approval.entity_id, "approver_role": approval.approver_role,
        }))
    }
}
