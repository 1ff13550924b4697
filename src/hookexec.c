/*
 * hookexec: one exec hook run (see hookexec.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "hookexec.h"
#include "xmalloc.h"

enum hookexec_phase { HX_RUN, HX_TERM_SENT, HX_KILL_SENT, HX_LINGER };

struct hookexec {
	uv_process_t proc;
	uv_pipe_t in, out, err;
	uv_timer_t timer;
	uv_write_t wreq;
	char *input;
	int open; /* handles not yet closed: freed at the last close */
	bool exited, out_eof, err_eof, finished, cancelled, timed_out;
	enum hookexec_phase phase;
	uint64_t grace_ms;
	int64_t pid, exit_status;
	int term_signal;
	struct buf output;
	char *error;
	hookexec_done_cb cb;
	void *data;
};

static void
hookexec_close_cb(uv_handle_t *h)
{
	struct hookexec *x = h->data;

	if (--x->open > 0)
		return;
	buf_free(&x->output);
	free(x->input);
	free(x->error);
	free(x);
}

static void
hookexec_close(struct hookexec *x, uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, hookexec_close_cb);
}

/* Report once, then close everything. */
static void
hookexec_finish(struct hookexec *x)
{
	struct hookexec_result r;

	if (x->finished)
		return;
	x->finished = true;
	if (!x->cancelled) {
		r = (struct hookexec_result){x->pid,
		                             x->exit_status,
		                             x->term_signal,
		                             x->timed_out,
		                             x->output.data ? x->output.data : "",
		                             x->output.len,
		                             x->error};
		x->cb(&r, x->data);
	}
	hookexec_close(x, (uv_handle_t *)&x->timer);
	hookexec_close(x, (uv_handle_t *)&x->in);
	hookexec_close(x, (uv_handle_t *)&x->out);
	hookexec_close(x, (uv_handle_t *)&x->err);
	hookexec_close(x, (uv_handle_t *)&x->proc);
}

static void
hookexec_maybe_finish(struct hookexec *x)
{
	if (x->exited && x->out_eof && x->err_eof)
		hookexec_finish(x);
}

static void
hookexec_signal_group(struct hookexec *x, int sig)
{
	if (x->pid > 0)
		kill(-(pid_t)x->pid, sig); /* ESRCH: the group is gone already */
}

static void
hookexec_timer_cb(uv_timer_t *t)
{
	struct hookexec *x = t->data;

	switch (x->phase) {
	case HX_RUN:
		x->timed_out = true;
		x->phase = HX_TERM_SENT;
		hookexec_signal_group(x, SIGTERM);
		uv_timer_start(t, hookexec_timer_cb, x->grace_ms, 0);
		break;
	case HX_TERM_SENT:
		x->phase = HX_KILL_SENT;
		hookexec_signal_group(x, SIGKILL);
		break;
	default: /* the output of a hook that exited: stop waiting for it */
		hookexec_finish(x);
	}
}

static void
hookexec_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct hookexec *x = p->data;

	x->exited = true;
	x->exit_status = sig ? -1 : status;
	x->term_signal = sig;
	/* A timed-out hook's leader may die of SIGTERM while a child ignores
	 * it: the group goes, whatever it holds. */
	if (x->timed_out)
		hookexec_signal_group(x, SIGKILL);
	x->phase = HX_LINGER;
	uv_timer_start(&x->timer, hookexec_timer_cb, HOOKEXEC_LINGER_MS, 0);
	hookexec_maybe_finish(x);
}

static void
hookexec_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	static char scratch[4096]; /* data is copied out in the read callback */

	(void)h;
	(void)suggested;
	*b = uv_buf_init(scratch, sizeof(scratch));
}

static void
hookexec_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct hookexec *x = s->data;

	if (n > 0) {
		size_t room = HOOKEXEC_MAX_OUTPUT - x->output.len;
		buf_append(&x->output, b->base, (size_t)n < room ? (size_t)n : room);
		return;
	}
	if (n == 0)
		return;
	uv_read_stop(s);
	if (s == (uv_stream_t *)&x->out)
		x->out_eof = true;
	else
		x->err_eof = true;
	hookexec_maybe_finish(x);
}

static void
hookexec_write_cb(uv_write_t *w, int status)
{
	struct hookexec *x = w->data;

	(void)status; /* a hook that does not read its stdin is its business */
	hookexec_close(x, (uv_handle_t *)&x->in);
}

/* Mark every descriptor above 2 close-on-exec: libuv's own are, but a
 * library may not be (libcurl's wakeup socketpair is not), nor what the
 * daemon inherited.  The daemon itself never execs anything else. */
