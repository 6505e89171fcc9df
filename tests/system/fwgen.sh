#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# The conditions given to ok are single-quoted on purpose (eval'd).
# shellcheck disable=SC2016,SC2317 source-path=SCRIPTDIR
# tests/system/fwgen.sh: which nftables commits make nfspamd replace its
# sets whole, as root, in a network namespace of its own.
#
# The nfspamd programs record their commits in <db>/nft.gen (nftgen.h);
# nfspamd's helper tells the supervisor, at each scan, whether anyone
# else committed since.  Checked, with nfspamd scanning every second:
# after the first scan (a replace) the scans apply differences, also
# after one that added a whitelisted address (its own commits); commits
# by nfspamlogd (an outbound SYN: spamd-white) and nfspamd-setup -b
# (spamd) keep it applying differences and leave their elements alone;
# commits by nft, also by a copy of nft named nfspamlogd, are logged and
# the next scan replaces the sets (what nft added is gone); after that,
# differences again.  Then the ruleset's counters: in the metrics with
# nft/nfspamd.nft; a ruleset without them (an older one) leaves them out
# of the metrics with one log line, and nfspamd goes on; the counters
# come back with nft/nfspamd.nft.
#
# Environment: top_srcdir, top_builddir, NFSPAMD, NFSPAMDB, NFSPAMLOGD,
# NFSPAMD_SETUP.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
NFSPAMD=${NFSPAMD:-$top_builddir/src/nfspamd/nfspamd}
NFSPAMDB=${NFSPAMDB:-$top_builddir/src/nfspamdb/nfspamdb}
NFSPAMLOGD=${NFSPAMLOGD:-$top_builddir/src/nfspamlogd/nfspamlogd}
NFSPAMD_SETUP=${NFSPAMD_SETUP:-$top_builddir/src/nfspamd-setup/nfspamd-setup}
. "$top_srcdir/tests/lib/tap.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root (network namespaces, nftables)" 1
	done_testing
	exit 0
fi
for c in nft ip; do
	command -v "$c" >/dev/null || { skip "$c not installed" 1; done_testing; }
done
for p in "$NFSPAMD" "$NFSPAMDB" "$NFSPAMLOGD" "$NFSPAMD_SETUP"; do
	[ -x "$p" ] || bail_out "no binary at $p (build first)"
done
. "$top_srcdir/tests/system/lib.sh"

lab_init nfsg
lab_watchdog 60 "Bail out! tests/system/fwgen.sh: watchdog after 60 s"
lab_ns gw || bail_out "cannot create a network namespace"
lab_exec gw nft -f "$top_srcdir/nft/nfspamd.nft" || bail_out "nft -f"

log=$LAB_TMP/nfspamd.log
db=$LAB_TMP/db
mkdir -p "$db" "$LAB_TMP/run" && chown nobody: "$db" "$LAB_TMP/run"
: >"$LAB_TMP/alloweddomains"
# -v: a scan whose sync changes nothing is logged at debug only.
lab_spawn gw "$log" "$NFSPAMD" -d -v -S 0 -s 0 -p 8025 \
    -h spamd.gw.test --db "$db" --control "$LAB_TMP/run/control.sock" \
    --user nobody --alloweddomains "$LAB_TMP/alloweddomains" \
    --firewall nft --scan-interval 1
nfspamd_pid=$LAB_LASTPID
lab_wait_log 10 "$log" "listening " ||
    bail_out "nfspamd did not start: $(cat "$log")"

# The scans' sync lines: how many, and the mode of lines FROM..TO.
syncs() { grep -c 'firewall=nft op=sync ' "$log"; }
modes()
{
	grep 'firewall=nft op=sync ' "$log" | sed -n "$1,$2p" |
	    sed -n 's/.* mode=\([a-z]*\) .*/\1/p' | tr '\n' ' ' | sed 's/ $//'
}
wait_syncs() { lab_wait "$2" eval '[ "$(syncs)" -ge '"$1"' ]'; }
foreign() { grep -c 'nft helper: the ruleset changed' "$log"; }
# in_set SET ELEM: ELEM is in inet nfspamd SET (no dump of the set).
in_set()
{
	lab_exec gw nft get element inet nfspamd "$1" "{ $2 }" >/dev/null 2>&1
}

# A scan may be under way while we commit and have asked before the
# commit: the sync lines from the one after the commit's start up to the
# second one logged after it ends cover every scan that can see it.
# commit WHAT...: run it in gw; sets from and to.
commit()
{
	from=$(($(syncs) + 1))
	lab_exec gw "$@" || return 1
	to=$(($(syncs) + 2))
	wait_syncs "$to" 10
}

# --- (1) after the first sync, differences ------------------------------
wait_syncs 3 10
is "$(modes 1 1)" replace "the first sync replaces the sets"
is "$(modes 2 3)" "diff diff" "the next ones apply differences"
# A whitelist entry: nfspamd commits it to spamd-white at its next scan.
commit "$NFSPAMDB" --db "$db" -a 10.5.5.5
lab_wait 10 in_set spamd-white 10.5.5.5
n=$(($(syncs) + 2))
wait_syncs "$n" 10
got=$(modes "$from" "$n")
like "$got" '^diff( diff)+$' \
    "nfspamd's own commits are followed by differences"
ok 'grep -q "op=sync mode=diff white=1 trapped=0 added=1 " "$log"' \
    "one of them added the whitelisted address"

