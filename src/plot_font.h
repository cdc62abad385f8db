/* SPDX-License-Identifier: GPL-3.0-or-later */
/* plot_font.h: a 5x9 bitmap font of printable ASCII and the drawing of its strings into an RGB canvas. */
#ifndef MVD_PLOT_FONT_H
#define MVD_PLOT_FONT_H

#define PLOT_FONT_W 5           /* glyph columns */
#define PLOT_FONT_H 9           /* glyph rows: 7 stand on the baseline, 2 below it for descenders */
#define PLOT_FONT_ASCENT 7      /* rows of capitals and digits */
#define PLOT_FONT_ADVANCE 6     /* columns from one character to the next (one blank) */

/* Directions: left to right, or turned a quarter counterclockwise (reads upward, as a y axis label). */
enum { PLOT_FONT_RIGHT, PLOT_FONT_UP };

/* The caller's image: h rows of w pixels of 3 bytes (RGB), row after row. */
struct plot_font_canvas {
	unsigned char *px;      /* [h, w, 3] */
	int w, h;
};

/* Whether the byte c has a glyph of its own; every other byte draws as a hollow box of 5x7. */
int plot_font_has(int c);
/* Whether column col (0..4), row row (0..8) of c's glyph (or of the box) is set. */
int plot_font_pixel(int c, int col, int row);
/* Length of s in pixels along its direction at scale (no blank after the last character; 0 for ""). */
int plot_font_width(const char *s, int scale);
/* Draws s with the top-left corner of its bounding box at (x, y), each font pixel a scale x scale square,
 * clipped to the canvas. The box is plot_font_width() x PLOT_FONT_H * scale (PLOT_FONT_RIGHT) or that turned.
 * Returns how many bytes of s had no glyph (drawn as boxes). */
int plot_font_draw(const struct plot_font_canvas *cv, int x, int y, const char *s, int scale, int dir,
    const unsigned char *rgb);

#endif
