-- Statistics for the console and `GET /api/v1/stats`: counts and durations of finished runs
-- and step attempts, by the hour they finished. Reading a day of statistics reads these rows,
-- never the executions: a few hundred rows an hour, however many runs there were.
--
-- A run or step record written already finished is counted by the statement that writes it
-- (`stats.rs`: a batch adds up its runs first, so a thousand decisions are a few rows to
-- update, where a trigger per row cost W1's writer 60% of its speed); one that finishes
-- later, through any path (a worker's commit, a cancel, a retry), is counted by the triggers
-- below.
--
-- A duration is kept as its bucket: the number of digits of its milliseconds times ten, plus
-- its first digit (`0` → 10, `7` → 17, `250` → 32, `1800` → 41). A bucket spans [d·10^k,
-- (d+1)·10^k), so a percentile read from them is within a bucket of the truth (weir-store's
-- `stats.rs` decodes them).
--
-- `shard` keeps concurrent writers apart on PostgreSQL (the writing connection's process id);
-- on SQLite there is one writer and it is always 0.
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
) WITHOUT ROWID;

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
) WITHOUT ROWID;

-- A run counts once each time it finishes (a failed run retried to success counts as one
-- failure and one completion).
CREATE TRIGGER execution_stats_update AFTER UPDATE OF status ON executions
WHEN NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status NOT IN ('completed', 'failed', 'cancelled')
BEGIN
    INSERT INTO execution_stats (tenant_id, environment_id, hour_ms, workflow_id, status, decision, bucket, shard, runs, total_ms)
    SELECT NEW.tenant_id, NEW.environment_id, f - f % 3600000, NEW.workflow_id, NEW.status, COALESCE(NEW.decision, ''),
           length(CAST(d AS TEXT)) * 10 + CAST(substr(CAST(d AS TEXT), 1, 1) AS INTEGER), 0, 1, d
    FROM (SELECT COALESCE(NEW.completed_ms, NEW.updated_ms) AS f,
                 max(COALESCE(NEW.completed_ms, NEW.updated_ms) - NEW.started_ms, 0) AS d) WHERE true
    ON CONFLICT DO UPDATE SET runs = runs + 1, total_ms = total_ms + excluded.total_ms;
END;

-- A step attempt counts when it ends (skipped steps never ran and do not count).
CREATE TRIGGER step_stats_update AFTER UPDATE OF status ON step_executions
WHEN NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status NOT IN ('completed', 'failed', 'cancelled')
BEGIN
    INSERT INTO step_stats (tenant_id, environment_id, workflow_id, hour_ms, step_id, status, bucket, shard, runs, total_ms)
    SELECT NEW.tenant_id, NEW.environment_id, x.workflow_id, NEW.updated_ms - NEW.updated_ms % 3600000, NEW.step_id, NEW.status,
           length(CAST(d AS TEXT)) * 10 + CAST(substr(CAST(d AS TEXT), 1, 1) AS INTEGER), 0, 1, d
    FROM executions x, (SELECT max(NEW.updated_ms - NEW.started_ms, 0) AS d)
    WHERE x.tenant_id = NEW.tenant_id AND x.environment_id = NEW.environment_id AND x.id = NEW.execution_id
    ON CONFLICT DO UPDATE SET runs = runs + 1, total_ms = total_ms + excluded.total_ms;
END;

-- What was recorded before this migration, counted the same way.
INSERT INTO execution_stats (tenant_id, environment_id, hour_ms, workflow_id, status, decision, bucket, shard, runs, total_ms)
SELECT tenant_id, environment_id, f - f % 3600000, workflow_id, status, COALESCE(decision, ''),
       length(CAST(d AS TEXT)) * 10 + CAST(substr(CAST(d AS TEXT), 1, 1) AS INTEGER), 0, COUNT(*), SUM(d)
FROM (SELECT tenant_id, environment_id, workflow_id, status, decision, COALESCE(completed_ms, updated_ms) AS f,
             max(COALESCE(completed_ms, updated_ms) - started_ms, 0) AS d
      FROM executions WHERE status IN ('completed', 'failed', 'cancelled'))
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO step_stats (tenant_id, environment_id, workflow_id, hour_ms, step_id, status, bucket, shard, runs, total_ms)
SELECT s.tenant_id, s.environment_id, x.workflow_id, s.updated_ms - s.updated_ms % 3600000, s.step_id, s.status,
       length(CAST(max(s.updated_ms - s.started_ms, 0) AS TEXT)) * 10
         + CAST(substr(CAST(max(s.updated_ms - s.started_ms, 0) AS TEXT), 1, 1) AS INTEGER), 0, COUNT(*), SUM(max(s.updated_ms - s.started_ms, 0))
FROM step_executions s JOIN executions x
  ON x.tenant_id = s.tenant_id AND x.environment_id = s.environment_id AND x.id = s.execution_id
WHERE s.status IN ('completed', 'failed', 'cancelled')
GROUP BY 1, 2, 3, 4, 5, 6, 7;
