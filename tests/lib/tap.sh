# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# tap.sh: a small TAP producer for bash test scripts.  Source it, then:
#
#	plan N			announce N tests up front (or use done_testing)
#	ok 'CMD' "desc"		pass when the shell command CMD succeeds (it
#				runs in a subshell through eval; its output
#				is shown only when it fails)
#	is "$got" "$want" "desc"	pass when the strings are equal
#	isnt "$got" "$bad" "desc"	pass when they differ
#	like "$got" 'ERE' "desc"	pass when some line of got matches the ERE
#	skip "why" [N]		record N (default 1) skipped tests
#	diag "text"		a "# text" comment line
#	bail_out "why"		stop everything ("Bail out!")
#	done_testing		print the plan if not yet printed, a summary,
#				and exit 1 if anything failed, else 0
#
# Output goes to stdout, which automake's tap-driver reads.  The helper
# sets no traps, so the test script keeps its own EXIT trap for cleanup.
# A failed check returns 1: do not run the script under set -e.

_tap_n=0
_tap_failed=0
_tap_planned=

plan()
{
	_tap_planned=$1
	echo "1..$1"
}

diag()
{
	local line

	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

_tap_result()
{
	local pass=$1 desc=$2

	_tap_n=$((_tap_n + 1))
	if [ "$pass" = 1 ]; then
		echo "ok $_tap_n - $desc"
		return 0
	fi
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $desc"
	return 1
}

ok()
{
	local cmd=$1 desc=${2:-$1} output

	if output=$(eval "$cmd" 2>&1); then
		_tap_result 1 "$desc"
		return
	fi
	_tap_result 0 "$desc"
	diag "  failed: $cmd"
	[ -z "$output" ] || diag "  output: $output"
	return 1
}

is()
{
	local got=$1 want=$2 desc=$3

	if [ "$got" = "$want" ]; then
		_tap_result 1 "$desc"
		return
	fi
	_tap_result 0 "$desc"
	diag "  got:  '$got'"
	diag "  want: '$want'"
	return 1
}

isnt()
{
	local got=$1 bad=$2 desc=$3

	if [ "$got" != "$bad" ]; then
		_tap_result 1 "$desc"
		return
	fi
	_tap_result 0 "$desc"
	diag "  got '$got', which it must not be"
	return 1
}

like()
{
	local got=$1 re=$2 desc=$3

	if printf '%s\n' "$got" | grep -Eq -- "$re"; then
		_tap_result 1 "$desc"
		return
	fi
	_tap_result 0 "$desc"
	diag "  got:  '$got'"
	diag "  want: /$re/"
	return 1
}

skip()
{
	local why=$1 n=${2:-1} i

	for ((i = 0; i < n; i++)); do
		_tap_n=$((_tap_n + 1))
		echo "ok $_tap_n # skip $why"
	done
}

bail_out()
{
	echo "Bail out! $*"
	exit 255
}

done_testing()
{
	if [ -z "$_tap_planned" ]; then
		echo "1..$_tap_n"
	elif [ "$_tap_planned" != "$_tap_n" ]; then
		diag "planned $_tap_planned tests but ran $_tap_n"
		_tap_failed=$((_tap_failed + 1))
	fi
	if [ "$_tap_failed" -gt 0 ]; then
		diag "failed $_tap_failed of $_tap_n"
		exit 1
	fi
	diag "all $_tap_n passed"
	exit 0
}
