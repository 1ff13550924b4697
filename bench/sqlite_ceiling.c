/*
 * sqlite_ceiling: the raw SQLite insert ceiling for bench/jsonl_ingest.sh.
 * The same tables as ftmond's (jobs, metric_names, points WITHOUT ROWID
 * with its foreign keys on), the same pragmas (WAL, synchronous=NORMAL),
 * one prepared INSERT OR IGNORE reused, BATCH rows per transaction; the
 * rows are made in memory, so nothing is parsed: what is left is SQLite.
 *
 *   cc -O2 -o sqlite_ceiling sqlite_ceiling.c -lsqlite3
 *   ./sqlite_ceiling DB LINES METRICS BATCH [JOBS]
 *       -> "ceiling ROWS SECONDS ROWS_PER_S"
 *
 * JOBS (default 1): that many jobs, each with LINES steps of METRICS
 * values, one job after another, as the OpenAI first pass stores them
 * (bench/poll_scale.sh FIRSTPASS=1 uses BATCH = one page's rows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sqlite3.h>

static const char schema[] =
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, source TEXT NOT NULL,"
        " external_id TEXT NOT NULL, status TEXT NOT NULL, UNIQUE (source, external_id));"
        "CREATE TABLE metric_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
        "CREATE TABLE points (job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
        " metric_id INTEGER NOT NULL REFERENCES metric_names (id), step INTEGER NOT NULL,"
        " value REAL, recorded_at INTEGER NOT NULL, PRIMARY KEY (job_id, metric_id, step))"
        " WITHOUT ROWID;";

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
must(int rc, sqlite3 *db, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *ins;
	long lines, metrics, batch, jobs = 1, rows = 0;
	double t0, t;
	char sql[160];

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s DB LINES METRICS BATCH [JOBS]\n", argv[0]);
		return 2;
	}
	lines = atol(argv[2]);
	metrics = atol(argv[3]);
	batch = atol(argv[4]);
	if (argc == 6)
		jobs = atol(argv[5]);
	must(sqlite3_open(argv[1], &db), db, "open");
	must(sqlite3_exec(db, schema, NULL, NULL, NULL), db, "schema");
	snprintf(sql, sizeof(sql),
	         "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %ld)"
	         " INSERT INTO jobs SELECT i, 'lab', 'job' || i, 'running' FROM k",
	         jobs);
	must(sqlite3_exec(db, sql, NULL, NULL, NULL), db, "jobs");
	snprintf(sql, sizeof(sql),
	         "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %ld)"
	         " INSERT INTO metric_names SELECT i, 'metric' || i FROM k",
	         metrics);
	must(sqlite3_exec(db, sql, NULL, NULL, NULL), db, "metric names");
	must(sqlite3_prepare_v2(db,
	                        "INSERT OR IGNORE INTO points (job_id, metric_id, step, value,"
	                        " recorded_at) VALUES (?5, ?1, ?2, ?3, ?4)",
	                        -1, &ins, NULL),
	     db, "prepare");
	t0 = now_s();
	must(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), db, "begin");
	for (long k = 1; k <= jobs * lines; k++) {
		long step = (k - 1) % lines + 1;
		for (long m = 1; m <= metrics; m++) {
			sqlite3_bind_int64(ins, 5, (k - 1) / lines + 1);
			sqlite3_bind_int64(ins, 1, m);
			sqlite3_bind_int64(ins, 2, step);
			sqlite3_bind_double(ins, 3, 1.0 / (double)(step + m));
			sqlite3_bind_int64(ins, 4, 1764590000);
			must(sqlite3_step(ins), db, "insert");
			sqlite3_reset(ins);
			if (++rows % batch == 0) {
				must(sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL), db,
				     "commit");
			}
		}
	}
	must(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
	t = now_s() - t0;
	sqlite3_finalize(ins);
	sqlite3_close(db);
	printf("ceiling %ld %.3f %.0f\n", rows, t, (double)rows / t);
	return 0;
}
