#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamdb --stats: the database part (entries by
type, oldest and newest, the top lists), the totals of a running nfspamd
read over its control socket, --json, and what is printed when nfspamd
is not there, hangs up, or answers nonsense.  Loopback only, TAP on
stdout.

Environment: NFSPAMD, NFSPAMDB, top_builddir (as nfspamd.py).
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
it = nfstest.nfspamd_it()
TAP = it.TAP
WATCHDOG = 60
PASSTIME = 2


def stats(db, *args, control=None):
    """nfspamdb --db db --stats [--control control] args: (rc, out, err)."""
    cmd = [it.NFSPAMDB, "--db", db, "--stats"]
    if control is not None:
        cmd += ["--control", control]
    r = subprocess.run(cmd + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=20)
    return (r.returncode, r.stdout.decode("utf-8", "replace"),
            r.stderr.decode("utf-8", "replace"))


def stats_json(db, *args, control=None):
    """The same with --json: (rc, the object or None, out, err)."""
    rc, out, err = stats(db, "--json", *args, control=control)
    try:
        obj = json.loads(out)
    except ValueError as e:
        TAP.diag("not JSON (%s): %r" % (e, out[:300]))
        obj = None
    return rc, obj, out, err


def nfspamdb(*args, stdin=None):
    r = subprocess.run([it.NFSPAMDB] + list(args), input=stdin,
                       capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout, r.stderr


class FakeDaemon:
    """A control socket that answers one connection with the bytes given,
    after reading the request to EOF; None: hang up without reading.
    With drip, a line every drip seconds."""

    def __init__(self, path, answer, drip=None):
        self.path = path
        self.answer = answer
        self.drip = drip
        self.request = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(10)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        try:
            c.settimeout(5)
            if self.answer is not None:
                self.request = nfstest.recv_all(c)
                if self.drip is None:
                    c.sendall(self.answer)
                for line in (self.answer.splitlines(True)
                             if self.drip is not None else []):
                    c.sendall(line)
                    time.sleep(self.drip)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.thread.join(10)
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


# An answer as nfspamd's expose.c writes it, the totals and a few more.
GOOD = b"""# HELP nfspamd_build_info Always 1; the version of the running nfspamd.
# TYPE nfspamd_build_info gauge
nfspamd_build_info{version="1.2.3"} 1
nfspamd_start_time_seconds 1796000000
nfspamd_workers 1
nfspamd_connections_total{class="grey"} 11
nfspamd_connections_total{class="black"} 12
nfspamd_connections_total{class="trapped"} 13
nfspamd_connections_total{class="white"} 14
nfspamd_connections{class="grey"} 0
nfspamd_connections_refused_total 15
nfspamd_tuples_total{outcome="greylisted_new"} 21
nfspamd_tuples_total{outcome="greylisted_again"} 22
nfspamd_tuples_total{outcome="passed"} 0
nfspamd_tuples_total{outcome="trapped_spamtrap"} 24
nfspamd_tuples_total{outcome="trapped_alloweddomains"} 25
nfspamd_tuples_total{outcome="trapped_lowprio_mx"} 26
nfspamd_tuples_total{outcome="skipped"} 27
nfspamd_tuples_total{outcome="capped"} 28
nfspamd_tuples_total{outcome="lost"} 29
nfspamd_blacklisted_connections_total{list="(other)"} 0
nfspamd_passed_wait_seconds_bucket{le="+Inf"} 0
nfspamd_db_entries{type="grey"} 3
"""


def unavailable_lines(out):
    return [l for l in out.splitlines() if "totals unavailable" in l]


# --------------------------------------------------------------------------

def make_db(tmp, name):
    """A database with a WHITE, a TRAPPED and a SPAMTRAP entry, and four
    GREY tuples of three addresses, one expired."""
    db = os.path.join(tmp, name)
    for args in (["-a", "192.0.2.1"], ["-a", "-t", "192.0.2.9"],
                 ["-a", "-T", "trap@example.com"]):
        rc, out, err = nfspamdb("--db", db, *args)
        if rc != 0:
            TAP.diag("nfspamdb %s: rc %d %s" % (" ".join(args), rc, err))
    # Tuples with a hostile HELO, and the old and new of each kind.
    lines = (b"GREY|198.51.100.7|evil\"\\\x01\xff|<a@b>|<c@d>|"
             b"1700000000|1700000100|4102444800|7|0\n"
             b"GREY|198.51.100.7|h|<a@b>|<e@d>|1700000500|1700000600|"
             b"4102444800|2|0\n"
             b"GREY|198.51.100.8|h|<x@y>|<z@w>|1750000000|1750000100|"
             b"4102444800|1|0\n"
             b"GREY|198.51.100.9|h|<x@y>|<z@w>|1600000000|1600000100|"
             b"1600003600|1|0\n")
    r = subprocess.run([it.NFSPAMDB, "--db", db, "--import", "-"],
                       input=lines, capture_output=True, timeout=10)
    if r.returncode != 0:
        TAP.diag("nfspamdb --import: %s" % r.stderr.decode())
    return db


def t_no_daemon(tmp):
    db = make_db(tmp, "plain-db")
    sock = os.path.join(tmp, "nobody.sock")
    rc, out, err = stats(db, control=sock)
    TAP.ok(rc == 0 and err == "", "no daemon: exit 0, nothing on stderr",
           "rc %r err %r" % (rc, err))
    lines = out.splitlines()
    TAP.ok(any(re.fullmatch(r"GREY +4 +1 +2020-\d\d-\d\d [0-9:]{8}  "
                            r"2025-\d\d-\d\d [0-9:]{8}", l) for l in lines),
           "no daemon: the GREY row: 4 entries, 1 expired, oldest and "
           "newest", out)
    TAP.ok(any(re.fullmatch(r"WHITE +1 +0 .*", l) for l in lines) and
           any(re.fullmatch(r"TRAPPED +1 +0 .*", l) for l in lines) and
           any(re.fullmatch(r"SPAMTRAP +1 +- +- +-", l) for l in lines),
           "no daemon: WHITE, TRAPPED and SPAMTRAP rows", out)
    TAP.ok("GREY tuples come from 3 addresses." in lines,
           "no daemon: the addresses with tuples are counted", out)
    u = unavailable_lines(out)
    TAP.ok(len(u) == 1 and sock in u[0] and "No such file or directory"
           in u[0] and "is nfspamd running" in u[0],
           "no daemon: one line says the totals are unavailable and why",
           out)
    TAP.ok("nfspamd totals since start" not in out,
           "no daemon: no totals made up", out)
    top = out[out.find("most greylisted"):]
    TAP.ok(re.search(r"^ +9 +2  198\.51\.100\.7$", top, re.M) and
           top.find("198.51.100.7") < top.find("198.51.100.8"),
           "no daemon: most greylisted: attempts summed per address, "
           "the most first", out)
    TAP.ok(re.search(r"^oldest GREY +198\.51\.100\.9 helo=h ", out, re.M)
           and re.search(r"^newest GREY +198\.51\.100\.8 ", out, re.M),
           "no daemon: the oldest and newest GREY tuples are named", out)
    TAP.ok("\x01" not in out and "\xff" not in out,
           "no daemon: the hostile HELO is not printed raw",
           repr(out[:2000]))

    rc, obj, out, err = stats_json(db, control=sock)
    ok = TAP.ok(rc == 0 and obj is not None, "--json, no daemon: exit 0, "
                "one JSON object", "rc %r err %r" % (rc, err))
    if not ok:
        return
    TAP.eq(out.count("\n"), 1, "--json: one line")
    e = obj["entries"]
    TAP.eq((e["white"]["count"], e["grey"]["count"], e["trapped"]["count"],
            e["spamtrap"]["count"], e["grey"]["addresses"],
            e["grey"]["expired"]), (1, 4, 1, 1, 3, 1),
           "--json: entries by type, addresses, expired")
    TAP.eq((e["grey"]["oldest"]["time"], e["grey"]["oldest"]["ip"],
            e["grey"]["newest"]["time"], e["grey"]["newest"]["ip"]),
           (1600000000, "198.51.100.9", 1750000000, "198.51.100.8"),
           "--json: the oldest and newest GREY tuple, by first attempt")
    TAP.ok(e["spamtrap"]["oldest"] is None and e["white"]["oldest"]["ip"]
           == "192.0.2.1", "--json: spamtraps have no time; WHITE has")
    TAP.eq([(t["ip"], t["attempts"], t["tuples"])
            for t in obj["top_greylisted"]],
           [("198.51.100.7", 9, 2), ("198.51.100.8", 1, 1),
            ("198.51.100.9", 1, 1)],
           "--json: top_greylisted, attempts summed over the tuples")
    TAP.eq([(t["ip"], t["attempts"]) for t in obj["top_trapped"]],
           [("192.0.2.9", 1)], "--json: top_trapped")
    d = obj["daemon"]
    TAP.ok(d["available"] is False and d["control"] == sock and
           "No such file or directory" in d["error"],
           "--json, no daemon: available false, with the reason", repr(d))

    # The hostile HELO as the oldest: escaped in JSON, intact.
    r = subprocess.run([it.NFSPAMDB, "--db", db, "--import", "-"],
                       input=b"GREY|198.51.100.7|evil\"\\\x01\xff|<a@b>|<c@d>"
                       b"|1500000000|1500000100|4102444800|7|0\n",
                       capture_output=True, timeout=10)
    rc, obj, out, err = stats_json(db, control=sock)
    TAP.ok(obj is not None and obj["entries"]["grey"]["oldest"]["helo"]
           == "evil\"\\\x01\xff" and "\\u0001\\u00ff" in out,
           "--json: a HELO from the network is escaped, nothing lost",
           repr(out[:600]))
    TAP.eq(obj and [t["ip"] for t in obj["top_greylisted"]][:1],
           ["198.51.100.7"], "--json: the top list still holds")

    rc, obj, out, err = stats_json(db, "--top", "1", control=sock)
    TAP.ok(obj is not None and len(obj["top_greylisted"]) == 1 and
           obj["top"] == 1, "--top 1: one address in each list")
    rc, obj, out, err = stats_json(db, "--top", "0", control=sock)
    TAP.ok(obj is not None and obj["top_greylisted"] == [] and
           obj["top_trapped"] == [], "--top 0: no top lists")

    # A socket nobody listens on.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead = os.path.join(tmp, "dead.sock")
    s.bind(dead)
    rc, out, err = stats(db, control=dead)
    u = unavailable_lines(out)
    TAP.ok(rc == 0 and len(u) == 1 and "Connection refused" in u[0] and
           "nobody listens there" in u[0],
           "a socket nobody listens on: refused, and said so", out)
    s.close()
    # A socket in a missing directory.
    rc, out, err = stats(db, control=os.path.join(tmp, "no", "ctl.sock"))
    u = unavailable_lines(out)
    TAP.ok(rc == 0 and len(u) == 1 and os.path.join(tmp, "no") in u[0],
           "a missing directory: named", out)


def t_fake_daemon(tmp):
    """Answers nfspamd never gives: each says why, the rest is printed."""
    db = make_db(tmp, "fake-db")
    sock = os.path.join(tmp, "fake.sock")
    good = GOOD
    cases = [
        (b"", "nfspamd closed the connection without an answer"),
        (b"error: out of memory\n", 'nfspamd answered "error: out of '
                                    'memory"'),
        (good[:len(good) // 2], "bad answer: line "),
        (good.replace(b'outcome="passed"} 0', b'outcome="passed"} -3'),
         'nfspamd_tuples_total{outcome="passed"} is not a count: -3'),
        (b"\x00\xff" * 5000, "bad answer: line 1: "),
        (b"y" * (5 << 20), "answer longer than 4 MiB"),
        (good.replace(b"nfspamd_start_time_seconds",
                      b"nfspamd_start_time_secs"),
         "no nfspamd_start_time_seconds in the answer"),
    ]
    for answer, want in cases:
        f = FakeDaemon(sock, answer)
        rc, out, err = stats(db, control=sock)
        f.close()
        u = unavailable_lines(out)
        TAP.ok(rc == 0 and len(u) == 1 and want in u[0] and
               out.startswith("database ") and "GREY " in out,
               "a daemon answering %r...: the database part, and one line "
               "with %r" % (answer[:24], want), out[-600:], err)
    f = FakeDaemon(sock, None)
    rc, out, err = stats(db, control=sock)
    f.close()
    TAP.ok(rc == 0 and len(unavailable_lines(out)) == 1,
           "a daemon hanging up at once: said so", out[-400:])
    # A line every half second: the 10 s are for the whole answer.
    f = FakeDaemon(sock, GOOD, drip=0.5)
    t = time.monotonic()
    rc, out, err = stats(db, control=sock)
    took = time.monotonic() - t
    f.close()
    u = unavailable_lines(out)
    TAP.ok(rc == 0 and len(u) == 1 and "no answer within 10 s" in u[0]
           and 9 <= took < 12, "a daemon answering slowly: given up after "
           "10 s (%.1f s)" % took, out[-400:])

    hostile = good.replace(b'version="1.2.3"',
                           b'version="v\\"\\n\\\\\x01"')
    f = FakeDaemon(sock, hostile)
    rc, obj, out, err = stats_json(db, control=sock)
    f.close()
    TAP.eq(f.request, b"metrics\n", "the request is exactly metrics\\n, "
           "then EOF")
    TAP.ok(obj is not None and obj["daemon"]["available"] is True and
           obj["daemon"]["version"] == "v\"\n\\\x01",
           "--json: a version label with quotes, newline, backslash and "
           "a control byte: escaped, intact", out[-600:])
    if obj is not None:
        dm = obj["daemon"]
        TAP.eq((dm["start_time"], dm["connections"], dm["tuples"]["lost"],
                dm["passed"], dm["trapped"]),
               (1796000000, {"grey": 11, "black": 12, "trapped": 13,
                             "white": 14, "refused": 15}, 29, 0, 75),
               "--json: the totals as the answer gives them")
    f = FakeDaemon(sock, hostile)
    rc, out, err = stats(db, control=sock)
    f.close()
    TAP.ok(rc == 0 and "\x01" not in out and
           "nfspamd totals since start" in out,
           "plain: the same version made safe", repr(out[-800:]))


def t_daemon(tmp):
    d = it.Daemon(tmp, "stats", ["-G", "%ds:1h:1h" % PASSTIME, "-S", "0",
                                 "-s", "0", "--scan-interval", "3600"],
                  listen=("127.0.0.1",))
    if not TAP.ok(d.start(), "nfspamd starts"):
        return
    t0 = int(time.time())
    for src, rcpt in (("127.0.0.10", "<bob@example.org>"),
                      ("127.0.0.10", "<carol@example.org>"),
                      ("127.0.0.11", "<bob@example.org>")):
        r = it.dialogue(d.port, src, rcpt)
        TAP.eq(r["data"], it.R_GREY, "%s to %s: greylisted" % (src, rcpt))
    # A retry after passtime: one pass.
    g = it.db_find(d.db, "GREY", "127.0.0.11")
    aged = None
    if g:
        aged = it.age_tuple(d.db, g[0], PASSTIME + 1)
        it.dialogue(d.port, "127.0.0.11", "<bob@example.org>")
    # A spamtrap: one trapped address.
    nfspamdb("--db", d.db, "-a", "-T", "trap@example.org")
    it.dialogue(d.port, "127.0.0.20", "<trap@example.org>")
    TAP.ok(d.wait_log(r"trapped ip=127\.0\.0\.20 ") is not None,
           "the spamtrap is hit")

    rc, obj, out, err = stats_json(d.db, control=d.ctl)
    ok = TAP.ok(rc == 0 and obj is not None and
                obj["daemon"]["available"] is True,
                "--json with nfspamd running: its totals are there",
                "rc %r err %r" % (rc, err), out[-600:])
    if ok:
        e, dm = obj["entries"], obj["daemon"]
        TAP.eq((e["grey"]["count"], e["grey"]["addresses"],
                e["white"]["count"], e["trapped"]["count"],
                e["spamtrap"]["count"]), (3, 2, 1, 1, 1),
               "--json: 3 tuples of 2 addresses, 1 WHITE, 1 TRAPPED, "
               "1 SPAMTRAP")
        TAP.eq([(t["ip"], t["tuples"]) for t in obj["top_greylisted"]],
               [("127.0.0.10", 2), ("127.0.0.11", 1)],
               "--json: the most greylisted address first")
        TAP.eq([t["ip"] for t in obj["top_trapped"]], ["127.0.0.20"],
               "--json: the trapped address")
        # 127.0.0.11's tuple was moved back: the oldest.
        TAP.ok(aged is not None and e["grey"]["oldest"]["ip"] ==
               "127.0.0.11" and e["grey"]["oldest"]["time"] ==
               int(aged[5]) and e["grey"]["newest"]["ip"] == "127.0.0.10"
               and t0 - 1 <= e["grey"]["newest"]["time"] <= t0 + 10,
               "--json: oldest and newest tuple", repr(e["grey"]))
        tu, co = dm["tuples"], dm["connections"]
        TAP.eq((tu["greylisted_new"], tu["passed"],
                tu["trapped_spamtrap"], dm["passed"], dm["trapped"]),
               (3, 1, 1, 1, 1),
               "--json: 3 new tuples, 1 passed, 1 trapped by a spamtrap",
               repr(dm))
        # The start's probe connects as well.
        TAP.ok(co["grey"] >= 5 and co["black"] == 0 and
               co["refused"] == 0, "--json: connections by class",
               repr(co))
        TAP.ok(abs(dm["start_time"] - d.started_at) <= 3 and
               0 <= dm["uptime"] <= WATCHDOG,
               "--json: start time and uptime", repr(dm))
        rc2, vout, _ = nfspamdb("--version")
        TAP.eq("nfspamdb " + str(dm["version"]), vout.strip(),
               "--json: nfspamd's version")
        TAP.eq(dm["control"], d.ctl, "--json: the control socket named")

    rc, out, err = stats(d.db, control=d.ctl)
    TAP.ok(rc == 0 and err == "" and "nfspamd totals since start" in out
           and not unavailable_lines(out),
           "plain with nfspamd running: the totals", out, err)
    for pat in (r"^tuples greylisted_new +3$", r"^tuples passed +1$",
                r"^passed +1$", r"^trapped +1$",
                r"^connections grey +\d+$", r"^started +\d{4}-\d\d-\d\d "
                r"[0-9:]{8}, up \d+s$"):
        TAP.ok(re.search(pat, out, re.M), "plain: a line %s" % pat,
               out[-900:])

    rc, _ = d.stop()
    rc, out, err = stats(d.db, control=d.ctl)
    u = unavailable_lines(out)
    TAP.ok(rc == 0 and len(u) == 1 and "GREY " in out,
           "nfspamd stopped: the database part, and one line why", out)


def t_usage(tmp):
    db = os.path.join(tmp, "usage-db")
    for args in (["--stats", "-a", "192.0.2.1"], ["--stats", "192.0.2.1"],
                 ["--stats", "-d", "x"], ["--stats", "-t"],
                 ["--stats", "--import", "x"], ["--top", "3"],
                 ["--control", "/x"], ["--stats", "--top", "1001"],
                 ["--stats", "--top", "-1"], ["--stats", "--top", "x"],
                 ["--stats", "--control", ""]):
        rc, out, err = nfspamdb("--db", db, *args)
        TAP.ok(rc == 1 and "usage:" in err and out == "",
               "nfspamdb %s: a usage error" % " ".join(args),
               "rc %r err %r" % (rc, err))
    rc, out, err = nfspamdb("--db", db, "--stats", "--top", "1001")
    TAP.ok("--top: not a number from 0 to 1000: 1001" in err,
           "--top 1001: names the flag, the range and the value", err)
    rc, out, err = nfspamdb("--help")
    TAP.ok(re.search(r"^ +nfspamdb \[--db dir\] --stats \[--json\] "
                     r"\[--top n\] \[--control path\]$", out, re.M),
           "--help names --stats", out)
    rc, out, err = nfspamdb("--db", os.path.join(tmp, "missing"), "--stats")
    TAP.ok(rc == 1 and out == "" and err != "",
           "--stats without a database: exit 1, the reason on stderr",
           "rc %r err %r" % (rc, err))


def body(tmp):
    it.section("no daemon", t_no_daemon, tmp)
    it.section("fake daemon", t_fake_daemon, tmp)
    it.section("daemon", t_daemon, tmp)
    it.section("usage", t_usage, tmp)


def main():
    for prog in (it.NFSPAMD, it.NFSPAMDB):
        if not os.access(prog, os.X_OK):
            print("Bail out! no executable %s" % prog, flush=True)
            return 1
    return nfstest.run(TAP, it.DAEMONS, "nfspamdb-stats.", WATCHDOG, body)


if __name__ == "__main__":
    sys.exit(main())
