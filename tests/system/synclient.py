#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
"""tests/system/synclient.py: a tiny user-space TCP client whose SYN looks
like another operating system's, for system tests of OS fingerprinting.

It builds the IP and TCP headers itself and sends them on a packet socket,
so the SYN carries exactly the IP TTL (IPv6 hop limit), DF bit, window and
TCP options asked for (pf.os syntax), and the server that fingerprints it
sees e.g. a Windows XP, Windows 10 or macOS SYN.  It then completes the
handshake, reads what the server sends for a while (acknowledging it),
optionally sends one segment of its own, and resets the connection.

Run it as root (CAP_NET_RAW and CAP_NET_ADMIN) inside a network namespace
of the test.  While it runs, an nftables table of its own
(inet synclient_PID) keeps the local kernel, which has no socket for the
connection, from answering the server with RSTs; the table is deleted at
exit, also on errors and on SIGINT/SIGTERM/SIGHUP.

Packets go out on an AF_PACKET socket to the link-layer address of --dst
(or of the gateway of its route), which "ip neigh get" gives once one UDP
datagram to --dst port 9 has made the kernel resolve it; devices without
ARP (loopback, point-to-point) get their broadcast address.  Received
checksums are not checked: on a veth they may be partial (offload).
IPv4 on lo needs net.ipv4.conf.lo.route_localnet=1 and accept_local=1.

Usage:
  synclient.py --dev IFACE --src ADDR --dst ADDR --dport 25 [--sport N]
               --ttl 128 --df 1 --window 64240 --options M1460,N,W8,N,N,S
               [--read-seconds 3] [--send 'QUIT\\r\\n'] [--json] [-v]

Options (pf.os syntax, comma-separated): N (NOP), E (EOL), S (SACK
permitted), T (timestamp with a non-zero TSval), T0 (timestamp with TSval
0), Mnnn (MSS), Wnnn (window scale), "." for none.  The option bytes are
sent exactly as listed; a list whose length is not a multiple of 4 is
padded with EOL bytes (said on stderr).  --send takes backslash escapes
(\\r, \\n, \\xNN, ...).  --df is ignored for IPv6.

Output: the bytes received, as they came, on stdout; with --json one JSON
object {"connected", "received" (latin-1), "bytes", "first_byte_after"
(seconds after the handshake, or null), "syn_ack" ({"window", "options",
"ttl"}, or null), "sport", "refused", "peer_closed" ("fin", "rst" or
null), "syn" (our SYN's IP packet, hex)}.

Exit status: 0 the handshake completed; 2 no SYN-ACK (refused with a RST,
or timeout); 1 usage or setup error (bad interface, address, option, no
neighbour, not root...); 128+N stopped by signal N (after cleaning up).
"""

import argparse
import codecs
import errno
import fcntl
import ipaddress
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

IFF_LOOPBACK = 0x8
IFF_POINTOPOINT = 0x10
IFF_NOARP = 0x80
SIOCGIFFLAGS = 0x8913
SIOCGIFHWADDR = 0x8927
ARPHRD_ETHER = 1

PROG = "synclient"


class Fail(Exception):
    """An expected failure: message for stderr, and the exit status."""

    def __init__(self, msg, code=1):
        super().__init__(msg)
        self.code = code


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def warn(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)


# ---------------------------------------------------------------- options

