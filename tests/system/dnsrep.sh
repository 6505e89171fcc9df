#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# tests/system/dnsrep.sh: nfspamd --dnsrep against a real DNS server, as
# root, in network namespaces of its own.
#
# A DNS namespace (dns) runs Debian's unbound, listening only on the
# namespace's address, with a static zone "nfspamd.example." holding a
# DNSBL and a DNSWL as local-data.  nfspamd runs in a gateway namespace
# (gw), --firewall none, with --resolver pointing at unbound; clients
# connect from loopback addresses of gw: 127.0.0.20 is on the DNSBL
# (tarpitted, the 450 naming the zone), 127.0.0.21 on the DNSWL (WHITE
# in nfspamdb), 127.0.0.22 on neither (greylisted).  Then unbound is
# stopped: a new client waits the timeout and is greylisted.
#
# Environment: top_srcdir, top_builddir, NFSPAMD, NFSPAMDB.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
NFSPAMD=${NFSPAMD:-$top_builddir/src/nfspamd/nfspamd}
NFSPAMDB=${NFSPAMDB:-$top_builddir/src/nfspamdb/nfspamdb}
. "$top_srcdir/tests/lib/tap.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root (network namespaces)" 1
	done_testing
	exit 0
fi
[ -x "$NFSPAMD" ] || bail_out "no binary at $NFSPAMD (build first)"
UNBOUND=$(command -v unbound || echo /usr/sbin/unbound)
if [ ! -x "$UNBOUND" ]; then
	skip "no unbound (tests/install-deps installs it)" 1
	done_testing
	exit 0
fi
. "$top_srcdir/tests/system/lib.sh"

lab_init nfsr
lab_watchdog 120 "tests/system/dnsrep.sh: watchdog after 120 s"
lab_ns gw
lab_ns dns
lab_link gw veth0 dns veth0
lab_addr gw veth0 10.79.0.1/24
lab_addr dns veth0 10.79.0.53/24

{
	lab_unbound_head nfspamd.example. 10.79.0.53/24
	cat <<'EOF'
	local-data: '20.0.0.127.bl.nfspamd.example. 300 IN A 127.0.0.2'
	local-data: '20.0.0.127.bl.nfspamd.example. 300 IN A 127.255.255.254'
	local-data: '21.0.0.127.wl.nfspamd.example. 300 IN A 127.0.10.3'
remote-control:
	control-enable: no
EOF
} >"$LAB_TMP/unbound.conf"
lab_unbound_start dns
UNBOUND_PID=$LAB_UNBOUND_PID

cat >"$LAB_TMP/dnsrep" <<'EOF'
bl.nfspamd.example=127.0.0.[2..11]*3
wl.nfspamd.example=127.0.[0..255].[2;3]*-5
threshold 3
trust -3
timeout 700ms
EOF
mkdir -p "$LAB_TMP/db" "$LAB_TMP/run"
chown nobody "$LAB_TMP/db" "$LAB_TMP/run"
chgrp nogroup "$LAB_TMP/dnsrep" && chmod 0640 "$LAB_TMP/dnsrep"
PORT=8025
lab_spawn gw "$LAB_TMP/nfspamd.log" "$NFSPAMD" -d -S 0 -s 0 \
    --firewall none --user nobody --db "$LAB_TMP/db" \
    --control "$LAB_TMP/run/ctl.sock" --alloweddomains "$LAB_TMP/none" \
    -l 127.0.0.1 -p "$PORT" --dnsrep "$LAB_TMP/dnsrep" \
    --resolver 10.79.0.53
lab_wait_log 10 "$LAB_TMP/nfspamd.log" "listening port=$PORT " ||
    bail_out "nfspamd did not start: $(tail -n 5 "$LAB_TMP/nfspamd.log")"

# One dialogue from src: every reply, then what follows DATA.
smtp()
{
	lab_exec gw python3 - "$1" "$PORT" <<'EOF'
import socket, sys, time
s = socket.socket()
s.settimeout(10)
s.bind((sys.argv[1], 0))
t0 = time.monotonic()
s.connect(("127.0.0.1", int(sys.argv[2])))
f = s.makefile("rb")
out = [f.readline()]
print("wait=%.2f" % (time.monotonic() - t0))
for c in (b"HELO x.example", b"MAIL FROM:<a@x.example>",
          b"RCPT TO:<b@y.example>", b"DATA"):
    s.sendall(c + b"\r\n")
    out.append(f.readline())
if out[-1].startswith(b"354"):
    s.sendall(b"Subject: x\r\n\r\nhi\r\n.\r\n")
    out.append(f.readline())
for l in out:
    print(l.decode(errors="replace").rstrip())
EOF
}

r=$(smtp 127.0.0.20)
like "$r" '450 Your address 127\.0\.0\.20 is listed by bl\.nfspamd\.example' \
    "listed: tarpitted, the 450 names the zone"
lab_wait_log 5 "$LAB_TMP/nfspamd.log" \
    'dnsrep ip=127\.0\.0\.20 verdict=listed score=3 zones="bl\.nfspamd\.ex'
is "$?" 0 "listed: the verdict is logged with the zone"

r=$(smtp 127.0.0.21)
like "$r" '^220 ' "trusted: a banner"
lab_wait_log 5 "$LAB_TMP/nfspamd.log" \
    'dnsrep ip=127\.0\.0\.21 verdict=trusted score=-5'
is "$?" 0 "trusted: the verdict is logged"
like "$("$NFSPAMDB" --db "$LAB_TMP/db" 2>&1)" 'WHITE\|127\.0\.0\.21\|' \
    "trusted: nfspamdb shows it WHITE"

r=$(smtp 127.0.0.22)
like "$r" '451 Temporary failure' "neutral: greylisted"

kill "$UNBOUND_PID"
wait "$UNBOUND_PID" 2>/dev/null
r=$(smtp 127.0.0.23)
like "$r" '451 Temporary failure' "DNS down: greylisted"
w=$(printf '%s\n' "$r" | sed -n 's/^wait=//p')
ok "awk -v w='$w' 'BEGIN { exit !(w >= 0.5 && w <= 1.5) }'" \
    "DNS down: the banner waited about the timeout (${w} s)"

done_testing
