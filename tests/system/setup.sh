#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# tests/system/setup.sh: nfspamd-setup against the real kernel and a real
# nfspamd, as root, in network namespaces of its own.
#
# A gateway namespace (gw) runs the nfspamd ruleset in blacklist-only
# form (only @spamd/@spamd6 sources are sent to nfspamd, everyone else
# reaches a stand-in MTA on port 25) and nfspamd; a client namespace (cl)
# connects from listed and unlisted IPv4 and IPv6 addresses.  Checked:
# -b loads the sets (whole, then as differences), the listed client gets
# nfspamd and its list's message, the unlisted one the MTA, and the
# ruleset's counters blacklist, blacklist6 and diverted count the
# listed ones; a refresh
# moves them; a set flushed behind nfspamd-setup's back is noticed and
# loaded whole; a list that fails keeps its addresses in the set; the
# nospamd file reaches @nospamd/@nospamd6; a root run on a state
# directory of nobody's leaves every file there nobody's (nft.gen
# included) and a run as nobody with CAP_NET_ADMIN, as the service
# runs, works after it; a missing table is an error.  With
# --metrics-file, the whole load, the refresh and one more difference
# write a file promtool accepts whose kernel series (load success, set
# prefixes, load timestamps by mode, the difference's adds and deletes)
# tell what nft and the log show.
#
# Environment: top_srcdir, top_builddir, NFSPAMD, NFSPAMD_SETUP.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
NFSPAMD=${NFSPAMD:-$top_builddir/src/nfspamd/nfspamd}
NFSPAMD_SETUP=${NFSPAMD_SETUP:-$top_builddir/src/nfspamd-setup/nfspamd-setup}
. "$top_srcdir/tests/lib/tap.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root (network namespaces, nftables)" 1
	done_testing
	exit 0
fi
for p in "$NFSPAMD" "$NFSPAMD_SETUP"; do
	if [ ! -x "$p" ]; then
		bail_out "no binary at $p (build first)"
	fi
done
. "$top_srcdir/tests/system/lib.sh"

lab_init nfsu
lab_watchdog 170 "tests/system/setup.sh: watchdog after 170 s"
lab_ns gw
lab_ns cl
lab_link gw veth0 cl veth0
lab_addr gw veth0 10.77.0.1/24
lab_addr gw veth0 fd77::1/64
for a in 10 20 30; do
	lab_addr cl veth0 10.77.0.$a/24
	lab_addr cl veth0 fd77::$a/64
done

# The ruleset, blacklist-only: the smtp-in chain's rules replaced by
# the two that nfspamd.nft's comment gives for that mode.
lab_exec gw nft -f "$top_srcdir/nft/nfspamd.nft" || bail_out "nft -f"
lab_exec gw nft -f - <<'EOF' || bail_out "blacklist-only rules"
flush chain inet nfspamd smtp-in
table inet nfspamd {
	chain smtp-in {
		ip saddr @spamd tcp dport 25 counter name "blacklist" counter name "diverted" redirect to :8025
		ip6 saddr @spamd6 tcp dport 25 counter name "blacklist6" counter name "diverted" redirect to :8025
	}
}
EOF

# A stand-in MTA on port 25.
cat >"$LAB_TMP/mta.py" <<'EOF'
import socket, threading
def serve(fam, addr):
    s = socket.socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, 25))
    s.listen(64)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(b"220 mta.gw real MTA\r\n")
        except OSError:
            pass
        c.close()
threading.Thread(target=serve, args=(socket.AF_INET, "0.0.0.0"), daemon=True).start()
serve(socket.AF_INET6, "::")
EOF
lab_spawn gw "$LAB_TMP/mta.log" python3 "$LAB_TMP/mta.py"

# nfspamd, unprivileged, no stutter (the test wants its words, not its
# pace), blacklist-only (-b).
db=$LAB_TMP/db
ctl=$LAB_TMP/run/control.sock
mkdir -p "$db" "$LAB_TMP/run" && chown nobody: "$db" "$LAB_TMP/run"
: >"$LAB_TMP/alloweddomains"
lab_spawn gw "$LAB_TMP/nfspamd.log" "$NFSPAMD" -b -d -S 0 -s 0 \
    -l 0.0.0.0 -l :: -p 8025 -h spamd.gw.test --db "$db" --control "$ctl" \
    --user nobody --alloweddomains "$LAB_TMP/alloweddomains" --firewall none
