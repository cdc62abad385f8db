/* SPDX-License-Identifier: GPL-3.0-or-later */
/* attr.c: attribute-vector files (written by `musicvae attributes`), validated against the model's z size. */
#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "attr.h"

int
attr_load(const char *path, int Z, int n, const char *const *names, float *out, char *err, size_t len)
{
	json_error_t je;
	json_t *root, *attrs;
	int rc = -1;

	if ((root = json_load_file(path, 0, &je)) == NULL) {
		snprintf(err, len, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		return -1;
	}
	attrs = json_object_get(root, "attributes");
	if (!json_is_object(attrs)) {
		snprintf(err, len, "%s: expected {\"attributes\": {\"NAME\": [%d numbers], ...}}", path, Z);
		goto out;
	}
	for (int k = 0; k < n; k++) {
		json_t *v = json_object_get(attrs, names[k]);
		if (!json_is_array(v) || (int)json_array_size(v) != Z) {
			snprintf(err, len, "%s: attributes.%s: %s", path, names[k], v == NULL ?
			    "no such attribute" : "expected an array of the model's z size");
			goto out;
		}
		for (int i = 0; i < Z; i++) {
			json_t *x = json_array_get(v, i);
			if (!json_is_number(x) || !isfinite(json_number_value(x))) {
				snprintf(err, len, "%s: attributes.%s[%d]: not a finite number", path, names[k], i);
				goto out;
			}
			out[(size_t)k * Z + i] = (float)json_number_value(x);
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
