//! Teams: named groups of a tenant's users, per tenant × environment. A member is a user of
//! the tenant who works in the team's environment (limited to it, or to none).

use sqlx::Row;

use crate::sql::{SqlStore, found, sql};
use crate::users::{USER_COLUMNS, user_row};
use crate::*;

impl SqlStore {
    /// Creates a team (`replace: false`) or replaces an existing one's description and
    /// members, in one transaction.
    pub(crate) async fn write_team(
        &self,
        scope: &Scope,
        team: &NewTeam,
        replace: bool,
    ) -> Result<Team> {
        let now = self.now;
        let mut tx = self.begin().await?;
        let exists = sqlx::query(
            "SELECT name FROM teams WHERE tenant_id = $1 AND environment_id = $2 AND name = $3",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(&team.name)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        let write = match (exists, replace) {
            (true, false) => {
                return Err(Error::Conflict(format!(
                    "a team '{}' exists in this environment",
                    team.name
                )));
            }
            (false, true) => return Err(Error::NotFound),
            (true, true) => format!(
                "UPDATE teams SET description = $4, updated_ms = {now} \
                 WHERE tenant_id = $1 AND environment_id = $2 AND name = $3"
            ),
            (false, false) => format!(
                "INSERT INTO teams (tenant_id, environment_id, name, description, created_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, {now}, {now})"
            ),
        };
        sqlx::query(sql(write))
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(&team.name)
            .bind(team.description.as_deref())
            .execute(&mut *tx)
            .await?;
        if replace {
            clear_members(&mut tx, scope, &team.name).await?;
        }
        let mut members: Vec<&str> = team.members.iter().map(String::as_str).collect();
        members.sort_unstable();
        members.dedup();
        for user in members {
            // Only a user of the tenant who works in this environment joins; anyone else makes
            // the whole write fail.
            let added = sqlx::query(
                "INSERT INTO team_members (tenant_id, environment_id, team, user_id) \
                 SELECT u.tenant_id, $2, $3, u.id FROM users u WHERE u.id = $4 AND u.tenant_id = $1 \
                 AND (u.environment_id IS NULL OR u.environment_id = $2)",
            )
            .bind(&scope.tenant)
            .bind(&scope.environment)
            .bind(&team.name)
            .bind(user)
            .execute(&mut *tx)
            .await?;
            found(added)?;
        }
        tx.commit().await?;
        self.list_teams(scope, Some(&team.name))
            .await?
            .pop()
            .ok_or(Error::NotFound)
    }

    pub(crate) async fn list_teams(&self, scope: &Scope, name: Option<&str>) -> Result<Vec<Team>> {
        let rows = sqlx::query(
            "SELECT name, description, created_ms, updated_ms FROM teams \
             WHERE tenant_id = $1 AND environment_id = $2 AND ($3 IS NULL OR name = $3)",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        let mut teams = rows
            .iter()
            .map(|r| {
                Ok(Team {
                    name: r.try_get("name")?,
                    description: r.try_get("description")?,
                    members: Vec::new(),
                    created_ms: r.try_get("created_ms")?,
                    updated_ms: r.try_get("updated_ms")?,
                })
            })
            .collect::<Result<Vec<Team>>>()?;
        // Sorted here, not by the database's collation, so both back-ends list alike.
        teams.sort_by(|a, b| a.name.cmp(&b.name));
        if teams.is_empty() {
            return Ok(teams);
        }
        let members = sqlx::query(sql(format!(
            "SELECT m.team, {USER_COLUMNS} FROM team_members m \
             JOIN users u ON u.id = m.user_id AND u.tenant_id = m.tenant_id \
             WHERE m.tenant_id = $1 AND m.environment_id = $2 AND ($3 IS NULL OR m.team = $3)"
        )))
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        for r in &members {
            let team: String = r.try_get("team")?;
            if let Ok(i) = teams.binary_search_by(|t| t.name.as_str().cmp(team.as_str())) {
                teams[i].members.push(user_row(r)?);
            }
        }
        for team in &mut teams {
            team.members.sort_by(|a, b| a.email.cmp(&b.email));
        }
        Ok(teams)
    }

    pub(crate) async fn remove_team(&self, scope: &Scope, name: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "DELETE FROM teams WHERE tenant_id = $1 AND environment_id = $2 AND name = $3",
        )
        .bind(&scope.tenant)
        .bind(&scope.environment)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        found(done)?;
        clear_members(&mut tx, scope, name).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn clear_members(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    scope: &Scope,
    team: &str,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM team_members WHERE tenant_id = $1 AND environment_id = $2 AND team = $3",
    )
    .bind(&scope.tenant)
    .bind(&scope.environment)
    .bind(team)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
