//! Secrets, write-only: a value goes in (sealed at once) and never comes out; what is shown is
//! a secret's name, where it may go, and its dates.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/v1/secrets`: a new secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "CRM_TOKEN", "value": "s3cr3t-value", "allowed_hosts": ["crm.example.com"]}))]
pub struct SecretRequest {
    /// A letter or `_`, then letters, digits and `_`; workflows use it as
    /// `{{secrets.NAME}}`.
    #[schema(pattern = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    pub name: String,
    #[schema(min_length = 4, max_length = 65536)]
    pub value: String,
    /// Hosts a request carrying the secret may go to: `api.example.com`, `*.example.com`
    /// (subdomains), `api.example.com:8443` (that port). `null` or left out: any host.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 100)]
    pub allowed_hosts: Option<Vec<String>>,
    /// Action types that may receive the secret (built-in or connector action names).
    /// `null` or left out: any but `code`, `transform` and `transform_data`, which must be
    /// named.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 100)]
    pub allowed_actions: Option<Vec<String>>,
}

/// `PUT /api/v1/secrets/{id}`: a new value, where the secret may go, or both; what is left
/// out stays, and `null` lifts a restriction.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1, example = json!({"allowed_actions": ["http_request"]}))]
pub struct SecretUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(value_type = String, min_length = 4, max_length = 65536)]
    pub value: Option<String>,
    /// As when it was made; `null` lifts the restriction (`None`: left out, kept).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<Vec<String>>, min_items = 1, max_items = 100)]
    pub allowed_hosts: Option<Option<Vec<String>>>,
    /// As when it was made; `null` lifts the restriction (`None`: left out, kept).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<Vec<String>>, min_items = 1, max_items = 100)]
    pub allowed_actions: Option<Option<Vec<String>>>,
}

/// A field that is there, `null` or not: `Some`. (One left out is `None`, by `default`.)
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A secret, without its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Secret {
    pub name: String,
    /// `null`: any host.
    pub allowed_hosts: Option<Vec<String>>,
    /// `null`: any action but `code`, `transform` and `transform_data`.
    pub allowed_actions: Option<Vec<String>>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `GET /api/v1/secrets`: by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SecretList {
    pub secrets: Vec<Secret>,
}

/// `DELETE /api/v1/secrets/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SecretDeleted {
    pub name: String,
    pub deleted: bool,
}