static void
hookexec_cloexec_all(void)
{
	DIR *d;
	struct dirent *e;

#ifdef CLOSE_RANGE_CLOEXEC
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (fd > 2 && fd != dirfd(d))
			fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	}
	closedir(d);
}

/* uv_spawn with the soft RLIMIT_NOFILE lowered for the fork (hookexec.h). */
static int
hookexec_spawn(uv_loop_t *loop, struct hookexec *x, const uv_process_options_t *o)
{
	struct rlimit rl, low;
	bool lowered = false;
	int rc;

	hookexec_cloexec_all();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > HOOKEXEC_NOFILE) {
		low = rl;
		low.rlim_cur = HOOKEXEC_NOFILE;
		lowered = setrlimit(RLIMIT_NOFILE, &low) == 0;
	}
	rc = uv_spawn(loop, &x->proc, o);
	if (lowered)
		setrlimit(RLIMIT_NOFILE, &rl);
	return rc;
}

static void
hookexec_init_handles(uv_loop_t *loop, struct hookexec *x)
{
	uv_handle_t *hs[] = {(uv_handle_t *)&x->in, (uv_handle_t *)&x->out, (uv_handle_t *)&x->err,
	                     (uv_handle_t *)&x->timer};

	uv_pipe_init(loop, &x->in, 0);
	uv_pipe_init(loop, &x->out, 0);
	uv_pipe_init(loop, &x->err, 0);
	uv_timer_init(loop, &x->timer);
	for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
		hs[i]->data = x;
	x->proc.data = x;
	x->wreq.data = x;
	x->open = 5;
}

/* A spawn that failed reports from the timer, so cb never runs inside
 * hookexec_start. */
static void
hookexec_failed(struct hookexec *x, int rc)
{
	x->error = xstrdup(uv_strerror(rc));
	x->exited = x->out_eof = x->err_eof = true;
	x->phase = HX_LINGER;
	uv_timer_start(&x->timer, hookexec_timer_cb, 0, 0);
}

struct hookexec *
hookexec_start(uv_loop_t *loop, char *const *argv, char *const *envp, const char *input,
               size_t input_len, uint64_t timeout_ms, uint64_t grace_ms, hookexec_done_cb cb,
               void *data)
{
	struct hookexec *x = xcalloc(1, sizeof(*x));
	uv_stdio_container_t stdio[3];
	uv_process_options_t o;
	uv_buf_t b;
	int rc;

	x->cb = cb;
	x->data = data;
	x->grace_ms = grace_ms;
	x->exit_status = -1;
	hookexec_init_handles(loop, x);
	stdio[0] = (uv_stdio_container_t){UV_CREATE_PIPE | UV_READABLE_PIPE,
	                                  {.stream = (uv_stream_t *)&x->in}};
	stdio[1] = (uv_stdio_container_t){UV_CREATE_PIPE | UV_WRITABLE_PIPE,
	                                  {.stream = (uv_stream_t *)&x->out}};
	stdio[2] = (uv_stdio_container_t){UV_CREATE_PIPE | UV_WRITABLE_PIPE,
	                                  {.stream = (uv_stream_t *)&x->err}};
	memset(&o, 0, sizeof(o));
	o.exit_cb = hookexec_exit_cb;
	o.file = argv[0];
	o.args = (char **)argv;
	o.env = (char **)envp;
	o.flags = UV_PROCESS_DETACHED;
	o.stdio_count = 3;
	o.stdio = stdio;
	if ((rc = hookexec_spawn(loop, x, &o)) < 0) {
		hookexec_failed(x, rc);
		return x;
	}
	x->pid = x->proc.pid;
	x->input = xmalloc(input_len + 1);
	memcpy(x->input, input, input_len);
	b = uv_buf_init(x->input, (unsigned)input_len);
	if (uv_write(&x->wreq, (uv_stream_t *)&x->in, &b, 1, hookexec_write_cb) < 0)
		hookexec_close(x, (uv_handle_t *)&x->in);
	uv_read_start((uv_stream_t *)&x->out, hookexec_alloc_cb, hookexec_read_cb);
	uv_read_start((uv_stream_t *)&x->err, hookexec_alloc_cb, hookexec_read_cb);
	uv_timer_start(&x->timer, hookexec_timer_cb, timeout_ms, 0);
	return x;
}

void
hookexec_cancel(struct hookexec *x)
{
	if (x == NULL || x->finished)
		return;
	x->cancelled = true;
	if (!x->exited)
		hookexec_signal_group(x, SIGKILL);
	hookexec_finish(x);
}
