//! Actions that touch the world, behind one trait and a registry. The built-in set here is what
//! the engine needs itself (`noop`, `log`; `emit_event` is the engine's own); HTTP, email,
//! notifications and records come with the actions work and register the same way.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use weir_core::executor::ActionError;
use weir_store::Scope;

use crate::secrets::SecretValues;

/// Where an action runs: its tenant × environment, its execution, the idempotency key it
/// must pass to the outside world (the same on every retry of the same attempt), the scope's
/// secrets (for connector auth) and the run's context (what connector templates may read).
#[derive(Debug, Clone)]
pub struct ActionContext {
    pub scope: Scope,
    pub execution_id: String,
    /// The step whose action this is.
    pub step_id: String,
    pub idempotency_key: String,
    /// The W3C trace context of this call, when traces are exported: an HTTP action sends it
    /// on, so the service called joins the run's trace.
    pub traceparent: Option<String>,
    pub secrets: Arc<SecretValues>,
    pub context: Value,
}

impl ActionContext {
    /// The key of the operation, the same on every attempt of the step (the idempotency key
    /// without its attempt number): what an outside service should deduplicate on.
    pub fn operation_key(&self) -> &str {
        self.idempotency_key
            .rsplit_once(':')
            .map_or(self.idempotency_key.as_str(), |(op, _)| op)
    }
}

#[async_trait]
pub trait Action: Send + Sync {
    async fn perform(&self, ctx: &ActionContext, input: Value) -> Result<Value, ActionError>;
}

/// Performs the actions of tenants' connectors: `connector` is the stored definition,
/// `action` the name of one of its actions.
#[async_trait]
pub trait ConnectorRunner: Send + Sync {
    async fn perform(
        &self,
        connector: &Value,
        action: &str,
        ctx: &ActionContext,
        input: Value,
    ) -> Result<Value, ActionError>;
}

pub struct Actions {
    by_type: HashMap<String, Arc<dyn Action>>,
    connectors: Option<Arc<dyn ConnectorRunner>>,
}

struct Noop;

#[async_trait]
impl Action for Noop {
    async fn perform(&self, _: &ActionContext, input: Value) -> Result<Value, ActionError> {
        Ok(json!({ "ok": true, "input": input }))
    }
}

struct Log;

#[async_trait]
impl Action for Log {
    async fn perform(&self, _: &ActionContext, input: Value) -> Result<Value, ActionError> {
        // The rendered input can hold secrets, so it is returned to the run, not printed.
        Ok(json!({ "logged": input }))
    }
}

impl Actions {
    pub fn builtin() -> Self {
        let mut by_type: HashMap<String, Arc<dyn Action>> = HashMap::new();
        by_type.insert("noop".into(), Arc::new(Noop));
        by_type.insert("log".into(), Arc::new(Log));
        Actions {
            by_type,
            connectors: None,
        }
    }

    /// Sets what performs connector actions.
    pub fn set_connector_runner(&mut self, runner: Arc<dyn ConnectorRunner>) {
        self.connectors = Some(runner);
    }

    pub async fn perform_connector(
        &self,
        connector: &Value,
        action: &str,
        ctx: &ActionContext,
        input: Value,
    ) -> Result<Value, ActionError> {
        match &self.connectors {
            Some(r) => r.perform(connector, action, ctx, input).await,
            None => Err(ActionError::permanent(
                "connectors are not available in this build",
            )),
        }
    }

    pub fn register(&mut self, action_type: &str, action: Arc<dyn Action>) {
        self.by_type.insert(action_type.to_owned(), action);
    }

    pub async fn perform(
        &self,
        action_type: &str,
        ctx: &ActionContext,
        input: Value,
    ) -> Result<Value, ActionError> {
        match self.by_type.get(action_type) {
            Some(a) => a.perform(ctx, input).await,
            None => Err(ActionError::permanent(format!(
                "the action type '{action_type}' has no implementation in this build yet"
            ))),
        }
    }
}
