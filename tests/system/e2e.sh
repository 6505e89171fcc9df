#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# The conditions given to check ... eval are single-quoted on purpose.
# shellcheck disable=SC2016 source-path=SCRIPTDIR
# End-to-end system test: real Postfix instances on both sides of a gateway
# that runs nfspamd behind its nftables ruleset, all in network namespaces
# (the lab is described in lib.sh).
#
#   snd (10.77.1.2, fd77:1::2) ── veth ── gw (10.77.1.1, fd77:1::1,
#   bl  (10.77.2.2)            ── veth ──     10.77.2.1)
#
# gw: the ruleset nft/nfspamd.nft, nfspamd on port 8025 with --firewall nft,
# a receiving Postfix on port 25.  snd: a sending Postfix that mails
# user@[10.77.1.1] and user@[IPv6:fd77:1::1]; it is greylisted, retries by
# itself, passes, lands in @spamd-white / @spamd-white6 and delivers.  bl:
# an address on a blacklist loaded through the control socket; it is
# stuttered and its Postfix never delivers.  nfspamd's metrics (the
# control socket's "metrics") show the ruleset's counters moving: diverted
# with the greylisted connections, white with the deliveries.
#
# Prints TAP, the plan last; each step as a "#" line as it happens.  Takes
# about 40 s; every wait has a deadline, the whole stays under 3 minutes.
# Needs root (otherwise every test is skipped), postfix, nftables, python3.
# Environment: top_srcdir, top_builddir (default: the checkout and its
# build/plain); E2E_KEEP_LOG=1 prints every log (to stderr) at the end;
# LAB_KEEP=1 keeps the temp dir; E2E_WATCHDOG (default 170) stops the
# script after that many seconds, whatever it is doing.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build/plain}
NTESTS=35

