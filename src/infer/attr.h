/* SPDX-License-Identifier: GPL-3.0-or-later */
/* attr.h: attribute vectors ({"attributes": {"NAME": [Z numbers], ...}}) read for latent arithmetic. */
#ifndef MVD_ATTR_H
#define MVD_ATTR_H

#include <stddef.h>

/* Reads the n named vectors of size Z from path into out [n, Z]; err names file and attribute. */
int attr_load(const char *path, int Z, int n, const char *const *names, float *out, char *err, size_t errlen);

/* Reads every vector of size Z in path, in file order, at most max of them: names into names[i] (at most
 * ATTR_NAME_MAX - 1 bytes each), vectors into out [max, Z]; *n = how many. err names file and attribute. */
#define ATTR_NAME_MAX 64
int attr_load_all(const char *path, int Z, int max, char (*names)[ATTR_NAME_MAX], float *out, int *n, char *err,
    size_t errlen);

#endif
