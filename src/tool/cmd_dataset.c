/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd_dataset.c: `musicvae dataset`: its options, file lists, data/sources.tsv, the per-package report. */
#define _XOPEN_SOURCE 700      /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "dataset.h"

/* One row of data/sources.tsv: path (relative to the file's directory), package, version, licence, kind. */
struct dataset_row {
	char *path;             /* as written in the table */
	char *file;             /* path to open */
	char *key;              /* realpath(file), or file when it does not exist */
	char *package, *licence, *kind;
};

struct dataset_tab {
	struct dataset_row *rows;       /* [n] */
	size_t n, cap;
};

struct dataset_cli {
	struct dataset_opts o;
	const char *out, *sources, *list, *info;
	int quiet, valid_kinds_given;
	char cap_kind[256];     /* --cap's KIND */
	char **files;           /* [n_files] owned */
	int n_files, cap_files;
};

static void
dataset_usage(FILE *f)
{
	fputs("usage: musicvae dataset --kind melody|drums|groove [-o OUT.ds] [--sources sources.tsv] [OPTIONS]\n"
	    "                        (FILES... | --list FILE)\n"
	    "       musicvae dataset --info FILE.ds\n"
	    "  --sources TSV        data/sources.tsv of data/fetch: package and licence of each file; alone, it\n"
	    "                       also lists the files (all its rows)\n"
	    "  --list FILE          files to read, one per line or the first column of a TSV (relative paths:\n"
	    "                       to the current directory, else to FILE's directory)\n"
	    "  --kind groove        drums with each hit's velocity and micro-timing (GrooVAE; files whose tempo\n"
	    "                       changes are skipped)\n"
	    "  --steps N            window length in steps, a multiple of 16 (32; 64 = 4 bars)\n"
	    "  --pitch-classes roland  drums, groove: Magenta's Roland classes (the Groove MIDI Dataset's kit:\n"
	    "                       hi-hat edges 22/26, toms 43/58 low, 45/47 mid, 48/50 high) instead of the\n"
	    "                       defaults; a model trained on it writes them into its config.json\n"
	    "  --min-notes N        least onsets / drum hits per window (2)\n"
	    "  --min-pitches N      least distinct pitches per melody window (1)\n"
	    "  --transpose LO:HI    train melody transpositions in semitones (-6:5; 0:0 = none)\n"
	    "  --valid-percent P    validation share of the source files (10)\n"
	    "  --valid-kinds LIST   only sources of these kinds (comma list of sources.tsv's column 5) may\n"
	    "                       validate; the others always train (default with --sources: midi; else all)\n"
	    "  --valid-distance D   drop validation windows within Hamming distance D (steps whose token\n"
	    "                       differs) of any train window, transposed ones included (2; 0: exact copies)\n"
	    "  --cap KIND:PERCENT   train windows of sources of KIND at most PERCENT %% of all train windows\n"
	    "                       (after transposition; the lowest token hashes kept)\n"
	    "  --one-line           melody: one top line over all instruments (default: one per instrument)\n"
	    "  --programs LO:HI     melody: only notes with these programs (0:127)\n"
	    "  --valid-programs LO:HI  melody: validation files give only notes with these programs (as\n"
	    "                       --programs): train on more instruments, measure on the same lines\n"
	    "  -q, --quiet          no per-package table\n", f);
}

static char *
dataset_join(const char *dir, const char *path)
{
	size_t n = strlen(dir) + strlen(path) + 2;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s/%s", dir, path);
	return s;
}

/* Directory part of path ("." when none), malloc'd. */
static char *
dataset_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static char *
dataset_key(const char *file)
{
	char *r = realpath(file, NULL);

	return r != NULL ? r : strdup(file);
}

/* ---- sources.tsv -------------------------------------------------------------------------- */

static void
dataset_tab_free(struct dataset_tab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->rows[i].path);
		free(t->rows[i].file);
		free(t->rows[i].key);
		free(t->rows[i].package);
		free(t->rows[i].licence);
		free(t->rows[i].kind);
	}
	free(t->rows);
	memset(t, 0, sizeof *t);
}

