/* SPDX-License-Identifier: GPL-3.0-or-later */
/* backend.c: which backends this build has. */
#include <stdio.h>

#include "backend.h"

const struct backend_ops *
backend_lookup(int type, char *err, size_t len)
{
	switch (type) {
	case CFG_BACKEND_JACK:
		return &backend_jack_ops;
	case CFG_BACKEND_ALSA:
		return &backend_alsa_ops;
	case CFG_BACKEND_NULL:
		return &backend_null_ops;
	}
	snprintf(err, len, "backend '%s' is not built into this musicvaed", cfg_backend_name(type));
	return NULL;
}
