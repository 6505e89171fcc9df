#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# shellcheck disable=SC2016 source-path=SCRIPTDIR
# System test: a real Prometheus scrapes nfspamd --metrics while the
# Postfix lab of lib.sh runs (a sender greylisted over IPv4 and IPv6, its
# retries passing into @spamd-white/@spamd-white6, a blacklisted sender
# stuttered), and Prometheus' HTTP query API must show the counters moved
# by what happened: 2 tuples greylisted new, 2 passed, 2 white elements
# added to the kernel sets, connections under the blacklist "lab".  The
# alert rules of contrib/prometheus are loaded into the same Prometheus,
# and none fires.  Prometheus and nfspamd listen on 127.0.0.1 inside the
# gateway's namespace only.
#
# Prints TAP (tests/lib/tap.sh).  Needs root, postfix, nftables, prometheus (Debian's
# package; the test is skipped without it), curl, python3.  Environment:
# top_srcdir, top_builddir; PROM_KEEP_LOG=1 prints the logs at the end.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build/plain}
MPORT=9154
PPORT=9090

# shellcheck source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
step() { diag "[+$(lab_elapsed)s] $*"; }
# check DESC CMD...: CMD runs in this shell (it may set the lab's
# variables), its status is the result.
check()
{
	local d=$1 r=0

	shift
	"$@" || r=$?
	is "$r" 0 "$d"
}
skip_all()
{
	skip "$1" 15
	done_testing
}

[ "$(id -u)" = 0 ] || skip_all "not root"
for c in postfix postconf nft ip python3 curl prometheus promtool; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done
[ -r /usr/share/postfix/master.cf.dist ] || skip_all "postfix not installed"

nfspamd=$top_builddir/src/nfspamd/nfspamd
ruleset=$top_srcdir/nft/nfspamd.nft
rules=$top_srcdir/contrib/prometheus/nfspamd-alerts.yml
if [ ! -x "$nfspamd" ]; then
	echo "Bail out! no nfspamd in $top_builddir (build first)"
	exit 1
fi

# shellcheck source=lib.sh
. "$here/lib.sh"
lab_init prom
lab_watchdog 170 "Bail out! prometheus.sh ran for 170 s; stopped"

dump_logs()
{
	local f

	for f in "$LAB_TMP/nfspamd.log" "$LAB_TMP/prometheus.log"; do
		[ -f "$f" ] || continue
		echo "==== $f" >&2
		cat "$f" >&2
	done
}

# promql EXPR: the value of an instant query's only sample ("" if none).
promql()
{
	lab_exec gw curl -s --max-time 5 \
	    "http://127.0.0.1:$PPORT/api/v1/query" \
	    --data-urlencode "query=$1" | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
except (ValueError, KeyError):
    sys.exit(0)
if len(r) == 1:
    v = float(r[0]["value"][1])
    print(int(v) if v == int(v) else v)
elif len(r) > 1:
    print("many:%d" % len(r))'
}

# wait_promql SECS EXPR WANT: until the query answers WANT.
wait_promql()
{
	local secs=$1 expr=$2 want=$3 got end

	end=$(($(date +%s) + secs))
	while :; do
		got=$(promql "$expr")
		[ "$got" = "$want" ] && return 0
		[ "$(date +%s)" -lt $end ] || break
		sleep 0.5
	done
	diag "$expr: want $want, got '${got}'"
	return 1
}

# --- the lab, nfspamd with --metrics, Prometheus ---
step "lab: namespaces snd, bl, gw as $LAB_PREFIX-*, temp dir $LAB_TMP"
lab_gateway_net || { echo "Bail out! cannot build the lab"; exit 1; }
lab_gateway_postfix || {
	echo "Bail out! Postfix does not start"
	exit 1
}
lab_exec gw nft -f "$ruleset" ||
    { echo "Bail out! the ruleset does not load"; exit 1; }
LAB_NFSPAMD_ARGS=(--metrics "127.0.0.1:$MPORT")
check "nfspamd --metrics 127.0.0.1:$MPORT starts in gw" \
    lab_nfspamd_start "$nfspamd" nft ||
    { diag "$(cat "$LAB_NFSPAMD_LOG")"; bail_out "nfspamd does not start"; }

