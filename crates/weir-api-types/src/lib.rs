//! Weir's API contract: every request and response body of the HTTP API as a Rust type. The
//! server takes and answers these types, its OpenAPI document is generated from them (through
//! `utoipa::ToSchema`), and the `weir` CLI reads answers into them, so a field's name lives in
//! one place.
//!
//! Conventions: times are RFC 3339 strings; a field that may have no value is present and
//! `null` (required and nullable in the schema); request fields that may be left out are
//! `#[serde(default)]`. Statuses, decisions, roles and error codes are enums.

pub mod access;
pub mod ai;
pub mod alerts;
pub mod approvals;
pub mod connectors;
pub mod context;
pub mod dryrun;
pub mod error;
pub mod events;
pub mod executions;
pub mod records;
pub mod rules;
pub mod secrets;
pub mod settings;
pub mod stats;
pub mod stream;
pub mod teams;
pub mod templates;
pub mod triggers;
pub mod users;
pub mod workflows;

pub use error::{Detail, ErrorBody, ErrorCode, ErrorInfo, SuggestedFix};

/// Declares a string enum's wire names once: serde, the schema, `as_str` and `parse` agree.
///
/// The wire names are taken as token trees, not `literal` fragments: a fragment reaches the
/// derives wrapped in an invisible group, which utoipa's reading of `#[serde(rename)]` does not
/// see through (the schema would show the variant's snake_case name instead).
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in the order of the schema.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// The value with this wire name.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The wire names, for messages: `a, b or c`.
            pub fn names() -> String {
                let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                match all.split_last() {
                    Some((last, [])) => (*last).to_owned(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves.
    pub status: String,
}

/// `GET /health/ready`: whether this node can do its work.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ok` when the database and the workers are; else `unavailable` (503).
    pub status: String,
    /// `ok` when a read and a write of the database succeeded now, else `failing`.
    pub database: String,
    /// `ok` when a worker went round its loop in the last 10 s, else `stalled` (or `stopped`
    /// before one started).
    pub workers: String,
}

/// What a delete answers when there is nothing more to say than what was deleted.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The id or name of what was deleted.
    pub id: String,
    pub deleted: bool,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    crate::wire_enum! {
        Sample { Plain = "plain", Scoped = "workflows:read" }
    }

    #[test]
    fn a_wire_enum_has_one_spelling_in_json_in_its_schema_and_in_parse() {
        let schema = serde_json::to_value(<Sample as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["enum"], json!(["plain", "workflows:read"]));
        assert_eq!(
            serde_json::to_value(Sample::Scoped).unwrap(),
            json!("workflows:read")
        );
        assert_eq!(Sample::parse("workflows:read"), Some(Sample::Scoped));
        assert_eq!(Sample::parse("scoped"), None);
        assert_eq!(Sample::names(), "plain or workflows:read");
    }
}
