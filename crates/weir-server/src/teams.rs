//! Teams: named groups of a tenant's users in one environment. An approval's `approver_role`
//! names the team whose members may decide it, and a notification's `role:NAME` the team it
//! goes to. Reading needs `workflows:read`; writing `admin`, and is audited. A team's name is
//! a lowercase letter, then up to 63 lowercase letters, digits, `_`, `.` or `-`, and is none
//! of the permission roles (`approver_role: operator` means the operators already).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_api_types::Detail;
use weir_api_types::access::Role;
use weir_api_types::teams::{Team, TeamList, TeamMember, TeamRequest};
use weir_store::{NewTeam, User};

use crate::access::{Auth, Caller, audit, need, read_fields, text};
use crate::{ApiError, ApiResult, AppState, time_text};

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(post_team, list_teams))
        .routes(routes!(get_team, put_team, delete_team))
}

/// The most members a team has.
const MAX_MEMBERS: usize = 1000;
/// The longest description, in bytes.
const MAX_DESCRIPTION: usize = 1000;

fn team_of(t: weir_store::Team) -> Team {
    Team {
        members: t
            .members
            .into_iter()
            .map(|u| TeamMember {
                disabled: u.disabled_ms.is_some(),
                id: u.id,
                email: u.email,
                name: u.name,
            })
            .collect(),
        name: t.name,
        description: t.description,
        created_at: time_text(t.created_ms),
        updated_at: time_text(t.updated_ms),
    }
}

/// A team as its audit record keeps it.
fn recorded(t: &Team) -> Value {
    serde_json::to_value(t).unwrap_or_default()
}

/// Whether `name` can name a team: `^[a-z][a-z0-9_.-]{0,63}$`, and not a permission role.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'-')
        })
        && Role::parse(name).is_none()
}

/// The team's members from the body: each a user id or an email address of a user of the
/// caller's tenant who works in its environment; 422 naming every one that is not.
async fn members(
    state: &AppState,
    caller: &Caller,
    map: &Map<String, Value>,
) -> ApiResult<Vec<String>> {
    let invalid = |message: &str| {
        ApiError::invalid(
            "members is invalid",
            vec![Detail::new("$.members", message)],
        )
    };
    let list = match map.get("members") {
        None | Some(Value::Null) => return Err(invalid("required: a list of user ids or emails")),
        Some(Value::Array(list)) if list.len() <= MAX_MEMBERS => list,
        Some(Value::Array(_)) => {
            return Err(invalid(&format!("at most {MAX_MEMBERS} members")));
        }
        Some(_) => return Err(invalid("a list of user ids or emails")),
    };
    let env = caller.scope.environment.as_str();
    let users: Vec<User> = state
        .store
        .users(&caller.scope.tenant)
        .await?
        .into_iter()
        .filter(|u| u.works_in(env))
        .collect();
    let mut ids = Vec::new();
    let mut unknown = Vec::new();
    for (i, member) in list.iter().enumerate() {
        let path = format!("$.members[{i}]");
        let found = match member.as_str().map(str::trim) {
            Some(m) if !m.is_empty() && m.len() <= 320 && !m.chars().any(char::is_control) => {
                let email = m.to_lowercase();
                users
                    .iter()
                    .find(|u| u.id == m || u.email == email)
                    .ok_or_else(|| {
                        Detail::new(
                            path,
                            format!(
                                "no user '{m}' of this tenant works in the environment '{env}'"
                            ),
                        )
                    })
            }
            _ => Err(Detail::new(
                path,
                "a user's id or email: a non-empty string of at most 320 characters",
            )),
        };
        match found {
            Ok(u) => ids.push(u.id.clone()),
            Err(detail) => unknown.push(detail),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::invalid(
            "a member is not a user of this environment",
            unknown,
        ));
    }
    Ok(ids)
}

/// The team a body describes under `name`: its description and its members.
async fn draft(
    state: &AppState,
    caller: &Caller,
    map: &Map<String, Value>,
    name: String,
) -> ApiResult<NewTeam> {
    Ok(NewTeam {
        name,
        description: text(map, "description", MAX_DESCRIPTION)?,
        members: members(state, caller, map).await?,
    })
}

