#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# nfspamdb against a scratch database: every flag, output format, error
# path and exit status.  TAP on stdout.
#
# Environment: NFSPAMDB (the binary), top_srcdir (for tests/lib/tap.sh),
# top_builddir (for tests/integration/seed_tuples, which plants GREY
# tuples and odd keys that nfspamdb itself cannot add).

# ok's conditions are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2034,SC2317

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
NFSPAMDB=${NFSPAMDB:-./src/nfspamdb/nfspamdb}
SEED=$top_builddir/tests/integration/seed_tuples

. "$top_srcdir/tests/lib/tap.sh" || exit 99

[ -x "$NFSPAMDB" ] || bail_out "no nfspamdb at $NFSPAMDB (set NFSPAMDB)"
have_seed=
[ -x "$SEED" ] && have_seed=1

tmp=$(mktemp -d) || bail_out "mktemp -d failed"
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
DB=$tmp/db

WHITEEXP=$((864 * 3600))
TRAPEXP=$((24 * 3600))

# run ARGS...: runs nfspamdb; sets out, err (trailing newlines cut), rc.
run()
{
	out=$("$NFSPAMDB" "$@" 2>"$tmp/stderr")
	rc=$?
	err=$(<"$tmp/stderr")
}

# rundb ARGS...: the same against the test database.
rundb()
{
	run --db "$DB" "$@"
}

# lines TEXT: how many lines TEXT has (0 for empty).
lines()
{
	if [ -z "$1" ]; then
		echo 0
	else
		printf '%s\n' "$1" | wc -l
	fi
}

# field N LINE: the Nth |-separated field.
field()
{
	printf '%s\n' "$2" | cut -d'|' -f"$1"
}

# entry KEY: nfspamdb's line for one key (empty if absent).
entry()
{
	"$NFSPAMDB" --db "$DB" "$1" 2>/dev/null
}

# within T LO HI: LO <= T <= HI, all integers.
# time(2) reads the coarse clock, which can trail date(1) by a tick
# across a second boundary: allow one second below.
within()
{
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$(($2 - 1))" ] && [ "$1" -le "$3" ]
}

seed()
{
	"$SEED" "$@" >"$tmp/seed.out" 2>&1 || diag "seed_tuples $*: $(<"$tmp/seed.out")"
}

dump()
{
	mdb_dump -a "$1" 2>&1
}

# ---- usage, before any database exists --------------------------------

run --help
is "$rc" 0 "--help: exit 0"
like "$out" '^usage: nfspamdb \[-adGTt\]' "--help: usage on stdout"
like "$out" '^ +nfspamdb \[--db dir\] --import file$' "--help: names --import"
is "$err" "" "--help: nothing on stderr"
help=$out
run -h
is "$rc" 0 "-h: exit 0"
is "$out" "$help" "-h: the same usage on stdout"

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
    "$top_builddir/config.h" 2>/dev/null)
for flag in -V --version; do
	run "$flag"
	is "$rc" 0 "$flag: exit 0"
	if [ -n "$version" ]; then
		is "$out" "nfspamdb $version" "$flag: 'nfspamdb VERSION' on stdout"
	else
		like "$out" '^nfspamdb [0-9]+\.[0-9]+' "$flag: 'nfspamdb VERSION' on stdout"
	fi
	is "$err" "" "$flag: nothing on stderr"
done
"$NFSPAMDB" --help >/dev/full 2>/dev/null
is "$?" 1 "--help into a full device: exit 1"

for args in "-G" "-t" "-T" "-G 192.0.2.1" "-t 192.0.2.1" "-a -d 192.0.2.1" \
    "-a -t -T 192.0.2.1" "-d -G -t 192.0.2.1" "-a -G -T x@y" "-x" \
    "--bogus" "--json -a 192.0.2.1" "--json -d 192.0.2.1" "--import" \
    "--import x -a" "--import x -d" "--import x -t" "--import x --json" \
    "--import x 192.0.2.1" "--import x --import y"; do
	# shellcheck disable=SC2086	# split on purpose
	rundb $args
	is "$rc" 1 "nfspamdb $args: exit 1"
	like "$err" '^usage: nfspamdb ' "nfspamdb $args: usage on stderr"
done
run --db
is "$rc" 1 "--db without a directory: exit 1"
run --db "" -a 192.0.2.1
is "$rc" 1 "--db '': exit 1"
like "$err" 'empty directory' "--db '': says why"

rundb -a -G 192.0.2.1
is "$rc" 2 "-a -G: exit 2"
is "$err" "nfspamdb: cannot add GREY entries" "-a -G: message"
for args in "-a" "-d" "-a -t" "-a -T" "-d -G" "-d -t"; do
	# shellcheck disable=SC2086
	rundb $args
	is "$rc" 2 "nfspamdb $args without keys: exit 2"
	is "$err" "nfspamdb: no addresses specified" \
	    "nfspamdb $args without keys: message"
done

# ---- no database ------------------------------------------------------

rundb
is "$rc" 1 "listing a missing database: exit 1"
is "$(lines "$err")" 1 "listing a missing database: one line on stderr"
like "$err" "^nfspamdb: $DB: " "listing a missing database: names the directory"
rundb 192.0.2.1
is "$rc" 1 "looking up keys in a missing database: exit 1"
rundb -d 192.0.2.1
is "$rc" 1 "-d on a missing database: exit 1"
like "$err" "$DB" "-d on a missing database: names the directory"
rundb -a bogus
is "$rc" 1 "-a with nothing valid: exit 1"
ok '[ ! -e "$DB" ]' "errors so far created no database"

# ---- -a: WHITE --------------------------------------------------------

