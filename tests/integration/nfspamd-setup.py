#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""Integration test for nfspamd-setup: spamd.conf files, lists fetched from
files, commands and a local HTTP(S) server, and a real nfspamd fed over its
control socket.  Loopback only (127.0.0.1), temporary files, TAP on stdout.

Environment:
  NFSPAMD_SETUP  the nfspamd-setup binary
                 (default: $top_builddir/src/nfspamd-setup/nfspamd-setup)
  NFSPAMD        the nfspamd binary (default: $top_builddir/src/nfspamd/nfspamd)
  top_builddir   default "."
  top_srcdir     unused, accepted for symmetry with the other tests

Run as root, nfspamd-setup gets --user nobody (its exec and download children
become nobody), so every file those children read is world-readable.  Run as
anyone else, no --user is given and everything runs as the caller.

nfspamd-setup is always given --nospamd /nonexistent and never -b: this test
does not touch the host's nftables.

--metrics-file: the textfile of each run is checked with promtool (check
metrics) when it is installed, and its values against the lists: entries,
failures and their reasons, and the last success kept across failed runs.

As root, a --db directory owned by nobody checks that nfspamd-setup works as
that directory's owner (every file it leaves there is nobody's, old root-owned
ones are given back) and that a run as nobody then works; and that permission
errors met as nobody name the path, the user and the fix.  Not as root, those
checks say SKIP.

Every server and daemon started here is stopped, and the temporary directory
removed, in a finally block.  Every socket operation and every child has a
timeout; a watchdog ends the run after WATCHDOG s.
"""

import fcntl
import gzip
import http.server
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from nfstest import DaemonLog, Tap, Watchdog, selected  # noqa: E402
from nfstest import free_port as nfstest_free_port  # noqa: E402

TOP_BUILDDIR = os.environ.get("top_builddir") or "."
SETUP = os.environ.get("NFSPAMD_SETUP") or os.path.join(
    TOP_BUILDDIR, "src", "nfspamd-setup", "nfspamd-setup")
NFSPAMD = os.environ.get("NFSPAMD") or os.path.join(
    TOP_BUILDDIR, "src", "nfspamd", "nfspamd")

IO_TIMEOUT = 5.0        # any single socket operation
START_TIMEOUT = 5.0     # nfspamd's "listening" line
RUN_TIMEOUT = 15.0      # one nfspamd-setup run
SLOW_HOLD = 20.0        # how long the slow URL keeps a client waiting
WATCHDOG = 55           # the whole run

ROOT = os.geteuid() == 0
FETCH_USER = "nobody"   # --user when root

MIB = 1 << 20

R_GREY = b"451 Temporary failure, please try again later.\r\n"
R_DATA = b'354 Enter spam, end with "." on a line by itself\r\n'
BODY = (b"From: spammer@sender.example\r\nTo: victim@example.org\r\n"
        b"Subject: buy now\r\n\r\nhello\r\n.\r\n")

# One list in every form the parser takes; what it collapses to.
PLAIN = (b"# a test list\n"
         b"127.0.0.66\n"
         b"10.1.0.0/24\n"
         b"10.1.1.0 - 10.1.1.255\n"
         b"   192.0.2.7   trailing words are ignored\n"
         b"\n"
         b"2001:db8::/48\n")
PLAIN_CIDRS = ("inet;3;10.1.0.0/23;127.0.0.66/32;192.0.2.7/32;"
               "inet6;1;2001:db8::/48")

# A message with %A, quotes and a line break, as spamd.conf writes it,
# as the control line carries it, and as nfspamd answers with it.
CONF_MSG = 'msg="Your address %A is \\"listed\\"\\nsee example"'
LINE_MSG = '"Your address %A is \\"listed\\"\\nsee example"'


def alpha_reply(ip):
    return ('450-Your address %s is "listed"\r\n450 see example\r\n'
            % ip).encode()


TAP = Tap()


def section(name, fn, *args):
    if not selected(name):
        TAP.diag("--- %s: not in NFS_SECTIONS, not run" % name)
        return None
    TAP.diag("--- " + name)
    try:
        return fn(*args)
    except Watchdog:
        raise
    except Exception as e:      # one broken step must not hide the others
        TAP.ok(False, "%s: ran to the end" % name,
               "%s: %s" % (type(e).__name__, e))
        return None


# --------------------------------------------------------------------------
# files

def write(path, data, mode=0o644):
    """Write data (str or bytes) and give it mode: readable by the --user
    children when the test runs as root."""
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def entry(name, *caps):
    """One getcap record, a capability per continuation line."""
    return "%s:\\\n\t:%s:\n" % (name, ":\\\n\t:".join(caps))


def conf(path, order, *entries):
    """A spamd.conf: a comment, "all" naming order, then the entries."""
    text = ("# spamd.conf written by nfspamd-setup.py\n\n"
            "all:\\\n\t:%s:\n\n" % ":".join(order))
    text += "\n".join(entries)
    return write(path, text)


def http_file(port, path):
    """file= of an http/https list: host, escaped colon, port, path."""
    return "file=127.0.0.1\\:%d%s" % (port, path)


def line_of(path, text):
    """The number of the line of path that is exactly text."""
    with open(path) as f:
        return f.read().split("\n").index(text) + 1


def processes_with_cmdline(cmd):
    """Pids of the processes whose command line is exactly cmd (a list)."""
    want = b"\0".join(c.encode() for c in cmd) + b"\0"
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if f.read() == want:
                    out.append(int(d))
        except OSError:
            continue
    return out


# --------------------------------------------------------------------------
# running nfspamd-setup

class Run:
    def __init__(self, rc, out, err, secs):
        self.rc, self.out, self.err, self.secs = rc, out, err, secs

    def __repr__(self):
        return "rc %r after %.2f s\nstdout: %r\nstderr:\n%s" % (
            self.rc, self.secs, self.out[:600], self.err[-1500:])


class Setup:
    """nfspamd-setup with this test's fixed options."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.nosock = os.path.join(tmp, "no-nfspamd.sock")

    def run(self, conf_path, *extra, db=None, control=None,
            timeout=RUN_TIMEOUT):
        args = [SETUP, "-f", conf_path, "--db",
                db or os.path.join(self.tmp, "dry-db"),
                "--control", control or self.nosock,
                "--nospamd", "/nonexistent"]
        if ROOT:
            args += ["--user", FETCH_USER]
        args += list(extra)
        return run_cmd(args, timeout)


def bare(*args, user=None, uid=None):
    """nfspamd-setup with only these arguments; through setpriv as user
    (a pwd entry), or as a uid with no passwd entry, when given."""
    cmd = [SETUP] + list(args)
    if user is not None:
        cmd = ["setpriv", "--reuid", str(user.pw_uid), "--regid",
               str(user.pw_gid), "--init-groups", "--"] + cmd
    elif uid is not None:
        cmd = ["setpriv", "--reuid", str(uid), "--regid", str(uid),
               "--clear-groups", "--"] + cmd
    return run_cmd(cmd, RUN_TIMEOUT)


def run_cmd(cmd, timeout):
    """Run cmd with no input; a Run of its status (or how it was killed),
    output, errors and time taken."""
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        rc, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = "killed after %d s" % timeout, e.stdout or b"", \
            e.stderr or b""
    return Run(rc, out.decode("utf-8", "replace"),
               err.decode("utf-8", "replace"), time.monotonic() - t0)


def package_version():
    """PACKAGE_VERSION from the build's config.h."""
    with open(os.path.join(TOP_BUILDDIR, "config.h")) as f:
        m = re.search(r'^#define PACKAGE_VERSION "([^"]*)"', f.read(), re.M)
    return m.group(1) if m else "(no PACKAGE_VERSION in config.h)"


