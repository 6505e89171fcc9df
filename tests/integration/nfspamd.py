#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamd: the real daemon and nfspamdb, unprivileged,
on loopback, with temporary stores.  TAP on stdout.

Environment:
  NFSPAMD       the nfspamd binary   (default: $top_builddir/src/nfspamd/nfspamd)
  NFSPAMDB      the nfspamdb binary  (default: $top_builddir/src/nfspamdb/nfspamdb)
  top_builddir  default "."
  top_srcdir    the source tree, for the OS fingerprint files

Every daemon started here is stopped, and the temporary directory removed,
in a finally block, also when a check or the script itself fails.  Every
socket operation has a timeout; a watchdog ends the run after WATCHDOG s.
"""

import os
import pwd
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
from nfstest import DaemonLog, Tap, Watchdog  # noqa: E402

TOP_BUILDDIR = os.environ.get("top_builddir") or "."
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
# The shipped OS fingerprints, from the source tree: every daemon here
# fingerprints its clients (loopback SYNs are Linux ones).
OS_FILES = [os.path.join(TOP_SRCDIR, "etc", f)
            for f in ("os-fingerprints", "pf.os")]
NFSPAMD = os.environ.get("NFSPAMD") or os.path.join(
    TOP_BUILDDIR, "src", "nfspamd", "nfspamd")
NFSPAMDB = os.environ.get("NFSPAMDB") or os.path.join(
    TOP_BUILDDIR, "src", "nfspamdb", "nfspamdb")

IO_TIMEOUT = 5.0        # any single socket operation
START_TIMEOUT = 5.0     # until the "listening" log line
WATCHDOG = 100          # the whole run

PASSTIME = 2            # -G 2s:1h:1h
GREYEXP = 3600
WHITEEXP = 3600
TRAPEXP = 24 * 3600     # no flag; spamd's TRAPEXP

R_HELO = b"250 Hello, spam sender. Pleased to be wasting your time.\r\n"
R_MAIL = (b"250 You are about to try to deliver spam. "
          b"Your time will be spent, for nothing.\r\n")
R_RCPT = b"250 This is hurting you more than it is hurting me.\r\n"
R_GREY = b"451 Temporary failure, please try again later.\r\n"
R_DATA = b'354 Enter spam, end with "." on a line by itself\r\n'
R_BAD = b"500 5.5.1 Command unrecognized\r\n"
R_LONG = b"500 5.5.1 Line too long\r\n"

LIST_TAG = "tag"
LIST_LINE = ('%s;"Your address %%A is listed\\nsee example";'
             'inet;1;127.0.0.66/32;inet6;1;::1/128' % LIST_TAG)
BLACK_IP = "127.0.0.66"

WDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


TAP = Tap()


# --------------------------------------------------------------------------
# helpers: ports, processes, the log, nfspamdb



def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def free_port(addrs):
    return nfstest.free_port(addrs)


def proc_children(ppid):
    """(pid, cmdline) of every process whose parent is ppid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
            # pid (comm) state ppid ...; comm may hold spaces or parens.
            if int(stat[stat.rindex(")") + 2:].split()[1]) != ppid:
                continue
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read()
        except (OSError, ValueError, IndexError):
            continue
        out.append((int(d), cmd))
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] != "Z"
    except OSError:
        return False


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def sock_owners(pids, server_port, client_ports):
    """{client_port: pid} -- which of pids holds the server side of each
    connection whose client end uses client_port.  One pass over
    /proc/net/tcp* (which may be long on a busy host) and /proc/PID/fd."""
    want = set(client_ports)
    inodes = {}
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    f_ = line.split()
                    if int(f_[1].rsplit(":", 1)[1], 16) != server_port:
                        continue
                    rport = int(f_[2].rsplit(":", 1)[1], 16)
                    if rport in want and f_[9] != "0":
                        inodes["socket:[%s]" % f_[9]] = rport
        except OSError:
            continue
    owners = {}
    for pid in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link in inodes:
                owners[inodes[link]] = pid
    return owners


def spamdb(db, *args):
    """Run nfspamdb --db db args; returns CompletedProcess (text)."""
    return subprocess.run([NFSPAMDB, "--db", db] + list(args),
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=10)


def db_lines(db):
    r = spamdb(db)
    if r.returncode != 0:
        TAP.diag("nfspamdb exited %d: %s" % (r.returncode, r.stderr.strip()))
    return [l for l in r.stdout.splitlines() if l]


def age_tuple(db, g, seconds):
    """Move a GREY tuple's first attempt `seconds` back, through
    nfspamdb --import, which stores times as given: a retry then meets
    passtime without a wait for the real clock.  g is the tuple's
    nfspamdb line split on |; returns the line as it is now."""
    f = list(g)
    f[5] = str(int(f[5]) - seconds)
    r = subprocess.run([NFSPAMDB, "--db", db, "--import", "-"],
                       input="|".join(f) + "\n", capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 0:
        TAP.diag("nfspamdb --import: %s" % r.stderr.strip())
    return f


def db_find(db, kind, ip):
    """nfspamdb lines of type kind whose address field is ip, split on |."""
    return [l.split("|") for l in db_lines(db)
            if l.startswith(kind + "|") and l.split("|")[1] == ip]


class Daemon(DaemonLog):
    """One nfspamd, -d, logging to DIR/log."""

    def __init__(self, tmp, name, extra, listen=("127.0.0.1", "::1"),
                 domains=None):
        self.name = name
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.db = os.path.join(self.dir, "db")
        self.ctl = os.path.join(self.dir, "ctl.sock")
        self.domains = os.path.join(self.dir, "alloweddomains")
        self.logpath = os.path.join(self.dir, "log")
        self.listen = list(listen)
        self.port = free_port(self.listen)
        if domains is not None:
            with open(self.domains, "w") as f:
                f.write(domains)
        # Stay whoever runs the tests: the temporary store is theirs.
        # No kernel here: --firewall none (nft is the default).
        self.args = [NFSPAMD, "-d", "--firewall", "none",
                     "--db", self.db, "--control", self.ctl,
                     "--alloweddomains", self.domains, "-p", str(self.port),
                     "--user", pwd.getpwuid(os.geteuid()).pw_name]
        for a in self.listen:
            self.args += ["-l", a]
        # Not the default port 8027: daemons here run side by side.
        if "--os-tarpit-port" not in extra:
            self.args += ["--os-tarpit-port", "0"]
        if "--os-fingerprints" not in extra:
            for f in OS_FILES:
                self.args += ["--os-fingerprints", f]
        self.args += list(extra)
        self.proc = None
        self.logf = None
        self.started_at = None
        self.known_workers = set()
        DAEMONS.append(self)

    # -- process

    def start(self):
        """Start; True once the "listening" line is logged and every
        listen address accepts a connection."""
        self.logf = open(self.logpath, "ab")
        since = self.mark()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf)
        # Poll fast: the line is a promise that clients can connect now.
        m = self.wait_log(r"listening port=%d " % self.port, since,
                          START_TIMEOUT, poll=0.001)
        self.started_at = time.time()
        if m is None:
            TAP.diag("%s did not start; log:\n%s" % (self.name,
                                                     self.log(since)))
            return False
        ready = self.probe(since)
        for pid, _ in self.workers():
            self.known_workers.add(pid)
        return ready

    def probe(self, since):
        """Connect to every listen address (from 127.0.0.254 or ::1), take
        the banner, hang up; wait for the daemon to log the disconnects.
        Records in STARTS whether the first try, right after "listening"
        was logged, was refused."""
        end = time.monotonic() + START_TIMEOUT
        refused, nv4, nv6 = [], 0, 0
        for a in self.listen:
            src = "::1" if ":" in a else "127.0.0.254"
            first = True
            while True:
                try:
                    c = Client(src, self.port, dst=a, timeout=2)
                except ConnectionRefusedError:
                    if first:
                        refused.append(a)
                    first = False
                    if time.monotonic() > end:
                        TAP.diag("%s: %s:%d refuses connections"
                                 % (self.name, a, self.port))
                        return False
                    time.sleep(0.005)
                    continue
                c.line()
                c.close()
                break
            if src == "::1":
                nv6 += 1
            else:
                nv4 += 1
        STARTS.append((self.name, refused))
        for src, n in (("127\\.0\\.0\\.254", nv4), ("::1", nv6)):
            if n and not self.wait_count(r"disconnected ip=%s " % src, n,
                                         since):
                TAP.diag("%s: probe disconnects not logged" % self.name)
                return False
        return True

    def workers(self):
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [(p, c) for p, c in proc_children(self.proc.pid)
                if b"--worker=" in c]

    def worker_pids(self, n=1, timeout=3.0):
        """Pids of the worker processes, once n of them are running."""
        end = time.monotonic() + timeout
        while True:
            pids = sorted(p for p, _ in self.workers())
            self.known_workers.update(pids)
            if len(pids) >= n or time.monotonic() > end:
                return pids
            time.sleep(0.05)

    def signal(self, sig):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def stop(self, timeout=5.0):
        """SIGTERM; returns (exit status or None, seconds taken)."""
        if self.proc is None:
            return None, 0.0
        self.known_workers.update(p for p, _ in self.workers())
        t0 = time.monotonic()
        self.signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - t0

    def cleanup(self):
        """Whatever state it is in: no process of ours survives."""
        if self.proc is not None and self.proc.poll() is None:
            self.known_workers.update(p for p, _ in self.workers())
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(3)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        for pid in self.known_workers:
            # Only a process that is still one of our workers.
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"--worker=" in cmd and self.ctl.encode() in cmd:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if self.logf is not None:
            self.logf.close()
            self.logf = None


