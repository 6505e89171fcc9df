#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamd's STARTTLS (-C/-K): the real daemon,
unprivileged, on loopback, with a certificate made here by `openssl req`.
TAP on stdout.

Checked: -C/-K errors (one without the other, a missing file, a key that
does not match); the EHLO offer exactly as spamd makes it; Python's
smtplib with starttls() and `openssl s_client -starttls smtp` reach the
451 and leave a tuple, logged with the TLS version, and a retry over TLS
passes; TLS 1.2 works; no second offer inside TLS; a blacklisted client
and a HELO client are never offered STARTTLS; what was pipelined behind
STARTTLS is dropped; garbage instead of a ClientHello gets "500 STARTTLS
failed" and a close; the bound on handshakes in progress withdraws the
offer and the handshake timeout ends a stalled one; SIGHUP loads a renewed
certificate and keeps the old one when the new files are broken.

Environment: NFSPAMD, NFSPAMDB, top_builddir (as nfspamd.py).
"""

import os
import shutil
import signal
import ssl
import subprocess
import smtplib
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
it = nfstest.nfspamd_it()
TAP = it.TAP
WATCHDOG = 80

OFFER = (b"250-%s\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 STARTTLS\r\n")
R_220 = b"220 glad you want to burn more CPU cycles on your spam\r\n"
R_FAILED = b"500 STARTTLS failed\r\n"


def make_cert(tmp, name, cn):
    """A self-signed certificate and its key, with `openssl req`."""
    cert = os.path.join(tmp, name + ".crt")
    key = os.path.join(tmp, name + ".key")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=" + cn], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("openssl req: " + r.stderr)
    return cert, key


def client_ctx(maxver=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if maxver is not None:
        ctx.maximum_version = maxver
    return ctx


def peer_cn(tls_sock):
    """The subject CN of the server's certificate (unverified)."""
    der = tls_sock.getpeercert(binary_form=True)
    r = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout",
                        "-subject"], input=der, capture_output=True,
                       timeout=10)
    return r.stdout.decode().strip().rsplit("=", 1)[-1].strip()


def smtplib_dialogue(d, src, rcpt, helo, maxver=None):
    """EHLO, STARTTLS, EHLO, MAIL, RCPT, DATA with smtplib; the replies."""
    s = smtplib.SMTP("127.0.0.1", d.port, local_hostname=helo,
                     source_address=(src, 0), timeout=it.IO_TIMEOUT)
    r = {}
    try:
        r["ehlo1"] = s.ehlo()
        r["starttls"] = s.starttls(context=client_ctx(maxver))
        r["version"] = s.sock.version()
        r["cn"] = peer_cn(s.sock)
        r["ehlo2"] = s.ehlo()
        r["mail"] = s.mail("<alice@tls.example>")
        r["rcpt"] = s.rcpt(rcpt)
        r["data"] = s.docmd("DATA")
    finally:
        s.close()
    return r


def ehlo_offer(d, src, helo=b"EHLO probe.example"):
    c = it.Client(src, d.port)
    try:
        c.line()
        return c.cmd(helo + b"\r\n")
    finally:
        c.close()


def t_errors(tmp, cert, key, other_key):
    base = ["-d", "--db", os.path.join(tmp, "err-db"), "--control",
            os.path.join(tmp, "err.sock"), "-p",
            str(it.free_port(["127.0.0.1"])), "-l", "127.0.0.1",
            "--os-tarpit-port", "0", "--firewall", "none", "--user",
            it.pwd.getpwuid(os.geteuid()).pw_name]
    broken = os.path.join(tmp, "broken.crt")
    with open(broken, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                "-----END CERTIFICATE-----\n")
    cases = [
        (["-C", cert], "-C without -K"),
        (["-K", key], "-K without -C"),
        (["-C", cert, "-K", os.path.join(tmp, "absent.key")],
         "-K %s: No such file" % os.path.join(tmp, "absent.key")),
        (["-C", os.path.join(tmp, "absent.crt"), "-K", key],
         "-C %s: No such file" % os.path.join(tmp, "absent.crt")),
        (["-C", cert, "-K", other_key], "does not match the certificate"),
        (["-C", broken, "-K", key], "-C %s:" % broken),
        (["-C", cert, "-K", key, "--tls-handshakes", "0"],
         "--tls-handshakes 0"),
    ]
    for args, needle in cases:
        try:
            r = subprocess.run([it.NFSPAMD] + base + args,
                               stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=5)
            rc, err = r.returncode, r.stderr
        except subprocess.TimeoutExpired as e:
            rc, err = "still running after 5 s", str(e.stderr)
        TAP.ok(rc == 1 and needle in err,
               "errors: %s exits 1 saying %r"
               % (" ".join(a if "/" not in a else os.path.basename(a)
                           for a in args), needle),
               "rc %r, stderr %r" % (rc, err[:400]))


