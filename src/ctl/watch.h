/* SPDX-License-Identifier: GPL-3.0-or-later */
/* watch.h: musicvaectl's live view (`musicvaectl watch`) and the roll of one bar at the prompt. */
#ifndef MVD_WATCH_H
#define MVD_WATCH_H

#include "conn.h"

#define WATCH_BARS_MAX 64       /* bars of history watch keeps */

/* `watch`: redraws on every change until SIGINT (0) or until the daemon goes away (CTL_EXIT_CONN). */
int watch_run(struct ctl_conn *c, int want);
/* The roll of the bar in a `bars` reply, on stdout (nothing when the reply holds no bar). */
void watch_show_bar(const struct ctl_reply *r);

#endif