DAEMONS = []
STARTS = []     # (instance, [listen addresses refused right after start])


# --------------------------------------------------------------------------
# SMTP client

class Client:
    def __init__(self, src, port, dst=None, timeout=IO_TIMEOUT):
        if dst is None:
            dst = "::1" if ":" in src else "127.0.0.1"
        self.s = socket.socket(family(src), socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        try:
            self.s.bind((src, 0))
            self.s.connect((dst, port))
        except OSError:
            self.s.close()
            raise
        self.t_connect = time.time()
        self.buf = b""
        self.eof = None     # None, "eof", "reset", "timeout"

    @property
    def port(self):
        return self.s.getsockname()[1]

    def _fill(self):
        try:
            d = self.s.recv(65536)
        except socket.timeout:
            self.eof = "timeout"
            return False
        except ConnectionResetError:
            self.eof = "reset"
            return False
        if not d:
            self.eof = "eof"
            return False
        self.buf += d
        return True

    def line(self):
        """One line with its CRLF; whatever is left (maybe b"") at EOF."""
        while b"\n" not in self.buf:
            if self.eof or not self._fill():
                out, self.buf = self.buf, b""
                return out
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def reply(self):
        """A whole (possibly multi-line) reply."""
        out = b""
        while True:
            l = self.line()
            out += l
            if not l or len(l) < 4 or l[3:4] != b"-":
                return out

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, data):
        self.send(data)
        return self.reply()

    def rest(self, timeout=IO_TIMEOUT):
        """Everything until the server closes; (data, how)."""
        self.s.settimeout(timeout)
        while not self.eof and self._fill():
            pass
        out, self.buf = self.buf, b""
        return out, self.eof

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def dialogue(port, src, rcpt, helo="mx.sender.example",
             mfrom="<alice@sender.example>", dst=None, body=None):
    """Banner, EHLO, MAIL, RCPT, DATA [, body], until the server closes.
    Returns a dict of the replies."""
    c = Client(src, port, dst)
    r = {"t": c.t_connect}
    try:
        r["banner"] = c.line()
        r["ehlo"] = c.cmd(b"EHLO " + helo.encode() + b"\r\n")
        r["mail"] = c.cmd(b"MAIL FROM:" + mfrom.encode() + b"\r\n")
        r["rcpt"] = c.cmd(b"RCPT TO:" + rcpt.encode() + b"\r\n")
        r["data"] = c.cmd(b"DATA\r\n")
        if body is not None and r["data"] == R_DATA:
            c.send(body)
        r["tail"], r["how"] = c.rest()
    finally:
        c.close()
    return r


BODY = (b"From: spammer@sender.example\r\nTo: victim@example.org\r\n"
        b"Subject: buy now\r\n\r\nhello\r\n.\r\n")


def closed(how):
    return how in ("eof", "reset")