t0=$(date +%s)
rundb -a 192.0.2.1
t1=$(date +%s)
is "$rc" 0 "-a 192.0.2.1: exit 0"
is "$err" "" "-a 192.0.2.1: quiet"
ok '[ -d "$DB" ]' "-a creates the database directory"
line=$(entry 192.0.2.1)
first=$(field 5 "$line")
ok 'within "$first" "$t0" "$t1"' "WHITE first is now"
is "$line" "WHITE|192.0.2.1|||$first|$first|$((first + WHITEEXP))|1|0" \
    "WHITE line: ip, empty from/to, first = pass, expire now+864h, 1, 0"
is "$(printf '%s\n' "$line" | awk -F'|' '{ print NF }')" 9 "WHITE line has nine fields"

t0=$(date +%s)
rundb -a 2001:DB8::1
t1=$(date +%s)
is "$rc" 0 "-a 2001:DB8::1: exit 0"
line=$(entry 2001:db8::1)
v6first=$(field 5 "$line")
ok 'within "$v6first" "$t0" "$t1"' "IPv6 WHITE first is now"
is "$line" "WHITE|2001:db8::/64|||$v6first|$v6first|$((v6first + WHITEEXP))|1|0" \
    "IPv6 address stored as its /64 (nfspamd -N's default), canonical"
is "$(entry 2001:DB8:0:0::1)" "$line" "lookup canonicalises the key"

rundb -a ::ffff:192.0.2.7
is "$rc" 0 "-a ::ffff:192.0.2.7: exit 0"
like "$(entry 192.0.2.7)" '^WHITE\|192\.0\.2\.7\|\|\|' "v4-mapped address stored as IPv4"
mapfirst=$(field 5 "$(entry 192.0.2.7)")

t0=$(date +%s)
rundb -a 192.0.2.1
t1=$(date +%s)
is "$rc" 0 "re-adding 192.0.2.1: exit 0"
line=$(entry 192.0.2.1)
pass=$(field 6 "$line")
ok 'within "$pass" "$t0" "$t1"' "re-add sets pass to now"
is "$line" "WHITE|192.0.2.1|||$first|$pass|$((pass + WHITEEXP))|1|1" \
    "re-add keeps first and bcount, pcount 1, expire renewed"

if [ -n "$have_seed" ]; then
	seed -t white -r 1000:2000:3000:7:4 "$DB" 192.0.2.8
	t0=$(date +%s)
	rundb -a 192.0.2.8
	t1=$(date +%s)
	line=$(entry 192.0.2.8)
	pass=$(field 6 "$line")
	ok 'within "$pass" "$t0" "$t1"' "re-adding an old entry: pass is now"
	is "$line" "WHITE|192.0.2.8|||1000|$pass|$((pass + WHITEEXP))|7|5" \
	    "re-adding an old entry: first and bcount kept, pcount+1"
else
	skip "no seed_tuples at $SEED" 2
fi

# ---- -a -t: TRAPPED ---------------------------------------------------

t0=$(date +%s)
rundb -a -t 198.51.100.5
t1=$(date +%s)
is "$rc" 0 "-a -t 198.51.100.5: exit 0"
line=$(entry 198.51.100.5)
expire=$(field 3 "$line")
ok 'within "$expire" $((t0 + TRAPEXP)) $((t1 + TRAPEXP))' "TRAPPED expire is now+24h"
is "$line" "TRAPPED|198.51.100.5|$expire" "TRAPPED line"

rundb -a -t 192.0.2.7
is "$rc" 0 "-a -t on a WHITE address: exit 0"
like "$(entry 192.0.2.7)" '^TRAPPED\|192\.0\.2\.7\|[0-9]+$' "the address is now TRAPPED"
rundb
ok '! printf "%s\n" "$out" | grep -q "^WHITE|192\.0\.2\.7|"' \
    "and no longer WHITE"
rundb -a 192.0.2.7
line=$(entry 192.0.2.7)
pass=$(field 6 "$line")
is "$line" "WHITE|192.0.2.7|||$mapfirst|$pass|$((pass + WHITEEXP))|1|0" \
    "-a on a TRAPPED address makes it WHITE again, pcount 0, first kept"

# ---- -a -T: SPAMTRAP --------------------------------------------------

rundb -a -T Trap@Example.COM
is "$rc" 0 "-a -T Trap@Example.COM: exit 0"
is "$(entry trap@example.com)" "SPAMTRAP|trap@example.com" "spamtrap stored lower-cased"
is "$(entry TRAP@EXAMPLE.com)" "SPAMTRAP|trap@example.com" "spamtrap lookup lower-cases"

rundb -a -T notmail
is "$rc" 255 "-a -T without @: exit 255"
is "$err" "nfspamdb: not an email address: notmail" "-a -T without @: message"
rundb -a -T good@example.org notmail
is "$rc" 255 "-a -T with one bad key: exit 255"
is "$(entry good@example.org)" "SPAMTRAP|good@example.org" "the valid spamtrap was still added"
rundb -a -T $'nl@example.org\nx'
is "$rc" 1 "-a -T with a newline: exit 1"
like "$err" 'newline' "-a -T with a newline: says so"

# ---- -a: bad keys -----------------------------------------------------

rundb -a 192.0.2.300 bogus 192.0.2.9
is "$rc" 2 "-a with two invalid addresses: exit 2"
is "$(lines "$err")" 2 "-a with two invalid addresses: two messages"
like "$err" '^nfspamdb: invalid ip address: 192\.0\.2\.300 \(.+\)$' \
    "invalid ip message names the key and the reason"
like "$(entry 192.0.2.9)" '^WHITE\|192\.0\.2\.9\|' "the valid key in the same call was added"
ok '[ -z "$(entry bogus)" ]' "the invalid key was not added"