static int
dataset_tab_add(struct dataset_tab *t, const char *dir, char **f)
{
	struct dataset_row *r;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		if ((r = realloc(t->rows, cap * sizeof *r)) == NULL)
			return -1;
		t->rows = r;
		t->cap = cap;
	}
	r = &t->rows[t->n++];
	memset(r, 0, sizeof *r);
	r->path = strdup(f[0]);
	r->file = f[0][0] == '/' ? strdup(f[0]) : dataset_join(dir, f[0]);
	r->package = strdup(f[1]);
	r->licence = strdup(f[3]);
	r->kind = strdup(f[4]);
	if (r->path == NULL || r->file == NULL || r->package == NULL || r->licence == NULL || r->kind == NULL ||
	    (r->key = dataset_key(r->file)) == NULL)
		return -1;
	return 0;
}

/* Splits line at tabs into at most n fields (the line is modified); returns how many. */
static int
dataset_fields(char *line, char **f, int n)
{
	int k = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (k < n) {
		f[k++] = line;
		if ((line = strchr(line, '\t')) == NULL)
			break;
		*line++ = '\0';
	}
	return k;
}

static int
dataset_tab_read(struct dataset_tab *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *dir = dataset_dirname(path), *fl[5];
	size_t cap = 0;
	long lineno = 0;
	int r = -1;

	if (f == NULL || dir == NULL) {
		fprintf(stderr, "musicvae dataset: %s: %s\n", path, f == NULL ? strerror(errno) : "out of memory");
		goto out;
	}
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, "\r\n")] == '\0' || strncmp(line, "path\t", 5) == 0)
			continue;
		if (dataset_fields(line, fl, 5) < 5) {
			fprintf(stderr, "musicvae dataset: %s:%ld: expected 5 tab-separated fields (path, package, "
			    "version, licence, kind)\n", path, lineno);
			goto out;
		}
		if (dataset_tab_add(t, dir, fl) == -1) {
			fprintf(stderr, "musicvae dataset: %s: out of memory\n", path);
			goto out;
		}
	}
	r = 0;
out:
	free(line);
	free(dir);
	if (f != NULL)
		fclose(f);
	return r;
}

static int
dataset_row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dataset_row *)a)->key, ((const struct dataset_row *)b)->key);
}

static const struct dataset_row *
dataset_tab_find(const struct dataset_tab *t, const char *file)
{
	struct dataset_row want = { .key = dataset_key(file) };
	const struct dataset_row *r = NULL;

	if (want.key != NULL && t->n > 0)
		r = bsearch(&want, t->rows, t->n, sizeof *t->rows, dataset_row_cmp);
	free(want.key);
	return r;
}

/* ---- arguments ---------------------------------------------------------------------------- */

static int
dataset_add_file(struct dataset_cli *c, const char *path, size_t len)
{
	if (c->n_files == c->cap_files) {
		int cap = c->cap_files ? 2 * c->cap_files : 64;
		char **p = realloc(c->files, (size_t)cap * sizeof *p);
		if (p == NULL)
			return -1;
		c->files = p;
		c->cap_files = cap;
	}
	if ((c->files[c->n_files] = strndup(path, len)) == NULL)
		return -1;
	c->n_files++;
	return 0;
}

/* --list: one path per line (first column of a TSV; a "path" header is skipped). */
static int
dataset_read_list(struct dataset_cli *c, const char *list)
{
	FILE *f = fopen(list, "r");
	char *line = NULL, *dir = dataset_dirname(list), *fl[1];
	size_t cap = 0;
	int r = -1;

	if (f == NULL || dir == NULL) {
		fprintf(stderr, "musicvae dataset: %s: %s\n", list, f == NULL ? strerror(errno) : "out of memory");
		goto out;
	}
	while (getline(&line, &cap, f) != -1) {
		char *p, *joined = NULL;
		dataset_fields(line, fl, 1);
		fl[0][strcspn(fl[0], "\t")] = '\0';
		if (fl[0][0] == '\0' || fl[0][0] == '#' || strcmp(fl[0], "path") == 0)
			continue;
		p = fl[0];
		if (p[0] != '/' && access(p, F_OK) != 0 && (joined = dataset_join(dir, p)) != NULL)
			p = joined;
		if (dataset_add_file(c, p, strlen(p)) == -1) {
			free(joined);
			fprintf(stderr, "musicvae dataset: out of memory\n");
			goto out;
		}
		free(joined);
	}
	r = 0;
out:
	free(line);
	free(dir);
	if (f != NULL)
		fclose(f);
	return r;
}

