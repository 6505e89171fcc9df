#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# The conditions given to ok are single-quoted on purpose (eval'd).
# shellcheck disable=SC2016 source-path=SCRIPTDIR
# tests/system/logd.sh: nfspamlogd against the real ruleset, NFLOG and a
# real Postfix, as root, in network namespaces of its own.
#
#   snd (10.77.1.2, fd77:1::2: a Postfix that receives;   ── gw (10.77.1.1,
#        10.77.1.5, fd77:5::5: senders by hand)                fd77:1::1)
#
# gw: nft/nfspamd.nft, nfspamlogd reading NFLOG group 25, a Postfix on
# port 25.  Checked: a whitelisted sender connecting to gw's MTA gets its
# database expiry extended and its kernel timeout restarted (IPv4 and
# IPv6); one not whitelisted is not logged at all; gw's Postfix mailing
# snd whitelists snd (IPv4 and IPv6), and with -I it does not; packets of
# another prefix are counted as ignored; the reader holds no capability,
# its helper CAP_NET_ADMIN only; an NFLOG overrun (the reader stopped
# while a SYN flood arrives) is logged, counted and survived; the
# --metrics listener and the --metrics-file textfile pass promtool and
# their counters follow the events; the OS of a whitelisted sender's SYN
# is recorded in the database ("os": nfspamdb --os, --json), the latest
# one winning, and outbound SYNs record none; a bad --os-fingerprints
# file stops the start, naming its line.  Started as
# root on a database directory that belongs to nobody, every file it
# makes there is nobody's.  -V, -h and usage errors are checked first,
# as any user.
#
# Environment: top_srcdir, top_builddir, NFSPAMLOGD, NFSPAMDB, SYNFLOOD.
# The fingerprint files are the source tree's (not installed here).

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
NFSPAMLOGD=${NFSPAMLOGD:-$top_builddir/src/nfspamlogd/nfspamlogd}
NFSPAMDB=${NFSPAMDB:-$top_builddir/src/nfspamdb/nfspamdb}
SYNFLOOD=${SYNFLOOD:-$top_builddir/bench/synflood}
. "$top_srcdir/tests/lib/tap.sh"

# --- flags that need no privileges ---
[ -x "$NFSPAMLOGD" ] || bail_out "no binary at $NFSPAMLOGD (build first)"
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
    "$top_builddir/config.h")
for f in -V --version; do
	out=$("$NFSPAMLOGD" "$f" 2>/dev/null)
	is "$?:$out" "0:nfspamlogd $version" \
	    "$f prints \"nfspamlogd $version\" on stdout, exit 0"
	is "$("$NFSPAMLOGD" "$f" 2>&1 >/dev/null)" "" "$f: nothing on stderr"
done
for f in -h --help; do
	out=$("$NFSPAMLOGD" "$f" 2>/dev/null)
	is "$?" 0 "$f: exit 0"
	like "$out" '^usage: nfspamlogd \[-DIv\]' \
	    "$f: the usage on stdout"
	is "$("$NFSPAMLOGD" "$f" 2>&1 >/dev/null)" "" "$f: nothing on stderr"
done
out=$("$NFSPAMLOGD" --bogus 2>/dev/null)
is "$?:$out" "1:" "a usage error exits 1, nothing on stdout"
like "$("$NFSPAMLOGD" --bogus 2>&1 >/dev/null)" '^usage: nfspamlogd' \
    "... and the usage on stderr"
out=$("$NFSPAMLOGD" --metrics 127.0.0.1 2>&1)
is "$?:$out" "1:nfspamlogd: --metrics 127.0.0.1: want ADDRESS:PORT" \
    "--metrics without a port exits 1 naming the flag and value"
out=$("$NFSPAMLOGD" --metrics-file logd.prom 2>&1)
is "$?:$out" "1:nfspamlogd: --metrics-file logd.prom: not an absolute path" \
    "--metrics-file with a relative path exits 1 naming it"
out=$("$NFSPAMLOGD" --os-fingerprints '' 2>&1)
is "$?:$out" "1:nfspamlogd: --os-fingerprints: empty file name" \
    "--os-fingerprints with an empty name exits 1"
nine=()
for i in 1 2 3 4 5 6 7 8 9; do nine+=(--os-fingerprints "f$i"); done
out=$("$NFSPAMLOGD" "${nine[@]}" 2>&1)
is "$?:$out" "1:nfspamlogd: --os-fingerprints f9: at most 8 files" \
    "a ninth --os-fingerprints exits 1 naming it"

if [ "$(id -u)" != 0 ]; then
	skip "needs root (network namespaces, nftables, NFLOG)" 1
	done_testing
	exit 0
