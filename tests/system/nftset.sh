#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# System test of src/lib/nftset and nft/*.nft against the real kernel, in
# private network namespaces (root only; everything else is skipped).
#
#  - nft/nfspamd.nft and nft/nfspamd-gateway.nft pass nft -c; loading
#    nfspamd.nft twice keeps the rules and the set elements as they were;
#  - tests/system/nftset_check (C, links the library) exercises every
#    nftset call, atomicity of 10,000-element batches and error texts,
#    then prints timing figures (TAP diagnostics);
#  - nft -j agrees with nftset_list on small sets, both ways;
#  - real connections from a second namespace over a veth pair: tcp/25
#    from an unknown sender lands on :8025, from @spamd-white(6) or
#    @nospamd(6) on :25; the NFLOG rules count what they should, and so
#    do the named counters of the verdicts (diverted, white, nospamd,
#    blacklist, blacklist6), which nftset_counters reads as nft does and
#    a reload of the ruleset leaves alone;
#  - the same through nft/nfspamd-gateway.nft: client -- gateway -- mail
#    server, DNAT (v4) or routing (v6) to the mail server for whitelisted
#    senders, nfspamd on the gateway for the others.
#
# Environment: top_srcdir, top_builddir (default: the source tree), CC.
# The driver is $top_builddir/tests/system/nftset_check when built by
# make, otherwise it is compiled here into a temporary directory.
# ok takes shell code in single quotes, expanded when it runs; cleanup
# runs from a trap.
# shellcheck disable=SC2016,SC2317
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}

if [ "$(id -u)" != 0 ]; then
	echo "ok 1 # SKIP not root"
	echo "1..1"
	exit 0
fi
for tool in ip nft python3 pkg-config; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "ok 1 # SKIP $tool not installed"
		echo "1..1"
		exit 0
	fi
done

# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

tag=nfspamd-nftset-$$-$RANDOM
srv=$tag-s
cli=$tag-c
gw=$tag-g
mta=$tag-m
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$tag.XXXXXX")
pids=()

cleanup()
{
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	for p in "$srv" "$cli" "$gw" "$mta"; do
		ip netns del "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

S() { ip netns exec "$srv" "$@"; }
C() { ip netns exec "$cli" "$@"; }

ruleset=$top_srcdir/nft/nfspamd.nft
gateway=$top_srcdir/nft/nfspamd-gateway.nft

# --- The driver ---------------------------------------------------------

drv=$top_builddir/tests/system/nftset_check
if [ ! -x "$drv" ]; then
	drv=$tmp/nftset_check
	mkdir -p "$tmp/cfg"
	echo '#define _GNU_SOURCE 1' >"$tmp/cfg/config.h"
	# shellcheck disable=SC2046
	if ! ${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Werror -I"$tmp/cfg" \
	    -I"$top_srcdir/src/lib" "$top_srcdir/src/lib/addr.c" \
	    "$top_srcdir/src/lib/nftset.c" \
	    "$top_srcdir/tests/system/nftset_check.c" \
	    $(pkg-config --cflags --libs libnftnl libmnl) -o "$drv" \
	    >"$tmp/cc.log" 2>&1; then
		diag "$(cat "$tmp/cc.log")"
		bail_out "cannot build tests/system/nftset_check"
	fi
fi

# Run the driver in the server namespace; its unnumbered TAP lines
# become ours.
drive()
{
	local line rc

	S "$drv" "$@" >"$tmp/drv.out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*)	ok true "${line#ok - }" ;;
		"not ok - "*)	ok false "${line#not ok - }" ;;
		"#"*)		echo "$line" ;;
		*)		diag "$line" ;;
		esac
	done <"$tmp/drv.out"
	is "$rc" 0 "nftset_check $1 exits 0"
}

# --- Namespaces ---------------------------------------------------------

# A namespace without IPv6 duplicate address detection: while a link-local
# address is tentative, the first packets through a new link can be lost
# (a SYN retransmitted a second later, logged twice).
mkns()
{
	ip netns add "$1" || bail_out "ip netns add $1 failed"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0
	ip netns exec "$1" ip link set lo up
}
mkns "$srv"
mkns "$cli"

