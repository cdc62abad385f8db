/* SPDX-License-Identifier: GPL-3.0-or-later */
/* request.c: control commands -> engine requests on the main thread (request.h): safe paths, files, models. */
#define _XOPEN_SOURCE 700      /* realpath */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "model.h"
#include "request.h"
#include "smf.h"

/* Is p the directory base or inside it? */
static int
request_inside(const char *p, const char *base)
{
	size_t n = strlen(base);

	return strncmp(p, base, n) == 0 && (p[n] == '\0' || p[n] == '/' || (n == 1 && base[0] == '/'));
}

int
request_resolve(const char *dir, const char *setting, const char *name, const char *suffix, int for_write,
    char *out, size_t len, struct proto_err *e)
{
	char base[PATH_MAX], cand[PATH_MAX + 512], real[PATH_MAX];
	size_t nl = strlen(name), sl = strlen(suffix);
	struct stat st;
	char *slash;

	if (dir[0] == '\0')
		return proto_fail(e, PROTO_ACK_PERMISSION, "no directory is configured for this command (set %s)", setting);
	if (realpath(dir, base) == NULL)
		return proto_fail(e, PROTO_ACK_NO_EXIST, "%.200s: %s", dir, strerror(errno));
	if (name[0] == '/' || strstr(name, "..") != NULL)
		return proto_fail(e, PROTO_ACK_PERMISSION, "\"%.64s\": only names inside %.150s", name, base);
	snprintf(cand, sizeof cand, "%s/%s%s", base, name, nl >= sl && strcmp(name + nl - sl, suffix) == 0 ? "" :
	    suffix);
	if (!for_write) {
		if (realpath(cand, real) == NULL)
			return proto_fail(e, PROTO_ACK_NO_EXIST, "%.64s: %s (in %.150s)", name, strerror(errno), base);
		if (!request_inside(real, base))
			return proto_fail(e, PROTO_ACK_PERMISSION, "%.64s leads outside %.150s", name, base);
		if (strlen(real) >= len)
			return proto_fail(e, PROTO_ACK_ARG, "%.64s: path too long", name);
		strcpy(out, real);
		return 0;
	}
	if (lstat(cand, &st) == 0 && !S_ISREG(st.st_mode))
		return proto_fail(e, PROTO_ACK_PERMISSION, "%.64s exists and is not a regular file", name);
	slash = strrchr(cand, '/');
	*slash = '\0';
	if (realpath(cand, real) == NULL)
		return proto_fail(e, PROTO_ACK_NO_EXIST, "%.64s: %s", name, strerror(errno));
	if (!request_inside(real, base))
		return proto_fail(e, PROTO_ACK_PERMISSION, "%.64s leads outside %.150s", name, base);
	if (strlen(real) + strlen(slash + 1) + 2 > len)
		return proto_fail(e, PROTO_ACK_ARG, "%.64s: path too long", name);
	snprintf(out, len, "%s/%s", real, slash + 1);
	return 0;
}

