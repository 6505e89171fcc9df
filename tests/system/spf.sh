#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# tests/system/spf.sh: nfspamd-setup's :method=spf: lists against a real
# DNS server and the real kernel, as root, in network namespaces of its
# own.
#
# A DNS namespace (dns) runs Debian's unbound with a config file of the
# test's, listening only on the namespace's addresses, serving a static
# zone "example." of synthetic SPF records (TXT, A, AAAA, MX): an include
# chain with a record split into several strings, a loop, a chain
# longer than the depth limit, a dead include, a and mx with CIDR
# lengths, ip4 and ip6, a redirect.  A gateway namespace (gw) holds the
# real ruleset, nft/nfspamd.nft.  nfspamd-setup -b, run in gw with
# --resolver pointing at unbound, must load exactly the expected
# prefixes, with the nospamd file's, into @nospamd and @nospamd6, report
# the loop, the dead include and the chain that is too deep (log lines
# and --metrics-file), and exit 0.  Then unbound is stopped: the next
# run fails (exit 1, reason "dns"), says so, and the sets keep what
# they held.  -n shows what would be loaded without loading it.
#
# Environment: top_srcdir, top_builddir, NFSPAMD_SETUP.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
NFSPAMD_SETUP=${NFSPAMD_SETUP:-$top_builddir/src/nfspamd-setup/nfspamd-setup}
. "$top_srcdir/tests/lib/tap.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root (network namespaces, nftables)" 1
	done_testing
	exit 0
fi
[ -x "$NFSPAMD_SETUP" ] || bail_out "no binary at $NFSPAMD_SETUP (build first)"
UNBOUND=$(command -v unbound || echo /usr/sbin/unbound)
if [ ! -x "$UNBOUND" ]; then
	skip "no unbound (tests/install-deps installs it)" 1
	done_testing
	exit 0
fi
. "$top_srcdir/tests/system/lib.sh"

lab_init nfsf
lab_watchdog 170 "tests/system/spf.sh: watchdog after 170 s"
lab_ns gw
lab_ns dns
lab_link gw veth0 dns veth0
lab_addr gw veth0 10.78.0.1/24
lab_addr gw veth0 fd78::1/64
lab_addr dns veth0 10.78.0.53/24
lab_addr dns veth0 fd78::53/64
lab_exec gw nft -f "$top_srcdir/nft/nfspamd.nft" || bail_out "nft -f"

# One local-data line of unbound.conf.
rr()
{
	printf "\tlocal-data: '%s'\n" "$*"
}

# The zone.  d0.example .. d11.example: one include more than the depth
# limit (10), so d11's prefix must be missing.
{
	lab_unbound_head example. 10.78.0.53/24 fd78::53/64
	rr big.example. 3600 IN TXT '"v=spf1 ip4:192.0.2.0/25' \
	    'include:_spf.big.example ~all"'
	rr _spf.big.example. 300 IN TXT '"v=spf1 ip4:192.0.2.128/25' \
	    'ip6:2001:db8:100::/48 include:_nb.big.example -all"'
	# One record in two character-strings.
	rr _nb.big.example. 600 IN TXT '"v=spf1 ip4:198.51.100.0/24 "' \
	    '"ip6:2001:db8:200::/40 ?all"'
	rr loop.example. 600 IN TXT '"v=spf1 ip4:203.0.113.1' \
	    'include:loop2.example -all"'
	rr loop2.example. 600 IN TXT '"v=spf1 ip4:203.0.113.2' \
	    'include:loop.example -all"'
	rr dead.example. 600 IN TXT '"v=spf1 ip4:203.0.113.16/28' \
	    'include:gone.example -all"'
	rr amx.example. 600 IN TXT '"v=spf1 a/24 mx//64 -ip4:198.18.9.9 -all"'
	rr amx.example. 600 IN A 198.18.0.10
	rr amx.example. 600 IN AAAA 2001:db8:300::10
	rr amx.example. 600 IN MX 10 mail.amx.example.
	rr mail.amx.example. 600 IN A 198.18.1.1
	rr mail.amx.example. 600 IN AAAA 2001:db8:301::1
	rr redir.example. 600 IN TXT '"v=spf1 redirect=_spf.redir.example"'
	rr _spf.redir.example. 600 IN TXT '"v=spf1 ip4:100.64.0.0/16 -all"'
	for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
		rr "d$i.example." 600 IN TXT \
		    "\"v=spf1 ip4:10.20.$((2 * i)).0/24" \
		    "include:d$((i + 1)).example\""
	done
	printf 'remote-control:\n\tcontrol-enable: no\n'
} >"$LAB_TMP/unbound.conf"
start_unbound()
{
	lab_unbound_start dns
	UNBOUND_PID=$LAB_UNBOUND_PID
}
start_unbound

mkdir -p "$LAB_TMP/db"
cat >"$LAB_TMP/domains" <<'EOF'
# the test's senders
big.example
loop.example
dead.example
d0.example
amx.example
redir.example   # a redirect
EOF
echo '10.99.0.0/16  # a partner' >"$LAB_TMP/nospamd"
cat >"$LAB_TMP/spamd.conf" <<EOF
all:\\
	:senders:
senders:\\
	:white:\\
	:method=spf:\\
	:nospamd:\\
	:file=$LAB_TMP/domains:
EOF

setup()
{
	lab_exec gw "$NFSPAMD_SETUP" -f "$LAB_TMP/spamd.conf" \
	    --db "$LAB_TMP/db" --nospamd "$LAB_TMP/nospamd" \
	    --control "$LAB_TMP/none.sock" --metrics-file "$LAB_TMP/m.prom" \
	    --resolver 10.78.0.53 --dns-timeout 2 "$@"
}

