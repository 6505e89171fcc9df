#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# contrib/nfspamd-bgp-update against RIB dumps written here: BIRD 2 and
# OpenBGPD detail and table output, plain lists, guessing, checking,
# refusals that keep the old files, atomic replacement, -r and usage
# errors.  The whole suite runs once per shell found among dash and bash
# (or only under $BGP_UPDATE_SH when that is set), as the script is meant
# for any POSIX sh.  TAP on stdout.
#
# Environment: top_srcdir (for the script and tests/lib/tap.sh).

# ok's conditions are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016

top_srcdir=${top_srcdir:-.}
SCRIPT=$top_srcdir/contrib/nfspamd-bgp-update

. "$top_srcdir/tests/lib/tap.sh" || exit 99

[ -r "$SCRIPT" ] || bail_out "no script at $SCRIPT (set top_srcdir)"
command -v awk >/dev/null || bail_out "no awk"

tmp=$(mktemp -d) || bail_out "mktemp -d failed"
trap 'rm -rf "$tmp"' EXIT

# ---- sample dumps -----------------------------------------------------

# BIRD 2 "birdc show route all table spamd": two routes for one prefix,
# one carrying both communities; an IPv6 prefix in upper case with a
# blank after the comma; a route with an unrelated community; a route
# whose prefix is not valid; a large community that must not count.
cat >"$tmp/bird.txt" <<'EOF'
BIRD 2.0.12 ready.
Table spamd:
192.0.2.0/24         unicast [rs1 2024-01-01] * (100) [AS65066i]
	via 198.51.100.1 on eth0
	Type: BGP univ
	BGP.origin: IGP
	BGP.as_path: 65066
	BGP.next_hop: 198.51.100.1
	BGP.local_pref: 100
	BGP.community: (65066,666)
                     unicast [rs2 2024-01-01] (100) [AS65066i]
	via 198.51.100.2 on eth0
	Type: BGP univ
	BGP.community: (65066,666) (65066,42)
203.0.113.5/32       unicast [rs1 2024-01-01] * (100) [AS65066i]
	via 198.51.100.1 on eth0
	Type: BGP univ
	BGP.community: (65066,42)
2001:DB8:BAD::/48    unicast [rs1 2024-01-01] * (100) [AS65066i]
	via 198.51.100.1 on eth0
	Type: BGP univ
	BGP.community: (65066, 666) (65066,1)
10.0.0.0/8           unicast [rs1 2024-01-01] * (100) [AS65066i]
	via 198.51.100.1 on eth0
	Type: BGP univ
	BGP.community: (65066,1)
	BGP.large_community: (65066, 666, 0)
9.9.9.0/24           unicast [rs1 2024-01-01] * (100) [AS65066i]
	via 198.51.100.1 on eth0
	Type: BGP univ
	BGP.community: (65066,666)
192.0.2.300/24       unicast [rs1 2024-01-01] * (100) [AS65066i]
	via 198.51.100.1 on eth0
	Type: BGP univ
	BGP.community: (65066,666)
2001:db8::1::2/64    unicast [rs1 2024-01-01] * (100) [AS65066i]
	via 198.51.100.1 on eth0
	Type: BGP univ
	BGP.community: (65066,666)
100.64.0.0/10        unicast [rs1 2024-01-01] * (100) [AS65066i]
	via 198.51.100.1 on eth0
	Type: BGP univ
	BGP.community: (65066,7)
EOF

# OpenBGPD "bgpctl show rib detail".
cat >"$tmp/bgpctl-detail.txt" <<'EOF'

BGP routing table entry for 198.51.100.0/24
    65066
    Nexthop 192.0.2.1 (via 192.0.2.1) Neighbor rs.example.net (192.0.2.1)
    Origin IGP, metric 0, localpref 100, weight 0, ovs not-found, external, valid, best
    Last update: 01:02:03 ago
    Communities: 65066:666 NO_EXPORT

BGP routing table entry for 198.51.100.77/32
    65066
    Nexthop 192.0.2.1 (via 192.0.2.1) Neighbor rs.example.net (192.0.2.1)
    Origin IGP, metric 0, localpref 100, weight 0, ovs not-found, external, valid, best
    Last update: 01:02:03 ago
    Communities: 65066:42
    Large Communities: 65066:666:0

BGP routing table entry for 2001:db8:1::/48
    65066
    Nexthop 192.0.2.1 (via 192.0.2.1) Neighbor rs.example.net (192.0.2.1)
    Origin IGP, metric 0, localpref 100, weight 0, ovs not-found, external, valid, best
    Last update: 01:02:03 ago
    Communities: 65066:666 65066:42

BGP routing table entry for 10.20.0.0/16
    65066
    Nexthop 192.0.2.1 (via 192.0.2.1) Neighbor rs.example.net (192.0.2.1)
    Origin IGP, metric 0, localpref 100, weight 0, ovs not-found, external, valid, best
    Last update: 01:02:03 ago
    Ext. Communities: rt 65066:666
