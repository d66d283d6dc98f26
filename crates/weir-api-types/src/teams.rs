//! Teams: named groups of users in one environment, whom an approval's `approver_role` and a
//! notification's `role:NAME` mean.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A member of a team, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TeamMember {
    pub id: String,
    pub email: String,
    pub name: String,
    /// A disabled user stays listed but neither decides nor is told.
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub name: String,
    #[schema(required = true)]
    pub description: Option<String>,
    pub members: Vec<TeamMember>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `GET /api/v1/teams`: by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TeamList {
    pub teams: Vec<Team>,
}

/// `POST /api/v1/teams`, and `PUT /api/v1/teams/{name}` (where `name` may be left out, or must
/// be the path's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "sales_manager", "members": ["ana@example.com"], "description": "Approves orders of $10,000 or more"}))]
pub struct TeamRequest {
    /// A lowercase letter, then up to 63 lowercase letters, digits, `_`, `.` or `-`; not one
    /// of the roles.
    #[serde(default)]
    #[schema(pattern = r"^[a-z][a-z0-9_.-]{0,63}$")]
    pub name: Option<String>,
    /// Users of the tenant who work in the environment, by id or email.
    #[schema(max_items = 1000)]
    pub members: Vec<String>,
    /// Left out on a PUT, it is cleared.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}