# --------------------------------------------------------------------------
# the HTTP(S) servers

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "nfspamd-setup-test/1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        srv = self.server
        srv.seen.append((self.path, self.headers.get("User-Agent", "")))
        route = srv.routes.get(self.path)
        try:
            if route is None:
                self.send_error(404)
            elif route[0] == "body":
                _, ctype, data = route
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif route[0] == "stream":
                # No Content-Length: the body ends when the server closes.
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                data = route[1]
                for i in range(0, len(data), 65536):
                    if srv.stop.is_set():
                        break
                    self.wfile.write(data[i:i + 65536])
            elif route[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", route[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif route[0] == "slow":
                # Headers and one line at once, the rest never.
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b"127.0.0.1\n")
                self.wfile.flush()
                srv.stop.wait(SLOW_HOLD)
            elif route[0] == "status":
                self.send_error(route[1])
        except (BrokenPipeError, ConnectionResetError, socket.timeout,
                ssl.SSLError):
            pass    # the client gave up, which some checks want


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, tls_ctx=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        self.tls_ctx = tls_ctx
        self.routes = {}
        self.seen = []
        self.stop = threading.Event()
        self.thread = None

    def finish_request(self, request, client_address):
        request.settimeout(IO_TIMEOUT)
        if self.tls_ctx is None:
            Handler(request, client_address, self)
            return
        # The handshake in the request's own thread, not in accept().
        try:
            tls = self.tls_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return      # a client that does not trust us hangs up here
        try:
            Handler(tls, client_address, self)
        finally:
            tls.close()

    def handle_error(self, request, client_address):
        pass

    def start(self):
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.stop.set()
        if self.thread is not None:
            self.shutdown()
            self.thread.join(3)
        self.server_close()


def make_cert(tmp):
    """A self-signed certificate for 127.0.0.1; (cert, key) or None."""
    cert = os.path.join(tmp, "cert.pem")
    key = os.path.join(tmp, "key.pem")
    try:
        r = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", cert, "-days", "2",
             "-subj", "/CN=localhost",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        TAP.diag("openssl: %s" % e)
        return None
    if r.returncode != 0:
        TAP.diag("openssl exited %d: %s" % (r.returncode,
                                          r.stderr.decode(errors="replace")))
        return None
    os.chmod(cert, 0o644)
    return cert, key


# --------------------------------------------------------------------------
# nfspamd

def free_port():
    return nfstest_free_port(("127.0.0.1",))