# Addresses that can never be a client: refused, named with the reason.
# Loopback is this host's own, and an admin may mean it.
rundb -a 255.255.255.255 192.0.2.12 224.0.0.9 ::
is "$rc" 3 "-a with three addresses that are no client: exit 3 (one per key)"
like "$err" '^nfspamdb: not a client address: 255\.255\.255\.255 \(broadcast\)$' \
    "-a 255.255.255.255: refused as broadcast"
like "$err" 'not a client address: 224\.0\.0\.9 \(multicast\)' "-a 224.0.0.9: refused as multicast"
like "$err" 'not a client address: :: \(unspecified\)' "-a ::: refused as unspecified"
like "$(entry 192.0.2.12)" '^WHITE\|192\.0\.2\.12\|' "the client address in the same call was added"
ok '[ -z "$(entry 255.255.255.255)" ]' "255.255.255.255 was not added"
rundb -a 127.0.0.5
is "$rc" 0 "-a 127.0.0.5 (this host's loopback): exit 0"
like "$(entry 127.0.0.5)" '^WHITE\|127\.0\.0\.5\|' "-a 127.0.0.5: added"
rundb -d 192.0.2.12 127.0.0.5
is "$rc" 0 "... and both deleted again"

rundb -a $'192.0.2.10\nhelo'
is "$rc" 1 "-a with a newline in the key: exit 1"
like "$err" 'newline' "-a with a newline: says so"
ok '[ -z "$(entry 192.0.2.10)" ]' "-a with a newline: nothing added"
rundb -a ""
is "$rc" 1 "-a '': exit 1"
like "$err" 'empty key' "-a '': says so"
long=$(printf 'a%.0s' {1..600})@example.org
rundb -a -T "$long"
is "$rc" 1 "-a -T with a 612-byte key: exit 1"
like "$err" 'longer than 511' "too long key: says so"
for k in 192.0.2.0/24 " 192.0.2.11" 192.0.2.11x fe80::1%eth0 localhost; do
	rundb -a "$k"
	is "$rc" 1 "-a '$k': rejected"
done
mapfile -t many < <(seq -f 'bad%g' 1 300)
rundb -a "${many[@]}"
is "$rc" 255 "300 invalid keys: exit status capped at 255"

# ---- listing ----------------------------------------------------------

rundb
is "$rc" 0 "listing: exit 0"
is "$err" "" "listing: quiet"
printf '%s\n' "$out" >"$tmp/list"
ok 'awk -F"|" '\''BEGIN { r["WHITE"]=1; r["GREY"]=2; r["TRAPPED"]=3; r["SPAMTRAP"]=4 }
    { if (!($1 in r) || r[$1] < last) exit 1; last = r[$1] }'\'' "$tmp/list"' \
    "listing order: WHITE, GREY, TRAPPED, SPAMTRAP"
for t in WHITE TRAPPED SPAMTRAP; do
	ok 'grep "^$t|" "$tmp/list" | cut -d"|" -f2 | LC_ALL=C sort -c' \
	    "$t entries in key order"
done
is "$(grep -c '^WHITE|' "$tmp/list")" $((4 + ${have_seed:-0})) "all WHITE entries listed"

rundb 192.0.2.1 2001:DB8::1 198.51.100.5 Good@Example.org
is "$rc" 0 "listing four present keys: exit 0"
is "$(lines "$out")" 4 "listing four present keys: four lines"
like "$(printf '%s\n' "$out" | sed -n 3p)" '^TRAPPED\|198\.51\.100\.5\|' \
    "lines come in argument order"
rundb 192.0.2.1 203.0.113.1 nosuch@example.com
is "$rc" 2 "listing with two absent keys: exit 2"
is "$(lines "$out")" 1 "listing with two absent keys: the present one printed"
is "$err" "nfspamdb: no entry for 203.0.113.1
nfspamdb: no entry for nosuch@example.com" "each absent key named on stderr"
rundb "${many[@]}"
is "$rc" 255 "listing 300 absent keys: exit 255"

"$NFSPAMDB" --db "$DB" >/dev/full 2>"$tmp/stderr"
is "$?" 1 "listing into a full device: exit 1"
like "$(<"$tmp/stderr")" 'standard output' "listing into a full device: says so"

# ---- --json -----------------------------------------------------------

rundb --json
is "$rc" 0 "--json: exit 0"
printf '%s\n' "$out" >"$tmp/json"
rundb
printf '%s\n' "$out" >"$tmp/list"
ok 'python3 - "$tmp/json" "$tmp/list" <<"EOF"
import json, sys
want = {"WHITE": ["ip"], "TRAPPED": ["ip"], "SPAMTRAP": ["address"],
    "GREY": ["ip", "helo", "from", "to"]}
times = ["first", "pass", "expire", "bcount", "pcount"]
objs = [json.loads(l) for l in open(sys.argv[1])]
plain = open(sys.argv[2]).read().splitlines()
assert len(objs) == len(plain), (len(objs), len(plain))
for o, p in zip(objs, plain):
    t = o["type"]
    assert sorted(o) == sorted(["type"] + want[t] + times), o
    assert all(type(o[k]) is int for k in times), o
    if t == "WHITE":
        line = "WHITE|%s|||%d|%d|%d|%d|%d" % tuple([o["ip"]] + [o[k] for k in times])
    elif t == "GREY":
        line = "|".join(["GREY"] + [o[k] for k in want[t]] + [str(o[k]) for k in times])
    elif t == "TRAPPED":
        line = "TRAPPED|%s|%d" % (o["ip"], o["expire"])
    else:
        line = "SPAMTRAP|" + o["address"]
    assert line == p, (line, p)
    if t == "TRAPPED": assert o["pcount"] == -1, o
    if t == "SPAMTRAP": assert o["pcount"] == -2 and o["expire"] == 0, o
