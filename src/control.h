/*
 * control: the control socket's transport.  A Unix stream socket (bound
 * here, or inherited through socket activation) served on the loop: line
 * framing (1 MiB per request), a cap on clients, capped per-client output,
 * an idle timeout, and the peer's credentials.  What a request means is
 * ctl_cmds' business; a client that stops reading never stalls the loop.
 */
#ifndef FTMON_CONTROL_H
#define FTMON_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

struct control;
struct control_client;

#define CONTROL_MAX_CLIENTS 1024
/* Beyond the cap, a few more slots for root and the daemon's own user, so
 * an admin can always get in. */
#define CONTROL_RESERVED_CLIENTS 8
/* Requests handled per client before the others get their turn. */
#define CONTROL_BATCH 4
/* All clients' unsent output together; past it no request is handled
 * until some output drains. */
#define CONTROL_MAX_OUTPUT_TOTAL (256u * 1024 * 1024)
#define CONTROL_MAX_OUTPUT       (64u * 1024 * 1024)
#define CONTROL_IDLE_TIMEOUT_MS  60000

/* Called for each request line (without its newline); data is what
 * control_new was given.  The handler answers with control_client_send,
 * now or (after control_client_hold) later. */
typedef void (*control_dispatch_fn)(void *data, struct control_client *cl, const char *line,
                                    size_t len);

/* Start serving on loop.  fd >= 0 is an inherited listening socket;
 * otherwise bind path (replacing a stale socket file, refusing a live one)
 * with mode.  Returns NULL with *err set (malloc'd). */
struct control *control_new(uv_loop_t *loop, int fd, const char *path, unsigned mode,
                            control_dispatch_fn dispatch, void *data, char **err);
/* Close the listener and every client; memory goes in close callbacks. */
void control_free(struct control *c);
size_t control_nclients(const struct control *c);
/* Limits, overridable for tests through FTMON_MAX_CLIENTS and
 * FTMON_IDLE_TIMEOUT_MS in the daemon's environment. */
void control_set_limits(struct control *c, size_t max_clients, uint64_t idle_ms);

/* For ctl_cmds: who is asking, and a way to answer later. */
#define CONTROL_MAX_PEER_GROUPS 64

struct control_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	/* Supplementary groups of the connecting process (SO_PEERGROUPS);
	 * ngroups < 0 when the kernel could not say. */
	int ngroups;
	gid_t groups[CONTROL_MAX_PEER_GROUPS];
};
const struct control_peer *control_client_peer(const struct control_client *cl);
/* Told once when a held client goes away (peer closed, error, output
 * cap, control_free). */
typedef void (*control_gone_fn)(struct control_client *cl, void *data);
/* Keep cl after the current request, to answer later: no further request
 * of cl is dispatched and the idle timeout does not apply until
 * control_client_release(); gone(cl, data) is called if it goes meanwhile
 * (the pointer is valid until then). */
void control_client_hold(struct control_client *cl, control_gone_fn gone, void *data);
/* End the hold: buffered requests get their turn.  gone is not called
 * after this. */
void control_client_release(struct control_client *cl);
/* Queue a reply line (taken over; must end in '\n').  Returns false if the
 * client has gone or its output is over the cap (it is then closed). */
bool control_client_send(struct control_client *cl, char *line);

#endif