EOF

# OpenBGPD "bgpctl show rib community 65066:666": newer and older columns.
cat >"$tmp/bgpctl-table.txt" <<'EOF'
flags: * = Valid, > = Selected, I = via IBGP, A = Announced,
       S = Stale, E = Error, F = Filtered, L = Leaked
origin validation state: N = not-found, V = valid, ! = invalid
aspa validation state: ? = unknown, V = valid, ! = invalid
origin: i = IGP, e = EGP, ? = Incomplete

flags  vs destination          gateway          lpref   med aspath origin
*>    N-? 198.51.100.0/24      192.0.2.1          100     0 65066 i
*     N-? 2001:db8:2::/48      192.0.2.1          100     0 65066 i
*>    N-? 203.0.113.0/25       192.0.2.1          100     0 65066 i
*>    N-? 203.0.113.999/32     192.0.2.1          100     0 65066 i
EOF
cat >"$tmp/bgpctl-table-old.txt" <<'EOF'
flags: * = Valid, > = Selected, I = via IBGP, A = Announced, S = Stale
origin: i = IGP, e = EGP, ? = Incomplete

flags destination          gateway          lpref   med aspath origin
*>    198.51.100.0/24      192.0.2.1          100     0 65066 i
*>    203.0.113.0/25       192.0.2.1          100     0 65066 i
EOF

# A plain list: comments, blanks, addresses, CRLF, junk.
printf '%s\r\n' "# partner networks" "192.0.2.9" >"$tmp/plain.txt"
cat >>"$tmp/plain.txt" <<'EOF'

   198.51.100.0/24   # a comment after it
2001:DB8::25
192.0.2.9/32
192.0.2.10 - 192.0.2.20
not-an-address
10.0.0.0/33
010.1.2.3/32
10.1.2.0/024
1.2.3.4/8/8
::ffff:192.0.2.1/128
fe80::1:2:3:4:5:6:7:8
1:2:3:4:5:6:7:8/128
EOF

# ---- helpers ----------------------------------------------------------

# run ARGS...: runs the script under $SH; sets out, err, rc.
run()
{
	out=$(cd "$tmp/run" && TMPDIR=$tmp/scratch "$SH" "$SCRIPT" "$@" \
	    2>"$tmp/stderr")
	rc=$?
	err=$(<"$tmp/stderr")
}

# runin FILE ARGS...: the same with FILE on standard input.
runin()
{
	local in=$1

	shift
	out=$(cd "$tmp/run" && TMPDIR=$tmp/scratch "$SH" "$SCRIPT" "$@" \
	    <"$in" 2>"$tmp/stderr")
	rc=$?
	err=$(<"$tmp/stderr")
}

# body FILE: the lines of FILE that are not comments.
body()
{
	grep -v '^#' "$1"
}

# leftovers: temporary files left in the run and scratch directories.
leftovers()
{
	{
		find "$tmp/run" -name '.*'
		find "$tmp/scratch" -mindepth 1
	} | sort
}

