#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# The conditions given to ok are single-quoted on purpose (eval'd); the
# variables and functions they use look unused to shellcheck.
# shellcheck disable=SC2016,SC2034,SC2317 source-path=SCRIPTDIR
# tests/system/ha.sh: two nfspamd gateways sharing one address, with
# keepalived and conntrackd, in front of a real Postfix, as root, in
# network namespaces of its own.  The files of contrib/ha are used as they
# are, addresses included; only their paths, and on node B its priority
# and its conntrackd addresses, are changed.
#
#   outside, bridge br-out in sw: virtual 198.51.100.25 (the MX record)
#     snd eth0 198.51.100.10, .11   gw1 eth0 .2   gw2 eth0 .3
#   inside, bridge br-in in sw: virtual 192.0.2.1 (mx's default route)
#     mx eth0 192.0.2.25            gw1 eth1 .2   gw2 eth1 .3
#   sync link, a veth pair: gw1 eth2 10.99.0.1 ── gw2 eth2 10.99.0.2
#
# gw1 and gw2: nft/nfspamd-gateway.nft, contrib/ha/nfspamd-ha-input.nft
# and nfspamd-ha-forward.nft; keepalived with
# contrib/ha/keepalived-gateway.conf and its notify script
# contrib/ha/nfspamd-ha-notify; conntrackd with
# contrib/ha/conntrackd.conf; nfspamd with -y (own) and -Y (peer) over
# the sync link, and the same key.  mx: the receiving Postfix.  snd: the
# sending Postfix (198.51.100.10), and a held SMTP session from
# 198.51.100.11 (in @nospamd, so DNATed to mx's Postfix).
#
# Checked, in order: gw1 takes the addresses, gw2 stays backup; the held
# session reaches mx through gw1 and its state reaches gw2's conntrackd;
# the sender's first attempt is greylisted on gw1 and the tuple reaches
# gw2's database by sync; gw1 fails (links cut, nfspamd killed,
# keepalived stopped); the addresses move to gw2, whose notify script
# commits the held session's state into its kernel before any of the
# session's packets came by, and the session goes on through gw2; the
# sender's retry reaches gw2 and passes there with no second
# greylisting, gw2 puts the sender in @spamd-white and the next attempt
# is delivered to mx.  gw1 comes back (links, nfspamd, keepalived): it
# stays backup, catches up with gw2 over TCP (it missed the sender's
# pass), then holds what gw2 holds and has the sender in its own
# @spamd-white; its conntrackd has gw2's flows again.  Then everything is
# removed.
#
# Takes about 35 s.  Environment: top_srcdir, top_builddir, NFSPAMD,
# NFSPAMDB; HA_WATCHDOG (default 200) stops the script after that many
# seconds; LAB_KEEP=1 keeps the temp dir and its logs.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build/plain}
NFSPAMD=${NFSPAMD:-$top_builddir/src/nfspamd/nfspamd}
NFSPAMDB=${NFSPAMDB:-$top_builddir/src/nfspamdb/nfspamdb}
HA=$top_srcdir/contrib/ha
. "$top_srcdir/tests/lib/tap.sh"

skip_all()
{
	skip "$1" 1
	done_testing
}

[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces, nftables)"
for c in ip nft python3 postfix postconf keepalived conntrackd conntrack; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done
[ -r /usr/share/postfix/master.cf.dist ] || skip_all "postfix not installed"
for p in "$NFSPAMD" "$NFSPAMDB"; do
	[ -x "$p" ] || bail_out "no binary at $p (build first)"
done
for f in keepalived-gateway.conf conntrackd.conf nfspamd-ha-notify \
    nfspamd-ha-input.nft nfspamd-ha-forward.nft; do
	[ -r "$HA/$f" ] || bail_out "no $HA/$f"
done
. "$top_srcdir/tests/system/lib.sh"

lab_init nfha
lab_watchdog "${HA_WATCHDOG:-200}" \
    "Bail out! tests/system/ha.sh: watchdog after ${HA_WATCHDOG:-200} s"
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