static int
dataset_parse_int(const char *what, const char *arg, long lo, long hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "musicvae dataset: %s: '%s' is not an integer in %ld..%ld\n", what, arg, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
dataset_parse_range(const char *what, const char *arg, long lo, long hi, int *a, int *b)
{
	char buf[64], *colon;

	snprintf(buf, sizeof buf, "%s", arg);
	if ((colon = strchr(buf + 1, ':')) == NULL) {
		fprintf(stderr, "musicvae dataset: %s: '%s' is not LO:HI\n", what, arg);
		return -1;
	}
	*colon = '\0';
	if (dataset_parse_int(what, buf, lo, hi, a) == -1 || dataset_parse_int(what, colon + 1, lo, hi, b) == -1)
		return -1;
	return 0;
}

/* --cap KIND:PERCENT (the kind is arg up to its last colon). */
static int
dataset_parse_cap(struct dataset_cli *c, const char *arg)
{
	const char *colon = strrchr(arg, ':');

	if (colon == NULL || colon == arg || (size_t)(colon - arg) >= sizeof c->cap_kind) {
		fprintf(stderr, "musicvae dataset: --cap: '%s' is not KIND:PERCENT\n", arg);
		return -1;
	}
	snprintf(c->cap_kind, sizeof c->cap_kind, "%.*s", (int)(colon - arg), arg);
	c->o.cap_kind = c->cap_kind;
	return dataset_parse_int("--cap", colon + 1, 0, 100, &c->o.cap_percent);
}

/* One option with its argument (NULL when none follows); returns how many argv entries it took, or -1. */
static int
dataset_opt(struct dataset_cli *c, const char *opt, const char *arg)
{
	int pct;

	if (strcmp(opt, "--one-line") == 0) {
		c->o.per_instrument = 0;
		return 1;
	}
	if (strcmp(opt, "-q") == 0 || strcmp(opt, "--quiet") == 0) {
		c->quiet = 1;
		return 1;
	}
	if (arg == NULL) {
		fprintf(stderr, "musicvae dataset: unknown option %s, or it needs an argument\n", opt);
		return -1;
	}
	if (strcmp(opt, "--kind") == 0) {
		int k = dataset_kind_parse(arg);
		if (k < 0) {
			fprintf(stderr, "musicvae dataset: --kind: '%s' is not melody, drums or groove\n", arg);
			return -1;
		}
		dataset_opts_init(&c->o, (enum dataset_kind)k);
		return 2;
	}
	if (strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0)
		c->out = arg;
	else if (strcmp(opt, "--sources") == 0)
		c->sources = arg;
	else if (strcmp(opt, "--list") == 0)
		c->list = arg;
	else if (strcmp(opt, "--info") == 0)
		c->info = arg;
	else if (strcmp(opt, "--pitch-classes") == 0) {
		if (strcmp(arg, "roland") != 0 && strcmp(arg, "default") != 0) {
			fprintf(stderr, "musicvae dataset: --pitch-classes: '%s' is neither default nor roland\n", arg);
			return -1;
		}
		c->o.roland = strcmp(arg, "roland") == 0;
	} else if (strcmp(opt, "--steps") == 0)
		return dataset_parse_int(opt, arg, 16, DATASET_MAX_STEPS, &c->o.num_steps) == -1 ? -1 : 2;
	else if (strcmp(opt, "--min-notes") == 0)
		return dataset_parse_int(opt, arg, 0, DATASET_MAX_STEPS, &c->o.min_notes) == -1 ? -1 : 2;
	else if (strcmp(opt, "--min-pitches") == 0)
		return dataset_parse_int(opt, arg, 0, 128, &c->o.min_pitches) == -1 ? -1 : 2;
	else if (strcmp(opt, "--transpose") == 0)
		return dataset_parse_range(opt, arg, -48, 48, &c->o.transpose_lo, &c->o.transpose_hi) == -1 ? -1 : 2;
	else if (strcmp(opt, "--programs") == 0)
		return dataset_parse_range(opt, arg, 0, 127, &c->o.program_lo, &c->o.program_hi) == -1 ? -1 : 2;
	else if (strcmp(opt, "--valid-programs") == 0)
		return dataset_parse_range(opt, arg, 0, 127, &c->o.valid_program_lo, &c->o.valid_program_hi) == -1 ?
		    -1 : 2;
	else if (strcmp(opt, "--valid-kinds") == 0) {
		c->o.valid_kinds = arg;
		c->valid_kinds_given = 1;
	} else if (strcmp(opt, "--valid-distance") == 0)
		return dataset_parse_int(opt, arg, 0, DATASET_MAX_DISTANCE, &c->o.valid_distance) == -1 ? -1 : 2;
	else if (strcmp(opt, "--cap") == 0)
		return dataset_parse_cap(c, arg) == -1 ? -1 : 2;
	else if (strcmp(opt, "--valid-percent") == 0) {
		if (dataset_parse_int(opt, arg, 0, 100, &pct) == -1)
			return -1;
		c->o.valid_permille = 10 * pct;
	} else {
		fprintf(stderr, "musicvae dataset: unknown option %s (try --help)\n", opt);
		return -1;
	}
	return 2;
}

/* --kind is taken first, wherever it is: it sets the defaults the other options change. */
static int
dataset_args(struct dataset_cli *c, int argc, char **argv)
{
	int kind = 0, files_only = 0;

	dataset_opts_init(&c->o, DATASET_MELODY);
	for (int i = 1; i + 1 < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--kind") == 0) {
			if (dataset_opt(c, argv[i], argv[i + 1]) == -1)
				return -1;
			kind = 1;
		}
	for (int i = 1; i < argc; i++) {
		int k;
		if (files_only || argv[i][0] != '-' || argv[i][1] == '\0') {
			if (dataset_add_file(c, argv[i], strlen(argv[i])) == -1)
				return -1;
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			files_only = 1;
			continue;
		}
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			dataset_usage(stdout);
			return 1;
		}
		if (strcmp(argv[i], "--kind") == 0) {
			i++;
			continue;
		}
		if ((k = dataset_opt(c, argv[i], i + 1 < argc ? argv[i + 1] : NULL)) == -1)
			return -1;
		i += k - 1;
	}
	if (c->info == NULL && !kind) {
		fprintf(stderr, "musicvae dataset: --kind melody|drums|groove is required\n");
		return -1;
	}
	return c->list != NULL ? dataset_read_list(c, c->list) : 0;
}