def parse_options(text):
    """pf.os option list -> (bytes, option count).  Raises ValueError."""
    text = text.strip()
    if text in (".", ""):
        return b""
    out = bytearray()
    for tok in text.split(","):
        tok = tok.strip()
        t = tok.upper()
        if t == "N":
            out += b"\x01"
        elif t == "E":
            out += b"\x00"
        elif t == "S":
            out += b"\x04\x02"
        elif t in ("T", "T0"):
            tsval = 0 if t == "T0" else random.randint(1, 0x7FFFFFFF)
            out += struct.pack("!BBII", 8, 10, tsval, 0)
        elif re.fullmatch(r"M\d+", t):
            v = int(t[1:])
            if v > 0xFFFF:
                raise ValueError(f"MSS out of range in {tok!r}")
            out += struct.pack("!BBH", 2, 4, v)
        elif re.fullmatch(r"W\d+", t):
            v = int(t[1:])
            if v > 0xFF:
                raise ValueError(f"window scale out of range in {tok!r}")
            out += struct.pack("!BBB", 3, 3, v)
        else:
            raise ValueError(f"unknown TCP option {tok!r} (want N, E, S, T, "
                             "T0, Mnnn, Wnnn or .)")
    return bytes(out)


def format_options(opts):
    """TCP option bytes -> pf.os style string, plus a dict of values."""
    names, vals, i = [], {}, 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            names.append("E")
            i += 1
            continue
        if kind == 1:
            names.append("N")
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            names.append(f"?{kind}")
            break
        ln = opts[i + 1]
        body = opts[i + 2:i + ln]
        if kind == 2 and ln == 4:
            vals["mss"] = struct.unpack("!H", body)[0]
            names.append(f"M{vals['mss']}")
        elif kind == 3 and ln == 3:
            vals["wscale"] = body[0]
            names.append(f"W{body[0]}")
        elif kind == 4 and ln == 2:
            names.append("S")
            vals["sack"] = True
        elif kind == 8 and ln == 10:
            tsval, tsecr = struct.unpack("!II", body)
            vals["tsval"], vals["tsecr"] = tsval, tsecr
            names.append("T" if tsval else "T0")
        else:
            names.append(f"?{kind}")
        i += ln
    return (",".join(names) or "."), vals


# ---------------------------------------------------------------- packets

def csum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Conn:
    def __init__(self, a):
        self.a = a
        self.v6 = a.src.version == 6
        self.srcb = a.src.packed
        self.dstb = a.dst.packed

    def tcp(self, flags, seq, ack, window, opts=b"", data=b""):
        if len(opts) % 4:
            opts += b"\x00" * (4 - len(opts) % 4)
        off = (20 + len(opts)) // 4
        hdr = struct.pack("!HHIIBBHHH", self.a.sport, self.a.dport,
                          seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4, flags,
                          window & 0xFFFF, 0, 0) + opts
        seg = hdr + data
        if self.v6:
            pseudo = self.srcb + self.dstb + struct.pack("!I3xB", len(seg), 6)
        else:
            pseudo = self.srcb + self.dstb + struct.pack("!xBH", 6, len(seg))
        c = csum(pseudo + seg)
        return seg[:16] + struct.pack("!H", c) + seg[18:]

    def ip(self, seg):
        a = self.a
        if self.v6:
            return struct.pack("!IHBB", 6 << 28, len(seg), 6, a.ttl) + \
                self.srcb + self.dstb + seg
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg),
                        random.randint(0, 0xFFFF), 0x4000 if a.df else 0,
                        a.ttl, 6, 0, self.srcb, self.dstb)
        return h[:10] + struct.pack("!H", csum(h)) + h[12:] + seg

    def parse(self, pkt):
        """An IP packet -> (flags, seq, ack, window, opts, data, ttl) if it
        is a segment of our connection coming from the server, else None."""
        if self.v6:
            if len(pkt) < 40 or pkt[0] >> 4 != 6:
                return None
            plen, nh, hl = struct.unpack("!HBB", pkt[4:8])
            if pkt[8:24] != self.dstb or pkt[24:40] != self.srcb:
                return None
            end = 40 + plen if plen else len(pkt)
            off = 40
            while nh in (0, 43, 60) and off + 8 <= len(pkt):
                nh, elen = pkt[off], (pkt[off + 1] + 1) * 8
                off += elen
            if nh != 6:
                return None
            ttl = hl
        else:
            if len(pkt) < 20 or pkt[0] >> 4 != 4:
                return None
            ihl = (pkt[0] & 0xF) * 4
            tot, frag, ttl, proto = struct.unpack("!H2xHBB", pkt[2:10])
            if proto != 6 or frag & 0x3FFF:
                return None
            if pkt[12:16] != self.dstb or pkt[16:20] != self.srcb:
                return None
            off = ihl
            end = tot if tot else len(pkt)
        end = min(end, len(pkt))
        t = pkt[off:end]
        if len(t) < 20:
            return None
        sp, dp, seq, ack, doff, flags, win = struct.unpack("!HHIIBBH",
                                                           t[:16])
        if sp != self.a.dport or dp != self.a.sport:
            return None
        hlen = (doff >> 4) * 4
        if hlen < 20 or hlen > len(t):
            return None
        return flags, seq, ack, win, t[20:hlen], t[hlen:], ttl