class Nfspamd(DaemonLog):
    """One nfspamd, -d, on 127.0.0.1, no stutter; as the caller, or (root
    only) as user, in a directory of that user's."""

    def __init__(self, tmp, name="nfspamd", user=None):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        if user is not None:
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            os.chmod(self.dir, 0o755)
        self.db = os.path.join(self.dir, "db")
        self.ctl = os.path.join(self.dir, "ctl.sock")
        self.logpath = os.path.join(self.dir, "log")
        self.port = free_port()
        self.args = [NFSPAMD, "-d", "--db", self.db, "--control", self.ctl,
                     "--alloweddomains", os.path.join(self.dir, "domains"),
                     "-p", str(self.port), "-l", "127.0.0.1",
                     "--user", (user or pwd.getpwuid(os.geteuid())).pw_name,
                     "--firewall", "none", "-S", "0", "-s", "0",
                     "--os-tarpit-port", "0"]
        self.proc = None
        self.logf = None

    def start(self):
        self.logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf)
        if self.wait_log(r"listening port=%d " % self.port, 0,
                         START_TIMEOUT) is None:
            TAP.diag("nfspamd did not start; log:\n%s" % self.log())
            return False
        return True

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.terminate()
                self.proc.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    self.proc.kill()
                    self.proc.wait(3)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        if self.logf is not None:
            self.logf.close()
            self.logf = None

    def fate(self, src):
        """Talk SMTP from src up to DATA: "grey" for the greylist's 451, the
        reply after the message for a listed client, or what went wrong."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(IO_TIMEOUT)
        buf = b""

        def reply():
            nonlocal buf
            out = b""
            while True:
                while b"\n" not in buf:
                    d = s.recv(4096)
                    if not d:
                        out, buf = out + buf, b""
                        return out
                    buf += d
                i = buf.index(b"\n") + 1
                line, buf = buf[:i], buf[i:]
                out += line
                if len(line) < 4 or line[3:4] != b"-":
                    return out

        try:
            s.bind((src, 0))
            s.connect(("127.0.0.1", self.port))
            banner = reply()
            if not banner.startswith(b"220 "):
                return "banner %r" % banner
            for cmd in (b"EHLO mx.sender.example\r\n",
                        b"MAIL FROM:<alice@sender.example>\r\n",
                        b"RCPT TO:<bob@example.org>\r\n"):
                s.sendall(cmd)
                r = reply()
                if not r.startswith(b"250"):
                    return "%r got %r" % (cmd, r)
            s.sendall(b"DATA\r\n")
            r = reply()
            if r == R_GREY:
                return "grey"
            if r != R_DATA:
                return "DATA got %r" % r
            s.sendall(BODY)
            tail = buf
            while True:
                d = s.recv(4096)
                if not d:
                    return tail
                tail += d
        except OSError as e:
            return "%s: %s" % (type(e).__name__, e)
        finally:
            s.close()


# --------------------------------------------------------------------------
# the tests

def t_usage(st, tmp):
    c = conf(os.path.join(tmp, "usage.conf"), ["u"],
             entry("u", "black", 'msg="u"', "file=/nonexistent"))
    r = st.run(c, "--bogus-flag")
    TAP.ok(r.rc == 1 and "usage: nfspamd-setup" in r.err,
           "usage: an unknown flag exits 1 with the usage", r)
    r = st.run(c, "--timeout", "0")
    TAP.ok(r.rc == 1 and '--timeout 0: want a whole number from 1 to 86400' in r.err,
           "usage: --timeout 0 exits 1 naming the option", r)
    r = st.run(c, "extra-argument")
    TAP.ok(r.rc == 1 and "usage: nfspamd-setup" in r.err,
           "usage: an operand exits 1 with the usage", r)
    r = st.run(c, "--metrics-file", "setup.prom")
    TAP.ok(r.rc == 1 and "--metrics-file setup.prom: not an absolute path"
           in r.err, "usage: a relative --metrics-file exits 1 naming it", r)
    TAP.ok(r.out == "", "usage: a usage error prints nothing on stdout", r)

    version = package_version()
    for flag in ("-V", "--version"):
        r = bare(flag)
        TAP.ok(r.rc == 0 and r.out == "nfspamd-setup %s\n" % version
               and r.err == "",
               "%s prints \"nfspamd-setup %s\" on stdout, exit 0"
               % (flag, version), r)
    for flag in ("-h", "--help"):
        r = bare(flag)
        TAP.ok(r.rc == 0 and r.out.startswith("usage: nfspamd-setup ")
               and "--cacert file" in r.out and r.err == "",
               "%s prints the usage on stdout, exit 0" % flag, r)


def t_conf_errors(st, tmp):
    # No "all".
    p = write(os.path.join(tmp, "noall.conf"),
              "# nothing but a list\n" + entry("x", "black", 'msg="x"',
                                               "file=/nonexistent"))
    r = st.run(p)
    TAP.ok(r.rc == 1 and '%s: no entry "all"' % p in r.err and r.out == "",
           "conf: no \"all\" exits 1 naming the file", r)

    # A black list without :msg=: its record starts on line 7.
    p = conf(os.path.join(tmp, "nomsg.conf"), ["good", "nomsg"],
             entry("good", "black", 'msg="g"', "file=/nonexistent"),
             entry("nomsg", "black", "file=/nonexistent"))
    want = line_of(p, "nomsg:\\")
    r = st.run(p)
    TAP.ok(r.rc == 1 and '%s:%d: entry "nomsg": black list has no :msg='
           % (p, want) in r.err and r.out == "",
           "conf: a black list without msg exits 1 naming file:%d" % want, r)

    # An unknown method, named on the line of its :method=.
    p = conf(os.path.join(tmp, "method.conf"), ["m"],
             entry("m", "black", 'msg="m"', "method=gopher",
                   "file=/nonexistent"))
    want = line_of(p, "\t:method=gopher:\\")
    r = st.run(p)
    TAP.ok(r.rc == 1 and '%s:%d: entry "m": unknown :method=gopher:'
           % (p, want) in r.err and r.out == "",
           "conf: an unknown method exits 1 naming file:%d" % want, r)

    # Neither :black: nor :white:.
    p = conf(os.path.join(tmp, "neither.conf"), ["n"],
             entry("n", 'msg="n"', "file=/nonexistent"))
    r = st.run(p)
    TAP.ok(r.rc == 1 and re.search(r'%s:\d+: entry "n": must have :black: '
                                   r'or :white:' % re.escape(p), r.err),
           "conf: a list with neither black nor white exits 1", r)

    # "all" names a list that has no record: the line that names it.
    p = conf(os.path.join(tmp, "ghost.conf"), ["ghost"])
    r = st.run(p)
    TAP.ok(r.rc == 1 and re.search(r'%s:4: entry "all": list "ghost" has '
                                   r'no entry' % re.escape(p), r.err),
           "conf: \"all\" naming a missing list exits 1 naming file:4", r)

    r = st.run(os.path.join(tmp, "does-not-exist.conf"))
    TAP.ok(r.rc == 1 and "does-not-exist.conf: No such file" in r.err,
           "conf: a missing spamd.conf exits 1 naming it", r)

    # A misspelt :file=: the error points at the misspelling.
    p = conf(os.path.join(tmp, "flie.conf"), ["f"],
             entry("f", "black", 'msg="f"', "flie=/nonexistent"))
    want = '%s:%d: entry "f": no :file= (is :flie= on line %d meant to be ' \
        ':file=?)' % (p, line_of(p, "f:\\"),
                      line_of(p, "\t:flie=/nonexistent:"))
    r = st.run(p)
    TAP.ok(r.rc == 1 and want in r.err and r.out == "",
           "conf: a misspelt :file= is named in the error", "want: " + want,
           r)

    # An unknown capability is skipped, as getcap skips it, with a
    # warning; the list still works.
    lst = write(os.path.join(tmp, "conf-one.txt"), "192.0.2.1\n")
    p = conf(os.path.join(tmp, "unknown.conf"), ["k"],
             entry("k", "black", 'msg="k"', "comment=by hand",
                   "file=" + lst))
    want = '%s:%d: entry "k": unknown capability :comment=: ignored' % (
        p, line_of(p, "\t:comment=by hand:\\"))
    r = st.run(p, "-n")
    TAP.ok(r.rc == 0 and want in r.err
           and r.out == 'k;"k";inet;1;192.0.2.1/32\n',
           "conf: an unknown capability is a warning, the list loads",
           "want: " + want, r)

    # Saved with CRLF line ends: the same lists as with LF.
    with open(p) as f:
        text = f.read()
    q = write(os.path.join(tmp, "crlf.conf"), text.replace("\n", "\r\n"))
    r2 = st.run(q, "-n")
    TAP.ok(r2.rc == 0 and r2.out == r.out,
           "conf: a spamd.conf saved with CRLF loads like the LF one", r2)


def one(st, tmp, name, caps, *extra, msg='msg="m"'):
    """Dry run (-n -d) of a conf holding the one black list name."""
    p = conf(os.path.join(tmp, "%s.conf" % name), [name],
             entry(name, "black", msg, *caps))
    return st.run(p, "-n", "-d", *extra)


def want_line(name, msg='"m"', cidrs=PLAIN_CIDRS):
    return "%s;%s;%s\n" % (name, msg, cidrs)


def t_file_exec(st, tmp):
    plain = write(os.path.join(tmp, "plain.txt"), PLAIN)
    gz = write(os.path.join(tmp, "plain.gz"), gzip.compress(PLAIN, mtime=0))

    r = one(st, tmp, "fplain", ["method=file", "file=" + plain])
    TAP.ok(r.rc == 0 and r.out == want_line("fplain"),
           "file: a plain list gives exactly the collapsed control line", r)
    TAP.ok("blacklist fplain 4 entries" in r.err
           and re.search(r"list fplain: %s, %d bytes, 7 lines, 5 ranges, "
                         r"0 bad" % (re.escape(plain), len(PLAIN)), r.err),
           "file: -d counts bytes, lines, ranges and entries", r)
    TAP.ok("/nonexistent: none" in r.err,
           "file: --nospamd /nonexistent is fine without -b", r)

    r = one(st, tmp, "fgzip", ["file=" + gz])
    TAP.ok(r.rc == 0 and r.out == want_line("fgzip")
           and re.search(r"list fgzip: \S+, \d+ bytes \(gzip\)", r.err),
           "file: a gzip file (method defaults to file) is uncompressed", r)

    r = one(st, tmp, "fmissing", ["method=file",
                                  "file=" + os.path.join(tmp, "nope.txt")])
    TAP.ok(r.rc == 1 and r.out == ""
           and re.search(r"list fmissing: \S*nope\.txt: No such file or "
                         r"directory", r.err),
           "file: a missing file fails, naming it", r)

    # Unreadable: the user it was read as and the fix.  Root reads any
    # file here (its --db is root's); t_owner has the root case.
    if ROOT:
        TAP.skip("root reads a mode 0000 file", 1)
    else:
        locked = write(os.path.join(tmp, "locked.txt"), PLAIN, 0o000)
        me = pwd.getpwuid(os.geteuid()).pw_name
        r = one(st, tmp, "flocked", ["file=" + locked])
        TAP.ok(r.rc == 1 and "list flocked: %s: Permission denied (as user "
               "%s; %s is %s's own but mode 0000: chmod u+rw %s"
               % (locked, me, locked, me, locked) in r.err,
               "file: an unreadable list names the user, the mode and the "
               "fix", r)

    # exec
    r = one(st, tmp, "ecat", ["method=exec", "file=/bin/cat " + plain])
    TAP.ok(r.rc == 0 and r.out == want_line("ecat"),
           "exec: /bin/cat of the list gives the same control line", r)
    r = one(st, tmp, "ecatgz", ["method=exec", "file=/bin/cat\t" + gz])
    TAP.ok(r.rc == 0 and r.out == want_line("ecatgz")
           and "(gzip)" in r.err,
           "exec: a command printing gzip data (tab-separated argv) works",
           r)

    exit3 = write(os.path.join(tmp, "exit3.sh"),
                  "#!/bin/sh\necho 127.0.0.1\nexit 3\n", 0o755)
    r = one(st, tmp, "eexit3", ["method=exec", "file=" + exit3])
    TAP.ok(r.rc == 1 and r.out == ""
           and "list eexit3: %s: exited with status 3" % exit3 in r.err,
           "exec: a command exiting 3 fails, naming the status, though it "
           "printed an address", r)

    r = one(st, tmp, "enone", ["method=exec",
                               "file=/nonexistent/no-such-command -x"])
    TAP.ok(r.rc == 1 and r.out == ""
           and "cannot run /nonexistent/no-such-command: No such file"
           in r.err, "exec: a command that does not exist fails", r)

    who = write(os.path.join(tmp, "whoami.sh"),
                "#!/bin/sh\nu=$(id -u)\n"
                "echo \"10.$((u / 65536 % 256)).$((u / 256 % 256))."
                "$((u % 256))\"\n", 0o755)
    uid = pwd.getpwnam(FETCH_USER).pw_uid if ROOT else os.geteuid()
    ip = "10.%d.%d.%d" % (uid >> 16 & 255, uid >> 8 & 255, uid & 255)
    r = one(st, tmp, "ewho", ["method=exec", "file=" + who])
    TAP.ok(r.rc == 0 and r.out == 'ewho;"m";inet;1;%s/32\n' % ip,
           "exec: the command runs as uid %d (%s)"
           % (uid, "--user " + FETCH_USER if ROOT else "the caller"), r)

    # --user: as root it must name a user other than root; file lists do
    # not need it.  Anyone else fetches as themselves and it is unused.
    p = conf(os.path.join(tmp, "users.conf"), ["ufile", "uexec"],
             entry("ufile", "black", 'msg="f"', "file=" + plain),
             entry("uexec", "black", 'msg="e"', "method=exec",
                   "file=/bin/cat " + plain))
    r = st.run(p, "-n", "--user", "no-such-user-nfspamd-test")
    if ROOT:
        TAP.ok(r.rc == 1 and r.out == want_line("ufile", '"f"')
               and "user no-such-user-nfspamd-test: no such user" in r.err
               and "list uexec: method exec needs user "
               "no-such-user-nfspamd-test" in r.err,
               "--user: an unknown user fails exec lists, file lists are "
               "still used", r)
        r = st.run(p, "-n", "--user", "root")
        TAP.ok(r.rc == 1 and r.out == want_line("ufile", '"f"')
               and "user root is root; refusing to fetch lists as root"
               in r.err, "--user root: refused for exec lists", r)
    else:
        TAP.ok(r.rc == 0 and r.out == want_line("ufile", '"f"')
               + want_line("uexec", '"e"'),
               "--user: unused when not run as root", r)

    hang = ["/bin/sleep", "41.7"]
    r = one(st, tmp, "ehang", ["method=exec", "file=" + " ".join(hang)],
            "--timeout", "1")
    TAP.ok(r.rc == 1 and "list ehang: /bin/sleep 41.7: no answer within "
           "1 s (--timeout)" in r.err and 0.8 <= r.secs <= 4.0,
           "exec: a command that hangs fails after --timeout 1 (%.1f s)"
           % r.secs, r)
    # (nfspamd-setup reaps what it kills before it exits.)
    left = processes_with_cmdline(hang)
    TAP.ok(not left, "exec: the hung command is killed", "pids: %r" % left)


def t_http(st, tmp, web, tls, cert):
    big = b"".join(b"10.%d.%d.0/24\n" % (i >> 8 & 255, i & 255)
                   for i in range(100000))[:3 * MIB // 2]
    big = big[:big.rindex(b"\n") + 1]
    many = b"".join(b"10.%d.%d.%d\n" % (i >> 16 & 255, i >> 8 & 255, i & 255)
                    for i in range(40000))
    cut = gzip.compress(many, mtime=0)
    bomb = gzip.compress(b"127.0.0.1\n" * (2 * MIB // 10 + 1000), mtime=0)
    garbage = b"\x80\x81 garbage \xfe\xff zz\nno numbers here \xc3\x28\n" * 200
    web.routes.update({
        "/list.txt": ("body", "text/plain", PLAIN),
        "/list.bin": ("body", "application/octet-stream",
                      gzip.compress(PLAIN, mtime=0)),
        "/slow": ("slow",),
        "/garbage": ("body", "application/octet-stream", garbage),
        "/cut.gz": ("body", "application/octet-stream",
                    cut[:len(cut) // 2]),
        "/big.txt": ("body", "text/plain", big),
        "/bigstream": ("stream", big),
        "/bomb": ("body", "application/octet-stream", bomb),
        "/redirect": ("redirect",
                      "http://127.0.0.1:%d/list.txt" % web.port),
        "/teapot": ("status", 418),
    })
    url = "http://127.0.0.1:%d" % web.port
    P = web.port

    del web.seen[:]
    r = one(st, tmp, "hplain", ["method=http", http_file(P, "/list.txt")])
    TAP.ok(r.rc == 0 and r.out == want_line("hplain"),
           "http: a plain list gives exactly the collapsed control line", r)
    TAP.ok(re.search(r"list hplain: %s/list\.txt, %d bytes, 7 lines, "
                     r"5 ranges, 0 bad" % (re.escape(url), len(PLAIN)),
                     r.err) and "blacklist hplain 4 entries" in r.err,
           "http: -d names the URL and counts", r)
    TAP.ok([p for p, _ in web.seen] == ["/list.txt"]
           and web.seen[0][1].startswith("nfspamd-setup/"),
           "http: one GET with User-Agent nfspamd-setup/...",
           "seen: %r" % web.seen)

    r = one(st, tmp, "hgzip", ["method=http", http_file(P, "/list.bin")])
    TAP.ok(r.rc == 0 and r.out == want_line("hgzip")
           and re.search(r"list hgzip: \S+/list\.bin, \d+ bytes \(gzip\)",
                         r.err),
           "http: gzip served as application/octet-stream is recognised "
           "by its content", r)

    r = one(st, tmp, "hcolon", ["method=http",
                                "file=127.0.0.1\\c%d/list.txt" % P])
    TAP.ok(r.rc == 0 and r.out == want_line("hcolon"),
           "http: the port may also be written host\\cPORT", r)

    r = one(st, tmp, "h404", ["method=http", http_file(P, "/missing")])
    TAP.ok(r.rc == 1 and r.out == ""
           and "list h404: %s/missing: server answered 404" % url in r.err,
           "http: a 404 fails, naming the URL and the status", r)
    r = one(st, tmp, "h418", ["method=http", http_file(P, "/teapot")])
    TAP.ok(r.rc == 1 and "server answered 418" in r.err,
           "http: any other error status fails too", r)

    r = one(st, tmp, "hslow", ["method=http", http_file(P, "/slow")],
            "--timeout", "2")
    TAP.ok(r.rc == 1 and r.out == ""
           and re.search(r"list hslow: %s/slow: .*(timed out|--timeout)"
                         % re.escape(url), r.err),
           "http: a server slower than --timeout 2 fails, naming the "
           "timeout", r)
    TAP.ok(1.8 <= r.secs <= 7.0,
           "http: ... after about 2 s, not more than 7 (%.1f s)" % r.secs)

    r = one(st, tmp, "hgarbage", ["method=http", http_file(P, "/garbage")])
    TAP.ok(r.rc == 1 and r.out == ""
           and re.search(r"list hgarbage: %s/garbage: no addresses in 400 "
                         r"lines \(%d bytes\)" % (re.escape(url),
                                                  len(garbage)), r.err),
           "http: garbage gives no addresses and the list fails", r)
    TAP.ok("list hgarbage: 400 of 400 lines not understood" in r.err,
           "http: ... its lines are reported as not understood", r)

    r = one(st, tmp, "hcut", ["method=http", http_file(P, "/cut.gz")])
    TAP.ok(r.rc == 1 and r.out == ""
           and re.search(r"list hcut: \S+/cut\.gz: gzip data truncated",
                         r.err),
           "http: a gzip file cut in half fails as truncated", r)

    r = one(st, tmp, "hbig", ["method=http", http_file(P, "/big.txt")],
            "--max-size", "1")
    TAP.ok(r.rc == 1 and r.out == ""
           and re.search(r"list hbig: \S+/big\.txt: (.*--max-size|Maximum "
                         r"file size exceeded)", r.err),
           "http: a body larger than --max-size 1 (Content-Length) fails "
           "with the size message", r)
    r = one(st, tmp, "hbigs", ["method=http", http_file(P, "/bigstream")],
            "--max-size", "1")
    TAP.ok(r.rc == 1 and r.out == ""
           and re.search(r"list hbigs: \S+/bigstream: (more than %d bytes "
                         r"\(--max-size\)|Maximum file size exceeded)" % MIB,
                         r.err),
           "http: a body larger than --max-size 1 without Content-Length "
           "fails with the size message", r)
    r = one(st, tmp, "hbomb", ["method=http", http_file(P, "/bomb")],
            "--max-size", "1")
    TAP.ok(r.rc == 1 and r.out == ""
           and "more than %d bytes after decompression" % MIB in r.err,
           "http: gzip data that inflates past --max-size fails", r)
    r = one(st, tmp, "hbigok", ["method=http", http_file(P, "/big.txt")],
            "--max-size", "2")
    TAP.ok(r.rc == 0 and r.out.startswith('hbigok;"m";inet;'),
           "http: the same body is taken with --max-size 2", r)

    r = one(st, tmp, "hredir", ["method=http", http_file(P, "/redirect")])
    TAP.ok(r.rc == 0 and r.out == want_line("hredir"),
           "http: a redirect to the list is followed", r)

    dead = free_port()
    r = one(st, tmp, "hrefused", ["method=http", http_file(dead, "/x")],
            "--connect-timeout", "2")
    TAP.ok(r.rc == 1 and r.out == "" and r.secs < 5
           and "list hrefused: http://127.0.0.1:%d/x: " % dead in r.err,
           "http: a port nobody listens on fails at once", r)

    if tls is None:
        TAP.ok(False, "https: a server with a test certificate",
               "openssl could not make one")
        return
    tls.routes["/list.txt"] = ("body", "text/plain", PLAIN)
    T = tls.port
    r = one(st, tmp, "snocert", ["method=https", http_file(T, "/list.txt")])
    TAP.ok(r.rc == 1 and r.out == ""
           and re.search(r"list snocert: https://127\.0\.0\.1:%d/list\.txt: "
                         r".*certificate" % T, r.err),
           "https: a self-signed server fails without --cacert "
           "(verified)", r)
    r = one(st, tmp, "scert", ["method=https", http_file(T, "/list.txt")],
            "--cacert", cert)
    TAP.ok(r.rc == 0 and r.out == want_line("scert"),
           "https: with --cacert cert.pem the list comes through", r)
    r = one(st, tmp, "shttp", ["method=http", http_file(T, "/list.txt")],
            "--cacert", cert)
    TAP.ok(r.rc == 1 and r.out == "",
           "http: plain http to the TLS port fails", r)

    # http sent on to https by a redirect is allowed, https to http is not.
    web.routes["/to-https"] = ("redirect",
                               "https://127.0.0.1:%d/list.txt" % T)
    tls.routes["/to-http"] = ("redirect",
                              "http://127.0.0.1:%d/list.txt" % P)
    r = one(st, tmp, "h2s", ["method=http", http_file(P, "/to-https")],
            "--cacert", cert)
    TAP.ok(r.rc == 0 and r.out == want_line("h2s"),
           "http: a redirect from http to https is followed", r)
    r = one(st, tmp, "s2h", ["method=https", http_file(T, "/to-http")],
            "--cacert", cert)
    TAP.ok(r.rc == 1 and r.out == ""
           and re.search(r'list s2h: https://\S+/to-http: .*"http"', r.err),
           "https: a redirect from https down to http is refused", r)


def t_dry(st, tmp, d):
    """-n: the exact control lines, nothing sent, no state written."""
    black = write(os.path.join(tmp, "dry-black.txt"),
                  "127.0.0.64/30\n2001:db8::/47\n198.51.100.0/24\n")
    white = write(os.path.join(tmp, "dry-white.txt"),
                  "127.0.0.67\n2001:db8:1::/48\n198.51.100.128/25\n")
    other = write(os.path.join(tmp, "dry-other.txt"), "203.0.113.9\n")
    p = conf(os.path.join(tmp, "dry.conf"), ["dblack", "dwhite", "dother"],
             entry("dblack", "black", CONF_MSG, "method=file",
                   "file=" + black),
             entry("dwhite", "white", "method=file", "file=" + white),
             entry("dother", "black", 'msg="Other: %A"', "file=" + other))
    want = ("dblack;" + LINE_MSG + ";inet;3;127.0.0.64/31;127.0.0.66/32;"
            "198.51.100.0/25;inet6;1;2001:db8::/48\n"
            'dother;"Other: %A";inet;1;203.0.113.9/32\n')
    db = os.path.join(tmp, "dry-state")
    os.makedirs(db)
    r = st.run(p, "-n", db=db)
    TAP.ok(r.rc == 0 and r.out == want,
           "-n: prints the control lines exactly (escaped message, white "
           "subtracted, inet and inet6)", "want: %r" % want, r)
    TAP.ok(os.listdir(db) == [],
           "-n: writes no state and takes no lock in --db",
           "found: %r" % os.listdir(db))
    TAP.ok("could not" not in r.err and "is nfspamd running" not in r.err,
           "-n: no control socket needed", r)
    if d is not None:
        since = d.mark()
        r = st.run(p, "-n", db=db, control=d.ctl)
        TAP.ok(r.rc == 0 and r.out == want and d.settled()
               and "blacklist list=" not in d.log(since),
               "-n: with nfspamd running, sends it nothing", r,
               d.log(since))

    # Failing lists are left out of the dry run's output, exit 1.
    p = conf(os.path.join(tmp, "dry-fail.conf"), ["dother", "dgone"],
             entry("dother", "black", 'msg="Other: %A"', "file=" + other),
             entry("dgone", "black", 'msg="x"',
                   "file=" + os.path.join(tmp, "dry-none.txt")))
    r = st.run(p, "-n", db=db)
    TAP.ok(r.rc == 1 and r.out == 'dother;"Other: %A";inet;1;'
           '203.0.113.9/32\n' and "list dgone: " in r.err,
           "-n: a failing list exits 1, the others are still printed", r)

    # Bad lines are reported with file:line; only they: exit 0.
    bad = write(os.path.join(tmp, "dry-bad.txt"),
                "127.0.0.1\n# comment\nnot an address\n10.0.0.1\n"
                "10.0.0.300\n")
    p = conf(os.path.join(tmp, "dry-bad.conf"), ["dbad"],
             entry("dbad", "black", 'msg="b"', "file=" + bad))
    r = st.run(p, "-n", "-d", db=db)
    TAP.ok(r.rc == 0
           and r.out == 'dbad;"b";inet;2;10.0.0.1/32;127.0.0.1/32\n',
           "bad lines: the good lines are still used, exit 0", r)
    TAP.ok("list dbad: 2 of 5 lines not understood" in r.err
           and "%s:3: " % bad in r.err and "%s:5: " % bad in r.err
           and "%s:4:" % bad not in r.err,
           "bad lines: each reported as file:line", r)
    TAP.ok("blacklist dbad 2 entries" in r.err,
           "bad lines: -d prints \"blacklist dbad 2 entries\"", r)

    # A white list with no black list before it.
    p = conf(os.path.join(tmp, "dry-lonely.conf"), ["dwhite", "dother"],
             entry("dwhite", "white", "file=" + white),
             entry("dother", "black", 'msg="Other: %A"', "file=" + other))
    r = st.run(p, "-n", db=db)
    TAP.ok(r.rc == 0 and r.out.startswith("dother;")
           and "list dwhite: a white list with no black list before it"
           in r.err, "white list first in \"all\": warned about, no effect",
           r)


def t_nfspamd(st, tmp, d, web):
    """Lists into a running nfspamd: sent, kept on failure, cleared."""
    P = web.port
    db = os.path.join(tmp, "state")
    os.makedirs(db)
    os.chmod(db, 0o755)
    web.routes["/a.txt"] = ("body", "text/plain", b"127.0.0.64/30\n")
    awhite = write(os.path.join(tmp, "awhite.txt"), "127.0.0.67\n")
    beta = write(os.path.join(tmp, "beta.txt"), "127.0.0.70\n")
    gamma = write(os.path.join(tmp, "gamma.txt"), "127.0.0.80\n")
    e_alpha = entry("alpha", "black", CONF_MSG, "method=http",
                    http_file(P, "/a.txt"))
    e_awhite = entry("awhite", "white", "method=file", "file=" + awhite)
    e_beta = entry("beta", "black", 'msg="beta %A"', "file=" + beta)
    e_gamma = entry("gamma", "black", 'msg="gamma %A"', "method=exec",
                    "file=/bin/cat " + gamma)
    c1 = conf(os.path.join(tmp, "run1.conf"),
              ["alpha", "awhite", "beta", "gamma"],
              e_alpha, e_awhite, e_beta, e_gamma)

    reply = d.control('manual;"m";inet;1;127.0.0.77/32\n')
    TAP.ok(reply.startswith("ok lists=1 refused=0"),
           "nfspamd: a list set by hand on the control socket",
           "got %r" % reply)

    # Run 1: all good.
    since = d.mark()
    r = st.run(c1, "-d", db=db, control=d.ctl)
    TAP.ok(r.rc == 0, "run 1: exit 0 when every list worked", r)
    TAP.ok("blacklist alpha 2 entries" in r.err
           and "blacklist beta 1 entries" in r.err
           and "blacklist gamma 1 entries" in r.err,
           "run 1: -d prints the entries of each list", r)
    TAP.ok("nfspamd: 3 lists sent, 0 cleared" in r.err,
           "run 1: \"3 lists sent, 0 cleared\"", r)
    TAP.ok(re.search(r"nfspamd: lists=3 refused=0 total=4 ", r.err),
           "run 1: -d shows nfspamd's confirmation", r)
    TAP.ok(d.wait_log(r"blacklist list=alpha prefixes=2$", since)
           and d.wait_log(r"blacklist list=beta prefixes=1$", since)
           and d.wait_log(r"blacklist list=gamma prefixes=1$", since),
           "run 1: nfspamd logs the three lists", d.log(since))
    statef = os.path.join(db, "setup.state")
    try:
        with open(statef, "rb") as f:
            head = f.read(64)
    except OSError as e:
        head = repr(e).encode()
    TAP.ok(head.startswith(b"nfspamd-setup state 1\n"),
           "run 1: --db holds setup.state", "head: %r" % head)

    TAP.eq(d.fate("127.0.0.66"), alpha_reply("127.0.0.66"),
           "run 1: a client from 127.0.0.66 gets alpha's message with %A "
           "and the quotes")
    TAP.eq(d.fate("127.0.0.64"), alpha_reply("127.0.0.64"),
           "run 1: 127.0.0.64 (same /30) too")
    TAP.eq(d.fate("127.0.0.67"), "grey",
           "run 1: 127.0.0.67, in alpha's white list, is only greylisted")
    TAP.eq(d.fate("127.0.0.70"), b"450 beta 127.0.0.70\r\n",
           "run 1: 127.0.0.70 gets beta's message")
    TAP.eq(d.fate("127.0.0.80"), b"450 gamma 127.0.0.80\r\n",
           "run 1: 127.0.0.80 gets gamma's message (exec list)")
    TAP.eq(d.fate("127.0.0.77"), b"450 m\r\n",
           "run 1: 127.0.0.77 gets the hand-set list's message")
    TAP.eq(d.fate("127.0.0.90"), "grey",
           "run 1: an address on no list is greylisted")

    # Run 2: alpha's server answers 404, beta changed, gamma gone.
    web.routes.pop("/a.txt")
    write(beta, "127.0.0.71\n")
    c2 = conf(os.path.join(tmp, "run2.conf"), ["alpha", "awhite", "beta"],
              e_alpha, e_awhite, e_beta)
    since = d.mark()
    r = st.run(c2, "-d", db=db, control=d.ctl)
    TAP.ok(r.rc == 1, "run 2: exit 1 when a list failed", r)
    TAP.ok("list alpha: http://127.0.0.1:%d/a.txt: server answered 404; "
           "nfspamd keep" % P in r.err,
           "run 2: the failure names the list, the URL and the 404", r)
    TAP.ok("nfspamd: 1 list sent, 1 cleared" in r.err
           and "list gamma: gone from %s, clearing it" % c2 in r.err,
           "run 2: \"1 list sent, 1 cleared\" (beta sent, gamma cleared)", r)
    d.wait_log(r"blacklist list=gamma ", since)
    log2 = d.log(since)
    TAP.ok(re.search(r"blacklist list=beta prefixes=1$", log2, re.M)
           and re.search(r"blacklist list=gamma prefixes=0 \(cleared\)$",
                         log2, re.M),
           "run 2: nfspamd logs beta updated and gamma cleared", log2)
    TAP.ok("list=alpha" not in log2 and "list=manual" not in log2,
           "run 2: nfspamd's log shows nothing for alpha (no clear) nor "
           "for the hand-set list", log2)
    TAP.eq(d.fate("127.0.0.66"), alpha_reply("127.0.0.66"),
           "run 2: 127.0.0.66 is still blacklisted by alpha's old contents")
    TAP.eq(d.fate("127.0.0.67"), "grey",
           "run 2: 127.0.0.67 is still only greylisted")
    TAP.eq(d.fate("127.0.0.71"), b"450 beta 127.0.0.71\r\n",
           "run 2: beta's new address 127.0.0.71 is blacklisted")
    TAP.eq(d.fate("127.0.0.70"), "grey",
           "run 2: beta's old address 127.0.0.70 is not any more")
    TAP.eq(d.fate("127.0.0.80"), "grey",
           "run 2: gamma, removed from spamd.conf, is cleared")
    TAP.eq(d.fate("127.0.0.77"), b"450 m\r\n",
           "run 2: the hand-set list is not cleared")

    # Run 3: alpha removed from spamd.conf, but nfspamd cannot be reached.
    web.routes["/a.txt"] = ("body", "text/plain", b"127.0.0.64/30\n")
    c3 = conf(os.path.join(tmp, "run3.conf"), ["beta"], e_beta)
    since = d.mark()
    r = st.run(c3, db=db)
    TAP.ok(r.rc == 1 and "%s: No such file or directory (is nfspamd "
           "running, with this --control?); nothing sent" % st.nosock
           in r.err,
           "run 3: no nfspamd on the control socket: exit 1, nothing sent",
           r)
    TAP.ok(d.settled() and "blacklist list=" not in d.log(since),
           "run 3: the running nfspamd got nothing", d.log(since))

    # What else keeps the socket from answering is said as it is.
    gone = os.path.join(tmp, "no-run-dir")
    r = st.run(c3, db=db, control=os.path.join(gone, "ctl.sock"))
    TAP.ok(r.rc == 1 and "ctl.sock: No such file or directory (as user "
           in r.err and "; %s does not exist: create it" % gone in r.err
           and "is nfspamd running" not in r.err,
           "control: a missing socket directory is named, with the fix", r)
    stale = os.path.join(tmp, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    r = st.run(c3, db=db, control=stale)
    TAP.ok(r.rc == 1 and "%s: Connection refused (nobody listens there: "
           "nfspamd is not running" % stale in r.err,
           "control: a socket nobody listens on is told apart", r)

    # Run 4: the same conf, nfspamd reachable: alpha (failed in run 2,
    # unsent in run 3) is still known to be ours and is cleared now.
    since = d.mark()
    r = st.run(c3, "-d", db=db, control=d.ctl)
    TAP.ok(r.rc == 0 and "nfspamd: 1 list sent, 1 cleared" in r.err
           and "list alpha: gone from %s, clearing it" % c3 in r.err,
           "run 4: exit 0, alpha cleared, beta sent", r)
    TAP.ok(d.wait_log(r"blacklist list=alpha prefixes=0 \(cleared\)$",
                      since) and "list=manual" not in d.log(since),
           "run 4: nfspamd logs alpha cleared, nothing about the hand-set "
           "list", d.log(since))
    TAP.eq(d.fate("127.0.0.66"), "grey",
           "run 4: 127.0.0.66 is no longer blacklisted")
    TAP.eq(d.fate("127.0.0.71"), b"450 beta 127.0.0.71\r\n",
           "run 4: beta still applies")
    TAP.eq(d.fate("127.0.0.77"), b"450 m\r\n",
           "run 4: the hand-set list is still there")

    # Run 5: again, nothing left to clear.
    r = st.run(c3, db=db, control=d.ctl)
    TAP.ok(r.rc == 0 and "nfspamd: 1 list sent, 0 cleared" in r.err,
           "run 5: the clear is not repeated", r)

    # The lock.
    lockf = os.open(os.path.join(db, "setup.lock"), os.O_RDWR | os.O_CREAT,
                    0o600)
    try:
        fcntl.flock(lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
        since = d.mark()
        r = st.run(c3, db=db, control=d.ctl)
        TAP.ok(r.rc == 1 and "another nfspamd-setup is running" in r.err,
               "lock: a second run while setup.lock is held exits 1", r)
        TAP.ok(d.settled() and "blacklist list=" not in d.log(since),
               "lock: ... and sends nothing", d.log(since))
    finally:
        os.close(lockf)
    r = st.run(c3, db=db, control=d.ctl)
    TAP.ok(r.rc == 0, "lock: once released, a run works again", r)

    # A state directory that does not exist.
    r = st.run(c3, db=os.path.join(tmp, "no-such-dir"), control=d.ctl)
    TAP.ok(r.rc == 1 and "no-such-dir/setup.lock: No such file" in r.err,
           "state: a missing --db directory exits 1 naming the lock file", r)


def prom_samples(path):
    """{'name{labels}': value} of a textfile, or None when unreadable."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out


