#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamd's sync (spamd's protocol): real daemons,
unprivileged, on loopback, with temporary stores.  TAP on stdout.

  A  SMTP on 127.0.0.1 and ::1, sync on 127.0.0.1, sends to B and C
  B  SMTP on 127.0.0.2, sync on 127.0.0.2, sends to A; replay window on
  C  SMTP on 127.0.0.3, sync on 127.0.0.3, another key, sends to A

Checked: a tuple greylisted on A (IPv4, and IPv6 with the af-10
extension) appears on B with the same helo/from/to and the same first
time; a trap on A appears on B as TRAPPED with the same expiry; a WHITE
message as spamlogd sends it (made here, independently of nfspamd's
code) is applied on B and not sent on; what B receives is not sent back;
C, with another key, refuses A's packets and A refuses C's; B refuses a
replayed packet.

Environment: NFSPAMD, NFSPAMDB, top_builddir (as nfspamd.py).
"""

import hashlib
import hmac
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
it = nfstest.nfspamd_it()
TAP = it.TAP
wait_for = nfstest.wait_for
WATCHDOG = 60


def udp_port(addr):
    s = socket.socket(it.family(addr), socket.SOCK_DGRAM)
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def grey_packet(key_text, counter, ts, ip, helo, mfrom, rcpt):
    """A GREY message as greyd sends it: the strings NUL-terminated,
    the TLV padded to 16 bytes, laid out from the spec's tables."""
    strs = mfrom.encode() + b"\0" + rcpt.encode() + b"\0" + \
        helo.encode() + b"\0"
    size = 4 + 4 + 4 + 6 + len(strs)
    size = (size + 15) & ~15
    tlv = struct.pack(">HHI", 1, size, ts) + socket.inet_aton(ip) + \
        struct.pack(">HHH", len(mfrom) + 1, len(rcpt) + 1,
                    len(helo) + 1) + strs
    tlv += bytes(size - len(tlv))
    body = tlv + struct.pack(">HH", 0, 4)
    hdr = struct.pack(">BBHI", 2, 2, 32 + len(body), counter)
    p = hdr + bytes(24) + body
    mac = hmac.new(key_text, p, hashlib.sha1).digest()
    return p[:8] + mac + p[28:]


def stats(d):
    since = d.mark()
    d.signal(signal.SIGHUP)
    m = d.wait_log(r"sync stats .*$", since)
    return m.group(0) if m else ""