/// A store error of a team write: a member who stopped being a user of the environment in the
/// meantime is bad input, like one that never was.
fn write_error(e: weir_store::Error) -> ApiError {
    match e {
        weir_store::Error::NotFound => ApiError::invalid(
            "a member is not a user of this environment",
            vec![Detail::new(
                "$.members",
                "users of the tenant who work in this environment",
            )],
        ),
        other => other.into(),
    }
}

/// Create a team
///
/// `{"name", "members": [user id or email, …], "description"?}`: members are users of the
/// tenant who work in the environment; every one that is not is named (422); a name taken
/// answers 409. Audited. Needs `admin`.
#[utoipa::path(post, path = "/api/v1/teams", tag = "access", request_body = TeamRequest,
    responses((status = 201, body = Team)))]
async fn post_team(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    request: Request,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let map = read_fields(&state, request, &["name", "members", "description"]).await?;
    let name = match map.get("name") {
        Some(Value::String(n)) if valid_name(n) => n.clone(),
        _ => {
            let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            return Err(ApiError::invalid(
                "the team name is invalid",
                vec![Detail::new(
                    "$.name",
                    format!(
                        "a lowercase letter, then up to 63 lowercase letters, digits, '_', '.' or '-'; not one of the roles {}",
                        roles.join(", ")
                    ),
                )],
            ));
        }
    };
    let team = draft(&state, &caller, &map, name).await?;
    let team = team_of(
        state
            .store
            .create_team(&caller.scope, &team)
            .await
            .map_err(write_error)?,
    );
    audit(
        &state,
        &caller,
        "team.create",
        &team.name,
        Some(recorded(&team)),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// List teams
///
/// The environment's teams, by name, with their members. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/teams", tag = "access",
    responses((status = 200, body = TeamList)))]
async fn list_teams(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<TeamList>> {
    let teams = state.store.teams(&caller.scope).await?;
    Ok(Json(TeamList {
        teams: teams.into_iter().map(team_of).collect(),
    }))
}

async fn existing(state: &AppState, caller: &Caller, name: &str) -> ApiResult<weir_store::Team> {
    state
        .store
        .team(&caller.scope, name)
        .await?
        .ok_or_else(|| ApiError::not_found("team"))
}

/// A team
///
/// With its members. Needs `workflows:read`.
#[utoipa::path(get, path = "/api/v1/teams/{name}", tag = "access",
    responses((status = 200, body = Team)))]
async fn get_team(
    caller: Auth<need::Read>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> ApiResult<Json<Team>> {
    Ok(Json(team_of(existing(&state, &caller, &name).await?)))
}

/// Replace a team's members
///
/// `{"members", "description"?}`: replaces the members and the description (left out, it is
/// cleared); a `name` in the body must be the path's. Audited. Needs `admin`.
#[utoipa::path(put, path = "/api/v1/teams/{name}", tag = "access", request_body = TeamRequest,
    responses((status = 200, body = Team)))]
async fn put_team(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: Request,
) -> ApiResult<Json<Team>> {
    // Another scope's team is not there, whatever the body says.
    let before = team_of(existing(&state, &caller, &name).await?);
    let map = read_fields(&state, request, &["name", "members", "description"]).await?;
    if map.get("name").is_some_and(|n| *n != name.as_str()) {
        return Err(ApiError::invalid(
            "the body names another team than the path",
            vec![Detail::new(
                "$.name",
                format!("'{name}', as in the path, or left out"),
            )],
        ));
    }
    let team = draft(&state, &caller, &map, name.clone()).await?;
    let team = team_of(
        state
            .store
            .replace_team(&caller.scope, &team)
            .await
            .map_err(write_error)?,
    );
    audit(
        &state,
        &caller,
        "team.update",
        &name,
        Some(json!({ "before": recorded(&before), "after": recorded(&team) })),
    )
    .await?;
    Ok(Json(team))
}

/// Delete a team
///
/// 204. Approvals that name it can then be decided only by an admin's override, or by users
/// whose role has its name. Audited. Needs `admin`.
#[utoipa::path(delete, path = "/api/v1/teams/{name}", tag = "access",
    responses((status = 204, description = "Deleted")))]
async fn delete_team(
    caller: Auth<need::Admin>,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let before = team_of(existing(&state, &caller, &name).await?);
    state
        .store
        .delete_team(&caller.scope, &name)
        .await
        .map_err(crate::missing("team"))?;
    audit(
        &state,
        &caller,
        "team.delete",
        &name,
        Some(json!({ "before": recorded(&before) })),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