lab_wait_log 10 "$LAB_TMP/nfspamd.log" "listening " ||
    bail_out "nfspamd did not start: $(cat "$LAB_TMP/nfspamd.log")"
lab_wait 10 lab_exec gw python3 -c '
import socket; socket.create_connection(("127.0.0.1", 25), 2).close()' ||
    bail_out "the stand-in MTA did not start"

# talk SRC DST: the first reply line, or when it is nfspamd the whole
# dialogue's last answer (a blacklisted client hears why after DATA).
cat >"$LAB_TMP/talk.py" <<'EOF'
import socket, sys
src, dst = sys.argv[1], sys.argv[2]
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam)
s.settimeout(20)
s.bind((src, 0))
s.connect((dst, 25))
f = s.makefile("rb")
banner = f.readline().decode().rstrip()
print(banner)
if "real MTA" in banner:
    sys.exit(0)
s.sendall(b"HELO cl.test\r\n")
f.readline()
s.sendall(b"MAIL FROM:<a@cl.test>\r\n")
f.readline()
s.sendall(b"RCPT TO:<b@gw.test>\r\n")
f.readline()
s.sendall(b"DATA\r\n")
f.readline()
s.sendall(b"Subject: t\r\n\r\nbody\r\n.\r\n")
while True:
    l = f.readline().decode()
    if not l:
        break
    print(l.rstrip())
    if l[3:4] == " ":
        break
EOF
talk()
{
	lab_exec cl python3 "$LAB_TMP/talk.py" "$1" "$2" 2>&1
}

setdir=$LAB_TMP/setup
mkdir -p "$setdir/db"
conf=$setdir/spamd.conf
cat >"$conf" <<EOF
all:\\
	:lista:listb:white:
lista:\\
	:black:\\
	:msg="%A is on list A\\n":\\
	:file=$setdir/a.txt:
listb:\\
	:black:\\
	:msg="%A is on list B\\n":\\
	:file=$setdir/b.txt:
white:\\
	:white:\\
	:file=$setdir/white.txt:
EOF
printf '10.77.0.10\nfd77::10\n203.0.113.0/24\n' >"$setdir/a.txt"
printf '198.51.100.0/24\n203.0.113.128/25\n2001:db8::/32\n' >"$setdir/b.txt"
printf '2001:db8:1::/48\n' >"$setdir/white.txt"
printf '# big senders\n192.0.2.0/24\n2001:db8:ffff::/48\n' \
    >"$setdir/nospamd"

# setup [ARG...]: one -b run, ARGs added (--metrics-file "$prom").
setup()
{
	lab_exec gw "$NFSPAMD_SETUP" -b -d -f "$conf" --db "$setdir/db" \
	    --control "$ctl" --nospamd "$setdir/nospamd" "$@" \
	    >"$setdir/out" 2>&1
}
elements()
{
	lab_exec gw nft list set inet nfspamd "$1" | tr -d '\n\t' | tr -s ' ' |
	    sed -n 's/.*elements = { \(.*\) }.*/\1/p' | sed 's/ *$//'
}
# nelements SET: how many elements nft lists in SET.
nelements()
{
	elements "$1" | awk -F', ' '{ n = NF } END { print n + 0 }'
}

