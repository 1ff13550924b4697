/*
 * control_internal: what control.c shares with control_listen.c, nothing else
 * (control.h is the module's interface).  Both run on the loop thread; every
 * pointer handed across here is borrowed.
 */
#ifndef FTMON_CONTROL_INTERNAL_H
#define FTMON_CONTROL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "control.h"

struct control {
	control_dispatch_fn dispatch;
	void *data; /* borrowed: dispatch's */
	uv_pipe_t server;
	char *path;                     /* owned: unlinked on close when we bound it */
	struct control_client *clients; /* doubly linked list */
	size_t nclients;
	size_t nalive; /* clients not yet freed, listed or closing */
	size_t max_clients;
	uint64_t idle_ms;
	size_t max_stream;
	size_t out_total; /* unsent output of every client that is not held */
	/* Give clients with queued requests their turn: an idle handle runs
	 * once per loop iteration, after I/O has been polled, so other clients
	 * are served between turns (a 0 ms timer re-armed from its own callback
	 * would run again before any I/O on libuv < 1.45).  The timer waits
	 * while the output budget is spent. */
	uv_idle_t turn;
	uv_timer_t turn_later;
	uv_poll_t accepting;     /* the listening fd; initialised once listening */
	uv_timer_t accept_later; /* CONTROL_STARVED_RETRY_MS */
	bool accepting_open;
	int listen_fd;
	int reserve_fd; /* spent to refuse a client when out of descriptors */
	bool starved;   /* in an episode of EMFILE/ENFILE */
	uint64_t starved_last_ms;
	size_t starved_refused;
	int open_handles; /* server, turn, turn_later, accept_later, accepting */
	int closing;
};

struct control_client {
	struct control *c;
	struct control_client *prev, *next;
	uv_pipe_t pipe;
	uv_timer_t timer; /* idle timeout, or the drain deadline once dropped */
	int open_handles;
	struct buf in;
	size_t out_pending;    /* every unsent byte */
	size_t stream_pending; /* those queued while held */
	struct control_peer peer;
	control_gone_fn gone; /* set while held or pinned */
	void *gone_data;
	bool held;
	bool pinned;   /* answers still to come; requests go on (control_client_pin) */
	bool deferred; /* pinned, and a request waits for the unpin */
	bool redo;     /* the request being dispatched was handed back */
	bool closing;
	bool eof;
	bool reading;
	bool close_after_write; /* dropped: one last line, then the close */
	bool backlog;           /* complete requests wait for their turn */
};

/* control.c: take an accepted fd as a client (the fd becomes the client's). */
void control_client_add(struct control *c, int fd, const struct control_peer *peer);

/* control_listen.c: the reserve descriptor (an fd, or -1). */
int control_reserve_open(void);
/* Bind `path` with `mode`, clearing a stale socket; 0, or -1 with *err set
 * (owned by the caller). */
int control_bind(struct control *c, const char *path, unsigned mode, char **err);
/* Listen on the server's fd and watch it; 0, or -1 with *err set (owned by the caller). */
int control_listen(struct control *c, char **err);

#endif
