#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# The conditions given to ok are single-quoted on purpose (eval'd); the
# variables and functions they use look unused to shellcheck.
# shellcheck disable=SC2016,SC2034,SC2317 source-path=SCRIPTDIR
# tests/system/shared.sh: a fleet of three nfspamd nodes on one shared
# store (--store redis://...), with the real ruleset and kernel sets and a
# real Postfix sending, as root, in network namespaces of its own.
#
#   bridge br0 in sw, 10.99.5.0/24:
#     st  10.99.5.10   redis-server, bound to that address only
#     a   10.99.5.1    nfspamd            (the first attempt)
#     b   10.99.5.2    nfspamd, Postfix   (the retry, the delivery)
#     c   10.99.5.3    nfspamd            (while the store is down)
#     snd 10.99.5.100  the sending Postfix (relayhost: a, then b)
#         10.99.5.101  a second sender: SMTP dialogues from python
#
# a, b, c: nft/nfspamd.nft, nfspamd --firewall nft as nobody with a
# database directory and control socket of its own, all three with
# --store redis://10.99.5.10:6379/0, -G 3s:1h:1h (passtime 3 s, not 25
# minutes) and one worker each (-j 1: the worker that saw the store go is
# the one that says it is back).  st: redis-server with an append-only
# file in the temp dir, so that what it held survives its SIGKILL.
#
# Checked, in order: the sender's first attempt, to a, is greylisted and
# its tuple is in Redis (nfspamd:g:10.99.5.100, one field); its retry,
# sent to b after passtime, passes there with no greylisting of b's own;
# 10.99.5.100 reaches the @spamd-white of all three within 3 s (each
# node's delay is printed); the next attempt is delivered to b's Postfix;
# on a, which only followed the store's events, a connection from
# 10.99.5.100 to port 25 bypasses nfspamd.  The redis-server is killed
# (SIGKILL): every supervisor says it lost the stream; a dialogue from
# 10.99.5.101 to c still gets its 451 within 3 s, c says its tuples are
# not kept and counts the lost tuple (nfspamd_tuples_total{outcome=
# "lost"}); the kernel sets keep 10.99.5.100.  The server is started
# again, 6 s after the kill, on its append-only file: it still holds the
# WHITE entry; every supervisor follows again within 6 s (its backoff
# stops at 5 s), none having taken the refused connects for a silent
# server; a dialogue from 10.99.5.101 to a records its tuple, and one to
# c finds it (greylisted again, not new) and c's worker says the store is
# back; the kernel sets still hold 10.99.5.100 after the full reconcile.
# Then the nodes stop and everything is removed.
#
# Takes under a minute.  Environment: top_srcdir, top_builddir, NFSPAMD,
# NFSPAMDB, REDIS_SERVER, REDIS_CLI; SHARED_WATCHDOG (default 170) stops
# the script after that many seconds; LAB_KEEP=1 keeps the temp dir;
# SHARED_KEEP_LOG=1 prints every log (to stderr) even when all passed.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build/plain}
NFSPAMD=${NFSPAMD:-$top_builddir/src/nfspamd/nfspamd}
NFSPAMDB=${NFSPAMDB:-$top_builddir/src/nfspamdb/nfspamdb}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_CLI=${REDIS_CLI:-/usr/bin/redis-cli}
NTESTS=38
. "$top_srcdir/tests/lib/tap.sh"

skip_all()
{
	skip "$1" "$NTESTS"
	done_testing
}

[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces, nftables)"
[ -x "$REDIS_SERVER" ] || skip_all "no $REDIS_SERVER"
[ -x "$REDIS_CLI" ] || skip_all "no $REDIS_CLI"
for c in ip nft python3 postfix postconf postqueue setpriv; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done
[ -r /usr/share/postfix/master.cf.dist ] || skip_all "postfix not installed"
for p in "$NFSPAMD" "$NFSPAMDB"; do
	[ -x "$p" ] || bail_out "no binary at $p (build first)"
done
# The interpreter python3 names, first in PATH: a version manager's shim
# costs most of a second a call, and the timed steps make many.
py=$(python3 -c 'import sys; print(sys.executable)') &&
    PATH=$(dirname "$py"):$PATH