# okw CMD DESC: ok, with DESC's line breaks and indentation folded into
# single spaces (long descriptions are wrapped to fit the file).
okw()
{
	local w

	read -r -d '' -a w <<<"$2"
	ok "$1" "${w[*]}"
}

SND=198.51.100.10 HELD=198.51.100.11 VIP_OUT=198.51.100.25 VIP_IN=192.0.2.1
SND_RE='198\.51\.100\.10'
RCPT="user@[$VIP_OUT]"
declare -A SYNC=([gw1]=10.99.0.1 [gw2]=10.99.0.2)
declare -A PEER=([gw1]=10.99.0.2 [gw2]=10.99.0.1)
declare -A KA_PID
LOG1=$LAB_TMP/gw1/nfspamd.log LOG2=$LAB_TMP/gw2/nfspamd.log
NOTE1=$LAB_TMP/gw1/notify.log NOTE2=$LAB_TMP/gw2/notify.log
SNDLOG=$LAB_TMP/postfix-snd/maillog

# Print every log to stderr (tests/run keeps it in build/logs/system.log).
dump_logs()
{
	local f

	for f in "$LAB_TMP"/gw?/*.log "$LAB_TMP"/gw?/*.out \
	    "$LAB_TMP"/postfix-*/maillog "$LAB_TMP/held.out"; do
		[ -f "$f" ] || continue
		echo "==== $f" >&2
		cat "$f" >&2
	done
}

# --- the lab ---
step "lab: namespaces sw snd gw1 gw2 mx as $LAB_PREFIX-*, temp dir $LAB_TMP"
for n in sw snd gw1 gw2 mx; do
	lab_ns "$n" || bail_out "cannot make namespace $n"
done
if ! { lab_link snd eth0 sw o-snd && lab_link gw1 eth0 sw o-gw1 &&
    lab_link gw2 eth0 sw o-gw2 && lab_link gw1 eth1 sw i-gw1 &&
    lab_link gw2 eth1 sw i-gw2 && lab_link mx eth0 sw i-mx &&
    lab_link gw1 eth2 gw2 eth2 &&
    lab_bridge sw br-out o-snd o-gw1 o-gw2 &&
    lab_bridge sw br-in i-gw1 i-gw2 i-mx &&
    lab_addr snd eth0 "$SND/24" && lab_addr snd eth0 "$HELD/24" &&
    lab_addr gw1 eth0 198.51.100.2/24 && lab_addr gw2 eth0 198.51.100.3/24 &&
    lab_addr gw1 eth1 192.0.2.2/24 && lab_addr gw2 eth1 192.0.2.3/24 &&
    lab_addr gw1 eth2 10.99.0.1/30 && lab_addr gw2 eth2 10.99.0.2/30 &&
    lab_addr mx eth0 192.0.2.25/24 &&
    lab_exec mx ip route add default via "$VIP_IN" &&
    lab_exec gw1 sysctl -qw net.ipv4.ip_forward=1 &&
    lab_exec gw2 sysctl -qw net.ipv4.ip_forward=1; }; then
	bail_out "cannot build the lab"
fi

# --- the rulesets, as shipped ---
rules_ok=1
for g in gw1 gw2; do
	for f in "$top_srcdir/nft/nfspamd-gateway.nft" \
	    "$HA/nfspamd-ha-input.nft" "$HA/nfspamd-ha-forward.nft"; do
		out=$(lab_exec "$g" nft -f "$f" 2>&1) ||
		    { rules_ok=0; diag "$g: nft -f $f: $out"; }
	done
	# The held session's sender: never sent to nfspamd.
	lab_exec "$g" nft add element inet nfspamd nospamd "{ $HELD }" ||
	    rules_ok=0
done
okw '[ $rules_ok = 1 ]' "nfspamd-gateway.nft, nfspamd-ha-input.nft and
    nfspamd-ha-forward.nft load on both gateways" ||
    bail_out "the rulesets do not load"

