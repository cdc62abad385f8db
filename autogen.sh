#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# autogen.sh: regenerates configure and Makefile.in from a git checkout.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf -fi
