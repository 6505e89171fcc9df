#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamd-policy, the Postfix policy server that
answers with the operating system nfspamd saw: on pipes as spawn(8)
runs it, and listening on 127.0.0.1 and on a Unix socket with clients
at once; its errors, limits, signals and flags; and at the end with a
real nfspamd that greylists a client and fingerprints it.  Loopback
only, TAP on stdout.  As root, also that it becomes the database's
owner; as anyone else those checks are skipped.

The "os" entries are written with mdb_load (lmdb-utils) into a
database that nfspamdb made: nothing else writes them but nfspamd.

Environment:
  NFSPAMD_POLICY  the binary (default $top_builddir/src/nfspamd-policy/
                  nfspamd-policy)
  NFSPAMDB, NFSPAMD, top_builddir, top_srcdir  as nfspamd.py
"""

import os
import pwd
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
from nfstest import DaemonLog, Tap  # noqa: E402

TOP_BUILDDIR = os.environ.get("top_builddir") or "."
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
POLICY = os.environ.get("NFSPAMD_POLICY") or os.path.join(
    TOP_BUILDDIR, "src", "nfspamd-policy", "nfspamd-policy")
NFSPAMDB = os.environ.get("NFSPAMDB") or os.path.join(
    TOP_BUILDDIR, "src", "nfspamdb", "nfspamdb")
NFSPAMD = os.environ.get("NFSPAMD") or os.path.join(
    TOP_BUILDDIR, "src", "nfspamd", "nfspamd")

TAP = Tap()
WATCHDOG = 120
IO_TIMEOUT = 5.0
ROOT = os.geteuid() == 0
DAEMONS = []

LINUX, WINDOWS = "Linux 3.11-6.x", "Windows XP SP1"
DUNNO = b"action=DUNNO\n\n"
# The "os" entries: 8 bytes of time (little-endian), then the name.
SEEN = 1796000000
ENTRIES = [
    ("192.0.2.7", struct.pack("<q", SEEN) + LINUX.encode()),
    ("2001:db8::25", struct.pack("<q", SEEN) + WINDOWS.encode()),
    # A name that would break the header, made safe.
    ("198.51.100.9", struct.pack("<q", SEEN) +
     b"Evil\r\nBcc: victim@example.org\xff"),
    # Too short to be an entry: an error, and DUNNO.
    ("198.51.100.10", b"\x01\x02\x03"),
]


def prepend(name, header="X-OS-Fingerprint"):
    return ("action=PREPEND %s: %s\n\n" % (header, name)).encode()


def req(addr=None, request="smtpd_access_policy", state="RCPT", **more):
    """A request as Postfix sends it, with the attributes given."""
    lines = ["request=" + request]
    if state is not None:
        lines.append("protocol_state=" + state)
    lines += ["protocol_name=ESMTP", "helo_name=mx.example.org",
              "sender=a@example.org", "recipient=b@example.net",
              "instance=1a2b.3c4d.5e6f.0", "size=0", "ccert_subject="]
    if addr is not None:
        lines += ["client_address=" + addr, "client_name=unknown",
                  "reverse_client_name=unknown"]
    lines += ["%s=%s" % kv for kv in more.items()]
    return ("\n".join(lines) + "\n\n").encode()


def run(*args, timeout=20, **kw):
    r = subprocess.run(list(args), capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, **kw)
    return (r.returncode, r.stdout.decode("utf-8", "replace"),
            r.stderr.decode("utf-8", "replace"))


def make_db(tmp, name, entries=ENTRIES):
    """A database made by nfspamdb, with entries in its "os" database;
    its path, or None (with a diagnostic) when that failed."""
    db = os.path.join(tmp, name)
    rc, out, err = run(NFSPAMDB, "--db", db, "-a", "192.0.2.200")
    if rc != 0:
        TAP.diag("nfspamdb -a: rc %d %s" % (rc, err))
        return None
    dump = os.path.join(tmp, name + ".dump")
    with open(dump, "w") as f:
        f.write("VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n")
        for k, v in entries:
            f.write(" %s\n %s\n" % (k.encode().hex(), v.hex()))
        f.write("DATA=END\n")
    rc, out, err = run("mdb_load", "-s", "os", "-f", dump, db)
    if rc != 0:
        TAP.diag("mdb_load: rc %d %s" % (rc, err))
        return None
    return db


# --------------------------------------------------------------------------
# The two ways of running it

class Spawn(DaemonLog):
    """nfspamd-policy on pipes, as spawn(8) runs it; -d: the log on
    standard error, into a file."""

    def __init__(self, tmp, name, args, verbose=True):
        self.name = name
        self.logpath = os.path.join(tmp, name + ".log")
        self.ctl = None
        self.logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(
            [POLICY, "-d"] + (["-v"] if verbose else []) + list(args),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.logf, bufsize=0)
        self.buf = b""
        DAEMONS.append(self)

    def send(self, data):
        try:
            self.proc.stdin.write(data)
            return True
        except OSError:
            return False

    def _fill(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return None
        return os.read(self.proc.stdout.fileno(), 65536)

    def answer(self, timeout=IO_TIMEOUT):
        """The next answer; None on EOF or after timeout."""
        end = time.monotonic() + timeout
        while b"\n\n" not in self.buf:
            d = self._fill(max(0.0, end - time.monotonic()))
            if not d:
                return None
            self.buf += d
        i = self.buf.index(b"\n\n") + 2
        a, self.buf = self.buf[:i], self.buf[i:]
        return a

    def ask(self, data):
        return self.answer() if self.send(data) else None

    def hung_up(self, timeout=IO_TIMEOUT):
        """True when standard output ends (nothing more on it) in time."""
        end = time.monotonic() + timeout
        while True:
            d = self._fill(max(0.0, end - time.monotonic()))
            if d == b"":
                return self.buf == b""
            if d is None:
                return False
            self.buf += d

    def finish(self, timeout=IO_TIMEOUT):
        """Close its input; the exit status (None: still running)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.logf.close()


