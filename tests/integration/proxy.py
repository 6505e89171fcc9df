#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamd --proxy-from: connections from a load
balancer begin with a PROXY protocol header (v1 or v2), and nfspamd
greylists the client the header names, not the balancer.  127.0.0.1 is
the balancer here; the clients it names are 192.0.2.0/24 and
2001:db8::/32 addresses, which never connect themselves.  Other
loopback addresses are clients with no balancer: served as ever.
Unprivileged, loopback only, TAP on stdout.

Environment: NFSPAMD, NFSPAMDB, top_builddir, top_srcdir (as nfspamd.py).
"""

import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
it = nfstest.nfspamd_it()
TAP = it.TAP
WATCHDOG = 90

PROXY = "127.0.0.1"     # the balancer: --proxy-from 127.0.0.1
SIG2 = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(src, dst, sport, dport):
    proto = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (proto, src, dst, sport,
                                          dport)).encode()


def v2(src, dst, sport, dport, tlvs=b"", cmd=0x21):
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    block = (socket.inet_pton(fam, src) + socket.inet_pton(fam, dst) +
             struct.pack(">HH", sport, dport) + tlvs)
    return (SIG2 + bytes([cmd, 0x21 if fam == socket.AF_INET6 else 0x11]) +
            struct.pack(">H", len(block)) + block)


def v2_local():
    return SIG2 + b"\x20\x00\x00\x00"


def proxied(d, header, src=PROXY, pipelined=b""):
    """A connection from src that sends header (and pipelined) first."""
    c = it.Client(src, d.port)
    c.send(header + pipelined)
    return c


def dialogue(c, rcpt="<bob@example.org>"):
    """Banner, EHLO, MAIL, RCPT, DATA, until the server closes."""
    r = {}
    try:
        r["banner"] = c.line()
        r["ehlo"] = c.cmd(b"EHLO mx.sender.example\r\n")
        r["mail"] = c.cmd(b"MAIL FROM:<alice@sender.example>\r\n")
        r["rcpt"] = c.cmd(b"RCPT TO:" + rcpt.encode() + b"\r\n")
        r["data"] = c.cmd(b"DATA\r\n")
        r["tail"], r["how"] = c.rest()
    finally:
        c.close()
    return r


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=5) as f:
        return f.read().decode()


def refused_quietly(d, header, why, desc):
    """The balancer's connection closes with no byte sent, logged."""
    since = d.mark()
    c = proxied(d, header)
    data, how = c.rest()
    c.close()
    TAP.ok(data == b"" and it.closed(how),
           "%s: closed, no banner" % desc, "got %r, %s" % (data, how))
    TAP.ok(d.wait_log(r'proxy ip=127\.0\.0\.1 failed reason="[^"]*%s'
                      % why, since) is not None,
           "%s: logged with the balancer and the reason" % desc,
           d.log_tail(since))


def t_flags(tmp):
    for arg, why in (("10.0.0.1/8", "host bits set"),
                     ("mx.example", "host names"),
                     ("2001:db8::/129", "prefix length")):
        r = subprocess.run([it.NFSPAMD, "-d", "--firewall", "none",
                            "--db", os.path.join(tmp, "nodb"),
                            "--proxy-from", arg],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=10)
        TAP.ok(r.returncode == 1 and "--proxy-from %s: " % arg in r.stderr
               and why in r.stderr,
               "--proxy-from %s is refused (%s)" % (arg, why),
               r.stderr.strip())