def body(tmp):
    key, other = os.path.join(tmp, "key"), os.path.join(tmp, "other")
    with open(key, "wb") as f:
        f.write(os.urandom(2048))
    with open(other, "wb") as f:
        f.write(b"not the same key\n")
    with open(key, "rb") as f:
        key_text = hashlib.sha1(f.read()).hexdigest().encode()
    sp = {h: udp_port(h) for h in ("127.0.0.1", "127.0.0.2",
                                   "127.0.0.3")}
    # Catch-up (on with -y and a key) on a port of this run's own.
    cport = nfstest.free_port(("127.0.0.1", "127.0.0.2", "127.0.0.3"))
    common = ["-G", "2s:1h:1h", "-S", "0", "-s", "0", "--catchup-port",
              str(cport)]
    a = it.Daemon(tmp, "A", common + [
        "-k", key, "-y", "127.0.0.1", "--sync-port",
        str(sp["127.0.0.1"]), "-Y", "127.0.0.2:%d" % sp["127.0.0.2"],
        "-Y", "127.0.0.3:%d" % sp["127.0.0.3"]],
        listen=("127.0.0.1", "::1"))
    b = it.Daemon(tmp, "B", common + [
        "-k", key, "-y", "127.0.0.2", "--sync-port",
        str(sp["127.0.0.2"]), "-Y", "127.0.0.1:%d" % sp["127.0.0.1"],
        "--sync-replay-window", "60"], listen=("127.0.0.2",))
    c = it.Daemon(tmp, "C", common + [
        "-k", other, "-y", "127.0.0.3", "--sync-port",
        str(sp["127.0.0.3"]), "-Y", "127.0.0.1:%d" % sp["127.0.0.1"]],
        listen=("127.0.0.3",))
    os.makedirs(a.db)
    r = it.spamdb(a.db, "-a", "-T", "trap@example.org")
    TAP.ok(r.returncode == 0, "a spamtrap address on A", r.stderr)
    for d in (a, b, c):
        if not TAP.ok(d.start(), "%s starts with sync" % d.name):
            return 1
    TAP.ok(a.wait_log(r"sync: listening on 127\.0\.0\.1 port %d"
                      % sp["127.0.0.1"]) is not None,
           "A says where it listens for sync")

    # -- GREY, IPv4
    it.dialogue(a.port, "127.0.0.10", "<bob@example.org>",
                helo="mx.ten.example", mfrom="<alice@ten.example>",
                dst="127.0.0.1")
    ga = it.db_find(a.db, "GREY", "127.0.0.10")
    gb = wait_for(lambda: it.db_find(b.db, "GREY", "127.0.0.10"))
    TAP.ok(ga and gb, "a tuple greylisted on A appears on B",
           "A: %r" % ga, "B: %r" % gb)
    if ga and gb:
        TAP.eq(gb[0][2:5], ga[0][2:5],
               "... with the same helo, from and to")
        TAP.ok(abs(int(gb[0][5]) - int(ga[0][5])) <= 1,
               "... and the same first time (%s, %s)"
               % (ga[0][5], gb[0][5]))
    TAP.eq(it.db_find(c.db, "GREY", "127.0.0.10"), [],
           "C, with another key, does not have it")
    TAP.ok(c.wait_log(r"sync: packet from 127\.0\.0\.1 refused: hmac")
           is not None, "C logs A's packet as refused: hmac")

    # -- GREY, IPv6 (af 10)
    it.dialogue(a.port, "::1", "<bob@example.org>",
                helo="mx.six.example", mfrom="<alice@six.example>",
                dst="::1")
    # B keys it by its own -N: ::1's /64 by default.
    g6 = wait_for(lambda: it.db_find(b.db, "GREY", "::/64"))
    TAP.ok(g6 and g6[0][2] == "mx.six.example",
           "an IPv6 tuple greylisted on A appears on B", "B: %r" % g6)

    # -- TRAPPED
    it.dialogue(a.port, "127.0.0.11", "<trap@example.org>",
                dst="127.0.0.1")
    ta = wait_for(lambda: it.db_find(a.db, "TRAPPED", "127.0.0.11"))
    tb = wait_for(lambda: it.db_find(b.db, "TRAPPED", "127.0.0.11"))
    TAP.ok(ta and tb, "a trap on A appears on B as TRAPPED",
           "A: %r" % ta, "B: %r" % tb)
    if ta and tb:
        TAP.eq(tb[0][2], ta[0][2], "... with the same expiry")

    # -- WHITE as spamlogd sends it, to B
    now = int(time.time())
    pkt = nfstest.sync_white_packet(key_text, 1, now, now + 7200, "192.0.2.7")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.20", 0))
    s.sendto(pkt, ("127.0.0.2", sp["127.0.0.2"]))
    wb = wait_for(lambda: it.db_find(b.db, "WHITE", "192.0.2.7"))
    TAP.ok(wb and wb[0][6] == str(now + 7200),
           "a spamlogd WHITE message is applied on B with its expiry",
           "B: %r" % wb)
    # An IPv6 address is whitelisted as its /64 (B's -N).
    s.sendto(nfstest.sync_white_packet(key_text, 2, now, now + 7200,
                                       "2001:db8:7::5"),
             ("127.0.0.2", sp["127.0.0.2"]))
    w6 = wait_for(lambda: it.db_find(b.db, "WHITE", "2001:db8:7::/64"))
    TAP.ok(w6 and w6[0][6] == str(now + 7200),
           "a WHITE message for 2001:db8:7::5 whitelists 2001:db8:7::/64 "
           "on B", "B: %r" % w6)
    # Received messages are not sent on: A never hears of it.  B's
    # next own tuple reaches A after anything B could have sent on.
    it.dialogue(b.port, "127.0.0.13", "<bob@example.org>",
                dst="127.0.0.2")
    TAP.ok(wait_for(lambda: it.db_find(a.db, "GREY", "127.0.0.13")),
           "B's own next tuple reaches A")
    TAP.eq(it.db_find(a.db, "WHITE", "192.0.2.7"), [],
           "B does not send on what it received")
    TAP.eq(it.db_find(a.db, "GREY", "127.0.0.10")[0][5:],
           ga[0][5:] if ga else None,
           "nor does it send back A's tuple (A's record unchanged)")

    # -- replay (window on B), wrong key, C to A
    since = b.mark()
    s.sendto(pkt, ("127.0.0.2", sp["127.0.0.2"]))
    TAP.ok(b.wait_log(r"refused: replay", since) is not None,
           "B (--sync-replay-window) refuses the same packet again")
    # A second sender on the same address (spamlogd beside spamd),
    # counting from its own start: counter 1 again, and taken.
    s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s2.bind(("127.0.0.20", 0))
    s2.sendto(nfstest.sync_white_packet(key_text, 1, now, now + 3600,
                                        "192.0.2.9"),
              ("127.0.0.2", sp["127.0.0.2"]))
    TAP.ok(wait_for(lambda: it.db_find(b.db, "WHITE", "192.0.2.9")),
           "a second sender on the same address, also at counter 1, "
           "is applied")
    # What can never be a client (greyd's IPv6 entries come as
    # 255.255.255.255) is ignored, counted and logged.
    since = b.mark()
    s2.sendto(nfstest.sync_white_packet(key_text, 2, now, now + 3600,
                                        "255.255.255.255"),
              ("127.0.0.2", sp["127.0.0.2"]))
    TAP.ok(b.wait_log(r"sync: from 127\.0\.0\.20: message for "
                      r"255\.255\.255\.255 ignored: broadcast address",
                      since) is not None,
           "a WHITE for 255.255.255.255 is ignored and logged")
    TAP.eq(it.db_find(b.db, "WHITE", "255.255.255.255"), [],
           "... and not stored")
    # greyd's GREY: MAIL FROM and RCPT TO without brackets, in
    # lower case.  Stored in spamd's form; the client's retry here,
    # as it writes them, is the same tuple.
    s2.sendto(grey_packet(key_text, 3, now, "127.0.0.14",
                          "mx.greyd.example", "alice@example.org",
                          "bob@example.org"),
              ("127.0.0.2", sp["127.0.0.2"]))
    g = wait_for(lambda: it.db_find(b.db, "GREY", "127.0.0.14"))
    TAP.ok(g and g[0][3:5] == ["<alice@example.org>",
                               "<bob@example.org>"],
           "greyd's stripped GREY is stored in spamd's form", "%r" % g)
    if g:
        it.age_tuple(b.db, g[0], 3)
        since = b.mark()
        it.dialogue(b.port, "127.0.0.14", "<Bob@Example.ORG>",
                    helo="mx.greyd.example", mfrom="<Alice@Example.org>",
                    dst="127.0.0.2")
        TAP.ok(b.wait_log(r"passed ip=127\.0\.0\.14 ", since)
               is not None,
               "... and the client's retry here, in its own case, "
               "passes", b.log_tail(since))
    s2.close()
    bad = nfstest.sync_white_packet(b"wrong", 2, now, now + 7200,
                                    "192.0.2.8")
    s.sendto(bad, ("127.0.0.2", sp["127.0.0.2"]))
    s.sendto(b"\x02\x02\x00", ("127.0.0.2", sp["127.0.0.2"]))
    s.close()
    it.dialogue(c.port, "127.0.0.12", "<bob@example.org>",
                dst="127.0.0.3")
    # (C's packets leave from 127.0.0.1: the route to A picks it.)
    TAP.ok(a.wait_log(r"sync: packet from 127\.0\.0\.[0-9]+ refused: "
                      r"hmac") is not None,
           "A refuses C's packets (another key)")
    # (C sends one packet for the tuple: the refusal was about it.)
    TAP.eq(it.db_find(a.db, "GREY", "127.0.0.12"), [],
           "... and does not have C's tuple")
    st = stats(b)
    TAP.ok("refused-hmac=1 " in st and "refused-short=1 " in st and
           "refused-replay=1 " in st and "ignored-address=1" in st,
           "B counts its refusals by reason", st)
    TAP.ok(b.proc.poll() is None and a.proc.poll() is None,
           "A and B are still running")


def main():
    return nfstest.run(TAP, it.DAEMONS, 'nfspamd-sync.', WATCHDOG, body, 12)


if __name__ == "__main__":
    sys.exit(main())