# --- conntrackd: contrib/ha/conntrackd.conf, paths in the temp dir; gw2
# has the sync link's two addresses the other way round ---
mkdir -p "$LAB_TMP/bin"
cp "$HA/nfspamd-ha-notify" "$LAB_TMP/bin/" && chmod 755 "$LAB_TMP/bin" \
    "$LAB_TMP/bin/nfspamd-ha-notify"
changed="changed: the lab's edits no longer apply"
for g in gw1 gw2; do
	d=$LAB_TMP/$g
	mkdir -p "$d"
	swap=()
	[ $g = gw2 ] && swap=(-e 's/10\.99\.0\.1\b/PEER/' \
	    -e 's/10\.99\.0\.2\b/10.99.0.1/' -e 's/PEER/10.99.0.2/')
	sed -E -e "s|/var/lock/conntrackd\.lock|$d/conntrackd.lock|" \
	    -e "s|/var/run/conntrackd\.ctl|$d/conntrackd.ctl|" \
	    -e "s|^(\s*)Syslog on|\1Syslog off|" \
	    -e "s|^(\s*)Systemd on|\1Systemd off|" "${swap[@]}" \
	    "$HA/conntrackd.conf" >"$d/conntrackd.conf"
	if ! { grep -q "Path $d/conntrackd.ctl" "$d/conntrackd.conf" &&
	    grep -q "LockFile $d/conntrackd.lock" "$d/conntrackd.conf" &&
	    grep -Eq "IPv4_address ${SYNC[$g]}$" "$d/conntrackd.conf" &&
	    grep -Eq "IPv4_Destination_Address ${PEER[$g]}$" \
	    "$d/conntrackd.conf"; }; then
		bail_out "contrib/ha/conntrackd.conf $changed"
	fi
	lab_spawn "$g" "$d/conntrackd.out" conntrackd -C "$d/conntrackd.conf"
done
# ctd NODE ARGS...: conntrackd's client, for the daemon in NODE.
ctd() { lab_exec "$1" conntrackd -C "$LAB_TMP/$1/conntrackd.conf" "${@:2}"; }
okw 'lab_wait 10 ctd gw1 -s && lab_wait 10 ctd gw2 -s' \
    "conntrackd (contrib/ha/conntrackd.conf, FTFW over the sync link) runs
    on both"

# --- keepalived: contrib/ha/keepalived-gateway.conf; gw2 is node B ---
ka_conf()
{
	local g=$1 d=$LAB_TMP/$1 nodeb=()
	local notify="$LAB_TMP/bin/nfspamd-ha-notify -C $d/conntrackd.conf"

	[ "$g" = gw2 ] && nodeb=(
	    -e 's/router_id nfspamd-gw-a/router_id nfspamd-gw-b/'
	    -e 's/priority 150/priority 100/')
	sed -e "s|/usr/local/sbin/nfspamd-ha-notify|$notify -l $d/notify.log|" \
	    "${nodeb[@]}" "$HA/keepalived-gateway.conf" >"$d/keepalived.conf"
	grep -q "$LAB_TMP/bin/nfspamd-ha-notify" "$d/keepalived.conf" &&
	    { [ "$g" = gw1 ] || grep -q "priority 100" "$d/keepalived.conf"; }
}
ka_start()
{
	local g=$1 d=$LAB_TMP/$1

	lab_spawn "$g" "$d/keepalived.log" keepalived -n -l -D -G -P \
	    -f "$d/keepalived.conf" -p "$d/keepalived.pid" -r "$d/vrrp.pid"
	KA_PID[$g]=$LAB_LASTPID
}
# has_vips NS: both virtual addresses are on NS's interfaces.
has_vips()
{
	lab_exec "$1" ip -4 -o addr show dev eth0 | grep -q " $VIP_OUT/" &&
	    lab_exec "$1" ip -4 -o addr show dev eth1 | grep -q " $VIP_IN/"
}
no_vips()
{
	! lab_exec "$1" ip -4 -o addr show | grep -Eq " ($VIP_OUT|$VIP_IN)/"
}
if ! { ka_conf gw1 && ka_conf gw2; }; then
	bail_out "contrib/ha/keepalived-gateway.conf $changed"
fi
ka_start gw1

