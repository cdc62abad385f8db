/* SPDX-License-Identifier: GPL-3.0-or-later */
/* notify.c: the sd_notify side of the daemon (notify.h), a no-op without libsystemd. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"

#ifdef HAVE_SYSTEMD
void
notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void
notify_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

void
notify_reloading(void)
{
	sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

uint64_t
notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

void
notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

int
notify_listen_fd(void)
{
	int n = sd_listen_fds(1);

	if (n != 1 || sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0)
		return -1;
	return SD_LISTEN_FDS_START;
}
#else
void notify_ready(const char *status) { (void)status; }
void notify_status(const char *status) { (void)status; }
void notify_reloading(void) { }
void notify_stopping(void) { }
uint64_t notify_watchdog_usec(void) { return 0; }
void notify_watchdog(void) { }
int notify_listen_fd(void) { return -1; }
#endif
