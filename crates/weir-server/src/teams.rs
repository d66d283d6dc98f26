//! Teams: named groups of a tenant's users in one environment. An approval's `approver_role`
//! names the team whose members may decide it, and a notification's `role:NAME` the team it
//! goes to. Reading needs `workflows:read`; writing `admin`, and is audited. A team's name is
//! a lowercase letter, then up to 63 lowercase letters, digits, `_`, `.` or `-`, and is none
//! of the permission roles (`approver_role: operator` means the operators already).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use weir_store::{NewTeam, Team, User};

use crate::access::{Caller, Perm, ROLES, audit, authorize_for, text};
use crate::{ApiError, ApiResult, AppState, read_object, time};

/// The most members a team has.
const MAX_MEMBERS: usize = 1000;
/// The longest description, in bytes.
const MAX_DESCRIPTION: usize = 1000;

fn team_json(t: &Team) -> Value {
    let members: Vec<Value> = t
        .members
        .iter()
        .map(|u| json!({ "id": u.id, "email": u.email, "name": u.name, "disabled": u.disabled_ms.is_some() }))
        .collect();
    json!({
        "name": t.name, "description": t.description, "members": members,
        "created_at": time(Some(t.created_ms)), "updated_at": time(Some(t.updated_ms)),
    })
}

/// Whether `name` can name a team: `^[a-z][a-z0-9_.-]{0,63}$`, and not a permission role.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'-')
        })
        && !ROLES.contains(&name)
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
            vec![json!({ "path": "$.members", "message": message })],
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
                        json!({ "path": path, "message": format!("no user '{m}' of this tenant works in the environment '{env}'") })
                    })
            }
            _ => Err(
                json!({ "path": path, "message": "a user's id or email: a non-empty string of at most 320 characters" }),
            ),
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
            vec![
                json!({ "path": "$.members", "message": "users of the tenant who work in this environment" }),
            ],
        ),
        other => other.into(),
    }
}

/// `POST /api/v1/teams` `{"name", "members": [user id or email, …], "description"?}`.
pub async fn post_team(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let map = read_object(&headers, body, &["name", "members", "description"], false).await?;
    let name = match map.get("name") {
        Some(Value::String(n)) if valid_name(n) => n.clone(),
        _ => {
            return Err(ApiError::invalid(
                "the team name is invalid",
                vec![
                    json!({ "path": "$.name", "message": format!("a lowercase letter, then up to 63 lowercase letters, digits, '_', '.' or '-'; not one of the roles {}", ROLES.join(", ")) }),
                ],
            ));
        }
    };
    let team = draft(&state, &caller, &map, name).await?;
    let team = state
        .store
        .create_team(&caller.scope, &team)
        .await
        .map_err(write_error)?;
    let answer = team_json(&team);
    audit(
        &state,
        &caller,
        "team.create",
        &team.name,
        Some(answer.clone()),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `GET /api/v1/teams`: the environment's teams, by name, with their members.
pub async fn list_teams(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let teams: Vec<Value> = state
        .store
        .teams(&caller.scope)
        .await?
        .iter()
        .map(team_json)
        .collect();
    Ok(axum::Json(json!({ "teams": teams })).into_response())
}

async fn existing(state: &AppState, caller: &Caller, name: &str) -> ApiResult<Team> {
    state
        .store
        .team(&caller.scope, name)
        .await?
        .ok_or_else(|| ApiError::not_found("team"))
}

/// `GET /api/v1/teams/{name}`.
pub async fn get_team(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Read).await?;
    let team = existing(&state, &caller, &name).await?;
    Ok(axum::Json(team_json(&team)).into_response())
}

/// `PUT /api/v1/teams/{name}` `{"members", "description"?}`: replaces the team's members and
/// description (left out, it is cleared). A `name` in the body must be the path's.
pub async fn put_team(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Body,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    // Another scope's team is not there, whatever the body says.
    let before = existing(&state, &caller, &name).await?;
    let map = read_object(&headers, body, &["name", "members", "description"], false).await?;
    if map.get("name").is_some_and(|n| *n != name.as_str()) {
        return Err(ApiError::invalid(
            "the body names another team than the path",
            vec![
                json!({ "path": "$.name", "message": format!("'{name}', as in the path, or left out") }),
            ],
        ));
    }
    let team = draft(&state, &caller, &map, name.clone()).await?;
    let team = state
        .store
        .replace_team(&caller.scope, &team)
        .await
        .map_err(write_error)?;
    let answer = team_json(&team);
    audit(
        &state,
        &caller,
        "team.update",
        &name,
        Some(json!({ "before": team_json(&before), "after": answer })),
    )
    .await?;
    Ok(axum::Json(answer).into_response())
}

/// `DELETE /api/v1/teams/{name}`: 204. Approvals that name it can then be decided only by an
/// admin's override, or by users whose role has its name.
pub async fn delete_team(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = authorize_for(&state, &headers, Perm::Admin).await?;
    let before = existing(&state, &caller, &name).await?;
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
        Some(json!({ "before": team_json(&before) })),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