fi
for c in postfix postconf nft ip python3 curl promtool; do
	if ! command -v "$c" >/dev/null; then
		skip "$c not installed" 1
		done_testing
		exit 0
	fi
done
for p in "$NFSPAMLOGD" "$NFSPAMDB" "$SYNFLOOD"; do
	[ -x "$p" ] || bail_out "no binary at $p (build first)"
done
. "$top_srcdir/tests/system/lib.sh"

lab_init nflg
lab_watchdog 170 "tests/system/logd.sh: watchdog after 170 s"
lab_ns snd && lab_ns gw && lab_link snd eth0 gw snd0 &&
    lab_addr snd eth0 10.77.1.2/24 && lab_addr snd eth0 fd77:1::2/64 &&
    lab_addr snd eth0 10.77.1.5/24 && lab_addr snd eth0 fd77:5::5/64 &&
    lab_addr snd eth0 10.77.1.6/24 &&
    lab_addr gw snd0 10.77.1.1/24 && lab_addr gw snd0 fd77:1::1/64 &&
    lab_addr gw snd0 fd77:5::1/64 ||
    bail_out "cannot build the lab"
lab_exec gw nft -f "$top_srcdir/nft/nfspamd.nft" || bail_out "nft -f"

lab_postfix gw gw '10.77.1.1, [fd77:1::1]' &&
    lab_postfix snd snd '10.77.1.2, [fd77:1::2]' &&
    lab_postfix_start gw snd || bail_out "Postfix does not start"

DB=$LAB_TMP/db
LOG=$LAB_TMP/nfspamlogd.log
mkdir -p "$DB" && chown nobody: "$DB" || bail_out "db dir"

OSFP=(--os-fingerprints "$top_srcdir/etc/os-fingerprints"
    --os-fingerprints "$top_srcdir/etc/pf.os")

# logd_start [FLAGS...]: nfspamlogd in gw as the nobody user.
logd_start()
{
	: >"$LOG"
	lab_spawn gw "$LOG" "$NFSPAMLOGD" -D -W 900h --db "$DB" \
	    --user nobody --stats-interval 0 "${OSFP[@]}" "$@"
	LOGD_PID=$LAB_LASTPID
	lab_wait 10 eval '! kill -0 $LOGD_PID || grep -q "listening " "$LOG"'
	kill -0 "$LOGD_PID" 2>/dev/null && grep -q "listening " "$LOG"
}

logd_stop()
{
	lab_stop_pid "$LOGD_PID"
}

# stats: the counters, after a SIGHUP, as "key=value" lines.
stats()
{
	local n

	n=$(grep -c '^nfspamlogd: stats ' "$LOG")
	kill -HUP "$LOGD_PID"
	lab_wait 5 eval '[ "$(grep -c "^nfspamlogd: stats " "$LOG")" -gt '"$n"' ]'
	grep '^nfspamlogd: stats ' "$LOG" | tail -n 1 | tr ' ' '\n' |
	    grep =
}

# db_field ADDR N: field N of the address's WHITE line of nfspamdb
# (WHITE|ip|||first|pass|expire|bcount|pcount); empty when there is none.
db_field()
{
	"$NFSPAMDB" --db "$DB" 2>/dev/null |
	    awk -F'|' -v a="$1" -v n="$2" '$1 == "WHITE" && $2 == a { print $n }'
}

# db_os ADDR: the OS nfspamdb --os gives the address's WHITE line.
db_os()
{
	"$NFSPAMDB" --db "$DB" --os 2>/dev/null |
	    awk -F'|' -v a="$1" '$1 == "WHITE" && $2 == a { print $10 }'
}

# json_os ADDR: the "os" member of the address's WHITE object of
# nfspamdb --json; "None" when it has none.
json_os()
{
	"$NFSPAMDB" --db "$DB" --json 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o["type"] == "WHITE" and o.get("ip") == sys.argv[1]:
        print(o.get("os"))' "$1"
}

# connect NS SRC DST: one TCP connection to DST:25 from SRC, read the
# banner, QUIT.
connect()
{
	lab_exec "$1" python3 - "$2" "$3" <<'EOF'
import socket, sys
src, dst = sys.argv[1], sys.argv[2]
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam)
s.bind((src, 0))
s.settimeout(5)
s.connect((dst, 25))
assert s.recv(100).startswith(b"220 ")
s.sendall(b"QUIT\r\n")
s.recv(100)
EOF
}

