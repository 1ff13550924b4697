/*
 * control_listen: the listening side of the control socket: binding (and a
 * stale socket file), listening, accepting and refusing, and the socket's group.
 *
 * Accepting is ours, not libuv's: a uv_poll_t watches the listening fd and
 * we call accept4().  libuv's own accept path, out of descriptors, closes
 * every pending connection without a word (its uv__emfile_trick) and never
 * tells the callback, so a client would see a bare close.  We keep a
 * reserve descriptor instead: on EMFILE/ENFILE it is closed, the client is
 * accepted on the slot it frees, sent a `busy` line and closed, and the
 * reserve is opened again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "control_internal.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

/* Connections taken per wake-up: the listening fd is level-triggered, so
 * the rest wait one loop turn and a connect flood cannot hold the loop. */
#define CONTROL_ACCEPT_BATCH 64
/* Out of descriptors with no reserve to shed clients with: look again
 * after this long instead of spinning on a listening fd that stays
 * readable. */
#define CONTROL_STARVED_RETRY_MS 100
/* An episode of descriptor exhaustion ends with the first client accepted
 * this long after the last refusal (logged once each way). */
#define CONTROL_STARVED_QUIET_MS 5000

static void
control_read_peer(int fd, struct control_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	/* Unknown peers get an impossible uid, so they are never admins. */
	peer->pid = 0;
	peer->uid = (uid_t)-1;
	peer->gid = (gid_t)-1;
	peer->ngroups = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		peer->pid = cred.pid;
		peer->uid = cred.uid;
		peer->gid = cred.gid;
	}
	/* The groups the peer process really holds (Linux 4.13+), not those
	 * the user database lists: a process that dropped a group is not in
	 * it.  Too many groups to fit counts as unknown. */
	len = sizeof(peer->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer->groups, &len) == 0)
		peer->ngroups = (int)(len / sizeof(gid_t));
}

/* Root and the daemon's own user may use the reserved slots. */
static bool
control_peer_privileged(const struct control_peer *p)
{
	return p->uid == 0 || p->uid == geteuid();
}

/* Say why (a `busy` error line) and close: never leave a client hanging or
 * closed without a word.  A fresh socket's buffer holds the line, so a
 * non-blocking send either fits or the client is gone. */
static void
control_refuse(int fd, const char *why)
{
	char *msg = xasprintf("%s; try again later", why);
	char *line = proto_reply_error(NULL, PROTO_E_BUSY, msg);

	(void)send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	free(line);
	free(msg);
	close(fd);
}

/* A connection was accepted: a client, or refused over the client cap. */
static void
control_accepted(struct control *c, int fd)
{
	struct control_peer peer;

	if (c->starved && uv_now(c->server.loop) - c->starved_last_ms >= CONTROL_STARVED_QUIET_MS) {
		log_info("control: accepting clients again (%zu refused while out of descriptors)",
		         c->starved_refused);
		c->starved = false;
	}
	control_read_peer(fd, &peer);
	if (c->nclients >= c->max_clients &&
	    (!control_peer_privileged(&peer) ||
	     c->nclients >= c->max_clients + CONTROL_RESERVED_CLIENTS)) {
		char why[64];
		log_warn("control: %zu clients connected, refusing pid %ld", c->nclients,
		         (long)peer.pid);
		snprintf(why, sizeof(why), "too many clients (%zu)", c->max_clients);
		control_refuse(fd, why);
		return;
	}
	control_client_add(c, fd, &peer);
}

int
control_reserve_open(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void control_accept_later_cb(uv_timer_t *t);

/*
 * accept4() said EMFILE or ENFILE: free the reserve's slot, accept one
 * client on it, refuse it, take the slot back.  Logged once per episode.
 * Returns 0 if a client was refused (there may be more), -1 if not.
 */
static int
control_shed(struct control *c, int err)
{
	int fd;

	c->starved_last_ms = uv_now(c->server.loop);
	if (!c->starved) {
		c->starved = true;
		c->starved_refused = 0;
		log_warn("control: out of file descriptors (%s): refusing new clients as busy "
		         "until some are free",
		         strerror(err));
	}
	if (c->reserve_fd < 0 && (c->reserve_fd = control_reserve_open()) < 0) {
		uv_poll_stop(&c->accepting);
		uv_timer_start(&c->accept_later, control_accept_later_cb, CONTROL_STARVED_RETRY_MS,
		               0);
		return -1;
	}
	close(c->reserve_fd);
	fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		control_refuse(fd, "out of file descriptors");
		c->starved_refused++;
	}
	/* If another thread took the slot meanwhile, the next EMFILE waits. */
	c->reserve_fd = control_reserve_open();
	return fd >= 0 ? 0 : -1;
}