class Server(DaemonLog):
    """nfspamd-policy -l ..., -d -v, its log in a file."""

    def __init__(self, tmp, name, listen, args=()):
        self.name = name
        self.logpath = os.path.join(tmp, name + ".log")
        self.ctl = None
        self.listen = list(listen)
        self.args = [POLICY, "-d", "-v"] + list(args)
        for l in self.listen:
            self.args += ["-l", l]
        self.proc = None
        self.logf = None
        DAEMONS.append(self)

    def start(self, quiet=False):
        """True once it serves on every -l."""
        self.logf = open(self.logpath, "ab")
        since = self.mark()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf)
        ok = self.wait_count(r"serving on ", len(self.listen), since,
                             IO_TIMEOUT)
        if not ok and not quiet:
            TAP.diag("%s did not start:\n%s" % (self.name, self.log(since)))
        return ok

    def stop(self, sig=signal.SIGTERM, timeout=IO_TIMEOUT):
        """The exit status, or None."""
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.logf is not None:
            self.logf.close()
            self.logf = None


class Client:
    """One connection to a listening nfspamd-policy: TCP (host, port) or
    a Unix socket (a path)."""

    def __init__(self, where, rcvbuf=None):
        if isinstance(where, str):
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(IO_TIMEOUT)
        self.s.connect(where)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def answer(self):
        while b"\n\n" not in self.buf:
            try:
                d = self.s.recv(65536)
            except OSError:
                return None
            if not d:
                return None
            self.buf += d
        i = self.buf.index(b"\n\n") + 2
        a, self.buf = self.buf[:i], self.buf[i:]
        return a

    def ask(self, data):
        self.send(data)
        return self.answer()

    def hung_up(self, timeout=IO_TIMEOUT):
        """True when the server closes without sending more."""
        self.s.settimeout(timeout)
        try:
            d = self.s.recv(4096)
        except ConnectionResetError:
            d = b""
        except OSError:
            return False
        finally:
            self.s.settimeout(IO_TIMEOUT)
        return d == b"" and self.buf == b""

    def close(self):
        self.s.close()


