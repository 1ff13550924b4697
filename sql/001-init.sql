-- ftmon schema, version 1.  Times are Unix seconds (INTEGER) everywhere.
-- Reader-facing names (stable): jobs, metric_points, alerts, deliveries,
-- events, checkpoints.  Everything else may change between versions.

CREATE TABLE jobs (
	id INTEGER PRIMARY KEY,
	source TEXT NOT NULL,              -- the [source NAME]
	external_id TEXT NOT NULL,         -- the API's job id, or the jsonl/push name
	status TEXT NOT NULL,
	model TEXT,
	fine_tuned_model TEXT,
	created_at INTEGER,
	finished_at INTEGER,
	total_steps INTEGER,
	error TEXT,
	trained_tokens INTEGER,
	estimated_finish INTEGER,
	last_step INTEGER,                 -- highest step stored
	tracked INTEGER NOT NULL DEFAULT 1, -- 0 after `untrack`
	event_cursor TEXT,                 -- newest source event id stored
	results_done INTEGER NOT NULL DEFAULT 0, -- result file ingested
	discovered_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (source, external_id)
);
CREATE INDEX jobs_status ON jobs (status);
CREATE INDEX jobs_external_id ON jobs (external_id);

CREATE TABLE metric_names (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);

-- One row per (job, metric, step): the primary key makes a point land once.
-- value is NULL for NaN (SQLite cannot store NaN).
CREATE TABLE points (
	job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	metric_id INTEGER NOT NULL REFERENCES metric_names (id),
	step INTEGER NOT NULL,
	value REAL,
	recorded_at INTEGER NOT NULL,
	PRIMARY KEY (job_id, metric_id, step)
) WITHOUT ROWID;

CREATE VIEW metric_points AS
	SELECT j.source AS source, j.external_id AS job, m.name AS metric,
	       p.step AS step, p.value AS value, p.recorded_at AS recorded_at
	FROM points p
	JOIN jobs j ON j.id = p.job_id
	JOIN metric_names m ON m.id = p.metric_id;

-- Latest value of each metric per job, kept by the writer so `jobs` does
-- not scan points.
CREATE TABLE latest_metrics (
	job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	metric_id INTEGER NOT NULL REFERENCES metric_names (id),
	step INTEGER NOT NULL,
	value REAL,
	PRIMARY KEY (job_id, metric_id)
) WITHOUT ROWID;

-- Source events (API message events) and ftmon's own job.* events.
CREATE TABLE events (
	id INTEGER PRIMARY KEY,
	job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	source_event_id TEXT,              -- the API's event id; NULL for ftmon's own
	type TEXT NOT NULL,                -- message | job.discovered | job.status | job.finished | ...
	level TEXT,
	message TEXT,
	data TEXT,                         -- JSON
	created_at INTEGER NOT NULL,
	UNIQUE (job_id, source_event_id)
);
CREATE INDEX events_job ON events (job_id, created_at, id);
CREATE INDEX events_type ON events (type, id);

CREATE TABLE checkpoints (
	job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	checkpoint_id TEXT NOT NULL,
	step INTEGER,
	model TEXT,
	metrics TEXT,                      -- JSON object
	created_at INTEGER,
	PRIMARY KEY (job_id, checkpoint_id)
);

CREATE TABLE alerts (
	id INTEGER PRIMARY KEY,
	job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	source TEXT NOT NULL,
	job TEXT NOT NULL,                 -- external id
	rule TEXT NOT NULL,
	metric TEXT,
	state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
	value REAL,
	step INTEGER,
	message TEXT,
	fired_at INTEGER NOT NULL,
	resolved_at INTEGER,
	acked INTEGER NOT NULL DEFAULT 0,
	action TEXT
);
CREATE INDEX alerts_state ON alerts (state);
CREATE INDEX alerts_job_rule ON alerts (job_id, rule);

CREATE TABLE deliveries (
	event_id TEXT NOT NULL,
	hook TEXT NOT NULL,
	event TEXT NOT NULL,
	payload TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
	last_error TEXT,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (event_id, hook)
);
CREATE INDEX deliveries_pending ON deliveries (state, next_attempt_at);
