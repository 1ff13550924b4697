-- Rules: one row per job, written in the same transaction as the points
-- the rules have seen, so a restart resumes exactly where the last
-- committed step left it: when the job last brought new points (the stale
-- rule's clock) and every rule's state for it, as JSON
-- {"RULE": {"METRIC": "<rule.h's text form>"}} (one row, not one per
-- (rule, metric): one read and one write per job and step).  Seeded with
-- the points a database already holds.
CREATE TABLE rule_state (
	job_id INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
	last_point_at INTEGER NOT NULL,
	state TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO rule_state (job_id, last_point_at)
	SELECT job_id, max(recorded_at) FROM points GROUP BY job_id;

-- divergence: the best checkpoint when it fired, as JSON
-- {"step", "metric", "value", "checkpoint"}.
ALTER TABLE alerts ADD COLUMN best_checkpoint TEXT;
-- action = cancel|pause: 'pending' (committed with the alert, not yet
-- asked), 'sent' (handed to the source), 'done' or 'failed'; and what the
-- source answered.
ALTER TABLE alerts ADD COLUMN action_state TEXT;
ALTER TABLE alerts ADD COLUMN action_result TEXT;
CREATE INDEX alerts_action ON alerts (action_state) WHERE action_state IS NOT NULL;