# A set's elements, one a line, sorted, bare addresses as /32 or /128.
elements()
{
	lab_exec gw nft list set inet nfspamd "$1" |
	    tr -d '\n' | sed -n 's/.*elements = {\([^}]*\)}.*/\1/p' |
	    tr ',' '\n' | tr -d ' \t' | sed '/^$/d' |
	    awk '/\// { print; next } /:/ { print $0 "/128"; next }
		{ print $0 "/32" }' | sort
}

want4=$(printf '%s\n' 10.20.0.0/24 10.20.2.0/24 10.20.4.0/24 10.20.6.0/24 \
    10.20.8.0/24 10.20.10.0/24 10.20.12.0/24 10.20.14.0/24 10.20.16.0/24 \
    10.20.18.0/24 10.20.20.0/24 10.99.0.0/16 100.64.0.0/16 \
    192.0.2.0/24 198.18.0.0/24 198.18.1.1/32 198.51.100.0/24 \
    203.0.113.1/32 203.0.113.2/32 203.0.113.16/28 | sort)
want6=$(printf '%s\n' 2001:db8:100::/48 2001:db8:200::/40 \
    2001:db8:300::10/128 2001:db8:301::/64 | sort)

# -n: printed, nothing loaded.
out=$(setup -n 2>&1)
like "$out" '^nospamd 10\.20\.20\.0/24$' "-n prints the walk's prefixes"
is "$(elements nospamd)" "" "-n leaves @nospamd empty"

setup -b -d >"$LAB_TMP/run1.log" 2>&1
rc=$?
is "$rc" 0 "first run: exit 0 (a loop, a dead include, depth: no failure)"
[ "$rc" = 0 ] || diag "$(tail -n 30 "$LAB_TMP/run1.log")"
is "$(elements nospamd)" "$want4" \
    "@nospamd: the SPF prefixes and the nospamd file's"
is "$(elements nospamd6)" "$want6" "@nospamd6: the SPF prefixes"
log1=$(cat "$LAB_TMP/run1.log")
re='spf loop: loop\.example > loop2\.example: include:loop\.example: '
re+='loop \(loop\.example is already on the path\)'
like "$log1" "list senders: $re" "the loop is reported with its chain"
re='spf dead: dead\.example > gone\.example: no such domain \(NXDOMAIN\)'
like "$log1" "list senders: $re" "the dead include is reported with its chain"
re='spf deep: d0\.example > d1\.example > .* > d10\.example: '
re+='include:d11\.example: deeper than 10'
like "$log1" "list senders: $re" "the chain past the depth limit is reported"
like "$log1" 'list senders: big\.example: 4 prefixes, ttl 300 s' \
    "the least TTL of the include chain"
m=$(cat "$LAB_TMP/m.prom")
like "$m" '^nfspamd_setup_spf_problems\{list="senders",kind="loop"\} 1$' \
    "metrics: the loop counted"
like "$m" '^nfspamd_setup_spf_problems\{list="senders",kind="dead"\} 1$' \
    "metrics: the dead include counted"
like "$m" '^nfspamd_setup_list_failed\{list="senders"\} 0$' \
    "metrics: the list worked"
re='^nfspamd_setup_list_info\{list="senders",type="white",method="spf"\} 1$'
like "$m" "$re" "metrics: the list's method"

# Again, with the DNS up and a second forwarder, over IPv6 with a
# port: the same sets.
setup -b --resolver fd78::53@53 >"$LAB_TMP/run2.log" 2>&1
is "$?" 0 "second run (two forwarders, one IPv6 ADDR@PORT): exit 0"
is "$(elements nospamd)" "$want4" "second run: @nospamd unchanged"

# The outage: unbound stopped; the sets keep what they hold.
kill "$UNBOUND_PID"
wait "$UNBOUND_PID" 2>/dev/null
setup -b >"$LAB_TMP/run3.log" 2>&1
rc=$?
is "$rc" 1 "DNS outage: exit 1"
log3=$(cat "$LAB_TMP/run3.log")
like "$log3" 'list senders: .*DNS lookups failed for 6 of 6 domains' \
    "DNS outage: the list's failure is logged"
re='list senders: failed; sets nospamd/nospamd6 keep its 23 prefixes '
re+='of the last run'
like "$log3" "$re" "DNS outage: the sets keep the last run's prefixes"
is "$(elements nospamd)" "$want4" "DNS outage: @nospamd unchanged"
is "$(elements nospamd6)" "$want6" "DNS outage: @nospamd6 unchanged"
m=$(cat "$LAB_TMP/m.prom")
like "$m" '^nfspamd_setup_list_failed\{list="senders"\} 1$' \
    "metrics: the list failed"
re='^nfspamd_setup_list_last_failure_timestamp_seconds'
re+='\{list="senders",reason="dns"\} [0-9]+$'
like "$m" "$re" "metrics: the failure's reason is dns"

# The nospamd file still applies during the outage.
echo '10.96.0.0/16' >>"$LAB_TMP/nospamd"
setup -b >"$LAB_TMP/run4.log" 2>&1
is "$(elements nospamd)" "$(printf '%s\n%s\n' "$want4" 10.96.0.0/16 |
    sort)" "DNS outage: a nospamd file change lands, the SPF prefixes stay"

# Back up: the list works again.
start_unbound
setup -b >"$LAB_TMP/run5.log" 2>&1
is "$?" 0 "DNS back: exit 0"

done_testing
