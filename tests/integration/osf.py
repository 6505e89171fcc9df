#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamd's OS fingerprints: the SYN the kernel
keeps for each connection (TCP_SAVE_SYN) matched against the shipped
fingerprint files, shown on the log lines, kept in the database for
nfspamdb, counted in the metrics; and the OS tarpit's port, where every
client is served as blacklisted on the list "osf".  Unprivileged,
loopback only (whose SYNs are this kernel's own: a Linux), TAP on
stdout.

Environment: NFSPAMD, NFSPAMDB, top_builddir, top_srcdir (as nfspamd.py).
"""

import json
import os
import re
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

OS_MSG = "Your operating system does not send mail directly"


def run_nfspamd(args):
    return subprocess.run([it.NFSPAMD, "-d", "--firewall", "none"] + args,
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=10)


def t_bad_files(tmp):
    """A bad file stops the start, naming its line; so does a missing
    one that was asked for."""
    bad = os.path.join(tmp, "bad.os")
    with open(bad, "w") as f:
        f.write("# fine\nS44:64:1:60:M*,S,T,N,W7:\tLinux:6::fine\n"
                "64240:300:1:52:M*,N,W8,N,N,S:\tWindows:10::bad ttl\n")
    r = run_nfspamd(["--os-fingerprints", bad, "--db",
                     os.path.join(tmp, "nodb")])
    TAP.eq(r.returncode, 1, "a bad fingerprint file: exit 1", r.stderr)
    TAP.ok(re.search(r"--os-fingerprints %s:3: .*300" % re.escape(bad),
                     r.stderr) is not None,
           "the message names the file, the line and the value",
           r.stderr.strip())
    missing = os.path.join(tmp, "missing.os")
    r = run_nfspamd(["--os-fingerprints", missing, "--db",
                     os.path.join(tmp, "nodb")])
    TAP.eq(r.returncode, 1, "a missing file asked for: exit 1", r.stderr)
    TAP.ok(missing in r.stderr, "the message names the file",
           r.stderr.strip())
    r = subprocess.run([it.NFSPAMD, "--os-tarpit-port", "8025", "-p",
                        "8025"], capture_output=True, text=True, timeout=10)
    TAP.ok(r.returncode == 1 and "--os-tarpit-port" in r.stderr,
           "--os-tarpit-port equal to -p is refused", r.stderr.strip())


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=5) as f:
        return f.read().decode()


def json_lines(db, *args):
    r = it.spamdb(db, "--json", *args)
    return [json.loads(x) for x in r.stdout.splitlines() if x.strip()]


def t_fingerprints(tmp):
    mport = it.free_port(["127.0.0.1"])
    tport = it.free_port(["127.0.0.1"])
    d = it.Daemon(tmp, "osf", ["-S", "0", "-s", "0", "-G", "2s:1h:6s",
                               "--scan-interval", "1",
                               "--os-tarpit-port", str(tport),
                               "--metrics", "127.0.0.1:%d" % mport],
                  listen=("127.0.0.1",))
    if not TAP.ok(d.start(), "nfspamd starts with the fingerprint files"):
        return
    TAP.ok(d.wait_log(r"os fingerprints=(\d+) files=2") is not None,
           "the supervisor says how many fingerprints it read")

    # A loopback SYN is this kernel's: Linux, whatever its version.
    since = d.mark()
    r = it.dialogue(d.port, "127.0.0.10", "<bob@example.org>")
    TAP.eq(r["data"], it.R_GREY, "greylisted as ever (451)")
    m = d.wait_log(r'connected ip=127\.0\.0\.10 clients=\d+ black=0 '
                   r'os="(Linux[^"]*)"', since)
    TAP.ok(m is not None, "connected: os=\"Linux ...\"",
           d.log_tail(since))
    name = m.group(1) if m else "Linux"
    TAP.ok(d.wait_log(r'greylisted ip=127\.0\.0\.10 .*new=1 attempts=1 '
                      r'os="%s"$' % re.escape(name), since) is not None,
           "greylisted: the same os= at the end of the line")

    # The database: nfspamdb --json and --os; spamdb's lines unchanged.
    g = [e for e in json_lines(d.db) if e["type"] == "GREY"]
    TAP.ok(len(g) == 1 and g[0].get("os") == name,
           "nfspamdb --json: the GREY entry carries \"os\"", repr(g))
    plain = [x for x in it.spamdb(d.db).stdout.splitlines()
             if x.startswith("GREY|")]
    TAP.ok(len(plain) == 1 and len(plain[0].split("|")) == 10,
           "nfspamdb: spamdb's GREY line, 10 fields, no os", repr(plain))
    withos = [x for x in it.spamdb(d.db, "--os").stdout.splitlines()
              if x.startswith("GREY|")]
    TAP.ok(len(withos) == 1 and withos[0].endswith("|" + name) and
           len(withos[0].split("|")) == 11,
           "nfspamdb --os: the OS as an 11th field", repr(withos))
    r = it.spamdb(d.db, "--os", "-a", "127.0.0.99")
    TAP.ok(r.returncode != 0 and "listing only" in r.stderr,
           "nfspamdb --os with -a is refused", r.stderr.strip())

    # Retry after passtime: passed, with os=; WHITE carries it too.
    time.sleep(3.1)
    since = d.mark()
    r = it.dialogue(d.port, "127.0.0.10", "<bob@example.org>")
    TAP.ok(d.wait_log(r'passed ip=127\.0\.0\.10 .*os="%s"$'
                      % re.escape(name), since) is not None,
           "passed: os= at the end of the line")
    w = [e for e in json_lines(d.db) if e["type"] == "WHITE"]
    TAP.ok(len(w) == 1 and w[0].get("os") == name,
           "nfspamdb --json: the WHITE entry carries \"os\"", repr(w))

    # The OS tarpit's port: blacklisted on "osf", with its message.
    since = d.mark()
    r = it.dialogue(tport, "127.0.0.11", "<bob@example.org>",
                    body=it.BODY)
    TAP.ok(r["banner"].startswith(b"220 ") and r["rcpt"] == it.R_RCPT,
           "tarpit port: the usual replies up to RCPT", repr(r))
    TAP.eq(r["data"], it.R_DATA, "tarpit port: DATA gets 354 (tarpit)")
    TAP.eq(r["tail"], ("450 %s\r\n" % OS_MSG).encode(),
           "tarpit port: after the message, 450 and the OS message")
    TAP.ok(d.wait_log(r'connected ip=127\.0\.0\.11 .*lists="osf" os="Linux',
                      since) is not None,
           "tarpit port: connected under list osf, with its os=")
    TAP.eq(it.db_find(d.db, "GREY", "127.0.0.11"), [],
           "tarpit port: no GREY tuple")
    # On a blacklist too: both messages, one well-formed reply.
    reply = d.control(it.LIST_LINE + "\n")
    TAP.ok(reply.startswith("ok "), "a blacklist is loaded", reply)
    r = it.dialogue(tport, it.BLACK_IP, "<bob@example.org>", body=it.BODY)
    TAP.eq(r["tail"], it.black_reply(it.BLACK_IP).replace(
        b"450 see", b"450-see") + ("450 %s\r\n" % OS_MSG).encode(),
           "tarpit port, blacklisted too: the list's lines as "
           "continuations, then the OS message last")
    # A WHITE address is never tarpitted, whatever port it came to.
    since = d.mark()
    r = it.dialogue(tport, "127.0.0.10", "<bob@example.org>")
    TAP.ok(d.wait_log(r'connected ip=127\.0\.0\.10 clients=\d+ black=0 '
                      r'os=', since) is not None and
           d.wait_log(r'connected ip=127\.0\.0\.10 .*lists=', since,
                      0.2) is None,
           "tarpit port: a WHITE client is not blacklisted",
           d.log_tail(since))

    # The metrics: by genre, and the tarpit as a list.
    text = metrics(mport)
    m = re.search(r'^nfspamd_os_connections_total\{genre="Linux"\} (\d+)',
                  text, re.M)
    TAP.ok(m is not None and int(m.group(1)) >= 4,
           "metrics: nfspamd_os_connections_total{genre=\"Linux\"}",
           m.group(0) if m else "absent")
    TAP.ok(re.search(r'^nfspamd_os_connections_total\{genre="unknown"\} 0$',
                     text, re.M) is not None,
           "metrics: no unknown SYN on loopback")
    TAP.ok(re.search(r'^nfspamd_blacklisted_connections_total'
                     r'\{list="osf"\} 2$', text, re.M) is not None,
           "metrics: two tarpitted connections under list osf")

    # The OS entries live as long as an unseen WHITE one (-G ...:6s).
    ok = nfstest.wait_for(lambda: all("os" not in e
                                      for e in json_lines(d.db)), 12)
    TAP.ok(ok, "the os entries go whiteexp after they were last seen",
           repr(json_lines(d.db)))
    rc, took = d.stop()
    TAP.eq(rc, 0, "SIGTERM: nfspamd exits 0")


def t_off(tmp):
    d = it.Daemon(tmp, "off", ["-S", "0", "-s", "0",
                               "--os-fingerprints", "none"],
                  listen=("127.0.0.1",))
    if not TAP.ok(d.start(), "nfspamd starts with --os-fingerprints none"):
        return
    since = d.mark()
    it.dialogue(d.port, "127.0.0.12", "<bob@example.org>")
    m = d.wait_log(r'greylisted ip=127\.0\.0\.12 .*', since)
    TAP.ok(m is not None and " os=" not in m.group(0),
           "fingerprinting off: no os= on the lines", m and m.group(0))
    g = [e for e in json_lines(d.db) if e["type"] == "GREY"]
    TAP.ok(len(g) == 1 and "os" not in g[0],
           "fingerprinting off: no os in the database", repr(g))
    d.stop()


def body(tmp):
    for name, fn in (("bad-files", t_bad_files),
                     ("fingerprints", t_fingerprints), ("off", t_off)):
        if nfstest.selected(name):
            TAP.diag("--- " + name)
            fn(tmp)


def main():
    for prog in (it.NFSPAMD, it.NFSPAMDB):
        if not os.access(prog, os.X_OK):
            print("Bail out! no executable %s" % prog, flush=True)
            return 1
    return nfstest.run(TAP, it.DAEMONS, "nfspamd-osf.", WATCHDOG, body, 20)


if __name__ == "__main__":
    sys.exit(main())
