/*
 * hookexec: run one exec hook.  uv_spawn only (no shell: argv as given),
 * in a session and process group of its own (UV_PROCESS_DETACHED), with
 * exactly the environment given, the input on stdin, stdout and stderr
 * captured (the first HOOKEXEC_MAX_OUTPUT bytes, the rest read and
 * dropped).  Past timeout_ms the whole group gets SIGTERM, then SIGKILL
 * after grace_ms, so a hook's children die with it.
 *
 * Descriptors: the child gets 0-2 only: before each spawn every
 * descriptor above 2 is marked close-on-exec (close_range, else a walk of
 * /proc/self/fd), since not every library opens its own with O_CLOEXEC.  RLIMIT_NOFILE: the
 * daemon raises its soft limit; uv_spawn has no pre-exec hook, so the
 * soft limit is lowered to HOOKEXEC_NOFILE (when it is higher) around the
 * uv_spawn call and restored right after.  The loop is single-threaded,
 * so nothing else of the daemon opens a descriptor in that window; the
 * fork happens inside it, so the child starts with the lowered limit.
 * The cost: while the daemon holds more than 1024 descriptors, uv_spawn
 * cannot make the child's pipes (EMFILE, the attempt fails and is
 * retried later).
 *
 * A hook that does not read its stdin makes the write fail with EPIPE:
 * the process must ignore SIGPIPE (ftmond does).
 *
 * Ownership: argv, envp and input are copied or used only during
 * hookexec_start.  The run is owned by the module until its callback
 * returns (or hookexec_cancel); the result is valid during the call.
 */
#ifndef FTMON_HOOKEXEC_H
#define FTMON_HOOKEXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define HOOKEXEC_MAX_OUTPUT 4096
#define HOOKEXEC_NOFILE     1024
/* After the hook exits, how long its stdout/stderr may still deliver. */
#define HOOKEXEC_LINGER_MS 1000

struct hookexec;

struct hookexec_result {
	int64_t pid;
	int64_t exit_status; /* -1 when killed by a signal or not started */
	int term_signal;     /* 0 when it exited */
	bool timed_out;
	const char *output; /* stdout and stderr as read, NUL-terminated, capped */
	size_t output_len;
	const char *error; /* uv_spawn's error text, else NULL */
};

typedef void (*hookexec_done_cb)(const struct hookexec_result *r, void *data);

/* Start argv[0] (a path, or a name looked up in envp's PATH by libuv).
 * Returns the run; a spawn failure still calls cb (later, on the loop)
 * with error set. */
struct hookexec *hookexec_start(uv_loop_t *loop, char *const *argv, char *const *envp,
                                const char *input, size_t input_len, uint64_t timeout_ms,
                                uint64_t grace_ms, hookexec_done_cb cb, void *data);
/* SIGKILL the group and forget the run: cb is not called. */
void hookexec_cancel(struct hookexec *x);

#endif