suite()
{
	local S=$1 B W before

	rm -rf "$tmp/run" "$tmp/scratch"
	mkdir "$tmp/run" "$tmp/scratch"
	B=$tmp/run/bgp-spamd.black
	W=$tmp/run/bgp-spamd.white

	# -- usage --
	run -h
	is "$rc" 0 "$S: -h: exit 0"
	like "$out" '^usage: nfspamd-bgp-update ' "$S: -h: usage on stdout"
	is "$err" "" "$S: -h: nothing on stderr"

	for args in "" "-x -b $B" "-b $B extra" "-F juniper -b $B" \
	    "-m 0 -b $B" "-m x -b $B" "-m -1 -b $B" "-M 0 -w $W" \
	    "-B 65066 -b $B" "-W 65066:70000 -w $W" "-B 1:2:3 -b $B" \
	    "-B 65066:42 -b $B" "-b $B -w $B" "-b"; do
		# shellcheck disable=SC2086	# split on purpose
		runin "$tmp/bird.txt" $args
		is "$rc" 2 "$S: '${args//$tmp\/run\//}': exit 2"
		like "$err" '^(usage: |nfspamd-bgp-update: )' \
		    "$S: '${args//$tmp\/run\//}': says why on stderr"
	done
	ok '[ ! -e "$B" ] && [ ! -e "$W" ]' "$S: usage errors write nothing"
	run -i "$tmp/missing" -b "$B"
	is "$rc" 2 "$S: -i missing file: exit 2"
	like "$err" 'missing: cannot read' "$S: -i missing file: says so"
	run -F plain -i "$tmp/plain.txt" -b "$B" -w "$W"
	is "$rc" 2 "$S: plain with -b and -w: exit 2"
	like "$err" 'holds one list' "$S: plain with -b and -w: says why"
	run -i "$tmp/bgpctl-table.txt" -b "$B" -w "$W"
	is "$rc" 2 "$S: guessed table with -b and -w: exit 2"

	# -- BIRD --
	run -v -i "$tmp/bird.txt" -b "$B" -w "$W"
	is "$rc" 0 "$S: bird: exit 0"
	like "$err" 'input from .*/bird\.txt: bird \(guessed\)' \
	    "$S: bird: -v says what it guessed"
	is "$(body "$B")" $'9.9.9.0/24\n192.0.2.0/24\n2001:db8:bad::/48' \
	    "$S: bird: black list by community, sorted, IPv6 in lower case"
	is "$(body "$W")" $'192.0.2.0/24\n203.0.113.5/32' \
	    "$S: bird: white list by community, second route counts"
	like "$(head -n 1 "$B")" \
	    '^# generated by nfspamd-bgp-update from .*/bird\.txt at [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC$' \
	    "$S: bird: header names the source and the UTC time"
	like "$err" 'bad prefixes skipped: 2' "$S: bird: bad prefixes counted"
	like "$err" '192\.0\.2\.300/24' "$S: bird: bad IPv4 prefix shown"
	like "$err" '2001:db8::1::2/64' "$S: bird: bad IPv6 prefix shown"
	like "$err" '8 prefixes read; black \(65066:666\) 3, white \(65066:42\) 2' \
	    "$S: bird: -v counts"
	is "$(stat -c %a "$B")" 644 "$S: bird: list is mode 644"
	is "$(leftovers)" "" "$S: bird: no temporary files left"

	runin "$tmp/bird.txt" -F bird -b "$B"
	is "$rc" 0 "$S: bird on stdin with -F bird, -b only: exit 0"
	like "$(head -n 1 "$B")" ' from stdin at ' "$S: header says stdin"
	is "$(body "$B" | wc -l)" 3 "$S: bird on stdin: same black list"

	runin "$tmp/bird.txt" -B 65066:1 -W 65066:7 -b "$B" -w "$W"
	is "$rc" 0 "$S: bird with -B and -W: exit 0"
	is "$(body "$B")" $'10.0.0.0/8\n2001:db8:bad::/48' \
	    "$S: bird: -B picks another black community"
	is "$(body "$W")" "100.64.0.0/10" "$S: bird: -W picks another white community"

	# -- bgpctl detail --
	rm -f "$B" "$W"
	run -v -i "$tmp/bgpctl-detail.txt" -b "$B" -w "$W"
	is "$rc" 0 "$S: bgpctl detail: exit 0"
	like "$err" ': bgpctl-detail \(guessed\)' "$S: bgpctl detail: guessed"
	is "$(body "$B")" $'198.51.100.0/24\n2001:db8:1::/48' \
	    "$S: bgpctl detail: black list (large and ext. communities ignored)"
	is "$(body "$W")" $'198.51.100.77/32\n2001:db8:1::/48' \
	    "$S: bgpctl detail: white list"

	# -- bgpctl table: one list, to whichever file is given --
	run -v -i "$tmp/bgpctl-table.txt" -b "$B"
	is "$rc" 0 "$S: bgpctl table: exit 0"
	like "$err" ': bgpctl-table \(guessed\)' "$S: bgpctl table: guessed"
	is "$(body "$B")" \
	    $'198.51.100.0/24\n203.0.113.0/25\n2001:db8:2::/48' \
	    "$S: bgpctl table: destinations, invalid route included"
	like "$err" 'bad prefixes skipped: 1' "$S: bgpctl table: bad one counted"
	run -F bgpctl -i "$tmp/bgpctl-table-old.txt" -w "$W"
	is "$rc" 0 "$S: bgpctl table, old columns, -w: exit 0"
	is "$(body "$W")" $'198.51.100.0/24\n203.0.113.0/25' \
	    "$S: bgpctl table, old columns: written to the white list"

	# -- plain --
	run -v -i "$tmp/plain.txt" -b "$B"
	is "$rc" 0 "$S: plain: exit 0"
	like "$err" ': plain \(guessed\)' "$S: plain: guessed"
	is "$(body "$B")" \
	    $'192.0.2.9/32\n198.51.100.0/24\n1:2:3:4:5:6:7:8/128\n2001:db8::25/128\n::ffff:192.0.2.1/128' \
	    "$S: plain: addresses get a full length, duplicates merged"
	like "$err" 'bad prefixes skipped: 7' "$S: plain: bad lines counted"
	like "$err" '192\.0\.2\.10 - 192\.0\.2\.20' "$S: plain: a range is refused whole"
	runin "$tmp/plain.txt" -F plain -w "$W"
	is "$rc" 0 "$S: plain on stdin with -F plain: exit 0"
	is "$(body "$W" | wc -l)" 5 "$S: plain on stdin: same list"

	# -- refusals keep the old files --
	run -i "$tmp/bird.txt" -b "$B" -w "$W"
	before=$(cat "$B" "$W"; stat -c %i "$B" "$W")
	: >"$tmp/empty"
	run -i "$tmp/empty" -F bird -b "$B" -w "$W"
	is "$rc" 1 "$S: empty dump: exit 1"
	like "$err" 'black list would have 0 entries, fewer than 1: keeping' \
	    "$S: empty dump: says it keeps the black list"
	like "$err" 'white list would have 0 entries' \
	    "$S: empty dump: and the white list"
	is "$(cat "$B" "$W"; stat -c %i "$B" "$W")" "$before" \
	    "$S: empty dump: old files untouched"
	runin "$tmp/empty" -b "$B"
	is "$rc" 1 "$S: empty stdin, guessed: exit 1"

	printf 'Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory\n' \
	    >"$tmp/down"
	run -i "$tmp/down" -b "$B"
	is "$rc" 1 "$S: birdc error text: exit 1"
	is "$(cat "$B" "$W"; stat -c %i "$B" "$W")" "$before" \
	    "$S: birdc error text: old file untouched"

	run -i "$tmp/bird.txt" -m 4 -b "$B" -w "$W"
	is "$rc" 1 "$S: -m 4 with 3 black entries: exit 1"
	like "$err" 'black list would have 3 entries, fewer than 4: keeping' \
	    "$S: -m: says why"
	is "$(cat "$B" "$W"; stat -c %i "$B" "$W")" "$before" \
	    "$S: -m: neither file touched"
	run -i "$tmp/bird.txt" -M 3 -b "$B" -w "$W"
	is "$rc" 1 "$S: -M 3 with 2 white entries: exit 1"
	is "$(cat "$B" "$W"; stat -c %i "$B" "$W")" "$before" \
	    "$S: -M: black list not replaced either"
	run -i "$tmp/bird.txt" -m 3 -M 2 -b "$B" -w "$W"
	is "$rc" 0 "$S: -m 3 -M 2: exit 0"

	# -- atomic replacement --
	before=$(stat -c %i "$B")
	cp "$B" "$tmp/old-black"
	ln "$B" "$tmp/run/hardlink"
	run -i "$tmp/bgpctl-detail.txt" -b "$B"
	is "$rc" 0 "$S: replace: exit 0"
	isnt "$(stat -c %i "$B")" "$before" "$S: replace: a new file was renamed in"
	ok 'cmp -s "$tmp/run/hardlink" "$tmp/old-black"' \
	    "$S: replace: the old file was never written to"
	rm -f "$tmp/run/hardlink"
	is "$(leftovers)" "" "$S: replace: no temporary files left"
	before=$(cat "$B")
	run -i "$tmp/bird.txt" -b "$B" -w "$tmp/run/nodir/white"
	is "$rc" 1 "$S: white list cannot be written: exit 1"
	like "$err" 'cannot write a temporary file for .*/nodir/white' \
	    "$S: white list cannot be written: says so"
	is "$(cat "$B")" "$before" "$S: ... and the black list is kept too"
	is "$(leftovers)" "" "$S: ... and no temporary files are left"

	# -- -r --
	run -i "$tmp/bird.txt" -b "$B" -r "echo ran >$tmp/run/ran; wc -l <$B"
	is "$rc" 0 "$S: -r: exit 0"
	is "$(cat "$tmp/run/ran" 2>/dev/null)" ran "$S: -r: command ran"
	is "$out" 5 "$S: -r: after the list was in place"
	rm -f "$tmp/run/ran"
	run -i "$tmp/empty" -F bird -b "$B" -r "echo ran >$tmp/run/ran"
	is "$rc" 1 "$S: -r with a refused update: exit 1"
	ok '[ ! -e "$tmp/run/ran" ]' "$S: -r: not run after a refusal"
	run -i "$tmp/bird.txt" -b "$B" -r "exit 3"
	is "$rc" 1 "$S: -r command fails: exit 1"
	like "$err" 'lists updated, but "exit 3" failed with status 3' \
	    "$S: -r command fails: says so"
	rm -f "$tmp/run/ran"
}

shells=()
if [ -n "${BGP_UPDATE_SH:-}" ]; then
	shells=("$BGP_UPDATE_SH")
else
	for s in dash bash; do
		command -v "$s" >/dev/null && shells+=("$s")
	done
fi
[ "${#shells[@]}" -gt 0 ] || bail_out "no dash or bash to run the script"
for SH in "${shells[@]}"; do
	diag "running the script under $SH ($(command -v "$SH"))"
	suite "$(basename "$SH")"
done

done_testing