def seq_lt(a, b):
    return ((a - b) & 0xFFFFFFFF) > 0x7FFFFFFF


# ---------------------------------------------------------------- setup

def run(cmd, input=None):
    try:
        return subprocess.run(cmd, input=input, capture_output=True,
                              text=True, timeout=10)
    except FileNotFoundError:
        raise Fail(f"{cmd[0]}: not found (needed: iproute2, nftables)")
    except subprocess.TimeoutExpired:
        raise Fail(f"{' '.join(cmd)}: timed out")


def if_info(dev):
    """(flags, hardware type) of an interface."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        req = struct.pack("16s16x", dev.encode())
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, req)[:18])[1]
        hw = fcntl.ioctl(s, SIOCGIFHWADDR, req)
        hatype = struct.unpack("16sH", hw[:18])[1]
        return flags, hatype
    finally:
        s.close()


def nexthop(a):
    """The neighbour to send to: the gateway of the route to --dst via
    --dev, or --dst itself."""
    r = run(["ip", "route", "get", str(a.dst), "from", str(a.src),
             "oif", a.dev])
    if r.returncode != 0:
        # --src may not be local: ask without it
        r = run(["ip", "route", "get", str(a.dst), "oif", a.dev])
    if r.returncode != 0:
        raise Fail(f"no route to {a.dst} from {a.src} via {a.dev}: "
                   f"{r.stderr.strip()}")
    m = re.search(r"\bvia (\S+)", r.stdout)
    if m:
        return ipaddress.ip_address(m.group(1))
    return a.dst


def neigh_lladdr(dev, addr):
    r = run(["ip", "neigh", "get", str(addr), "dev", dev])
    if r.returncode != 0:
        return None, ""
    m = re.search(r"\blladdr ([0-9a-fA-F:]+)", r.stdout)
    return (m.group(1) if m else None), r.stdout.strip()


def probe(a):
    """Make the kernel resolve the neighbour: one UDP datagram to --dst
    port 9 (discard) from --src via --dev.  The server may answer with an
    ICMP port unreachable; that does no harm."""
    fam = socket.AF_INET6 if a.dst.version == 6 else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                     a.dev.encode())
        try:
            if fam == socket.AF_INET6:
                s.bind((str(a.src), 0, 0,
                        a.ifindex if a.src.is_link_local else 0))
            else:
                s.bind((str(a.src), 0))
        except OSError:
            pass        # --src is not local: any source will do
        if fam == socket.AF_INET6:
            scope = a.ifindex if a.dst.is_link_local else 0
            s.sendto(b"", (str(a.dst), 9, 0, scope))
        else:
            s.sendto(b"", (str(a.dst), 9))
    except OSError as e:
        warn(f"neighbour probe to {a.dst} via {a.dev}: {e.strerror}")
    finally:
        s.close()


def dst_lladdr(a):
    """The link-layer address to send our packets to."""
    flags, hatype = if_info(a.dev)
    if flags & (IFF_NOARP | IFF_POINTOPOINT | IFF_LOOPBACK) or \
            hatype != ARPHRD_ETHER:
        try:
            with open(f"/sys/class/net/{a.dev}/broadcast") as f:
                txt = f.read().strip()
            ll = bytes.fromhex(txt.replace(":", "")) if txt else b""
        except OSError:
            ll = b"\x00" * 6 if hatype == ARPHRD_ETHER else b""
        if a.verbose:
            warn(f"{a.dev} does not resolve neighbours (flags {flags:#x}, "
                 f"type {hatype}): sending to link address {ll.hex() or '-'}")
        return ll
    hop = nexthop(a)
    ll, state = neigh_lladdr(a.dev, hop)
    deadline = time.monotonic() + 3
    while ll is None or re.search(r"\b(INCOMPLETE|FAILED)\b", state):
        if time.monotonic() > deadline:
            raise Fail(f"no link-layer address for {hop} on {a.dev} "
                       f"(neighbour resolution failed: "
                       f"{state or 'no entry'})")
        probe(a)
        time.sleep(0.1)
        ll, state = neigh_lladdr(a.dev, hop)
    if a.verbose:
        warn(f"neighbour {hop} on {a.dev}: {ll}")
    return bytes.fromhex(ll.replace(":", ""))


def pick_sport(a):
    fam = socket.AF_INET6 if a.src.version == 6 else socket.AF_INET
    for _ in range(100):
        port = random.randint(40000, 59999)
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.bind((str(a.src), port))
            return port
        except OSError as e:
            if e.errno == errno.EADDRNOTAVAIL:
                warn(f"{a.src} is not a local address: the server's "
                     "replies may not reach this host")
                return port
        finally:
            s.close()
    raise Fail("no free source port found")


class Nft:
    """A table of our own dropping the kernel's RSTs for our connection."""

    def __init__(self, a):
        self.table = f"synclient_{os.getpid()}"
        self.a = a
        self.added = False

    def add(self):
        a = self.a
        fam = "ip6" if a.dst.version == 6 else "ip"
        script = (
            f"add table inet {self.table}\n"
            f"add chain inet {self.table} out "
            "{ type filter hook output priority 0; policy accept; }\n"
            f"add rule inet {self.table} out {fam} saddr {a.src} "
            f"{fam} daddr {a.dst} tcp sport {a.sport} tcp dport {a.dport} "
            "tcp flags & rst == rst drop\n")
        self.added = True       # set first: a signal may come in between
        r = run(["nft", "-f", "-"], input=script)
        if r.returncode != 0:
            self.added = False
            run(["nft", "delete", "table", "inet", self.table])
            raise Fail("nft: cannot add the table that drops the kernel's "
                       f"RSTs: {r.stderr.strip()}")

    def delete(self):
        if self.added:
            r = run(["nft", "delete", "table", "inet", self.table])
            # a signal during "nft -f" may have left no table to delete
            if r.returncode != 0 and "No such file" not in r.stderr:
                warn(f"nft: cannot delete table inet {self.table}: "
                     f"{r.stderr.strip()}")
            self.added = False


