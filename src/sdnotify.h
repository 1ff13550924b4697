/*
 * sdnotify: the daemon's side of systemd's service protocol: readiness and
 * status notifications, the watchdog interval, and socket activation.  With
 * libsystemd (configure --with-systemd, the default) it calls sd_notify and
 * sd_listen_fds_with_names; without it, it speaks the NOTIFY_SOCKET datagram
 * protocol itself (abstract "@" addresses included) and reads LISTEN_FDS /
 * LISTEN_PID / LISTEN_FDNAMES.  No logging: callers log failures.
 */
#ifndef FTMON_SDNOTIFY_H
#define FTMON_SDNOTIFY_H

#include <stdint.h>

/* Send a state string such as "READY=1\nSTATUS=watching 3 jobs".  Returns
 * 0 when sent or when NOTIFY_SOCKET is unset, -errno on failure. */
int sdnotify_send(const char *state);
int sdnotify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog interval in milliseconds (WATCHDOG_USEC, honouring
 * WATCHDOG_PID), 0 when the watchdog is off. */
uint64_t sdnotify_watchdog_ms(void);
/* Socket activation: the passed Unix stream socket for the control socket
 * (the one named "control" if names are given, else the first), -1 when
 * the process was not socket-activated, -errno on a malformed environment
 * or a passed fd that is not a Unix stream socket.  Unsets the LISTEN_*
 * variables so children do not inherit them. */
int sdnotify_listen_fd(void);

#endif
