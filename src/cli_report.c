/*
 * cli_report: the report command (see cli_report.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_report.h"
#include "render.h"
#include "report.h"
#include "xmalloc.h"

/* The job reply of spec and its metrics, into *job and *metrics (owned
 * roots; the results are borrowed from them).  Returns an exit status. */
static int
cli_report_fetch(struct cli *c, const char *spec, cJSON **job_root, const cJSON **job,
                 cJSON **m_root, const cJSON **metrics)
{
	cJSON *args = cJSON_CreateObject();
	const char *name;
	int rc;

	cJSON_AddStringToObject(args, "job", spec);
	if ((rc = cli_conn_call(&c->conn, "job", args, true, job_root, job)) != CLI_EXIT_OK)
		return rc;
	/* The resolved name, so both replies are about the same job. */
	name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*job, "name"));
	if (name == NULL)
		return cli_fail(CLI_EXIT_UNREACHABLE, "malformed job reply from the daemon");
	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "job", name);
	cJSON_AddNumberToObject(args, "points", CLI_REPORT_POINTS);
	rc = cli_conn_call(&c->conn, "metrics", args, true, m_root, metrics);
	if (rc == CLI_EXIT_OK && !cJSON_IsObject(*metrics))
		rc = cli_fail(CLI_EXIT_UNREACHABLE, "malformed metrics reply from the daemon");
	return rc;
}

/* Write the document to path through a temporary file and a rename, so a
 * reader never sees half a report.  Returns 0 or -errno. */
static int
cli_report_write(const char *path, const struct buf *doc)
{
	char *tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666), rc = 0;
	size_t off = 0;

	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	while (off < doc->len && rc == 0) {
		ssize_t n = write(fd, doc->data + off, doc->len - off);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Build the document from the fetched replies and write it. */
static int
cli_report_output(struct cli *c, const struct cli_args *a, const struct report_job *jobs, size_t n)
{
	struct buf doc = BUF_INIT;
	char size[32];
	int rc;

	report_html(jobs, n, (int64_t)time(NULL), &doc);
	if ((rc = cli_report_write(a->output, &doc)) < 0) {
		buf_free(&doc);
		return cli_fail(CLI_EXIT_REFUSED, "report: cannot write %s: %s", a->output,
		                strerror(-rc));
	}
	if (c->out.json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "file", a->output);
		cJSON_AddNumberToObject(j, "jobs", (double)n);
		cJSON_AddNumberToObject(j, "bytes", (double)doc.len);
		rc = cli_out_json(&c->out, NULL, 0, j);
		cJSON_Delete(j);
	} else {
		buf_printf(&c->out.text, "wrote %s: %zu job%s, %s\n", a->output, n,
		           n == 1 ? "" : "s", render_bytes(doc.len, size, sizeof(size)));
		rc = cli_out_flush(&c->out);
	}
	buf_free(&doc);
	return rc;
}

int
cli_report_run(struct cli *c, struct cli_args *a)
{
	size_t n = (size_t)a->npos, got = 0;
	struct report_job *jobs = xcalloc(n, sizeof(*jobs));
	cJSON **roots = xcalloc(2 * n, sizeof(*roots));
	int rc = CLI_EXIT_OK;

	if (a->output == NULL || *a->output == '\0')
		rc = cli_fail(CLI_EXIT_USAGE, "report: -o FILE.html is required");
	for (; rc == CLI_EXIT_OK && got < n; got++)
		rc = cli_report_fetch(c, a->pos[got], &roots[2 * got], &jobs[got].job,
		                      &roots[2 * got + 1], &jobs[got].metrics);
	if (rc == CLI_EXIT_OK)
		rc = cli_report_output(c, a, jobs, n);
	for (size_t i = 0; i < 2 * n; i++)
		cJSON_Delete(roots[i]);
	free(roots);
	free(jobs);
	return rc;
}