def promtool(path):
    """promtool check metrics on path: "" when it passes, else why; None
    when promtool is not installed."""
    exe = shutil.which("promtool")
    if exe is None:
        return None
    with open(path, "rb") as f:
        r = subprocess.run([exe, "check", "metrics"], stdin=f,
                           capture_output=True, timeout=20)
    out = (r.stdout + r.stderr).decode(errors="replace")
    return out if r.returncode != 0 or out else ""


def next_second():
    """Sleep into the next second: runs then have distinct timestamps."""
    time.sleep(1.02 - time.time() % 1)


class Metrics:
    """Runs of nfspamd-setup with --metrics-file, and their files."""

    def __init__(self, st, tmp, d):
        self.st, self.d = st, d
        self.db = os.path.join(tmp, "metrics-db")
        self.dir = os.path.join(tmp, "textfile")
        for p in (self.db, self.dir):
            os.makedirs(p)
            os.chmod(p, 0o755)
        self.file = os.path.join(self.dir, "nfspamd-setup.prom")
        self.m = {}
        self.t = 0

    def run(self, conf_path, *extra, control=None):
        next_second()
        self.t = int(time.time())
        r = self.st.run(conf_path, "--metrics-file", self.file, *extra,
                        db=self.db, control=control or self.d.ctl)
        self.m = prom_samples(self.file) or {}
        return r

    def check(self, what):
        v = promtool(self.file)
        if v is None:
            TAP.skip("promtool is not installed")
        else:
            TAP.ok(v == "", "%s: the file passes promtool check metrics"
                   % what, v)

    def get(self, name, **labels):
        """The sample's value; labels in the order the file has them."""
        if labels:
            name += "{%s}" % ",".join('%s="%s"' % kv for kv in
                                      labels.items())
        return self.m.get(name)

    def lists(self, name):
        """{list: value} of a per-list family."""
        pre = name + '{list="'
        return {k[len(pre):k.index('"', len(pre))]: v
                for k, v in self.m.items() if k.startswith(pre)}


