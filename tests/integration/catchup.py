#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamd's catch-up channel: real daemons,
unprivileged, on loopback, with temporary stores.  TAP on stdout.

  D  started first, its peer A not up yet: it retries, and catches up
     once A is there
  A  sync on 127.0.0.1 (-y), serves catch-up; holds WHITE, TRAPPED,
     SPAMTRAP entries and a tuple
  B  -Y A: catches up from A at start, holds what A holds (nfspamdb
     --json compared); again after a restart, changing nothing; again
     when A's sync packets show a gap
  C  another key: A refuses it, C says the key differs, C stays empty
  E  its peer is a hostile server made here, which knows the key:
     bad frames are refused with a reason, E keeps running

Environment: NFSPAMD, NFSPAMDB, top_builddir (as nfspamd.py).
"""

import hashlib
import hmac
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
it = nfstest.nfspamd_it()
TAP = it.TAP
wait_for = nfstest.wait_for
WATCHDOG = 90
MAGIC = b"nfspamd-catchup1"


def udp_port(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def entries(db):
    """The database as nfspamdb --json lists it, keyed on type and key,
    without what differs between two copies of one entry: nothing."""
    r = it.spamdb(db, "--json")
    if r.returncode != 0:
        return None
    out = {}
    for line in r.stdout.splitlines():
        e = json.loads(line)
        # The OS nfspamd saw is its own: catch-up does not carry it.
        e.pop("os", None)
        k = (e.get("type"), e.get("ip") or e.get("address") or
             e.get("key"), e.get("helo"), e.get("from"), e.get("to"))
        out[k] = e
    return out


def stats(d):
    since = d.mark()
    d.signal(signal.SIGHUP)
    m = d.wait_log(r"catchup stats .*$", since)
    return m.group(0) if m else ""


class Hostile(threading.Thread):
    """A catch-up server that knows the key and answers one client with
    the frames given, each (kind, seq, rawlen, body, good_mac)."""

    def __init__(self, addr, port, key_text, frames):
        super().__init__(daemon=True)
        self.key = key_text
        self.frames = frames
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((addr, port))
        self.ls.listen(4)
        self.ls.settimeout(30)
        self.served = 0

    def mac(self, cn, sn, hdr, body):
        return hmac.new(self.key, b"S" + cn + sn + hdr + body,
                        hashlib.sha256).digest()

    def run(self):
        try:
            c, _ = self.ls.accept()
        except OSError:
            return
        with c:
            c.settimeout(10)
            hello = nfstest.recv_exact(c, 32)
            cn, sn = hello[16:], os.urandom(16)
            c.sendall(MAGIC + sn)
            proof = nfstest.recv_exact(c, 32)
            want = hmac.new(self.key, b"C" + cn + sn,
                            hashlib.sha256).digest()
            if proof != want:
                return
            for kind, seq, rawlen, body, good in self.frames:
                hdr = struct.pack(">B3xIII", kind, seq, rawlen, len(body))
                m = self.mac(cn, sn, hdr, body)
                c.sendall(hdr + body + (m if good else bytes(32)))
            self.served += 1
        self.ls.close()


def record(kind, key, first, pas, expire, bcount, pcount):
    k = key.encode()
    return struct.pack(">BH", kind, len(k)) + k + \
        struct.pack("<qqqii", first, pas, expire, bcount, pcount)


def body(tmp):
    key, other = os.path.join(tmp, "key"), os.path.join(tmp, "other")
    with open(key, "wb") as f:
        f.write(os.urandom(512))
    with open(other, "wb") as f:
        f.write(b"not the same key\n")
    with open(key, "rb") as f:
        key_text = hashlib.sha1(f.read()).hexdigest().encode()
    addrs = ["127.0.0.%d" % i for i in range(1, 9)]
    cport = nfstest.free_port(addrs)
    spa, spb, spc = (udp_port("127.0.0.%d" % i) for i in (1, 2, 3))
    common = ["-G", "2s:1h:1h", "-S", "0", "-s", "0",
              "--catchup-port", str(cport), "--catchup-interval", "1"]
    a = it.Daemon(tmp, "A", common + ["-k", key, "-y", "127.0.0.1",
                                      "--sync-port", str(spa)],
                  listen=("127.0.0.1",))
    peer_a = ["-Y", "127.0.0.1:%d" % spa]
    d = it.Daemon(tmp, "D", common + ["-k", key] + peer_a,
                  listen=("127.0.0.4",))
    b = it.Daemon(tmp, "B", common + ["-k", key, "-y", "127.0.0.2",
                                      "--sync-port", str(spb)] + peer_a,
                  listen=("127.0.0.2",))
    c = it.Daemon(tmp, "C", common + ["-k", other, "-y", "127.0.0.3",
                                      "--sync-port", str(spc)] + peer_a,
                  listen=("127.0.0.3",))

    # -- D before A: refused, retried
    if not TAP.ok(d.start(), "D starts, its peer A not up yet"):
        return
    TAP.ok(d.wait_log(r"catchup: from 127\.0\.0\.1: connecting to port "
                      r"%d: Connection refused; next try in 10 s" % cport)
           is not None, "D says it could not reach A and when it tries "
           "again", d.log_tail())

    os.makedirs(a.db)
    for args in (["-a", "192.0.2.1", "198.51.100.7"],
                 ["-t", "-a", "203.0.113.9"],
                 ["-T", "-a", "trap@example.org"]):
        r = it.spamdb(a.db, *args)
        TAP.ok(r.returncode == 0, "nfspamdb %s on A" % " ".join(args),
               r.stderr)
    if not TAP.ok(a.start(), "A starts with -y"):
        return
    TAP.ok(a.wait_log(r"catchup: serving on 127\.0\.0\.1 TCP port %d"
                      % cport) is not None, "A says where it serves")
    it.dialogue(a.port, "127.0.0.10", "<bob@example.org>",
                helo="mx.ten.example", mfrom="<alice@ten.example>",
                dst="127.0.0.1")
    TAP.ok(it.db_find(a.db, "GREY", "127.0.0.10"), "a tuple on A")

    # -- B: at start, everything
    if not TAP.ok(b.start(), "B starts with -Y A"):
        return
    m = b.wait_log(r"catchup: from 127\.0\.0\.1: entries=(\d+) white=2 "
                   r"trapped=1 spamtrap=1 grey=1 merged=(\d+) ")
    TAP.ok(m and m.group(1) == "5" and m.group(2) == "5",
           "B catches up from A at start: 5 entries merged", b.log_tail())
    TAP.ok(a.wait_log(r"catchup: to 127\.0\.0\.2: entries=5 ") is not None,
           "A logs what it served")
    ea, eb = entries(a.db), entries(b.db)
    TAP.ok(ea and ea == eb, "B holds what A holds (nfspamdb --json)",
           "A: %r" % ea, "B: %r" % eb)
    m = d.wait_log(r"catchup: from 127\.0\.0\.1: entries=(\d+) ",
                   timeout=15)
    TAP.ok(m and int(m.group(1)) >= 4,
           "D, retrying, catches up once A is there", d.log_tail())

    # -- B again: nothing changes, nothing is counted twice
    b.stop()
    if not TAP.ok(b.start(), "B starts again"):
        return
    m = b.wait_log(r"catchup: from 127\.0\.0\.1: entries=5 .*merged=0 "
                   r"unchanged=5 ")
    TAP.ok(m is not None, "a second catch-up merges nothing", b.log_tail())
    TAP.eq(entries(b.db), ea, "... and B's entries are A's still")

    # -- a gap in A's counter, as B sees it
    r = it.spamdb(a.db, "-a", "192.0.2.50")
    TAP.ok(r.returncode == 0, "a new WHITE on A, not sent by sync")
    # A tuple greylisted on B (and synced to A), whose address A then
    # whitelists: once the WHITE arrives, B's tuple is pointless.
    it.dialogue(b.port, "127.0.0.11", "<bob@example.org>",
                helo="mx.eleven.example", mfrom="<al@eleven.example>",
                dst="127.0.0.2")
    TAP.ok(it.db_find(b.db, "GREY", "127.0.0.11") and
           wait_for(lambda: it.db_find(a.db, "GREY", "127.0.0.11")),
           "a tuple greylisted on B, synced to A")
    r = it.spamdb(a.db, "-a", "127.0.0.11")
    TAP.ok(r.returncode == 0, "A whitelists its address (nfspamdb -a)")
    since = b.mark()
    now = int(time.time())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    for n, ip in ((100, "192.0.2.60"), (101, "192.0.2.61"),
                  (105, "192.0.2.62")):
        s.sendto(nfstest.sync_white_packet(key_text, n, now, now + 3600,
                                           ip), ("127.0.0.2", spb))
    s.close()
    TAP.ok(b.wait_log(r"catchup: sync packets from 127\.0\.0\.1 went "
                      r"missing", since) is not None,
           "B notices the jump from 101 to 105", b.log_tail(since))
    m = b.wait_log(r"catchup: from 127\.0\.0\.1: entries=8 .* "
                   r"superseded=(\d+) ", since, timeout=5)
    TAP.ok(m is not None, "... and catches up again", b.log_tail(since))
    TAP.ok(it.db_find(b.db, "WHITE", "192.0.2.50"),
           "B has the WHITE it missed")
    TAP.ok(m and m.group(1) == "1" and it.db_find(b.db, "WHITE",
                                                   "127.0.0.11") and
           not it.db_find(b.db, "GREY", "127.0.0.11"),
           "B has 127.0.0.11 WHITE and its passed tuple removed "
           "(superseded=1)", b.log_tail(since))

    # -- C: another key
    if not TAP.ok(c.start(), "C starts with another key"):
        return
    TAP.ok(c.wait_log(r"catchup: from 127\.0\.0\.1: frame 0: wrong HMAC "
                      r"\(not the same key file\?\)") is not None,
           "C says the peer's key differs", c.log_tail())
    TAP.ok(a.wait_log(r"catchup: from 127\.0\.0\.3: refused: wrong key")
           is not None, "A refuses C and says why")
    TAP.eq(it.db_lines(c.db), [], "C got nothing")

    # -- junk at A's port, and a client that says nothing
    j = socket.create_connection(("127.0.0.1", cport), 2)
    j.sendall(b"GET / HTTP/1.0\r\n\r\n" + bytes(14))
    j.settimeout(6)
    TAP.eq(nfstest.recv_all(j), b"", "A hangs up on junk")
    j.close()
    TAP.ok("refused=2 " in stats(a), "A counts C and the junk as refused")
    since = a.mark()
    b.stop()
    if not TAP.ok(b.start(), "B starts again after all that"):
        return
    TAP.ok(b.wait_log(r"catchup: from 127\.0\.0\.1: entries=8 ")
           is not None, "A still serves")

    # -- a server that knows the key but sends bad frames
    now = int(time.time())
    good = record(0, "192.0.2.99", now, now, now + 3600, 1, 0)
    bad = record(0, "not-an-address", now, now, now + 60, 1, 0)
    cases = [
        ("wrong HMAC", [(1, 0, len(good), zlib.compress(good), False)],
         r"frame 0: wrong HMAC"),
        ("out of order", [(1, 1, len(good), zlib.compress(good), True)],
         r"frame 1 out of order"),
        ("impossible size", [(1, 0, 1 << 30, b"x", True)],
         r"frame 0: data frame of an impossible size"),
        ("not zlib", [(1, 0, 10, b"0123456789", True)],
         r"frame 0: data frame is not a zlib stream of its length"),
        ("cut record", [(1, 0, 40, zlib.compress(bad[:40]), True)],
         r"frame 0, byte 0: record cut short"),
        ("bad key", [(1, 0, len(bad), zlib.compress(bad), True)],
         r"frame 0, byte 0: record key does not fit its type"),
        ("short count", [(1, 0, len(good), zlib.compress(good), True),
                         (2, 1, 34, struct.pack(">QQQQBB", 2, 0, 0, 0, 32,
                                                64), True)],
         r"WHITE: 2 sent, 1 received"),
        ("hangs up", [(1, 0, len(good), zlib.compress(good), True)],
         r"after frame 1: Broken pipe"),
    ]
    servers, nodes = [], []
    for i, (name, frames, _) in enumerate(cases):
        host = "127.0.0.%d" % (10 + i)
        h = Hostile(host, cport, key_text, frames)
        h.start()
        servers.append(h)
        e = it.Daemon(tmp, "E%d" % i, common + ["-k", key, "-Y",
                                                "%s:%d" % (host, spa)],
                      listen=("127.0.0.%d" % (30 + i),))
        TAP.ok(e.start(), "E%d starts, its peer a hostile server (%s)"
               % (i, name))
        nodes.append(e)
    for (name, _, want), e in zip(cases, nodes):
        TAP.ok(e.wait_log(r"catchup: from 127\.0\.0\.\d+: .*%s.*; next "
                          r"try in 10 s" % want) is not None,
               "E refuses a server's %s, saying so" % name, e.log_tail())
        TAP.ok(e.proc.poll() is None, "... and keeps running")
    TAP.ok(it.db_find(nodes[0].db, "WHITE", "192.0.2.99") == [],
           "a frame with a wrong HMAC is not merged")
    TAP.ok(it.db_find(nodes[6].db, "WHITE", "192.0.2.99"),
           "a good frame is, even when the END that follows is wrong")


def main():
    return nfstest.run(TAP, it.DAEMONS, 'nfspamd-catchup.', WATCHDOG, body,
                       12)


if __name__ == "__main__":
    sys.exit(main())
