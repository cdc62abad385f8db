/* SPDX-License-Identifier: GPL-3.0-or-later */
/* attr.c: attribute-vector files (written by `musicvae attributes`), validated against the model's z size. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "attr.h"

/* One vector of Z finite numbers into out. */
static int
attr_vector(const char *path, const char *name, const json_t *v, int Z, float *out, char *err, size_t len)
{
	if (!json_is_array(v) || (int)json_array_size(v) != Z) {
		snprintf(err, len, "%s: attributes.%s: %s", path, name, v == NULL ? "no such attribute" :
		    "expected an array of the model's z size");
		return -1;
	}
	for (int i = 0; i < Z; i++) {
		json_t *x = json_array_get(v, i);
		if (!json_is_number(x) || !isfinite(json_number_value(x))) {
			snprintf(err, len, "%s: attributes.%s[%d]: not a finite number", path, name, i);
			return -1;
		}
		out[i] = (float)json_number_value(x);
	}
	return 0;
}

static json_t *
attr_open(const char *path, int Z, json_t **attrs, char *err, size_t len)
{
	json_error_t je;
	json_t *root;

	if ((root = json_load_file(path, 0, &je)) == NULL) {
		snprintf(err, len, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		return NULL;
	}
	*attrs = json_object_get(root, "attributes");
	if (!json_is_object(*attrs)) {
		snprintf(err, len, "%s: expected {\"attributes\": {\"NAME\": [%d numbers], ...}}", path, Z);
		json_decref(root);
		return NULL;
	}
	return root;
}

int
attr_load_all(const char *path, int Z, int max, char (*names)[ATTR_NAME_MAX], float *out, int *n, char *err,
    size_t len)
{
	json_t *attrs, *root = attr_open(path, Z, &attrs, err, len), *v;
	const char *key;

	*n = 0;
	if (root == NULL)
		return -1;
	json_object_foreach(attrs, key, v) {
		if (*n == max || strlen(key) >= ATTR_NAME_MAX) {
			snprintf(err, len, "%s: %s", path, *n == max ? "too many attribute vectors" :
			    "an attribute name longer than 63 bytes");
			json_decref(root);
			return -1;
		}
		if (attr_vector(path, key, v, Z, out + (size_t)*n * Z, err, len) < 0) {
			json_decref(root);
			return -1;
		}
		snprintf(names[(*n)++], ATTR_NAME_MAX, "%s", key);
	}
	json_decref(root);
	return 0;
}

int
attr_load(const char *path, int Z, int n, const char *const *names, float *out, char *err, size_t len)
{
	json_t *attrs, *root = attr_open(path, Z, &attrs, err, len);
	int rc = 0;

	if (root == NULL)
		return -1;
	for (int k = 0; k < n && rc == 0; k++)
		rc = attr_vector(path, names[k], json_object_get(attrs, names[k]), Z, out + (size_t)k * Z, err, len);
	json_decref(root);
	return rc;
}
