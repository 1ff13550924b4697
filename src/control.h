/*
 * control: the control socket's transport.  A Unix stream socket (bound
 * here, or inherited through socket activation) served on the loop: line
 * framing (1 MiB per request), a cap on clients, capped per-client output,
 * an idle timeout, and the peer's credentials.  What a request means is the
 * dispatch callback's business; a client that stops reading never stalls
 * the loop or the other clients.
 *
 * Lifetimes: struct control is owned by whoever called control_new() and
 * ends with control_free().  A struct control_client is owned by control;
 * the dispatch callback borrows it for the duration of the call, and may
 * keep it longer only under control_client_hold(), until its gone()
 * callback runs or it calls control_client_release().  After either, the
 * pointer must be forgotten.
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
/* Requests handled per client before the others get their turn; more for
 * a pinned client, whose requests are cheap until their common answer (a
 * pipelined `log` stream: one transaction per turn for all of them). */
#define CONTROL_BATCH        4
#define CONTROL_PINNED_BATCH 64
/* All clients' unsent replies together; past it no request is handled
 * until some output drains.  Output sent to held (streaming) clients does
 * not count: it has its own cap per client. */
#define CONTROL_MAX_OUTPUT_TOTAL (256u * 1024 * 1024)
#define CONTROL_MAX_OUTPUT       (64u * 1024 * 1024)
/* Unsent output of one held client past which it is dropped. */
#define CONTROL_MAX_STREAM_OUTPUT (4u * 1024 * 1024)
#define CONTROL_IDLE_TIMEOUT_MS   60000
/* How long a dropped client's last error line may take to go out. */
#define CONTROL_DRAIN_MS 5000

/* One complete request line (without the newline, not NUL-terminated,
 * borrowed for the call) from cl.  data is control_new()'s. */
typedef void (*control_dispatch_fn)(void *data, struct control_client *cl, const char *line,
                                    size_t len);
/* cl went away during a hold; called once, on the loop.  cl must not be
 * used after this returns (control_client_send() on it inside the call
 * returns false). */
typedef void (*control_gone_fn)(struct control_client *cl, void *data);

/* Start serving on loop.  fd >= 0 is an inherited listening socket;
 * otherwise bind path (replacing a stale socket file, refusing a live one)
 * with mode.  dispatch(data, ...) gets every request; data is borrowed and
 * must outlive the control.  Returns NULL with *err set (malloc'd). */
struct control *control_new(uv_loop_t *loop, int fd, const char *path, unsigned mode,
                            control_dispatch_fn dispatch, void *data, char **err);
/* Close the listener and every client (held clients get gone() first);
 * memory goes in close callbacks, so the loop must run afterwards. */
void control_free(struct control *c);
size_t control_nclients(const struct control *c);
/* Limits, overridable for tests through FTMON_MAX_CLIENTS and
 * FTMON_IDLE_TIMEOUT_MS in the daemon's environment; 0 keeps a value. */
void control_set_limits(struct control *c, size_t max_clients, uint64_t idle_ms);
/* The per-client cap on a held client's unsent output (default
 * CONTROL_MAX_STREAM_OUTPUT; FTMON_MAX_STREAM_OUTPUT for tests); 0 keeps. */
void control_set_stream_limit(struct control *c, size_t bytes);
/* Give the socket file to group gid so its members can connect.  Only for
 * a socket we bound: an inherited one is refused (-EOPNOTSUPP, *err says
 * to use the .socket unit's SocketGroup=) unless it already has that
 * group.  Returns 0, or a negative errno with *err set (malloc'd). */
int control_set_group(struct control *c, gid_t gid, char **err);

/* For the command layer: who is asking, and a way to answer later. */
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
/* Borrowed; valid as long as cl is. */
const struct control_peer *control_client_peer(const struct control_client *cl);
/* Queue a reply line (taken over, freed in every case; must end in '\n').
 * Returns false if the client has gone (or is being dropped) or this line
 * put its output over the cap: the client is then closed, or for a held
 * client dropped with a final "overflow" error line, and gone() is called
 * before this returns. */
bool control_client_send(struct control_client *cl, char *line);
/* Keep cl after the current request: no further requests of cl are
 * dispatched (they stay buffered, the line cap still applies) and the idle
 * timeout no longer applies, until control_client_release(); gone(cl, data)
 * is called exactly once if the client goes away meanwhile (peer closed,
 * error, output cap, control_free).  A peer that only shuts down its
 * sending side is not gone: it still gets its replies.  If cl is already
 * gone, gone() is called before this returns, so set data up first. */
void control_client_hold(struct control_client *cl, control_gone_fn gone, void *data);
/* End the hold: the client's buffered requests get their turn and its idle
 * timer runs again.  gone is not called after this.  No-op if not held. */
void control_client_release(struct control_client *cl);

/* Pipelined answers (a stream of requests each answered later, in order,
 * like `log`): while cl is pinned its next requests are still dispatched,
 * but the client is kept until control_client_unpin(), after its peer
 * shuts down its sending side too, and gone(cl, data) is called exactly
 * once if it goes away meanwhile.  Output and the idle timeout work as for
 * any client.  A client is either held or pinned, not both: pin only a
 * client that is neither (cl already gone: gone() is called before this
 * returns). */
void control_client_pin(struct control_client *cl, control_gone_fn gone, void *data);
/* From inside the dispatch of a pinned client's request: hand the request
 * back.  It and the ones after it are dispatched (again) once the client is
 * unpinned: for a request that must come after the pinned ones' answers. */
void control_client_defer(struct control_client *cl);
/* End the pin; gone is not called after this.  No-op if not pinned. */
void control_client_unpin(struct control_client *cl);

#endif
