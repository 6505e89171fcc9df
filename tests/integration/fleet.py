#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamd on a shared store (--store): two daemons
and one real redis-server (started here, on a Unix socket in the test's
directory, without persistence).  A sender greylisted on one daemon
passes on the other; the first one's kernel-set stand-in (--firewall
none logs op=white) follows through the store's stream; a trapped
entry written elsewhere tarpits the client at its next connection; the
server going away leaves SMTP answering at once, and the daemons take
up where they were when it is back.  Unprivileged, loopback only, TAP
on stdout.

Environment: NFSPAMD, NFSPAMDB, top_builddir, top_srcdir (as nfspamd.py).
"""

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
it = nfstest.nfspamd_it()
TAP = it.TAP
WATCHDOG = 120
REDIS = "/usr/bin/redis-server"
CLI = "/usr/bin/redis-cli"


class Redis:
    """A redis-server of our own, on DIR/redis.sock."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "redis.sock")
        self.url = "unix:" + self.sock
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS, "--port", "0", "--unixsocket", self.sock,
             "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--logfile",
             os.path.join(self.dir, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        return nfstest.wait_for(lambda: self.cli("PING") == "PONG", 5)

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def cli(self, *args):
        r = subprocess.run([CLI, "-s", self.sock] + list(args),
                           capture_output=True, text=True, timeout=5)
        return r.stdout.strip()


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=5) as f:
        return f.read().decode()


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def t_refused(tmp, rds):
    r = subprocess.run([it.NFSPAMD, "-d", "--firewall", "none", "--store",
                        rds.url, "--db-sync-ms", "0"],
                       capture_output=True, text=True, timeout=10)
    TAP.ok(r.returncode == 1 and "journal is LMDB's" in r.stderr,
           "--db-sync-ms 0 with --store is refused", r.stderr.strip())
    r = subprocess.run([it.NFSPAMD, "-d", "--store",
                        "redis://:secret@127.0.0.1"],
                       capture_output=True, text=True, timeout=10)
    TAP.ok(r.returncode == 1 and "--store-password-file" in r.stderr,
           "a password in the URL is refused", r.stderr.strip())
    r = subprocess.run([it.NFSPAMD, "-d", "--store", "redis://h:0"],
                       capture_output=True, text=True, timeout=10)
    TAP.ok(r.returncode == 1 and "port" in r.stderr,
           "port 0 is refused, naming the port", r.stderr.strip())


