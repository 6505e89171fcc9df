#!/bin/bash
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

for args in "-G" "-t" "-T" "-G 192.0.2.1" "-t 192.0.2.1" "-a -d 192.0.2.1" \
    "-a -t -T 192.0.2.1" "-d -G -t 192.0.2.1" "-a -G -T x@y" "-x" \
    "--bogus" "--json -a 192.0.2.1" "--json -d 192.0.2.1"; do
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
is "$line" "WHITE|2001:db8::1|||$v6first|$v6first|$((v6first + WHITEEXP))|1|0" \
    "IPv6 address stored in canonical form"
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
assert o["type"] == "WHITE" and o["ip"] == "2001:db8::1", o
EOF' "--json with a key"

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
	skip "running as root: file modes do not stop root" 3
else
	before=$(dump "$DB")
	chmod 000 "$DB"
	rundb
	is "$rc" 1 "listing an unreadable database: exit 1"
	like "$err" "^nfspamdb: $DB: " "unreadable database: named"
	rundb -a 192.0.2.200
	chmod 700 "$DB"
	is "$(dump "$DB")" "$before" "unreadable database: -a changed nothing"
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
