/*
 * test_admin: admin_allows() over synthetic peers and a synthetic cache,
 * and the off-loop resolution on a private loop: a real group, a missing
 * one, the previous answer standing until the new one is in, and
 * admin_free while a resolution is running.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "admin.h"
#include "control.h"
#include "log.h"
#include "tap.h"

#define ADMIN_GID  4242
#define OTHER_UID  54321 /* neither root nor us nor a member */
#define MEMBER_UID 54322

static uv_loop_t test_loop;
static int test_done_calls, test_done_rc;
static gid_t test_done_gid;

static struct control_peer
test_peer(uid_t uid, gid_t gid, int ngroups, gid_t g0, gid_t g1)
{
	struct control_peer p = {.pid = 1, .uid = uid, .gid = gid, .ngroups = ngroups};

	p.groups[0] = g0;
	p.groups[1] = g1;
	return p;
}

static void
test_synthetic(void)
{
	struct admin *a = admin_new(&test_loop);
	uid_t members[] = {7, MEMBER_UID};
	struct control_peer p;

	p = test_peer(0, 0, 0, 0, 0);
	ok(admin_allows(a, &p), "root may, even without admin_group");
	p = test_peer(geteuid(), 1, 0, 0, 0);
	ok(admin_allows(a, &p), "so may the daemon's own user");
	p = test_peer(OTHER_UID, ADMIN_GID, -1, 0, 0);
	ok(!admin_allows(a, &p), "without admin_group, nobody else");
	p = test_peer((uid_t)-1, (gid_t)-1, -1, 0, 0);
	ok(!admin_allows(a, &p), "an unknown peer is nobody");

	admin_set_cache_for_test(a, ADMIN_GID, members, 2);
	p = test_peer(OTHER_UID, ADMIN_GID, 0, 0, 0);
	ok(admin_allows(a, &p), "primary gid is the admin group");
	p = test_peer(OTHER_UID, 100, 2, 5, ADMIN_GID);
	ok(admin_allows(a, &p), "a supplementary group is the admin group");
	p = test_peer(OTHER_UID, 100, 2, 5, 6);
	ok(!admin_allows(a, &p), "other groups are not");
	p = test_peer(MEMBER_UID, 100, 1, 5, ADMIN_GID);
	ok(!admin_allows(a, &p), "a listed member whose process dropped the group is not");
	p = test_peer(MEMBER_UID, 100, -1, 0, 0);
	ok(admin_allows(a, &p), "groups unknown: a listed member is");
	p = test_peer(OTHER_UID, 100, -1, 0, 0);
	ok(!admin_allows(a, &p), "groups unknown: anyone else is not");
	p = test_peer((uid_t)-1, (gid_t)-1, -1, 0, 0);
	ok(!admin_allows(a, &p), "an unknown peer is still nobody");
	admin_free(a);
}

static void
test_done_cb(void *data, const char *group, int rc, gid_t gid)
{
	test_done_calls++;
	test_done_rc = rc;
	test_done_gid = gid;
}

static void
test_resolve(void)
{
	struct admin *a = admin_new(&test_loop);
	struct control_peer p = test_peer(OTHER_UID, ADMIN_GID, 0, 0, 0);
	struct control_peer p0 = test_peer(OTHER_UID, 0, 0, 0, 0);
	gid_t gid = 99;

	is_int(admin_resolve_sync(a, "ftmon-no-such-group-x", &gid), -ENOENT,
	       "sync: a missing group is -ENOENT");
	is_int(admin_resolve_sync(a, "root", &gid), 0, "sync: the root group resolves");
	is_int(gid, 0, "to gid 0");
	ok(admin_allows(a, &p0), "and a gid-0 peer is then admin");

	admin_set_cache_for_test(a, ADMIN_GID, NULL, 0);
	admin_resolve(a, "ftmon-no-such-group-x", test_done_cb, NULL);
	ok(admin_allows(a, &p), "the previous answer stands while a resolution runs");
	uv_run(&test_loop, UV_RUN_DEFAULT);
	is_int(test_done_calls, 1, "done is called once, on the loop");
	is_int(test_done_rc, -ENOENT, "with -ENOENT for a missing group");
	ok(!admin_allows(a, &p), "and then the old group no longer counts");

	admin_resolve(a, "root", test_done_cb, NULL);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	is_int(test_done_calls, 2, "done again");
	ok(test_done_rc == 0 && test_done_gid == 0, "root resolves off the loop to gid 0");
	ok(admin_allows(a, &p0), "and counts");

	/* Superseded: only the later one reports. */
	admin_resolve(a, "ftmon-no-such-group-x", test_done_cb, NULL);
	admin_resolve(a, NULL, test_done_cb, NULL);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	is_int(test_done_calls, 3, "a superseded resolution does not report");
	ok(test_done_rc == 0 && !admin_allows(a, &p0), "admin_group unset: nobody but root");

	/* Freed while the lookup may still run: its result goes nowhere. */
	admin_resolve(a, "root", test_done_cb, NULL);
	admin_free(a);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	is_int(test_done_calls, 3, "admin_free while resolving: done is never called");
}

int
main(void)
{
	log_set_level(LOG_LEVEL_ERR);
	if (uv_loop_init(&test_loop) < 0) {
		printf("Bail out! uv_loop_init\n");
		return 1;
	}
	test_synthetic();
	test_resolve();
	is_int(uv_loop_close(&test_loop), 0, "nothing left on the loop");
	return tap_done();
}
