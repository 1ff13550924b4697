/*
 * admin: who may run mutating commands.  Root, the daemon's own user, and
 * members of admin_group.  The group (its gid and the uids of its listed
 * members, gr_mem) is looked up off the loop with uv_queue_work, because
 * NSS may be LDAP and block; admin_allows() then answers from the peer's
 * kernel credentials and that cache, never from NSS.
 *
 * Ownership: struct admin is the caller's (admin_new / admin_free); every
 * string passed in is copied.  Callbacks run on the loop.
 */
#ifndef FTMON_ADMIN_H
#define FTMON_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <uv.h>

struct admin;
struct control_peer;

/* Members beyond this many in gr_mem are ignored (a warning says so). */
#define ADMIN_MAX_MEMBERS 4096

/* A resolution finished: group (borrowed, NULL when unset), rc 0 with its
 * gid, -ENOENT when there is no such group, or another negative errno when
 * the lookup failed (then nobody but root and our own user is admin). */
typedef void (*admin_done_fn)(void *data, const char *group, int rc, gid_t gid);

struct admin *admin_new(uv_loop_t *loop);
/* A resolution still running finishes on its thread and is discarded. */
void admin_free(struct admin *a);
/* Resolve group (NULL: none) now, on the calling thread: only at start,
 * before the loop runs, where blocking delays nothing but the start.
 * Returns as admin_done_fn's rc, with *gid. */
int admin_resolve_sync(struct admin *a, const char *group, gid_t *gid);
/* Resolve group (NULL: none) on the thread pool.  Until it completes the
 * previous answer stands; then the new one is installed and done(data, ...)
 * is called, unless a later admin_resolve or admin_free superseded it. */
void admin_resolve(struct admin *a, const char *group, admin_done_fn done, void *data);
/* May p mutate?  Root, our euid, a peer whose gid or supplementary groups
 * (SO_PEERGROUPS) include the group; when the kernel could not give the
 * groups, a uid listed among the group's members.  Never blocks. */
bool admin_allows(const struct admin *a, const struct control_peer *p);

/* TEST ONLY: install a resolved group directly (uids copied). */
void admin_set_cache_for_test(struct admin *a, gid_t gid, const uid_t *members, size_t n);

#endif