EOF' "--json: one valid object per line, same entries and values as plain"
rundb --json 2001:db8::1
printf '%s\n' "$out" >"$tmp/json"
ok 'python3 - "$tmp/json" <<"EOF"
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["type"] == "WHITE" and o["ip"] == "2001:db8::/64", o
EOF' "--json with a key (an address finds its network's entry)"

# ---- GREY tuples: listing, -d -G, exact keys ---------------------------

if [ -n "$have_seed" ]; then
	seed -r 1700000000:1700001500:1700014400:2:0 "$DB" \
	    $'192.0.2.50\nmx.example\n<a@example.com>\n<b@example.org>' \
	    $'192.0.2.50\nmx.example\n<a@example.com>\n<c@example.org>' \
	    $'192.0.2.50\nother\n<x@example.com>\n<b@example.org>' \
	    $'192.0.2.51\nh\n<a@example.com>\n<b@example.org>' \
	    $'192.0.2.52\n<old@example.com>\n<b@example.org>' \
	    $'2001:db8::50\nh6\n<a@example.com>\n<b@example.org>' \
	    $'2001:DB8:0::51\nh6\n<a@example.com>\n<b@example.org>'
	rundb -a 192.0.2.50
	rundb
	is "$rc" 0 "listing with tuples: exit 0"
	r='1700000000|1700001500|1700014400|2|0'
	is "$(printf '%s\n' "$out" | grep '^GREY|')" \
"GREY|192.0.2.50|mx.example|<a@example.com>|<b@example.org>|$r
GREY|192.0.2.50|mx.example|<a@example.com>|<c@example.org>|$r
GREY|192.0.2.50|other|<x@example.com>|<b@example.org>|$r
GREY|192.0.2.51|h|<a@example.com>|<b@example.org>|$r
GREY|192.0.2.52||<old@example.com>|<b@example.org>|$r
GREY|2001:DB8:0::51|h6|<a@example.com>|<b@example.org>|$r
GREY|2001:db8::50|h6|<a@example.com>|<b@example.org>|$r" \
	    "GREY lines, in key order; a three-field key prints an empty helo"

	rundb $'192.0.2.51\nh\n<a@example.com>\n<b@example.org>'
	is "$rc" 0 "an exact tuple key can be listed"
	is "$out" "GREY|192.0.2.51|h|<a@example.com>|<b@example.org>|$r" \
	    "exact tuple key: its line"

	rundb -d -G 192.0.2.50
	is "$rc" 0 "-d -G 192.0.2.50: exit 0"
	rundb
	is "$(printf '%s\n' "$out" | grep -c '^GREY|192\.0\.2\.50|')" 0 \
	    "-d -G deletes every tuple of the address"
	is "$(printf '%s\n' "$out" | grep -c '^GREY|')" 4 "-d -G leaves other addresses' tuples"
	like "$(entry 192.0.2.50)" '^WHITE\|192\.0\.2\.50\|' "-d -G leaves the WHITE entry"
	rundb -d -G 192.0.2.50
	is "$rc" 1 "-d -G with no tuples left: exit 1"
	is "$err" "nfspamdb: no GREY entries for 192.0.2.50" "-d -G with no tuples: message"
	rundb -d -G 2001:DB8::50 2001:db8::51
	is "$rc" 0 "-d -G matches IPv6 by address, canonical or not"
	rundb -d -G 192.0.2.52 198.51.100.99 not-an-ip
	is "$rc" 2 "-d -G: one found, one absent, one invalid: exit 2"
	like "$err" 'invalid ip address: not-an-ip' "-d -G invalid address named"
	rundb
	is "$(printf '%s\n' "$out" | grep '^GREY|' | cut -d'|' -f2)" "192.0.2.51" \
	    "only the untouched tuple is left"
	rundb -d $'192.0.2.51\nh\n<a@example.com>\n<b@example.org>'
	is "$rc" 0 "-d with an exact tuple key: exit 0"
	rundb
	is "$(printf '%s\n' "$out" | grep -c '^GREY|')" 0 "the exact tuple was deleted"
else
	skip "no seed_tuples at $SEED" 19
fi

# ---- --json escaping of hostile tuple fields ---------------------------

if [ -n "$have_seed" ]; then
	helo=$'q"b\\s\x01\t\x7f\xff\xc3\xa9\xe2\x82|p'
	# overlong, surrogate and beyond-Unicode forms are not UTF-8 either
	from=$'<\xc0\xaf@x\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80>'
	to=$'<\xf0\x9f\x98\x80@y>'
	seed -r 1:2:3:4:5 "$DB" "192.0.2.60"$'\n'"$helo"$'\n'"$from"$'\n'"$to"
	rundb --json
	is "$rc" 0 "--json with hostile bytes: exit 0"
	printf '%s\n' "$out" >"$tmp/json"
	ok 'python3 - "$tmp/json" <<"EOF"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1], "rb")]  # strict: no raw control chars
o = [o for o in objs if o["type"] == "GREY" and o["ip"] == "192.0.2.60"][0]
assert o["helo"] == "q\"b\\s\x01\t\x7f\xff\u00e9\xe2\x82|p", ascii(o["helo"])
assert o["from"] == "<\xc0\xaf@x\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80>", ascii(o["from"])
assert o["to"] == "<\U0001f600@y>", ascii(o["to"])
assert (o["first"], o["pass"], o["expire"], o["bcount"], o["pcount"]) == (1, 2, 3, 4, 5)
EOF' "--json escapes quotes, backslashes, control and non-UTF-8 bytes, keeps UTF-8"
	line=$(printf '%s\n' "$out" | LC_ALL=C grep -F '"192.0.2.60"')
	like "$line" '\\u0001\\u0009\\u007f\\u00ff' "--json writes control and stray bytes as \\u00XX"
	rundb
	is "$(printf '%s\n' "$out" | LC_ALL=C grep -F '|192.0.2.60|')" \
	    "GREY|192.0.2.60|$helo|$from|$to|1|2|3|4|5" \
	    "the plain line keeps the bytes as stored"
	rundb -d -G 192.0.2.60