# --- (2) trusted commits ---------------------------------------------------
# nfspamlogd on the same database: an outbound SYN (over a veth pair: the
# ruleset skips lo) makes it add 10.9.0.7 to spamd-white.
lab_exec gw ip link add a0 type veth peer name b0 &&
    lab_exec gw ip addr add 10.9.0.1/24 dev a0 &&
    lab_exec gw ip link set a0 up && lab_exec gw ip link set b0 up ||
    bail_out "veth in gw"
llog=$LAB_TMP/nfspamlogd.log
lab_spawn gw "$llog" "$NFSPAMLOGD" -D --db "$db" --user nobody \
    --stats-interval 0
lab_wait_log 10 "$llog" "listening " ||
    bail_out "nfspamlogd did not start: $(cat "$llog")"
nf=$(foreign)
commit timeout 3 bash -c 'exec 3<>/dev/tcp/10.9.0.7/25' 2>/dev/null
lab_wait 5 in_set spamd-white 10.9.0.7
to=$(($(syncs) + 2))
wait_syncs "$to" 10
got=$(modes "$from" "$to")
like "$got" '^diff( diff)+$' \
    "a commit by nfspamlogd (to spamd-white) is followed by differences"
ok 'in_set spamd-white 10.9.0.7' "and its element stays in spamd-white"
printf '192.0.2.0/24\n' >"$LAB_TMP/black"
printf 'all:\\\n\t:lab:\nlab:\\\n\t:black:msg="m":file=%s/black:\n' \
    "$LAB_TMP" >"$LAB_TMP/spamd.conf"
commit "$NFSPAMD_SETUP" -b -f "$LAB_TMP/spamd.conf" --db "$db" \
    --control "$LAB_TMP/run/control.sock" >"$LAB_TMP/setup.log" 2>&1
got=$(modes "$from" "$to")
like "$got" '^diff( diff)+$' \
    "a commit by nfspamd-setup -b (to spamd) is followed by differences"
ok 'in_set spamd 192.0.2.0/24' "and its element stays in spamd"
is "$(foreign)" "$nf" "neither is logged as a foreign commit"

# --- (3) foreign commits -------------------------------------------------
# Trust comes from the shared record, not from a name.
cp "$(command -v nft)" "$LAB_TMP/nfspamlogd" || bail_out "cp nft"
commit "$LAB_TMP/nfspamlogd" add element inet nfspamd spamd-white \
    '{ 10.1.2.3 timeout 1h }'
got=$(modes "$from" "$to")
like "$got" 'replace' \
    "a commit by nft renamed nfspamlogd is followed by a replace"
commit nft add element inet nfspamd spamd-white '{ 10.9.9.9 timeout 1h }'
got=$(modes "$from" "$to")
like "$got" 'replace' "a commit by nft is followed by a replace"
like "$(grep 'nft helper: the ruleset changed' "$log")" \
    'nft helper: the ruleset changed at generation [0-9]+ by a commit that was not nfspamd' \
    "and logged"
ok '! in_set spamd-white 10.9.9.9 && ! in_set spamd-white 10.1.2.3 &&
    in_set spamd-white 10.5.5.5 && in_set spamd-white 10.9.0.7' \
    "the replace left in spamd-white only what the database holds"

# --- (4) differences again -----------------------------------------------
last=$(grep 'firewall=nft op=sync ' "$log" | grep -n 'mode=replace' |
    tail -n1 | cut -d: -f1)
wait_syncs $((last + 2)) 10
is "$(modes $((last + 1)) $((last + 2)))" "diff diff" \
    "after the replace, differences again"

# --- (5) the ruleset's counters ------------------------------------------
scrape() { lab_control gw "$LAB_TMP/run/control.sock" metrics 2>&1; }
kernel_samples() { scrape | grep -c '^nfspamd_kernel_\(blacklist_\)\?\(packets\|bytes\)_total{'; }
is "$(kernel_samples)" 10 \
    "metrics: packets and bytes of the five counters of nft/nfspamd.nft"
# An older ruleset: the same without the counters (loading it leaves the
# counters it does not mention; nft deletes them once no rule uses them).
sed -e 's/ counter name "[a-z0-9]*"//g' -e '/^\tcounter [a-z0-9]* {$/,/^\t}$/d' \
    "$top_srcdir/nft/nfspamd.nft" >"$LAB_TMP/old.nft"
lab_exec gw nft -f "$LAB_TMP/old.nft" &&
    for c in diverted white nospamd blacklist blacklist6; do
	    lab_exec gw nft delete counter inet nfspamd "$c" || break
    done
is "$(lab_exec gw nft list counters table inet nfspamd | grep -c counter)" \
    0 "a ruleset without counters is loaded"
sleep 1.2	# past the metrics' cache of the counters
is "$(kernel_samples)" 0 "metrics: the kernel counters are left out"
sleep 1.2
scrape >/dev/null
ok "kill -0 $nfspamd_pid" "nfspamd goes on"
is "$(grep -c 'table inet nfspamd has no counter diverted, white, nospamd, blacklist, blacklist6 ' "$log")" \
    1 "one log line names the missing counters, after two scrapes"
lab_exec gw nft -f "$top_srcdir/nft/nfspamd.nft"
sleep 1.2
is "$(kernel_samples)" 10 "nft/nfspamd.nft again: the counters are back"

if [ "$_tap_failed" -gt 0 ]; then
	diag "nfspamd's log:"
	diag "$(cat "$log")"
fi
done_testing
