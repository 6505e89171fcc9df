#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamd --dnsrep: weighted DNS reputation at
connect, against a small DNS server of this script's own (UDP on
127.0.0.1, a port of its own) that nfspamd reaches with --resolver.
Unprivileged, loopback only, TAP on stdout.

The server answers by client address: 127.0.0.20 is on the DNSBL
(listed), .21 on the DNSWL (trusted), .22 on neither (neutral), and
for .23 and .24 it never answers (the timeout).

Environment: NFSPAMD, NFSPAMDB, top_builddir (as nfspamd.py).
"""

import os
import re
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
it = nfstest.nfspamd_it()
TAP = it.TAP
WATCHDOG = 90
TIMEOUT_MS = 800

LISTED, TRUSTED, NEUTRAL, NEVER, NEVER2 = (
    "127.0.0.20", "127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24")

CONF = """# DNSBL, weight 3: listed on its own
bl.nfspamd.example=127.0.0.[2..11]*3
# DNSWL, negative weight
wl.nfspamd.example=127.0.[0..255].[2;3]*-5
threshold 3
trust -3
timeout %dms
cache 60 3600
""" % TIMEOUT_MS


class FakeDNS:
    """Answers A queries for <reversed ip>.bl.nfspamd.example and
    .wl.nfspamd.example.  Not .test: libunbound answers that itself
    (RFC 6761)."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.2)
        self.port = self.s.getsockname()[1]
        self.queries = {}       # qname -> count
        self.lock = threading.Lock()
        self.stop = False
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def count(self, ip):
        rev = ".".join(reversed(ip.split(".")))
        with self.lock:
            return sum(n for q, n in self.queries.items()
                       if q.startswith(rev + "."))

    def answer_for(self, qname):
        """(rcode, [A records]) or None for no answer at all."""
        labels = qname.split(".")
        if len(labels) < 6:
            return 3, []
        ip = ".".join(reversed(labels[:4]))
        zone = ".".join(labels[4:])
        if ip in (NEVER, NEVER2):
            return None
        if zone == "bl.nfspamd.example" and ip == LISTED:
            return 0, ["127.0.0.2", "127.0.0.4"]
        if zone == "wl.nfspamd.example" and ip == TRUSTED:
            return 0, ["127.0.10.3"]
        return 3, []

    def serve(self):
        while not self.stop:
            try:
                data, peer = self.s.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                reply = self.reply(data)
            except (ValueError, IndexError, struct.error):
                continue
            if reply is not None:
                try:
                    self.s.sendto(reply, peer)
                except OSError:
                    pass

    def reply(self, data):
        qid, flags, qd = struct.unpack("!HHH", data[:6])
        if qd != 1:
            return None
        i, labels = 12, []
        while data[i] != 0:
            n = data[i]
            labels.append(data[i + 1:i + 1 + n].decode("ascii").lower())
            i += 1 + n
        qtype, qclass = struct.unpack("!HH", data[i + 1:i + 5])
        question = data[12:i + 5]
        qname = ".".join(labels)
        with self.lock:
            self.queries[qname] = self.queries.get(qname, 0) + 1
        a = self.answer_for(qname)
        if a is None:
            return None
        rcode, addrs = a
        if qtype != 1:
            addrs = []
        hdr = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100) | rcode,
                          1, len(addrs), 0 if addrs else 1, 0)
        out = hdr + question
        for x in addrs:
            out += struct.pack("!HHHIH", 0xc00c, 1, 1, 300, 4)
            out += socket.inet_aton(x)
        if not addrs:
            # SOA of the zone: a negative answer's TTL.
            zone = b"".join(bytes([len(l)]) + l.encode()
                            for l in labels[4:]) + b"\0"
            rdata = (b"\2ns" + zone + b"\4host" + zone +
                     struct.pack("!IIIII", 1, 3600, 600, 86400, 300))
            out += zone + struct.pack("!HHIH", 6, 1, 300, len(rdata)) + rdata
        return out

    def close(self):
        self.stop = True
        self.t.join(2)
        self.s.close()