else
	skip "no seed_tuples at $SEED" 4
fi

# ---- -d ---------------------------------------------------------------

rundb -d 192.0.2.9
is "$rc" 0 "-d 192.0.2.9: exit 0"
ok '[ -z "$(entry 192.0.2.9)" ]' "-d removed it"
rundb -d 192.0.2.9
is "$rc" 1 "-d of an absent key: exit 1"
is "$err" "nfspamdb: no entry for 192.0.2.9" "-d of an absent key: message"
rundb -d 2001:DB8:0::1 Good@Example.ORG 198.51.100.5 203.0.113.9 x@nowhere
is "$rc" 2 "-d three present, two absent: exit 2"
ok '[ -z "$(entry 2001:db8::1)$(entry good@example.org)$(entry 198.51.100.5)" ]' \
    "-d canonicalises addresses and lower-cases mail keys; TRAPPED found too"
rundb -d -t 192.0.2.1
is "$rc" 1 "-d -t on a WHITE address: not found"
like "$(entry 192.0.2.1)" '^WHITE\|' "-d -t leaves WHITE entries alone"
rundb -a -t 198.51.100.6
rundb -d -t 198.51.100.6
is "$rc" 0 "-d -t on a TRAPPED address: exit 0"
rundb -a -T del@example.org
rundb -d -T DEL@example.org
is "$rc" 0 "-d -T: exit 0"
ok '[ -z "$(entry del@example.org)" ]' "-d -T removed the spamtrap"
rundb -d $'192.0.2.1\nx' -t
is "$rc" 1 "-d -t with a newline in the key: exit 1"
rundb -d "" "$long"
is "$rc" 2 "-d with an empty and a too long key: exit 2"

if [ -n "$have_seed" ]; then
	seed -t spamtrap -r 0:0:0:1:-2 "$DB" Upper@Example.ORG
	is "$(entry Upper@Example.ORG)" "SPAMTRAP|Upper@Example.ORG" \
	    "a mixed-case spamtrap from elsewhere is found as written"
	rundb -d Upper@Example.ORG
	is "$rc" 0 "and deleted as written"
	seed -t white -r 1:2:3:1:0 "$DB" junk-key
	rundb -d junk-key
	is "$rc" 0 "-d deletes a key that is no address"
else
	skip "no seed_tuples at $SEED" 3
fi

# ---- bogus entries ------------------------------------------------------

if command -v mdb_load >/dev/null; then
	printf 'bogus.example\nabc\n192.0.2.99\nxyz\n' |
	    mdb_load -T -s white "$DB" 2>"$tmp/load.err" ||
	    diag "mdb_load: $(<"$tmp/load.err")"
	rundb
	is "$rc" 1 "listing with bogus entries: exit 1"
	like "$err" '^nfspamdb: bogus WHITE entry: bogus\.example$' "bogus entry named with its type"
	like "$out" '^WHITE\|192\.0\.2\.1\|' "listing goes on past bogus entries"
	rundb bogus.example 192.0.2.1
	is "$rc" 1 "looking up a bogus entry counts as a failure"
	is "$(lines "$out")" 1 "the good key is still printed"
	rundb -a 192.0.2.99 192.0.2.98
	is "$rc" 1 "-a on a bogus entry: exit 1"
	like "$err" 'bogus' "-a on a bogus entry: says so"
	like "$(entry 192.0.2.98)" '^WHITE\|' "-a: the other key was still added"
	rundb -d bogus.example 192.0.2.99 192.0.2.98
	is "$rc" 0 "-d removes bogus entries"
	rundb
	is "$rc" 0 "listing after the clean-up: exit 0"
else
	skip "no mdb_load" 10
fi

# ---- foreign and unreadable databases ----------------------------------

if command -v mdb_load >/dev/null && command -v mdb_dump >/dev/null; then
	foreign=$tmp/foreign
	mkdir "$foreign"
	printf 'key-%s\nsomething else\n' "$RANDOM$RANDOM" | mdb_load -T "$foreign"
	before=$(dump "$foreign")
	run --db "$foreign"
	is "$rc" 1 "listing a foreign LMDB environment: exit 1"
	is "$(lines "$err")" 1 "foreign database: one line on stderr"
	like "$err" "$foreign.*not an nfspamd database" "foreign database: named and explained"
	run --db "$foreign" -a 192.0.2.1
	is "$rc" 1 "-a on a foreign database: exit 1"
	run --db "$foreign" -d 192.0.2.1
	is "$rc" 1 "-d on a foreign database: exit 1"
	is "$(dump "$foreign")" "$before" "the foreign database is untouched"
else
	skip "no mdb_load/mdb_dump" 6
fi

if [ "$(id -u)" = 0 ]; then
	skip "running as root: file modes do not stop root" 4
else
	before=$(dump "$DB")
	chmod 000 "$DB"
	rundb
	is "$rc" 1 "listing an unreadable database: exit 1"
	like "$err" "^nfspamdb: $DB: " "unreadable database: named"
	like "$err" "as user $(id -un); $DB is $(id -un)'s own but mode 0000: chmod u[+]rwx $DB" \
	    "unreadable database: the user and the fix named"
	rundb -a 192.0.2.200
	chmod 700 "$DB"
	is "$(dump "$DB")" "$before" "unreadable database: -a changed nothing"
fi

# ---- --import: spamdb and greydb listings -------------------------------