ok 'S nft -c -f "$ruleset"' "nft -c accepts nft/nfspamd.nft"
ok 'S nft -c -f "$gateway"' "nft -c accepts nft/nfspamd-gateway.nft"

# Library checks that need the table to be absent.
drive notable

# --- Loading twice --------------------------------------------------------

# The number of rules in table inet nfspamd of namespace $1.
nrules()
{
	ip netns exec "$1" nft -j list table inet nfspamd | python3 -c '
import json, sys
print(sum(1 for o in json.load(sys.stdin)["nftables"] if "rule" in o))'
}

ok 'S nft -f "$ruleset"' "load nft/nfspamd.nft"
rules1=$(nrules "$srv")
isnt "$rules1" 0 "the ruleset has rules ($rules1)"
S nft add element inet nfspamd spamd-white '{ 192.0.2.1 timeout 1h }'
S nft add element inet nfspamd nospamd '{ 10.0.0.0/8, 192.168.0.0/16 }'
S nft add element inet nfspamd spamd6 '{ 2001:db8::/32 }'
ok 'S nft -f "$ruleset"' "load nft/nfspamd.nft again"
ok 'S nft -f "$ruleset"' "and a third time"
is "$(nrules "$srv")" "$rules1" "still $rules1 rules"
is "$(S "$drv" list spamd-white | cut -d' ' -f1,2)" "192.0.2.1/32 3600000" \
    "spamd-white kept its element and timeout"
is "$(S "$drv" list nospamd | cut -d' ' -f1 | tr '\n' ' ')" \
    "10.0.0.0/8 192.168.0.0/16 " "nospamd kept its elements"
is "$(S "$drv" list spamd6 | cut -d' ' -f1)" "2001:db8::/32" \
    "spamd6 kept its element"

# --- The library ----------------------------------------------------------

drive all
drive vanish
ok 'S nft -f "$ruleset"' "reloading the ruleset brings the set back"

# --- nft and nftset agree (small sets only: nft's dump is quadratic) ------

# nft -j's elements as "addr/len[ timeout_s]" lines, sorted.
nft_elems()
{
	S nft -j list set inet nfspamd "$1" | python3 -c '
import ipaddress, json, sys
out = []
for o in json.load(sys.stdin)["nftables"]:
    if "set" not in o:
        continue
    for e in o["set"].get("elem", []):
        t = None
        if isinstance(e, dict) and "elem" in e:
            t = e["elem"].get("timeout")
            e = e["elem"]["val"]
        if isinstance(e, dict) and "prefix" in e:
            s = "%s/%d" % (e["prefix"]["addr"], e["prefix"]["len"])
        elif isinstance(e, dict) and "range" in e:
            s = "%s-%s" % tuple(e["range"])
        else:
            s = "%s/%d" % (e, ipaddress.ip_address(e).max_prefixlen)
        out.append(s if t is None else "%s %d" % (s, t))
print("\n".join(sorted(out)))'
}

S "$drv" replace spamd-white
S "$drv" add spamd-white 3600000 192.0.2.10 192.0.2.11
S "$drv" add spamd-white 0 192.0.2.12
is "$(nft_elems spamd-white)" "$(printf '%s\n' '192.0.2.10/32 3600' \
    '192.0.2.11/32 3600' '192.0.2.12/32')" \
    "nft -j sees what nftset_add put in spamd-white"
S "$drv" replace spamd-white6
S "$drv" add spamd-white6 600000 2001:db8::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
is "$(nft_elems spamd-white6)" "$(printf '%s\n' '2001:db8::1/128 600' \
    'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 600')" \
    "nft -j sees what nftset_add put in spamd-white6"
S "$drv" replace nospamd 0.0.0.0/32 10.0.0.0/8 192.0.2.1/32 \
    255.255.255.0/24
is "$(nft_elems nospamd)" "$(printf '%s\n' 0.0.0.0/32 10.0.0.0/8 \
    192.0.2.1/32 255.255.255.0/24)" \
    "nft -j sees nftset's intervals in nospamd, the top one too"
