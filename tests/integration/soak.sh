#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
#
# The short soak (bench/soak, about a minute): held connections in
# waves, dialogues, blacklist refreshes, SIGHUPs and sync both ways; RSS,
# descriptors and the database's size must be flat after the warm-up.  The long
# run and its figures: bench/RESULTS.md.  Loopback only, TAP on stdout.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build/plain}"
# Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
# default) that fills for minutes; a small one fills in the warm-up, so
# the RSS measure still means something.
if ldd "$top_builddir/src/nfspamd/nfspamd" 2>/dev/null | grep -q libasan; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "1..2"
SOAK_SECS=${SOAK_SECS:-60} SOAK_CONNS=2000 SOAK_HOLD=8 SOAK_RATE=2000 \
    SOAK_DIALOGS=500 SOAK_REFRESH=5 SOAK_HUP=7 SOAK_SAMPLE=2 \
    SOAK_TIMES=2s:12s:24s SOAK_SCAN=3 \
    "$top_srcdir/bench/soak" "$top_builddir" >"$out" 2>&1
rc=$?
sed 's/^/# /' "$out"
if [ $rc = 0 ]; then
	echo "ok 1 - soak: RSS, descriptors and database size flat after the warm-up"
else
	echo "not ok 1 - soak: RSS, descriptors and database size flat after the warm-up"
fi
# Every wave fully served and every dialogue got its 451.
waves=$(grep '^waves of held connections:' "$out")
if [[ $waves =~ attempted=([0-9]+)\ served=([0-9]+) ]] &&
    [ "${BASH_REMATCH[1]}" -gt 0 ] &&
    [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] &&
    grep -Eq '^dialogue batches: [1-9][0-9]*: ok=[1-9][0-9]* failed=0$' "$out"; then
	echo "ok 2 - soak: the held connections and the dialogues were served"
else
	echo "not ok 2 - soak: the held connections and the dialogues were served"
fi