# An OpenBSD spamdb listing, in spamdb's hash order.
cat >"$tmp/spamdb.txt" <<'EOF'
GREY|203.0.113.17|mail.example.net|<newsletter@example.net>|<alice@example.org>|1717171200|1717172700|1717185600|1|0
WHITE|198.51.100.4|||1716900000|1716901560|1720011960|2|14
TRAPPED|192.0.2.200|1717257600
GREY|192.0.2.33|[192.0.2.33]|<qwzx@spam.example>|<bob@example.org>|1717170000|1717171500|1717184400|3|0
SPAMTRAP|honeypot@example.org
WHITE|203.0.113.9|||1716000000|1716001500|1719111900|1|203
GREY|203.0.113.17|mail.example.net|<newsletter@example.net>|<carol@example.org>|1717171210|1717172710|1717185610|1|0
WHITE|192.0.2.25|||1717000000|1717001520|1720111920|1|0
GREY|198.51.100.77|localhost|<>|<postmaster@example.org>|1717172000|1717173500|1717186400|5|0
EOF
# A greyd greydb listing: IPv6 too, a trapped tuple, permitted domains.
cat >"$tmp/greydb.txt" <<'EOF'
GREY|2001:db8:25::17|mx.example.com|<bounce-123@example.com>|<dave@example.org>|1717171300|1717172800|1717185700|1|0
GREY|2001:db8:25::17|mx.example.com|<bounce-124@example.com>|<erin@example.org>|1717171305|1717172805|1717185705|2|0
GREY|192.0.2.81|smtp.example.net|<info@example.net>|<frank@example.org>|1717171400|1717172900|1717185800|1|0
GREY|2001:db8:bad::66|spambox|<offers@spam.example>|<honeypot@example.org>|1717171500|1717173000|1717185900|1|-1
WHITE|2001:db8:25::10|||1716800000|1716801500|1719911900|1|37
WHITE|192.0.2.90|||1716700000|1716701500|1719811900|4|2
TRAPPED|2001:db8:bad::66|1717257900
TRAPPED|198.51.100.66|1717257800
SPAMTRAP|honeypot@example.org
SPAMTRAP|spamtrap@example.net
DOMAIN|example.org
DOMAIN|@example.net
EOF

# listing DIR: the whole database DIR, sorted (exit status in rc).
listing()
{
	run --db "$1"
	printf '%s\n' "$out" | LC_ALL=C sort
}

# sorted FILE: FILE's entry lines, sorted.
sorted()
{
	grep -v '^DOMAIN|' "$1" | LC_ALL=C sort
}

IDB=$tmp/imported
run --db "$IDB" --import "$tmp/spamdb.txt"
is "$rc" 0 "--import a spamdb listing: exit 0"
is "$err" "nfspamdb: $tmp/spamdb.txt: imported 9 entries (3 white, 4 grey, 1 trapped, 1 spamtrap)" \
    "--import: counts on stderr"
is "$out" "" "--import: nothing on stdout"
ok '[ -d "$IDB" ]' "--import creates the database directory"
is "$(listing "$IDB")" "$(sorted "$tmp/spamdb.txt")" \
    "spamdb listing imported: the same lines come back, times and counts kept"
run --db "$IDB" --json
printf '%s\n' "$out" >"$tmp/json.before"

run --db "$IDB" --import "$tmp/spamdb.txt"
is "$rc" 0 "importing the same file again: exit 0"
is "$(listing "$IDB")" "$(sorted "$tmp/spamdb.txt")" "importing again: same listing"
run --db "$IDB" --json
is "$out" "$(<"$tmp/json.before")" \
    "importing again: same records, also the fields the lines do not show"

GDB=$tmp/greyd
run --db "$GDB" --import "$tmp/greydb.txt"
is "$rc" 0 "--import a greydb listing: exit 0"
is "$err" "nfspamdb: $tmp/greydb.txt: imported 10 entries (2 white, 4 grey, 2 trapped, 2 spamtrap)
nfspamdb: $tmp/greydb.txt: 2 DOMAIN entries not imported: nfspamd reads allowed domains from its alloweddomains file" \
    "greydb: counts, and DOMAIN lines named as not imported"
is "$(listing "$GDB")" "$(sorted "$tmp/greydb.txt")" \
    "greydb listing imported: the same lines come back (IPv6 too)"
run --db "$GDB" --json 198.51.100.66
ok 'python3 -c "import json, sys; o = json.loads(sys.argv[1]); assert (o[\"first\"], o[\"pass\"], o[\"expire\"], o[\"bcount\"], o[\"pcount\"]) == (0, 0, 1717257800, 0, -1), o" "$out"' \
    "a TRAPPED line's missing fields are 0, pcount -1"

# Imported records replace what the database held for the same key.
RDB=$tmp/replace
rundb_r() { run --db "$RDB" "$@"; }
rundb_r -a 198.51.100.4 203.0.113.9
rundb_r -a -t 192.0.2.25
rundb_r -a 192.0.2.200
rundb_r -a 192.0.2.1
rundb_r --import "$tmp/spamdb.txt"
is "$rc" 0 "--import over existing entries: exit 0"
is "$(listing "$RDB" | grep -v '^WHITE|192\.0\.2\.1|')" "$(sorted "$tmp/spamdb.txt")" \
    "existing keys take the file's records, WHITE and TRAPPED swap as the file says"
like "$(listing "$RDB")" '^WHITE\|192\.0\.2\.1\|' "keys not in the file stay"

# CRLF, comments, blank lines, the old nine-field GREY form, odd spelling.
printf '# spamdb of mx1\r\n\r\nWHITE|192.0.2.5|||1|2|3|4|5\r\n   \r\n' >"$tmp/crlf.txt"
printf 'GREY|192.0.2.6|<a@example.com>|<b@example.org>|10|20|30|1|0\r\n' >>"$tmp/crlf.txt"
printf 'TRAPPED|2001:DB8:0::7|99\r\nSPAMTRAP|Trap@Example.ORG' >>"$tmp/crlf.txt"
CDB=$tmp/crlf
run --db "$CDB" --import "$tmp/crlf.txt"
is "$rc" 0 "CRLF file with comments and no final newline: exit 0"
is "$(listing "$CDB")" "GREY|192.0.2.6||<a@example.com>|<b@example.org>|10|20|30|1|0
SPAMTRAP|trap@example.org
TRAPPED|2001:db8::7|99
WHITE|192.0.2.5|||1|2|3|4|5" \
    "CRLF file: entries stored; empty HELO for the nine-field form, canonical address, lower-cased trap"