def t_metrics(st, tmp, d, web):
    """--metrics-file: what each run wrote, across failures."""
    P = web.port
    mx = Metrics(st, tmp, d)
    m1 = write(os.path.join(tmp, "m1.txt"),
               "127.0.1.0/24\n127.0.2.5\n2001:db8:5::/48\n")
    m1w = write(os.path.join(tmp, "m1w.txt"), "127.0.1.128/25\n")
    web.routes["/m2.txt"] = ("body", "text/plain", b"127.0.3.0/24\n")
    e_m1 = entry("m1", "black", 'msg="m1 %A"', "file=" + m1)
    e_m1w = entry("m1w", "white", "file=" + m1w)
    e_m2 = entry("m2", "black", 'msg="m2 %A"', "method=http",
                 http_file(P, "/m2.txt"))
    c1 = conf(os.path.join(tmp, "metrics1.conf"), ["m1", "m1w", "m2"],
              e_m1, e_m1w, e_m2)
    version = package_version()

    # Run 1: every list works.
    r = mx.run(c1)
    t1 = mx.t
    TAP.ok(r.rc == 0 and mx.m, "metrics run 1: exit 0, the file written",
           r)
    mx.check("metrics run 1")
    TAP.eq((mx.get("nfspamd_setup_build_info", version=version),
            mx.get("nfspamd_setup_last_run_success"),
            mx.get("nfspamd_setup_last_run_problems"),
            mx.get("nfspamd_setup_last_success_timestamp_seconds")),
           (1, 1, 0, t1), "metrics run 1: build_info, success 1, 0 "
           "problems, last success now")
    TAP.ok(abs(mx.get("nfspamd_setup_last_run_timestamp_seconds", ) - t1)
           <= 1 and 0 < mx.get("nfspamd_setup_last_run_duration_seconds")
           < RUN_TIMEOUT, "metrics run 1: the run's start and duration",
           repr(mx.m))
    TAP.eq(mx.lists("nfspamd_setup_list_entries"),
           {"m1": 3, "m1w": 1, "m2": 1},
           "metrics run 1: entries: m1 3 prefixes once m1w is taken away, "
           "m1w 1, m2 1")
    TAP.eq(mx.lists("nfspamd_setup_list_failed"),
           {"m1": 0, "m1w": 0, "m2": 0}, "metrics run 1: no list failed")
    TAP.eq(mx.lists("nfspamd_setup_list_last_success_timestamp_seconds"),
           {"m1": t1, "m1w": t1, "m2": t1},
           "metrics run 1: each list's last success is this run")
    TAP.eq((mx.lists("nfspamd_setup_list_last_failure_timestamp_seconds"),
            sorted(mx.lists("nfspamd_setup_list_fetch_seconds"))),
           ({}, ["m1", "m1w", "m2"]),
           "metrics run 1: no failure yet; a fetch time for each list")
    TAP.eq(mx.get("nfspamd_setup_list_info", list="m2", type="black",
                  method="http"), 1, "metrics run 1: list_info of m2")
    TAP.ok(d.wait_log(r"blacklist list=m1 prefixes=3$"),
           "metrics run 1: nfspamd holds m1's 3 prefixes", d.log_tail())

    # Run 2: m2's server answers 404.
    del web.routes["/m2.txt"]
    r = mx.run(c1)
    t2 = mx.t
    TAP.ok(r.rc == 1, "metrics run 2: exit 1, m2 failed", r)
    mx.check("metrics run 2")
    TAP.eq((mx.get("nfspamd_setup_list_failed", list="m2"),
            mx.get("nfspamd_setup_list_last_failure_timestamp_seconds",
                   list="m2", reason="fetch"),
            mx.get("nfspamd_setup_list_last_success_timestamp_seconds",
                   list="m2"),
            mx.get("nfspamd_setup_list_entries", list="m2")),
           (1, t2, t1, 1), "metrics run 2: m2 failed now (reason fetch), "
           "keeps run 1 as its last success and its entry")
    TAP.eq((mx.get("nfspamd_setup_list_failed", list="m1"),
            mx.get("nfspamd_setup_list_last_success_timestamp_seconds",
                   list="m1")), (0, t2), "metrics run 2: m1 worked now")
    TAP.eq((mx.get("nfspamd_setup_last_run_success"),
            mx.get("nfspamd_setup_last_success_timestamp_seconds")),
           (0, t1), "metrics run 2: the run failed; its last success is "
           "run 1's")

    # Run 3: m2 is back; m1's white list fails, and so does m1.
    web.routes["/m2.txt"] = ("body", "text/plain", b"127.0.3.0/24\n")
    e_m1w = entry("m1w", "white", "method=exec",
                  "file=/bin/cat " + os.path.join(tmp, "no-m1w.txt"))
    c3 = conf(os.path.join(tmp, "metrics3.conf"), ["m1", "m1w", "m2"],
              e_m1, e_m1w, e_m2)
    r = mx.run(c3)
    t3 = mx.t
    TAP.ok(r.rc == 1, "metrics run 3: exit 1, m1w failed", r)
    mx.check("metrics run 3")
    TAP.eq(mx.lists("nfspamd_setup_list_failed"),
           {"m1": 1, "m1w": 1, "m2": 0},
           "metrics run 3: m1 and m1w failed, m2 worked")
    TAP.eq(mx.lists("nfspamd_setup_list_last_failure_timestamp_seconds"),
           {"m1": t3, "m1w": t3, "m2": t2},
           "metrics run 3: failures now; m2's from run 2 is kept")
    TAP.ok(mx.get("nfspamd_setup_list_last_failure_timestamp_seconds",
                  list="m1", reason="white") == t3
           and mx.get("nfspamd_setup_list_last_failure_timestamp_seconds",
                      list="m1w", reason="fetch") == t3,
           "metrics run 3: m1 failed for its white list, m1w to fetch",
           repr(mx.m))
    TAP.eq(mx.lists("nfspamd_setup_list_last_success_timestamp_seconds"),
           {"m1": t2, "m1w": t2, "m2": t3},
           "metrics run 3: m1 and m1w keep run 2's success")

    # Run 4: nfspamd cannot be reached.
    r = mx.run(c1, control=st.nosock)
    t4 = mx.t
    mx.check("metrics run 4")
    TAP.ok(r.rc == 1 and mx.get(
        "nfspamd_setup_list_last_failure_timestamp_seconds", list="m2",
        reason="control") == t4 and mx.get(
        "nfspamd_setup_list_failed", list="m1w") == 0,
        "metrics run 4: without nfspamd, the black lists fail with reason "
        "control; the white list worked", r, repr(mx.m))

    # -n writes no file.
    before = os.stat(mx.file).st_mtime_ns
    r = mx.run(c1, "-n")
    TAP.ok(r.rc == 0 and os.stat(mx.file).st_mtime_ns == before,
           "metrics: -n leaves the file alone", r)

    # A spamd.conf that cannot be read: the failed run, the history's lists.
    bad = write(os.path.join(tmp, "metrics-bad.conf"), "no all here\n")
    r = mx.run(bad)
    mx.check("metrics: bad spamd.conf")
    TAP.eq((r.rc, mx.get("nfspamd_setup_last_run_success"),
            mx.get("nfspamd_setup_last_run_timestamp_seconds"),
            mx.lists("nfspamd_setup_list_last_success_timestamp_seconds"),
            mx.lists("nfspamd_setup_list_failed")),
           (1, 0, mx.t, {"m1": t2, "m1w": t4, "m2": t3}, {}),
           "metrics: a bad spamd.conf is a failed run; the lists' last "
           "successes stay", r)

    # A damaged history: said so, and the times start afresh.
    hist = os.path.join(mx.db, "setup.history")
    TAP.ok(os.path.exists(hist), "metrics: --db holds setup.history")
    with open(hist, "a") as f:
        f.write("list\tbogus\n")
    r = mx.run(c1)
    TAP.ok(r.rc == 0 and "%s: line " % hist in r.err and "start afresh"
           in r.err, "metrics: a damaged setup.history is named, and the "
           "run goes on", r)
    TAP.eq(mx.lists("nfspamd_setup_list_last_failure_timestamp_seconds"),
           {}, "metrics: ... its failures forgotten")


