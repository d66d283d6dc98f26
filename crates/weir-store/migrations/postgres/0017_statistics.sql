-- Statistics for the console and `GET /api/v1/stats`: counts and durations of finished runs
-- and step attempts, by the hour they finished. Reading a day of statistics reads these rows,
-- never the executions: a few hundred rows an hour, however many runs there were.
--
-- A run or step record written already finished is counted by the statement that writes it
-- (`stats.rs`: a batch adds up its runs first, so a thousand decisions are a few rows to
-- update); one that finishes later, through any path (a worker's commit, a cancel, a retry),
-- is counted by the triggers below.
--
-- A duration is kept as its bucket: the number of digits of its milliseconds times ten, plus
-- its first digit (`0` → 10, `7` → 17, `250` → 32, `1800` → 41). A bucket spans [d·10^k,
-- (d+1)·10^k), so a percentile read from them is within a bucket of the truth (weir-store's
-- `stats.rs` decodes them).
--
-- `shard` is the writing connection's process id: two transactions never update the same
-- row, so finishing runs on several connections (or nodes) neither wait for nor deadlock on
-- each other. Readers add the shards up.
CREATE TABLE execution_stats (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    hour_ms BIGINT NOT NULL,
    workflow_id TEXT NOT NULL,
    status TEXT NOT NULL,
    decision TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    runs BIGINT NOT NULL,
    total_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, hour_ms, workflow_id, status, decision, bucket, shard)
);

CREATE TABLE step_stats (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    hour_ms BIGINT NOT NULL,
    step_id TEXT NOT NULL,
    status TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    runs BIGINT NOT NULL,
    total_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, workflow_id, hour_ms, step_id, status, bucket, shard)
);

CREATE FUNCTION weir_duration_bucket(d BIGINT) RETURNS INTEGER AS $$
    SELECT length(d::text) * 10 + substr(d::text, 1, 1)::integer
$$ LANGUAGE sql IMMUTABLE;

-- A run counts once each time it finishes (a failed run retried to success counts as one
-- failure and one completion).
CREATE FUNCTION execution_stats_count() RETURNS trigger AS $$
DECLARE
    f BIGINT;
    d BIGINT;
BEGIN
    IF NEW.status IN ('completed', 'failed', 'cancelled')
       AND OLD.status NOT IN ('completed', 'failed', 'cancelled') THEN
        f := COALESCE(NEW.completed_ms, NEW.updated_ms);
        d := GREATEST(f - NEW.started_ms, 0);
        INSERT INTO execution_stats (tenant_id, environment_id, hour_ms, workflow_id, status, decision, bucket, shard, runs, total_ms)
        VALUES (NEW.tenant_id, NEW.environment_id, f - f % 3600000, NEW.workflow_id, NEW.status, COALESCE(NEW.decision, ''),
                weir_duration_bucket(d), pg_backend_pid(), 1, d)
        ON CONFLICT (tenant_id, environment_id, hour_ms, workflow_id, status, decision, bucket, shard)
        DO UPDATE SET runs = execution_stats.runs + 1, total_ms = execution_stats.total_ms + EXCLUDED.total_ms;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER execution_stats_count AFTER UPDATE OF status ON executions
    FOR EACH ROW EXECUTE FUNCTION execution_stats_count();

-- A step attempt counts when it ends (skipped steps never ran and do not count).
CREATE FUNCTION step_stats_count() RETURNS trigger AS $$
DECLARE
    d BIGINT;
BEGIN
    IF NEW.status IN ('completed', 'failed', 'cancelled')
       AND OLD.status NOT IN ('completed', 'failed', 'cancelled') THEN
        d := GREATEST(NEW.updated_ms - NEW.started_ms, 0);
        INSERT INTO step_stats (tenant_id, environment_id, workflow_id, hour_ms, step_id, status, bucket, shard, runs, total_ms)
        SELECT NEW.tenant_id, NEW.environment_id, x.workflow_id, NEW.updated_ms - NEW.updated_ms % 3600000, NEW.step_id,
               NEW.status, weir_duration_bucket(d), pg_backend_pid(), 1, d
        FROM executions x
        WHERE x.tenant_id = NEW.tenant_id AND x.environment_id = NEW.environment_id AND x.id = NEW.execution_id
        ON CONFLICT (tenant_id, environment_id, workflow_id, hour_ms, step_id, status, bucket, shard)
        DO UPDATE SET runs = step_stats.runs + 1, total_ms = step_stats.total_ms + EXCLUDED.total_ms;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER step_stats_count AFTER UPDATE OF status ON step_executions
    FOR EACH ROW EXECUTE FUNCTION step_stats_count();

-- What was recorded before this migration, counted the same way.
INSERT INTO execution_stats (tenant_id, environment_id, hour_ms, workflow_id, status, decision, bucket, shard, runs, total_ms)
SELECT tenant_id, environment_id, f - f % 3600000, workflow_id, status, COALESCE(decision, ''),
       weir_duration_bucket(d), 0, COUNT(*), SUM(d)
FROM (SELECT tenant_id, environment_id, workflow_id, status, decision, COALESCE(completed_ms, updated_ms) AS f,
             GREATEST(COALESCE(completed_ms, updated_ms) - started_ms, 0) AS d
      FROM executions WHERE status IN ('completed', 'failed', 'cancelled')) finished
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO step_stats (tenant_id, environment_id, workflow_id, hour_ms, step_id, status, bucket, shard, runs, total_ms)
SELECT tenant_id, environment_id, workflow_id, u - u % 3600000, step_id, status, weir_duration_bucket(d), 0, COUNT(*), SUM(d)
FROM (SELECT s.tenant_id, s.environment_id, x.workflow_id, s.updated_ms AS u, s.step_id, s.status,
             GREATEST(s.updated_ms - s.started_ms, 0) AS d
      FROM step_executions s JOIN executions x
        ON x.tenant_id = s.tenant_id AND x.environment_id = s.environment_id AND x.id = s.execution_id
      WHERE s.status IN ('completed', 'failed', 'cancelled')) ended
GROUP BY 1, 2, 3, 4, 5, 6, 7;
