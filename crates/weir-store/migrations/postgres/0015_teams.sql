-- Teams: named groups of a tenant's users in one environment, who approvals name as their
-- approver_role and notifications as role:NAME. A user may be limited to one environment
-- (environment_id; NULL for every environment of the tenant): it signs in there only, and
-- belongs to teams of that environment only.
ALTER TABLE users ADD COLUMN environment_id TEXT;

CREATE TABLE teams (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, name)
);

CREATE TABLE team_members (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    team TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, team, user_id)
);
CREATE INDEX team_members_user ON team_members (tenant_id, environment_id, user_id);