# The metrics file of the runs given --metrics-file, and its checks.
prom=$setdir/metrics.prom
# metric SERIES: the value of the sample named exactly SERIES (name and
# labels as the file writes them), one line per sample: none when it is
# absent, two when it is written twice.
metric()
{
	awk -v k="$1" '$1 == k { print $2 }' "$prom"
}
# promcheck WHEN: promtool accepts the file (skipped without promtool).
promcheck()
{
	if command -v promtool >/dev/null 2>&1; then
		ok 'promtool check metrics <"$prom"' \
		    "$1: promtool check metrics accepts the metrics file"
	else
		skip "no promtool" 1
	fi
}
# kernel_metrics WHEN: the series every loading run writes; the set
# prefixes as nft lists them.
kernel_metrics()
{
	is "$(metric nfspamd_setup_kernel_load_success)" 1 \
	    "$1: nfspamd_setup_kernel_load_success is 1"
	is "$(metric 'nfspamd_setup_kernel_set_prefixes{set="spamd"}') $(
	    metric 'nfspamd_setup_kernel_set_prefixes{set="spamd6"}')" \
	    "$(nelements spamd) $(nelements spamd6)" \
	    "$1: nfspamd_setup_kernel_set_prefixes for spamd and spamd6 as nft lists them"
	like "$(metric nfspamd_setup_kernel_load_seconds)" \
	    '^[0-9]+(\.[0-9]+)?(e-[0-9]+)?$' \
	    "$1: nfspamd_setup_kernel_load_seconds is written"
}

# --- first load: whole -------------------------------------------------
setup --metrics-file "$prom"
is "$?" 0 "first run exits 0"
diag "$(tr '\n' ' ' <"$setdir/out")"
ok 'grep -q "loaded whole" "$setdir/out"' "first run loads the sets whole"
is "$(elements spamd)" "10.77.0.10, 198.51.100.0/24, 203.0.113.0/24" \
    "spamd holds both lists, 203.0.113.0/24 merged from the overlap"
is "$(elements spamd6)" \
    "2001:db8::/48, 2001:db8:2::/47, 2001:db8:4::/46, 2001:db8:8::/45, 2001:db8:10::/44, 2001:db8:20::/43, 2001:db8:40::/42, 2001:db8:80::/41, 2001:db8:100::/40, 2001:db8:200::/39, 2001:db8:400::/38, 2001:db8:800::/37, 2001:db8:1000::/36, 2001:db8:2000::/35, 2001:db8:4000::/34, 2001:db8:8000::/33, fd77::10" \
    "spamd6: list B minus the white list, and list A"
is "$(elements nospamd)" "192.0.2.0/24" "nospamd loaded from the file"
is "$(elements nospamd6)" "2001:db8:ffff::/48" "nospamd6 loaded from the file"

ok '[ -s "$prom" ]' "--metrics-file: the first run writes the file"
promcheck "whole load"
kernel_metrics "whole load"
is "$(nelements spamd) $(nelements spamd6)" "3 17" \
    "whole load: nft lists 3 prefixes in spamd, 17 in spamd6"
run0=$(metric nfspamd_setup_last_run_timestamp_seconds)
like "$run0" '^[1-9][0-9]*$' "whole load: the run's start is written"
is "$(metric 'nfspamd_setup_kernel_last_load_timestamp_seconds{mode="whole"}')" \
    "$run0" "whole load: the whole load's timestamp is the run's start"
is "$(grep -c '^nfspamd_setup_kernel_last_load_timestamp_seconds{mode="difference"}' "$prom")" \
    0 "whole load: no difference load's timestamp yet"
is "$(grep -c '^nfspamd_setup_kernel_diff_prefixes' "$prom")" 0 \
    "whole load: no nfspamd_setup_kernel_diff_prefixes"

out=$(talk 10.77.0.10 10.77.0.1)
like "$out" "spamd.gw.test" "a listed IPv4 client is sent to nfspamd"
like "$out" "10.77.0.10 is on list A" "and sees list A's message with its address"
out=$(talk fd77::10 fd77::1)
like "$out" "fd77::10 is on list A" "a listed IPv6 client sees list A's message"
out=$(talk 10.77.0.20 10.77.0.1)
is "$out" "220 mta.gw real MTA" "an unlisted IPv4 client reaches the MTA"
out=$(talk fd77::20 fd77::1)
is "$out" "220 mta.gw real MTA" "an unlisted IPv6 client reaches the MTA"
named()
{
	lab_exec gw nft list counter inet nfspamd "$1" |
	    grep -o 'packets [0-9]*' | cut -d' ' -f2
}
is "$(named blacklist) $(named blacklist6) $(named diverted)" "1 1 2" \
    "counters blacklist and blacklist6 counted the listed clients, diverted both"

