#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# The conditions given to ok are single-quoted on purpose (eval'd).
# shellcheck disable=SC2016 source-path=SCRIPTDIR
# tests/system/sync.sh: two MX hosts syncing over multicast, with the
# real ruleset and kernel sets, as root, in network namespaces.
#
#   mx1 (10.79.0.1, eth0) ── veth ── mx2 (10.79.0.2, eth0)
#
# Each runs nfspamd --firewall nft with -Y eth0 (the multicast group
# 224.0.1.240 on eth0, sent and joined) and the same key.  Checked: a
# trap on mx1 reaches mx2's database and its @spamd-greytrap; a tuple
# greylisted on mx1 and retried after passtime passes on mx2 too, which
# puts the address in mx2's @spamd-white; nfspamlogd -Y eth0 on mx1
# whitelists a peer mx1 mails and mx2 gets it, into its @spamd-white;
# mx1 does not get its own messages back.
#
# Environment: top_srcdir, top_builddir, NFSPAMD, NFSPAMDB.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
NFSPAMD=${NFSPAMD:-$top_builddir/src/nfspamd/nfspamd}
NFSPAMDB=${NFSPAMDB:-$top_builddir/src/nfspamdb/nfspamdb}
NFSPAMLOGD=${NFSPAMLOGD:-$top_builddir/src/nfspamlogd/nfspamlogd}
. "$top_srcdir/tests/lib/tap.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root (network namespaces, nftables)" 1
	done_testing
	exit 0
fi
for c in nft ip python3; do
	command -v "$c" >/dev/null || { skip "$c not installed" 1; done_testing; exit 0; }
done
for p in "$NFSPAMD" "$NFSPAMDB" "$NFSPAMLOGD"; do
	[ -x "$p" ] || bail_out "no binary at $p (build first)"
done
. "$top_srcdir/tests/system/lib.sh"

lab_init nfsy
lab_watchdog 60 "Bail out! tests/system/sync.sh: watchdog after 60 s"
lab_ns mx1 && lab_ns mx2 && lab_link mx1 eth0 mx2 eth0 &&
    lab_addr mx1 eth0 10.79.0.1/24 && lab_addr mx2 eth0 10.79.0.2/24 ||
    bail_out "cannot build the lab"
head -c 2048 /dev/urandom >"$LAB_TMP/spamd.key"
for h in mx1 mx2; do
	lab_exec "$h" nft -f "$top_srcdir/nft/nfspamd.nft" || bail_out "nft -f"
	mkdir -p "$LAB_TMP/$h/db" "$LAB_TMP/$h/run"
	: >"$LAB_TMP/$h/alloweddomains"
done
"$NFSPAMDB" --db "$LAB_TMP/mx1/db" -a -T trap@example.org >/dev/null
chown -R nobody: "$LAB_TMP/mx1" "$LAB_TMP/mx2"
for h in mx1 mx2; do
	lab_spawn "$h" "$LAB_TMP/$h.log" "$NFSPAMD" -d --firewall nft \
	    -G 2s:1h:1h -S 0 -s 0 -p 8025 --db "$LAB_TMP/$h/db" \
	    --control "$LAB_TMP/$h/run/control.sock" --user nobody \
	    --alloweddomains "$LAB_TMP/$h/alloweddomains" \
	    -k "$LAB_TMP/spamd.key" -Y eth0
	lab_wait_log 10 "$LAB_TMP/$h.log" "listening port=" ||
	    bail_out "nfspamd in $h did not start: $(cat "$LAB_TMP/$h.log")"
done
like "$(cat "$LAB_TMP/mx2.log")" 'sync: listening on eth0 port 8025 \(multicast 224\.0\.1\.240\)' \
    "-Y eth0 sends to and joins 224.0.1.240 on eth0"

# The clients' addresses, on mx1's lo: not loopback, which a peer never
# takes from another host (another host's loopback is not its own).
lab_exec mx1 ip addr add 192.0.2.77/32 dev lo &&
    lab_exec mx1 ip addr add 192.0.2.88/32 dev lo || bail_out "client addresses"