def banner_ok(banner, t, host=None):
    """220 <host> ESMTP spamd IP-based SPAM blocker; <ctime> within 2 s."""
    host = host or socket.gethostname()
    m = re.fullmatch(rb"220 (\S+) ESMTP spamd IP-based SPAM blocker; "
                     rb"(.{24})\r\n", banner or b"")
    if m is None or m.group(1).decode() != host:
        return False
    want = set()
    for d in range(-2, 3):
        tm = time.localtime(int(t) + d)
        want.add("%s %s %2d %02d:%02d:%02d %d" % (
            WDAY[tm.tm_wday], MONTH[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour,
            tm.tm_min, tm.tm_sec, tm.tm_year))
    return m.group(2).decode() in want


def black_reply(ip, code=450):
    return ("%d-Your address %s is listed\r\n%d see example\r\n"
            % (code, ip, code)).encode()


# --------------------------------------------------------------------------
# the tests

def section(name, fn, *args):
    if not nfstest.selected(name):
        TAP.diag("--- %s: not in NFS_SECTIONS, not run" % name)
        return
    TAP.diag("--- " + name)
    try:
        fn(*args)
    except Watchdog:
        raise
    except Exception as e:  # a broken step must not hide the others
        TAP.ok(False, "%s: ran to the end" % name,
               "%s: %s" % (type(e).__name__, e))


def t_first_attempt(d):
    ip = "127.0.0.10"
    r = dialogue(d.port, ip, "<bob@example.org>")
    TAP.ok(banner_ok(r["banner"], r["t"]),
           "first attempt: banner is 220 <host> ESMTP spamd IP-based SPAM "
           "blocker; <date>", "got: %r" % r["banner"])
    TAP.eq(r["ehlo"], R_HELO, "first attempt: EHLO reply")
    TAP.eq(r["mail"], R_MAIL, "first attempt: MAIL reply")
    TAP.eq(r["rcpt"], R_RCPT, "first attempt: RCPT reply")
    TAP.eq(r["data"], R_GREY, "first attempt: DATA gets exactly the 451")
    TAP.ok(r["tail"] == b"" and closed(r["how"]),
           "first attempt: then the server closes",
           "after 451: %r, %s" % (r["tail"], r["how"]))
    grey = db_find(d.db, "GREY", ip)
    ok = TAP.eq(len(grey), 1, "first attempt: nfspamdb shows one GREY line",
                "db: %r" % db_lines(d.db))
    if ok:
        g = grey[0]
        TAP.eq(g[2:5], ["mx.sender.example", "<alice@sender.example>",
                        "<bob@example.org>"],
               "first attempt: GREY tuple is helo|from|to as sent")
        first, pss, exp, bc, pc = (int(x) for x in g[5:10])
        TAP.ok(abs(first - r["t"]) <= 2 and pss == exp == first + GREYEXP
               and bc == 1 and pc == 0,
               "first attempt: first=now pass=expire=first+greyexp "
               "bcount=1 pcount=0", "line: %s" % "|".join(g))
    TAP.ok(d.wait_log(r"greylisted ip=127\.0\.0\.10 helo=mx\.sender\.example"
                      r" from=<alice@sender\.example> to=<bob@example\.org>"
                      r" new=1 attempts=1") is not None,
           "first attempt: greylisted log line")
    return grey[0] if grey else None


def t_retry(d, g):
    ip = "127.0.0.10"
    if g is None:
        TAP.ok(False, "retry: needs the first attempt's GREY line")
        return
    first = int(g[5])
    since = d.mark()
    # Early: at most first+passtime (spamd passes strictly after it).
    early_ok = time.time() < first + PASSTIME + 0.8
    r = dialogue(d.port, ip, "<bob@example.org>")
    TAP.eq(r["data"], R_GREY, "early retry: DATA gets 451")
    grey = db_find(d.db, "GREY", ip)
    TAP.ok(early_ok and len(grey) == 1 and grey[0][8] == "2"
           and grey[0][6] == grey[0][7] == g[6],
           "early retry: still GREY, bcount 2, pass unchanged",
           "retried in time: %s; db: %r" % (early_ok, grey))
    TAP.eq(db_find(d.db, "WHITE", ip), [], "early retry: no WHITE entry")
    TAP.ok(d.wait_log(r"passed ip=127\.0\.0\.10 ", since, 0.3) is None,
           "early retry: no passed log line")

    # After passtime (first + passtime < now), without waiting for the
    # clock: the first attempt moved back in the store.
    g = age_tuple(d.db, grey[0] if grey else g, PASSTIME + 1)
    first = int(g[5])
    r = dialogue(d.port, ip, "<bob@example.org>")
    t = int(r["t"])
    TAP.eq(r["data"], R_GREY, "retry after passtime: DATA still gets 451")
    white = db_find(d.db, "WHITE", ip)
    ok = TAP.eq(len(white), 1,
                "retry after passtime: WHITE entry at once (no scan)",
                "db: %r" % db_lines(d.db))
    if ok:
        w = white[0]
        wf, wp, we = int(w[4]), int(w[5]), int(w[6])
        TAP.ok(w[2:4] == ["", ""] and wf == first and t <= wp <= t + 2
               and we == wp + WHITEEXP,
               "retry after passtime: WHITE first=first pass=now "
               "expire=pass+whiteexp", "line: %s" % "|".join(w))
    grey = db_find(d.db, "GREY", ip)
    TAP.ok(len(grey) == 1 and grey[0][8] == "3" and grey[0][5] == g[5]
           and t <= int(grey[0][6]) <= t + 2 and grey[0][7] == g[7],
           "retry after passtime: GREY tuple kept, bcount 3, pass=now, "
           "expire unchanged",
           "db: %r" % grey)
    m = d.wait_log(r"firewall=none op=white ip=127\.0\.0\.10 timeout=(\d+)",
                   since)
    TAP.ok(m is not None and WHITEEXP - 3 <= int(m.group(1)) <= WHITEEXP,
           "retry after passtime: firewall=none op=white for the address",
           d.log_tail(since))
    TAP.ok(d.wait_log(r"passed ip=127\.0\.0\.10 helo=mx\.sender\.example "
                      r"from=<alice@sender\.example> to=<bob@example\.org> "
                      r"attempts=3 ", since) is not None,
           "retry after passtime: passed log line", d.log_tail(since))


def t_spamtrap(d):
    ip = "127.0.0.20"
    r = spamdb(d.db, "-a", "-T", "trap@example.net")
    TAP.ok(r.returncode == 0, "spamtrap: nfspamdb -a -T adds it",
           "rc %d: %s" % (r.returncode, r.stderr))
    TAP.ok("SPAMTRAP|trap@example.net" in db_lines(d.db),
           "spamtrap: nfspamdb lists SPAMTRAP|trap@example.net")
    since = d.mark()
    r = dialogue(d.port, ip, "<TRAP@example.net>")
    TAP.eq(r["rcpt"], R_RCPT, "spamtrap: RCPT reply is the usual one")
    TAP.eq(r["data"], R_GREY, "spamtrap: this connection still gets 451")
    TAP.ok(d.wait_log(r"trapped ip=127\.0\.0\.20 .*reason=spamtrap",
                      since) is not None,
           "spamtrap: trapped log line with reason=spamtrap",
           d.log_tail(since))
    tr = db_find(d.db, "TRAPPED", ip)
    TAP.ok(len(tr) == 1 and abs(int(tr[0][2]) - (r["t"] + TRAPEXP)) <= 3,
           "spamtrap: nfspamdb shows TRAPPED with expire now+24h",
           "db: %r" % db_lines(d.db))
    TAP.eq(db_find(d.db, "GREY", ip), [], "spamtrap: no GREY tuple for it")
    # The next connection is tarpitted like a blacklisted one.
    since = d.mark()
    r = dialogue(d.port, ip, "<someone@example.org>", body=BODY)
    TAP.eq(r["data"], R_DATA, "spamtrap: next connection's DATA gets 354")
    TAP.eq(r["tail"], ("450 Your address %s has mailed to spamtraps here"
                       "\r\n" % ip).encode(),
           "spamtrap: then exactly the greytrap reply")
    TAP.ok(closed(r["how"]), "spamtrap: and the server closes",
           "how: %s" % r["how"])
    TAP.ok(d.wait_log(r'connected ip=127\.0\.0\.20 .*lists="spamd-greytrap"',
                      since) is not None,
           "spamtrap: connection logged with lists=spamd-greytrap")


def write_domains(path, text, mtime_ns=None):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    if mtime_ns is not None:
        os.utime(tmp, ns=(mtime_ns, mtime_ns))
    os.rename(tmp, path)


def t_alloweddomains(d):
    r = dialogue(d.port, "127.0.0.30", "<x@example.org>")
    TAP.ok(r["data"] == R_GREY and len(db_find(d.db, "GREY",
                                                "127.0.0.30")) == 1
           and not db_find(d.db, "TRAPPED", "127.0.0.30"),
           "alloweddomains: RCPT to an allowed domain is greylisted")
    since = d.mark()
    dialogue(d.port, "127.0.0.31", "<x@elsewhere.test>")
    TAP.ok(d.wait_log(r"trapped ip=127\.0\.0\.31 .*reason=alloweddomains",
                      since) is not None
           and len(db_find(d.db, "TRAPPED", "127.0.0.31")) == 1
           and not db_find(d.db, "GREY", "127.0.0.31"),
           "alloweddomains: RCPT elsewhere is trapped reason=alloweddomains",
           d.log_tail(since))

    # Changed file: picked up within ~3 s.
    since = d.mark()
    t0 = time.monotonic()
    write_domains(d.domains, "example.org\nexample.net\nelsewhere.test\n")
    m = d.wait_log(r"alloweddomains file=\S+ domains=3", since, 3.0)
    TAP.ok(m is not None,
           "alloweddomains: changed file re-read within 3 s (%.1f s)"
           % (time.monotonic() - t0), d.log_tail(since))
    since = d.mark()
    r = dialogue(d.port, "127.0.0.32", "<x@elsewhere.test>")
    TAP.ok(r["data"] == R_GREY
           and len(db_find(d.db, "GREY", "127.0.0.32")) == 1
           and not db_find(d.db, "TRAPPED", "127.0.0.32"),
           "alloweddomains: after the change elsewhere.test is greylisted",
           d.log_tail(since))

    # SIGHUP re-reads even when the mtime says nothing changed.
    old = os.stat(d.domains).st_mtime_ns
    write_domains(d.domains, "example.org\nexample.net\n", old)
    time.sleep(1.3)     # a housekeeping round that must see no change
    since = d.mark()
    d.signal(signal.SIGHUP)
    TAP.ok(d.wait_log(r"SIGHUP: re-reading alloweddomains", since)
           is not None
           and d.wait_log(r"alloweddomains file=\S+ domains=2", since)
           is not None,
           "alloweddomains: SIGHUP re-reads the file (log lines)",
           d.log_tail(since))
    since = d.mark()
    dialogue(d.port, "127.0.0.33", "<x@elsewhere.test>")
    TAP.ok(d.wait_log(r"trapped ip=127\.0\.0\.33 .*reason=alloweddomains",
                      since) is not None,
           "alloweddomains: after SIGHUP elsewhere.test is trapped again",
           d.log_tail(since))


def t_ipv6(d):
    r = dialogue(d.port, "::1", "<v6@example.org>", helo="v6.sender.example")
    TAP.ok(banner_ok(r["banner"], r["t"]), "IPv6: banner on ::1")
    TAP.eq(r["data"], R_GREY, "IPv6: client on ::1 gets 451 at DATA")
    # Keyed by the /64 of ::1 (-N's default 32:64).
    grey = [l for l in db_lines(d.db) if l.startswith("GREY|::/64|")]
    TAP.ok(len(grey) == 1 and grey[0].split("|")[2:5] == [
        "v6.sender.example", "<alice@sender.example>", "<v6@example.org>"],
        "IPv6: GREY key is ::1's /64 (nfspamdb GREY|::/64|...)",
        "db: %r" % db_lines(d.db))
    r = spamdb(d.db, "--json")
    TAP.ok(r.returncode == 0 and '"ip":"::/64"' in r.stdout.replace(" ", ""),
           "IPv6: nfspamdb --json shows ip ::/64", r.stdout[-300:])


def t_network(d):
    """-N 24:64: a retry from another address of the /24 passes."""
    r = dialogue(d.port, "127.0.6.1", "<bob@example.org>")
    TAP.eq(r["data"], R_GREY, "-N 24:64: first attempt from 127.0.6.1 gets 451")
    grey = db_find(d.db, "GREY", "127.0.6.0/24")
    TAP.ok(len(grey) == 1, "-N 24:64: the tuple is keyed 127.0.6.0/24",
           "db: %r" % db_lines(d.db))
    if not grey:
        return
    age_tuple(d.db, grey[0], PASSTIME + 1)
    since = d.mark()
    r = dialogue(d.port, "127.0.6.2", "<bob@example.org>")
    TAP.eq(r["data"], R_GREY, "-N 24:64: the retry from 127.0.6.2 gets 451")
    TAP.ok(d.wait_log(r"passed ip=127\.0\.6\.2 .*attempts=2 ", since)
           is not None, "-N 24:64: ... and passes: passed ip=127.0.6.2",
           d.log_tail(since))
    TAP.eq(len(db_find(d.db, "WHITE", "127.0.6.0/24")), 1,
           "-N 24:64: WHITE 127.0.6.0/24", "db: %r" % db_lines(d.db))
    TAP.eq(db_find(d.db, "WHITE", "127.0.6.2"), [],
           "-N 24:64: no WHITE entry for the address itself")
    TAP.ok(d.wait_log(r"firewall=none op=white ip=127\.0\.6\.0/24 ", since)
           is not None, "-N 24:64: the firewall is handed the /24",
           d.log_tail(since))
    # Another /24 is another sender.
    r = dialogue(d.port, "127.0.7.2", "<bob@example.org>")
    TAP.eq(len(db_find(d.db, "GREY", "127.0.7.0/24")), 1,
           "-N 24:64: 127.0.7.2 is a new tuple of 127.0.7.0/24")
    # nfspamdb keys by what nfspamd recorded.
    r = subprocess.run([NFSPAMDB, "--db", d.db, "-a", "127.0.8.9"],
                       capture_output=True, text=True, timeout=10)
    TAP.ok(r.returncode == 0 and
           len(db_find(d.db, "WHITE", "127.0.8.0/24")) == 1,
           "-N 24:64: nfspamdb -a 127.0.8.9 adds WHITE 127.0.8.0/24",
           r.stderr)
    r = subprocess.run([NFSPAMDB, "--db", d.db, "-a", "127.0.9.0/25"],
                       capture_output=True, text=True, timeout=10)
    TAP.ok(r.returncode != 0 and "nfspamd whitelists /24 networks" in
           r.stderr, "-N 24:64: nfspamdb -a of a /25 is refused, naming -N",
           r.stderr)


def t_hostile(d):
    begin = d.mark()
    workers = d.worker_pids()
    if not TAP.ok(len(workers) == 1, "hostile: one worker process found",
                  "workers: %r" % workers):
        return
    wpid = workers[0]
    rss0 = vmrss_kib(wpid)
    res = {}

    def run(name, src, payload, wait=IO_TIMEOUT):
        try:
            c = Client(src, d.port)
        except OSError as e:
            res[name] = (None, b"", "connect: %s" % e)
            return
        try:
            banner = c.line()

            def sender():
                try:
                    c.s.sendall(payload)
                except OSError:
                    pass    # the server may hang up before we finish
            t = threading.Thread(target=sender, daemon=True)
            t.start()
            data, how = c.rest(wait)
            t.join(IO_TIMEOUT)
            res[name] = (banner, data, how)
        except OSError as e:
            res[name] = (None, b"", "error: %s" % e)
        finally:
            c.close()

    rng = random.Random(4711)
    junk = bytes(rng.getrandbits(8) for _ in range(64 * 1024))
    jobs = [("long", "127.0.0.40", b"A" * (1 << 20)),
            ("junk", "127.0.0.41", junk),
            ("pipe", "127.0.0.42", b"XYZZY\r\n" * 10000)]
    threads = [threading.Thread(target=run, args=j, daemon=True)
               for j in jobs]
    # A client holding half a line open while the others misbehave.
    slow = Client("127.0.0.43", d.port)
    slow_banner = slow.line()
    slow.send(b"HELO half")
    for t in threads:
        t.start()
    r = dialogue(d.port, "127.0.0.46", "<calm@example.org>")
    for t in threads:
        t.join(IO_TIMEOUT * 2)
    slow_helo = slow.cmd(b"-a-line\r\n")
    slow_quit = slow.cmd(b"QUIT\r\n")
    slow_rest, slow_how = slow.rest()
    slow.close()

    b, data, how = res.get("long", (None, b"", "no result"))
    TAP.ok(b is not None and b.startswith(b"220 ") and data == R_LONG
           and closed(how),
           "hostile: 1 MB without a newline gets exactly 500 5.5.1 Line too "
           "long, then close", "got %r, %s" % (data[:200], how))
    b, data, how = res.get("junk", (None, b"", "no result"))
    TAP.ok(b is not None and re.match(rb"\d\d\d[ -]", data or b"")
           and closed(how),
           "hostile: 64 KiB of binary junk is answered and closed",
           "got %r, %s" % (data[:200], how))
    b, data, how = res.get("pipe", (None, b"", "no result"))
    TAP.ok(b is not None and data == R_BAD * 20 + R_GREY and closed(how),
           "hostile: 10000 pipelined XYZZY get 20 x 500 5.5.1 Command "
           "unrecognized, the final 451, then close",
           "got %d x 500, %d bytes, ending %r, %s"
           % (data.count(R_BAD), len(data), data[-60:], how))
    TAP.ok(r.get("banner", b"").startswith(b"220 ") and r["ehlo"] == R_HELO
           and r["mail"] == R_MAIL and r["rcpt"] == R_RCPT
           and r["data"] == R_GREY and closed(r["how"]),
           "hostile: meanwhile a normal client completes its dialogue",
           "got %r" % r)
    TAP.ok(slow_banner.startswith(b"220 ") and slow_helo == R_HELO
           and slow_quit == ("221 %s\r\n" % socket.gethostname()).encode()
           and closed(slow_how),
           "hostile: a line split across the storm is answered, QUIT gets "
           "221 <host>", "helo %r quit %r %s" % (slow_helo, slow_quit,
                                                slow_how))
    # Every storm connection is closed, and one more dialogue after it
    # has been served: whatever the storm did to the worker is done.
    TAP.ok(all(d.wait_log(r"disconnected ip=%s " % re.escape(j[1]), begin)
               for j in jobs),
           "hostile: the worker logs each storm connection's end")
    after = dialogue(d.port, "127.0.0.47", "<calm@example.org>")
    TAP.ok(after["data"] == R_GREY and closed(after["how"]),
           "hostile: a dialogue after the storm is served", "got %r" % after)
    TAP.ok(alive(wpid) and d.worker_pids() == [wpid]
           and d.proc.poll() is None
           and re.search(r"worker \d+ (exited|killed)", d.log()) is None,
           "hostile: worker and supervisor still running, no restart",
           d.log_tail())
    rss1 = vmrss_kib(wpid) if alive(wpid) else None
    TAP.ok(rss0 is not None and rss1 is not None
           and rss1 - rss0 <= 16 * 1024,
           "hostile: worker VmRSS grew by at most 16 MiB (%s -> %s KiB)"
           % (rss0, rss1))


def t_black_sm0(d):
    reply = d.control(LIST_LINE + "\n")
    TAP.ok(reply.startswith("ok lists=1"),
           "blacklist: control socket answers ok lists=1", "got %r" % reply)
    TAP.ok(d.wait_log(r"blacklist list=tag prefixes=2") is not None,
           "blacklist: supervisor logs the list")
    since = d.mark()
    r = dialogue(d.port, BLACK_IP, "<x@example.org>", body=BODY)
    TAP.ok(r["banner"].startswith(b"220 ") and r["ehlo"] == R_HELO
           and r["mail"] == R_MAIL and r["rcpt"] == R_RCPT,
           "blacklist: listed client gets the usual replies up to RCPT",
           "got %r" % r)
    TAP.eq(r["data"], R_DATA, "blacklist: DATA gets 354")
    TAP.eq(r["tail"], black_reply(BLACK_IP),
           "blacklist: after the message exactly the list's 450 reply")
    TAP.ok(closed(r["how"]), "blacklist: then the server closes",
           "how: %s" % r["how"])
    TAP.ok(d.wait_log(r'connected ip=127\.0\.0\.66 .*lists="tag"', since)
           is not None, "blacklist: connection logged with lists=\"tag\"")
    TAP.eq(db_find(d.db, "GREY", BLACK_IP), [],
           "blacklist: no GREY tuple for a listed client")
    body = (b"Subject: many lines\r\n\r\n"
            + b"".join(b"line %d\r\n" % i for i in range(30)))
    r = dialogue(d.port, BLACK_IP, "<x@example.org>", body=body)
    TAP.ok(r["data"] == R_DATA and r["tail"] == black_reply(BLACK_IP)
           and closed(r["how"]),
           "blacklist: a body without the dot ends after 10 lines with the "
           "list's reply", "got %r, %s" % (r.get("tail"), r.get("how")))
    r = dialogue(d.port, "::1", "<x@example.org>", body=BODY)
    TAP.eq(r["tail"], black_reply("::1"),
           "blacklist: inet6 part of the list applies to ::1")
    r = dialogue(d.port, "127.0.0.67", "<x@example.org>")
    TAP.eq(r["data"], R_GREY, "blacklist: an unlisted client is greylisted")

    for bad in ("this is not a list", LIST_TAG +
                ';"other";inet;1;127.0.0.66/0'):
        reply = d.control(bad + "\n")
        lines = reply.splitlines()
        TAP.ok(len(lines) == 2 and lines[0].startswith("error line 1: ")
               and lines[1].startswith("ok lists=0 refused=1 total=1 "),
               "blacklist: bad control line %r gets error line 1" % bad[:24],
               "got %r" % reply)
        r = dialogue(d.port, BLACK_IP, "<x@example.org>", body=BODY)
        TAP.eq(r["tail"], black_reply(BLACK_IP),
               "blacklist: the previous list still applies after it")

    # Lists survive a restart.
    rc, took = d.stop()
    TAP.ok(rc == 0, "blacklist: SIGTERM stops nfspamd (exit %r)" % rc)
    if not TAP.ok(d.start(), "blacklist: nfspamd starts again on the same "
                             "db"):
        return
    TAP.ok(d.wait_log(r"blacklists=1 prefixes=2 from ") is not None,
           "blacklist: saved lists loaded at start")
    r = dialogue(d.port, BLACK_IP, "<x@example.org>", body=BODY)
    TAP.eq(r["tail"], black_reply(BLACK_IP),
           "blacklist: after the restart the client is still listed")


def t_black_stutter(d):
    reply = d.control(LIST_LINE + "\n")
    TAP.ok(reply.startswith("ok lists=1"),
           "stutter: list loaded", "got %r" % reply)
    c = Client(BLACK_IP, d.port, timeout=4)
    try:
        t0 = time.monotonic()
        times, data = [], b""
        for _ in range(4):
            b = c.s.recv(1)
            if not b:
                break
            times.append(time.monotonic())
            data += b
    finally:
        c.close()
    gaps = [b - a for a, b in zip([t0] + times, times)]
    TAP.eq(data, b"220 ", "stutter: the banner's first 4 bytes arrive")
    TAP.ok(len(gaps) == 4 and all(0.7 <= g <= 1.6 for g in gaps),
           "stutter: one byte per second, the first after one second",
           "gaps: %s" % ", ".join("%.2f" % g for g in gaps))
    c = Client("127.0.0.67", d.port)
    try:
        t0 = time.monotonic()
        banner = c.line()
        dt = time.monotonic() - t0
    finally:
        c.close()
    TAP.ok(banner.startswith(b"220 ") and banner.endswith(b"\r\n")
           and dt < 0.5,
           "stutter: a greylisted client with -S 0 gets its banner at once "
           "(%.2f s)" % dt)


def t_black_550(d):
    reply = d.control(LIST_LINE + "\n")
    TAP.ok(reply.startswith("ok lists=1"), "-5: list loaded",
           "got %r" % reply)
    r = dialogue(d.port, BLACK_IP, "<x@example.org>", body=BODY)
    TAP.eq(r["data"], R_DATA, "-5: DATA gets 354")
    TAP.eq(r["tail"], black_reply(BLACK_IP, 550),
           "-5: exactly the list's reply with 550")


def t_lowprio(d):
    # With --mx-grace 0, -M applies from the start.
    since = d.mark()
    r = dialogue(d.port, "127.0.0.50", "<x@example.org>", dst="127.0.0.2")
    TAP.eq(r["data"], R_GREY, "-M: a client of 127.0.0.2 gets 451")
    TAP.ok(d.wait_log(r"trapped ip=127\.0\.0\.50 .*reason=lowprio-mx",
                      since) is not None
           and len(db_find(d.db, "TRAPPED", "127.0.0.50")) == 1,
           "-M: a new tuple to 127.0.0.2 is trapped reason=lowprio-mx",
           d.log_tail(since))
    since = d.mark()
    dialogue(d.port, "127.0.0.51", "<y@example.org>", dst="127.0.0.1")
    TAP.ok(d.wait_log(r"greylisted ip=127\.0\.0\.51 .*new=1", since)
           is not None and not db_find(d.db, "TRAPPED", "127.0.0.51"),
           "-M: a new tuple to 127.0.0.1 is greylisted", d.log_tail(since))
    since = d.mark()
    dialogue(d.port, "127.0.0.51", "<y@example.org>", dst="127.0.0.2")
    TAP.ok(d.wait_log(r"greylisted ip=127\.0\.0\.51 .*new=0 attempts=2",
                      since) is not None
           and not db_find(d.db, "TRAPPED", "127.0.0.51"),
           "-M: a known tuple retried at 127.0.0.2 is not trapped",
           d.log_tail(since))


def t_maxcon(d):
    clients = []
    try:
        for i in range(3):
            c = Client("127.0.0.6%d" % i, d.port)
            clients.append(c)
            TAP.ok(c.line().startswith(b"220 "),
                   "maxcon: connection %d of 3 gets the banner" % (i + 1))
        since = d.mark()
        c = Client("127.0.0.63", d.port)
        t0 = time.monotonic()
        data, how = c.rest(3)
        dt = time.monotonic() - t0
        c.close()
        TAP.ok(data == b"" and closed(how) and dt < 1.5,
               "maxcon: the 4th is closed at once without a banner "
               "(%.2f s)" % dt, "got %r, %s" % (data, how))
        TAP.ok(d.wait_log(r"refused reason=maxcon", since) is not None,
               "maxcon: log says refused reason=maxcon", d.log_tail(since))
        since = d.mark()
        clients.pop(0).close()
        d.wait_log(r"disconnected ip=127\.0\.0\.60 ", since)
        c = Client("127.0.0.64", d.port)
        clients.append(c)
        TAP.ok(c.line().startswith(b"220 "),
               "maxcon: after one closes, a new connection is served")
    finally:
        for c in clients:
            c.close()


def t_workers(d):
    pids = d.worker_pids(2)
    TAP.ok(len(pids) == 2, "-j 2: two --worker processes",
           "workers: %r" % pids)
    reply = d.control(LIST_LINE + "\n")
    TAP.ok(reply.startswith("ok lists=1"), "-j 2: list loaded",
           "got %r" % reply)
    clients, bad = [], []
    owners = {}
    try:
        for i in range(20):
            c = Client(BLACK_IP, d.port)
            clients.append(c)
        banners = [c.line() for c in clients]
        byport = sock_owners(pids, d.port, [c.port for c in clients])
        for i, c in enumerate(clients):
            b = banners[i]
            owner = byport.get(c.port)
            owners[owner] = owners.get(owner, 0) + 1
            got = [b, c.cmd(b"HELO x\r\n"), c.cmd(b"MAIL FROM:<a@b.example>"
                                                  b"\r\n"),
                   c.cmd(b"RCPT TO:<c@example.org>\r\n"), c.cmd(b"DATA\r\n")]
            c.send(BODY)
            tail, how = c.rest()
            if not (b.startswith(b"220 ") and got[1:] == [R_HELO, R_MAIL,
                                                          R_RCPT, R_DATA]
                    and tail == black_reply(BLACK_IP) and closed(how)):
                bad.append((i, owner, got, tail, how))
    finally:
        for c in clients:
            c.close()
    TAP.ok(not bad, "-j 2: all 20 connections served and given the list's "
           "reply", *["conn %d worker %s: %r %r %s" % x for x in bad[:5]])
    TAP.ok(len([p for p in owners if p in pids]) == 2,
           "-j 2: both workers served some of them",
           "connections per worker: %r" % owners)


def flood(d, src, n, width=40, start=0):
    """One connection from src: MAIL, then n pipelined RCPTs to distinct
    mailboxes of `width` characters, DATA, QUIT.  Returns the number of
    250 replies."""
    c = Client(src, d.port)
    try:
        c.line()
        c.cmd(b"HELO flood.example\r\n")
        c.cmd(b"MAIL FROM:<spam@flood.example>\r\n")
        rcpts = b"".join(b"RCPT TO:<%s@example.org>\r\n"
                         % (b"%d" % (start + i)).rjust(width, b"x")
                         for i in range(n))
        c.send(rcpts + b"DATA\r\nQUIT\r\n")
        data, _ = c.rest()
    finally:
        c.close()
    return data.count(b"250 ")


def t_flood(d):
    """--max-tuples-per-ip 20 --db-max-size 1."""
    since = d.mark()
    ok = flood(d, "127.0.0.70", 300)
    TAP.eq(ok, 300, "flood: 300 pipelined RCPTs all get 250")
    mine = [l for l in db_lines(d.db) if l.startswith("GREY|127.0.0.70|")]
    TAP.eq(len(mine), 20, "flood: one address keeps 20 tuples "
           "(--max-tuples-per-ip 20)")
    TAP.ok(d.wait_log(r"tuple not kept: 127\.0\.0\.70 has 20 live tuples",
                      since) is not None and
           len(re.findall(r"tuple not kept", d.log(since))) == 1,
           "flood: 280 tuples not kept make one log line",
           d.log_tail(since))
    r = dialogue(d.port, "127.0.0.71", "<bob@example.org>")
    TAP.ok(r["data"] == R_GREY and db_find(d.db, "GREY", "127.0.0.71"),
           "flood: another sender's tuple is kept meanwhile")
    # Now fill the 1 MiB map from many addresses, 20 tuples each.
    since = d.mark()
    for i in range(200):
        flood(d, "127.0.1.%d" % (i + 1), 20, width=200, start=i * 20)
        if "tuples lost" in d.log(since):
            break
    TAP.ok(d.wait_log(r"\d+ tuples lost: .*database full.*tuples-lost=\d+",
                      since) is not None and
           len(re.findall(r"tuples lost", d.log(since))) == 1,
           "full database: the lost tuples make one log line with a count",
           d.log_tail(since))
    TAP.ok(db_find(d.db, "GREY", "127.0.0.71"),
           "full database: the tuples it holds stay")
    since = d.mark()
    d.signal(signal.SIGHUP)
    m = d.wait_log(r"worker stats worker=0 tuples-lost=(\d+) "
                   r"tuples-capped=(\d+)", since)
    TAP.ok(m is not None and int(m.group(1)) > 0
           and int(m.group(2)) == 280,
           "SIGHUP: the worker's counts (tuples-lost > 0, tuples-capped=280)",
           m.group(0) if m else d.log_tail(since))


def t_durable(d):
    """-j 2 --db-sync-ms 0: every tuple kept and journaled; fsyncs paced,
    and a commit already covered by an fsync gets none of its own."""
    n_threads, per_thread = 8, 40
    results = []

    def client(k):
        for i in range(per_thread):
            r = dialogue(d.port, "127.0.%d.%d" % (80 + k, i + 1),
                         "<rcpt%d@example.org>" % i)
            results.append(r.get("data"))

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,))
               for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    n = n_threads * per_thread
    TAP.ok(results.count(R_GREY) == n,
           "durable: %d dialogues from %d clients at once end in 451"
           % (n, n_threads),
           "replies: %r" % sorted(set(map(repr, results))))
    # The journal: one file, two 4 MiB regions a worker, each region a
    # 16-byte header and then records ("NFJ1").
    region = 4 << 20
    jpath = os.path.join(d.db, "journal")
    with open(jpath, "rb") as f:
        jdata = f.read()
    firsts = [jdata[k * region + 16:k * region + 20]
              for k in range(len(jdata) // region)]
    TAP.ok(len(firsts) == 4 and firsts.count(b"NFJ1") >= 2
           and jdata.count(b"NFJ1") > 0,
           "durable: both workers journal their commits (%d records seen)"
           % jdata.count(b"NFJ1"),
           "journal %d bytes, regions start with %r" % (len(jdata), firsts))
    since = d.mark()
    d.signal(signal.SIGHUP)
    stats = []
    for w in (0, 1):
        m = d.wait_log(r"worker stats worker=%d .*fsyncs=(\d+) "
                       r"fsyncs-spared=(\d+)" % w, since)
        stats.append((int(m.group(1)), int(m.group(2))) if m else None)
    took = time.monotonic() - t0
    grey = [l for l in db_lines(d.db) if l.startswith("GREY|127.0.")]
    TAP.ok(len(grey) == n, "durable: all %d tuples are in the database" % n,
           "GREY lines: %d" % len(grey))
    if not TAP.ok(None not in stats, "durable: SIGHUP logs both workers' "
                  "fsync counts", d.log_tail(since)):
        return
    # Journal fsyncs 5 ms apart all together (one covers both workers'
    # regions), and a database sync a second from each worker.
    bound = int(took / 0.005) + 2 * (int(took) + 2)
    total = sum(f for f, _ in stats)
    TAP.ok(all(f > 0 for f, _ in stats) and total <= bound,
           "durable: %d fsyncs in %.2f s: journal fsyncs at most one per "
           "5 ms for the daemon, database syncs one a second a worker (%d)"
           % (total, took, bound), "fsyncs, spared per worker: %r" % stats)
    TAP.ok(sum(sp for _, sp in stats) > 0,
           "durable: commits covered by an fsync already begun get none "
           "of their own", "fsyncs, spared per worker: %r" % stats)
    rc, _ = d.stop()
    with open(jpath, "rb") as f:
        jdata = f.read()
    firsts = [jdata[k * region + 16:k * region + 20]
              for k in range(len(jdata) // region)]
    TAP.ok(rc == 0 and len(firsts) == 4 and b"NFJ1" not in firsts,
           "durable: at exit the database is synced and the journal holds "
           "no record", "regions start with %r" % firsts)


def t_journal_replay(tmp):
    """A crash of the whole system, simulated: the database file put back
    as it was synced before the commits, the journals as they were."""
    d = Daemon(tmp, "journal", ["--db-sync-ms", "0", "-S", "0", "-s", "0"])
    if not TAP.ok(d.start(), "journal: --db-sync-ms 0 instance starts"):
        return
    d.stop()
    data = os.path.join(d.db, "data.mdb")
    with open(data, "rb") as f:
        snap = f.read()
    t0 = time.monotonic()
    if not TAP.ok(d.start(), "journal: starts again"):
        return
    replies = [dialogue(d.port, "127.0.90.%d" % (i + 1),
                        "<r%d@example.org>" % i)["data"] for i in range(20)]
    pids = [d.proc.pid] + d.worker_pids()
    for p in pids:
        os.kill(p, signal.SIGKILL)
    d.proc.wait()
    took = time.monotonic() - t0
    TAP.ok(replies.count(R_GREY) == 20,
           "journal: 20 dialogues end in 451, then nfspamd is killed (-9)")
    with open(data, "wb") as f:
        f.write(snap)
    os.unlink(os.path.join(d.db, "lock.mdb"))
    # Within two database syncs of the start, the journals hold it all.
    if took >= 1.8:
        TAP.skip("journal: replay (the run took %.1f s, past the "
                 "journals' two-second reach)" % took)
        return
    since = d.mark()
    if not TAP.ok(d.start(), "journal: starts on the old database file"):
        return
    m = d.wait_log(r"journal replayed commits=(\d+) changes=(\d+)", since)
    grey = [l for l in db_lines(d.db) if l.startswith("GREY|127.0.90.")]
    TAP.ok(m is not None and int(m.group(2)) >= 20,
           "journal: the start replays what the database lacked",
           d.log_tail(since))
    TAP.ok(len(grey) == 20, "journal: all 20 tuples are in the database",
           "GREY lines: %d" % len(grey))
    d.stop()


def t_sigterm(d):
    workers = d.worker_pids()
    rc, took = d.stop(5.0)
    TAP.ok(rc == 0 and took <= 5.0,
           "SIGTERM: nfspamd exits 0 within 5 s (rc %r, %.2f s)" % (rc, took))
    TAP.ok(not os.path.exists(d.ctl),
           "SIGTERM: the control socket is removed")
    # The supervisor reaps its workers before it exits.
    TAP.ok(workers and not any(alive(p) for p in workers),
           "SIGTERM: the workers are gone too", "workers: %r" % workers)


def t_usage(tmp):
    base = ["-d", "--db", os.path.join(tmp, "usage-db"), "--control",
            os.path.join(tmp, "usage.sock"), "--alloweddomains",
            os.path.join(tmp, "usage-ad"), "-p",
            str(free_port(["127.0.0.1"])), "-l", "127.0.0.1",
            "--firewall", "none", "--user", pwd.getpwuid(os.geteuid()).pw_name]
    cases = [(["-c", "0"], "-c 0"), (["-G", "1:2"], "-G 1:2"),
             (["-s", "11"], "-s 11"), (["-l", "nonsense"], "-l nonsense"),
             (["-Z"], "Z"), (["--bogus-flag"], "--bogus-flag"),
             (["--metrics", "127.0.0.1"], "--metrics 127.0.0.1"),
             (["--metrics", "[::1:9"], "--metrics [::1:9"),
             (["--metrics-file", "x.prom"], "--metrics-file x.prom"),
             (["-N", "7:64"], "-N 7:64: IPv4 prefix length not in 8..32"),
             (["--prefix-len", "24"], "-N 24: expected len4:len6")]
    for args, needle in cases:
        try:
            r = subprocess.run([NFSPAMD] + base + args,
                               stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=3)
            rc, err = r.returncode, r.stderr
        except subprocess.TimeoutExpired as e:
            rc, err = "still running after 3 s", str(e.stderr)
            # subprocess.run killed it; a worker would see its parent go.
        TAP.ok(rc == 1 and needle in err,
               "usage: %s exits 1 naming %s on stderr" % (" ".join(args),
                                                        needle),
               "rc %r, stderr %r" % (rc, err[:300]))


# --------------------------------------------------------------------------
# metrics

def parse_metrics(text):
    """{(name, frozenset(labels)): value} of an exposition; # lines
    skipped."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$',
                     line)
        if m is None:
            raise ValueError("bad exposition line %r" % line)
        labels = frozenset(re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|'
                                      r'\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric(ms, name, **labels):
    return ms.get((name, frozenset(labels.items())))


def http_get(port, path, method="GET"):
    """(status, content type, body) of one HTTP/1.0 request."""
    c = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    try:
        c.sendall(("%s %s HTTP/1.0\r\nHost: x\r\n\r\n"
                   % (method, path)).encode())
        data = nfstest.recv_all(c)
    finally:
        c.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    ctype = ""
    for l in lines[1:]:
        if l.lower().startswith("content-type:"):
            ctype = l.split(":", 1)[1].strip()
    return status, ctype, body.decode()


def promtool_ok(text):
    """None when promtool is not installed, else (ok, its complaints)."""
    try:
        r = subprocess.run(["promtool", "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=20)
    except FileNotFoundError:
        return None
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def scrape(d):
    status, ctype, body = http_get(d.mport, "/metrics")
    if status != 200:
        raise RuntimeError("GET /metrics: %d" % status)
    return parse_metrics(body), body, ctype


def t_metrics(d):
    m0, body, ctype = scrape(d)
    TAP.ok(ctype.startswith("text/plain; version=0.0.4"),
           "metrics: /metrics is Prometheus' text format 0.0.4",
           "Content-Type: %r" % ctype)
    r = promtool_ok(body)
    if r is None:
        TAP.skip("metrics: promtool check metrics (no promtool)")
    else:
        TAP.ok(r[0], "metrics: promtool check metrics passes", r[1])
    TAP.ok(metric(m0, "nfspamd_connections_total", **{"class": "grey"})
           is not None and [v for (n, _), v in m0.items()
                            if n == "nfspamd_build_info"] == [1],
           "metrics: connection counters and build_info from the start")

    ip = "127.0.0.20"
    r1 = dialogue(d.port, ip, "<bob@example.org>")
    g = db_find(d.db, "GREY", ip)
    if g:
        age_tuple(d.db, g[0], PASSTIME + 1)
    r2 = dialogue(d.port, ip, "<bob@example.org>")
    TAP.ok(r1["data"] == R_GREY and len(db_find(d.db, "WHITE", ip)) == 1,
           "metrics: a sender greylisted, then passed", "db: %r"
           % db_lines(d.db))
    reply = d.control(LIST_LINE + "\n")
    TAP.ok(reply.startswith("ok lists=1"), "metrics: a blacklist loaded",
           reply)
    dialogue(d.port, BLACK_IP, "<x@example.org>", body=BODY)
    dialogue(d.port, ip, "<carol@example.org>")   # WHITE, still diverted
    # The workers count when a connection closes; the last one may still
    # be closing.
    end = time.monotonic() + 3
    while True:
        m1, body, _ = scrape(d)
        closed_all = metric(m1, "nfspamd_connections",
                            **{"class": "white"}) == 0
        if closed_all or time.monotonic() > end:
            break
        time.sleep(0.05)

    def delta(name, **labels):
        return ((metric(m1, name, **labels) or 0)
                - (metric(m0, name, **labels) or 0))

    # bob's first attempt, and carol's (a new tuple of a WHITE address
    # that the firewall did not let past nfspamd).
    TAP.eq(delta("nfspamd_tuples_total", outcome="greylisted_new"), 2,
           "metrics: greylisted_new moved by 2")
    TAP.eq(delta("nfspamd_tuples_total", outcome="passed"), 1,
           "metrics: passed moved by 1")
    TAP.eq(delta("nfspamd_reports_white_total"), 1,
           "metrics: the supervisor heard of 1 pass")
    TAP.eq(delta("nfspamd_connections_total", **{"class": "grey"}), 2,
           "metrics: 2 grey connections")
    TAP.eq(delta("nfspamd_connections_total", **{"class": "black"}), 1,
           "metrics: 1 black connection")
    TAP.eq(delta("nfspamd_connections_total", **{"class": "white"}), 1,
           "metrics: 1 connection from a WHITE address (diverted anyway)")
    TAP.eq(delta("nfspamd_blacklisted_connections_total", list=LIST_TAG), 1,
           "metrics: the black connection is counted under its list")
    TAP.eq(metric(m1, "nfspamd_blacklists"), 1,
           "metrics: 1 blacklist loaded")
    TAP.eq(delta("nfspamd_passed_wait_seconds_count"), 1,
           "metrics: the wait histogram counted the pass")
    TAP.ok(delta("nfspamd_store_commit_seconds_count") >= 2,
           "metrics: the commits are timed")
    TAP.eq(metric(m1, "nfspamd_db_entries", type="white"), 1,
           "metrics: 1 WHITE entry in the database")
    TAP.eq(delta("nfspamd_control_requests_total"), 1,
           "metrics: 1 control request")
    r = promtool_ok(body)
    if r is not None:
        TAP.ok(r[0], "metrics: promtool still happy with labels", r[1])

    st, _, _ = http_get(d.mport, "/nothing")
    TAP.eq(st, 404, "metrics: another path is 404")
    st, _, _ = http_get(d.mport, "/metrics", "POST")
    TAP.eq(st, 405, "metrics: POST is 405")
    text = d.control("metrics\n")
    mc = parse_metrics(text)
    TAP.ok(metric(mc, "nfspamd_tuples_total", outcome="passed") ==
           metric(m1, "nfspamd_tuples_total", outcome="passed")
           and metric(mc, "nfspamd_control_requests_total") ==
           metric(m1, "nfspamd_control_requests_total") + 1,
           "metrics: the control socket's \"metrics\" gives the same "
           "counters", text[:300])

    # A second daemon wanting the same port refuses to start, and says so.
    other = Daemon(os.path.dirname(d.dir), "metrics-busy",
                   ["--metrics", "127.0.0.1:%d" % d.mport])
    try:
        r = subprocess.run(other.args, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=5)
        rc, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired as e:
        rc, err = "still running after 5 s", str(e.stderr)
    other.cleanup()
    TAP.ok(rc == 1 and "--metrics 127.0.0.1:%d" % d.mport in err,
           "metrics: a --metrics port in use stops the start, named",
           "rc %r, stderr %r" % (rc, err[-400:]))

    rc, _ = d.stop()
    try:
        with open(d.mfile) as f:
            mf = parse_metrics(f.read())
    except OSError as e:
        mf = {}
        TAP.diag("metrics file: %s" % e)
    TAP.eq(metric(mf, "nfspamd_tuples_total", outcome="passed"), 1,
           "metrics: --metrics-file holds the totals at exit")
    TAP.ok(not [f for f in os.listdir(os.path.dirname(d.mfile))
                if f.startswith(".nfspamd.prom")],
           "metrics: no temporary file left beside it")


# --------------------------------------------------------------------------

def body(tmp):
    grey = ["-G", "%ds:1h:1h" % PASSTIME, "-S", "0", "-s", "0",
            "--scan-interval", "3600"]
    main_d = Daemon(tmp, "main", grey,
                    domains="example.org\nexample.net\n")
    if not TAP.ok(main_d.start(), "main instance starts and listens"):
        raise RuntimeError("nfspamd does not start")
    g = None
    try:
        g = t_first_attempt(main_d)
    except Exception as e:
        TAP.ok(False, "first attempt: ran to the end", repr(e))
    section("retry", t_retry, main_d, g)
    section("spamtrap", t_spamtrap, main_d)
    section("alloweddomains", t_alloweddomains, main_d)
    section("ipv6", t_ipv6, main_d)
    section("hostile clients", t_hostile, main_d)

    net = Daemon(tmp, "net", grey + ["-N", "24:64"])
    if TAP.ok(net.start(), "-N 24:64 instance starts"):
        section("network", t_network, net)
    net.cleanup()

    black = Daemon(tmp, "black", ["-S", "0", "-s", "0"])
    if TAP.ok(black.start(), "blacklist instance (-s 0) starts"):
        section("blacklist", t_black_sm0, black)
    black.cleanup()

    stut = Daemon(tmp, "stutter", ["-S", "0"])
    if TAP.ok(stut.start(), "stutter instance (default -s 1) starts"):
        section("stutter", t_black_stutter, stut)
    stut.cleanup()

    d550 = Daemon(tmp, "550", ["-5", "-S", "0", "-s", "0"])
    if TAP.ok(d550.start(), "-5 instance starts"):
        section("-5", t_black_550, d550)
    d550.cleanup()

    lowprio = Daemon(tmp, "lowprio", ["-M", "127.0.0.2", "--mx-grace",
                                      "0", "-S", "0", "-s", "0"],
                     listen=("127.0.0.1", "127.0.0.2"))
    if TAP.ok(lowprio.start(), "-M instance starts"):
        section("-M", t_lowprio, lowprio)
    lowprio.cleanup()

    maxcon = Daemon(tmp, "maxcon", ["-c", "3", "-B", "3", "-S", "0",
                                    "-s", "0"])
    if TAP.ok(maxcon.start(), "-c 3 -B 3 instance starts"):
        section("maxcon", t_maxcon, maxcon)
    maxcon.cleanup()

    fl = Daemon(tmp, "flood", ["-S", "0", "-s", "0",
                               "--max-tuples-per-ip", "20",
                               "--db-max-size", "1"])
    if TAP.ok(fl.start(), "--max-tuples-per-ip 20 --db-max-size 1 "
                          "instance starts"):
        section("flood", t_flood, fl)
    fl.cleanup()

    dur = Daemon(tmp, "durable", ["-j", "2", "--db-sync-ms", "0",
                                  "-S", "0", "-s", "0"])
    if TAP.ok(dur.start(), "-j 2 --db-sync-ms 0 instance starts"):
        section("durable", t_durable, dur)
    dur.cleanup()
    section("journal replay", t_journal_replay, tmp)

    mport = free_port(["127.0.0.1"])
    mfile = os.path.join(tmp, "nfspamd.prom")
    met = Daemon(tmp, "metrics", ["-G", "%ds:1h:1h" % PASSTIME, "-S", "0",
                                  "-s", "0", "--metrics",
                                  "127.0.0.1:%d" % mport,
                                  "--metrics-file", mfile])
    met.mport, met.mfile = mport, mfile
    if TAP.ok(met.start(), "--metrics instance starts"):
        section("metrics", t_metrics, met)
    met.cleanup()

    two = Daemon(tmp, "workers", ["-j", "2", "-S", "0", "-s", "0"])
    if TAP.ok(two.start(), "-j 2 instance starts"):
        section("-j 2", t_workers, two)
    two.cleanup()

    refused = [(n, r) for n, r in STARTS if r]
    TAP.ok(STARTS and not refused,
           "every start: connections are accepted as soon as the "
           "listening line is logged (%d of %d starts refused)"
           % (len(refused), len(STARTS)),
           *["%s: refused on %s" % (n, ", ".join(r))
             for n, r in refused])

    section("SIGTERM", t_sigterm, main_d)
    section("usage errors", t_usage, tmp)


def main():
    for prog in (NFSPAMD, NFSPAMDB):
        if not os.access(prog, os.X_OK):
            print("Bail out! no executable %s (set NFSPAMD / NFSPAMDB)"
                  % prog, flush=True)
            return 1
    return nfstest.run(TAP, DAEMONS, "nfspamd-it.", WATCHDOG, body, 8)


if __name__ == "__main__":
    sys.exit(main())