. "$top_srcdir/tests/system/lib.sh"

lab_init nfsh
lab_watchdog "${SHARED_WATCHDOG:-170}" \
    "Bail out! tests/system/shared.sh: watchdog after ${SHARED_WATCHDOG:-170} s"
t_start=$(date +%s)
step() { diag "[+$(lab_elapsed)s] $*"; }
# say TEXT...: each argument as its own "#" lines (diag joins them).
say()
{
	local a

	for a; do
		diag "$a"
	done
}
# okw CMD DESC: ok, with DESC's line breaks and indentation folded.
okw()
{
	local w

	read -r -d '' -a w <<<"$2"
	ok "$1" "${w[*]}"
}

NODES=(a b c)
declare -A NODE_IP=([a]=10.99.5.1 [b]=10.99.5.2 [c]=10.99.5.3)
ST=10.99.5.10 PORT=6379
SND=10.99.5.100 SND2=10.99.5.101
SND_RE='10\.99\.5\.100' SND2_RE='10\.99\.5\.101'
URL=redis://$ST:$PORT/0
RCPT=user@fleet.e2e.test
SNDLOG=$LAB_TMP/postfix-snd/maillog
LOGA=$LAB_TMP/a/nfspamd.log LOGB=$LAB_TMP/b/nfspamd.log
LOGC=$LAB_TMP/c/nfspamd.log
declare -A LOG=([a]=$LOGA [b]=$LOGB [c]=$LOGC)

dump_logs()
{
	local f

	for f in "$LAB_TMP"/?/nfspamd.log "$LAB_TMP/redis.log" \
	    "$LAB_TMP"/postfix-*/maillog; do
		[ -f "$f" ] || continue
		echo "==== $f" >&2
		cat "$f" >&2
	done
}

# --- the lab ---
step "lab: namespaces sw st a b c snd as $LAB_PREFIX-*, temp dir $LAB_TMP"
for n in sw st a b c snd; do
	lab_ns "$n" || bail_out "cannot make namespace $n"
done
if ! { lab_link st eth0 sw p-st && lab_link a eth0 sw p-a &&
    lab_link b eth0 sw p-b && lab_link c eth0 sw p-c &&
    lab_link snd eth0 sw p-snd &&
    lab_bridge sw br0 p-st p-a p-b p-c p-snd &&
    lab_addr st eth0 "$ST/24" && lab_addr snd eth0 "$SND/24" &&
    lab_addr snd eth0 "$SND2/24" && lab_addr a eth0 10.99.5.1/24 &&
    lab_addr b eth0 10.99.5.2/24 && lab_addr c eth0 10.99.5.3/24; }; then
	bail_out "cannot build the lab"
fi

# --- the store: on st's address only, its append-only file in the temp
# dir (it outlives a SIGKILL: Redis writes it before it replies) ---
{ mkdir -p "$LAB_TMP/redis" && chown nobody: "$LAB_TMP/redis"; } ||
    bail_out "redis dir"
# R ARGS...: redis-cli against the store, from st.
R() { lab_exec st "$REDIS_CLI" -h "$ST" -p "$PORT" "$@"; }
redis_start()
{
	lab_spawn st "$LAB_TMP/redis.log" setpriv --reuid nobody \
	    --regid nogroup --clear-groups "$REDIS_SERVER" --bind "$ST" \
	    --port "$PORT" --save "" --appendonly yes --protected-mode no \
	    --dir "$LAB_TMP/redis" --logfile ""
	REDIS_PID=$LAB_LASTPID
	lab_wait 10 eval '[ "$(R PING)" = PONG ]'
}
redis_start
okw '[ "$(R PING)" = PONG ] && ! lab_exec st ss -Htln | grep -v "$ST:$PORT " |
    grep -q .' "redis-server answers on $ST:$PORT in st, and listens
    nowhere else" || { say "$(cat "$LAB_TMP/redis.log")"; bail_out "redis"; }