S "$drv" replace nospamd 0.0.0.0/1 255.255.255.255/32
is "$(nft_elems nospamd)" "$(printf '%s\n' 0.0.0.0/1 255.255.255.255/32)" \
    "nft -j: 0.0.0.0/1 and 255.255.255.255/32"
S "$drv" replace nospamd6 ::/1 fe80::/10 \
    ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128
is "$(nft_elems nospamd6)" "$(printf '%s\n' ::/1 fe80::/10 \
    ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128)" \
    "nft -j sees nftset's v6 intervals, the top /128 too"

# The other way: ranges nft makes (with its end-at-0 marker element).
S "$drv" replace spamd
ok 'S nft add element inet nfspamd spamd "{ 10.1.0.0-10.1.0.5, 192.0.2.0/24 }"' \
    "nft adds a range that is no prefix"
is "$(S "$drv" list spamd | cut -d' ' -f1 | tr '\n' ' ')" \
    "10.1.0.0/30 10.1.0.4/31 192.0.2.0/24 " \
    "nftset_list gives its covering prefixes"
S "$drv" replace spamd6
ok 'S nft add element inet nfspamd spamd6 "{ 2001:db8::-2001:db8::2, ffff::/16 }"' \
    "nft adds a v6 range"
is "$(S "$drv" list spamd6 | cut -d' ' -f1 | tr '\n' ' ')" \
    "2001:db8::/127 2001:db8::2/128 ffff::/16 " \
    "nftset_list gives its covering prefixes"
ok 'S "$drv" replace spamd 10.2.0.0/16' "nftset_replace over nft's elements"
is "$(nft_elems spamd)" "10.2.0.0/16" "nft -j agrees"

# --- Traffic through the ruleset -----------------------------------------

S "$drv" replace spamd >/dev/null
S "$drv" replace spamd6 >/dev/null
S "$drv" replace spamd-white >/dev/null
S "$drv" replace spamd-white6 >/dev/null
S "$drv" replace nospamd >/dev/null
S "$drv" replace nospamd6 >/dev/null
S nft -f "$ruleset"	# zeroes the rules' counters
S nft reset counters table inet nfspamd >/dev/null	# and the named ones

ip link add "v${$}s" netns "$srv" type veth peer name "v${$}c" netns "$cli"
S ip addr add 10.99.0.1/24 dev "v${$}s"
S ip addr add fd00:99::1/64 dev "v${$}s" nodad
S ip link set "v${$}s" up
C ip addr add 10.99.0.2/24 dev "v${$}c"
C ip addr add fd00:99::2/64 dev "v${$}c" nodad
C ip link set "v${$}c" up

cat >"$tmp/listen.py" <<'EOF'
import socket, sys
port, label = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", port))
s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(label.encode() + b"\n")
    c.close()
EOF
cat >"$tmp/connect.py" <<'EOF'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 25), timeout=3)
    print(s.recv(16).decode().strip())
except OSError as e:
    print("error:", e)
EOF

# A server in namespace $1 on port $2 that answers each connection with
# one line: $3 (default: the port), then closes.
listen()
{
	local ns=$1 port=$2 _

	ip netns exec "$ns" python3 "$tmp/listen.py" "$port" "${3:-$port}" \
	    >"$tmp/listen-$ns-$port" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		grep -q ready "$tmp/listen-$ns-$port" && return 0
		sleep 0.1
	done
	return 1
}
listen "$srv" 25
is $? 0 "an MTA stand-in on :25"
listen "$srv" 8025
is $? 0 "an nfspamd stand-in on :8025"
listen "$cli" 25
is $? 0 "a remote MTA stand-in on the client's :25"

# Which port a connection from the client to $1 port 25 lands on.
lands() { C python3 "$tmp/connect.py" "$1"; }
# The packets counted by the rule of chain $1 that contains $2.
counted()
{
	S nft list chain inet nfspamd "$1" | grep -F -- "$2" |
	    grep -o 'packets [0-9]*' | cut -d' ' -f2
}
# The packets of the named counter $1, as nft says (run in namespace $2,
# default the server's).
named()
{
	ip netns exec "${2:-$srv}" nft list counter inet nfspamd "$1" |
	    grep -o 'packets [0-9]*' | cut -d' ' -f2
}