def owners(path):
    """{name: owner uid} of everything in path."""
    return {n: os.lstat(os.path.join(path, n)).st_uid
            for n in os.listdir(path)}


OWNER_CHECKS = 13


def t_owner(st, tmp, d):
    """Root runs on a --db of nobody's leave it nobody's."""
    if not ROOT:
        TAP.skip("needs root: a --db directory owned by another user",
                 OWNER_CHECKS)
        return
    nobody = pwd.getpwnam("nobody")
    dn = Nfspamd(tmp, "nfspamd-nobody", nobody)
    if not TAP.ok(dn.start(), "owner: an nfspamd running as nobody starts"):
        TAP.skip("no nfspamd as nobody", OWNER_CHECKS - 1)
        return
    try:
        t_owner_runs(st, tmp, d, dn, nobody)
    finally:
        dn.cleanup()


def t_owner_runs(st, tmp, d, dn, nobody):
    lst = write(os.path.join(tmp, "owner.txt"), "127.0.0.99\n")
    c = conf(os.path.join(tmp, "owner.conf"), ["own"],
             entry("own", "black", 'msg="own %A"', "file=" + lst))
    db = os.path.join(tmp, "owned-db")
    os.makedirs(db)
    os.chown(db, nobody.pw_uid, nobody.pw_gid)
    os.chmod(db, 0o750)
    # What a root run of an older version left: root's, mode 0600.
    for name in ("setup.lock", "nft.gen"):
        os.close(os.open(os.path.join(db, name), os.O_CREAT | os.O_WRONLY,
                         0o600))
    args = ["-f", c, "--db", db, "--control", dn.ctl, "--nospamd",
            "/nonexistent"]

    lock = os.path.join(db, "setup.lock")
    r = bare(*args, user=nobody)
    TAP.ok(r.rc == 1 and "%s: Permission denied (as user nobody; %s is "
           "owned by root:root mode 0600: " % (lock, lock) in r.err
           and "chown nobody %s" % lock in r.err,
           "owner: as nobody, a root-owned setup.lock is named with the "
           "user and the fix", r)

    r = st.run(c, "-d", db=db, control=dn.ctl)
    TAP.ok(r.rc == 0 and "nfspamd: 1 list sent" in r.err,
           "owner: a root run on nobody's --db works", r)
    TAP.ok("%s belonged to root: given to nobody, who owns %s" % (lock, db)
           in r.err and "nft.gen belonged to root: given to nobody" in r.err,
           "owner: it gives nobody the files an older root run left", r)
    TAP.ok("working as nobody, the owner of %s" % db in r.err,
           "owner: -d says it works as the directory's owner", r)
    own = owners(db)
    TAP.ok(sorted(own) == ["nft.gen", "setup.lock", "setup.state"]
           and set(own.values()) == {nobody.pw_uid},
           "owner: every file in --db is nobody's after the root run",
           "owners: %r" % own)

    r = bare(*args, "-d", user=nobody)
    TAP.ok(r.rc == 0 and "nfspamd: 1 list sent, 0 cleared" in r.err,
           "owner: a run as nobody works after the root run", r)
    own = owners(db)
    TAP.ok(set(own.values()) == {nobody.pw_uid},
           "owner: ... and leaves every file nobody's", "owners: %r" % own)
    TAP.eq(dn.fate("127.0.0.99"), b"450 own 127.0.0.99\r\n",
           "owner: the list reached the nfspamd running as nobody")

    # Permission errors met as nobody name the path, user and fix.
    rootdb = os.path.join(tmp, "root-db")
    os.makedirs(rootdb)
    os.chmod(rootdb, 0o755)
    r = bare("-f", c, "--db", rootdb, "--control", dn.ctl, "--nospamd",
             "/nonexistent", user=nobody)
    TAP.ok(r.rc == 1 and "%s/setup.lock: Permission denied (as user "
           "nobody; %s is owned by root:root mode 0755: " % (rootdb, rootdb)
           in r.err and "chown nobody %s" % rootdb in r.err,
           "owner: as nobody, a root-owned --db is named with the user and "
           "the fix", r)
    r = bare(*(args[:4] + ["--control", d.ctl] + args[6:]), user=nobody)
    TAP.ok(r.rc == 1 and "control socket %s: Permission denied (as user "
           "nobody; %s is owned by root:" % (d.ctl, d.ctl) in r.err
           and "is nfspamd running" not in r.err,
           "owner: a control socket nobody may not use is named with the "
           "user, not as \"is nfspamd running?\"", r)

    # The root run reads lists as the directory's owner, as the service.
    secret = write(os.path.join(tmp, "root-only.txt"), "127.0.0.98\n",
                   0o600)
    c2 = conf(os.path.join(tmp, "owner2.conf"), ["sec"],
              entry("sec", "black", 'msg="sec"', "file=" + secret))
    r = st.run(c2, db=db, control=dn.ctl)
    TAP.ok(r.rc == 1 and "list sec: %s: Permission denied (as user nobody; "
           "%s is owned by root:root mode 0600: " % (secret, secret) in r.err
           and "chown nobody %s" % secret in r.err,
           "owner: a root run reads lists as nobody, and says so when it "
           "cannot", r)

    # A user nfspamd takes nothing from: it hangs up without a word.
    other = 65533
    odb = os.path.join(tmp, "other-db")
    os.makedirs(odb)
    os.chown(odb, other, other)
    os.chmod(dn.ctl, 0o666)
    r = bare(*(args[:3] + [odb] + args[4:]), uid=other)
    TAP.ok(r.rc == 1 and "nfspamd closed the control connection without "
           "an answer" in r.err and "this is user uid 65533" in r.err,
           "owner: nfspamd hanging up on a user is said so, naming the user",
           r)