# --- Postfix: the sender in snd, relaying to a (the relayhost changes to
# b for the retry; it retries only when told to, by postqueue -f); the
# receiver in b, for fleet.e2e.test ---
lab_postfix snd snd 127.0.0.1 inet_protocols=ipv4 "smtp_bind_address=$SND" \
    "relayhost=[${NODE_IP[a]}]" smtp_connection_cache_on_demand=no \
    minimal_backoff_time=600s maximal_backoff_time=1200s \
    queue_run_delay=600s &&
    lab_postfix mx b "${NODE_IP[b]}" inet_protocols=ipv4 \
    'mydestination=fleet.e2e.test, $myhostname, localhost' &&
    lab_postfix_start snd mx
if ! is "$?" 0 "two Postfix instances start (sender in snd, receiver in b)"
then
	say "$(cat "$LAB_TMP"/postfix-*/maillog "$LAB_TMP"/postfix-*/ctl.log)"
	bail_out "Postfix does not start"
fi

# --- the ruleset and nfspamd on each node ---
rules_ok=1
for n in "${NODES[@]}"; do
	out=$(lab_exec "$n" nft -f "$top_srcdir/nft/nfspamd.nft" 2>&1) ||
	    { rules_ok=0; diag "$n: $out"; }
done
ok '[ $rules_ok = 1 ]' "nft/nfspamd.nft loads on a, b and c" ||
    bail_out "the ruleset does not load"
LAB_PASSTIME=3
started=1
for n in "${NODES[@]}"; do
	# Not inside ok: a daemon started in a subshell escapes cleanup.
	lab_nfspamd_node "$n" "$n" "$NFSPAMD" -j 1 --store "$URL" ||
	    { started=0; say "$n:" "$(cat "${LOG[$n]}")"; }
done
ok '[ $started = 1 ]' "nfspamd starts on a, b and c (--store $URL, as nobody)" ||
    bail_out "nfspamd does not start"