def t_clients(d, mport):
    # v1 over IPv4: the client is 192.0.2.10, the balancer 127.0.0.1.
    since = d.mark()
    r = dialogue(proxied(d, v1("192.0.2.10", "127.0.0.1", 40000, 25)))
    TAP.ok(r["banner"].startswith(b"220 ") and r["rcpt"] == it.R_RCPT,
           "v1 TCP4: banner and the dialogue to RCPT", repr(r))
    TAP.eq(r["data"], it.R_GREY, "v1 TCP4: DATA gets 451")
    TAP.ok(d.wait_log(r"connected ip=192\.0\.2\.10 clients=\d+ black=0 "
                      r"os=unknown proxy=127\.0\.0\.1$", since) is not None,
           "v1 TCP4: connected ip= the client, proxy= the balancer, the "
           "balancer's SYN not fingerprinted", d.log_tail(since))
    TAP.ok(d.wait_log(r"greylisted ip=192\.0\.2\.10 helo=mx\.sender\.example"
                      r" from=<alice@sender\.example> to=<bob@example\.org>"
                      r" new=1 attempts=1", since) is not None,
           "v1 TCP4: greylisted under the client's address")
    g = it.db_find(d.db, "GREY", "192.0.2.10")
    TAP.ok(len(g) == 1 and g[0][2:5] == ["mx.sender.example",
                                         "<alice@sender.example>",
                                         "<bob@example.org>"],
           "v1 TCP4: nfspamdb has the tuple under 192.0.2.10",
           repr(it.db_lines(d.db)))
    TAP.eq(it.db_find(d.db, "GREY", PROXY), [],
           "v1 TCP4: nothing under the balancer's address")

    # v2 over IPv6, with TLVs: 2001:db8::10 (-N 32:128 keys by address).
    since = d.mark()
    tlvs = b"\x01\x00\x04smtp" + b"\x04\x00\x02\x00\x00"
    r = dialogue(proxied(d, v2("2001:db8::10", "2001:db8::1", 443, 25,
                               tlvs)))
    TAP.eq(r.get("data"), it.R_GREY, "v2 TCP6 with TLVs: DATA gets 451",
           repr(r))
    TAP.ok(d.wait_log(r"greylisted ip=2001:db8::10 helo=mx\.sender\.example"
                      r" .*new=1 attempts=1", since) is not None,
           "v2 TCP6: greylisted under the client's address",
           d.log_tail(since))
    TAP.eq(len(it.db_find(d.db, "GREY", "2001:db8::10")), 1,
           "v2 TCP6: nfspamdb has the tuple under 2001:db8::10",
           repr(it.db_lines(d.db)))
    TAP.ok(d.wait_log(r"connected ip=2001:db8::10 .*proxy=127\.0\.0\.1$",
                      since) is not None, "v2 TCP6: connected, proxy=")

    # v2 over IPv4, again: the retry counts for the same client.
    since = d.mark()
    r = dialogue(proxied(d, v2("192.0.2.10", "127.0.0.1", 40001, 25)))
    TAP.ok(d.wait_log(r"greylisted ip=192\.0\.2\.10 .*new=0 attempts=2",
                      since) is not None,
           "v2 TCP4: the same client's retry, whichever version",
           d.log_tail(since))

    # SMTP sent with the header, before the banner, is not lost.
    for name, hdr in (("v1", v1("192.0.2.11", "127.0.0.1", 1, 25)),
                      ("v2", v2("192.0.2.11", "127.0.0.1", 1, 25))):
        c = proxied(d, hdr, pipelined=b"EHLO pipe.example\r\nQUIT\r\n")
        banner = c.line()
        ehlo = c.reply()
        rest, how = c.rest()
        c.close()
        TAP.ok(banner.startswith(b"220 ") and ehlo == it.R_HELO and
               rest.startswith(b"221 ") and it.closed(how),
               "%s: EHLO and QUIT in the header's packet are answered "
               "after the banner" % name, repr((banner, ehlo, rest, how)))

    # LOCAL (a health check) and UNKNOWN: the balancer's own address.
    for name, hdr, kind in (("v2 LOCAL", v2_local(), "local"),
                            ("v1 UNKNOWN", b"PROXY UNKNOWN\r\n",
                             "unknown")):
        since = d.mark()
        c = proxied(d, hdr)
        banner = c.line()
        quit_ = c.cmd(b"QUIT\r\n")
        c.close()
        TAP.ok(banner.startswith(b"220 ") and quit_.startswith(b"221 "),
               "%s: served" % name, repr((banner, quit_)))
        TAP.ok(d.wait_log(r"proxy ip=127\.0\.0\.1 version=\d header=%s: "
                          r"the proxy's own address is kept" % kind, since)
               is not None and
               d.wait_log(r'connected ip=127\.0\.0\.1 clients=\d+ black=0 '
                          r'os="Linux[^"]*" proxy=127\.0\.0\.1$', since)
               is not None,
               "%s: logged; the connection keeps the balancer's address "
               "and its SYN's fingerprint" % name, d.log_tail(since))

    # Bad headers: closed without a word.
    refused_quietly(d, b"PROXY TCP4 192.0.2.10 127.0.0.1 040000 25\r\n",
                    "source port", "v1 with a port of leading zeros")
    refused_quietly(d, b"PROXY TCP6 192.0.2.10 127.0.0.1 1 25\r\n",
                    "bad source address for TCP6",
                    "v1 TCP6 with IPv4 addresses")
    bad = bytearray(v2("192.0.2.10", "127.0.0.1", 1, 25))
    bad[12] = 0x11
    refused_quietly(d, bytes(bad), "version is not 2", "v2 of version 1")
    refused_quietly(d, v2("192.0.2.10", "127.0.0.1", 1, 25,
                          b"\x01\x00\x09xy"), "TLV longer",
                    "v2 with a TLV past its end")
    refused_quietly(d, b"EHLO mx.sender.example\r\n",
                    "not a PROXY protocol header",
                    "plain SMTP from the balancer")
    since = d.mark()
    c = proxied(d, b"PROXY TCP4 192.0.2.10 ")
    c.s.shutdown(socket.SHUT_WR)
    data, how = c.rest()
    c.close()
    TAP.ok(data == b"" and d.wait_log(
        r'proxy ip=127\.0\.0\.1 failed reason="closed in the middle of the '
        r'header"', since) is not None,
           "a header cut short by the balancer: logged", d.log_tail(since))
    TAP.eq(it.db_find(d.db, "GREY", PROXY), [],
           "no tuple under the balancer's address at all")

    # A client not in --proxy-from: "PROXY ..." is only bad SMTP.
    since = d.mark()
    c = it.Client("127.0.0.5", d.port)
    banner = c.line()
    reply = c.cmd(v1("192.0.2.10", "127.0.0.1", 1, 25))
    c.close()
    TAP.ok(banner.startswith(b"220 "), "not a balancer: the banner first",
           repr(banner))
    TAP.eq(reply, it.R_BAD, "not a balancer: the PROXY line gets 500")
    m = d.wait_log(r"connected ip=127\.0\.0\.5 .*", since)
    TAP.ok(m is not None and "proxy=" not in m.group(0),
           "not a balancer: connected under its own address, no proxy=",
           d.log_tail(since))

    text = metrics(mport)
    want = {"ok": 5, "local": 2, "error": 6, "timeout": 0}
    got = {k: int(v) for k, v in re.findall(
        r'^nfspamd_proxy_headers_total\{result="(\w+)"\} (\d+)$', text,
        re.M)}
    TAP.eq(got, want, "metrics: nfspamd_proxy_headers_total by result")
    TAP.ok("# HELP nfspamd_proxy_headers_total " in text,
           "metrics: the family has its HELP")


