/*
 * ctl_cmds: the control commands.  A declarative table maps each command
 * to its handler and says whether it changes state (then the peer must be
 * root, the daemon's own user, or in admin_group).  Handlers read the store
 * and ask the loop; they never reach into a source's internals.
 */
#ifndef FTMON_CTL_CMDS_H
#define FTMON_CTL_CMDS_H

#include <stddef.h>

struct daemon;
struct control_client;

/* Handle one request line from cl and queue the reply on cl. */
void ctl_cmds_dispatch(struct daemon *d, struct control_client *cl, const char *line, size_t len);

#endif