following='shared store .*: following its events'
okw 'for n in a b c; do lab_wait 10 grep -Eq "$following" "${LOG[$n]}" ||
    exit 1; done' "every supervisor follows the store's events (\"following
    its events\")" || say "$(cat "$LOGA" "$LOGB" "$LOGC")"
step "a: $(grep -m1 -E "$following" "$LOGA")"

# in_white NODE ADDR: ADDR is in NODE's @spamd-white.
in_white()
{
	lab_exec "$1" nft get element inet nfspamd spamd-white "{ $2 }" \
	    >/dev/null 2>&1
}
flush() { lab_exec snd postqueue -c "$LAB_TMP/postfix-snd/etc" -f; }

# --- the first attempt: to a, greylisted, the tuple in Redis ---
token=token-shared-$LAB_PREFIX-$RANDOM$RANDOM
ok 'lab_sendmail snd fleet@snd.e2e.test "$RCPT" "shared" "$token"' \
    "a message submitted in snd to $RCPT (relayhost a)"
ok 'lab_wait 20 grep -Eq "greylisted ip=$SND_RE .*new=1" "$LOGA"' \
    "the first attempt is greylisted on a" || say "$(cat "$LOGA" "$SNDLOG")"
t_grey=$(date +%s.%N)
step "a: $(grep -m1 -E "greylisted ip=$SND_RE " "$LOGA")"
deferred()
{
	grep -F "to=<$RCPT>" "$SNDLOG" | grep -q "status=deferred .* 451 "
}
ok 'lab_wait 10 deferred' "the sending Postfix deferred it on the 451"
fields=$(R HLEN "nfspamd:g:$SND")
is "$fields" 1 "its tuple is in Redis: nfspamd:g:$SND has one field"
say "HKEYS nfspamd:g:$SND:" "$(R --raw HKEYS "nfspamd:g:$SND" | tr '\n' '|')"
say "record (first pass expire bcount pcount): $(R --raw HVALS \
    "nfspamd:g:$SND" | python3 -c 'import struct, sys
print(*struct.unpack("<qqqii", sys.stdin.buffer.read()[:32]))' 2>&1)"

# --- the retry: to b, after passtime ---
postconf -c "$LAB_TMP/postfix-snd/etc" -e "relayhost=[${NODE_IP[b]}]" &&
    lab_exec snd postfix -c "$LAB_TMP/postfix-snd/etc" reload \
    >>"$LAB_TMP/postfix-snd/ctl.log" 2>&1
ok '[ "$(postconf -c "$LAB_TMP/postfix-snd/etc" -h relayhost)" = "[${NODE_IP[b]}]" ]' \
    "the sender's relayhost is now b (postfix reload)"
# Past passtime (3 s) since the first attempt, with a second to spare.
sleep "$(awk -v t="$t_grey" -v now="$(date +%s.%N)" \
    'BEGIN { d = t + 4 - now; printf "%.2f", (d > 0 ? d : 0) }')"
step "retry: postqueue -f, to b"

# The pass on b and the kernel sets of all three, watched side by side
# (a thread each, every few ms) from before the retry: b's log for
# "passed", each node's @spamd-white for the sender.  Postfix is told to
# retry again every 5 s until b passes the sender.
cat >"$LAB_TMP/propagate.py" <<'EOF'
import re, subprocess, sys, threading, time
log, pat, wait, window, elem, kick = sys.argv[1:7]
nodes = [a.split("=", 1) for a in sys.argv[7:]]
rx = re.compile(pat)
t0 = time.monotonic()
end, next_kick = t0 + float(wait), t0 + 5
seen, stop = {}, threading.Event()

def present(ns):
    return subprocess.run(["ip", "netns", "exec", ns, "nft", "get",
        "element", "inet", "nfspamd", "spamd-white", "{ %s }" % elem],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

def watch(name, ns):
    while not stop.is_set():
        if present(ns):
            seen[name] = time.monotonic()
            return
        time.sleep(0.002)

threads = [threading.Thread(target=watch, args=n) for n in nodes]
for t in threads:
    t.start()
t_pass = None
while time.monotonic() < end:
    with open(log, errors="replace") as f:
        if rx.search(f.read()):
            t_pass = time.monotonic()
            break
    if time.monotonic() > next_kick:
        subprocess.run(kick, shell=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        next_kick = time.monotonic() + 5
    time.sleep(0.002)
if t_pass is not None:
    while len(seen) < len(nodes) and time.monotonic() < t_pass + float(window):
        time.sleep(0.01)
stop.set()
for t in threads:
    t.join()
print("pass", "%.2f" % (t_pass - t0) if t_pass is not None else "none")
for name, ns in nodes:
    # Seen before the log line was: the set was filled as b logged it.
    print(name, "%.3f" % max(0, seen[name] - t_pass)
          if name in seen and t_pass is not None else "none")
EOF
python3 "$LAB_TMP/propagate.py" "$LOGB" "passed ip=$SND_RE " 40 3 "$SND" \
    "ip netns exec $(lab_nsname snd) postqueue -c $LAB_TMP/postfix-snd/etc -f" \
    "a=$(lab_nsname a)" "b=$(lab_nsname b)" "c=$(lab_nsname c)" \
    >"$LAB_TMP/propagate.out" 2>&1 &
prop_pid=$!
sleep 0.3
flush
wait "$prop_pid"
prop=$(cat "$LAB_TMP/propagate.out")
say "propagation: $(tr '\n' ' ' <<<"$prop")"
ok 'grep -Eq "passed ip=$SND_RE " "$LOGB"' \
    "the retry reaches b and passes there" || say "$(cat "$LOGB" "$SNDLOG")"
step "b: $(grep -m1 -E "passed ip=$SND_RE " "$LOGB")"
ok '! grep -Eq "greylisted ip=$SND_RE " "$LOGB"' \
    "... with no greylisting on b: b used a's tuple from the store"
declare -A DELAY=()
for n in "${NODES[@]}"; do
	DELAY[$n]=$(sed -n "s/^$n //p" <<<"$prop")
done
for n in "${NODES[@]}"; do
	okw '[[ ${DELAY[$n]} =~ ^[0-9.]+$ ]] &&
	    awk -v d="${DELAY[$n]}" "BEGIN { exit !(d <= 3) }"' "$SND is in
	    $n's @spamd-white within 3 s of b's pass (${DELAY[$n]:-none} s)" ||
	    say "$(lab_exec "$n" nft list set inet nfspamd spamd-white 2>&1)"
	diag "propagation delay to $n: ${DELAY[$n]:-none} s"
done

# --- the next attempt: delivered to b's Postfix ---
mbox=$LAB_TMP/postfix-mx/mail/mailbox
flush
okw 'lab_wait 30 eval "grep -qs \"$token\" \"$mbox\" || { flush; sleep 2; false; }"' \
    "the next attempt is delivered through b to its Postfix (the
    mailbox has the message)" ||
    say "$(cat "$SNDLOG" "$LAB_TMP/postfix-mx/maillog")"
step "delivered: $(grep -F "to=<$RCPT>" "$SNDLOG" | grep -m1 status=sent |
    sed 's/.*postfix\///')"

# --- a followed the stream only: 10.99.5.100 bypasses its nfspamd ---
# counter NODE: the packets of the ruleset's "white" counter.
counter()
{
	lab_exec "$1" nft list counter inet nfspamd white |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
# connect NS SRC DST: "refused", "connected" (and the first line) or
# the error, after a connection from SRC to DST:25.
connect()
{
	lab_exec "$1" python3 -c '
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.settimeout(3)
try:
    s.connect((sys.argv[2], 25))
    print("connected", s.recv(100))
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print(e)' "$2" "$3" 2>&1
}
w0=$(counter a)
mark=$(lab_log_mark "$LOGA")
got=$(connect snd "$SND" "${NODE_IP[a]}")
okw '[ "$got" = refused ] && [ "$(counter a)" = $((w0 + 1)) ] &&
    ! _lab_log_after "$LOGA" "$mark" "connected ip=$SND_RE "' "on a, a
    connection from $SND to port 25 bypasses nfspamd (the ruleset's white
    counter: $w0 -> $(counter a); no MTA there: refused)" ||
    say "$got" "$(tail -n +$((mark + 1)) "$LOGA")"

# --- the store dies ---
# dialogue NODE: an SMTP dialogue from 10.99.5.101 to NODE's port 25
# (redirected to nfspamd) up to DATA, as JSON: each reply's last line,
# the seconds it all took, or the error that stopped it.  nfspamd closes
# the connection after its 451, as spamd does.
dialogue()
{
	lab_exec snd python3 - "$SND2" "${NODE_IP[$1]}" <<'EOF'
import json, socket, sys, time
t0 = time.monotonic()
out = {"replies": []}
try:
    s = socket.socket()
    s.bind((sys.argv[1], 0))
    s.settimeout(10)
    s.connect((sys.argv[2], 25))
    f = s.makefile("rb")

    def reply():
        while True:
            l = f.readline()
            if not l:
                raise OSError("connection closed")
            if l[3:4] != b"-":
                out["replies"].append(l.decode(errors="replace").rstrip())
                return

    reply()
    for c in ("HELO second.snd.e2e.test", "MAIL FROM:<second@snd.e2e.test>",
              "RCPT TO:<user@fleet.e2e.test>", "DATA"):
        s.sendall(c.encode() + b"\r\n")
        reply()
except OSError as e:
    out["error"] = str(e)
out["seconds"] = round(time.monotonic() - t0, 3)
print(json.dumps(out))
EOF
}
# codes JSON: the replies' codes, space-separated.
codes()
{
	python3 -c 'import json, sys
print(" ".join(r[:3] for r in json.loads(sys.argv[1])["replies"]))' "$1" 2>&1
}
secs() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])["seconds"])' "$1" 2>&1; }
# lost NODE: nfspamd_tuples_total{outcome="lost"} in NODE's metrics.
lost()
{
	lab_control "$1" "$LAB_TMP/$1/run/control.sock" metrics 2>/dev/null |
	    sed -n 's/^nfspamd_tuples_total{outcome="lost"} \([0-9]*\)$/\1/p'
}
# since T: seconds from T (date +%s.%N) to now.
since() { awk -v t="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - t }'; }

declare -A MARK=()
lost0=$(lost c)
for n in "${NODES[@]}"; do
	MARK[$n]=$(lab_log_mark "${LOG[$n]}")
done
step "redis-server: SIGKILL"
t_kill=$(date +%s.%N)
kill -KILL "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
ok '! kill -0 "$REDIS_PID" 2>/dev/null && ! R PING >/dev/null 2>&1' \
    "redis-server killed (SIGKILL); nothing answers on $ST:$PORT"
lostre='shared store .*; the kernel sets follow it again once it is back'
okw 'for n in a b c; do lab_wait 10 _lab_log_after "${LOG[$n]}" ${MARK[$n]} \
    "$lostre" || exit 1; done' "every supervisor says it lost the store's
    events (\"the kernel sets follow it again once it is back\")" ||
    say "$(tail -n +$((MARK[c] + 1)) "$LOGC")"
step "c: $(tail -n +$((MARK[c] + 1)) "$LOGC" | grep -m1 -E "$lostre")"

d=$(dialogue c)
say "c, store down: $d"
okw '[ "$(codes "$d")" = "220 250 250 250 451" ]' "store down: a dialogue
    from $SND2 to c goes on to its greylisting 451 ($(codes "$d"))"
okw 'awk -v s="$(secs "$d")" "BEGIN { exit !(s < 3) }"' "... without
    waiting on the store: the dialogue took $(secs "$d") s (under 3)"
downre='worker=[0-9]+: shared store: .*; SMTP goes on, its tuples are not kept until the store is back'
ok 'lab_wait 5 _lab_log_after "$LOGC" ${MARK[c]} "$downre"' \
    "c's worker logs that SMTP goes on without the store" ||
    say "$(tail -n +$((MARK[c] + 1)) "$LOGC")"
step "c: $(tail -n +$((MARK[c] + 1)) "$LOGC" | grep -m1 -E "$downre")"
okw 'for n in a b c; do in_white $n "$SND" || exit 1; done' "the kernel sets
    keep $SND on a, b and c while the store is down"
lost1=$(lost c)
okw '[[ $lost1 =~ ^[0-9]+$ ]] && [ "$lost1" -gt "${lost0:-0}" ]' "c counts
    the lost tuple: nfspamd_tuples_total{outcome=\"lost\"} ${lost0:-?} ->
    ${lost1:-?}"

# --- the store comes back, with what it held ---
# Down for 6 s: the supervisors, which try again after a backoff of 0.1 s
# doubling to 5 s (follow.h), come back within 5 s of the server, however
# long it was away.
sleep "$(awk -v t="$t_kill" -v now="$(date +%s.%N)" \
    'BEGIN { d = t + 6 - now; printf "%.2f", (d > 0 ? d : 0) }')"
for n in "${NODES[@]}"; do
	MARK[$n]=$(lab_log_mark "${LOG[$n]}")
done
step "redis-server: started again on its append-only file, after $(since "$t_kill") s"
redis_start
t_back=$(date +%s.%N)
ok '[ "$(R PING)" = PONG ]' "redis-server starts again on $ST:$PORT" ||
    say "$(cat "$LAB_TMP/redis.log")"
dbl=$(lab_exec st "$NFSPAMDB" --store "$URL" 2>&1)
okw 'grep -Eq "^WHITE\|$SND_RE\|" <<<"$dbl" &&
    [ -n "$(R ZSCORE nfspamd:white "$SND")" ]' "the store still holds
    $SND as WHITE (nfspamdb --store; nfspamd:white)" || say "$dbl"
# Each supervisor's "following its events" again, and when (up to 20 s).
declare -A BACK=()
while [ ${#BACK[@]} -lt 3 ] &&
    awk -v s="$(since "$t_back")" 'BEGIN { exit !(s < 20) }'; do
	for n in "${NODES[@]}"; do
		[ -z "${BACK[$n]:-}" ] || continue
		_lab_log_after "${LOG[$n]}" "${MARK[$n]}" "$following" &&
		    BACK[$n]=$(since "$t_back")
	done
	sleep 0.1
done
okw 'for n in a b c; do [ -n "${BACK[$n]:-}" ] &&
    awk -v s="${BACK[$n]}" "BEGIN { exit !(s <= 6) }" || exit 1; done' "every
    supervisor follows the store's events again within 6 s of its return
    (a ${BACK[a]:-no} s, b ${BACK[b]:-no} s, c ${BACK[c]:-no} s)" ||
    say "what the supervisors logged since the return:" \
    "$(for n in a b c; do tail -n +$((MARK[$n] + 1)) "${LOG[$n]}" |
    grep 'shared store' | sed "s/^/$n: /"; done)"
step "a: $(tail -n +$((MARK[a] + 1)) "$LOGA" | grep -m1 -E "$following")"
# While it was down the server's address refused connections at once: a
# supervisor's connect failed, it was never left without an answer.
stallre='shared store .*: no answer for [0-9]+ s'
okw '! grep -Eq "$stallre" "$LOGA" "$LOGB" "$LOGC"' "no supervisor took the
    refused connects for a silent server (\"no answer for 15 s\")" ||
    say "$(grep -E "$stallre" "$LOGA" "$LOGB" "$LOGC")"
# The workers: a's connection to the store broke with the server and was
# not used since; c's was dropped when its commit failed.
d=$(dialogue a)
say "a, store back: $d"
okw '[ "$(codes "$d")" = "220 250 250 250 451" ] &&
    lab_wait 5 _lab_log_after "$LOGA" ${MARK[a]} "greylisted ip=$SND2_RE .*new=1"' \
    "store back: a dialogue from $SND2 to a is greylisted and its tuple
    committed, a new one (c's was lost)" ||
    say "$(tail -n +$((MARK[a] + 1)) "$LOGA")"
is "$(R HLEN "nfspamd:g:$SND2")" 1 \
    "its tuple is in Redis: nfspamd:g:$SND2 has one field"
d=$(dialogue c)
say "c, store back: $d"
okw '[ "$(codes "$d")" = "220 250 250 250 451" ] &&
    lab_wait 5 _lab_log_after "$LOGC" ${MARK[c]} "greylisted ip=$SND2_RE .*new=0"' \
    "a dialogue from $SND2 to c finds a's tuple (greylisted again, new=0)" ||
    say "$(tail -n +$((MARK[c] + 1)) "$LOGC")"
backre='worker=[0-9]+: shared store .* is back after [0-9]+ s'
ok 'lab_wait 5 _lab_log_after "$LOGC" ${MARK[c]} "$backre"' \
    "c's worker logs that the store is back (\"is back after N s\")" ||
    say "$(tail -n +$((MARK[c] + 1)) "$LOGC")"
step "c: $(tail -n +$((MARK[c] + 1)) "$LOGC" | grep -m1 -E "$backre")"
okw 'for n in a b c; do in_white $n "$SND" || exit 1; done' "after the full
    reconcile that follows the reconnect, $SND is still in the
    @spamd-white of a, b and c"
is "$(R HLEN "nfspamd:g:$SND2")" 1 \
    "nfspamd:g:$SND2 still has one field (c's retry is the same tuple)"

# --- the nodes stop cleanly ---
stopped=1
for n in "${NODES[@]}"; do
	pid=${LAB_NODE_PID[$n]}
	kill -TERM "$pid" 2>/dev/null
	rc=
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			rc=$?
			break
		fi
		sleep 0.1
	done
	[ "$rc" = 0 ] || { stopped=0; say "$n: status ${rc:-still running}" \
	    "$(grep -m1 "^SUMMARY" "${LOG[$n]}")"; }
done
ok '[ $stopped = 1 ]' "the three nodes exit 0 on SIGTERM"

if [ "$_tap_failed" -gt 0 ] || [ "${SHARED_KEEP_LOG:-0}" = 1 ]; then
	dump_logs
fi

# --- cleanup leaves nothing behind ---
ns_list=("${LAB_NS[@]}")
pids=("${LAB_PIDS[@]}")
tmp=$LAB_TMP
step "cleanup"
lab_cleanup
is "$(lab_ns_left "${ns_list[@]}")" "" "cleanup removed every namespace"
is "$(lab_pids_left "${pids[@]}")" "" \
    "cleanup stopped every process it started"
if [ "${LAB_KEEP:-0}" = 1 ]; then
	skip "LAB_KEEP=1 keeps the temp dir"
else
	ok '[ ! -e "$tmp" ]' "cleanup removed the temp dir"
fi
diag "propagation from b's pass: a=${DELAY[a]:-none} s b=${DELAY[b]:-none} s c=${DELAY[c]:-none} s"
diag "total $(($(date +%s) - t_start)) s"
[ "$_tap_n" = "$NTESTS" ] || { _tap_result 0 "ran $_tap_n tests, NTESTS says $NTESTS"; }
done_testing
