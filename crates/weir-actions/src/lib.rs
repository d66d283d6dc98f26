//! The actions that touch the world, registered with the engine's [`weir_engine::Actions`]:
//! HTTP requests behind an SSRF guard (`http_request`, `webhook`, `call_webhook`).

pub mod http;
pub mod outbound;

use std::sync::Arc;

use weir_engine::Actions;

pub use outbound::{AllowList, Guard};

/// What the actions need from the operator.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Hosts and networks outbound HTTP may reach although the guard refuses them by default.
    pub outbound_allow: AllowList,
}

/// Registers every action of this crate.
pub fn register(actions: &mut Actions, config: &Config) -> Result<(), String> {
    let guard = Guard::new(config.outbound_allow.clone());
    let http = Arc::new(http::HttpAction::new(guard)?);
    for name in ["http_request", "webhook", "call_webhook"] {
        actions.register(name, http.clone());
    }
    Ok(())
}
