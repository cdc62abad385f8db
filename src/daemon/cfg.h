/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cfg.h: the daemon's configuration: one libconfig file -> one validated struct cfg (errors carry file:line). */
#ifndef MVD_CFG_H
#define MVD_CFG_H

#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_PATTERNS 8
#define CFG_MAX_ATTRS 16
#define CFG_NAME_MAX 64

enum cfg_backend { CFG_BACKEND_JACK, CFG_BACKEND_ALSA, CFG_BACKEND_NULL };
enum cfg_clock { CFG_CLOCK_INTERNAL, CFG_CLOCK_EXTERNAL };
enum cfg_mode { CFG_MODE_GENERATE, CFG_MODE_CONTINUE, CFG_MODE_MORPH };
enum cfg_morph_end { CFG_MORPH_HOLD, CFG_MORPH_PINGPONG };

struct cfg {
	char file[1024];                /* where it was read from ("" = defaults only) */
	int log_level;                  /* enum log_level */

	/* model */
	char model[1024];               /* checkpoint directory */
	char attributes[1024];          /* attribute vectors JSON ("" = MODEL/attributes.json if present) */
	float temperature;              /* 0 = argmax */
	uint64_t seed;                  /* 0 = from the clock at start */
	int js_drums;                   /* magenta.js drum input encoding */
	int threads;                    /* OpenBLAS threads for inference (1) */
	int n_attrs;                    /* attribute offsets applied to every z */
	char attr_name[CFG_MAX_ATTRS][CFG_NAME_MAX];
	float attr_amount[CFG_MAX_ATTRS];

	/* backend */
	enum cfg_backend backend;
	char client_name[CFG_NAME_MAX]; /* JACK/ALSA client name */
	char server_name[CFG_NAME_MAX]; /* JACK server ("" = default) */
	char in_port[CFG_NAME_MAX], out_port[CFG_NAME_MAX];
	int n_connect_in, n_connect_out;        /* auto-connect patterns (regular expressions) */
	char connect_in[CFG_MAX_PATTERNS][256], connect_out[CFG_MAX_PATTERNS][256];
	double null_rate;               /* null backend: frames per second (48000) */
	int null_period;                /* null backend: frames per period (256) */

	/* clock */
	enum cfg_clock clock;
	double bpm;                     /* internal clock tempo, 20..400 */
	int send_clock;                 /* internal: send 0xF8 ticks */
	int send_transport;             /* internal: send Start/Stop */
	int autostart;                  /* internal: start the transport at launch */

	/* capture and output */
	int in_channel;                 /* 1..16, 0 = any */
	int out_channel;                /* 1..16 (drum models default to 10) */
	int velocity;                   /* note-on velocity when the model has none, 1..127 */
	float groove_timing;            /* groove models: share of their micro-timing played, 0 (on the step)..1 */
	double rest_seconds;            /* continue mode: answer after this long without notes */
	int lookahead_bars;             /* bars generated ahead of the clock, >= 1 */

	/* modes */
	enum cfg_mode mode;
	float drift;                    /* continue: z random walk per bar (std. dev.) */
	int answer_bars;                /* continue: bars answered (multiple of the model's length) */
	int candidates;                 /* continue: answers decoded per window, the best kept (1..8) */
	float walk;                     /* generate: 0 = a fresh prior sample per window; > 0 = walk step */
	int morph_bars;                 /* morph: bars from slot A to slot B */
	enum cfg_morph_end morph_end;
	int slerp;                      /* morph: spherical (1) or linear (0) */

	/* control socket */
	char ctl_socket[108];           /* "" = /run/musicvaed/ctl as root, else $XDG_RUNTIME_DIR/musicvaed/ctl */
	int ctl_mode;                   /* permission bits of the socket (0660) */
	char ctl_group[CFG_NAME_MAX];   /* group owning the socket ("" = the daemon's) */
	int ctl_max_clients;            /* connections at once (64) */
	int ctl_max_line;               /* bytes in one command line (4096) */
	char midi_dir[1024];            /* `load SLOT FILE.mid` reads only below it ("" = disabled) */
	char slot_dir[1024];            /* `slot save/load` write and read NAME.json only here ("" = disabled) */
	int n_model_dirs;               /* `model NAME` looks for NAME in these directories */
	char model_dirs[CFG_MAX_PATTERNS][256];
};

/* Compiled-in defaults (the values etc/musicvaed.conf documents). */
void cfg_defaults(struct cfg *c);
/* Reads path over the defaults and validates every value; on error returns -1 and err says
 * "FILE:LINE: section.setting: what is wrong (expected ...)" and c is left untouched. */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);
/* Applies one command-line override "section.setting=value" (same validation; lists and groups take
 * libconfig syntax, e.g. backend.connect_input=["a","b"]); -1 with err "command line: ..." and c untouched. */
int cfg_override(struct cfg *c, const char *assignment, char *err, size_t errlen);
/* Names for logs and the control socket. */
const char *cfg_mode_name(enum cfg_mode m);
const char *cfg_backend_name(enum cfg_backend b);
const char *cfg_clock_name(enum cfg_clock k);
const char *cfg_morph_end_name(enum cfg_morph_end e);

/* For cfg_load (cfg_file.c). dir[len] gets the directory of path ("" = the current one), which libconfig
 * is told to resolve @include names against. */
struct config_t;
void cfg_file_include_dir(struct config_t *lc, const char *path, char *dir, size_t len);
/* Every @include of path (outside comments and strings), recursively, names a regular file that reads to
 * its end, at most 10 deep: 0, or -1 with err naming the including file and line. dir as above ("/" for an
 * absolute path in the root). */
int cfg_file_check(const char *path, const char *dir, char *err, size_t errlen);
/* err from libconfig's error after config_read_file failed: FILE:LINE: text for a syntax error (the
 * included file's path under dir), else why the file cannot be read. Returns -1. */
int cfg_file_read_fail(const struct config_t *lc, const char *path, const char *dir, char *err,
    size_t errlen);

#endif
