/* SPDX-License-Identifier: GPL-3.0-or-later */
/* attr.h: attribute vectors ({"attributes": {"NAME": [Z numbers], ...}}) read for latent arithmetic. */
#ifndef MVD_ATTR_H
#define MVD_ATTR_H

#include <stddef.h>

/* Reads the n named vectors of size Z from path into out [n, Z]; err names file and attribute. */
int attr_load(const char *path, int Z, int n, const char *const *names, float *out, char *err, size_t errlen);

#endif