/* ---- report ------------------------------------------------------------------------------- */

struct dataset_pkg {
	const char *name;
	long files, unreadable, meter, windows, unique, transposed, near, capped, train, valid;
};

static struct dataset_pkg *
dataset_pkg_of(struct dataset_pkg *p, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(p[i].name, name) == 0)
			return &p[i];
	p[*n] = (struct dataset_pkg){ .name = name };
	return &p[(*n)++];
}

static int
dataset_pkg_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dataset_pkg *)a)->name, ((const struct dataset_pkg *)b)->name);
}

static void
dataset_pkg_line(const struct dataset_pkg *p, int stats)
{
	if (stats)
		printf("%-26s %6ld %5ld %5ld %8ld %8ld %9ld %6ld %7ld %8ld %7ld\n", p->name, p->files, p->unreadable,
		    p->meter, p->windows, p->unique, p->transposed, p->near, p->capped, p->train, p->valid);
	else
		printf("%-26s %6ld %8ld %7ld\n", p->name, p->files, p->train, p->valid);
}

/* Per-package table; stats = the build statistics are there (not after dataset_read). */
static int
dataset_report(const struct dataset *d, int stats)
{
	struct dataset_pkg *p = calloc(d->n_sources + 1, sizeof *p), all = { .name = "total" };
	size_t n = 0;

	if (p == NULL)
		return -1;
	for (size_t i = 0; i < d->n_sources; i++) {
		const struct dataset_source *s = &d->sources[i];
		struct dataset_pkg *k = dataset_pkg_of(p, &n, s->package);
		k->files++;
		k->unreadable += s->status == DATASET_SRC_UNREADABLE;
		k->meter += s->status == DATASET_SRC_METER;
		k->windows += s->windows;
		k->unique += s->unique;
		k->transposed += s->transposed;
		k->near += s->near;
		k->capped += s->capped;
	}
	for (size_t w = 0; w < d->count; w++) {
		struct dataset_pkg *k = dataset_pkg_of(p, &n, d->sources[d->source[w]].package);
		*(d->split[w] == DATASET_VALID ? &k->valid : &k->train) += 1;
	}
	qsort(p, n, sizeof *p, dataset_pkg_cmp);
	if (stats)
		printf("%-26s %6s %5s %5s %8s %8s %9s %6s %7s %8s %7s\n", "package", "files", "bad", "meter",
		    "windows", "unique", "transpose", "vdups", "capped", "train", "valid");
	else
		printf("%-26s %6s %8s %7s\n", "package", "files", "train", "valid");
	for (size_t i = 0; i < n; i++) {
		dataset_pkg_line(&p[i], stats);
		all.files += p[i].files;
		all.unreadable += p[i].unreadable;
		all.meter += p[i].meter;
		all.windows += p[i].windows;
		all.unique += p[i].unique;
		all.transposed += p[i].transposed;
		all.near += p[i].near;
		all.capped += p[i].capped;
		all.train += p[i].train;
		all.valid += p[i].valid;
	}
	dataset_pkg_line(&all, stats);
	free(p);
	return 0;
}

