/* SPDX-License-Identifier: GPL-3.0-or-later */
/* notify.h: what the daemon tells its service manager (systemd's sd_notify protocol: READY, STATUS, RELOADING,
 * STOPPING, WATCHDOG) and the control socket it may hand over (socket activation). Without libsystemd, or
 * without $NOTIFY_SOCKET, every call does nothing. */
#ifndef MVD_NOTIFY_H
#define MVD_NOTIFY_H

#include <stdint.h>

/* READY=1 with a STATUS= line. */
void notify_ready(const char *status);
/* STATUS= alone (when mode, tempo or clock change). */
void notify_status(const char *status);
/* RELOADING=1 (SIGHUP); notify_ready follows when done. */
void notify_reloading(void);
/* STOPPING=1. */
void notify_stopping(void);
/* The watchdog interval in microseconds, or 0 when the service manager set none. */
uint64_t notify_watchdog_usec(void);
/* WATCHDOG=1: call only while every thread has shown it is alive. */
void notify_watchdog(void);
/* The listening control socket passed by socket activation, or -1 (none, or not a Unix stream socket). */
int notify_listen_fd(void);

#endif