def t_fleet(tmp, rds):
    common = ["-S", "0", "-s", "0", "-G", "2s:1h:1h", "--store", rds.url,
              "--scan-interval", "1"]
    mport = it.free_port(["127.0.0.1"])
    a = it.Daemon(tmp, "a", common + ["--metrics", "127.0.0.1:%d" % mport],
                  listen=("127.0.0.1",))
    b = it.Daemon(tmp, "b", common, listen=("127.0.0.1",))
    if not (TAP.ok(a.start(), "node a starts on the shared store") and
            TAP.ok(b.start(), "node b starts on the shared store")):
        return
    for d in (a, b):
        TAP.ok(d.wait_log(r"shared store unix:\S+: following its "
                          r"events") is not None,
               "node %s follows the store's events" % d.name)

    # Greylisted on a: the tuple is in the server, with its TTL.
    since_a = a.mark()
    r = it.dialogue(a.port, "127.0.0.20", "<bob@example.org>")
    TAP.eq(r["data"], it.R_GREY, "node a greylists (451)")
    TAP.ok(a.wait_log(r"greylisted ip=127\.0\.0\.20 .*new=1", since_a)
           is not None, "node a logs the new tuple", a.log_tail(since_a))
    TAP.eq(rds.cli("HLEN", "nfspamd:g:127.0.0.20"), "1",
           "the tuple is a field of nfspamd:g:127.0.0.20")
    ttl = int(rds.cli("TTL", "nfspamd:g:127.0.0.20") or -1)
    TAP.ok(3000 < ttl <= 3600, "its hash expires with it (greyexp 1h)",
           "TTL %d" % ttl)

    # The retry reaches b, after passtime: passed, WHITE for the fleet.
    time.sleep(3.1)
    since_a, since_b = a.mark(), b.mark()
    t0 = time.time()
    r = it.dialogue(b.port, "127.0.0.20", "<bob@example.org>")
    TAP.eq(r["data"], it.R_GREY, "node b: the retry still gets 451")
    TAP.ok(b.wait_log(r"passed ip=127\.0\.0\.20 .*attempts=2", since_b)
           is not None, "node b passes the tuple node a greylisted",
           b.log_tail(since_b))
    m = a.wait_log(r"firewall=none op=white ip=127\.0\.0\.20 ", since_a)
    TAP.ok(m is not None, "node a's kernel sets follow b's pass (stream)",
           a.log_tail(since_a))
    TAP.diag("pass on b -> op=white on a: %.0f ms" %
             ((time.time() - t0) * 1000))
    ttl = int(rds.cli("TTL", "nfspamd:a:127.0.0.20") or -1)
    TAP.ok(3000 < ttl <= 3600, "the WHITE entry expires by its TTL "
           "(whiteexp 1h)", "TTL %d" % ttl)
    TAP.ok(rds.cli("ZSCORE", "nfspamd:white", "127.0.0.20") != "",
           "the address is in the sorted set nfspamd:white")

    # The MTA's policy service reads the OS the store holds.
    os_key = rds.cli("EXISTS", "nfspamd:os:127.0.0.20")
    TAP.eq(os_key, "1", "the sender's OS is in the store (nfspamd:os:)")
    policy = os.environ.get("NFSPAMD_POLICY") or os.path.join(
        os.environ.get("top_builddir", "."), "src", "nfspamd-policy",
        "nfspamd-policy")
    r = subprocess.run([policy, "--store", rds.url],
                       input="request=smtpd_access_policy\n"
                       "client_address=127.0.0.20\n\n",
                       capture_output=True, text=True, timeout=10)
    TAP.ok(r.returncode == 0 and r.stdout.startswith(
        "action=PREPEND X-OS-Fingerprint: Linux"),
        "nfspamd-policy --store answers from the shared store",
        r.stdout + r.stderr)

    # nfspamdb reads the same store.
    r = subprocess.run([it.NFSPAMDB, "--store", rds.url],
                       capture_output=True, text=True, timeout=10)
    TAP.ok(r.returncode == 0 and "WHITE|127.0.0.20|" in r.stdout,
           "nfspamdb --store lists the WHITE entry", r.stdout + r.stderr)

    # A trap set elsewhere: the next connection to a is tarpitted.
    r = subprocess.run([it.NFSPAMDB, "--store", rds.url, "-a", "-t",
                        "127.0.0.21"], capture_output=True, text=True,
                       timeout=10)
    TAP.eq(r.returncode, 0, "nfspamdb --store -a -t traps 127.0.0.21",
           r.stderr)
    since_a = a.mark()
    it.dialogue(a.port, "127.0.0.21", "<bob@example.org>")
    TAP.ok(a.wait_log(r'connected ip=127\.0\.0\.21 .*black=1 '
                      r'lists="spamd-greytrap"', since_a) is not None,
           "node a reads the trap at connect (off the loop)",
           a.log_tail(since_a))

    # The server goes: SMTP answers at once, the tuple is lost, said so.
    since_a = a.mark()
    rds.stop()
    t0 = time.time()
    r = it.dialogue(a.port, "127.0.0.22", "<carol@example.org>")
    took = time.time() - t0
    TAP.eq(r["data"], it.R_GREY, "store down: still 451 to a new sender")
    TAP.ok(took < 3.0, "store down: the dialogue took %.2f s" % took)
    TAP.ok(a.wait_log(r"worker=\d+: shared store: .*SMTP goes on", since_a)
           is not None, "store down: a worker says so once",
           a.log_tail(since_a))
    TAP.ok(a.wait_log(r"shared store unix:\S+: .*the kernel sets follow "
                      r"it again once it is back", since_a) is not None,
           "store down: the supervisor lost the stream, says so")
    text = metrics(mport)
    lost = re.search(r'^nfspamd_tuples_total\{outcome="lost"\} (\S+)$',
                     text, re.M)
    TAP.ok(lost is not None and float(lost.group(1)) >= 1,
           "store down: the tuple counts as lost",
           lost.group(0) if lost else "no such sample")
    TAP.eq(metric(text, "nfspamd_shared_store_up"), 0.0,
           "store down: nfspamd_shared_store_up 0")

    # Back (empty: no persistence here): the nodes take up again.
    since_a = a.mark()
    TAP.ok(rds.start(), "the server is back")
    TAP.ok(a.wait_log(r"shared store unix:\S+: following its events",
                      since_a, timeout=10) is not None,
           "the supervisor follows the events again")
    r = it.dialogue(a.port, "127.0.0.22", "<carol@example.org>")
    TAP.ok(a.wait_log(r"worker=\d+: shared store unix:\S+ is back after",
                      since_a, timeout=5) is not None,
           "the worker says the store is back", a.log_tail(since_a))
    TAP.ok(a.wait_log(r"greylisted ip=127\.0\.0\.22 .*new=1", since_a)
           is not None, "and greylists into it again")
    TAP.eq(rds.cli("HLEN", "nfspamd:g:127.0.0.22"), "1",
           "the new tuple is in the server")
    TAP.eq(metric(metrics(mport), "nfspamd_shared_store_up"), 1.0,
           "nfspamd_shared_store_up 1")
    for d in (a, b):
        rc, _ = d.stop()
        TAP.eq(rc, 0, "node %s: SIGTERM, exit 0" % d.name)


def body(tmp):
    rds = Redis(tmp)
    if not (os.access(REDIS, os.X_OK) and os.access(CLI, os.X_OK)):
        TAP.skip("no redis-server here (tests/install-deps installs it)",
                 1)
        return
    if not TAP.ok(rds.start(), "redis-server starts"):
        return
    try:
        for name, fn in (("refused", t_refused), ("fleet", t_fleet)):
            if nfstest.selected(name):
                TAP.diag("--- " + name)
                fn(tmp, rds)
    finally:
        rds.stop()
        shutil.rmtree(rds.dir, ignore_errors=True)


def main():
    for prog in (it.NFSPAMD, it.NFSPAMDB):
        if not os.access(prog, os.X_OK):
            print("Bail out! no executable %s" % prog, flush=True)
            return 1
    return nfstest.run(TAP, it.DAEMONS, "nfspamd-fleet.", WATCHDOG, body,
                       20)


if __name__ == "__main__":
    sys.exit(main())