is "$(lands 10.99.0.1)" 8025 "v4: an unknown sender is redirected to :8025"
is "$(lands fd00:99::1)" 8025 "v6: an unknown sender is redirected to :8025"
is "$(named diverted)" 2 "counter diverted counted 2"
is "$(counted log-in 'ip saddr @spamd-white')" 0 \
    "no nfspamd-in log for redirected senders"

S "$drv" add spamd-white 60000 10.99.0.2
# The ruleset looks IPv6 senders up by their /64 (nfspamd -N's default):
# the element is the client's network address.
S "$drv" add spamd-white6 60000 fd00:99::
is "$(lands 10.99.0.1)" 25 "v4: a whitelisted sender reaches :25"
is "$(lands fd00:99::1)" 25 "v6: a whitelisted sender reaches :25"
is "$(counted log-in 'ip saddr @spamd-white')" 1 \
    "nfspamd-in logged the v4 connection (one SYN)"
is "$(counted log-in '@spamd-white6 ip6 daddr')" 1 \
    "nfspamd-in logged the v6 connection"
is "$(named white) $(named diverted)" "2 2" \
    "counter white counted both, diverted nothing more"

S "$drv" replace spamd-white
S "$drv" replace spamd-white6
S "$drv" add nospamd 0 10.99.0.0/24
S "$drv" add nospamd6 0 fd00:99::/64
is "$(lands 10.99.0.1)" 25 "v4: a @nospamd sender reaches :25"
is "$(lands fd00:99::1)" 25 "v6: a @nospamd6 sender reaches :25"
is "$(counted log-in 'ip saddr @spamd-white')" 1 \
    "nospamd senders are not logged as nfspamd-in"
is "$(named nospamd) $(named white)" "2 2" \
    "counter nospamd counted both, white nothing more"
S "$drv" replace nospamd
S "$drv" replace nospamd6
is "$(lands 10.99.0.1)" 8025 "out of the sets again: redirected"
is "$(named diverted)" 3 "counter diverted counted 3"
is "$(named blacklist)" 0 "counter blacklist counted nothing yet"
# Blacklisted: still diverted (the greylisting ruleset), and counted by
# the blacklist set's counter as well.
S "$drv" add spamd 0 10.99.0.0/24
S "$drv" add spamd6 0 fd00:99::/64
is "$(lands 10.99.0.1)" 8025 "v4: a blacklisted sender is redirected"
is "$(lands fd00:99::1)" 8025 "v6: a blacklisted sender is redirected"
is "$(named blacklist) $(named blacklist6) $(named diverted)" "1 1 5" \
    "counters blacklist and blacklist6 counted one each, diverted both"
S "$drv" replace spamd
S "$drv" replace spamd6
got=$(S "$drv" counters diverted white nospamd blacklist blacklist6 \
    nosuchcounter | sed 's/^\([a-z0-9]*\) \([0-9]*\) [0-9][0-9]*$/\1 \2/' |
    tr '\n' ' ')
is "$got" "diverted 5 white 2 nospamd 2 blacklist 1 blacklist6 1 nosuchcounter missing " \
    "nftset_counters reads what nft says, and misses what is not there"
S nft -f "$ruleset"
is "$(named diverted) $(named white)" "5 2" \
    "a reload of the ruleset keeps the named counters' values"

is "$(S python3 "$tmp/connect.py" 10.99.0.2)" 25 \
    "the server connects out to a remote :25"
S python3 "$tmp/connect.py" fd00:99::2 >/dev/null
is "$(counted log-out nfspamd-out)" 2 "nfspamd-out logged both (v4, v6)"
S python3 "$tmp/connect.py" 127.0.0.1 >/dev/null
is "$(counted log-out nfspamd-out)" 2 "nothing logged for loopback"

# --- The gateway example: client -- gateway (nfspamd) -- mail server -----
#
#	cli 10.98.0.2 fd00:98::2 -- g$$w (WAN) gw 10.98.0.1 fd00:98::1
#	gw 10.97.0.1 fd00:97::1 -- mta 10.97.0.25 fd00:97::25