# --------------------------------------------------------------------------
# Spawn mode

def t_spawn(tmp, db):
    p = Spawn(tmp, "spawn", ["--db", db])
    TAP.eq(p.ask(req("192.0.2.7")), prepend(LINUX),
           "spawn: an IPv4 client nfspamd saw: its OS as a header")
    TAP.eq(p.ask(req("2001:db8:0:0::25")), prepend(WINDOWS),
           "spawn: an IPv6 client, written longhand: canonical lookup")
    TAP.eq(p.ask(req("IPv6:2001:DB8::25")), prepend(WINDOWS),
           "spawn: an address with the SMTP IPv6: tag")
    TAP.eq(p.ask(req("::ffff:192.0.2.7")), prepend(LINUX),
           "spawn: a v4-mapped address is the IPv4 one")
    TAP.eq(p.ask(req("203.0.113.1")), DUNNO,
           "spawn: an address nfspamd never saw: DUNNO")
    TAP.eq(p.ask(req("198.51.100.9")),
           prepend("Evil??Bcc: victim@example.org?"),
           "spawn: a name with CR, LF and a high byte cannot break the "
           "header")
    since = p.mark()
    TAP.eq(p.ask(req("198.51.100.10")), DUNNO,
           "spawn: a bogus entry: DUNNO")
    TAP.ok(p.wait_log(r"database: .*bogus os entry", since),
           "spawn: ... and the bogus entry is logged", p.log_tail(since))
    TAP.eq(p.ask(req("192.0.2.7", request="something_else")), DUNNO,
           "spawn: a request that is not an access policy one: DUNNO")
    TAP.eq(p.ask(req("192.0.2.7", state="END-OF-MESSAGE")), DUNNO,
           "spawn: END-OF-MESSAGE, too late to prepend: DUNNO")
    TAP.eq(p.ask(req("192.0.2.7", state="DATA")), prepend(LINUX),
           "spawn: protocol_state DATA: the header")
    TAP.eq(p.ask(req(None)), DUNNO, "spawn: no client_address: DUNNO")
    TAP.eq(p.ask(req("unknown")), DUNNO,
           "spawn: client_address not an address: DUNNO")
    # Several requests in one write, CRLF in one of them.
    many = (req("192.0.2.7") + req("203.0.113.1").replace(b"\n", b"\r\n") +
            req("2001:db8::25"))
    p.send(many)
    got = [p.answer(), p.answer(), p.answer()]
    TAP.eq(got, [prepend(LINUX), DUNNO, prepend(WINDOWS)],
           "spawn: three requests in one write: three answers in order")
    TAP.ok(p.wait_log(r'policy client=stdin ip=192\.0\.2\.7 '
                      r'os="Linux 3\.11-6\.x" answer=PREPEND$'),
           "spawn: -v logs each answer", p.log_tail())
    TAP.ok(p.wait_log(r"policy client=stdin ip=192\.0\.2\.7 answer=DUNNO "
                      r"request=something_else state=RCPT$"),
           "spawn: -v logs a request it does not answer for", p.log_tail())
    # Garbage: hang up, no answer, one line in the log.
    since = p.mark()
    p.send(b"request=smtpd_access_policy\nthis is not an attribute\n\n")
    TAP.ok(p.hung_up(), "spawn: a line without '=': no answer, hung up")
    TAP.eq(p.finish(), 0, "spawn: ... and it exits 0")
    TAP.ok(p.wait_log(r"policy client=stdin closed: line \d+: no '=' in "
                      r"\"this is not an attribute\"$", since),
           "spawn: ... the line logged", p.log_tail(since))

    p = Spawn(tmp, "header", ["--db", db, "--header", "X-Passive-OS"])
    TAP.eq(p.ask(req("192.0.2.7")), prepend(LINUX, "X-Passive-OS"),
           "spawn: --header names the header")
    TAP.eq(p.finish(), 0, "spawn: end of input: exit 0")

    p = Spawn(tmp, "cut", ["--db", db])
    p.send(b"request=smtpd_access_policy\nclient_addr")
    TAP.eq(p.finish(), 0, "spawn: input ends inside a request: exit 0")
    TAP.ok(p.wait_log(r"closed: hung up inside a request, at line 2$"),
           "spawn: ... logged as such", p.log_tail())

    p = Spawn(tmp, "long", ["--db", db])
    p.send(b"request=smtpd_access_policy\nccert_subject=" + b"x" * 5000 +
           b"\n\n")
    TAP.ok(p.hung_up(), "spawn: a line over 4096 bytes: hung up")
    TAP.ok(p.wait_log(r"line 2: longer than 4096 bytes \(attribute "
                      r"\"ccert_subject\"\)$"),
           "spawn: ... the limit and the attribute logged", p.log_tail())
    p.finish()

    p = Spawn(tmp, "idle", ["--db", db, "--timeout", "1"])
    t0 = time.monotonic()
    TAP.ok(p.hung_up(4), "spawn: --timeout 1: an idle client is dropped")
    TAP.ok(time.monotonic() - t0 >= 0.9, "spawn: ... not before its time")
    TAP.eq(p.finish(), 0, "spawn: ... exit 0")

    # No database yet: DUNNO, and the reason logged once.
    p = Spawn(tmp, "nodb", ["--db", os.path.join(tmp, "none")])
    got = [p.ask(req("192.0.2.7")) for _ in range(3)]
    TAP.eq(got, [DUNNO] * 3, "spawn: no database: DUNNO to everyone")
    p.finish()
    n = len([l for l in p.log().splitlines() if "answering DUNNO" in l])
    TAP.eq(n, 1, "spawn: ... and the reason logged once", p.log_tail())