# ---------------------------------------------------------------- the client

class Client:
    def __init__(self, a, lladdr):
        self.a = a
        self.c = Conn(a)
        self.ll = lladdr
        proto = ETH_P_IPV6 if self.c.v6 else ETH_P_IP
        self.proto = proto
        try:
            self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                    socket.htons(proto))
            self.rx.bind((a.dev, proto))
            self.tx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
        except PermissionError:
            raise Fail("packet sockets need root (CAP_NET_RAW)")
        except OSError as e:
            raise Fail(f"packet socket on {a.dev}: {e.strerror}")
        self.t0 = time.monotonic()
        self.ts_ok = False
        self.ts_base = 0
        self.ts_recent = 0
        self.result = {"connected": False, "received": "", "bytes": 0,
                       "first_byte_after": None, "syn_ack": None,
                       "sport": a.sport, "refused": False,
                       "peer_closed": None}

    def send(self, flags, seq, ack, opts=b"", data=b"", window=None):
        a = self.a
        if window is None:
            window = a.window if a.window else 65535
        if self.ts_ok and not flags & SYN:
            tsval = self.ts_base + int((time.monotonic() - self.t0) * 1000)
            opts = b"\x01\x01" + struct.pack("!BBII", 8, 10,
                                             tsval & 0xFFFFFFFF,
                                             self.ts_recent)
        pkt = self.c.ip(self.c.tcp(flags, seq, ack, window, opts, data))
        try:
            self.tx.sendto(pkt, (a.dev, self.proto, 0, 0, self.ll))
        except OSError as e:
            raise Fail(f"sending on {a.dev}: {e.strerror}")
        if a.verbose:
            warn(f"> flags {flags:#04x} seq {seq & 0xFFFFFFFF} "
                 f"ack {ack & 0xFFFFFFFF} len {len(data)}")
        return pkt

    def recv(self, timeout):
        """The next segment of our connection, or None on timeout."""
        deadline = time.monotonic() + max(timeout, 0)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.rx], [], [], left)
            if not r:
                return None
            pkt, addr = self.rx.recvfrom(262144)
            if addr[2] == PACKET_OUTGOING:
                continue
            seg = self.c.parse(pkt)
            if seg is None:
                continue
            if self.a.verbose:
                warn(f"< flags {seg[0]:#04x} seq {seg[1]} ack {seg[2]} "
                     f"win {seg[3]} len {len(seg[5])}")
            if self.ts_ok:
                ov = format_options(seg[4])[1]
                if "tsval" in ov:
                    self.ts_recent = ov["tsval"]
            return seg

    def run(self, synopts):
        a, res = self.a, self.result
        isn = random.randint(0, 0xFFFFFFFF)
        syn = self.send(SYN, isn, 0, synopts, window=a.window)
        res["syn"] = syn.hex()
        start = time.monotonic()
        retx_at = [start + 1, start + 3]
        deadline = start + a.timeout
        synack = None
        while synack is None:
            now = time.monotonic()
            if now >= deadline:
                hint = ""
                if a.dst.version == 4 and a.dst.is_loopback:
                    hint = (f" (IPv4 on loopback needs the sysctls "
                            f"net.ipv4.conf.{a.dev}.route_localnet=1 and "
                            f"accept_local=1)")
                raise Fail(f"no SYN-ACK from [{a.dst}]:{a.dport} within "
                           f"{a.timeout:g} s{hint}", 2)
            nxt = min([deadline] + [t for t in retx_at if t > now])
            seg = self.recv(nxt - now)
            if seg is None:
                now = time.monotonic()
                if retx_at and now >= retx_at[0] and now < deadline:
                    retx_at.pop(0)
                    self.send(SYN, isn, 0, synopts, window=a.window)
                continue
            flags, seq, ack = seg[0], seg[1], seg[2]
            if flags & RST and flags & ACK and ack == (isn + 1) & 0xFFFFFFFF:
                res["refused"] = True
                raise Fail(f"connection to [{a.dst}]:{a.dport} refused "
                           "(RST)", 2)
            if flags & (SYN | ACK) == SYN | ACK and \
                    ack == (isn + 1) & 0xFFFFFFFF:
                synack = seg
        flags, seq, ack, win, opts, _, ttl = synack
        ostr, ov = format_options(opts)
        res["syn_ack"] = {"window": win, "options": ostr, "ttl": ttl}
        synov = format_options(synopts)[1]
        self.ts_ok = "tsval" in ov and "tsval" in synov
        # our later TSvals go on from the SYN's (PAWS on the server)
        self.ts_base = synov.get("tsval", 0)
        self.t0 = time.monotonic()
        if self.ts_ok:
            self.ts_recent = ov["tsval"]
        rcv_nxt = (seq + 1) & 0xFFFFFFFF
        snd_nxt = snd_una = (isn + 1) & 0xFFFFFFFF
        self.send(ACK, snd_nxt, rcv_nxt)
        est = time.monotonic()
        res["connected"] = True
        data = bytearray()
        end = est + a.read_seconds
        tosend = a.send
        sent_at, retx_left, send_seq = None, 3, None
        try:
            while True:
                now = time.monotonic()
                if now >= end:
                    break
                if tosend is not None and sent_at is None and \
                        (data or now >= est + 1):
                    send_seq = snd_nxt
                    self.send(PSH | ACK, send_seq, rcv_nxt, data=tosend)
                    snd_nxt = (snd_nxt + len(tosend)) & 0xFFFFFFFF
                    sent_at = now
                elif sent_at is not None and seq_lt(snd_una, snd_nxt) and \
                        retx_left and now >= sent_at + 1:
                    retx_left -= 1
                    sent_at = now
                    self.send(PSH | ACK, send_seq, rcv_nxt, data=tosend)
                wait = end - now
                if tosend is not None and sent_at is None:
                    wait = min(wait, est + 1 - now)
                elif sent_at is not None and seq_lt(snd_una, snd_nxt):
                    wait = min(wait, sent_at + 1 - now)
                seg = self.recv(max(wait, 0.001))
                if seg is None:
                    continue
                flags, seq, ack, win, opts, payload, ttl = seg
                if flags & RST:
                    res["peer_closed"] = "rst"
                    break
                if flags & SYN:
                    # our ACK of the SYN-ACK was lost: ACK again
                    self.send(ACK, snd_nxt, rcv_nxt)
                    continue
                if flags & ACK and seq_lt(snd_una, ack) and \
                        not seq_lt(snd_nxt, ack):
                    snd_una = ack
                if seq_lt(rcv_nxt, seq):
                    # out of order: not kept; a duplicate ACK
                    self.send(ACK, snd_nxt, rcv_nxt)
                    continue
                skip = (rcv_nxt - seq) & 0xFFFFFFFF
                fresh = payload[skip:] if skip < len(payload) else b""
                if fresh:
                    if res["first_byte_after"] is None:
                        res["first_byte_after"] = round(
                            time.monotonic() - est, 3)
                    data += fresh
                    rcv_nxt = (rcv_nxt + len(fresh)) & 0xFFFFFFFF
                fin = flags & FIN and skip <= len(payload)
                if fin:
                    rcv_nxt = (rcv_nxt + 1) & 0xFFFFFFFF
                if payload or fin:
                    self.send(ACK, snd_nxt, rcv_nxt)
                if fin:
                    res["peer_closed"] = "fin"
                    break
        finally:
            res["received"] = data.decode("latin-1")
            res["bytes"] = len(data)
            if res["peer_closed"] != "rst":
                try:
                    self.send(RST | ACK, snd_nxt, rcv_nxt, window=0)
                except Fail:
                    pass
        return bytes(data)