# --- TAP ---
tap_n=0 tap_failed=0
# say LINE...: "#" comment lines (every line of a multi-line argument).
say()
{
	local l

	printf '%s\n' "$@" | while IFS= read -r l; do
		printf '# %s\n' "$l"
	done
}
step() { say "[+$(lab_elapsed)s] $*"; }
pass() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
fail()
{
	tap_n=$((tap_n + 1)) tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	[ $# -eq 0 ] || say "$@"
}
check()
{
	local d=$1

	shift
	if "$@"; then
		pass "$d"
	else
		fail "$d"
		return 1
	fi
}
skip_all()
{
	local i

	for ((i = 1; i <= NTESTS; i++)); do
		echo "ok $i # SKIP $1"
	done
	echo "1..$NTESTS"
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "not root"
for c in postfix postconf nft ip python3; do
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

# shellcheck source=lib.sh
. "$here/lib.sh"
lab_init e2e
t_start=$(date +%s)
lab_watchdog "${E2E_WATCHDOG:-170}" \
    "Bail out! e2e.sh ran for ${E2E_WATCHDOG:-170} s; stopped"

# Print the logs to stderr (tests/run keeps them in build/logs/system.log).
dump_logs()
{
	local f

	for f in "$LAB_TMP/nfspamd.log" "$LAB_TMP"/postfix-*/maillog; do
		[ -f "$f" ] || continue
		echo "==== $f" >&2
		cat "$f" >&2
	done
}

# --- the lab ---
step "lab: namespaces snd, bl, gw as $LAB_PREFIX-*, temp dir $LAB_TMP"
lab_gateway_net || { echo "Bail out! cannot build the lab"; exit 1; }
if lab_gateway_postfix; then
	pass "three Postfix instances start (receiver in gw, senders in snd, bl)"
else
	fail "three Postfix instances start (receiver in gw, senders in snd, bl)" \
	    "$(cat "$LAB_TMP"/postfix-*/maillog "$LAB_TMP"/postfix-*/ctl.log 2>&1)"
	echo "Bail out! Postfix does not start"
	exit 1
fi
# Before the ruleset: each sender reaches the receiving Postfix directly.
check "lab: snd (IPv4, IPv6) and bl reach the receiving Postfix on gw:25" \
    lab_gateway_reach || { echo "Bail out! the lab does not work"; exit 1; }
step "Postfix: receiver gw.e2e.test on 10.77.1.1, fd77:1::1, 10.77.2.1 port 25; senders in snd and bl"

if [ ! -f "$ruleset" ]; then
	fail "ruleset nft/nfspamd.nft loads in gw" \
	    "nft/nfspamd.nft does not exist yet; a stand-in redirect is loaded"
	lab_exec gw nft -f - < <(lab_standin_ruleset)
elif out=$(lab_exec gw nft -f "$ruleset" 2>&1); then
	pass "ruleset nft/nfspamd.nft loads in gw"
else
	fail "ruleset nft/nfspamd.nft loads in gw" "$out" \
	    "a stand-in redirect is loaded instead"
	lab_exec gw nft -f - < <(lab_standin_ruleset)
fi
sets=$(lab_exec gw nft -t list sets table inet nfspamd 2>&1)
missing=
for s in spamd-white spamd-white6 nospamd nospamd6 spamd spamd6 \
    spamd-greytrap spamd-greytrap6; do
	grep -Eq "set $s \{" <<<"$sets" || missing="$missing $s"
done
check "table inet nfspamd has the eight sets nfspamd uses" [ -z "$missing" ] ||
    say "missing:$missing"

# --- nfspamd ---
if lab_nfspamd_start "$nfspamd" nft; then
	pass "nfspamd --firewall nft starts in gw"
elif grep -q 'unknown backend' "$LAB_NFSPAMD_LOG"; then
	fail "nfspamd --firewall nft starts in gw" \
	    "this nfspamd has no nft backend: $(grep -m1 'unknown backend' "$LAB_NFSPAMD_LOG")" \
	    "running --firewall none instead: the kernel-set and delivery" \
	    "checks below fail"
	: >"$LAB_NFSPAMD_LOG"
	lab_nfspamd_start "$nfspamd" none ||
	    { echo "Bail out! nfspamd does not start"; exit 1; }
else
	fail "nfspamd --firewall nft starts in gw" "$(cat "$LAB_NFSPAMD_LOG")"
	echo "Bail out! nfspamd does not start"
	exit 1
fi
step "nfspamd: $(grep -m1 'listening ' "$LAB_NFSPAMD_LOG")"

# --- privileges: only the netlink helper keeps CAP_NET_ADMIN ---
capeff() { awk '/^CapEff:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
uidof() { awk '/^Uid:/ {print $3}' "/proc/$1/status" 2>/dev/null; }
nobody=$(id -u nobody)
workers=() helper=()
for pid in $(pgrep -P "$LAB_NFSPAMD_PID"); do
	if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- '--worker='; then
		workers+=("$pid")
	else
		helper+=("$pid")
	fi
done
check "the supervisor runs as nobody with no capabilities (CapEff 0)" \
    eval '[ "$(capeff "$LAB_NFSPAMD_PID")" = 0000000000000000 ] &&
    [ "$(uidof "$LAB_NFSPAMD_PID")" = "$nobody" ]'
workers_unprivileged()
{
	local w

	[ ${#workers[@]} -gt 0 ] || return 1
	for w in "${workers[@]}"; do
		[ "$(capeff "$w")" = 0000000000000000 ] &&
		    [ "$(uidof "$w")" = "$nobody" ] || return 1
	done
}
check "every SMTP worker runs as nobody with no capabilities (CapEff 0)" \
    workers_unprivileged
if [ "$LAB_BACKEND" = nft ]; then
	check "the netlink helper holds CAP_NET_ADMIN and nothing else" \
	    eval '[ ${#helper[@]} -eq 1 ] &&
	    [ "$(capeff "${helper[0]}")" = 0000000000001000 ] &&
	    [ "$(uidof "${helper[0]}")" = "$nobody" ]'
else
	fail "the netlink helper holds CAP_NET_ADMIN and nothing else" \
	    "no nft backend"
fi

reply=$(lab_blacklist 2>&1)
check "blacklist lab (10.77.2.0/24) loaded through the control socket" \
    [ "$reply" = "ok lists=1 refused=0 total=1 prefixes=1" ] ||
    say "reply: $reply"
step "control socket: $reply"

# --- the ruleset's counters, in nfspamd's metrics ---
# kcounter TEXT VERDICT: the packets of nfspamd_kernel_packets_total for
# the verdict in a scrape.
kcounter()
{
	sed -n 's/^nfspamd_kernel_packets_total{verdict="'"$2"'"} \([0-9]*\)$/\1/p' \
	    <<<"$1"
}
metrics0=$(lab_control gw "$LAB_CTL" metrics 2>&1)
div0=$(kcounter "$metrics0" diverted)
white0=$(kcounter "$metrics0" white)
if [ "$LAB_BACKEND" = nft ]; then
	check "metrics: the kernel's counters are there (diverted, white, nospamd)" \
	    eval '[ -n "$div0" ] && [ -n "$white0" ] &&
	    [ -n "$(kcounter "$metrics0" nospamd)" ]' ||
	    say "$(grep -E '^(# [A-Z]+ )?nfspamd_kernel' <<<"$metrics0")"
else
	fail "metrics: the kernel's counters are there (diverted, white, nospamd)" \
	    "no nft backend"
fi
step "kernel counters: diverted=$div0 white=$white0"

# --- mail from snd (IPv4 and IPv6) and from bl ---
check "three messages submitted with sendmail (snd: IPv4, IPv6; bl)" \
    lab_submit
step "submitted: user@[10.77.1.1] and user@[IPv6:fd77:1::1] from snd, user@[10.77.2.1] from bl"
step "blacklisted: connecting from 10.77.2.2 to 10.77.2.1:25 (redirected to nfspamd), reading 4 bytes"

# --- every step as it happens ---
lab_on_ok()
{
	local what

	pass "$(lab_stage_desc "$1" "$2")"
	case $2 in
	grey) what=greylisted ;;
	deferred) what=sender ;;
	set) what=kernel ;;
	blconn | stutter) what=blacklisted ;;
	*) what=$2 ;;
	esac
	step "$what: $3"
}
lab_on_fail() { local d; d=$(lab_stage_desc "$1" "$2"); shift 2; fail "$d" "$@"; }
lab_on_note() { shift; say "$@"; }
lab_watch

