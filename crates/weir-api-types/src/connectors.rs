//! Connectors: a tenant's own action types over HTTP (a base URL, auth, and per action a
//! config schema, a request template and an output mapping).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A connector's definition, as JSON or YAML: `name`, `base_url`, `actions`, and optionally
/// `description`, `auth` (`none`, `api_key`, `bearer`, `basic` or `oauth2`, naming secrets),
/// `headers` and `timeout`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(
    description = "A connector: action types over HTTP (base URL, auth, per action a config schema, a request template and an output mapping)",
    example = json!({"name": "crm", "base_url": "https://crm.example.com/api",
                     "auth": {"type": "bearer", "secret": "CRM_TOKEN"},
                     "actions": {"crm_lookup": {"request": {"method": "GET", "path": "/customers/{{config.id}}"}}}})
)]
pub struct ConnectorDefinition(pub Map<String, Value>);

/// A stored connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Connector {
    pub name: String,
    pub definition: ConnectorDefinition,
    /// The action types it adds to the scope's catalog, by name.
    pub actions: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `GET /api/v1/connectors`: by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConnectorList {
    pub connectors: Vec<Connector>,
}

/// `DELETE /api/v1/connectors/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConnectorDeleted {
    pub name: String,
    pub deleted: bool,
}