# ---------------------------------------------------------------- main

class Parser(argparse.ArgumentParser):
    def error(self, message):
        """Usage errors exit 1 (argparse's own is 2, our "no SYN-ACK")."""
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def parse_args(argv):
    p = Parser(
        prog="synclient.py",
        description="TCP client whose SYN has the TTL, DF bit, window and "
        "TCP options asked for (pf.os style); run as root in a network "
        "namespace.")
    p.add_argument("--dev", required=True, help="interface to send on")
    p.add_argument("--src", required=True, help="our address")
    p.add_argument("--dst", required=True, help="server address")
    p.add_argument("--dport", required=True, type=int, help="server port")
    p.add_argument("--sport", type=int,
                   help="our port (default: a random free one)")
    p.add_argument("--ttl", type=int, default=64,
                   help="IP TTL / IPv6 hop limit (default 64)")
    p.add_argument("--df", type=int, choices=(0, 1), default=1,
                   help="IPv4 don't-fragment bit (default 1)")
    p.add_argument("--window", type=int, default=65535,
                   help="TCP window of the SYN (default 65535)")
    p.add_argument("--options", default="M1460",
                   help="TCP options, pf.os style: N,E,S,T,T0,Mnnn,Wnnn or "
                   ". (default M1460)")
    p.add_argument("--read-seconds", type=float, default=3.0,
                   help="how long to read after the handshake (default 3)")
    p.add_argument("--send", help="data to send once (backslash escapes "
                   "allowed), after the first data arrived or after 1 s")
    p.add_argument("--timeout", type=float, default=5.0,
                   help="how long to wait for the SYN-ACK; the SYN is "
                   "sent again after 1 and 3 s (default 5)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object instead of the data")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="trace packets on stderr")
    a = p.parse_args(argv)
    try:
        a.src = ipaddress.ip_address(a.src.split("%")[0])
    except ValueError:
        p.error(f"--src {a.src!r}: not an IP address")
    try:
        a.dst = ipaddress.ip_address(a.dst.split("%")[0])
    except ValueError:
        p.error(f"--dst {a.dst!r}: not an IP address")
    if a.src.version != a.dst.version:
        p.error(f"--src {a.src} and --dst {a.dst} are not of one family")
    if not 1 <= a.dport <= 65535:
        p.error("--dport: not in 1..65535")
    if a.sport is not None and not 1 <= a.sport <= 65535:
        p.error("--sport: not in 1..65535")
    if not 0 <= a.ttl <= 255:
        p.error("--ttl: not in 0..255")
    if not 0 <= a.window <= 65535:
        p.error("--window: not in 0..65535")
    if a.read_seconds < 0 or a.timeout <= 0:
        p.error("--read-seconds/--timeout: must be positive")
    try:
        a.synopts = parse_options(a.options)
    except ValueError as e:
        p.error(f"--options {a.options!r}: {e}")
    if len(a.synopts) > 40:
        p.error(f"--options {a.options!r}: {len(a.synopts)} bytes, "
                "more than 40")
    if a.send is not None:
        try:
            a.send = codecs.escape_decode(
                a.send.encode("utf-8", "surrogateescape"))[0]
        except ValueError as e:
            p.error(f"--send: {e}")
    try:
        a.ifindex = socket.if_nametoindex(a.dev)
    except OSError:
        p.error(f"--dev {a.dev}: no such interface here")
    return a