/* What the honest-validation filter and the cap dropped (build statistics). */
static void
dataset_report_drops(const struct dataset *d)
{
	const struct dataset_stats *st = &d->stats;
	long valid = 0, train = 0;

	for (size_t w = 0; w < d->count; w++)
		*(d->split[w] == DATASET_VALID ? &valid : &train) += 1;
	printf("validation: %ld windows (sources of kinds %s); dropped %ld exact and %ld near (Hamming distance "
	    "1..%d) duplicates of train windows\n", valid, d->valid_kinds[0] ? d->valid_kinds : "any",
	    st->valid_exact, st->valid_near, d->valid_distance);
	if (d->cap_kind[0] != '\0')
		printf("cap %s:%d%%: %ld of %ld train windows were %s; dropped %ld of them (lowest token hashes "
		    "kept): now %ld of %ld train windows (%.1f%%)\n", d->cap_kind, d->cap_percent, st->cap_before,
		    st->train_before, d->cap_kind, st->cap_dropped, st->cap_before - st->cap_dropped, train,
		    train ? 100.0 * (double)(st->cap_before - st->cap_dropped) / (double)train : 0.0);
}

/* A groove dataset's hits: how many, velocity and offset mean and spread (what a model is to learn). */
static void
dataset_report_groove(const struct dataset *d)
{
	struct dataset_groove_stats st;

	dataset_groove_stats(d, -1, &st);
	if (st.hits == 0)
		return;
	printf("groove: %.0f hits; velocity mean %.1f sd %.1f; offset (GrooveConverter's, +1 = half a step "
	    "early) mean %+.3f sd %.3f\n", st.hits, st.vel_mean, st.vel_sd, st.off_mean, st.off_sd);
}

static int
dataset_info(const char *path)
{
	struct dataset d;
	char err[512];

	if (dataset_read(&d, path, err, sizeof err) == -1) {
		fprintf(stderr, "musicvae dataset: %s\n", err);
		return 1;
	}
	printf("%s: %s, %d steps, %d classes, %zu windows from %zu sources (%d per mille validation)\n", path,
	    dataset_kind_name(d.kind), d.num_steps, d.n_classes, d.count, d.n_sources,
	    d.valid_permille);
	if (d.version >= 2)
		printf("validation from kinds: %s; no window within Hamming distance %d of a train window; cap: "
		    "%s at %d%%\n", d.valid_kinds[0] ? d.valid_kinds : "any", d.valid_distance,
		    d.cap_kind[0] ? d.cap_kind : "none", d.cap_percent);
	else
		printf("version 1 file: validation kinds, distance and cap not recorded\n");
	if (d.kind != DATASET_MELODY)
		printf("drum pitch classes: %s\n", d.roland ? "roland (Magenta's ROLAND_DRUM_PITCH_CLASSES)" :
		    "default (DrumsConverter's)");
	dataset_report(&d, 0);
	dataset_report_groove(&d);
	dataset_free(&d);
	return 0;
}

/* ---- the command -------------------------------------------------------------------------- */

