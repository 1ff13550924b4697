-- jsonl source: where each followed file was read up to, and bad lines per job.

-- One row per (source, path): the file's identity when last read, its
-- generation (bumped when the file is truncated or replaced), the byte
-- offset after the last whole line stored and how many lines that was.
-- Written in the same transaction as the points those lines produced.
CREATE TABLE jsonl_files (
	source TEXT NOT NULL,
	path TEXT NOT NULL,
	dev INTEGER NOT NULL,
	ino INTEGER NOT NULL,
	generation INTEGER NOT NULL,
	offset INTEGER NOT NULL,
	line INTEGER NOT NULL,             -- lines read in this generation
	last_step INTEGER,                 -- the step a line without one follows
	job TEXT,                          -- the last "job" key read; NULL: named by the glob
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (source, path)
);

-- Lines of a job's file that were not stored (not JSON, bad step, ...).
CREATE TABLE job_bad_lines (
	job_id INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
	count INTEGER NOT NULL,
	last_line INTEGER NOT NULL,        -- its line number in the file (from 1)
	last_reason TEXT NOT NULL,
	last_at INTEGER NOT NULL
);
