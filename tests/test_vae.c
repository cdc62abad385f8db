/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_vae.c: architecture checks at load time: each inconsistent checkpoint is refused with a message that
 * names the tensor (or config field) at fault, and nothing runs on a half-checked model. */
#include <stdlib.h>
#include <string.h>

#include "mkmodel.h"
#include "tap.h"
#include "vae.h"

static char tmpl[] = "/tmp/test_vae.XXXXXX";
static int seq_no;

/* Writes a model with the hooks set, loads it, expects failure with `want` in the message. */
static void
refused(const char *kind, const char *want, const char *what)
{
	char dir[256], err[1024] = "";
	struct vae m;
	int rc;

	snprintf(dir, sizeof dir, "%s/%d", tmpl, seq_no++);
	if (mkmodel(dir, kind, 9, err, sizeof err) < 0) {
		ok(0, "%s: checkpoint written (%s)", what, err);
		return;
	}
	rc = vae_load(&m, dir, err, sizeof err);
	if (rc == 0)
		vae_free(&m);
	ok(rc < 0 && strstr(err, want) != NULL, "%s: refused, naming '%s'", what, want);
	if (rc == 0 || strstr(err, want) == NULL)
		diag("message: %s", err);
	mk_omit = mk_grow = mk_extra = mk_config = NULL;
}

int
main(void)
{
	char dir[256], err[1024];
	struct vae m;

	plan(12);
	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(dir, sizeof dir, "%s/good", tmpl);
	ok(mkmodel(dir, "melhier", 1, err, sizeof err) == 0 && vae_load(&m, dir, err, sizeof err) == 0,
	    "a consistent hierarchical model loads");
	vae_free(&m);

	mk_omit = "decoder/output_projection/bias";
	refused("mel", "decoder/output_projection/bias", "missing output projection bias");
	mk_omit = "core_decoder/decoder/z_to_initial_state/kernel";
	refused("melhier", "core_decoder/decoder/z_to_initial_state/kernel", "missing core initial state");
	mk_omit = "decoder/hierarchical_level_0/cell_0/lstm_cell/kernel";
	refused("melhier", "decoder/hierarchical_level_0/cell_0/lstm_cell/kernel", "hierarchical model without conductor");
	mk_grow = "decoder/multi_rnn_cell/cell_1/lstm_cell/kernel";
	refused("mel", "decoder/multi_rnn_cell/cell_1/lstm_cell/kernel", "decoder layer with a wrong input width");
	mk_grow = "encoder/mu/kernel";
	refused("mel", "encoder/mu/kernel", "mu kernel rows not 2 x encoder units");
	mk_extra = "encoder/cell_1/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/kernel";
	refused("mel", "only single-layer bidirectional encoders", "two-layer flat encoder (magenta.js refuses it)");
	mk_config = "{\"type\": \"MusicVAE\", \"dataConverter\": {\"type\": \"DrumsConverter\", \"args\": "
	    "{\"numSteps\": 32}}}";
	refused("mel", "outputs 90 columns but config.json's DrumsConverter needs 512", "melody weights under a drums config");
	mk_config = "{\"type\": \"MusicVAE\", \"dataConverter\": {\"type\": \"MultitrackConverter\", \"args\": "
	    "{\"numSteps\": 32}}}";
	refused("mel", "MultitrackConverter", "an unsupported converter");
	mk_config = "{\"type\": \"MusicVAE\", \"chordEncoder\": \"TriadChordEncoder\", \"dataConverter\": "
	    "{\"type\": \"MelodyConverter\", \"args\": {\"numSteps\": 32, \"minPitch\": 21, \"maxPitch\": 108}}}";
	refused("mel", "config.json", "a chord model whose encoder takes no chord columns");
	mk_config = "{\"type\": \"MusicVAE\", \"dataConverter\": {\"type\": \"MelodyConverter\", \"args\": "
	    "{\"numSteps\": 30, \"minPitch\": 21, \"maxPitch\": 108, \"numSegments\": 4}}}";
	refused("melhier", "numSegments: 4 does not divide numSteps 30", "segments that do not divide the steps");
	mk_config = "{\"type\": \"MusicVAE\", \"dataConverter\": {\"type\": \"MelodyConverter\", \"args\": "
	    "{\"numSteps\": 32, \"minPitch\": 21, \"maxPitch\": 100}}}";
	refused("mel", "needs 82", "a pitch range that does not match the output projection");
	snprintf(err, sizeof err, "rm -rf %s", tmpl);
	if (system(err) != 0)
		diag("could not remove %s", tmpl);
	return done_testing();
}