# Standard input: a regular file and a pipe.
SDB=$tmp/stdin
"$NFSPAMDB" --db "$SDB" --import - <"$tmp/greydb.txt" >/dev/null 2>"$tmp/stderr"
is "$?" 0 "--import - from a file: exit 0"
like "$(<"$tmp/stderr")" '^nfspamdb: stdin: imported 10 entries ' "--import -: named stdin"
is "$(listing "$SDB")" "$(sorted "$tmp/greydb.txt")" "--import - from a file: entries stored"
rm -rf "$SDB"
cat "$tmp/spamdb.txt" "$tmp/greydb.txt" | "$NFSPAMDB" --db "$SDB" --import - 2>"$tmp/stderr"
is "$?" 0 "--import - from a pipe: exit 0"
like "$(<"$tmp/stderr")" '^nfspamdb: stdin: imported 19 entries \(5 white, 8 grey, 3 trapped, 3 spamtrap\)$' \
    "--import - from a pipe: counts lines, a key met twice counts twice"
is "$(listing "$SDB")" "$(cat "$tmp/spamdb.txt" "$tmp/greydb.txt" | sorted /dev/stdin | uniq)" \
    "--import - from a pipe: entries stored"

# A bad line in the middle: nothing written.
before=$(listing "$IDB")
json_before=$("$NFSPAMDB" --db "$IDB" --json)
{
	head -n 4 "$tmp/spamdb.txt"
	echo 'WHITE|192.0.2.44|||1717000000|17170x1520|1720111920|1|0'
	tail -n +5 "$tmp/spamdb.txt"
	echo 'WHITE|192.0.2.45|||1717000000|1717001520|1720111920|1|0'
} >"$tmp/bad.txt"
run --db "$IDB" --import "$tmp/bad.txt"
is "$rc" 1 "a file with one bad line: exit 1"
is "$err" "nfspamdb: $tmp/bad.txt:5: pass is not a number: \"17170x1520\"
nfspamdb: $tmp/bad.txt: 1 bad line, nothing imported" \
    "the bad line: FILE:LINE, what is wrong and the value"
is "$(listing "$IDB")" "$before" "a bad line: the database is unchanged"
is "$("$NFSPAMDB" --db "$IDB" --json)" "$json_before" "a bad line: the records are unchanged"
# greyd lists its IPv6 entries as 255.255.255.255: named, not imported.
printf 'WHITE|192.0.2.46|||1717000000|1717001520|1720111920|1|0\nWHITE|255.255.255.255|||1717000000|1717001520|1720111920|1|0\n' \
    >"$tmp/bcast.txt"
run --db "$IDB" --import "$tmp/bcast.txt"
is "$rc" 1 "a file with a broadcast address: exit 1"
is "$err" "nfspamdb: $tmp/bcast.txt:2: not a client address (broadcast): \"255.255.255.255\"
nfspamdb: $tmp/bcast.txt: 1 bad line, nothing imported" \
    "the broadcast line: FILE:LINE and the reason"
is "$(listing "$IDB")" "$before" "a broadcast line: the database is unchanged"
run --db "$tmp/never" --import "$tmp/bad.txt"
is "$rc" 1 "a bad file and no database: exit 1"
ok '[ ! -e "$tmp/never" ]' "a bad file creates no database"

long=$(printf 'x%.0s' {1..5000})
cat >"$tmp/bad2.txt" <<EOF
# every kind of mistake, each on its own line
BLACK|192.0.2.1
WHITE|192.0.2.1|||1|2|3|4
TRAPPED|192.0.2.300|1717257600
GREY|192.0.2.1|helo|<$(printf 'a%.0s' {1..500})@example.com>|<b@example.org>|1|2|3|4|5
SPAMTRAP|nobody.example.org
$long
WHITE|192.0.2.9|||1|2|3|4|-1
EOF
run --db "$IDB" --import "$tmp/bad2.txt"
is "$rc" 1 "a file of bad lines: exit 1"
is "$(lines "$err")" 8 "each bad line reported, then the count"
like "$err" "^nfspamdb: $tmp/bad2.txt:2: unknown entry type: \"BLACK\"$" "unknown type named"
like "$err" "^nfspamdb: $tmp/bad2.txt:3: WHITE line with 8 fields, not 9: \"WHITE\\|192\\.0\\.2\\.1\\|\\|\\|1\\|2\\|3\\|4\"$" \
    "wrong field count named"
like "$err" "^nfspamdb: $tmp/bad2.txt:4: bad IP address \\(.+\\): \"192\\.0\\.2\\.300\"$" "bad address named"
like "$err" "^nfspamdb: $tmp/bad2.txt:5: GREY tuple of 545 bytes, more than the database keeps \\(511\\): \"GREY\\|192\\.0\\.2\\.1\\|helo\\|<aaa.*\\.\\.\\.\"$" \
    "a tuple too long for the store named"
like "$err" "^nfspamdb: $tmp/bad2.txt:6: spam trap address without '@': \"nobody\\.example\\.org\"$" \
    "a spam trap without @ named"
like "$err" "^nfspamdb: $tmp/bad2.txt:7: line longer than 4096 bytes$" "a too long line named"
like "$err" "^nfspamdb: $tmp/bad2.txt:8: WHITE pcount is out of range \\(0 to 2147483647\\): \"-1\"$" \
    "a negative WHITE pcount named"