mkdir -p "$LAB_TMP/prom"
chown nobody: "$LAB_TMP/prom"
cp "$rules" "$LAB_TMP/prom/alerts.yml"
cat >"$LAB_TMP/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $LAB_TMP/prom/alerts.yml
scrape_configs:
  - job_name: nfspamd
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
chmod -R a+rX "$LAB_TMP/prom"
lab_spawn gw "$LAB_TMP/prometheus.log" setpriv --reuid=nobody \
    --regid=nogroup --clear-groups prometheus \
    --config.file="$LAB_TMP/prom/prometheus.yml" \
    --storage.tsdb.path="$LAB_TMP/prom/data" \
    --web.listen-address="127.0.0.1:$PPORT" --log.level=warn
check "Prometheus starts in gw on 127.0.0.1:$PPORT, rules loaded" \
    lab_wait 30 eval 'lab_exec gw curl -sf --max-time 2 \
    "http://127.0.0.1:$PPORT/-/ready" >/dev/null' ||
    diag "$(tail -n 20 "$LAB_TMP/prometheus.log")"
check "Prometheus scrapes nfspamd (up == 1)" \
    wait_promql 20 'up{job="nfspamd"}' 1

scrape=$(lab_exec gw curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics")
out=$(promtool check metrics <<<"$scrape" 2>&1)
check "promtool check metrics accepts nfspamd's exposition" \
    [ $? = 0 ] || diag "$out"

reply=$(lab_blacklist 2>&1)
check "blacklist lab loaded through the control socket" \
    [ "$reply" = "ok lists=1 refused=0 total=1 prefixes=1" ] ||
    diag "reply: $reply"

# --- mail; lab_watch follows it until delivered (or a deadline) ---
check "three messages submitted with sendmail" lab_submit
lab_on_ok() { step "$2: $3"; }
lab_on_fail() { local d; d=$(lab_stage_desc "$1" "$2"); shift 2; diag "lab: $d: $*"; }
lab_on_note() { shift; diag "$*"; }
lab_watch
step "lab done: greylisted v4=${LAB_WHEN[4.grey]:-} v6=${LAB_WHEN[6.grey]:-}, passed v4=${LAB_WHEN[4.passed]:-} v6=${LAB_WHEN[6.passed]:-}, delivered v4=${LAB_WHEN[4.delivered]:-} v6=${LAB_WHEN[6.delivered]:-}"

# --- what Prometheus saw ---
check "Prometheus: 2 tuples greylisted new (IPv4 and IPv6)" \
    wait_promql 10 'nfspamd_tuples_total{outcome="greylisted_new"}' 2
check "Prometheus: 2 tuples passed" \
    wait_promql 10 'nfspamd_tuples_total{outcome="passed"}' 2
check "Prometheus: 2 passes reached the kernel's white sets" \
    wait_promql 10 'nfspamd_kernel_set_adds_total{op="white"}' 2
check "Prometheus: @spamd-white and @spamd-white6 hold 1 element each" \
    wait_promql 10 'sum(nfspamd_kernel_set_elements{set=~"spamd-white6?"})' 2
check "Prometheus: the blacklisted sender is counted under \"lab\"" \
    eval '[ "$(promql "nfspamd_blacklisted_connections_total{list=\"lab\"} > 0")" != "" ]'
check "Prometheus: 2 waits recorded, each at least passtime" \
    eval '[ "$(promql "nfspamd_passed_wait_seconds_count")" = 2 ] &&
    [ "$(promql "nfspamd_passed_wait_seconds_bucket{le=\"300\"}")" = 2 ] &&
    [ "$(promql "nfspamd_passed_wait_seconds_sum >= 2 * $LAB_PASSTIME")" != "" ]'
check "Prometheus: no sync, kernel or store error counted" \
    wait_promql 5 'sum(nfspamd_kernel_set_add_errors_total) +
    sum(nfspamd_reconcile_errors_total) + sum(nfspamd_scan_errors_total) +
    sum(nfspamd_tuples_total{outcome="lost"})' 0
check "Prometheus: the alert rules are loaded and none fires" \
    eval '[ "$(promql "count(ALERTS{alertstate=\"firing\"})")" = "" ] &&
    lab_exec gw curl -s --max-time 5 "http://127.0.0.1:$PPORT/api/v1/rules" |
    grep -q NfspamdWhitelistNotReachingKernel'

[ "${PROM_KEEP_LOG:-0}" = 1 ] && dump_logs
[ "$_tap_failed" = 0 ] || dump_logs

step "cleanup"
ns_list=("${LAB_NS[@]}")
lab_cleanup
left=
for ns in "${ns_list[@]}"; do
	[ -e "/run/netns/$ns" ] && left="$left $ns"
done
check "cleanup removed every namespace" [ -z "$left" ] || diag "left:$left"
done_testing