def t_offer(d):
    host = it.socket.gethostname().encode()
    TAP.eq(ehlo_offer(d, "127.0.0.10"), OFFER % host,
           "offer: EHLO gets 250-host, 8BITMIME, SMTPUTF8, 250 STARTTLS")
    TAP.eq(ehlo_offer(d, "127.0.0.10", b"HELO probe.example"),
           it.R_HELO, "offer: HELO gets the plain reply")
    c = it.Client("127.0.0.10", d.port)
    try:
        c.line()
        c.cmd(b"HELO probe.example\r\n")
        TAP.eq(c.cmd(b"STARTTLS\r\n"), it.R_BAD,
               "offer: STARTTLS after HELO is an unrecognized command")
    finally:
        c.close()


def t_smtplib(d):
    since = d.mark()
    r = smtplib_dialogue(d, "127.0.0.11", "<bob@example.org>",
                         "mx.tls.example")
    TAP.ok(r["ehlo1"][0] == 250 and r["ehlo1"][1].endswith(b"\nSTARTTLS"),
           "smtplib: EHLO offers STARTTLS", repr(r["ehlo1"]))
    TAP.eq(r["starttls"], (220, R_220[4:-2]), "smtplib: STARTTLS gets the 220")
    TAP.ok(r["version"] in ("TLSv1.3", "TLSv1.2"),
           "smtplib: handshake done (%s)" % r["version"])
    TAP.eq(r["ehlo2"], (250, it.R_HELO[4:-2]),
           "smtplib: EHLO inside TLS: no second offer")
    TAP.eq(r["data"], (451, it.R_GREY[4:-2]),
           "smtplib: MAIL, RCPT, DATA: the 451")
    TAP.ok(r["mail"][0] == 250 and r["rcpt"][0] == 250,
           "smtplib: MAIL and RCPT get 250", repr((r["mail"], r["rcpt"])))
    g = it.db_find(d.db, "GREY", "127.0.0.11")
    TAP.ok(len(g) == 1 and g[0][2:5] == ["mx.tls.example",
                                         "<alice@tls.example>",
                                         "<bob@example.org>"],
           "smtplib: the tuple is in the store", repr(g))
    TAP.ok(d.wait_log(r"starttls ip=127\.0\.0\.11 version=%s"
                      % r["version"], since) is not None,
           "smtplib: the handshake is logged with its version")
    TAP.ok(d.wait_log(r"greylisted ip=127\.0\.0\.11 .* new=1 attempts=1 "
                      r"tls=%s" % r["version"], since) is not None,
           "smtplib: the tuple's log line says tls=%s" % r["version"])
    # spamd passes when first + passtime < now: age the tuple, no wait.
    it.age_tuple(d.db, g[0], it.PASSTIME + 1)
    since = d.mark()
    r = smtplib_dialogue(d, "127.0.0.11", "<bob@example.org>",
                         "mx.tls.example")
    TAP.ok(d.wait_log(r"passed ip=127\.0\.0\.11 .* tls=TLSv1\.[23]", since)
           is not None, "smtplib: the retry over TLS passes (logged)")
    TAP.ok(len(it.db_find(d.db, "WHITE", "127.0.0.11")) == 1,
           "smtplib: ... and the address is WHITE")
    r = smtplib_dialogue(d, "127.0.0.12", "<bob@example.org>",
                         "mx.tls12.example", maxver=ssl.TLSVersion.TLSv1_2)
    TAP.eq(r["version"], "TLSv1.2", "smtplib: a TLS 1.2 client is served")
    TAP.ok(d.wait_log(r"greylisted ip=127\.0\.0\.12 .* tls=TLSv1\.2")
           is not None, "smtplib: ... and logged tls=TLSv1.2")