like "$err" "^nfspamdb: $tmp/bad2.txt: 7 bad lines, nothing imported$" "the count of bad lines"
is "$(listing "$IDB")" "$before" "bad lines: the database is unchanged"

seq -f 'WHITE|192.0.2.%g' 1 30 >"$tmp/many.txt"
run --db "$IDB" --import "$tmp/many.txt"
is "$rc" 1 "30 bad lines: exit 1"
is "$(lines "$err")" 21 "30 bad lines: the first 20 reported, then the count"
like "$err" "^nfspamdb: $tmp/many.txt:20: " "the 20th is reported"
like "$err" "^nfspamdb: $tmp/many.txt: 30 bad lines \\(the first 20 shown\\), nothing imported$" \
    "30 bad lines: the count says how many were shown"

printf 'WHITE|192.0.2.1|||1|2|3|4|5\nSPAM|x\n' | "$NFSPAMDB" --db "$IDB" --import - 2>"$tmp/stderr"
is "$?" 1 "a bad line on a pipe: exit 1"
is "$(<"$tmp/stderr")" "nfspamdb: stdin:2: unknown entry type: \"SPAM\"
nfspamdb: stdin: 1 bad line, nothing imported" "a bad line on a pipe: stdin:LINE"
is "$(listing "$IDB")" "$before" "a bad line on a pipe: the database is unchanged"

run --db "$IDB" --import "$tmp/no-such-file"
is "$rc" 1 "--import of a missing file: exit 1"
is "$err" "nfspamdb: $tmp/no-such-file: No such file or directory" "a missing file: named"
: >"$tmp/empty.txt"
run --db "$IDB" --import "$tmp/empty.txt"
is "$rc" 0 "--import of an empty file: exit 0"
is "$err" "nfspamdb: $tmp/empty.txt: imported 0 entries (0 white, 0 grey, 0 trapped, 0 spamtrap)" \
    "an empty file: nothing imported, and it says so"

# ---- an address's GREY tuples are listed with it -----------------------

run --db "$GDB" 2001:DB8:25:0::17
is "$rc" 0 "an address with tuples only: exit 0"
is "$out" "$(grep '^GREY|2001:db8:25::17|' "$tmp/greydb.txt")" \
    "an address: all its GREY tuples, whatever the spelling of the key"
run --db "$GDB" 2001:db8:bad::66 192.0.2.90
is "$rc" 0 "a TRAPPED address with a tuple and a WHITE one: exit 0"
is "$out" "TRAPPED|2001:db8:bad::66|1717257900
$(grep '^GREY|2001:db8:bad::66|' "$tmp/greydb.txt")
WHITE|192.0.2.90|||1716700000|1716701500|1719811900|4|2" \
    "the entry first, then its tuples, key by key"
run --db "$GDB" 192.0.2.99 192.0.2.81 192.0.2.81
is "$rc" 1 "one absent address and one given twice: exit 1"
is "$(lines "$out")" 2 "the tuples of an address given twice are listed twice"
is "$err" "nfspamdb: no entry for 192.0.2.99" "the absent one named"
run --db "$GDB" --json 2001:db8:25::17
ok 'python3 -c "
import json, sys
objs = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [o[\"to\"] for o in objs] == [\"<dave@example.org>\", \"<erin@example.org>\"], objs
assert all(o[\"type\"] == \"GREY\" and o[\"ip\"] == \"2001:db8:25::17\" for o in objs), objs
" "$out"' "--json with an address: its tuples as GREY objects"

# ---- root: files belong to the database directory's owner --------------

if [ "$(id -u)" != 0 ]; then
	skip "not root: no other user to become" 6
else
	user=
	for u in nobody daemon; do
		id -u "$u" >/dev/null 2>&1 && [ "$(id -u "$u")" != 0 ] && {
			user=$u
			break
		}
	done
	if [ -z "$user" ]; then
		skip "no nobody or daemon user" 6
	else
		chmod 755 "$tmp"
		own=$tmp/owned
		mkdir "$own"
		chown "$user" "$own"
		run --db "$own" -a 192.0.2.1
		is "$rc" 0 "root, -a on a new database in $user's directory: exit 0"
		is "$(find "$own" ! -user "$user" | wc -l)" 0 \
		    "root, -a: every file in the directory is $user's"
		run --db "$own" --import "$tmp/greydb.txt"
		is "$(find "$own" ! -user "$user" | wc -l)" 0 \
		    "root, --import: every file is still $user's"
		is "$(listing "$own" | grep -c .)" 11 "root: listing works as $user"
		chown root "$own/data.mdb"
		run --db "$own" -a 192.0.2.2
		is "$rc" 1 "a root-owned data.mdb in $user's directory: exit 1"
		like "$err" "as user $user; $own/data.mdb is owned by root.*chown $user" \
		    "the permission error names the file, the user and the fix"
		chmod 700 "$tmp"
	fi
fi

# ---- concurrency --------------------------------------------------------

for d in "$DB" "$tmp/fresh"; do
	pids=()
	for i in $(seq 1 20); do
		"$NFSPAMDB" --db "$d" -a "203.0.113.$i" 2>"$tmp/par.$i" &
		pids+=($!)
	done
	fails=0
	for p in "${pids[@]}"; do
		wait "$p" || fails=$((fails + 1))
	done
	what="an existing"
	[ "$d" = "$DB" ] || what="a new"
	is "$fails" 0 "20 parallel -a on $what database: all exit 0"
	[ "$fails" = 0 ] || diag "$(cat "$tmp"/par.*)"
	out=$("$NFSPAMDB" --db "$d" $(seq -f '203.0.113.%g' 1 20) 2>/dev/null)
	is "$(lines "$out")" 20 "all 20 parallel additions are present"
done

done_testing