# smtp HOST SRC RCPT: one greylisting dialogue with nfspamd in HOST.
smtp()
{
	lab_exec "$1" python3 - "$2" "$3" <<'EOF'
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.settimeout(5)
s.connect(("127.0.0.1", 8025))
f = s.makefile("rb")
f.readline()
for c in (b"HELO mx.sender.example", b"MAIL FROM:<a@sender.example>",
          b"RCPT TO:" + sys.argv[2].encode(), b"DATA"):
    s.sendall(c + b"\r\n")
    f.readline()
s.close()
EOF
}
db() { "$NFSPAMDB" --db "$LAB_TMP/$1/db" | grep -E "$2"; }
in_set()
{
	lab_exec "$1" nft get element inet nfspamd "$2" "{ $3 }" >/dev/null 2>&1
}

# --- a trap ---
smtp mx1 192.0.2.77 '<trap@example.org>'
ok 'lab_wait 5 eval "db mx2 \"^TRAPPED\\|192\\.0\\.2\\.77\\|\" >/dev/null"' \
    "a trap on mx1 is TRAPPED in mx2's database"
ok 'lab_wait 5 in_set mx2 spamd-greytrap 192.0.2.77' \
    "... and in mx2's @spamd-greytrap"

# --- a tuple that passes ---
smtp mx1 192.0.2.88 '<bob@example.org>'
ok 'lab_wait 5 eval "db mx2 \"^GREY\\|192\\.0\\.2\\.88\\|\" >/dev/null"' \
    "a tuple greylisted on mx1 is in mx2's database"
# Past passtime without waiting for the clock: the first attempt moved
# back 3 s in both stores (nfspamdb --import keeps times as given).
for h in mx1 mx2; do
	db "$h" '^GREY\|192\.0\.2\.88\|' |
	    awk -F'|' 'BEGIN { OFS = "|" } { $6 -= 3; print }' |
	    "$NFSPAMDB" --db "$LAB_TMP/$h/db" --import - 2>/dev/null
done
smtp mx1 192.0.2.88 '<bob@example.org>'
ok 'lab_wait 5 in_set mx1 spamd-white 192.0.2.88' \
    "the retry after passtime passes on mx1: @spamd-white"
ok 'lab_wait 5 eval "db mx2 \"^WHITE\\|192\\.0\\.2\\.88\\|\" >/dev/null"' \
    "the retry's GREY passes it on mx2 too: WHITE"
ok 'lab_wait 5 in_set mx2 spamd-white 192.0.2.88' \
    "... and in mx2's @spamd-white"

# --- spamlogd's WHITE: nfspamlogd on mx1, mx1's MTA mailing out ---
lab_spawn mx1 "$LAB_TMP/logd.log" "$NFSPAMLOGD" -D --db "$LAB_TMP/mx1/db" \
    --user nobody --stats-interval 0 -k "$LAB_TMP/spamd.key" -Y eth0
lab_wait_log 10 "$LAB_TMP/logd.log" "listening " ||
    bail_out "nfspamlogd in mx1 did not start: $(cat "$LAB_TMP/logd.log")"
# An SMTP connection from mx1 to mx2 (nothing listens: the SYN is enough).
lab_exec mx1 timeout 3 bash -c 'exec 3<>/dev/tcp/10.79.0.2/25' 2>/dev/null
ok 'lab_wait 5 in_set mx1 spamd-white 10.79.0.2' \
    "nfspamlogd on mx1 whitelists the peer its MTA mails"
ok 'lab_wait 5 eval "db mx2 \"^WHITE\\|10\\.79\\.0\\.2\\|\" >/dev/null"' \
    "its WHITE message reaches mx2's database"
ok 'lab_wait 5 in_set mx2 spamd-white 10.79.0.2' "... and mx2's @spamd-white"

# --- no echo ---
for h in mx1 mx2; do
	kill -HUP "$(pgrep -f -- "--db $LAB_TMP/$h/db" | head -n 1)" 2>/dev/null
done
lab_wait 5 grep -q 'sync stats' "$LAB_TMP/mx1.log"
lab_wait 5 grep -q 'sync stats' "$LAB_TMP/mx2.log"
st1=$(grep 'sync stats' "$LAB_TMP/mx1.log" | tail -n 1)
st2=$(grep 'sync stats' "$LAB_TMP/mx2.log" | tail -n 1)
diag "mx1: $st1"
diag "mx2: $st2"
like "$st1" ' sent=3 .* applied=0 refused=0 ' \
    "mx1 sent 3 messages and got none back (its own are not looped)"
like "$st2" ' sent=0 .* applied=4 refused=0 ' \
    "mx2 applied 4 and sent nothing on"

if [ "$_tap_failed" -gt 0 ]; then
	diag "$(cat "$LAB_TMP/mx1.log" "$LAB_TMP/mx2.log")"
fi
done_testing