def t_lowprio(d):
    """-M: the address the client dialled is the header's."""
    since = d.mark()
    r = dialogue(proxied(d, v1("192.0.2.50", "198.51.100.25", 1, 25)))
    TAP.eq(r.get("data"), it.R_GREY, "-M: DATA gets 451", repr(r))
    TAP.ok(d.wait_log(r"trapped ip=192\.0\.2\.50 .*reason=lowprio-mx",
                      since) is not None,
           "-M: a client the header says dialled the -M address is "
           "trapped", d.log_tail(since))
    since = d.mark()
    dialogue(proxied(d, v1("192.0.2.51", "198.51.100.24", 1, 25)))
    TAP.ok(d.wait_log(r"greylisted ip=192\.0\.2\.51 .*new=1", since)
           is not None, "-M: one that dialled another address is "
           "greylisted", d.log_tail(since))


def t_timeout(d, mport):
    since = d.mark()
    t0 = time.monotonic()
    c = proxied(d, b"PROXY TCP4 ")
    data, how = c.rest(timeout=8)
    took = time.monotonic() - t0
    c.close()
    TAP.ok(data == b"" and it.closed(how) and 1.5 <= took <= 5,
           "no whole header within --idle-timeout 2: closed, no banner",
           "got %r, %s after %.1f s" % (data, how, took))
    TAP.ok(d.wait_log(r'proxy ip=127\.0\.0\.1 failed reason="no header in '
                      r'2 s"', since) is not None,
           "the timeout is logged", d.log_tail(since))
    TAP.ok(re.search(r'^nfspamd_proxy_headers_total\{result="timeout"\} 1$',
                     metrics(mport), re.M) is not None,
           "metrics: one timeout")