# --------------------------------------------------------------------------

def main():
    for prog in (SETUP, NFSPAMD):
        if not os.access(prog, os.X_OK):
            print("Bail out! no executable %s (set NFSPAMD_SETUP / NFSPAMD)"
                  % prog, flush=True)
            return 1
    if ROOT:
        try:
            pwd.getpwnam(FETCH_USER)
        except KeyError:
            print("Bail out! running as root and there is no user %s for "
                  "--user" % FETCH_USER, flush=True)
            return 1

    def on_alarm(signum, frame):
        raise Watchdog("the test ran longer than %d s" % WATCHDOG)

    def on_term(signum, frame):
        raise Watchdog("stopped by signal %d" % signum)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.alarm(WATCHDOG)

    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="nfspamd-setup-it.")
    servers = []
    d = None
    try:
        # The --user children read files in here.
        os.chmod(tmp, 0o755)
        os.makedirs(os.path.join(tmp, "dry-db"))
        st = Setup(tmp)

        web = Server()
        servers.append(web)
        web.start()
        cert = make_cert(tmp)
        tls = None
        if cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert[0], cert[1])
            tls = Server(ctx)
            servers.append(tls)
            tls.start()

        section("usage", t_usage, st, tmp)
        section("spamd.conf errors", t_conf_errors, st, tmp)
        section("file and exec", t_file_exec, st, tmp)
        section("http and https", t_http, st, tmp, web, tls,
                cert[0] if cert else None)

        d = Nfspamd(tmp)
        started = TAP.ok(d.start(), "nfspamd starts and listens")
        section("dry run", t_dry, st, tmp, d if started else None)
        if started:
            section("nfspamd", t_nfspamd, st, tmp, d, web)
            section("metrics file", t_metrics, st, tmp, d, web)
            section("owner of --db", t_owner, st, tmp, d)
            TAP.ok(d.proc.poll() is None, "nfspamd is still running",
                   d.log())
    except Watchdog as e:
        TAP.ok(False, "finished in time, uninterrupted", str(e))
    except Exception as e:
        TAP.ok(False, "test script ran to the end",
               "%s: %s" % (type(e).__name__, e))
    finally:
        signal.alarm(0)
        for s in servers:
            try:
                s.close()
            except Exception as e:
                TAP.diag("closing a server: %r" % e)
        if d is not None:
            d.cleanup()
            if TAP.failed:
                TAP.diag("--- nfspamd log (last lines)")
                TAP.diag("\n".join(d.log().splitlines()[-15:]))
        shutil.rmtree(tmp, ignore_errors=True)
        TAP.diag("run time %.1f s" % (time.monotonic() - t_start))
        print("1..%d" % TAP.n, flush=True)
    return 1 if TAP.failed else 0


if __name__ == "__main__":
    sys.exit(main())
