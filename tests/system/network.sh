#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
#
# tests/system/network.sh: greylisting by network (nfspamd -N) with a
# real Postfix sender whose retry comes from another address of its
# network, behind the shipped ruleset, in network namespaces (as root).
#
# snd (10.77.1.2 and .3, fd77:1::2 and ::3) sends through gw, which runs
# nft/nfspamd.nft, nfspamd and a receiving Postfix.  The sending Postfix
# binds its first attempt to .2 and ::2 (smtp_bind_address,
# smtp_bind_address6), then is told to bind to .3 and ::3 and flushed.
#  1. -N 24:64, the ruleset's masks at /24 and /64: the retry passes,
#     the networks 10.77.1.0/24 and fd77:1::/64 are WHITE in the
#     database and their network addresses are in @spamd-white and
#     @spamd-white6; the message is delivered on the next attempt, and a
#     new message goes straight to the receiving Postfix.
#  2. -N 32:128, full masks: the retry from .3 and ::3 is a new tuple,
#     not a pass, and nothing is whitelisted (spamd's behaviour).
#  3. The kernel renews a whitelisted network's element from the packet
#     path (the ruleset's update statement); the database still wins: the
#     element goes when its WHITE entry is deleted.
#  4. A ruleset whose masks do not match -N: a sender WHITE for long that
#     still reaches nfspamd makes it say what to check.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build/plain}
NTESTS=27

. "$top_srcdir/tests/lib/tap.sh"
step() { diag "[+$(lab_elapsed)s] $*"; }
skip_all()
{
	skip "$1" "$NTESTS"
	done_testing
}

[ "$(id -u)" = 0 ] || skip_all "not root"
for c in postfix postconf postqueue nft ip python3; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done
[ -r /usr/share/postfix/master.cf.dist ] || skip_all "postfix not installed"

nfspamd=$top_builddir/src/nfspamd/nfspamd
nfspamdb=$top_builddir/src/nfspamdb/nfspamdb
ruleset=$top_srcdir/nft/nfspamd.nft
if [ ! -x "$nfspamd" ] || [ ! -x "$nfspamdb" ]; then
	echo "Bail out! no nfspamd or nfspamdb in $top_builddir (build first)"
	exit 1
fi

. "$here/lib.sh"
lab_init net
lab_watchdog 200 "Bail out! network.sh ran for 200 s; stopped"

dump_logs()
{
	local f

	for f in "$LAB_TMP/nfspamd.log" "$LAB_TMP"/postfix-*/maillog; do
		[ -f "$f" ] || continue
		echo "==== $f" >&2
		cat "$f" >&2
	done
}

# The shipped ruleset with the whitelist masks of -N.
rules()
{
	sed -e "s/^define NFSPAMD_WHITE4_MASK = .*/define NFSPAMD_WHITE4_MASK = $1/" \
	    -e "s/^define NFSPAMD_WHITE6_MASK = .*/define NFSPAMD_WHITE6_MASK = $2/" \
	    "$ruleset"
}

# bind ADDR4 ADDR6: the sending Postfix's source addresses from now on.
bind()
{
	local etc
	etc=$(lab_postfix_dir snd)/etc

	postconf -c "$etc" -e "smtp_bind_address=$1" \
	    "smtp_bind_address6=$2" &&
	    lab_exec snd postfix -c "$etc" reload >/dev/null 2>&1
}

flush_queue()
{
	lab_exec snd postqueue -c "$(lab_postfix_dir snd)/etc" -f
}

queue_empty()
{
	lab_exec snd postqueue -c "$(lab_postfix_dir snd)/etc" -p |
	    grep -q '^Mail queue is empty'
}

delivered()
{
	grep -qs "$1" "$(lab_postfix_dir gw)/mail/mailbox"
}

db()
{
	"$nfspamdb" --db "$LAB_DB" 2>&1
}

# phase N MASK4 MASK6: a fresh database, the ruleset with these masks,
# nfspamd -N N, the sets empty, the sender bound to .2 and ::2.
phase()
{
	[ -n "${LAB_NFSPAMD_PID:-}" ] && lab_stop_pid "$LAB_NFSPAMD_PID"
	rm -rf "$LAB_TMP/db"
	# The last phase's log stays beside it (LAB_KEEP=1 keeps them).
	[ -s "$LAB_TMP/nfspamd.log" ] &&
	    mv "$LAB_TMP/nfspamd.log" "$LAB_TMP/nfspamd.log.$(date +%s%N)"
	: >"$LAB_TMP/nfspamd.log"
	rules "$2" "$3" >"$LAB_TMP/rules.nft"
	lab_exec gw nft -f "$LAB_TMP/rules.nft" || return 1
	lab_exec gw nft flush set inet nfspamd spamd-white &&
	    lab_exec gw nft flush set inet nfspamd spamd-white6 || return 1
	bind 10.77.1.2 fd77:1::2 || return 1
	# Scans every 2 s: the database reaches the sets quickly (phase 3).
	LAB_NFSPAMD_ARGS=(-N "$1" --scan-interval 2)
	lab_nfspamd_start "$nfspamd" nft
}

