# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""What the Python integration tests share: TAP output, the watchdog's
exception, a daemon's log file and control socket, and (for the tests
built on nfspamd.py) that module itself.

Imported from tests/integration/*.py through their own path, so it works
from the source tree and from a distcheck copy alike.
"""

import importlib.util
import os
import re
import socket
import time


def nfspamd_it():
    """tests/integration/nfspamd.py as a module: its Daemon, Client,
    dialogue and TAP, for the tests that start nfspamd in other ways."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "integration", "nfspamd.py")
    spec = importlib.util.spec_from_file_location("nfspamd_it", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def selected(name):
    """Whether to run the section called name: every one, unless
    NFS_SECTIONS lists some (comma-separated, exact names)."""
    want = os.environ.get("NFS_SECTIONS", "")
    return not want or name in [w.strip() for w in want.split(",")]


class Watchdog(Exception):
    pass


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = []

    def ok(self, cond, desc, *diag, todo=None):
        """One check.  With todo (a known bug, the reason), a failure is
        reported as "# TODO" and does not fail the run; a pass then shows
        up as an unexpected pass, so the mark gets removed."""
        self.n += 1
        desc = desc.replace("#", "no.")
        mark = " # TODO %s" % todo.replace("#", "no.") if todo else ""
        print("%s %d - %s%s" % ("ok" if cond else "not ok", self.n, desc,
                                mark), flush=True)
        if not cond:
            if not todo:
                self.failed.append("%d - %s" % (self.n, desc))
            for d in diag:
                self.diag(d)
        return bool(cond)

    def skip(self, why, n=1):
        """n checks that do not apply to this run (root or not, say)."""
        for _ in range(n):
            self.n += 1
            print("ok %d # SKIP %s" % (self.n, why.replace("#", "no.")),
                  flush=True)

    def eq(self, got, want, desc, *diag):
        return self.ok(got == want, desc, "want: %r" % (want,),
                       "got:  %r" % (got,), *diag)

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line, flush=True)


class DaemonLog:
    """A daemon started with its output in self.logpath, its process in
    self.proc (None when not running) and its control socket at
    self.ctl."""

    def mark(self):
        """An offset: what the log holds from here on is new."""
        try:
            return os.path.getsize(self.logpath)
        except OSError:
            return 0

    def log(self, since=0):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, pattern, since=0, timeout=3.0, poll=0.02):
        """The first match of pattern in the log after offset since,
        polling until timeout; None if it never shows up."""
        rx = re.compile(pattern, re.M)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(since))
            if m is not None:
                return m
            if time.monotonic() > end:
                return None
            if self.proc is not None and self.proc.poll() is not None:
                # Dead: one last look, then give up.
                return rx.search(self.log(since))
            time.sleep(poll)

    def wait_count(self, pattern, n, since=0, timeout=3.0):
        """True once pattern matches at least n times after since."""
        rx = re.compile(pattern, re.M)
        end = time.monotonic() + timeout
        while len(rx.findall(self.log(since))) < n:
            if time.monotonic() > end:
                return False
            time.sleep(0.02)
        return True

    def log_tail(self, since=0, n=15):
        return "\n".join(self.log(since).splitlines()[-n:])

    def control(self, text, timeout=5.0):
        """Send text, shut down writing, return the whole reply."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.ctl)
            s.sendall(text.encode())
            s.shutdown(socket.SHUT_WR)
            return recv_all(s).decode("utf-8", "replace")
        finally:
            s.close()


    def settled(self):
        """True once an empty request on the control socket is answered.
        Connections queue on the socket in order, so whatever reached it
        before has been read, applied and logged by then: a test can
        look for a line that must not be there without sleeping."""
        try:
            return self.control("").startswith("ok ")
        except OSError:
            return False


_PORTS_GIVEN = set()


def wait_for(fn, timeout=5.0):
    """fn() until it is true or timeout seconds passed; its last value."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.05)


def sync_white_packet(key_text, counter, ts, expire, ip):
    """spamlogd's WHITE sync message, laid out from the spec's tables; for
    an IPv6 address, nfspamd's extension (af 10, a 16-byte address)."""
    import hashlib
    import hmac
    import struct
    if ":" in ip:
        af, raw = 10, socket.inet_pton(socket.AF_INET6, ip)
    else:
        af, raw = 2, socket.inet_aton(ip)
    tlv = struct.pack(">HHII", 2, 12 + len(raw), ts, expire) + raw
    body = tlv + struct.pack(">HH", 0, 4)
    hdr = struct.pack(">BBHI", 2, af, 32 + len(body), counter)
    p = hdr + bytes(24) + body
    mac = hmac.new(key_text, p, hashlib.sha1).digest()
    return p[:8] + mac + p[28:]


def recv_exact(s, n):
    """n bytes from s, or fewer if it closes first."""
    out = b""
    while len(out) < n:
        d = s.recv(n - len(out))
        if not d:
            break
        out += d
    return out


def recv_all(s, chunk=65536):
    """Everything s sends until it closes its side (its timeout holds)."""
    out = b""
    while True:
        d = s.recv(chunk)
        if not d:
            return out
        out += d


def free_port(addrs=("127.0.0.1",)):
    """A TCP port free on every address in addrs and on its family's
    wildcard, below the kernel's range for ephemeral ports: a client
    socket of another test running at the same time never holds it."""
    import random
    import socket
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    first = max(1024, low - 12000)
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(first, low)
        if port in _PORTS_GIVEN:
            continue
        wild = {"0.0.0.0" if ":" not in a else "::" for a in addrs}
        socks = []
        try:
            for a in list(addrs) + sorted(wild):
                s = socket.socket(socket.AF_INET6 if ":" in a else
                                  socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                if ":" in a:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((a, port))
                socks[-1].close()
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        _PORTS_GIVEN.add(port)
        return port
    raise RuntimeError("no free port on %s" % (addrs,))


def run(tap, daemons, prefix, watchdog, body, log_lines=8):
    """A test script's main: a temporary directory, a watchdog, body(tmp)
    with any exception reported as a failed check, then finish().
    Returns the exit status."""
    import signal
    import tempfile
    tmp = tempfile.mkdtemp(prefix=prefix)
    t_start = time.monotonic()

    def on_alarm(signum, frame):
        raise Watchdog("watchdog after %d s" % watchdog)

    def on_term(signum, frame):
        raise Watchdog("stopped by signal %d" % signum)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.alarm(watchdog)
    try:
        body(tmp)
    except Watchdog as e:
        tap.ok(False, "finished in time, uninterrupted", str(e))
    except Exception as e:
        tap.ok(False, "test script ran to the end",
               "%s: %s" % (type(e).__name__, e))
    finally:
        signal.alarm(0)
        status = finish(tap, daemons, tmp, t_start, log_lines)
    return status


def finish(tap, daemons, tmp, t_start, log_lines=8):
    """The end of a run, whatever happened: stop every daemon, show the
    logs' last lines when something failed, remove tmp, print the plan.
    Returns the exit status."""
    import shutil
    for d in daemons:
        try:
            d.cleanup()
        except Exception as e:
            tap.diag("cleanup of %s: %r" % (d.name, e))
    if tap.failed:
        for d in daemons:
            tap.diag("--- log of %s (last lines)" % d.name)
            tap.diag(d.log_tail(n=log_lines))
    shutil.rmtree(tmp, ignore_errors=True)
    tap.diag("run time %.1f s" % (time.monotonic() - t_start))
    print("1..%d" % tap.n, flush=True)
    return 1 if tap.failed else 0