# --- Postfix: the receiver in mx (mail to [198.51.100.25] is its own:
# proxy_interfaces), the sender in snd, retrying as the e2e lab's ---
lab_postfix mx mx 192.0.2.25 inet_protocols=ipv4 \
    "proxy_interfaces=$VIP_OUT" &&
    lab_postfix snd snd 127.0.0.1 inet_protocols=ipv4 \
    "smtp_bind_address=$SND" minimal_backoff_time=13s \
    maximal_backoff_time=15s queue_run_delay=3s &&
    lab_postfix_start mx snd
if ! is "$?" 0 "two Postfix instances start (receiver in mx, sender in snd)"
then
	say "$(cat "$LAB_TMP"/postfix-*/maillog "$LAB_TMP"/postfix-*/ctl.log)"
	bail_out "Postfix does not start"
fi

# --- nfspamd on both: every address (no -l), sync over the sync link.
# (Not inside ok: what starts daemons must not run in a subshell, or the
# lab's bookkeeping, and so its cleanup, would miss them.) ---
head -c 2048 /dev/urandom >"$LAB_TMP/spamd.key"
nfspamd_start()
{
	lab_nfspamd_node "$1" "$1" "$NFSPAMD" -k "$LAB_TMP/spamd.key" \
	    -y "${SYNC[$1]}" -Y "${PEER[$1]}"
}
for g in gw1 gw2; do
	nfspamd_start "$g"
	if ! is "$?" 0 "nfspamd starts in $g (-y ${SYNC[$g]} -Y ${PEER[$g]})"
	then
		say "$(cat "$LAB_TMP/$g/nfspamd.log")"
		bail_out "nfspamd does not start"
	fi
done
has_catchup=0
"$NFSPAMD" --help 2>&1 | grep -q -- --catchup-port && has_catchup=1
step "nfspamd: $(grep -m1 'listening port=' "$LOG1")"

# --- gw1 takes the addresses, then gw2 comes up as backup ---
ok 'lab_wait 15 has_vips gw1' \
    "keepalived: gw1 takes both virtual addresses ($VIP_OUT, $VIP_IN)" ||
    say "$(cat "$LAB_TMP/gw1/keepalived.log")"
step "gw1 is master"
ka_start gw2
asked='backup: the peer.s states requested \(conntrackd -n\): done'
okw 'lab_wait 10 grep -Eq "$asked" "$NOTE2"' "keepalived: gw2 comes up as
    backup (its notify script asked gw1 for its states)" ||
    say "$(cat "$LAB_TMP/gw2/keepalived.log" "$NOTE2")"
committed='master: external cache into the kernel table \(conntrackd -c\): done'
ok 'no_vips gw2 && grep -Eq "$committed" "$NOTE1"' \
    "gw2 holds no virtual address; gw1's notify script ran as master" ||
    say "$(cat "$NOTE1")"

# --- a held session: 198.51.100.11 (in @nospamd) talks to mx's Postfix
# through the virtual address, and waits for $LAB_TMP/go to say NOOP ---
cat >"$LAB_TMP/held.py" <<'EOF'
import os, socket, sys, time
src, dst, go = sys.argv[1:4]
s = socket.socket()
s.bind((src, 0))
s.settimeout(10)
s.connect((dst, 25))
print("sport", s.getsockname()[1])
f = s.makefile("rb")
print("banner", f.readline().decode().strip())
s.sendall(b"EHLO held.e2e.test\r\n")
while not f.readline().startswith(b"250 "):
    pass
print("ehlo done")
end = time.time() + 170
while not os.path.exists(go):
    if time.time() > end:
        sys.exit(1)
    time.sleep(0.1)
s.sendall(b"NOOP\r\n")
print("noop", f.readline().decode().strip())
s.sendall(b"QUIT\r\n")
print("quit", f.readline().decode().strip())
EOF
lab_spawn snd "$LAB_TMP/held.out" python3 -u "$LAB_TMP/held.py" "$HELD" \
    "$VIP_OUT" "$LAB_TMP/go"