dbl=$("$nfspamdb" --db "$LAB_DB" 2>&1)
check "nfspamdb lists 10.77.1.2 and fd77:1::/64 (-N's default) as WHITE" eval \
    'grep -q "^WHITE|10\.77\.1\.2|" <<<"$dbl" && grep -q "^WHITE|fd77:1::/64|" <<<"$dbl"' ||
    say "$dbl"
check "the receiving Postfix got mail from 10.77.1.2 and fd77:1::2 only" \
    eval '! grep -E "client=" "$LAB_TMP/postfix-gw/maillog" | grep -Ev "client=unknown\[(10\.77\.1\.2|fd77:1::2)\]" | grep -q .'

# --- the counters moved ---
# The greylisted attempts and bl's connections were diverted; the
# deliveries of the two passed senders went through @spamd-white(6).
metrics1=$(lab_control gw "$LAB_CTL" metrics 2>&1)
div1=$(kcounter "$metrics1" diverted)
white1=$(kcounter "$metrics1" white)
step "kernel counters: diverted=$div1 white=$white1"
if [ "$LAB_BACKEND" = nft ]; then
	check "metrics: diverted counted the greylisted and blacklisted connections (3 or more)" \
	    eval '[ -n "$div1" ] && [ -n "$div0" ] && [ "$div1" -ge $((div0 + 3)) ]' ||
	    say "$(grep -E '^nfspamd_kernel' <<<"$metrics1")"
	check "metrics: white counted the two deliveries from whitelisted senders" \
	    eval '[ -n "$white1" ] && [ -n "$white0" ] &&
	    [ "$white1" -ge $((white0 + 2)) ]' ||
	    say "$(lab_exec gw nft list counters table inet nfspamd 2>&1)"
else
	fail "metrics: diverted counted the greylisted and blacklisted connections (3 or more)" \
	    "no nft backend"
	fail "metrics: white counted the two deliveries from whitelisted senders" \
	    "no nft backend"
fi

# --- the blacklisted sender, at the end of the window ---
step "blacklisted sender: $(grep -cE 'connected ip=10\.77\.2\.2 ' "$LAB_NFSPAMD_LOG") connection(s) to nfspamd so far"
check "the blacklisted sender's message was never delivered" \
    eval '! grep -qs "${LAB_TOKEN[bl]}" "$LAB_TMP/postfix-gw/mail/mailbox" &&
    ! grep -q "status=sent" "$LAB_TMP/postfix-bl/maillog"'