# --------------------------------------------------------------------------
# Listen mode

def t_listen(tmp, db):
    port = nfstest.free_port()
    path = os.path.join(tmp, "policy.sock")
    srv = Server(tmp, "listen", ["127.0.0.1:%d" % port, path],
                 ["--db", db, "--timeout", "2"])
    if not TAP.ok(srv.start(), "listen: serves on TCP and a Unix socket"):
        return
    mode = stat.S_IMODE(os.stat(path).st_mode)
    TAP.eq(oct(mode), oct(0o666), "listen: the Unix socket is mode 0666")
    for where, what in (((("127.0.0.1", port)), "TCP"), (path, "unix")):
        a, b = Client(where), Client(where)
        # Half of a request on a, all of one on b, the rest of a's.
        ra, rb = req("192.0.2.7"), req("2001:db8::25")
        a.send(ra[:30])
        TAP.eq(b.ask(rb), prepend(WINDOWS),
               "listen %s: a second client is answered while the first "
               "is inside a request" % what)
        a.send(ra[30:])
        TAP.eq(a.answer(), prepend(LINUX),
               "listen %s: ... then the first one" % what)
        TAP.eq([a.ask(req("203.0.113.1")), b.ask(req("192.0.2.7"))],
               [DUNNO, prepend(LINUX)],
               "listen %s: both go on with more requests" % what)
        a.close()
        b.close()

    # Exim's ${readsocket}: request, shut down writing, read to EOF.
    e = Client(("127.0.0.1", port))
    e.send(b"request=smtpd_access_policy\nclient_address=192.0.2.7\n\n")
    e.s.shutdown(socket.SHUT_WR)
    TAP.eq(nfstest.recv_all(e.s), prepend(LINUX),
           "listen: Exim style (shut down writing): the answer, then EOF")
    e.close()

    # A bad client is dropped; the good one is not.
    good, bad = Client(path), Client(("127.0.0.1", port))
    since = srv.mark()
    bad.send(b"hello\n")
    TAP.ok(bad.hung_up(), "listen: garbage: hung up without an answer")
    TAP.ok(srv.wait_log(r"policy client=127\.0\.0\.1:\d+ closed: line 1: "
                        r"no '=' in \"hello\"$", since),
           "listen: ... logged with the client", srv.log_tail(since))
    TAP.eq(good.ask(req("192.0.2.7")), prepend(LINUX),
           "listen: ... another client is still served")
    good.close()
    bad.close()

    # Answers not read: it stops reading, and goes on once they are.
    # On the Unix socket, whose buffers do not grow as TCP's do.
    n = 20000
    c = Client(path, rcvbuf=4096)
    data = (req("192.0.2.7") + b"request=smtpd_access_policy\n"
            b"client_address=203.0.113.1\n\n") * (n // 2)
    since = srv.mark()

    def sender():
        try:
            c.s.sendall(data)
        except OSError:
            pass
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    time.sleep(0.5)
    got = [c.answer() for _ in range(n)]
    t.join(IO_TIMEOUT)
    TAP.ok(got == [prepend(LINUX), DUNNO] * (n // 2),
           "listen: %d requests written before any answer is read: every "
           "answer, in order" % n,
           "answers: %d, first bad: %r" % (
               len([g for g in got if g]),
               next((i for i, g in enumerate(got) if g != (
                   prepend(LINUX) if i % 2 == 0 else DUNNO)), None)))
    TAP.ok(srv.wait_log(r"bytes of answers unread: reading no more", since),
           "listen: ... having stopped reading meanwhile",
           srv.log_tail(since))
    c.close()

    # Idle clients go after --timeout.
    idle = Client(path)
    t0 = time.monotonic()
    TAP.ok(idle.hung_up(6), "listen: --timeout 2: an idle client is dropped")
    TAP.ok(time.monotonic() - t0 >= 1.9, "listen: ... not before its time")
    idle.close()

    since = srv.mark()
    srv.proc.send_signal(signal.SIGHUP)
    TAP.ok(srv.wait_log(r"SIGHUP: opening the database afresh", since),
           "listen: SIGHUP reopens the database", srv.log_tail(since))
    c = Client(path)
    TAP.eq(c.ask(req("192.0.2.7")), prepend(LINUX),
           "listen: ... and answers from it")
    c.close()

    # Another server for the same path: refused, the first one unharmed.
    other = Server(tmp, "other", [path], ["--db", db])
    other.start(quiet=True)
    TAP.eq(other.proc.wait(IO_TIMEOUT), 1,
           "listen: a second server on the same Unix socket exits 1")
    TAP.ok(other.wait_log(r"another server listens there"),
           "listen: ... saying why", other.log_tail())
    tcp = Server(tmp, "tcpbusy", ["127.0.0.1:%d" % port], ["--db", db])
    tcp.start(quiet=True)
    TAP.eq(tcp.proc.wait(IO_TIMEOUT), 1,
           "listen: a TCP port in use: exit 1")
    TAP.ok(tcp.wait_log(r"-l 127\.0\.0\.1:%d: address already in use"
                        % port), "listen: ... saying why", tcp.log_tail())

    # A client hung up on whose last answers have not gone yet (it does
    # not read them) when SIGTERM comes: freed all the same.
    since = srv.mark()
    slow = Client(path, rcvbuf=4096)
    slow.send(b"request=x\n\n" * 25000 + b"garbage\n")
    TAP.ok(srv.wait_log(r"closed: line 50001: no '='", since),
           "listen: garbage after 25000 requests, their answers unread",
           srv.log_tail(since))
    TAP.eq(srv.stop(), 0, "listen: SIGTERM: exit 0")
    slow.close()
    TAP.ok(not os.path.exists(path), "listen: ... its Unix socket removed")

    # Killed: the socket stays, and the next server takes it over.
    srv2 = Server(tmp, "again", [path], ["--db", db])
    srv2.start()
    srv2.stop(signal.SIGKILL)
    TAP.ok(os.path.exists(path), "listen: SIGKILL leaves the socket behind")
    srv3 = Server(tmp, "after", [path], ["--db", db])
    TAP.ok(srv3.start(), "listen: ... which the next server takes over")
    c = Client(path)
    TAP.eq(c.ask(req("2001:db8::25")), prepend(WINDOWS),
           "listen: ... and serves on")
    c.close()
    srv3.stop()


def t_inetd(tmp, db):
    """Accept=yes: a process for each connection, the socket as standard
    input and output (systemd-socket-activate --inetd, as the unit)."""
    tool = shutil.which("systemd-socket-activate")
    if tool is None:
        TAP.skip("no systemd-socket-activate", 3)
        return
    port = nfstest.free_port()
    srv = Server(tmp, "inetd", [])
    srv.args = [tool, "-l", "127.0.0.1:%d" % port, "--accept", "--inetd",
                POLICY, "-d", "-v", "--db", db]
    srv.logf = open(srv.logpath, "ab")
    srv.proc = subprocess.Popen(srv.args, stdin=subprocess.DEVNULL,
                                stdout=srv.logf, stderr=srv.logf)
    if not TAP.ok(srv.wait_log(r"Listening on 127\.0\.0\.1:%d" % port),
                  "inetd: systemd-socket-activate listens",
                  srv.log_tail()):
        TAP.skip("not listening", 2)
        return
    a, b = Client(("127.0.0.1", port)), Client(("127.0.0.1", port))
    TAP.eq([a.ask(req("192.0.2.7")), b.ask(req("2001:db8::25")),
            a.ask(req("203.0.113.1"))], [prepend(LINUX), prepend(WINDOWS),
                                         DUNNO],
           "inetd: two connections at once, a process each")
    a.close()
    b.close()
    TAP.ok(srv.wait_log(r"policy client=127\.0\.0\.1:\d+ ip=2001:db8::25 "
                        r"os=\"Windows XP SP1\" answer=PREPEND"),
           "inetd: the peer's address in the log", srv.log_tail())
    srv.stop()


def t_late_db(tmp):
    """The database comes after the server: DUNNO until then."""
    path = os.path.join(tmp, "late.sock")
    dbdir = os.path.join(tmp, "late")
    srv = Server(tmp, "late", [path], ["--db", dbdir])
    if not TAP.ok(srv.start(), "late database: starts without one"):
        return
    TAP.ok(srv.wait_log(r"database: .*answering DUNNO until it can be "
                        r"read"), "late database: says so",
           srv.log_tail())
    c = Client(path)
    TAP.eq(c.ask(req("192.0.2.7")), DUNNO, "late database: DUNNO meanwhile")
    if make_db(tmp, "late") is None:
        TAP.ok(False, "late database: made")
        return
    since = srv.mark()
    TAP.eq(c.ask(req("192.0.2.7")), prepend(LINUX),
           "late database: answers once it is there, same connection")
    TAP.ok(srv.wait_log(r"database: .*late: open$", since),
           "late database: logs that it opened", srv.log_tail(since))
    c.close()
    srv.stop()


def t_owner(tmp, db):
    """As root, with a database of another user's: that user's rights."""
    if not ROOT:
        TAP.skip("only as root: becoming the database's owner", 4)
        return
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        TAP.skip("no user nobody", 4)
        return
    theirs = os.path.join(tmp, "theirs")
    shutil.copytree(db, theirs)
    os.chmod(tmp, 0o755)
    for p in [theirs] + [os.path.join(theirs, f) for f in os.listdir(theirs)]:
        os.chown(p, nobody.pw_uid, nobody.pw_gid)
    p = Spawn(tmp, "owner", ["--db", theirs])
    TAP.eq(p.ask(req("192.0.2.7")), prepend(LINUX),
           "root: another user's database is read")
    with open("/proc/%d/status" % p.proc.pid) as f:
        uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
    TAP.eq(set(uids), {str(nobody.pw_uid)},
           "root: ... as its owner, for good")
    p.finish()
    owners = {os.stat(os.path.join(theirs, f)).st_uid
              for f in os.listdir(theirs)}
    TAP.eq(owners, {nobody.pw_uid}, "root: ... every file still theirs")
    sockdir = os.path.join(tmp, "nobodys")
    os.mkdir(sockdir)
    os.chown(sockdir, nobody.pw_uid, nobody.pw_gid)
    path = os.path.join(sockdir, "owner.sock")
    srv = Server(tmp, "ownerl", [path], ["--db", theirs])
    srv.start()
    TAP.eq(os.path.exists(path) and os.stat(path).st_uid, nobody.pw_uid,
           "root: -l: the socket is made as the database's owner")
    srv.stop()


def t_usage(tmp):
    cases = [
        (["--header", "X OS"], 1, "--header X OS: "),
        (["--header", "X-OS:"], 1, "--header X-OS:: "),
        (["-l", "nonsense"], 1, "-l nonsense: "),
        (["-l", "::1:10045"], 1, "brackets"),
        (["-l", "127.0.0.1:0"], 1, "port 0"),
        (["--timeout", "0"], 1, "--timeout"),
        (["--db", ""], 1, "--db: empty"),
        (["extra"], 1, "unexpected argument: extra"),
    ]
    for args, want, text in cases:
        rc, out, err = run(POLICY, *args)
        TAP.ok(rc == want and text in err,
               "usage: %s: exit %d, naming the trouble" % (" ".join(args),
                                                           want),
               "rc %d, stderr %r" % (rc, err))
    rc, out, err = run(POLICY, "--help")
    TAP.ok(rc == 0 and out.startswith("usage: nfspamd-policy"),
           "usage: --help on standard output, exit 0")
    rc, out, err = run(POLICY, "-V")
    TAP.ok(rc == 0 and out.startswith("nfspamd-policy "), "usage: -V")


def t_nfspamd(tmp):
    """A client nfspamd greylisted: its fingerprint in the header."""
    files = [os.path.join(TOP_SRCDIR, "etc", f)
             for f in ("os-fingerprints", "pf.os")]
    if not os.access(NFSPAMD, os.X_OK) or not all(os.path.exists(f)
                                                   for f in files):
        TAP.skip("no nfspamd or no fingerprint files here", 2)
        return
    rc, out, err = run(NFSPAMD, "--help")
    if "--os-fingerprints" not in out + err:
        TAP.skip("no nfspamd with --os-fingerprints here", 2)
        return
    it = nfstest.nfspamd_it()
    d = it.Daemon(tmp, "nfspamd", ["-S", "0", "-s", "0"],
                  listen=("127.0.0.1",))
    DAEMONS.append(d)
    if not TAP.ok(d.start(), "nfspamd: started"):
        TAP.skip("nfspamd did not start")
        return
    it.dialogue(d.port, "127.0.0.5", "<bob@example.org>")
    ans = None
    end = time.monotonic() + IO_TIMEOUT
    while time.monotonic() < end:
        p = Spawn(tmp, "e2e", ["--db", d.db])
        ans = p.ask(req("127.0.0.5"))
        p.finish()
        if ans is not None and ans.startswith(b"action=PREPEND"):
            break
        time.sleep(0.1)
    TAP.ok(ans is not None and
           ans.startswith(b"action=PREPEND X-OS-Fingerprint: Linux"),
           "nfspamd greylisted a loopback client: its OS, Linux, in the "
           "header", "answer %r" % ans, d.log_tail())
    d.stop()


def body(tmp):
    os.chmod(tmp, 0o755)
    db = make_db(tmp, "db")
    if not TAP.ok(db is not None, "a database with os entries, by nfspamdb "
                  "and mdb_load"):
        return
    for name, fn, args in (("spawn", t_spawn, (tmp, db)),
                           ("listen", t_listen, (tmp, db)),
                           ("inetd", t_inetd, (tmp, db)),
                           ("late", t_late_db, (tmp,)),
                           ("owner", t_owner, (tmp, db)),
                           ("usage", t_usage, (tmp,)),
                           ("nfspamd", t_nfspamd, (tmp,))):
        if nfstest.selected(name):
            fn(*args)


def main():
    for prog in (POLICY, NFSPAMDB):
        if not os.access(prog, os.X_OK):
            print("Bail out! no executable %s" % prog, flush=True)
            return 1
    if shutil.which("mdb_load") is None:
        print("1..0 # SKIP no mdb_load (lmdb-utils) to write os entries",
              flush=True)
        return 0
    return nfstest.run(TAP, DAEMONS, "policy.", WATCHDOG, body)


if __name__ == "__main__":
    sys.exit(main())