# --- refresh: a difference --------------------------------------------
printf '10.77.0.20\nfd77::20\n203.0.113.0/24\n' >"$setdir/a.txt"
setup --metrics-file "$prom"
is "$?" 0 "refresh exits 0"
ok 'grep -q "changed by a difference" "$setdir/out"' \
    "refresh changes the sets by a difference"
ok 'grep -q "2 added, 2 deleted" "$setdir/out"' \
    "the difference is two adds and two deletes"
is "$(elements spamd)" "10.77.0.20, 198.51.100.0/24, 203.0.113.0/24" \
    "spamd after the refresh"
out=$(talk 10.77.0.20 10.77.0.1)
like "$out" "10.77.0.20 is on list A" "the newly listed client now meets nfspamd"
out=$(talk 10.77.0.10 10.77.0.1)
is "$out" "220 mta.gw real MTA" "the client no longer listed reaches the MTA"
out=$(talk fd77::10 fd77::1)
is "$out" "220 mta.gw real MTA" "and so does its IPv6 address"

# The refresh's metrics: 10.77.0.10 and fd77::10 out, 10.77.0.20 and
# fd77::20 in.
promcheck "refresh"
kernel_metrics "refresh"
run1=$(metric nfspamd_setup_last_run_timestamp_seconds)
is "$(metric 'nfspamd_setup_kernel_last_load_timestamp_seconds{mode="difference"}')" \
    "$run1" "refresh: the difference load's timestamp is the run's start"
is "$(metric 'nfspamd_setup_kernel_last_load_timestamp_seconds{mode="whole"}')" \
    "$run0" "refresh: the whole load's timestamp is still the first run's"
is "$(metric 'nfspamd_setup_kernel_diff_prefixes{change="added"}') $(
    metric 'nfspamd_setup_kernel_diff_prefixes{change="deleted"}')" "2 2" \
    "refresh: nfspamd_setup_kernel_diff_prefixes: 2 added, 2 deleted"

# One more difference, uneven so that added and deleted cannot be
# confused: 10.77.0.40 and fd77::40 in, fd77::20 out.
printf '10.77.0.20\n10.77.0.40\nfd77::40\n203.0.113.0/24\n' >"$setdir/a.txt"
setup --metrics-file "$prom"
is "$?" 0 "an uneven difference exits 0"
ok 'grep -q "2 added, 1 deleted" "$setdir/out"' \
    "uneven difference: two adds and one delete"
is "$(elements spamd)" "10.77.0.20, 10.77.0.40, 198.51.100.0/24, 203.0.113.0/24" \
    "uneven difference: spamd gains 10.77.0.40"
promcheck "uneven difference"
kernel_metrics "uneven difference"
is "$(nelements spamd) $(nelements spamd6)" "4 17" \
    "uneven difference: nft lists 4 prefixes in spamd, 17 in spamd6"
is "$(metric 'nfspamd_setup_kernel_diff_prefixes{change="added"}') $(
    metric 'nfspamd_setup_kernel_diff_prefixes{change="deleted"}')" "2 1" \
    "uneven difference: nfspamd_setup_kernel_diff_prefixes: 2 added, 1 deleted"
is "$(metric 'nfspamd_setup_kernel_last_load_timestamp_seconds{mode="difference"}')" \
    "$(metric nfspamd_setup_last_run_timestamp_seconds)" \
    "uneven difference: the difference load's timestamp is the run's start"
# Back to the refresh's list (the next run loads it whole).
printf '10.77.0.20\nfd77::20\n203.0.113.0/24\n' >"$setdir/a.txt"

# --- the set flushed behind our back ----------------------------------
lab_exec gw nft flush set inet nfspamd spamd
setup
is "$?" 0 "run after a flush by hand exits 0"
ok 'grep -q "do not hold what the last run loaded" "$setdir/out"' \
    "the flush is noticed"