def t_off(d):
    """Without --proxy-from, a PROXY line from anyone is bad SMTP."""
    c = it.Client(PROXY, d.port)
    banner = c.line()
    reply = c.cmd(b"PROXY UNKNOWN\r\n")
    c.close()
    TAP.ok(banner.startswith(b"220 ") and reply == it.R_BAD,
           "no --proxy-from: the banner, then 500 to a PROXY line",
           repr((banner, reply)))


def body(tmp):
    if nfstest.selected("flags"):
        TAP.diag("--- flags")
        t_flags(tmp)
    mport = it.free_port(["127.0.0.1"])
    d = it.Daemon(tmp, "proxy", ["-S", "0", "-s", "0", "-N", "32:128",
                                 "--proxy-from", PROXY,
                                 "--proxy-from", "2001:db8:ffff::/48",
                                 "-M", "198.51.100.25", "--mx-grace", "0",
                                 "--metrics", "127.0.0.1:%d" % mport],
                  listen=("127.0.0.1",))
    if TAP.ok(d.start(), "nfspamd starts with --proxy-from"):
        TAP.ok(d.wait_log(r"listening port=%d .* proxy=on" % d.port)
               is not None, "the start says proxy=on")
        for name, fn, args in (("clients", t_clients, (d, mport)),
                               ("lowprio", t_lowprio, (d,))):
            if nfstest.selected(name):
                TAP.diag("--- " + name)
                fn(*args)
        rc, _ = d.stop()
        TAP.eq(rc, 0, "SIGTERM: nfspamd exits 0")
    if nfstest.selected("timeout"):
        TAP.diag("--- timeout")
        tport = it.free_port(["127.0.0.1"])
        t = it.Daemon(tmp, "timeout", ["-S", "0", "-s", "0",
                                       "--idle-timeout", "2",
                                       "--proxy-from", PROXY,
                                       "--metrics", "127.0.0.1:%d" % tport],
                      listen=("127.0.0.1",))
        if TAP.ok(t.start(), "nfspamd starts with --idle-timeout 2"):
            t_timeout(t, tport)
            t.stop()
    if nfstest.selected("off"):
        TAP.diag("--- off")
        o = it.Daemon(tmp, "off", ["-S", "0", "-s", "0"],
                      listen=("127.0.0.1",))
        if TAP.ok(o.start(), "nfspamd starts without --proxy-from"):
            t_off(o)
            o.stop()


def main():
    for prog in (it.NFSPAMD, it.NFSPAMDB):
        if not os.access(prog, os.X_OK):
            print("Bail out! no executable %s" % prog, flush=True)
            return 1
    return nfstest.run(TAP, it.DAEMONS, "nfspamd-proxy.", WATCHDOG, body,
                       20)


if __name__ == "__main__":
    sys.exit(main())