# scrape: the reader's /metrics, from inside gw, into $M.
MPORT=9125
scrape()
{
	M=$(lab_exec gw curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics")
}
# mval NAME{LABELS} [TEXT]: the sample's value in TEXT (default $M).
mval()
{
	awk -v k="$1" '$1 == k { print $2 }' <<<"${2-$M}"
}
# promcheck TEXT: promtool's verdict on TEXT, empty when it passes.
promcheck()
{
	local out

	out=$(promtool check metrics <<<"$1" 2>&1) || out=${out:-failed}
	echo "$out"
}

capeff() { awk '/^CapEff:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
uidof() { awk '/^Uid:/ {print $3}' "/proc/$1/status" 2>/dev/null; }

# --- refusals ---
# snd has no nfspamd table: nfspamlogd says how to load it.
out=$(lab_exec snd "$NFSPAMLOGD" -D --db "$LAB_TMP/db-snd" --user nobody 2>&1)
is "$?" 1 "without the nfspamd table nfspamlogd exits 1"
like "$out" 'nft -f' "... and says how to load the ruleset"
# Root never stays root for want of the user.
out=$(lab_exec snd "$NFSPAMLOGD" -D --db "$LAB_TMP/db-snd" \
    --user nfspamd-no-such-user 2>&1)
is "$?" 1 "an unknown --user: nfspamlogd exits 1"
like "$out" '--user nfspamd-no-such-user: no such user' "... naming it"
out=$(lab_exec gw setpriv --reuid=nobody --regid="$(id -g nobody)" \
    --clear-groups --inh-caps=-all --bounding-set=-all \
    "$NFSPAMLOGD" -D --db "$LAB_TMP/db-nocap" 2>&1)
is "$?" 1 "without CAP_NET_ADMIN nfspamlogd exits 1"
like "$out" 'needs CAP_NET_ADMIN' "... and says what it needs"
diag "$out"
# A fingerprint line that does not parse, a file that is not there.
printf '# ok\n64240:128:1:52:M*,N,W8,N,N,S:Windows:10\n' >"$LAB_TMP/bad.os"
out=$(lab_exec gw "$NFSPAMLOGD" -D --db "$DB" --user nobody \
    "${OSFP[@]}" --os-fingerprints "$LAB_TMP/bad.os" 2>&1)
is "$?" 1 "a bad --os-fingerprints file: nfspamlogd exits 1"
like "$out" "--os-fingerprints $LAB_TMP/bad\\.os:2: " "... naming its line"
out=$(lab_exec gw "$NFSPAMLOGD" -D --db "$DB" --user nobody \
    --os-fingerprints "$LAB_TMP/no.os" 2>&1)
is "$?" 1 "a missing --os-fingerprints file: nfspamlogd exits 1"
like "$out" "--os-fingerprints $LAB_TMP/no\\.os: No such file" "... naming it"

# --- start ---
PROMDIR=$LAB_TMP/textfile
PROM=$PROMDIR/nfspamlogd.prom
mkdir -p "$PROMDIR" && chown nobody: "$PROMDIR" || bail_out "textfile dir"
logd_start --metrics "127.0.0.1:$MPORT" --metrics-file "$PROM"
is "$?" 0 "nfspamlogd starts in gw and binds NFLOG group 25" ||
    { diag "$(cat "$LOG")"; bail_out "nfspamlogd does not start"; }
like "$(cat "$LOG")" "metrics listening=127\.0\.0\.1:$MPORT" \
    "it says where the metrics listener is"
like "$(cat "$LOG")" "os fingerprints=[1-9][0-9]* files=2" \
    "it says how many OS fingerprints it read, from how many files"
scrape
is "$(promcheck "$M")" "" "GET /metrics passes promtool check metrics"
is "$(mval "nfspamd_logd_build_info{version=\"$version\"}"):$(mval \
    nfspamd_logd_events_total)" "1:0" \
    "build_info carries the version; no event read yet"
started=$(mval nfspamd_logd_start_time_seconds)
ok '[ -n "$started" ] && [ $(($(date +%s) - started)) -le 30 ]' \
    "start_time_seconds is the start ($started)"
ok '[ -f "$PROM" ] && [ -z "$(promcheck "$(cat "$PROM")")" ]' \
    "--metrics-file is written at start and passes promtool"
helper=$(pgrep -P "$LOGD_PID")
nobody=$(id -u nobody)
ok '[ "$(capeff "$LOGD_PID")" = 0000000000000000 ] &&
    [ "$(uidof "$LOGD_PID")" = "$nobody" ]' \
    "the NFLOG reader runs as nobody with no capabilities"
ok '[ "$(echo "$helper" | wc -w)" = 1 ] &&
    [ "$(capeff "$helper")" = 0000000000001000 ] &&
    [ "$(uidof "$helper")" = "$nobody" ]' \
    "its netlink helper keeps CAP_NET_ADMIN and nothing else"
lab_spawn gw "$LAB_TMP/second.log" "$NFSPAMLOGD" -D --db "$DB" --user nobody
second=$LAB_LASTPID
lab_wait 5 eval '! kill -0 $second'
wait "$second"
is "$?" 1 "a second nfspamlogd on the same group exits 1"
like "$(cat "$LAB_TMP/second.log")" 'NFLOG group 25 is taken' \
    "... saying the group is taken"

# --- inbound: whitelisted senders are refreshed ---
# IPv6 is keyed by /64 (-N's default): fd77:5::5 is WHITE as fd77:5::/64,
# and its element in the set is the network's address.
for a in 10.77.1.5 fd77:5::5; do
	"$NFSPAMDB" --db "$DB" -a "$a" >/dev/null
	set=spamd-white e=$a
	case $a in *:*) set=spamd-white6 e=fd77:5:: ;; esac
	lab_exec gw nft add element inet nfspamd "$set" "{ $e timeout 60s }"
done
chown -R nobody: "$DB"
old4=$(db_field 10.77.1.5 7)
old6=$(db_field fd77:5::/64 7)
ok '[ -n "$old4" ] && [ -n "$old6" ]' "10.77.1.5 and fd77:5::/64 are WHITE (nfspamdb -a), 60 s in the sets"
ok 'connect snd 10.77.1.5 10.77.1.1 && connect snd fd77:5::5 fd77:1::1' \
    "the whitelisted senders reach gw's Postfix (IPv4, IPv6)"
ok 'lab_wait 5 eval "[ \"\$(db_field 10.77.1.5 9)\" = 1 ] &&
    [ \"\$(db_field fd77:5::/64 9)\" = 1 ]"' \
    "each connection counts as a pass (pcount 0 -> 1)"
# The OS is keyed by the address itself, as nfspamd keys it: the
# listing shows it on IPv4's WHITE line; IPv6's is the /64's.
like "$(db_os 10.77.1.5)" '^Linux ' \
    "nfspamdb --os: the sender's OS, from its SYN ($(db_os 10.77.1.5))"
like "$(json_os 10.77.1.5)" '^Linux ' \
    "nfspamdb --json: an \"os\" member for it"
scrape
diag "$(grep -v '^#' <<<"$M" | grep -v _bucket | tr '\n' ' ')"
is "$(mval 'nfspamd_logd_events_applied_total{direction="in"}')" 2 \
    "metrics: 2 inbound events applied"
is "$(mval nfspamd_logd_os_refreshed_total)" 2 \
    "metrics: 2 OS entries written (IPv4, IPv6)"
ok '[ "$(mval nfspamd_logd_events_total)" -ge 2 ] &&
    [ "$(mval nfspamd_logd_db_updates_total)" -ge 2 ] &&
    [ "$(mval nfspamd_logd_whitelisted_total)" = 0 ]' \
    "metrics: events read and entries written follow; none new (both were WHITE)"
b=$(mval nfspamd_logd_bursts_total)
ok '[ "$b" -ge 1 ] && [ "$(mval nfspamd_logd_burst_seconds_count)" = "$b" ] &&
    [ "$(mval "nfspamd_logd_burst_seconds_bucket{le=\"+Inf\"}")" = "$b" ]' \
    "metrics: one burst_seconds observation per burst ($b)"
is "$(promcheck "$M")" "" "... and the scrape passes promtool"
new4=$(db_field 10.77.1.5 7)
new6=$(db_field fd77:5::/64 7)
now=$(date +%s)
ok '[ "$new4" -gt "$old4" ] && [ "$new4" -ge $((now + 900 * 3600 - 10)) ] &&
    [ "$new6" -gt "$old6" ] && [ "$new6" -ge $((now + 900 * 3600 - 10)) ]' \
    "their expiry is extended to now + 900 h (-W 900h)"
diag "10.77.1.5 expire $old4 -> $new4; fd77:5::/64 $old6 -> $new6"
e4=$(lab_set_elem spamd-white 10.77.1.5)
e6=$(lab_set_elem spamd-white6 fd77:5::)
diag "kernel: 10.77.1.5 $e4; fd77:5:: $e6"
ok '[[ $e4 =~ ^timeout=3240000\ expires=32399[0-9][0-9]$ ]] &&
    [[ $e6 =~ ^timeout=3240000\ expires=32399[0-9][0-9]$ ]]' \
    "their kernel timeouts restart at 900 h (were 60 s)"
# Not white: redirected to port 8025, where nothing listens here.
# No wait for nothing to happen: the kernel's own counter of the IPv4
# "nfspamd-in" log rule shows that no event was made for it at all.
login_count()
{
	lab_exec gw nft list chain inet nfspamd log-in |
	    sed -n 's/.*ip saddr @spamd-white .*packets \([0-9]*\).*/\1/p'
}
before=$(login_count)
connect snd 10.77.1.2 10.77.1.1 2>/dev/null
ok '[ -n "$before" ] && [ "$(login_count)" = "$before" ]' \
    "a sender not on the whitelist makes no NFLOG event (rule counter $before)"
is "$(db_field 10.77.1.2 2)" "" \
    "a sender not on the whitelist is not logged: no entry for it"
ok '! grep -q refreshed "$LOG"' "renewals are not logged without -v"

# --- outbound: gw's Postfix mailing snd whitelists it ---
lab_sendmail gw root@gw.e2e.test 'user@[10.77.1.2]' "out 4" "body 4"
lab_sendmail gw root@gw.e2e.test 'user@[IPv6:fd77:1::2]' "out 6" "body 6"
ok 'lab_wait 30 eval "[ -n \"\$(db_field 10.77.1.2 2)\" ] &&
    [ -n \"\$(db_field fd77:1::/64 2)\" ]"' \
    "gw's Postfix mailing snd whitelists 10.77.1.2 and fd77:1::/64"
like "$(cat "$LOG")" '^nfspamlogd: whitelisted ip=10\.77\.1\.2 seen=out count=[0-9]+ expire=' \
    "one log line for the new white address (IPv4)"
like "$(cat "$LOG")" '^nfspamlogd: whitelisted ip=fd77:1::2 net=fd77:1::/64 seen=out' \
    "one log line for the new white address (IPv6)"
ok '[[ $(lab_set_elem spamd-white 10.77.1.2) =~ ^timeout=3240000 ]] &&
    [[ $(lab_set_elem spamd-white6 fd77:1::) =~ ^timeout=3240000 ]]' \
    "both are in @spamd-white / @spamd-white6 with a 900 h timeout"
ok 'lab_wait 20 grep -q "status=sent" "$(lab_postfix_dir gw)/maillog"' \
    "the mail was delivered"
ok '[ "$(db_field 10.77.1.2 9)" -ge 0 ] && [ "$(db_field 10.77.1.2 8)" = 1 ]' \
    "the new entries are spamlogd's: bcount 1, pcount from 0"

# Someone else's log rule on the same group.
lab_exec gw nft -f - <<'EOF'
table inet lablog {
	chain out {
		type filter hook output priority 0; policy accept;
		tcp dport 2525 tcp flags & (syn | ack) == syn log group 25 prefix "someone-else"
	}
}
EOF
lab_exec gw python3 -c '
import socket
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("10.77.1.2", 2525))
except OSError:
    pass'
ok 'lab_wait 5 eval "stats | grep -qx ignored-prefix=1"' \
    "a packet with another prefix is ignored and counted"
st=$(stats)
diag "$(echo "$st" | tr '\n' ' ')"
like "$st" '^in=2$' "the counters say 2 inbound events"
like "$st" '^os-refreshed=2$' "... and 2 OS entries: outbound SYNs give none"
ok '! grep -q "seen=out.* os=" "$LOG"' "... nor an os= on their lines"
is "$(db_os 10.77.1.2)" "" "gw's Postfix's peer has no OS entry"
like "$st" '^lost=0$' "... and nothing lost"
scrape
is "$(mval 'nfspamd_logd_events_ignored_total{reason="prefix"}')" 1 \
    "metrics: the other prefix's event is ignored with reason=\"prefix\""
out=$(mval 'nfspamd_logd_events_applied_total{direction="out"}')
ok '[ "$out" -ge 2 ] && [ "$(mval nfspamd_logd_whitelisted_total)" -ge 2 ] &&
    [ "$(mval nfspamd_logd_events_lost_total)" = 0 ] &&
    [ "$(mval nfspamd_logd_kernel_errors_total)" = 0 ] &&
    [ "$(mval nfspamd_logd_store_errors_total)" = 0 ]' \
    "metrics: outbound events applied, 10.77.1.2 and fd77:1::2 new; nothing lost, no error"
sum=0
for k in in out; do
	sum=$((sum + $(mval "nfspamd_logd_events_applied_total{direction=\"$k\"}")))
done
for k in prefix packet address inbound-only; do
	sum=$((sum + $(mval "nfspamd_logd_events_ignored_total{reason=\"$k\"}")))
done
is "$sum" "$(mval nfspamd_logd_events_total)" \
    "metrics: applied and ignored add up to the events read"

# --- -I: outbound is not whitelisted ---
logd_stop
P=$(cat "$PROM" 2>/dev/null)
is "$(promcheck "$P")" "" "--metrics-file, written again at exit, passes promtool"
is "$(mval 'nfspamd_logd_events_applied_total{direction="in"}' "$P"):$(mval \
    'nfspamd_logd_events_ignored_total{reason="prefix"}' "$P")" "2:1" \
    "... and holds the final counters"
ok '[ -z "$(find "$PROMDIR" -name ".*")" ]' "... with no temporary file left"
logd_start -I
is "$?" 0 "nfspamlogd -I starts"
"$NFSPAMDB" --db "$DB" -d 10.77.1.2 >/dev/null
lab_exec gw nft delete element inet nfspamd spamd-white '{ 10.77.1.2 }'
lab_sendmail gw root@gw.e2e.test 'user@[10.77.1.2]' "out -I" "body -I"
ok 'lab_wait 20 eval "[ \"\$(grep -c status=sent "$(lab_postfix_dir gw)/maillog")\" -ge 3 ]"' \
    "gw's Postfix delivers to 10.77.1.2 again"
ok 'lab_wait 5 eval "stats | grep -Eqx ignored-outbound=[1-9][0-9]*"' \
    "with -I the outbound connection is ignored and counted"
is "$(db_field 10.77.1.2 2)" "" "... and 10.77.1.2 gets no entry"
ok '! lab_set_elem spamd-white 10.77.1.2' "... nor an element in @spamd-white"
ok 'connect snd 10.77.1.5 10.77.1.1' "with -I a whitelisted sender ..."
ok 'lab_wait 5 eval "[ \"\$(db_field 10.77.1.5 9)\" = 2 ]"' "... is still refreshed"

# --- the OS: the latest SYN's ---
# 10.77.1.6 is in the set only: its first connection makes the entry.
# synclient's SYN says Windows 10; then snd's own stack says Linux.
lab_exec gw nft add element inet nfspamd spamd-white '{ 10.77.1.6 timeout 60s }'
syn=$(lab_exec snd python3 "$top_srcdir/tests/system/synclient.py" \
    --dev eth0 --src 10.77.1.6 --dst 10.77.1.1 --dport 25 --ttl 128 \
    --df 1 --window 64240 --options M1460,N,W8,N,N,S --read-seconds 1 \
    --send 'QUIT\r\n' 2>&1)
ok 'lab_wait 5 eval "[ \"\$(db_os 10.77.1.6)\" = \"Windows 10-11\" ]"' \
    "a Windows 10 SYN from a whitelisted sender: os \"Windows 10-11\"" ||
    diag "synclient: $syn; nfspamdb: $("$NFSPAMDB" --db "$DB" --os)"
like "$(cat "$LOG")" '^nfspamlogd: whitelisted ip=10\.77\.1\.6 seen=in count=1 expire=[0-9]+ os="Windows 10-11"$' \
    "... on its log line too"
ok 'connect snd 10.77.1.6 10.77.1.1 &&
    lab_wait 5 eval "[[ \$(db_os 10.77.1.6) == Linux* ]]"' \
    "its next connection, from Linux, replaces it"
like "$(db_os 10.77.1.6):$(json_os 10.77.1.6)" '^Linux .*:Linux ' \
    "... as nfspamdb --os and --json say"
ok 'lab_wait 5 eval "stats | grep -qx os-refreshed=3"' \
    "os-refreshed counts them (3 with 10.77.1.5's above)"

# --- --auto-white: a sender that passed often is kept longer ---
logd_stop
logd_start --auto-white 3:1500h
is "$?" 0 "nfspamlogd --auto-white 3:1500h starts"
ok 'connect snd 10.77.1.5 10.77.1.1 &&
    lab_wait 5 eval "[ \"\$(db_field 10.77.1.5 9)\" = 3 ]"' \
    "a whitelisted sender's third pass is counted"
awl=$(db_field 10.77.1.5 7)
ok '[ -n "$awl" ] && [ "$awl" -ge $(($(date +%s) + 1500 * 3600 - 10)) ]' \
    "... and keeps it WHITE for 1500 h (--auto-white 3:1500h), not 900 h"
like "$(lab_set_elem spamd-white 10.77.1.5)" '^timeout=5400000 ' \
    "... in the kernel too"

# --- overrun: the reader stopped while a flood arrives ---
logd_stop
logd_start --rcvbuf 1 --metrics "127.0.0.1:$MPORT"
is "$?" 0 "nfspamlogd starts with a 1 MiB receive buffer"
# 10.77.1.9 is nobody: a neighbour entry sends the SYNs out, snd drops them.
lab_exec gw ip neigh replace 10.77.1.9 lladdr 02:00:00:00:01:09 dev snd0
kill -STOP "$LOGD_PID"
out=$(lab_exec gw timeout 30 "$SYNFLOOD" -d 10.77.1.9 -s 10.77.1.1 -n 1 \
    -c 60000 2>&1)
diag "synflood: $out"
kill -CONT "$LOGD_PID"
ok 'lab_wait 10 grep -q "receive buffer overrun" "$LOG"' \
    "the overrun is detected and logged"
ok 'connect snd 10.77.1.5 10.77.1.1' "after it, a whitelisted sender ..."
ok 'lab_wait 5 eval "[ \"\$(db_field 10.77.1.5 9)\" = 4 ]"' \
    "... is refreshed: reading went on"
st=$(stats)
diag "$(echo "$st" | tr '\n' ' ')"
ok 'echo "$st" | grep -Eq "^enobufs=[1-9]" && echo "$st" | grep -Eq "^lost=[1-9]"' \
    "the counters show the overrun and the events lost"
ev=$(echo "$st" | sed -n 's/^events=//p')
lost=$(echo "$st" | sed -n 's/^lost=//p')
ok '[ $((ev + lost)) -ge 60001 ]' \
    "events read + lost account for every packet sent ($ev + $lost)"
scrape
en=$(echo "$st" | sed -n 's/^enobufs=//p')
ok '[ "$(mval nfspamd_logd_events_lost_total)" -ge "$lost" ] &&
    [ "$(mval nfspamd_logd_rcvbuf_overruns_total)" -ge "$en" ] &&
    [ "$(mval nfspamd_logd_events_total)" -ge "$ev" ]' \
    "metrics: events lost and overruns are exported as logged"
kill -0 "$LOGD_PID" && kill -TERM "$LOGD_PID"
lab_wait 5 eval '! kill -0 $LOGD_PID'
wait "$LOGD_PID"
is "$?" 0 "SIGTERM: exit 0"
like "$(cat "$LOG")" '^nfspamlogd: stats final events=' "... with the final counters"

# --- -Y: WHITE sync messages (spamlogd's), unicast and multicast ---
printf 'shared secret for the lab\n' >"$LAB_TMP/spamd.key"
cat >"$LAB_TMP/syncrecv.py" <<'EOF'
import socket, select, sys
out = open(sys.argv[1], "a", buffering=1)
socks = {}
for label, fam, addr in (("v4", socket.AF_INET, "10.77.1.2"),
                         ("v6", socket.AF_INET6, "fd77:1::2")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, 8025))
    socks[s] = label
m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
m.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
m.bind(("224.0.1.240", 8025))
m.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("224.0.1.240") + socket.inet_aton("10.77.1.2"))
socks[m] = "mcast"
print("ready", flush=True)
while True:
    for s in select.select(list(socks), [], [])[0]:
        out.write("%s %s\n" % (socks[s], s.recv(2048).hex()))
EOF
# An independent reading of what arrived: layout from the spec, HMAC
# with Python's hmac and the hex SHA-1 of the key file.
cat >"$LAB_TMP/syncchk.py" <<'EOF'
import hashlib, hmac, socket, struct, sys
key = hashlib.sha1(open(sys.argv[1], "rb").read()).hexdigest().encode()
for line in open(sys.argv[2]):
    label, hx = line.split()
    p = bytearray(bytes.fromhex(hx))
    ver, af, length, counter = struct.unpack(">BBHI", p[:8])
    mac = bytes(p[8:28])
    p[8:28] = bytes(20)
    good = hmac.new(key, bytes(p[:length]), hashlib.sha1).digest() == mac
    typ, tlen, ts, exp = struct.unpack(">HHII", p[32:44])
    fam = socket.AF_INET if af == 2 else socket.AF_INET6
    addr = socket.inet_ntop(fam, bytes(p[44:tlen + 32]))
    end = bytes(p[32 + tlen:36 + tlen]).hex()
    print(label, "hmac=%s" % ("ok" if good else "BAD"), "v%d" % ver,
          "af=%d" % af, "len=%d" % length, "type=%d" % typ,
          "tlvlen=%d" % tlen, "exp-ts=%d" % (exp - ts), "addr=%s" % addr,
          "end=%s" % end)
EOF
lab_spawn snd "$LAB_TMP/syncrecv.log" python3 "$LAB_TMP/syncrecv.py" \
    "$LAB_TMP/sync.hex"
lab_wait 5 grep -qx ready "$LAB_TMP/syncrecv.log" ||
    bail_out "the sync receiver did not start: $(cat "$LAB_TMP/syncrecv.log")"
# A key only root may read: nfspamlogd reads it as nobody, and says so.
install -m 600 "$LAB_TMP/spamd.key" "$LAB_TMP/root.key"
logd_start -k "$LAB_TMP/root.key" -Y 10.77.1.2
ok '! kill -0 "$LOGD_PID" 2>/dev/null' "an unreadable -k key stops nfspamlogd"
like "$(cat "$LOG")" "root\.key: Permission denied \(as user nobody; .*root\.key is owned by root:root mode 0600: .*chown nobody .*root\.key\)" \
    "... naming the key, the user it runs as and the fix"
logd_start -k "$LAB_TMP/spamd.key" -Y 10.77.1.2 -Y '[fd77:1::2]:8025' \
    -Y snd0:1
is "$?" 0 "nfspamlogd -Y 10.77.1.2 -Y [fd77:1::2]:8025 -Y snd0:1 starts"
connect snd 10.77.1.5 10.77.1.1
connect snd fd77:5::5 fd77:1::1
ok 'lab_wait 5 eval "[ \$(cat \"$LAB_TMP/sync.hex\" | wc -l) -ge 6 ]"' \
    "each refresh goes to the three targets"
chk=$(python3 "$LAB_TMP/syncchk.py" "$LAB_TMP/spamd.key" "$LAB_TMP/sync.hex")
diag "$chk"
for t in v4 v6 mcast; do
	like "$chk" "^$t hmac=ok v2 af=2 len=52 type=2 tlvlen=16 exp-ts=3240000 addr=10\\.77\\.1\\.5 end=00000004\$" \
	    "$t: spamd's WHITE for 10.77.1.5, 52 bytes, signed with the key"
	like "$chk" "^$t hmac=ok v2 af=10 len=64 type=2 tlvlen=28 exp-ts=3240000 addr=fd77:5::5 end=00000004\$" \
	    "$t: the IPv6 extension for fd77:5::5 (af 10)"
done
# (gw's Postfix may be delivering to snd meanwhile: more than 6 is fine.)
ok 'lab_wait 5 eval "stats | grep -Eqx \"sync-sent=([6-9]|[1-9][0-9]+)\"" &&
    stats | grep -qx sync-errors=0' "the counters say at least 6 sent, none failed"
logd_stop

# --- started as root on a database of nobody's, without --user ---
OWN=$LAB_TMP/db-own
mkdir -p "$OWN" && chown nobody: "$OWN" && chmod 750 "$OWN" ||
    bail_out "db-own"
# What a root run of an older version left: root's, mode 0600.
install -m 600 /dev/null "$OWN/nft.gen"
: >"$LOG"
lab_spawn gw "$LOG" "$NFSPAMLOGD" -D --db "$OWN" --stats-interval 0
LOGD_PID=$LAB_LASTPID
lab_wait 10 eval '! kill -0 $LOGD_PID || grep -q "listening " "$LOG"'
ok 'kill -0 "$LOGD_PID" && grep -q "listening " "$LOG"' \
    "started as root on nobody's database, nfspamlogd runs" ||
    diag "$(cat "$LOG")"
like "$(cat "$LOG")" "running as nobody, the owner of $OWN, instead of --user nfspamd" \
    "... as nobody, the directory's owner, and says so"
# Without --os-fingerprints: the shipped files, not installed here.
ok '[ "$(grep -c "OS fingerprinting off: .*/os-fingerprints: No such file" "$LOG")" = 1 ] ||
    grep -q "os fingerprints=[1-9][0-9]* files=2" "$LOG"' \
    "... with fingerprinting off, said once, when the default files are missing"
like "$(cat "$LOG")" "$OWN/nft.gen belonged to root: given to nobody" \
    "... after giving nobody the nft.gen a root run left"
helper=$(pgrep -P "$LOGD_PID")
ok '[ "$(uidof "$LOGD_PID")" = "$nobody" ] && [ "$(uidof "$helper")" = "$nobody" ]' \
    "the reader and its helper both run as nobody"
connect snd 10.77.1.5 10.77.1.1
ok 'lab_wait 5 grep -q "whitelisted ip=10\.77\.1\.5 seen=in" "$LOG"' \
    "a whitelisted sender is written to the new database"
logd_stop
ok '[ -s "$OWN/nft.gen" ] && [ -f "$OWN/data.mdb" ] && [ -f "$OWN/lock.mdb" ]' \
    "the database and the commit record are there"
is "$(find "$OWN" ! -user nobody | tr '\n' ' ')" "" \
    "every file in the directory is nobody's"

done_testing
