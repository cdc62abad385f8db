# SPDX-License-Identifier: GPL-3.0-or-later
# daemon_lib.sh: what test_daemon_jack.sh and test_daemon_alsa.sh share to check a recording of an external-clock
# run segment by segment (Stop, maybe a Song Position Pointer, then Start or Continue) against its first,
# continuous segment. Sourced; the caller sets W (a scratch directory) and CHECK (tests/daemon_check.js). The
# OK argument is the caller's TAP function (`ok STATUS NAME`); LABEL begins each test name ("2-bar model").

# seg_ons REC K TOL FORM: "STEP on PITCH" of the note-ons of segment K of REC, each within TOL ms of its tick.
# FORM start: between the K-th and the (K+1)-th Stop, numbered from its Start; upto: up to the (K+1)-th Stop,
# numbered from the first Start; continue: the same, numbered from the last Continue on.
seg_ons() {
	case $4 in
	start) awk -v k="$2" '/^#/ { print; next } $2 == "FC" { n++ } n == k' "$1" ;;
	*) awk -v k="$2" '$2 == "FC" && ++n > k { exit } { print }' "$1" ;;
	esac > "$W/seg.rec"
	case $4 in
	continue) $CHECK ticks "$W/seg.rec" "$3" continue ;;
	*) $CHECK ticks "$W/seg.rec" "$3" ;;
	esac 2>&1 | grep -v '^#' | grep ' on '
}

# seg_start REC K TOL REF LAST: segment K (FORM start) plays REF's steps 0-LAST, bar 0 not empty; n and n0 are
# set to the note-ons expected and those of bar 0; the difference is printed as TAP diagnostics after `seg_diff`.
seg_start() {
	seg_ons "$1" "$2" "$3" start > "$W/seg.got"
	awk -v b="$5" '$1 <= b' "$4" > "$W/seg.want"
	n=$(wc -l < "$W/seg.want"); n0=$(awk '$1 < 16' "$W/seg.want" | wc -l)
	[ "$n0" -gt 0 ] && cmp -s "$W/seg.want" "$W/seg.got"
}

# seg_continue REC K TOL REF FROM LAST: segment K (FORM continue) plays REF's steps FROM-LAST, not none; n is set
# to the note-ons expected.
seg_continue() {
	seg_ons "$1" "$2" "$3" continue > "$W/seg.got"
	awk -v a="$5" -v b="$6" '$1 >= a && $1 <= b' "$4" > "$W/seg.want"
	n=$(wc -l < "$W/seg.want")
	[ "$n" -gt 0 ] && cmp -s "$W/seg.want" "$W/seg.got"
}

# seg_diff: how the last seg_start or seg_continue's segment differs from what it should play (6 lines at most).
seg_diff() {
	diff "$W/seg.want" "$W/seg.got" | head -n 6 | sed 's/^/# /'
}

# seg_checks KIND REC TOL OK LABEL SPP LAST...: segment 0 of REC is the reference; segment k (k = 1, 2...)
# followed Stop, an SPP to step SPP (the k-th pair) and then, KIND reloc: Continue, and plays the reference's
# steps SPP-LAST; KIND restart: Start (SPP -1: no SPP), and plays the reference's steps 0-LAST, bar 0 included.
seg_checks() {
	_kind=$1 _rec=$2 _tol=$3 _ok=$4 _label=$5
	shift 5
	case $_kind in
	restart) seg_ons "$_rec" 0 "$_tol" start ;;
	*) seg_ons "$_rec" 0 "$_tol" upto ;;
	esac > "$W/seg.ref"
	_k=1
	while [ $# -ge 2 ]; do
		if [ "$_kind" = restart ]; then
			seg_start "$_rec" $_k "$_tol" "$W/seg.ref" "$2"
			_st=$?
			_what="Stop mid-bar, Start"
			[ "$1" -lt 0 ] || _what="Stop, SPP $1 (bar $(($1 / 16)) step $(($1 % 16))), Start"
			_name="$_what: steps 0-$2 play what continuous play from Start gave ($n note-ons, $n0 in bar 0)"
		else
			seg_continue "$_rec" $_k "$_tol" "$W/seg.ref" "$1" "$2"
			_st=$?
			_name="SPP $1 (bar $(($1 / 16)) step $(($1 % 16))) + Continue: steps $1-$2 play what continuous play gave ($n note-ons)"
		fi
		$_ok $_st "$_label, $_name"
		seg_diff
		_k=$((_k + 1)); shift 2
	done
}