def t_bad_file(tmp):
    path = os.path.join(tmp, "bad.dnsrep")
    with open(path, "w") as f:
        f.write("bl.nfspamd.example=127.0.0.[2..11]*3\nthreshold 0\n")
    d = it.Daemon(tmp, "bad", ["--dnsrep", path, "--resolver",
                               "127.0.0.1@53"], listen=("127.0.0.1",))
    try:
        logf = open(d.logpath, "ab")
        p = __import__("subprocess").run(d.args, stdin=None, stdout=logf,
                                          stderr=logf, timeout=10)
        logf.close()
        TAP.ok(p.returncode == 1 and re.search(
            r"%s:2: threshold \"0\"" % re.escape(path), d.log()),
            "a bad --dnsrep file: nfspamd exits 1 naming file, line and "
            "value", d.log_tail())
    finally:
        d.cleanup()
    rc = __import__("subprocess").run(
        [it.NFSPAMD, "--resolver", "127.0.0.1@x"], capture_output=True,
        text=True, timeout=10)
    TAP.ok(rc.returncode == 1 and "--resolver 127.0.0.1@x" in rc.stderr,
           "a bad --resolver: refused, naming it", rc.stderr)


def dialogue_timed(port, src):
    t0 = time.monotonic()
    c = it.Client(src, port, timeout=5)
    try:
        banner = c.line()
        dt = time.monotonic() - t0
    except Exception:
        c.close()
        raise
    return c, banner, dt