check "nfspamd never let 10.77.2.2 pass" \
    eval '! grep -Eq "(greylisted|passed) ip=10\.77\.2\.2 " "$LAB_NFSPAMD_LOG" &&
    ! grep -q "|10\.77\.2\.2|" <<<"$dbl"'
if [ "$LAB_BACKEND" = nft ]; then
	check "10.77.2.2 is not in @spamd-white" eval '! lab_set_elem spamd-white 10.77.2.2'
else
	fail "10.77.2.2 is not in @spamd-white" "no nft backend"
fi

# --- the sets, as people see them ---
if [ "$LAB_BACKEND" = nft ]; then
	say "$(lab_exec gw nft list set inet nfspamd spamd-white 2>&1)"
	say "$(lab_exec gw nft list set inet nfspamd spamd-white6 2>&1)"
fi
say "nfspamdb:" "$dbl"

# --- nfspamd stops cleanly ---
step "stopping nfspamd (SIGTERM)"
kill -TERM "$LAB_NFSPAMD_PID" 2>/dev/null
rc=
for ((i = 0; i < 100; i++)); do
	if ! kill -0 "$LAB_NFSPAMD_PID" 2>/dev/null; then
		wait "$LAB_NFSPAMD_PID"
		rc=$?
		break
	fi
	sleep 0.1
done
check "nfspamd exits 0 on SIGTERM within 10 s" [ "$rc" = 0 ] ||
    say "status: ${rc:-still running}"
# Every line nfspamd logged is one of its events (man nfspamd.8), none a
# warning or an error.
events='listening|connected|disconnected|greylisted|passed|blacklist|scan'
events="$events|firewall=[a-z]+ op=[a-z]+|stopping|alloweddomains|worker stats"
events="$events|greylisting by network:|os fingerprints=[0-9]+ files=[0-9]+|os fingerprints loaded"
check "nfspamd logged no warning or error" eval \
    '! grep -Ev "^nfspamd(\[[0-9]+\])?: ($events)( |$)" "$LAB_NFSPAMD_LOG" | grep -q .' ||
    say "$(grep -Ev "^nfspamd(\[[0-9]+\])?: ($events)( |$)" "$LAB_NFSPAMD_LOG" | head -n 20)"

[ "${E2E_KEEP_LOG:-0}" = 1 ] && dump_logs
[ $tap_failed = 0 ] || dump_logs

# --- cleanup leaves nothing behind ---
pids=$LAB_NFSPAMD_PID
for n in gw snd bl; do
	pids="$pids $(tr -dc '0-9' <"$LAB_TMP/postfix-$n/spool/pid/master.pid" 2>/dev/null)"
done
ns_list=("${LAB_NS[@]}")
tmp=$LAB_TMP
step "cleanup"
lab_cleanup
step "cleanup done"
left=$(lab_ns_left "${ns_list[@]}")
check "cleanup removed every namespace" [ -z "$left" ] || say "left:$left"
# shellcheck disable=SC2086
left=$(lab_pids_left $pids)
check "cleanup stopped every process (Postfix masters, nfspamd)" [ -z "$left" ] ||
    say "left:" "$(ps -o pid,ppid,stat,etime,args -p "${left# }" 2>&1)"
if [ "${LAB_KEEP:-0}" = 1 ]; then
	pass "cleanup removed the temp dir # SKIP LAB_KEEP=1"
else
	check "cleanup removed the temp dir" [ ! -e "$tmp" ]
fi

say "timings (s since start): greylisted v4=${LAB_WHEN[4.grey]:-} v6=${LAB_WHEN[6.grey]:-};" \
    "passed v4=${LAB_WHEN[4.passed]:-} v6=${LAB_WHEN[6.passed]:-};" \
    "in set v4=${LAB_WHEN[4.set]:-} v6=${LAB_WHEN[6.set]:-};" \
    "delivered v4=${LAB_WHEN[4.delivered]:-} v6=${LAB_WHEN[6.delivered]:-};" \
    "total $(($(date +%s) - t_start))s"
[ $tap_n = $NTESTS ] || fail "ran $tap_n tests, NTESTS says $NTESTS"
echo "1..$tap_n"
[ $tap_failed = 0 ]
