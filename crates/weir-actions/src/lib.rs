//! The actions that touch the world, registered with the engine's [`weir_engine::Actions`]:
//! HTTP requests behind an SSRF guard (`http_request`, `webhook`, `call_webhook`), email
//! (`send_email`, through SMTP or into the outbox), notifications (`notify`,
//! `send_notification`) and Weir's own records (`create_record`, `update_record`,
//! `update_field`, `add_note`, `create_task`, and `database_query` to read them).

pub mod approval;
pub mod client;
pub mod connector;
pub mod email;
pub mod http;
pub mod notify;
pub mod outbound;
pub mod records;
pub mod script;

use std::sync::Arc;

use sha2::{Digest, Sha256};
use weir_core::executor::ActionError;
use weir_engine::{ActionContext, Actions};
use weir_store::Store;

pub use outbound::{AllowList, Guard};

/// A config an action cannot work with: permanent, class `invalid`.
pub(crate) fn invalid(message: impl Into<String>) -> ActionError {
    ActionError::permanent(message).with_class("invalid")
}

/// An id made from the step's operation key: the same on every attempt of the step, so a
/// repeated attempt finds what the first one made. 32 hex digits.
pub(crate) fn operation_id(ctx: &ActionContext) -> String {
    Sha256::digest(ctx.operation_key().as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the actions need from the operator.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Hosts and networks outbound HTTP may reach although the guard refuses them by default.
    pub outbound_allow: AllowList,
    /// `WEIR_SMTP_URL`: where mail goes; without it, mail stays in the outbox.
    pub smtp_url: Option<String>,
    /// `WEIR_SMTP_FROM`: the default sender.
    pub smtp_from: Option<String>,
}

/// Registers every action of this crate.
pub fn register(
    actions: &mut Actions,
    store: Arc<dyn Store>,
    config: &Config,
) -> Result<(), String> {
    let guard = Guard::new(config.outbound_allow.clone());
    let http = Arc::new(http::HttpAction::new(guard)?);
    for name in ["http_request", "webhook", "call_webhook"] {
        actions.register(name, http.clone());
    }
    actions.set_connector_runner(connector::runner(http.clone()));
    let mailer = Arc::new(email::Mailer::new(
        store.clone(),
        config.smtp_url.as_deref(),
        config.smtp_from.as_deref(),
    )?);
    actions.register("send_email", Arc::new(email::SendEmail(mailer.clone())));
    for (name, seed_004) in [("notify", false), ("send_notification", true)] {
        actions.register(
            name,
            Arc::new(notify::Notify {
                store: store.clone(),
                mailer: mailer.clone(),
                http: http.clone(),
                seed_004,
            }),
        );
    }
    actions.register(
        "create_approval_request",
        Arc::new(approval::ApprovalRequest {
            store: store.clone(),
        }),
    );
    let sandbox = script::Sandbox::new();
    for (name, kind) in [
        ("code", script::actions::Kind::Code),
        ("transform", script::actions::Kind::Transform),
        ("transform_data", script::actions::Kind::TransformData),
    ] {
        actions.register(
            name,
            Arc::new(script::actions::Script {
                sandbox: sandbox.clone(),
                kind,
            }),
        );
    }
    use records::Kind;
    for (name, kind) in [
        ("create_record", Kind::Create),
        ("update_record", Kind::Update),
        ("update_field", Kind::UpdateField),
        ("add_note", Kind::AddNote),
        ("create_task", Kind::CreateTask),
        ("database_query", Kind::Query),
    ] {
        actions.register(
            name,
            Arc::new(records::RecordAction {
                store: store.clone(),
                kind,
            }),
        );
    }
    Ok(())
}