def t_dnsrep(tmp, dns):
    path = os.path.join(tmp, "dnsrep.conf")
    with open(path, "w") as f:
        f.write(CONF)
    d = it.Daemon(tmp, "rep", ["-S", "0", "-s", "0", "-G", "2s:1h:1h",
                               "--dnsrep", path, "--resolver",
                               "127.0.0.1@%d" % dns.port],
                  listen=("127.0.0.1",))
    if not TAP.ok(d.start(), "nfspamd starts with --dnsrep and --resolver"):
        return d
    TAP.ok(d.wait_log(r"dns reputation file=\S+ sites=2 zones=2 "
                      r"threshold=3 trust=-3 timeout_ms=%d" % TIMEOUT_MS)
           is not None, "the supervisor logs the configuration")

    # Listed: the blacklist's dialogue, the message naming the zone.
    since = d.mark()
    r = it.dialogue(d.port, LISTED, "<x@example.org>", body=it.BODY)
    TAP.ok(r["banner"].startswith(b"220 ") and r["rcpt"] == it.R_RCPT,
           "listed: the usual replies up to RCPT", repr(r))
    TAP.eq(r["data"], it.R_DATA, "listed: DATA gets 354 (tarpit)")
    TAP.eq(r["tail"], ("450 Your address %s is listed by bl.nfspamd.example\r\n"
                       % LISTED).encode(),
           "listed: after the message, a 450 naming the zone")
    TAP.ok(d.wait_log(r'dnsrep ip=127\.0\.0\.20 verdict=listed score=3 '
                      r'zones="bl\.nfspamd\.example" ms=\d+', since)
           is not None,
           "listed: logged with its score and zone")
    TAP.ok(d.wait_log(r'connected ip=127\.0\.0\.20 .*lists="dnsrep"', since)
           is not None, "listed: the connection is under list dnsrep")
    TAP.eq(it.db_find(d.db, "GREY", LISTED), [],
           "listed: no GREY tuple")

    # Trusted: WHITE in the database, as a pass.
    since = d.mark()
    c, banner, dt = dialogue_timed(d.port, TRUSTED)
    c.close()
    TAP.ok(banner.startswith(b"220 "), "trusted: a banner", repr(banner))
    TAP.ok(d.wait_log(r'dnsrep ip=127\.0\.0\.21 verdict=trusted score=-5 '
                      r'zones="wl\.nfspamd\.example" white_expire=\d+', since)
           is not None, "trusted: logged with its score and zone")
    white = it.db_find(d.db, "WHITE", TRUSTED)
    TAP.eq(len(white), 1, "trusted: nfspamdb shows it WHITE",
           "db: %r" % it.db_lines(d.db))

    # Neutral: greylisted as ever.
    r = it.dialogue(d.port, NEUTRAL, "<bob@example.org>")
    TAP.eq(r["data"], it.R_GREY, "neutral: greylisted (451)")
    TAP.eq(len(it.db_find(d.db, "GREY", NEUTRAL)), 1,
           "neutral: a GREY tuple")

    # The cache: a second connection asks nobody.
    n = dns.count(LISTED)
    since = d.mark()
    c, banner, dt = dialogue_timed(d.port, LISTED)
    c.close()
    TAP.ok(d.wait_log(r'dnsrep ip=127\.0\.0\.20 verdict=listed score=3 '
                      r'zones="bl\.nfspamd\.example" cached=yes', since)
           is not None,
           "cache: the second connection's verdict comes from the cache")
    TAP.eq(dns.count(LISTED), n, "cache: no query reached the server")
    TAP.ok(dt < 0.5, "cache: the banner without a wait (%.2f s)" % dt)

    # No answer: the banner waits the timeout, then greylisting.
    since = d.mark()
    t0 = time.monotonic()
    r = it.dialogue(d.port, NEVER, "<bob@example.org>")
    TAP.eq(r["data"], it.R_GREY, "timeout: greylisted (451)")
    wait = r["t"] - t0
    TAP.ok(d.wait_log(r'dnsrep ip=127\.0\.0\.23 verdict=unknown score=0 '
                      r'zones="" reason=timeout ms=(\d+)', since)
           is not None, "timeout: logged as unknown, reason=timeout")
    c, banner, dt = dialogue_timed(d.port, NEVER)
    c.close()
    TAP.ok(banner.startswith(b"220 ") and TIMEOUT_MS / 1000 - 0.1 <= dt
           <= TIMEOUT_MS / 1000 + 0.5,
           "timeout: the banner waits the timeout and no more (%.2f s)"
           % dt, repr(banner))
    TAP.ok(dns.count(NEVER) > 0, "timeout: the server was asked")

    # A client that leaves while its lookup runs.
    since = d.mark()
    c = it.Client(NEVER2, d.port, timeout=2)
    c.close()
    TAP.ok(d.wait_log(r"disconnected ip=127\.0\.0\.24 ", since,
                      timeout=TIMEOUT_MS / 2000) is not None,
           "a client gone during its lookup: closed at once, before the "
           "timeout")
    time.sleep(TIMEOUT_MS / 1000 + 0.2)
    TAP.ok(d.wait_log(r"dnsrep ip=127\.0\.0\.24", since, timeout=0.1)
           is None, "...and its lookup is forgotten, no verdict logged")
    r = it.dialogue(d.port, NEUTRAL, "<carol@example.org>")
    TAP.eq(r["data"], it.R_GREY, "the worker still serves afterwards")
    rc, took = d.stop()
    TAP.eq(rc, 0, "SIGTERM: nfspamd exits 0")
    return d


def body(tmp):
    dns = FakeDNS()
    try:
        if nfstest.selected("bad-file"):
            TAP.diag("--- bad-file")
            t_bad_file(tmp)
        if nfstest.selected("dnsrep"):
            TAP.diag("--- dnsrep")
            t_dnsrep(tmp, dns)
    finally:
        dns.close()


def main():
    for prog in (it.NFSPAMD, it.NFSPAMDB):
        if not os.access(prog, os.X_OK):
            print("Bail out! no executable %s" % prog, flush=True)
            return 1
    return nfstest.run(TAP, it.DAEMONS, "nfspamd-dnsrep.", WATCHDOG, body, 20)


if __name__ == "__main__":
    sys.exit(main())