okw 'lab_wait 10 grep -q "^ehlo done" "$LAB_TMP/held.out" &&
    grep -q "^banner 220 mx.e2e.test ESMTP Postfix" "$LAB_TMP/held.out"' \
    "a session from $HELD (in @nospamd) is DNATed through gw1 to mx's
    Postfix" || say "$(cat "$LAB_TMP/held.out")"
held_port=$(sed -n 's/^sport //p' "$LAB_TMP/held.out")
# conntrackd -e shows the original direction; conntrack -L both.
held_orig="src=$HELD dst=$VIP_OUT sport=$held_port dport=25"
held_re="$held_orig src=192\.0\.2\.25 dst=$HELD sport=25 dport=$held_port"
ext_has() { ctd "$1" -e ct | grep -Eq -- "$2"; }
kern_has() { lab_exec "$1" conntrack -L -p tcp 2>/dev/null | grep -Eq -- "$2"; }
okw 'lab_wait 10 ext_has gw2 "$held_orig "' "gw2's conntrackd has the session
    in its external cache (port $held_port)" || say "$(ctd gw2 -e ct 2>&1)"
step "held session: $(tr '\n' ' ' <"$LAB_TMP/held.out")"

# --- mail: greylisted on gw1, the tuple synced to gw2 ---
token=token-ha-$LAB_PREFIX-$RANDOM$RANDOM
ok 'lab_sendmail snd ha@snd.e2e.test "$RCPT" "ha" "$token"' \
    "a message submitted in snd to $RCPT"
ok 'lab_wait 20 grep -Eq "greylisted ip=$SND_RE .*new=1" "$LOG1"' \
    "the first attempt is greylisted on gw1" ||
    say "$(cat "$LOG1" "$SNDLOG")"
step "gw1: $(grep -m1 -E "greylisted ip=$SND_RE " "$LOG1")"
db_has() { "$NFSPAMDB" --db "$LAB_TMP/$1/db" | grep -Eq -- "$2"; }
ok 'lab_wait 5 db_has gw2 "^GREY\|$SND_RE\|"' \
    "the tuple reaches gw2's database by sync (GREY)"
deferred()
{
	grep -F "to=<$RCPT>" "$SNDLOG" | grep -q "status=deferred .* 451 "
}
okw 'lab_wait 10 deferred' "the sending Postfix deferred the message on
    the 451"

# --- gw1 fails: its links cut, nfspamd killed, keepalived stopped ---
step "gw1 fails: links down, nfspamd SIGKILL, keepalived SIGTERM"
t_fail=$(lab_elapsed)
for i in eth0 eth1 eth2; do
	lab_exec gw1 ip link set "$i" down
done
lab_nfspamd_node_kill gw1
is "$?" 0 "gw1: every nfspamd process killed (SIGKILL)"
lab_stop_pid "${KA_PID[gw1]}"
ok 'lab_wait 10 has_vips gw2' "the virtual addresses move to gw2" ||
    say "$(cat "$LAB_TMP/gw2/keepalived.log")"
step "gw2 holds the addresses ($(awk -v a="$t_fail" -v b="$(lab_elapsed)" \
    'BEGIN { printf "%.1f", b - a }') s after gw1 failed)"
ok 'no_vips gw1' "gw1 holds none of them"

# The held session's state in gw2's kernel, put there by the notify
# script's commit: none of the session's packets has passed gw2 yet.
okw 'lab_wait 10 kern_has gw2 "$held_re"' "gw2's notify script committed
    the session's state (with its DNAT) into gw2's kernel" ||
    say "$(lab_exec gw2 conntrack -L 2>&1)" "$(cat "$NOTE2")"
touch "$LAB_TMP/go"
ok 'lab_wait 15 grep -q "^noop 250 " "$LAB_TMP/held.out"' \
    "the session goes on through gw2: NOOP answered by mx's Postfix" ||
    say "$(cat "$LAB_TMP/held.out")"

# --- the retry: on gw2, passing with no second greylisting ---
ok 'lab_wait 45 grep -Eq "passed ip=$SND_RE " "$LOG2"' \
    "Postfix's retry reaches gw2 and passes there" ||
    say "$(cat "$LOG2" "$SNDLOG")"
