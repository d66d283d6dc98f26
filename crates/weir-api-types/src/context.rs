//! Context enrichment: a tenant's data sources (an entity's data, loaded through an action or
//! from the records and cached for a TTL), an entity's context, and dropping cached context.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A data source's definition, as JSON or YAML: `entity_id` (a template over the run's
/// payload), and `action` with its `config`, or `record` (`true` or a record type); optionally
/// `entity_type` (by default the name's first word), `select`, `ttl`, `timeout`, `on_error`
/// (`fail` or `continue`) and `description`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(
    description = "A data source: an entity's data, loaded through an action or from the records, cached for a TTL",
    example = json!({"description": "The customer's record", "entity_id": "{{customer.id}}", "record": true, "ttl": "5m"})
)]
pub struct DataSourceDefinition(pub Map<String, Value>);

/// A stored data source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DataSource {
    /// Dot-separated words: the entity type, then the key its data goes under
    /// (`customer.history`).
    pub name: String,
    pub definition: DataSourceDefinition,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `PUT /api/v1/data-sources/{id}`: the stored data source, and whether it is new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DataSourceStored {
    #[serde(flatten)]
    pub source: DataSource,
    /// True when there was no data source of that name.
    pub created: bool,
}

/// `GET /api/v1/data-sources`: by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DataSourceList {
    pub data_sources: Vec<DataSource>,
}

/// `DELETE /api/v1/data-sources/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DataSourceDeleted {
    pub name: String,
    pub deleted: bool,
}

crate::wire_enum! {
    /// Where a source's data came from this time.
    LoadedFrom { Cache = "cache", Source = "source" }
}

/// How one data source did for an entity: loaded (from the cache or the source), or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SourceLoad {
    Loaded {
        from: LoadedFrom,
        #[schema(format = DateTime)]
        cached_at: String,
        #[schema(format = DateTime)]
        expires_at: String,
    },
    /// Its data is `null`.
    Failed { error: String },
}

/// `GET /api/v1/context/{type}/{id}`: an entity's data from every source of its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EntityContext {
    pub entity_type: String,
    pub entity_id: String,
    /// Each source's data under its key (`history` for `customer.history`).
    pub data: Map<String, Value>,
    /// How each source did, by its name.
    pub sources: BTreeMap<String, SourceLoad>,
}

/// `GET /api/v1/context/{type}/{id}`'s query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContextQuery {
    /// Load it again from the sources instead of the cache (needs `workflows:execute`).
    pub refresh: Option<bool>,
}

/// `POST /api/v1/context/refresh`: what cached context to drop: an entity type's, one
/// entity's, one source's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"entity_type": "customer", "entity_id": "c-1"}))]
pub struct ContextRefresh {
    #[schema(min_length = 1, max_length = 255)]
    pub entity_type: String,
    /// Only this entity's; it is loaded again and answered.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 255)]
    pub entity_id: Option<String>,
    /// Only this data source's.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 255)]
    pub source: Option<String>,
}

/// The answer of `POST /api/v1/context/refresh`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextRefreshed {
    pub entity_type: String,
    /// How many cached entries were dropped.
    pub dropped: u64,
    /// With an `entity_id` whose type has sources: its context, loaded again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub context: Option<EntityContext>,
}
