#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# nfspamdb against a shared store: redis-servers of its own on Unix
# sockets in a scratch directory, without persistence.  -a, -d, -T, -t,
# listing, --import and --stats on --store, what lands in Redis (keys,
# TTLs, sorted sets, the event stream), --copy-from both ways with the
# -N setting, bad URLs, an unreachable or silent server, and
# --store-password-file against a server with a password.  As root,
# --copy-from with directories of another user.  TAP on stdout; the
# whole test is skipped without redis-server.
#
# Environment: NFSPAMDB (the binary), top_srcdir (for tests/lib/tap.sh),
# REDIS_SERVER and REDIS_CLI (default /usr/bin/redis-server, -cli).

# ok's conditions are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2034,SC2317

top_srcdir=${top_srcdir:-.}
NFSPAMDB=${NFSPAMDB:-./src/nfspamdb/nfspamdb}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_CLI=${REDIS_CLI:-/usr/bin/redis-cli}

. "$top_srcdir/tests/lib/tap.sh" || exit 99

if [ ! -x "$REDIS_SERVER" ] || [ ! -x "$REDIS_CLI" ]; then
	echo "1..0 # SKIP no $REDIS_SERVER or $REDIS_CLI"
	exit 0
fi
[ -x "$NFSPAMDB" ] || bail_out "no nfspamdb at $NFSPAMDB (set NFSPAMDB)"