def t_s_client(d):
    since = d.mark()
    # s_client says EHLO before STARTTLS only; inside TLS it is ours.
    cmds = ("EHLO mx.sclient.example\nMAIL FROM:<carol@sclient.example>\nRCPT TO:<dave@example.org>\n"
            "DATA\n")
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp",
                        "-name", "mx.sclient.example", "-crlf", "-quiet",
                        "-connect", "127.0.0.1:%d" % d.port],
                       input=cmds, capture_output=True, text=True,
                       timeout=15)
    TAP.ok(it.R_GREY.decode().strip() in r.stdout,
           "s_client -starttls smtp: the dialogue reaches the 451",
           "stdout %r stderr %r" % (r.stdout[-300:], r.stderr[-300:]))
    g = it.db_find(d.db, "GREY", "127.0.0.1")
    TAP.ok(any(x[2:5] == ["mx.sclient.example", "<carol@sclient.example>",
                          "<dave@example.org>"] for x in g),
           "s_client: the tuple is in the store", repr(g))
    TAP.ok(d.wait_log(r"greylisted ip=127\.0\.0\.1 helo=mx\.sclient\.example"
                      r" .* tls=TLSv1\.3", since) is not None,
           "s_client: logged tls=TLSv1.3")


def t_black(d):
    reply = d.control(it.LIST_LINE + "\n")
    TAP.ok(reply.startswith("ok lists=1"), "black: a list naming "
           + it.BLACK_IP, reply)
    d.wait_log(r"blacklist list=tag")
    c = it.Client(it.BLACK_IP, d.port)
    try:
        c.line()
        TAP.eq(c.cmd(b"EHLO black.example\r\n"), it.R_HELO,
               "black: a blacklisted client's EHLO offers no STARTTLS")
        TAP.eq(c.cmd(b"STARTTLS\r\n"), it.R_BAD,
               "black: its STARTTLS is an unrecognized command")
    finally:
        c.close()


def t_pipelined(d):
    since = d.mark()
    c = it.Client("127.0.0.13", d.port)
    try:
        c.line()
        c.cmd(b"EHLO pipe.example\r\n")
        # QUIT pipelined behind STARTTLS must not survive into TLS.
        TAP.eq(c.cmd(b"STARTTLS\r\nQUIT\r\n"), R_220,
               "pipelined: STARTTLS gets the 220")
        t = client_ctx().wrap_socket(c.s, server_hostname="mx.test")
        t.settimeout(it.IO_TIMEOUT)
        t.sendall(b"EHLO pipe.example\r\n")
        TAP.eq(t.recv(4096), it.R_HELO,
               "pipelined: what followed STARTTLS was dropped (EHLO "
               "answered, no 221)")
        t.close()
    finally:
        c.close()
    TAP.ok(d.wait_log(r"starttls ip=127\.0\.0\.13 version=", since)
           is not None, "pipelined: handshake logged")


def t_garbage(d):
    since = d.mark()
    for i, junk in enumerate((b"EHLO this is not a ClientHello\r\n",
                              b"\x16\x03\x01\x00\x05hello" + b"\0" * 300,
                              b"\xff" * 20000)):
        src = "127.0.0.%d" % (20 + i)
        c = it.Client(src, d.port)
        try:
            c.line()
            c.cmd(b"EHLO junk.example\r\n")
            c.cmd(b"STARTTLS\r\n")
            try:
                c.send(junk)
            except OSError:
                pass
            data, how = c.rest()
        finally:
            c.close()
        TAP.ok(data.endswith(R_FAILED) and it.closed(how),
               "garbage %d: \"500 STARTTLS failed\", then closed" % i,
               "got %r, %s" % (data[-80:], how))
        TAP.ok(d.wait_log(r"starttls ip=%s failed reason=\"[^\"]+\""
                          % src.replace(".", r"\."), since) is not None,
               "garbage %d: the failure is logged with a reason" % i)
    # A client that leaves in the middle of the handshake.
    c = it.Client("127.0.0.30", d.port)
    c.line()
    c.cmd(b"EHLO leave.example\r\n")
    c.cmd(b"STARTTLS\r\n")
    since = d.mark()
    c.send(b"\x16\x03\x01")
    c.close()
    TAP.ok(d.wait_log(r"disconnected ip=127\.0\.0\.30 ", since)
           is not None, "garbage: a client gone mid-handshake is closed")
    TAP.ok(d.proc.poll() is None and len(d.workers()) == 1,
           "garbage: nfspamd and its worker are still running")