# send TAG: one message over IPv4 and one over IPv6; their tokens in
# TOK4 and TOK6.
send()
{
	TOK4=net-$1-4-$RANDOM$RANDOM
	TOK6=net-$1-6-$RANDOM$RANDOM
	lab_sendmail snd net@snd.e2e.test 'user@[10.77.1.1]' "$1 4" "$TOK4" &&
	    lab_sendmail snd net@snd.e2e.test 'user@[IPv6:fd77:1::1]' "$1 6" \
	    "$TOK6"
}

log_has()
{
	grep -Eq "$1" "$LAB_NFSPAMD_LOG"
}

# --- the lab ---
step "lab: namespaces snd, gw as $LAB_PREFIX-*, temp dir $LAB_TMP"
if ! { lab_ns snd && lab_ns gw && lab_link snd eth0 gw snd0 &&
    lab_addr snd eth0 10.77.1.2/24 && lab_addr snd eth0 10.77.1.3/24 &&
    lab_addr snd eth0 fd77:1::2/64 && lab_addr snd eth0 fd77:1::3/64 &&
    lab_addr gw snd0 10.77.1.1/24 && lab_addr gw snd0 fd77:1::1/64; }; then
	bail_out "cannot build the lab"
fi
: >"$LAB_TMP/alloweddomains"
# Not inside ok: its subshell would lose the lab's bookkeeping.
rc=0
lab_postfix gw gw "10.77.1.1, [fd77:1::1]" &&
    lab_postfix snd snd "127.0.0.1, [::1]" minimal_backoff_time=1h \
    maximal_backoff_time=1h queue_run_delay=1h &&
    lab_postfix_start gw snd || rc=$?
is "$rc" 0 \
    "Postfix: a receiver in gw, a sender in snd (retries only when flushed)" ||
    bail_out "Postfix does not start"

# --- 1: -N 24:64 ---
step "phase 1: nfspamd -N 24:64, ruleset masks 255.255.255.0 and /64"
rc=0
phase 24:64 255.255.255.0 ffff:ffff:ffff:ffff:: || rc=$?
is "$rc" 0 "nfspamd -N 24:64 starts behind the ruleset with /24 and /64 masks" ||
    { dump_logs; bail_out "nfspamd does not start"; }
like "$(cat "$LAB_NFSPAMD_LOG")" 'greylisting by network: IPv4 /24, IPv6 /64' \
    "nfspamd says what it keys by"
send one
ok 'lab_wait 20 eval "log_has \"greylisted ip=10\\.77\\.1\\.2 .*new=1\" &&
    log_has \"greylisted ip=fd77:1::2 .*new=1\""' \
    "first attempts from 10.77.1.2 and fd77:1::2 are greylisted"
t_grey=$(date +%s)
ok 'bind 10.77.1.3 fd77:1::3' "the sender now binds to 10.77.1.3 and fd77:1::3"
# Past passtime (10 s) since the first attempt.
sleep $((t_grey + LAB_PASSTIME + 1 - $(date +%s)))
flush_queue
ok 'lab_wait 20 eval "log_has \"passed ip=10\\.77\\.1\\.3 \" &&
    log_has \"passed ip=fd77:1::3 \""' \
    "the retries from 10.77.1.3 and fd77:1::3 pass (same /24, same /64)"
ok 'lab_wait 5 lab_set_elem spamd-white 10.77.1.0' \
    "@spamd-white holds 10.77.1.0 (the /24) with a timeout"
ok 'lab_wait 5 lab_set_elem spamd-white6 fd77:1::' \
    "@spamd-white6 holds fd77:1:: (the /64) with a timeout"
ok '! lab_set_elem spamd-white 10.77.1.3 && ! lab_set_elem spamd-white6 fd77:1::3' \
    "... and not the addresses themselves"
out=$(db)
like "$out" '^WHITE\|10\.77\.1\.0/24\|' "nfspamdb lists WHITE 10.77.1.0/24"
like "$out" '^WHITE\|fd77:1::/64\|' "nfspamdb lists WHITE fd77:1::/64"
like "$out" '^GREY\|fd77:1::/64\|' "nfspamdb lists the tuple under fd77:1::/64"
flush_queue
ok 'lab_wait 30 eval "delivered $TOK4 && delivered $TOK6"' \
    "the next attempt reaches the receiving Postfix: both messages delivered" ||
    dump_logs
n_conn=$(grep -c 'connected ip=' "$LAB_NFSPAMD_LOG")
bind 10.77.1.2 fd77:1::2
send two
ok 'lab_wait 30 eval "delivered $TOK4 && delivered $TOK6"' \
    "a new message from 10.77.1.2 and fd77:1::2 is delivered at once"
is "$(grep -c 'connected ip=' "$LAB_NFSPAMD_LOG")" "$n_conn" \
    "... without reaching nfspamd"

