-- Rules: each rule's evaluation state per (job, rule, metric), written in
-- the same transaction as the points it has seen, so a restart resumes
-- exactly where the last committed step left it.
CREATE TABLE rule_state (
	job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	rule TEXT NOT NULL,
	metric TEXT NOT NULL,
	state TEXT NOT NULL,               -- rule.h's text form
	PRIMARY KEY (job_id, rule, metric)
) WITHOUT ROWID;

-- When a job last brought new points (the stale rule's clock).
CREATE TABLE rule_activity (
	job_id INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
	last_point_at INTEGER NOT NULL
);

-- divergence: the best checkpoint when it fired, as JSON
-- {"step", "metric", "value", "checkpoint"}.
ALTER TABLE alerts ADD COLUMN best_checkpoint TEXT;
-- action = cancel|pause: 'pending' (committed with the alert, not yet
-- asked), 'sent' (handed to the source), 'done' or 'failed'; and what the
-- source answered.
ALTER TABLE alerts ADD COLUMN action_state TEXT;
ALTER TABLE alerts ADD COLUMN action_result TEXT;
CREATE INDEX alerts_action ON alerts (action_state) WHERE action_state IS NOT NULL;