tmp=$(mktemp -d /tmp/nfs-shared.XXXXXX) || bail_out "mktemp -d failed"
pids=()
cleanup()
{
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	chmod -R u+rwx "$tmp" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# start_redis NAME [ARGS...]: a server on $tmp/NAME.sock, up when this
# returns (a server with a password answers PING with NOAUTH).
start_redis()
{
	local name=$1 i
	shift

	"$REDIS_SERVER" --port 0 --unixsocket "$tmp/$name.sock" \
	    --unixsocketperm 700 --save "" --appendonly no --dir "$tmp" \
	    --logfile "$tmp/$name.log" "$@" >/dev/null 2>&1 &
	pids+=($!)
	for ((i = 0; i < 200; i++)); do
		if [ -S "$tmp/$name.sock" ] &&
		    "$REDIS_CLI" -s "$tmp/$name.sock" PING 2>&1 |
		    grep -Eq 'PONG|NOAUTH'; then
			return 0
		fi
		sleep 0.05
	done
	bail_out "redis-server $name did not start: $(tail -n 5 "$tmp/$name.log" 2>/dev/null)"
}

# run ARGS...: runs nfspamdb; sets out, err (trailing newlines cut), rc.
run()
{
	out=$("$NFSPAMDB" "$@" 2>"$tmp/stderr")
	rc=$?
	err=$(<"$tmp/stderr")
}

# runs ARGS...: the same against the shared store.
runs()
{
	run --store "$U" "$@"
}

# R [-n DB] ARGS...: redis-cli on the first server.
R()
{
	"$REDIS_CLI" -s "$tmp/a.sock" "$@"
}

# field N LINE: the Nth |-separated field.
field()
{
	printf '%s\n' "$2" | cut -d'|' -f"$1"
}

# near A B: integers at most 2 apart (a second may tick between).
near()
{
	[[ $1 =~ ^-?[0-9]+$ ]] && [[ $2 =~ ^-?[0-9]+$ ]] &&
	    [ $(($1 - $2)) -le 2 ] && [ $(($2 - $1)) -le 2 ]
}

# sorted_list ARGS...: nfspamdb's listing, sorted, into stdout.
sorted_list()
{
	"$NFSPAMDB" "$@" 2>>"$tmp/list.err" | LC_ALL=C sort
}

start_redis a
U=unix:$tmp/a.sock
UN="unix:$tmp/a.sock?db=0"	# as messages name it

# ---- -a, listing, -d on --store ---------------------------------------

runs
is "$rc" 0 "listing an empty shared store: exit 0"
is "$out" "" "listing an empty shared store: nothing"

runs -a 192.0.2.1
is "$rc" 0 "--store -a 192.0.2.1: exit 0"
is "$err" "" "--store -a: quiet"
runs 192.0.2.1
line=$out
like "$line" '^WHITE\|192\.0\.2\.1\|\|\|[0-9]+\|[0-9]+\|[0-9]+\|1\|0$' \
    "the WHITE entry is listed"
expire=$(field 7 "$line")
now=$(date +%s)
ok 'near "$(R TTL nfspamd:a:192.0.2.1)" $((expire - now))' \
    "nfspamd:a:192.0.2.1 has a TTL of expiry - now"
is "$(R ZSCORE nfspamd:white 192.0.2.1)" "$expire" \
    "nfspamd:white holds the address, scored by its expiry"
is "$(R XREVRANGE nfspamd:events + - COUNT 1 | tail -n +2)" \
    "t
W
a
192.0.2.1
e
$expire" "nfspamd:events got a W event with the expiry"

runs -a -t 198.51.100.5
is "$rc" 0 "--store -a -t: exit 0"
line=$(runs 198.51.100.5 && echo "$out")
like "$line" '^TRAPPED\|198\.51\.100\.5\|[0-9]+$' "the TRAPPED entry is listed"
texp=$(field 3 "$line")
now=$(date +%s)
ok 'near "$(R TTL nfspamd:a:198.51.100.5)" $((texp - now))' \
    "the TRAPPED key's TTL is its expiry - now"
is "$(R ZSCORE nfspamd:trapped 198.51.100.5)" "$texp" \
    "nfspamd:trapped holds it"

runs -a -T Trap@Example.COM
is "$rc" 0 "--store -a -T: exit 0"
runs trap@example.com
is "$out" "SPAMTRAP|trap@example.com" "the spamtrap is listed, lower-cased"
is "$(R HEXISTS nfspamd:spamtrap trap@example.com)" 1 \
    "nfspamd:spamtrap holds it"
is "$(R TTL nfspamd:spamtrap)" -1 "spamtraps never expire: no TTL"

runs -a -t 192.0.2.1
runs 192.0.2.1
like "$out" '^TRAPPED\|192\.0\.2\.1\|' "-a -t moves a WHITE address to TRAPPED"
is "$(R ZSCORE nfspamd:white 192.0.2.1)" "" "... out of nfspamd:white"
ok '[ -n "$(R ZSCORE nfspamd:trapped 192.0.2.1)" ]' "... into nfspamd:trapped"
is "$(R XREVRANGE nfspamd:events + - COUNT 1 | sed -n 3p)" T \
    "... with a T event"

runs
is "$rc" 0 "listing: exit 0"
is "$(printf '%s\n' "$out" | LC_ALL=C sort)" \
    "SPAMTRAP|trap@example.com
TRAPPED|192.0.2.1|$(field 3 "$(runs 192.0.2.1 && echo "$out")")
TRAPPED|198.51.100.5|$texp" "listing: every entry"

runs --json 198.51.100.5
like "$out" '^\{"type":"TRAPPED","ip":"198\.51\.100\.5",.*"pcount":-1\}$' \
    "--json on --store"
runs --os 198.51.100.5
like "$out" '^TRAPPED\|198\.51\.100\.5\|[0-9]+\|$' "--os on --store: an empty OS"

runs -d 192.0.2.1
is "$rc" 0 "--store -d 192.0.2.1: exit 0"
is "$(R EXISTS nfspamd:a:192.0.2.1)" 0 "-d deletes the key"
is "$(R ZSCORE nfspamd:trapped 192.0.2.1)" "" "... and the sorted set's member"
is "$(R XREVRANGE nfspamd:events + - COUNT 1 | tail -n +2 | tr '\n' ' ')" \
    "t D a 192.0.2.1 e 0 " "... with a D event"
runs -d 192.0.2.1
is "$rc" 1 "-d of an absent key: exit 1"
is "$err" "nfspamdb: no entry for 192.0.2.1" "-d of an absent key: named"
runs -d -t 198.51.100.5
is "$rc" 0 "-d -t: exit 0"
runs -d -T trap@example.com
is "$rc" 0 "-d -T: exit 0"
runs
is "$out" "" "everything deleted"

# ---- --import and tuples ------------------------------------------------

now=$(date +%s)
g1=$((now + 14400))
g2=$((now + 20000))
cat >"$tmp/import.txt" <<EOF
WHITE|192.0.2.10|||$((now - 100))|$((now - 50))|$((now + 86400))|2|1
GREY|192.0.2.20|mx.example|<a@example.com>|<b@example.org>|$((now - 10))|$((now + 1500))|$g1|1|0
GREY|192.0.2.20|mx.example|<a@example.com>|<c@example.org>|$((now - 10))|$((now + 1500))|$g2|3|0
GREY|192.0.2.21|<a@example.com>|<b@example.org>|$((now - 10))|$((now + 1500))|$g1|1|0
TRAPPED|198.51.100.9|$((now + 3600))
SPAMTRAP|x@example.com
EOF
runs --import "$tmp/import.txt"
is "$rc" 0 "--store --import: exit 0"
is "$err" "nfspamdb: $tmp/import.txt: imported 6 entries (1 white, 3 grey, 1 trapped, 1 spamtrap)" \
    "--import reports what it stored"
is "$(R HLEN nfspamd:g:192.0.2.20)" 2 "a network's tuples share one hash"
ok 'near "$(R TTL nfspamd:g:192.0.2.20)" $((g2 - now))' \
    "the hash lives as long as its latest tuple"
runs 192.0.2.21
is "$out" "GREY|192.0.2.21||<a@example.com>|<b@example.org>|$((now - 10))|$((now + 1500))|$g1|1|0" \
    "an address lists its tuples; a three-field tuple keeps its form"
runs -d -G 192.0.2.20
is "$rc" 0 "--store -d -G: exit 0"
is "$(R EXISTS nfspamd:g:192.0.2.20)" 0 "-d -G deletes every tuple (and the hash)"
runs -d -G 192.0.2.20
is "$rc" 1 "-d -G again: exit 1"
is "$err" "nfspamdb: no GREY entries for 192.0.2.20" "-d -G again: says so"

# ---- --stats ------------------------------------------------------------

runs --stats --control "$tmp/none.sock"
is "$rc" 0 "--store --stats: exit 0"
ok '[[ $out == "database $UN at "* ]]' "--stats names the shared store"
like "$out" '^GREY +1 +0 ' "--stats counts tuples by walking"
like "$out" '^A shared store, walked in no order' "--stats says how it counted"
runs --stats --json --control "$tmp/none.sock"
like "$out" '"shared":true' "--stats --json: shared"
like "$out" '"grey":\{"count":1,' "--stats --json: the tuple counted"

# ---- --copy-from -----------------------------------------------------------

# The source: live entries, and expired ones (192.0.2.9x, 198.51.100.9x).
now=$(date +%s)
cat >"$tmp/src.txt" <<EOF
WHITE|192.0.2.1|||$((now - 100))|$((now - 50))|$((now + 86400))|2|1
WHITE|2001:db8::/64|||$((now - 100))|$((now - 50))|$((now + 86400))|1|0
WHITE|192.0.2.91|||1000|2000|3000|1|0
GREY|192.0.2.20|mx.example|<a@example.com>|<b@example.org>|$((now - 10))|$((now + 1500))|$((now + 14400))|1|0
GREY|192.0.2.20|mx.example|<a@example.com>|<c@example.org>|$((now - 10))|$((now + 1500))|$((now + 14400))|2|0
GREY|192.0.2.21|<a@example.com>|<b@example.org>|$((now - 10))|$((now + 1500))|$((now + 14400))|1|0
GREY|192.0.2.92|h|<a@example.com>|<b@example.org>|1|2|3|1|0
TRAPPED|198.51.100.5|$((now + 3600))
TRAPPED|198.51.100.95|5
SPAMTRAP|a@example.com
SPAMTRAP|b@example.com
EOF
run --db "$tmp/lm" --import "$tmp/src.txt"
is "$rc" 0 "an LMDB source made"
sorted_list --db "$tmp/lm" | grep -Ev '\|(192\.0\.2\.9|198\.51\.100\.9)' \
    >"$tmp/want"
is "$(wc -l <"$tmp/want")" 8 "the source holds eight live entries"

run --store "unix:$tmp/a.sock?db=1" --copy-from "$tmp/lm"
is "$rc" 0 "LMDB -> Redis: exit 0"
is "$out" "copied 2 WHITE, 3 GREY, 1 TRAPPED, 2 SPAMTRAP from $tmp/lm to unix:$tmp/a.sock?db=1 (3 expired, 0 bogus skipped)" \
    "LMDB -> Redis: the summary line"
is "$err" "" "LMDB -> Redis: nothing on stderr"
sorted_list --store "unix:$tmp/a.sock?db=1" >"$tmp/got"
ok 'diff "$tmp/want" "$tmp/got"' "LMDB -> Redis: the same live entries"
ok '[ "$(R -n 1 TTL nfspamd:a:192.0.2.1)" -gt 86000 ]' \
    "LMDB -> Redis: the copy has its TTLs"
is "$(R -n 1 ZCARD nfspamd:white)" 2 "LMDB -> Redis: nfspamd:white filled"

run --db "$tmp/lm2" --copy-from "unix:$tmp/a.sock?db=1"
is "$rc" 0 "Redis -> a fresh LMDB: exit 0"
is "$out" "copied 2 WHITE, 3 GREY, 1 TRAPPED, 2 SPAMTRAP from unix:$tmp/a.sock?db=1 to $tmp/lm2 (0 expired, 0 bogus skipped)" \
    "Redis -> LMDB: the summary line"
sorted_list --db "$tmp/lm2" >"$tmp/got2"
ok 'diff "$tmp/want" "$tmp/got2"' "Redis -> LMDB: the same live entries"

run --db "$tmp/lm2" --copy-from "unix:$tmp/a.sock?db=1"
is "$rc" 0 "copying again: exit 0"
sorted_list --db "$tmp/lm2" >"$tmp/got2"
ok 'diff "$tmp/want" "$tmp/got2"' "copying again changes nothing"

run --db "$tmp/lm" --copy-from "$tmp/lm"
is "$rc" 1 "a store into itself: exit 1"
is "$err" "nfspamdb: --copy-from $tmp/lm: the same store as $tmp/lm" \
    "a store into itself: refused"
run --store "unix:$tmp/a.sock?db=1" --copy-from "unix:$tmp/a.sock?db=1"
is "$rc" 1 "a shared store into itself: exit 1"
run --db "$tmp/lm9" --copy-from "$tmp/nosuch"
is "$rc" 1 "a missing LMDB source: exit 1"
like "$err" "^nfspamdb: $tmp/nosuch: " "a missing LMDB source: named"
ok '[ ! -e "$tmp/lm9" ]' "a missing source makes no destination"
for args in "-a" "-d" "-t" "--json" "--os" "--stats" "--import x" "192.0.2.1"; do
	# shellcheck disable=SC2086	# split on purpose
	run --db "$tmp/lm9" --copy-from "$tmp/lm" $args
	is "$rc" 1 "--copy-from with $args: exit 1"
done
run --db "$tmp/lm9" --copy-from "$tmp/lm" --copy-password-file /dev/null
is "$rc" 1 "--copy-password-file with a directory: exit 1"
like "$err" 'goes with a --copy-from URL' "... says so"

# -N: copied when the destination has none, refused when it differs.
R -n 1 HSET nfspamd:meta prefix-lengths $'\x18@' >/dev/null
R -n 2 HSET nfspamd:meta prefix-lengths $'\x20@' >/dev/null
run --db "$tmp/lm3" --copy-from "unix:$tmp/a.sock?db=1"
is "$rc" 0 "a source with -N 24:64 into a fresh LMDB: exit 0"
run --db "$tmp/lm3" -a 203.0.113.7
run --db "$tmp/lm3" 203.0.113.7
like "$out" '^WHITE\|203\.0\.113\.0/24\|' "the -N setting came along (-a keys by /24)"
run --store "unix:$tmp/a.sock?db=2" --copy-from "$tmp/lm3"
is "$rc" 1 "-N 24:64 into a store with -N 32:64: exit 1"
is "$err" "nfspamdb: $tmp/lm3 keys by -N 24:64 but unix:$tmp/a.sock?db=2 by -N 32:64: the WHITE entries and tuples copied would not be found; nothing copied" \
    "the refusal names both settings"
is "$(R -n 2 DBSIZE)" 1 "nothing was copied"

# Bogus entries are counted, named and left behind.
R -n 3 HSET nfspamd:g:192.0.2.30 $'h\n<a@x>\n<b@y>' short >/dev/null
R -n 3 HSET nfspamd:spamtrap bad@example.com short >/dev/null
run --store "unix:$tmp/a.sock?db=3" -a 192.0.2.31
run --db "$tmp/lm4" --copy-from "unix:$tmp/a.sock?db=3"
is "$rc" 0 "a source with bogus entries: exit 0"
is "$out" "copied 1 WHITE, 0 GREY, 0 TRAPPED, 0 SPAMTRAP from unix:$tmp/a.sock?db=3 to $tmp/lm4 (0 expired, 2 bogus skipped)" \
    "bogus entries: counted in the summary"
like "$err" "^nfspamdb: unix:$tmp/a\.sock\?db=3: bogus GREY entry .*192\.0\.2\.30.* not copied$" \
    "the bogus tuple is named"
like "$err" "bogus SPAMTRAP entry bad@example\.com .*not copied$" \
    "the bogus spamtrap is named"

# ---- bad URLs, unreachable and silent servers ---------------------------

run --store redis://host:0
is "$rc" 1 "port 0: exit 1"
is "$err" 'nfspamdb: --store redis://host:0: port "0" is not from 1 to 65535' \
    "port 0: says so"
run --store redis://user:secret@host
is "$rc" 1 "a password in the URL: exit 1"
like "$err" 'use --store-password-file' "a password in the URL: says what to use"
ok '! printf "%s\n" "$err" | grep -q secret' "... and does not repeat it"
run --store unix:run/redis.sock
is "$rc" 1 "a relative socket: exit 1"
like "$err" 'absolute socket path' "a relative socket: says so"
run --store "$tmp/lm"
is "$rc" 1 "a directory as --store: exit 1"
like "$err" 'want redis://host' "a directory as --store: says what is wanted"
run --db "$U"
is "$rc" 1 "a URL as --db: exit 1"
like "$err" 'a shared store goes with --store' "a URL as --db: says so"
run --copy-from redis://host/70000 --db "$tmp/lm9"
is "$rc" 1 "a bad --copy-from URL: exit 1"
like "$err" '^nfspamdb: --copy-from redis://host/70000: database' \
    "a bad --copy-from URL: named as --copy-from"
run --store "$U" --db "$tmp/lm"
is "$rc" 1 "--store and --db: exit 1"
run --store-password-file /dev/null
is "$rc" 1 "--store-password-file without --store: exit 1"

run --store "unix:$tmp/none.sock"
is "$rc" 1 "no server on the socket: exit 1"
is "$err" "nfspamdb: unix:$tmp/none.sock?db=0: No such file or directory" \
    "no server on the socket: names the store and why"
run --store redis://127.0.0.1:1
is "$rc" 1 "nothing listening on the port: exit 1"
like "$err" '^nfspamdb: redis://127\.0\.0\.1:1/0: ' "... names the store"
run --db "$tmp/lm9" --copy-from "unix:$tmp/none.sock"
is "$rc" 1 "an unreachable source: exit 1"
like "$err" "^nfspamdb: unix:$tmp/none\\.sock\\?db=0: " "... named"
ok '[ ! -e "$tmp/lm9" ]' "an unreachable source makes no destination"

python3 - "$tmp/silent.sock" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
conns = []
while True:
    conns.append(s.accept()[0])
EOF
pids+=($!)
for ((i = 0; i < 100; i++)); do
	[ -S "$tmp/silent.sock" ] && break
	sleep 0.05
done
t0=$(date +%s)
run --store "unix:$tmp/silent.sock"
t1=$(date +%s)
is "$rc" 1 "a server that never answers: exit 1"
ok '[ $((t1 - t0)) -le 6 ]' "a server that never answers: no hang ($((t1 - t0)) s)"
like "$err" "^nfspamdb: unix:$tmp/silent\\.sock\\?db=0: " "... names the store"

# ---- a server with a password ---------------------------------------------

start_redis p --requirepass s3cret
P=unix:$tmp/p.sock
printf 's3cret\n' >"$tmp/pass"
printf 'wrong\n' >"$tmp/wrongpass"
run --store "$P"
is "$rc" 1 "no password: exit 1"
like "$err" "^nfspamdb: unix:$tmp/p\\.sock\\?db=0: NOAUTH" "no password: the server's NOAUTH"
run --store "$P" --store-password-file "$tmp/wrongpass"
is "$rc" 1 "a wrong password: exit 1"
like "$err" "^nfspamdb: unix:$tmp/p\\.sock\\?db=0: AUTH: WRONGPASS" \
    "a wrong password: a clear AUTH error"
run --store "$P" --store-password-file "$tmp/nopass"
is "$rc" 1 "a missing password file: exit 1"
like "$err" "--store-password-file $tmp/nopass: No such file" \
    "a missing password file: named"
run --store "$P" --store-password-file "$tmp/pass" -a 192.0.2.40
is "$rc" 0 "the right password: -a works"
run --store "$P" --store-password-file "$tmp/pass" --copy-from "$tmp/lm"
is "$rc" 0 "LMDB -> a server with a password: exit 0"
run --db "$tmp/lm5" --copy-from "$P" --copy-password-file "$tmp/wrongpass"
is "$rc" 1 "copying with a wrong source password: exit 1"
like "$err" 'AUTH: WRONGPASS' "... the AUTH error"
run --db "$tmp/lm5" --copy-from "$P" --copy-password-file "$tmp/nopass"
is "$rc" 1 "copying with a missing source password file: exit 1"
like "$err" "^nfspamdb: --copy-password-file $tmp/nopass: " \
    "... named as --copy-password-file"
run --db "$tmp/lm5" --copy-from "$P" --copy-password-file "$tmp/pass"
is "$rc" 0 "a server with a password -> LMDB: exit 0"
like "$out" '^copied 3 WHITE, 3 GREY, 1 TRAPPED, 2 SPAMTRAP ' \
    "... everything copied"

# ---- root: directories of another user -----------------------------------

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$tmp"
	grp=$(id -gn nobody)
	cp -r "$tmp/lm" "$tmp/lmn"
	rm -f "$tmp/lmn/lock.mdb"
	chown -R nobody:"$grp" "$tmp/lmn"
	run --store "unix:$tmp/a.sock?db=4" --copy-from "$tmp/lmn"
	is "$rc" 0 "root: nobody's LMDB -> Redis (root's socket): exit 0"
	is "$(stat -c %U "$tmp/lmn/lock.mdb" 2>&1)" nobody \
	    "root: the source's lock file is its owner's"
	mkdir "$tmp/lmd"
	chown nobody:"$grp" "$tmp/lmd"
	run --db "$tmp/lmd" --copy-from "unix:$tmp/a.sock?db=4"
	is "$rc" 0 "root: Redis -> nobody's directory: exit 0"
	is "$(find "$tmp/lmd" ! -user nobody | wc -l)" 0 \
	    "root: every file made there is nobody's"
	mkdir "$tmp/nb"
	chown nobody:"$grp" "$tmp/nb"
	run --db "$tmp/nb/lm6" --copy-from "$tmp/lmn"
	is "$rc" 0 "root: nobody's LMDB -> a new directory: exit 0"
	is "$(stat -c %U "$tmp/nb/lm6")" nobody \
	    "root: made as the source's owner"
	run --db "$tmp/lm2" --copy-from "$tmp/lmn"
	is "$rc" 1 "root: two directories of two owners: exit 1"
	is "$err" "nfspamdb: $tmp/lmn belongs to nobody and $tmp/lm2 to root: copy as one of them, with access to the other" \
	    "root: ... says whose they are"
else
	skip "not root" 8
fi

rm -f "$tmp/list.err"
done_testing