def t_bound(d):
    """--tls-handshakes 1 --tls-timeout 2."""
    host = it.socket.gethostname().encode()
    since = d.mark()
    stall = it.Client("127.0.0.40", d.port)
    try:
        stall.line()
        TAP.eq(stall.cmd(b"EHLO stall.example\r\n"), OFFER % host,
               "bound: the first client is offered STARTTLS")
        TAP.eq(stall.cmd(b"STARTTLS\r\n"), R_220,
               "bound: ... and starts a handshake it never finishes")
        # (The worker counts the handshake as it sends the 220.)
        TAP.eq(ehlo_offer(d, "127.0.0.41"), it.R_HELO,
               "bound: with 1 handshake in progress the next EHLO gets no "
               "offer")
        t0 = time.monotonic()
        data, how = stall.rest(timeout=6)
        took = time.monotonic() - t0
        TAP.ok(it.closed(how) and 1.0 <= took <= 4.5,
               "bound: the stalled handshake is closed after --tls-timeout "
               "(%.1f s)" % took, "how %s, data %r" % (how, data))
        TAP.ok(d.wait_log(r"starttls ip=127\.0\.0\.40 failed reason=\"no "
                          r"handshake in 2 s\"", since) is not None,
               "bound: the timeout is logged")
        TAP.eq(ehlo_offer(d, "127.0.0.41"), OFFER % host,
               "bound: then STARTTLS is offered again")
    finally:
        stall.close()


def t_reload(d, cert, key, tmp):
    r = smtplib_dialogue(d, "127.0.0.50", "<bob@example.org>", "r.example")
    TAP.eq(r["cn"], "first.test", "reload: the first certificate is served")
    new_cert, new_key = make_cert(tmp, "renewed", "renewed.test")
    shutil.copy(new_cert, cert)
    shutil.copy(new_key, key)
    since = d.mark()
    d.signal(signal.SIGHUP)
    TAP.ok(d.wait_log(r"STARTTLS certificate re-read from ", since)
           is not None, "reload: SIGHUP re-reads -C/-K (logged)")
    TAP.ok(d.wait_count(r"reloaded worker=\d+ domains=\d+ "
                        r"certificate=reloaded", len(d.workers()), since),
           "reload: each worker says it has the new certificate")
    r = smtplib_dialogue(d, "127.0.0.51", "<bob@example.org>", "r.example")
    TAP.eq(r["cn"], "renewed.test",
           "reload: new connections get the renewed certificate")
    with open(cert, "w") as f:
        f.write("garbage\n")
    since = d.mark()
    d.signal(signal.SIGHUP)
    TAP.ok(d.wait_log(r"-C %s: .*the certificate loaded before stays in use"
                      % cert, since) is not None,
           "reload: a broken certificate is named in the log")
    TAP.ok(d.wait_count(r"reloaded worker=\d+ domains=\d+ "
                        r"certificate=kept", len(d.workers()), since),
           "reload: each worker says it kept the one it had")
    r = smtplib_dialogue(d, "127.0.0.52", "<bob@example.org>", "r.example")
    TAP.eq(r["cn"], "renewed.test",
           "reload: ... and the one loaded before is still served")


def body(tmp):
    cert, key = make_cert(tmp, "first", "first.test")
    _, other_key = make_cert(tmp, "other", "other.test")
    it.section("errors", t_errors, tmp, cert, key, other_key)
    common = ["-G", "%ds:1h:1h" % it.PASSTIME, "-S", "0", "-s", "0",
              "-C", cert, "-K", key]
    d = it.Daemon(tmp, "tls", common)
    if TAP.ok(d.start(), "nfspamd starts with -C/-K"):
        TAP.ok(d.wait_log(r"listening .* starttls=on") is not None,
               "the listening line says starttls=on")
        it.section("offer", t_offer, d)
        it.section("smtplib", t_smtplib, d)
        it.section("s_client", t_s_client, d)
        it.section("pipelined", t_pipelined, d)
        it.section("garbage", t_garbage, d)
        it.section("black", t_black, d)
        it.section("reload", t_reload, d, cert, key, tmp)
    d.cleanup()
    bcert, bkey = make_cert(tmp, "bound", "bound.test")
    b = it.Daemon(tmp, "bound", ["-S", "0", "-s", "0", "-C", bcert,
                                 "-K", bkey, "--tls-handshakes", "1",
                                 "--tls-timeout", "2"])
    if TAP.ok(b.start(), "nfspamd starts with --tls-handshakes 1 "
                         "--tls-timeout 2"):
        it.section("bound", t_bound, b)


def main():
    return nfstest.run(TAP, it.DAEMONS, 'nfspamd-tls.', WATCHDOG, body, 15)


if __name__ == "__main__":
    sys.exit(main())