def main(argv):
    a = parse_args(argv)
    if len(a.synopts) % 4:
        pad = 4 - len(a.synopts) % 4
        warn(f"options {a.options} are {len(a.synopts)} bytes, not a "
             f"multiple of 4: {pad} EOL byte(s) appended")
    if a.src.version == 6 and a.df != 1 and a.verbose:
        warn("--df is ignored for IPv6")

    def on_signal(signum, frame):
        raise Interrupted(signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    nft = None
    client = None
    code = 0
    try:
        if a.sport is None:
            a.sport = pick_sport(a)
        ll = dst_lladdr(a)
        client = Client(a, ll)
        nft = Nft(a)
        nft.add()
        client.run(a.synopts)
    except Fail as e:
        warn(str(e))
        code = e.code
    except Interrupted as e:
        warn(f"interrupted ({e})")
        code = 128 + e.signum
    finally:
        # no interruption while cleaning up: the table must go
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if nft is not None:
            nft.delete()
    if client is not None and (code in (0, 2) or a.json):
        res = client.result
        if a.json:
            print(json.dumps(res))
        elif res["connected"]:
            sys.stdout.buffer.write(res["received"].encode("latin-1"))
            sys.stdout.flush()
    if code == 0 and client is not None and not client.result["connected"]:
        code = 2
    return code


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        sys.exit(1)