step "gw2: $(grep -m1 -E "passed ip=$SND_RE " "$LOG2")"
ok '! grep -Eq "greylisted ip=$SND_RE .*new=1" "$LOG2"' \
    "... without a second greylisting round (no new tuple on gw2)"
in_white()
{
	lab_exec "$1" nft list set inet nfspamd spamd-white |
	    grep -Eq "[{,] *$SND_RE( |,|$)"
}
ok 'lab_wait 5 in_white gw2' "$SND is in gw2's @spamd-white" ||
    say "$(lab_exec gw2 nft list set inet nfspamd spamd-white 2>&1)"
# The next attempt now, instead of Postfix's 13 s later.
lab_exec snd postqueue -c "$LAB_TMP/postfix-snd/etc" -f
ok 'lab_wait 45 grep -qs "$token" "$LAB_TMP/postfix-mx/mail/mailbox"' \
    "the message is delivered to mx's Postfix (its mailbox), through gw2" ||
    say "$(cat "$SNDLOG" "$LAB_TMP/postfix-mx/maillog")"
step "delivered: $(grep -F "to=<$RCPT>" "$SNDLOG" |
    grep -m1 status=sent | sed 's/.*postfix\///')"

# --- gw1 comes back: links, nfspamd, keepalived ---
# Not at once: what gw2 sent to gw1 while it was away (the GREY of the
# pass) can wait up to 3 s in gw2's neighbour queue, for the address of
# gw1 that it keeps asking for, and would still reach gw1 if the link came
# back within that time.  Past it, gw1 has missed the pass for good, as
# after any real outage.
sleep 4
step "gw1 comes back: links up, nfspamd and keepalived started"
mark=$(lab_log_mark "$LOG1")
mark2=$(lab_log_mark "$LOG2")
nmark=$(lab_log_mark "$NOTE1")
for i in eth0 eth1 eth2; do
	lab_exec gw1 ip link set "$i" up
done
nfspamd_start gw1
is "$?" 0 "nfspamd starts again in gw1, on the same database" ||
    say "$(tail -n +$((mark + 1)) "$LOG1")"
ka_start gw1
ok 'lab_wait 10 _lab_log_after "$NOTE1" $nmark "$asked"' \
    "keepalived: gw1 comes back as backup" ||
    say "$(cat "$LAB_TMP/gw1/keepalived.log" "$NOTE1")"

if [ $has_catchup = 1 ]; then
	cu_from='catchup: from 10\.99\.0\.2: .*merged'
	cu_to='catchup: to 10\.99\.0\.1: '
	okw 'lab_wait_log_after 30 "$LOG1" $mark "$cu_from" &&
	    lab_wait_log_after 5 "$LOG2" $mark2 "$cu_to"' \
	    "gw1 catches up with gw2 (gw1: catchup: from 10.99.0.2 ...
	    merged; gw2: catchup: to 10.99.0.1)" ||
	    say "$(tail -n +$((mark + 1)) "$LOG1")" \
	    "$(tail -n +$((mark2 + 1)) "$LOG2")"
	step "gw1: $(tail -n +$((mark + 1)) "$LOG1" | grep -m1 'catchup: from')"
	step "gw2: $(tail -n +$((mark2 + 1)) "$LOG2" | grep -m1 'catchup: to')"
else
	okw false "gw1 catches up with gw2 (gw1: catchup: from 10.99.0.2 ...
	    merged; gw2: catchup: to 10.99.0.1)" ||
	    diag "this nfspamd has no catch-up (no --catchup-port in --help)"
fi

