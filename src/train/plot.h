/* SPDX-License-Identifier: GPL-3.0-or-later */
/* plot.h: the training curves drawn with cairo (title, loss and accuracy panels, ticks, legends) into a PNG. */
#ifndef MVD_PLOT_H
#define MVD_PLOT_H

#include <stddef.h>

#include "train_int.h"

#define PLOT_W 800              /* image size in pixels */
#define PLOT_H 560

/* The curves' colours (0xRRGGBB): training loss and validation loss (upper panel), teacher-forced and sampled
 * validation accuracy (lower panel). */
#define PLOT_RGB_LOSS 0x1f77b4
#define PLOT_RGB_VLOSS 0xd62728
#define PLOT_RGB_ACC_TF 0x2ca02c
#define PLOT_RGB_ACC_S 0xff7f0e

/* A rectangle in pixels, y downward. */
struct plot_box {
	double x0, y0, x1, y1;  /* left, top, right, bottom */
};

/* Where plot_draw put things: the ink of the title, the x label and each panel's y label and legend, each
 * panel's frame (0 losses, 1 accuracies) and the values at its edges. */
struct plot_geom {
	struct plot_box title, xlabel, ylabel[2], legend[2], panel[2];
	double xlo, xhi;        /* steps at the panels' left and right edges */
	double ylo[2], yhi[2];  /* values at each panel's bottom and top edges (natural logs on the loss panel) */
};

/* Draws l's curves under title (UTF-8; a byte that is not shows as U+FFFD) into a PLOT_W x PLOT_H PNG at path,
 * written to path.tmp, synced and renamed over path. Fills g unless NULL. Returns 0, or -1 with err naming the file. */
int plot_draw(const struct train_log *l, const char *title, const char *path, struct plot_geom *g, char *err,
    size_t errlen);

#endif
