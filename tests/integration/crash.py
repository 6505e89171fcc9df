#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Crash safety under load: kill -9 nfspamd's supervisor, or one of its
workers, while clients run greylisting dialogues, again and again, with
the grouped (--db-sync-ms 1000) and the durable (--db-sync-ms 0) store.
After every kill the database must open cleanly (nfspamdb lists it, and
the next nfspamd starts on it) and hold every tuple whose 451 a client
received: the promise of nfspamd(8), section Durability.

CRASH_KILLS (default 100) is the number of kills per mode and target, so
4 x CRASH_KILLS in all.  Loopback only, TAP on stdout.
Environment: NFSPAMD, NFSPAMDB, top_builddir (as nfspamd.py).
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
it = nfstest.nfspamd_it()
TAP = it.TAP
KILLS = int(os.environ.get("CRASH_KILLS", "100"))
CLIENTS = 6
WATCHDOG = 60 + KILLS * 6


class Load:
    """CLIENTS threads running dialogues, each with a tuple of its own,
    until stopped; what got its 451 is in acked."""

    def __init__(self, port, tag):
        self.port = port
        self.tag = tag
        self.acked = set()
        self.sent = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,),
                                         daemon=True)
                        for i in range(CLIENTS)]

    def run(self, i):
        src = "127.0.3.%d" % (i + 1)
        n = 0
        while not self.stop.is_set():
            rcpt = "<%s-%d-%d@example.org>" % (self.tag, i, n)
            n += 1
            if self.one(src, rcpt):
                with self.lock:
                    self.acked.add((src, rcpt))

    def one(self, src, rcpt):
        """True when DATA got the 451: the tuple is promised kept."""
        try:
            c = it.Client(src, self.port, timeout=2)
        except OSError:
            time.sleep(0.005)
            return False
        try:
            c.line()
            c.cmd(b"HELO crash.example\r\n")
            c.cmd(b"MAIL FROM:<a@crash.example>\r\n")
            # RCPT and DATA in one segment: both are read, and both
            # replies made, in the loop iteration that queues the tuple.
            with self.lock:
                self.sent += 1
            c.send(b"RCPT TO:" + rcpt.encode() + b"\r\nDATA\r\n")
            return c.reply().startswith(b"250 ") and \
                c.reply().startswith(b"451 ")
        except OSError:
            return False
        finally:
            c.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(5)


def grey_tuples(db):
    """(rc, {(ip, rcpt)}) of the database's GREY entries."""
    r = subprocess.run([it.NFSPAMDB, "--db", db], capture_output=True,
                       text=True, timeout=30)
    got = set()
    for line in r.stdout.splitlines():
        f = line.split("|")
        if f[0] == "GREY" and len(f) >= 5:
            got.add((f[1], f[4]))
    return r.returncode, r.stderr, got


def kill9(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass        # it went meanwhile


def gone(pid, timeout=5.0):
    end = time.monotonic() + timeout
    while it.alive(pid) and time.monotonic() < end:
        time.sleep(0.01)
    return not it.alive(pid)


def one_round(d, mode, target, k, rng, totals):
    """Start, load, kill -9 the target, check.  False ends the mode."""
    if not d.start():
        TAP.ok(False, "%s: nfspamd starts again on the database after "
               "kill %d" % (mode, k), d.log_tail())
        return False
    workers = d.worker_pids()
    sup = d.proc.pid
    with Load(d.port, "%s%s%d" % (mode[0], target[0], k)) as load:
        # Until a few tuples are acknowledged, then a moment more: the
        # kill lands among dialogues in flight.
        end = time.monotonic() + 5
        while len(load.acked) < 3 and time.monotonic() < end:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.05))
        victim = sup if target == "supervisor" or not workers \
            else workers[0]
        kill9(victim)
        gone(victim)
        load.stop.set()
    acked = set(load.acked)
    rc, err, got = grey_tuples(d.db)
    missing = acked - got
    totals["acked"] += len(acked)
    totals["sent"] += load.sent
    totals["rounds"] += 1
    if rc != 0 or missing:
        TAP.ok(False, "%s, kill -9 %s %d: the database opens and holds "
               "every acknowledged tuple" % (mode, target, k),
               "nfspamdb rc %d: %s" % (rc, err.strip()),
               "%d of %d acknowledged tuples missing, e.g. %r"
               % (len(missing), len(acked), sorted(missing)[:3]))
        return False
    # Whatever is left goes down hard too; workers of a dead supervisor
    # leave on their own.
    if d.proc.poll() is None:
        kill9(d.proc.pid)
    d.proc.wait(5)
    for w in workers:
        if not gone(w, 30):
            kill9(w)
    return True


def run_mode(tmp, mode, flags):
    # No limit per address: six sources make thousands of tuples here.
    d = it.Daemon(tmp, mode, ["-S", "0", "-s", "0", "-j", "1",
                              "--scan-interval", "3600",
                              "--max-tuples-per-ip", "0"] + flags,
                  listen=("127.0.0.1",))
    rng = random.Random(mode)
    for target in ("supervisor", "worker"):
        totals = {"acked": 0, "sent": 0, "rounds": 0}
        ok = True
        for k in range(KILLS):
            if not one_round(d, mode, target, k, rng, totals):
                ok = False
                break
        TAP.ok(ok and totals["rounds"] == KILLS,
               "%s: %d kill -9 of the %s under load; every time the "
               "database opened and held all %d acknowledged tuples "
               "(%d RCPTs sent)" % (mode, totals["rounds"], target,
                                    totals["acked"], totals["sent"]))
    rc, err, got = grey_tuples(d.db)
    TAP.ok(d.start() and rc == 0,
           "%s: after it all nfspamd starts and the database lists %d "
           "tuples" % (mode, len(got)), err)
    d.cleanup()


def body(tmp):
    if nfstest.selected("grouped"):
        run_mode(tmp, "grouped", ["--db-sync-ms", "1000"])
    if nfstest.selected("durable"):
        run_mode(tmp, "durable", ["--db-sync-ms", "0"])


def main():
    return nfstest.run(TAP, it.DAEMONS, "nfspamd-crash.", WATCHDOG, body, 12)


if __name__ == "__main__":
    sys.exit(main())