G() { ip netns exec "$gw" "$@"; }
M() { ip netns exec "$mta" "$@"; }
mkns "$gw"
mkns "$mta"
ip link add "g${$}w" netns "$gw" type veth peer name "g${$}c" netns "$cli"
ip link add "g${$}m" netns "$gw" type veth peer name "m${$}g" netns "$mta"
G ip addr add 10.98.0.1/24 dev "g${$}w"
G ip addr add fd00:98::1/64 dev "g${$}w" nodad
G ip addr add 10.97.0.1/24 dev "g${$}m"
G ip addr add fd00:97::1/64 dev "g${$}m" nodad
C ip addr add 10.98.0.2/24 dev "g${$}c"
C ip addr add fd00:98::2/64 dev "g${$}c" nodad
M ip addr add 10.97.0.25/24 dev "m${$}g"
M ip addr add fd00:97::25/64 dev "m${$}g" nodad
G ip link set "g${$}w" up
G ip link set "g${$}m" up
C ip link set "g${$}c" up
M ip link set "m${$}g" up
C ip route add 10.97.0.0/24 via 10.98.0.1
C ip -6 route add fd00:97::/64 via fd00:98::1
M ip route add default via 10.97.0.1
M ip -6 route add default via fd00:97::1
G sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

sed -e "s/{ \"eth0\" }/{ \"g${$}w\" }/" -e 's/192\.0\.2\.25/10.97.0.25/' \
    -e 's/2001:db8::25/fd00:97::25/' "$gateway" >"$tmp/gateway.nft"
ok 'G nft -f "$tmp/gateway.nft"' "load the gateway example (test addresses)"
grules=$(nrules "$gw")
G "$drv" add nospamd 0 10.200.0.0/16
ok 'G nft -f "$tmp/gateway.nft"' "load it again"
is "$(nrules "$gw")" "$grules" "still $grules rules"
is "$(G "$drv" list nospamd | cut -d' ' -f1)" 10.200.0.0/16 \
    "nospamd kept its element"
G "$drv" replace nospamd

listen "$gw" 8025
is $? 0 "nfspamd stand-in on the gateway's :8025"
listen "$mta" 25 mta
is $? 0 "the mail server's :25"
gcounted()
{
	G nft list chain inet nfspamd "$1" | grep -F -- "$2" |
	    grep -o 'packets [0-9]*' | cut -d' ' -f2
}
is "$(lands 10.98.0.1)" 8025 "gateway v4: unknown sender redirected to :8025"
is "$(lands fd00:97::25)" 8025 \
    "gateway v6: unknown sender to the mail server redirected to :8025"
G "$drv" add spamd-white 60000 10.98.0.2
G "$drv" add spamd-white6 60000 fd00:98::
is "$(lands 10.98.0.1)" mta "gateway v4: whitelisted sender DNATed to the mail server"
is "$(lands fd00:97::25)" mta "gateway v6: whitelisted sender routed to the mail server"
is "$(gcounted log-in 'ip saddr @spamd-white')" 1 "gateway: nfspamd-in v4 logged"
is "$(gcounted log-in '@spamd-white6 counter')" 1 "gateway: nfspamd-in v6 logged"
is "$(named diverted "$gw") $(named white "$gw")" "2 2" \
    "gateway: counters diverted and white counted 2 each"
G "$drv" replace spamd-white
G "$drv" replace spamd-white6
G "$drv" add nospamd 0 10.98.0.0/24
G "$drv" add nospamd6 0 fd00:98::/64
is "$(lands 10.98.0.1)" mta "gateway v4: @nospamd sender DNATed to the mail server"
is "$(lands fd00:97::25)" mta "gateway v6: @nospamd6 sender routed to the mail server"
is "$(named nospamd "$gw")" 2 "gateway: counter nospamd counted 2"
is "$(M python3 "$tmp/connect.py" 10.98.0.2)" 25 \
    "the mail server connects out through the gateway"
M python3 "$tmp/connect.py" fd00:98::2 >/dev/null
is "$(gcounted log-forward nfspamd-out | awk '{ n += $1 } END { print n }')" 2 \
    "gateway: nfspamd-out logged both (v4, v6)"

# --- Timing ---------------------------------------------------------------

drive timing

done_testing