static void
control_accept_cb(uv_poll_t *p, int status, int events)
{
	struct control *c = p->data;
	int fd;

	(void)events;
	if (status < 0) {
		log_warn("control: listening socket: %s", uv_strerror(status));
		return;
	}
	for (int i = 0; i < CONTROL_ACCEPT_BATCH && !c->closing; i++) {
		fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			control_accepted(c, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE) {
			if (control_shed(c, errno) < 0)
				return;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("control: accept failed: %s", strerror(errno));
		return;
	}
}

static void
control_accept_later_cb(uv_timer_t *t)
{
	struct control *c = t->data;

	if (!c->closing)
		uv_poll_start(&c->accepting, UV_READABLE, control_accept_cb);
}

/* Listen on the server's fd and watch it for connections. */
int
control_listen(struct control *c, char **err)
{
	uv_os_fd_t fd;
	int rc;

	if ((rc = uv_fileno((uv_handle_t *)&c->server, &fd)) < 0) {
		*err = xasprintf("control socket: %s", uv_strerror(rc));
		return -1;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		*err = xasprintf("%s: listen: %s", c->path ? c->path : "control socket",
		                 strerror(errno));
		return -1;
	}
	c->listen_fd = fd;
	if ((rc = uv_poll_init(c->server.loop, &c->accepting, fd)) < 0) {
		*err = xasprintf("control socket: %s", uv_strerror(rc));
		return -1;
	}
	c->accepting.data = c;
	c->accepting_open = true;
	c->open_handles++;
	uv_poll_start(&c->accepting, UV_READABLE, control_accept_cb);
	return 0;
}

/* Remove a stale socket file left by a crash, but never steal a live one. */
static int
control_clear_stale(const char *path, char **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0
		                       : (*err = xasprintf("%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(sb.st_mode)) {
		*err = xasprintf("%s: exists and is not a socket; not replacing it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0) {
		*err = xasprintf("%s: another ftmond is already listening there", path);
		return -1;
	}
	/* Else bind() would say "address already in use", which hides what
	 * is wrong (typically a directory we may not write). */
	if (unlink(path) < 0 && errno != ENOENT) {
		*err = xasprintf("cannot replace the stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
control_bind(struct control *c, const char *path, unsigned mode, char **err)
{
	mode_t old;
	int rc;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		*err = xasprintf("%s: socket path too long", path);
		return -1;
	}
	if (control_clear_stale(path, err) < 0)
		return -1;
	/* Create the socket with no more permission than asked, so there is
	 * no window in which it is wider than `mode`. */
	old = umask(~mode & 0777);
	rc = uv_pipe_bind(&c->server, path);
	umask(old);
	if (rc < 0) {
		*err = xasprintf("%s: cannot bind: %s", path, uv_strerror(rc));
		return -1;
	}
	c->path = xstrdup(path);
	if (chmod(path, mode) < 0) {
		*err = xasprintf("%s: chmod: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The path an inherited socket is bound to, or NULL (abstract, unnamed). */
static char *
control_inherited_path(struct control *c)
{
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	size_t len = sizeof(name);

	if (uv_pipe_getsockname(&c->server, name, &len) < 0 || len == 0 || name[0] == '\0')
		return NULL;
	return xstrdup(name);
}

int
control_set_group(struct control *c, gid_t gid, char **err)
{
	char *path;
	struct stat sb;
	int rc = 0;

	*err = NULL;
	if (c->path == NULL) {
		/* systemd made it; changing it behind the unit's back would be
		 * undone at the next restart.  Already right is fine. */
		path = control_inherited_path(c);
		if (path == NULL || stat(path, &sb) < 0 || sb.st_gid != gid) {
			*err = xasprintf("%s: the socket comes from systemd; its group is set by "
			                 "the .socket unit's SocketGroup=",
			                 path ? path : "control socket");
			rc = -EOPNOTSUPP;
		}
		free(path);
		return rc;
	}
	if (chown(c->path, (uid_t)-1, gid) < 0) {
		rc = -errno;
		*err = xasprintf("%s: cannot give the socket to gid %lu: %s", c->path,
		                 (unsigned long)gid, strerror(-rc));
	}
	return rc;
}
