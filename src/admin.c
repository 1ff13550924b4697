/*
 * admin: admin_group membership, resolved off the loop (see admin.h).
 *
 * A resolution is a struct admin_work that owns its copy of the group name
 * and its result.  The work callback, on a pool thread, touches nothing
 * else, so the admin may be freed or the work superseded meanwhile: the
 * loop side only clears w->a, and the after-work callback then drops the
 * result.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "control.h"
#include "log.h"
#include "xmalloc.h"

/* getgrnam_r/getpwnam_r buffers grow up to this (a group of thousands). */
#define ADMIN_MAX_BUF (4u * 1024 * 1024)

struct admin_cache {
	bool has_gid;
	gid_t gid;
	uid_t *members; /* owned: uids of the names in gr_mem */
	size_t nmembers;
	bool truncated; /* gr_mem had more than ADMIN_MAX_MEMBERS */
};

struct admin_work {
	uv_work_t req;
	struct admin *a; /* NULL once superseded or freed: drop the result */
	char *group;     /* owned; NULL for none */
	admin_done_fn done;
	void *data;
	int rc;                   /* written by the worker */
	struct admin_cache cache; /* written by the worker */
};

struct admin {
	uv_loop_t *loop;
	struct admin_cache cache;
	struct admin_work *pending; /* the newest resolution, or NULL */
};

static void
admin_cache_clear(struct admin_cache *c)
{
	free(c->members);
	memset(c, 0, sizeof(*c));
}

/* The uid of user name, or -ENOENT.  Off the loop. */
static int
admin_lookup_uid(const char *name, uid_t *uid)
{
	struct passwd pw, *res = NULL;
	size_t size = 1024;
	char *buf = NULL;
	int rc;

	do {
		size *= 2;
		buf = xrealloc(buf, size);
		rc = getpwnam_r(name, &pw, buf, size, &res);
	} while (rc == ERANGE && size < ADMIN_MAX_BUF);
	if (rc == 0 && res != NULL)
		*uid = pw.pw_uid;
	free(buf);
	return rc == 0 && res != NULL ? 0 : -ENOENT;
}

static void
admin_lookup_members(char **names, struct admin_cache *out)
{
	size_t n = 0;

	while (names[n] != NULL && n < ADMIN_MAX_MEMBERS)
		n++;
	out->truncated = names[n] != NULL;
	out->members = xcalloc(n + 1, sizeof(uid_t));
	for (size_t i = 0; i < n; i++)
		if (admin_lookup_uid(names[i], &out->members[out->nmembers]) == 0)
			out->nmembers++;
}

/* Look group up (NULL: none) into out.  Blocks on NSS: never on the loop
 * once it runs. */
static int
admin_lookup(const char *group, struct admin_cache *out)
{
	struct group gr, *res = NULL;
	size_t size = 2048;
	char *buf = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (group == NULL)
		return 0;
	do {
		size *= 2;
		buf = xrealloc(buf, size);
		rc = getgrnam_r(group, &gr, buf, size, &res);
	} while (rc == ERANGE && size < ADMIN_MAX_BUF);
	/* Several error values mean "not found" (getgrnam_r(3)). */
	if ((rc == 0 && res == NULL) || rc == ENOENT || rc == ESRCH)
		rc = -ENOENT;
	else if (rc != 0)
		rc = -rc;
	else {
		out->has_gid = true;
		out->gid = gr.gr_gid;
		admin_lookup_members(gr.gr_mem, out);
	}
	free(buf);
	return rc;
}

/* Replace the answer with next (taken over; next is left empty). */
static void
admin_install(struct admin *a, struct admin_cache *next, const char *group)
{
	if (next->truncated)
		log_warn("admin_group %s lists more than %d members; the rest are ignored when "
		         "a client's groups are unknown",
		         group, ADMIN_MAX_MEMBERS);
	admin_cache_clear(&a->cache);
	a->cache = *next;
	memset(next, 0, sizeof(*next));
}

static void
admin_work_cb(uv_work_t *req)
{
	struct admin_work *w = req->data;

	w->rc = admin_lookup(w->group, &w->cache);
}

static void
admin_after_work_cb(uv_work_t *req, int status)
{
	struct admin_work *w = req->data;
	struct admin *a = w->a;

	if (a != NULL && status == 0) {
		a->pending = NULL;
		admin_install(a, &w->cache, w->group);
		w->done(w->data, w->group, w->rc, a->cache.gid);
	}
	admin_cache_clear(&w->cache);
	free(w->group);
	free(w);
}

/* Forget the running resolution: its thread finishes alone. */
static void
admin_orphan_pending(struct admin *a)
{
	if (a->pending == NULL)
		return;
	a->pending->a = NULL;
	uv_cancel((uv_req_t *)&a->pending->req);
	a->pending = NULL;
}

struct admin *
admin_new(uv_loop_t *loop)
{
	struct admin *a = xcalloc(1, sizeof(*a));

	a->loop = loop;
	return a;
}

void
admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	admin_orphan_pending(a);
	admin_cache_clear(&a->cache);
	free(a);
}

int
admin_resolve_sync(struct admin *a, const char *group, gid_t *gid)
{
	struct admin_cache next;
	int rc;

	admin_orphan_pending(a);
	rc = admin_lookup(group, &next);
	admin_install(a, &next, group);
	*gid = a->cache.gid;
	return rc;
}

void
admin_resolve(struct admin *a, const char *group, admin_done_fn done, void *data)
{
	struct admin_work *w = xcalloc(1, sizeof(*w));
	int rc;

	admin_orphan_pending(a);
	w->a = a;
	w->group = group ? xstrdup(group) : NULL;
	w->done = done;
	w->data = data;
	w->req.data = w;
	if ((rc = uv_queue_work(a->loop, &w->req, admin_work_cb, admin_after_work_cb)) < 0) {
		/* Only with a broken loop; keep the old answer and say so. */
		log_err("admin_group %s: cannot resolve it: %s", group ? group : "(none)",
		        uv_strerror(rc));
		free(w->group);
		free(w);
		return;
	}
	a->pending = w;
}

bool
admin_allows(const struct admin *a, const struct control_peer *p)
{
	const struct admin_cache *c = &a->cache;

	if (p->uid == 0 || p->uid == geteuid())
		return true;
	if (!c->has_gid)
		return false;
	if (p->gid == c->gid)
		return true;
	/* The groups the process holds beat what the user database lists: a
	 * process that dropped the group is not in it. */
	if (p->ngroups >= 0) {
		for (int i = 0; i < p->ngroups; i++)
			if (p->groups[i] == c->gid)
				return true;
		return false;
	}
	for (size_t i = 0; i < c->nmembers; i++)
		if (c->members[i] == p->uid)
			return true;
	return false;
}

void
admin_set_cache_for_test(struct admin *a, gid_t gid, const uid_t *members, size_t n)
{
	struct admin_cache next = {.has_gid = true, .gid = gid, .nmembers = n};

	next.members = xcalloc(n + 1, sizeof(uid_t));
	if (n > 0)
		memcpy(next.members, members, n * sizeof(uid_t));
	admin_install(a, &next, "test");
}