# --- 3: the kernel renews the element from the packet path ---
# The deliveries above renewed fd77:1:: already: set it back to expire
# in 1 h by hand.  That is someone else's commit, which nfspamd answers
# at its next scan by replacing the sets with the database's content
# (the element then expires with its WHITE entry, -G's 1 h): wait for
# that, so that only the packet path changes the element afterwards.
# The update statement renews an element's expiry (its "expires"),
# leaving its timeout as it was added.
n_repl=$(grep -c 'op=sync mode=replace' "$LAB_NFSPAMD_LOG")
# One transaction: one commit for nfspamd to answer.
printf '%s\n' 'delete element inet nfspamd spamd-white6 { fd77:1:: }' \
    'add element inet nfspamd spamd-white6 { fd77:1:: timeout 1h }' |
    lab_exec gw nft -f -
ok 'lab_wait 10 eval "[ \$(grep -c \"op=sync mode=replace\" \"\$LAB_NFSPAMD_LOG\") -gt $n_repl ]"' \
    "nfspamd answers a commit by hand with a replace of the sets"
before=$(lab_set_elem spamd-white6 fd77:1::)
lab_exec snd python3 -c '
import socket
s = socket.create_connection(("fd77:1::1", 25), 3, ("fd77:1::3", 0))
s.recv(100)
s.close()'
after=$(lab_set_elem spamd-white6 fd77:1::)
diag "fd77:1:: before: $before; after a connection from fd77:1::3: $after"
like "$before" '^timeout=3[0-9]{3} expires=3[0-9]{3}$' \
    "an element set to expire within 1 h ..."
like "$after" '^timeout=3[0-9]{3} expires=3110[0-9]{3}$' \
    "... expires in 36 days after the next connection from its /64"
# The database wins: the renewed element goes with the network's WHITE
# entry (and its passed tuple, from which a scan would make it again).
"$nfspamdb" --db "$LAB_DB" -d fd77:1::/64 >/dev/null
"$nfspamdb" --db "$LAB_DB" -G -d fd77:1::/64 >/dev/null
ok 'lab_wait 10 eval "! lab_set_elem spamd-white6 fd77:1::"' \
    "nfspamdb -d fd77:1::/64: nfspamd's next scan removes the renewed element"

# --- 2: -N 32:128 ---
step "phase 2: nfspamd -N 32:128, full masks (spamd's behaviour)"
rc=0
phase 32:128 255.255.255.255 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff || rc=$?
is "$rc" 0 "nfspamd -N 32:128 starts behind the ruleset with full masks" ||
    { dump_logs; bail_out "nfspamd does not start"; }
send three
ok 'lab_wait 20 eval "log_has \"greylisted ip=10\\.77\\.1\\.2 .*new=1\" &&
    log_has \"greylisted ip=fd77:1::2 .*new=1\""' \
    "first attempts from 10.77.1.2 and fd77:1::2 are greylisted"
t_grey=$(date +%s)
bind 10.77.1.3 fd77:1::3
sleep $((t_grey + LAB_PASSTIME + 1 - $(date +%s)))
flush_queue
ok 'lab_wait 20 eval "log_has \"greylisted ip=10\\.77\\.1\\.3 .*new=1\" &&
    log_has \"greylisted ip=fd77:1::3 .*new=1\""' \
    "the retries from 10.77.1.3 and fd77:1::3 are new tuples"
ok '! log_has "passed ip="' "nothing passed"
ok '! lab_set_elem spamd-white 10.77.1.3 && ! lab_set_elem spamd-white6 fd77:1::3 &&
    ! lab_set_elem spamd-white 10.77.1.0 && ! lab_set_elem spamd-white6 fd77:1::' \
    "nothing is whitelisted in the kernel"
ok '! queue_empty && ! delivered "$TOK4" && ! delivered "$TOK6"' \
    "the messages wait in the sender's queue"

# --- 4: masks that do not match -N ---
step "phase 4: nfspamd -N 24:64 behind a ruleset with full masks"
rc=0
phase 24:64 255.255.255.255 ffff:ffff:ffff:ffff:: || rc=$?
is "$rc" 0 "nfspamd -N 24:64 starts behind the ruleset with full IPv4 masks"
now=$(date +%s)
printf 'WHITE|10.77.1.0/24|||%s|%s|%s|2|1\n' $((now - 7200)) \
    $((now - 7200)) $((now + 7200)) | "$nfspamdb" --db "$LAB_DB" --import -
chown -R nobody: "$LAB_DB"
lab_exec snd python3 -c '
import socket
s = socket.create_connection(("10.77.1.1", 25), 3, ("10.77.1.2", 0))
s.recv(100)
s.close()' 2>/dev/null
ok 'lab_wait 10 log_has "10\.77\.1\.2 is WHITE \(as 10\.77\.1\.0/24\) since 7[0-9]{3} s, yet the ruleset still sends it here: do the ruleset.s NFSPAMD_WHITE4_MASK and NFSPAMD_WHITE6_MASK match -N 24:64"' \
    "a sender WHITE for 2 h that still reaches nfspamd: it names the masks and -N" ||
    diag "$(tail -n 5 "$LAB_NFSPAMD_LOG")"

lab_stop_pid "$LAB_NFSPAMD_PID"
LAB_NFSPAMD_PID=
done_testing