ok 'grep -q "loaded whole" "$setdir/out"' "and the sets are loaded whole"
is "$(elements spamd)" "10.77.0.20, 198.51.100.0/24, 203.0.113.0/24" \
    "spamd restored"

# --- a failed list keeps its addresses --------------------------------
mv "$setdir/b.txt" "$setdir/b.gone"
printf '10.77.0.30\n' >"$setdir/a.txt"
setup
is "$?" 1 "a run with a missing list exits 1"
like "$(cat "$setdir/out")" "list listb: .*b.txt: No such file" \
    "the failed list is named with the reason"
is "$(elements spamd)" "10.77.0.30, 198.51.100.0/24, 203.0.113.128/25" \
    "list B's addresses stay in spamd, list A is updated"
out=$(talk 10.77.0.30 10.77.0.1)
like "$out" "10.77.0.30 is on list A" "nfspamd has list A's new contents"
mv "$setdir/b.gone" "$setdir/b.txt"

# --- a list removed from spamd.conf -----------------------------------
sed -i 's/:lista:listb:white:/:lista:/' "$conf"
setup
is "$?" 0 "run with list B removed from spamd.conf exits 0"
is "$(elements spamd)" "10.77.0.30" "list B's addresses leave spamd"
is "$(elements spamd6)" "" "and spamd6"
ok 'grep -q "list listb: gone from" "$setdir/out"' "and nfspamd is told to clear it"

# --- dry run ------------------------------------------------------------
printf '10.77.0.20\n' >"$setdir/a.txt"
lab_exec gw "$NFSPAMD_SETUP" -n -b -f "$conf" --db "$setdir/db" \
    --control "$ctl" --nospamd "$setdir/nospamd" >"$setdir/dry" 2>&1
is "$?" 0 "-n exits 0"
like "$(cat "$setdir/dry")" "^\+spamd 10.77.0.20/32" "-n prints the adds"
like "$(cat "$setdir/dry")" "-spamd 10.77.0.30/32" "and the deletes"
is "$(elements spamd)" "10.77.0.30" "-n changes nothing"

# --- as root on a --db of nobody's, then as nobody ----------------------
own=$setdir/db-own
mkdir -p "$own" && chown nobody: "$own" && chmod 750 "$own" ||
    bail_out "db-own"
# Left root's, mode 0600, by a root run of an older version.
install -m 600 /dev/null "$own/setup.lock"
own_setup()
{
	lab_exec gw "$@" "$NFSPAMD_SETUP" -b -d -f "$conf" --db "$own" \
	    --control "$ctl" --nospamd "$setdir/nospamd" >"$setdir/out" 2>&1
}
own_setup
is "$?" 0 "as root on nobody's --db: exit 0"
diag "$(tr '\n' ' ' <"$setdir/out")"
like "$(cat "$setdir/out")" "setup.lock belonged to root: given to nobody" \
    "the lock an older root run left is given to nobody"
ok '[ -s "$own/nft.gen" ] && [ -s "$own/setup.state" ]' \
    "nft.gen and setup.state are written"
is "$(find "$own" ! -user nobody | tr '\n' ' ')" "" \
    "every file in it is nobody's, nft.gen included"
is "$(elements spamd)" "10.77.0.20" "the sets were loaded (as nobody)"
printf '10.77.0.10\n' >"$setdir/a.txt"
own_setup setpriv --reuid nobody --regid "$(id -g nobody)" --init-groups \
    --inh-caps +net_admin --ambient-caps +net_admin --
is "$?" 0 "then as nobody with CAP_NET_ADMIN, as the service runs: exit 0"
ok 'grep -q "changed by a difference" "$setdir/out"' \
    "... applying a difference from the root run's load"
is "$(elements spamd)" "10.77.0.10" "spamd holds the new list"
is "$(find "$own" ! -user nobody | tr '\n' ' ')" "" \
    "every file in it is still nobody's"

# --- no table -------------------------------------------------------------
lab_exec gw nft delete table inet nfspamd
setup
is "$?" 1 "without the table: exit 1"
like "$(cat "$setdir/out")" "nft -f /etc/nfspamd/nfspamd.nft" \
    "the error says how to load the ruleset"

done_testing