/* Package, licence and stored name of every file from the table (when given). */
static int
dataset_label(struct dataset_cli *c, const struct dataset_tab *t, const char ***pk, const char ***li,
    const char ***nm, const char ***ki)
{
	int missing = 0;

	*pk = calloc((size_t)c->n_files + 1, sizeof **pk);
	*li = calloc((size_t)c->n_files + 1, sizeof **li);
	*nm = calloc((size_t)c->n_files + 1, sizeof **nm);
	*ki = calloc((size_t)c->n_files + 1, sizeof **ki);
	if (*pk == NULL || *li == NULL || *nm == NULL || *ki == NULL)
		return -1;
	for (int i = 0; i < c->n_files && c->sources != NULL; i++) {
		const struct dataset_row *r = dataset_tab_find(t, c->files[i]);
		if (r == NULL) {
			missing++;
			continue;
		}
		(*pk)[i] = r->package;
		(*li)[i] = r->licence;
		(*nm)[i] = r->path;
		(*ki)[i] = r->kind;
	}
	if (missing > 0)
		fprintf(stderr, "musicvae dataset: warning: %d files are not in %s (package '-', licence unknown)\n",
		    missing, c->sources);
	return 0;
}

static void
dataset_warn_sources(const struct dataset *d, int quiet)
{
	for (size_t i = 0; i < d->n_sources; i++)
		if (d->sources[i].status == DATASET_SRC_UNREADABLE)
			fprintf(stderr, "musicvae dataset: skipped %s\n", d->sources[i].error);
		else if (d->sources[i].status == DATASET_SRC_METER && !quiet)
			fprintf(stderr, "musicvae dataset: skipped %s: no bar in 4/4 or 2/2\n", d->sources[i].path);
		else if (d->sources[i].status == DATASET_SRC_TEMPO && !quiet)
			fprintf(stderr, "musicvae dataset: skipped %s: its tempo changes (a groove needs one tempo)\n",
			    d->sources[i].path);
}

static int
dataset_run(struct dataset_cli *c, const struct dataset_tab *t)
{
	const char **pk = NULL, **li = NULL, **nm = NULL, **ki = NULL, *out = c->out;
	struct dataset d = { 0 };
	struct timespec t0, t1;
	char err[512];
	int rc = 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (dataset_label(c, t, &pk, &li, &nm, &ki) == -1) {
		fprintf(stderr, "musicvae dataset: out of memory\n");
		goto out;
	}
	c->o.packages = pk;
	c->o.licences = li;
	c->o.names = nm;
	c->o.kinds = ki;
	if (c->sources != NULL && !c->valid_kinds_given)
		c->o.valid_kinds = "midi";
	if (out == NULL)
		out = c->o.kind == DATASET_GROOVE ? "groove.ds" : c->o.kind == DATASET_DRUMS ? "drums.ds" : "melody.ds";
	if (dataset_build(&c->o, c->files, c->n_files, &d, err, sizeof err) == -1 ||
	    dataset_write(&d, out, err, sizeof err) == -1) {
		fprintf(stderr, "musicvae dataset: %s\n", err);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dataset_warn_sources(&d, c->quiet);
	if (!c->quiet)
		dataset_report(&d, 1);
	dataset_report_drops(&d);
	dataset_report_groove(&d);
	printf("wrote %s: %zu %s windows of %d steps from %d files in %.1f s\n", out, d.count,
	    dataset_kind_name(c->o.kind), d.num_steps, c->n_files,
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
	rc = 0;
out:
	dataset_free(&d);
	free(pk);
	free(li);
	free(nm);
	free(ki);
	return rc;
}

int
cmd_dataset(int argc, char **argv)
{
	struct dataset_cli c = { 0 };
	struct dataset_tab t = { 0 };
	int rc = 1;

	if ((rc = dataset_args(&c, argc, argv)) != 0) {
		rc = rc > 0 ? 0 : 1;    /* --help: 0 */
		goto out;
	}
	rc = 1;
	if (c.info != NULL) {
		rc = dataset_info(c.info);
		goto out;
	}
	if (c.sources != NULL) {
		if (dataset_tab_read(&t, c.sources) == -1)
			goto out;
		int all = c.n_files == 0 && c.list == NULL;
		for (size_t i = 0; all && i < t.n; i++)
			if (dataset_add_file(&c, t.rows[i].file, strlen(t.rows[i].file)) == -1)
				goto out;
		qsort(t.rows, t.n, sizeof *t.rows, dataset_row_cmp);
	}
	if (c.n_files == 0) {
		fprintf(stderr, "musicvae dataset: no input files\n");
		dataset_usage(stderr);
		goto out;
	}
	rc = dataset_run(&c, &t);
out:
	for (int i = 0; i < c.n_files; i++)
		free(c.files[i]);
	free(c.files);
	dataset_tab_free(&t);
	return rc;
}
