#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for how nfspamd meets an admin: --version and --help,
the defaults (every address, --firewall nft), one instance per database
and per control socket, an unknown --user, permission messages that name
the user and the fix, and the workers' names.  Loopback only, TAP on
stdout.  Run as root or not: the checks that only mean something as one
of them say SKIP as the other.

Environment: NFSPAMD, NFSPAMDB, top_builddir (as nfspamd.py).
"""

import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import nfstest  # noqa: E402
it = nfstest.nfspamd_it()
TAP = it.TAP
WATCHDOG = 60
ME = pwd.getpwuid(os.geteuid()).pw_name
ROOT = os.geteuid() == 0


def run(args, timeout=5, prefix=()):
    """nfspamd with args, expected to exit by itself: (rc, out, err)."""
    try:
        r = subprocess.run(list(prefix) + [it.NFSPAMD] + args,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        return "still running after %d s" % timeout, "", str(e.stderr)


def base(tmp, name, *extra):
    """Flags of a throwaway instance that would start if nothing stopped
    it: its own database and control socket, loopback, no firewall."""
    return ["-d", "--db", os.path.join(tmp, name + "-db"), "--control",
            os.path.join(tmp, name + ".sock"), "--alloweddomains",
            os.path.join(tmp, "none"), "-p",
            str(it.free_port(["127.0.0.1"])), "-l", "127.0.0.1",
            "--os-tarpit-port", "0", "--user", ME] + list(extra)


def t_version_help(tmp):
    for flag in ("-V", "--version"):
        rc, out, err = run([flag])
        TAP.ok(rc == 0 and re.fullmatch(r"nfspamd \d+\.\d+\.\d+\S*\n", out)
               and err == "", "%s: 'nfspamd VERSION' on stdout, status 0"
               % flag, "rc %r out %r err %r" % (rc, out, err))
    rc, out, err = run(["--help"])
    TAP.ok(rc == 0 and out.startswith("usage: nfspamd ") and
           "--version" in out and err == "",
           "--help: the usage on stdout, status 0",
           "rc %r out %r err %r" % (rc, out[:200], err))
    rc, out, err = run(["--no-such-flag"])
    TAP.ok(rc == 1 and "usage: nfspamd " in err and out == "",
           "a usage error: the usage on stderr, status 1",
           "rc %r out %r err %r" % (rc, out[:200], err[:200]))


def t_default_listen(tmp):
    """No -l: every address, so a redirect to any local address works."""
    d = it.Daemon(tmp, "everywhere", ["-S", "0", "-s", "0"],
                  listen=("127.0.0.1",))
    i = d.args.index("-l")
    del d.args[i:i + 2]
    if not TAP.ok(d.start(), "no -l: nfspamd starts"):
        return
    TAP.ok(d.wait_log(r"listening port=%d addresses=[12] " % d.port)
           is not None, "no -l: the listening line counts 0.0.0.0 and ::")
    for src, dst in (("127.0.0.1", "127.0.0.9"), ("::1", "::1")):
        try:
            c = it.Client(src, d.port, dst=dst, timeout=2)
            banner = c.line()
            c.close()
        except OSError as e:
            banner = repr(e)
        TAP.ok(isinstance(banner, bytes) and banner.startswith(b"220 "),
               "no -l: %s answers (not only the address given)" % dst,
               repr(banner))
    d.cleanup()


def t_loopback_refused(tmp):
    for ls in (["-l", "127.0.0.1"], ["-l", "127.0.0.1", "-l", "::1"]):
        b = [a for a in base(tmp, "lo") if True]
        i = b.index("-l")
        del b[i:i + 2]
        rc, out, err = run(b + ls)	# --firewall nft, the default
        TAP.ok(rc == 1 and "loopback addresses only" in err and
               "leave out -l" in err,
               "default --firewall nft with %s: refused, naming the fix"
               % " ".join(ls), "rc %r err %r" % (rc, err[:300]))


def t_default_firewall(tmp):
    """nft is the default, and without the table (or the capability)
    nfspamd says how to load it or how to do without."""
    b = base(tmp, "nofw")
    i = b.index("-l")
    del b[i:i + 2]
    if ROOT:
        # An empty network namespace: never the host's own table.
        if shutil.which("unshare") is None:
            TAP.skip("unshare(1) is missing")
            return
        rc, out, err = run(b, prefix=("unshare", "--net"))
        want = ("table inet nfspamd", "systemctl start nfspamd-nft",
                "--firewall none")
    else:
        rc, out, err = run(b)
        want = ("CAP_NET_ADMIN", "--firewall none")
    TAP.ok(rc == 1 and all(w in err for w in want),
           "default --firewall nft without %s: exits 1 naming the fix"
           % ("the table" if ROOT else "CAP_NET_ADMIN"),
           "rc %r err %r" % (rc, err[:400]))


def t_unknown_user(tmp):
    if not ROOT:
        TAP.skip("--user only matters when started as root")
        return
    b = base(tmp, "nouser", "--firewall", "none")
    b[b.index("--user") + 1] = "nfspamd-no-such-user"
    rc, out, err = run(b)
    TAP.ok(rc == 1 and "--user nfspamd-no-such-user: no such user" in err,
           "root with an unknown --user: exits 1 naming it",
           "rc %r err %r" % (rc, err[:300]))
    TAP.ok(not os.path.exists(os.path.join(tmp, "nouser-db")),
           "an unknown --user leaves no root-owned database behind")


def t_one_instance(tmp):
    a = it.Daemon(tmp, "first", ["-S", "0", "-s", "0"],
                  listen=("127.0.0.1",))
    if not TAP.ok(a.start(), "the first instance starts"):
        return
    pid = a.proc.pid
    with open(os.path.join(a.db, "nfspamd.pid")) as f:
        TAP.eq(f.read().strip(), str(pid), "<db>/nfspamd.pid holds its PID")
    # Same database, own control socket.
    b = base(tmp, "second", "--firewall", "none")
    b[b.index("--db") + 1] = a.db
    rc, out, err = run(b)
    TAP.ok(rc == 1 and "pid %d" % pid in err and a.db in err,
           "a second instance on the same database exits 1 naming pid %d"
           % pid, "rc %r err %r" % (rc, err[:300]))
    # Own database, same control socket.
    b = base(tmp, "third", "--firewall", "none")
    b[b.index("--control") + 1] = a.ctl
    rc, out, err = run(b)
    TAP.ok(rc == 1 and "pid %d" % pid in err and a.ctl in err,
           "a second instance on the same control socket exits 1 naming "
           "pid %d" % pid, "rc %r err %r" % (rc, err[:300]))
    TAP.ok(os.path.exists(a.ctl) and
           a.control("t;\n").startswith("ok "),
           "the first one's control socket is still there and answers")
    # Killed: no lock and no live socket remain, so the next one starts.
    a.signal(signal.SIGKILL)
    a.proc.wait(5)
    for p in a.known_workers:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    TAP.ok(os.path.exists(a.ctl), "SIGKILL leaves the socket file behind")
    c = it.Daemon(tmp, "after", ["-S", "0", "-s", "0"],
                  listen=("127.0.0.1",))
    c.args[c.args.index("--db") + 1] = a.db
    c.args[c.args.index("--control") + 1] = a.ctl
    TAP.ok(c.start(), "after a SIGKILL, the next instance starts on the "
           "same database and socket")
    c.cleanup()
    a.cleanup()


def t_worker_names(tmp):
    d = it.Daemon(tmp, "names", ["-j", "2", "-S", "0", "-s", "0"],
                  listen=("127.0.0.1",))
    if not TAP.ok(d.start(), "-j 2 instance starts"):
        return
    pids = d.worker_pids(2)

    def read_names():
        names = {}
        for p in pids:
            try:
                with open("/proc/%d/comm" % p) as f:
                    comm = f.read().strip()
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    argv0 = f.read().split(b"\0")[0].decode()
            except OSError as e:
                comm = argv0 = repr(e)
            names[p] = (comm, argv0)
        return names
    # A worker names itself once it has its settings: wait for that.
    end = time.monotonic() + 5
    names = read_names()
    while (time.monotonic() < end and
           any(not c.startswith("nfspamd-work") for c, _ in names.values())):
        time.sleep(0.02)
        names = read_names()
    TAP.ok(sorted(n for n, _ in names.values()) ==
           ["nfspamd-work0", "nfspamd-work1"],
           "the workers' comm is nfspamd-work0 and nfspamd-work1",
           repr(names))
    TAP.ok(sorted(a for _, a in names.values()) ==
           ["nfspamd: worker 0", "nfspamd: worker 1"],
           "ps shows them as 'nfspamd: worker N'", repr(names))
    d.cleanup()


def t_permissions(tmp):
    """What an admin reads when the database or the socket's directory
    is not the service user's."""
    if ROOT:
        user = "nobody"
        try:
            pwd.getpwnam(user)
        except KeyError:
            TAP.skip("no user nobody", 2)
            return
        # Only the directory below may be in nobody's way.
        os.chmod(tmp, 0o755)
        locked = os.path.join(tmp, "rootonly")
        os.mkdir(locked, 0o700)
    else:
        user = ME
        locked = os.path.join(tmp, "readonly")
        os.mkdir(locked, 0o500)
    b = base(tmp, "perm", "--firewall", "none")
    b[b.index("--user") + 1] = user
    b[b.index("--db") + 1] = os.path.join(locked, "db")
    rc, out, err = run(b)
    # Root's own directory needs a chown; one's own, a chmod.
    TAP.ok(rc == 1 and "Permission denied" in err and
           ("as user %s" % user) in err and locked in err and
           ("chown nobody " if ROOT else "chmod u+rwx ") + locked in err,
           "a database the user cannot create: the path, the user (%s) "
           "and the fix" % user, "rc %r err %r" % (rc, err[:400]))
    b = base(tmp, "perm2", "--firewall", "none")
    b[b.index("--control") + 1] = os.path.join(tmp, "no", "dir", "c.sock")
    rc, out, err = run(b)
    TAP.ok(rc == 1 and "No such file or directory" in err and
           os.path.join(tmp, "no", "dir") + " does not exist" in err and
           ("as user %s" % ME) in err,
           "a control socket in a missing directory: says which one and "
           "how to make it", "rc %r err %r" % (rc, err[:400]))
    os.chmod(locked, 0o700)


def body(tmp):
    for name, fn in (("version and help", t_version_help),
                     ("default listen", t_default_listen),
                     ("loopback refused", t_loopback_refused),
                     ("default firewall", t_default_firewall),
                     ("unknown user", t_unknown_user),
                     ("one instance", t_one_instance),
                     ("worker names", t_worker_names),
                     ("permissions", t_permissions)):
        it.section(name, fn, tmp)


def main():
    for prog in (it.NFSPAMD,):
        if not os.access(prog, os.X_OK):
            print("Bail out! no executable %s" % prog, flush=True)
            return 1

    return nfstest.run(TAP, it.DAEMONS, "nfspamd-inst.", WATCHDOG, body)


if __name__ == "__main__":
    sys.exit(main())