# The two databases, entry by entry.  What legitimately differs between
# two nodes is left out:
#  - the times and counts of a tuple or a trap (first, pass, bcount,
#    pcount, and a tuple's expiry): each node's own sightings, combined
#    by the merge rather than copied;
#  - a tuple whose address is WHITE on the same node: it has passed (here
#    or on the peer), nothing consults it any more, and it stays listed
#    only until that node's next scan removes it (the catch-up removes it
#    at once on the node that fetches), so whether it is still there
#    depends on when each node last scanned.
# What must agree: which entries exist (type and key: the tuple, the
# address or network, the trap address), and for WHITE also the expiry,
# which says how long the sender stays whitelisted and which the catch-up
# takes from the peer's newer entry.  And the sender must be WHITE.
dbcmp()
{
	"$NFSPAMDB" --db "$LAB_TMP/gw1/db" --json >"$LAB_TMP/gw1.json" &&
	    "$NFSPAMDB" --db "$LAB_TMP/gw2/db" --json >"$LAB_TMP/gw2.json" &&
	    python3 - "$LAB_TMP/gw1.json" "$LAB_TMP/gw2.json" "$SND" \
	    >"$LAB_TMP/dbcmp.out" <<'EOF'
import ipaddress, json, sys

def load(path):
    out, grey = {}, []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            e = json.loads(line)
            t = e["type"]
            if t == "GREY":
                grey.append((t, e["ip"], e["helo"], e["from"], e["to"]))
            elif t == "SPAMTRAP":
                out[(t, e["address"])] = None
            else:
                out[(t, e["ip"])] = e["expire"] if t == "WHITE" else None
    white = [ipaddress.ip_network(k[1], strict=False)
             for k in out if k[0] == "WHITE"]
    for g in grey:
        if not any(ipaddress.ip_address(g[1]) in w for w in white):
            out[g] = None
    return out

a, b = load(sys.argv[1]), load(sys.argv[2])
for k in sorted(set(a) | set(b)):
    if a.get(k, "missing") != b.get(k, "missing"):
        print("%s: gw1 %s, gw2 %s" % ("|".join(k), a.get(k, "missing"),
                                      b.get(k, "missing")))
sys.exit(0 if a == b and ("WHITE", sys.argv[3]) in a else 1)
EOF
}
okw 'lab_wait 5 dbcmp' "gw1 and gw2 hold the same entries (nfspamdb --json:
    type and key; WHITE's expiry)" ||
    say "$(cat "$LAB_TMP/dbcmp.out")" "gw1:" "$(cat "$LAB_TMP/gw1.json")" \
    "gw2:" "$(cat "$LAB_TMP/gw2.json")"
okw 'lab_wait 5 in_white gw1' "$SND is in gw1's @spamd-white too (it
    missed the pass; the catch-up brought it)" ||
    say "$(lab_exec gw1 nft list set inet nfspamd spamd-white 2>&1)"

# And by the catch-up only: gw1 has applied no sync message since it came
# back (its counters, logged on SIGHUP).
sync_applied_none()
{
	kill -HUP "${LAB_NODE_PID[gw1]}" &&
	    lab_wait_log_after 5 "$LOG1" "$mark" "sync stats " &&
	    tail -n +$((mark + 1)) "$LOG1" | grep "sync stats " | tail -n 1 |
	    grep -q " applied=0 "
}
okw 'sync_applied_none' "... by the catch-up: gw1 applied no sync message
    since it came back (sync stats applied=0)" ||
    say "$(tail -n +$((mark + 1)) "$LOG1" | grep "sync stats ")"

# conntrackd: the returning node has gw2's flows again, among them the
# delivery that went through gw2 while gw1 was away.  A flow from the
# sender to the virtual address in conntrackd's cache is a DNATed one:
# those redirected to nfspamd (the greylisted attempts) have the node's
# own address as their real destination, which conntrackd.conf ignores.
deliv_re="src=$SND_RE dst=$VIP_OUT sport=[0-9]+ dport=25 "
okw 'lab_wait 10 ext_has gw1 "$deliv_re"' \
    "gw1's conntrackd has gw2's flows again (the delivery made through
    gw2)" || say "$(ctd gw1 -e ct 2>&1)"
ok 'has_vips gw2 && no_vips gw1' \
    "no preemption: gw2 keeps the addresses after gw1 is back"

if [ "$_tap_failed" -gt 0 ]; then
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
diag "total $(($(date +%s) - t_start)) s"
done_testing