int
request_read_z(const char *path, float **z, int *n, struct proto_err *e)
{
	json_error_t je;
	json_t *root, *v;
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int rc = -1;

	*z = NULL;
	if ((root = json_load_file(path, 0, &je)) == NULL)
		return proto_fail(e, PROTO_ACK_ARG, "%.64s:%d:%d: %.120s", name, je.line, je.column, je.text);
	v = json_is_object(root) ? json_object_get(root, "z") : root;
	if (json_is_array(v) && json_is_array(json_array_get(v, 0)))
		v = json_array_get(v, 0);       /* the first z of a list */
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 65536) {
		proto_fail(e, PROTO_ACK_ARG, "%.64s: expected {\"z\": [[numbers]]} as musicvae encode writes", name);
		goto out;
	}
	*n = (int)json_array_size(v);
	if ((*z = malloc(sizeof(float) * (size_t)*n)) == NULL) {
		proto_fail(e, PROTO_ACK_SYSTEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < *n; i++) {
		json_t *x = json_array_get(v, (size_t)i);
		if (!json_is_number(x) || !isfinite(json_number_value(x))) {
			proto_fail(e, PROTO_ACK_ARG, "%.64s: z[%d] is not a finite number", name, i);
			free(*z);
			*z = NULL;
			goto out;
		}
		(*z)[i] = (float)json_number_value(x);
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static int
request_load_midi(const struct cfg *c, const struct proto_cmd *cmd, struct seq **out, struct proto_err *e)
{
	char path[PATH_MAX], err[512];

	if (request_resolve(c->midi_dir, "control.midi_dir", cmd->arg, "", 0, path, sizeof path, e) < 0)
		return -1;
	if ((*out = calloc(1, sizeof **out)) == NULL)
		return proto_fail(e, PROTO_ACK_SYSTEM, "out of memory");
	seq_init(*out);
	if (smf_read(path, *out, err, sizeof err) < 0) {
		const char *rel = strrchr(err, '/');
		return proto_fail(e, PROTO_ACK_ARG, "%.200s", rel ? rel + 1 : err);
	}
	return 0;
}

/* The model NAME in the first model directory that has it (a checkpoint directory with config.json). */
static int
request_load_model(const struct cfg *c, const char *name, struct model **out, struct proto_err *e)
{
	char path[PATH_MAX], cfgpath[PATH_MAX + 16], err[1024];

	for (int i = 0; i < c->n_model_dirs; i++) {
		if (request_resolve(c->model_dirs[i], "control.model_dirs", name, "", 0, path, sizeof path, e) < 0) {
			if (e->code == PROTO_ACK_PERMISSION)
				return -1;
			continue;
		}
		snprintf(cfgpath, sizeof cfgpath, "%s/config.json", path);
		if (access(cfgpath, R_OK) != 0)
			continue;
		if ((*out = calloc(1, sizeof **out)) == NULL)
			return proto_fail(e, PROTO_ACK_SYSTEM, "out of memory");
		if (model_open(*out, path, 1, err, sizeof err) < 0) {
			free(*out);
			*out = NULL;
			return proto_fail(e, PROTO_ACK_ARG, "%.240s", err);
		}
		codec_set_drums_js(&(*out)->vae.codec, c->js_drums);
		return 0;
	}
	return proto_fail(e, PROTO_ACK_NO_EXIST, "no model \"%.64s\" in the model directories (control.model_dirs)",
	    name);
}

static int
request_one(const struct cfg *c, struct engine_ctl *r, int i, struct proto_err *e)
{
	const struct proto_cmd *cmd = &r->cmd[i];
	char path[PATH_MAX];

	switch (cmd->op) {
	case PROTO_LOAD:
		return request_load_midi(c, cmd, &r->seq[i], e);
	case PROTO_SLOT_LOAD:
		if (request_resolve(c->slot_dir, "control.slot_dir", cmd->arg, ".json", 0, path, sizeof path, e) < 0)
			return -1;
		return request_read_z(path, &r->z[i], &r->nz[i], e);
	case PROTO_SLOT_SAVE:
		if (request_resolve(c->slot_dir, "control.slot_dir", cmd->arg, ".json", 1, path, sizeof path, e) < 0)
			return -1;
		if ((r->path[i] = strdup(path)) == NULL)
			return proto_fail(e, PROTO_ACK_SYSTEM, "out of memory");
		return 0;
	case PROTO_MODEL:
		return request_load_model(c, cmd->arg, &r->model, e);
	default:
		return 0;
	}
}

struct engine_ctl *
request_build(const struct cfg *c, uint64_t id, const struct proto_cmd *cmds, int n, int list_ok, int *index,
    struct proto_err *e)
{
	struct engine_ctl *r = calloc(1, sizeof *r);

	*index = 0;
	if (r == NULL || n > PROTO_LIST_MAX) {
		free(r);
		proto_fail(e, PROTO_ACK_SYSTEM, r ? "too many commands" : "out of memory");
		return NULL;
	}
	r->id = id;
	r->n = n;
	r->list_ok = list_ok;
	memcpy(r->cmd, cmds, sizeof *cmds * (size_t)n);
	for (int i = 0; i < n; i++)
		if (request_one(c, r, i, e) < 0) {
			*index = i;
			engine_ctl_free(r);
			return NULL;
		}
	return r;
}
