#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# The conditions given to check ... eval are single-quoted on purpose.
# shellcheck disable=SC2016 source-path=SCRIPTDIR
# System test of OS fingerprints: crafted SYNs of known genres and a real
# Linux Postfix, through the real ruleset with its OS tarpit rule on, to
# nfspamd and to a receiving Postfix that asks nfspamd-policy for the
# X-OS-Fingerprint header.  All in network namespaces (lib.sh's lab):
#
#   snd (10.77.1.2, fd77:1::2)           ── veth ── gw (10.77.1.1, ...,
#   bl  (10.77.2.2-.6, fd77:2::2)        ── veth ──     10.77.2.1, fd77:2::1)
#
# gw: nft/nfspamd.nft with the "osf ... NFSPAMD_OS_TARPIT" rule
# uncommented (Windows to the tarpit), nfspamd --firewall nft (which loads
# the fingerprints into the kernel), nfspamd-policy on 127.0.0.1:10045,
# and a receiving Postfix with smtpd_data_restrictions =
# check_policy_service.  bl: tests/system/synclient.py sends SYNs with the
# TTL, window and options of Windows XP, Windows 10, macOS, FreeBSD and of
# nothing known, and completes the handshake in user space.  snd: a real
# Postfix (this Linux kernel's SYNs), greylisted, retrying, delivering.
#
# Prints TAP, the plan last.  About 45 s.  Needs root (otherwise every
# test is skipped), postfix, nftables, python3.  Environment: top_srcdir,
# top_builddir; LAB_KEEP=1 keeps the temp dir; OSF_WATCHDOG (default 170).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build/plain}
NTESTS=31

. "$top_srcdir/tests/lib/tap.sh"
say() { diag "$*"; }
step() { diag "[+$(lab_elapsed)s] $*"; }
pass() { _tap_result 1 "$1"; }
fail()
{
	_tap_result 0 "$1"
	shift
	[ $# -eq 0 ] || diag "$*"
}
# check DESC CMD...: a test that CMD succeeds (run as it is, not eval'd).
check()
{
	local d=$1

	shift
	if "$@"; then
		pass "$d"
	else
		fail "$d"
		return 1
	fi
}
skip_all()
{
	skip "$1" "$NTESTS"
	done_testing
}

[ "$(id -u)" = 0 ] || skip_all "not root"
for c in postfix postconf nft ip python3 setpriv; do
	command -v "$c" >/dev/null || skip_all "$c not installed"
done
[ -r /usr/share/postfix/master.cf.dist ] || skip_all "postfix not installed"

nfspamd=$top_builddir/src/nfspamd/nfspamd
nfspamdb=$top_builddir/src/nfspamdb/nfspamdb
policy=$top_builddir/src/nfspamd-policy/nfspamd-policy
synclient=$here/synclient.py
for b in "$nfspamd" "$nfspamdb" "$policy"; do
	[ -x "$b" ] || { echo "Bail out! no $b (build first)"; exit 1; }
done

# shellcheck source=lib.sh
. "$here/lib.sh"
lab_init osf
lab_watchdog "${OSF_WATCHDOG:-170}" \
    "Bail out! osf.sh ran for ${OSF_WATCHDOG:-170} s; stopped"

dump_logs()
{
	local f

	for f in "$LAB_TMP/nfspamd.log" "$LAB_TMP/policy.log" \
	    "$LAB_TMP"/postfix-*/maillog; do
		[ -f "$f" ] || continue
		echo "==== $f" >&2
		cat "$f" >&2
	done
}

# --- the lab ---
step "lab: namespaces snd, bl, gw as $LAB_PREFIX-*, temp dir $LAB_TMP"
if ! lab_gateway_net || ! lab_addr gw bl0 fd77:2::1/64 ||
    ! lab_addr bl eth0 fd77:2::2/64; then
	echo "Bail out! cannot build the lab"
	exit 1
fi
for i in 3 4 5 6; do
	lab_addr bl eth0 10.77.2.$i/24 || { echo "Bail out! lab"; exit 1; }
done
lab_postfix gw gw '10.77.1.1, [fd77:1::1], 10.77.2.1' \
    'smtpd_data_restrictions=check_policy_service inet:127.0.0.1:10045' &&
    lab_postfix snd snd '127.0.0.1, [::1]' minimal_backoff_time=13s \
    maximal_backoff_time=15s queue_run_delay=3s &&
    lab_postfix_start gw snd
check "Postfix starts: the receiver in gw (with the policy service), the sender in snd" \
    lab_wait 10 lab_banner snd 10.77.1.1 ||
    { say "$(cat "$LAB_TMP"/postfix-*/maillog 2>&1)"; echo "Bail out! Postfix"; exit 1; }

# The ruleset with the OS tarpit rule on: Windows SYNs to port 8027.
sed 's/^\t\t#osf /\t\tosf /' "$top_srcdir/nft/nfspamd.nft" >"$LAB_TMP/nfspamd.nft"
out=$(lab_exec gw nft -f "$LAB_TMP/nfspamd.nft" 2>&1)
check "the ruleset loads with its OS tarpit rule uncommented" eval \
    '[ -z "$out" ] && lab_exec gw nft list chain inet nfspamd smtp-in |
    grep -q "osf ttl loose name \"Windows\" .*redirect to :8027"' ||
    say "$out"

if ! lab_nfspamd_start "$nfspamd" nft; then
	fail "nfspamd starts" "$(cat "$LAB_NFSPAMD_LOG")"
	echo "Bail out! nfspamd does not start"
	exit 1
fi
pass "nfspamd --firewall nft starts in gw, listening on 8025 and the OS tarpit's 8027"
line=$(grep -m1 'os fingerprints loaded into the kernel' "$LAB_NFSPAMD_LOG")
check "nfspamd loaded its fingerprints into the kernel at start" \
    eval '[[ $line =~ kernel:\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 200 ]' ||
    say "$(cat "$LAB_NFSPAMD_LOG")"
step "nfspamd: $line"

# The policy service as the nfspamd user would run it, reading the db.
lab_spawn gw "$LAB_TMP/policy.log" setpriv --reuid=nobody --regid=nogroup \
    --clear-groups "$policy" -d -v -l 127.0.0.1:10045 --db "$LAB_DB"
policy_pid=$LAB_LASTPID
check "nfspamd-policy listens on 127.0.0.1:10045 in gw, as nobody" \
    lab_wait 5 eval 'lab_exec gw python3 -c "import socket; socket.create_connection((\"127.0.0.1\", 10045), 1)"' ||
    say "$(cat "$LAB_TMP/policy.log")"

# --- crafted SYNs from bl ---
# syn SRC TTL WINDOW OPTIONS [DF]: a connection to gw:25 whose SYN says
# so, 3 s of reading; synclient's JSON in $syn_out.
syn()
{
	syn_out=$(lab_exec bl python3 "$synclient" --dev eth0 --src "$1" \
	    --dst "$( [[ $1 == *:* ]] && echo fd77:2::1 || echo 10.77.2.1)" \
	    --dport 25 --ttl "$2" --df "${5:-1}" --window "$3" --options "$4" \
	    --read-seconds 3 --json 2>&1)
}
jget() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2" 2>/dev/null; }
connected() { grep -E "connected ip=$1 " "$LAB_NFSPAMD_LOG" | head -n 1; }

step "crafted SYNs from bl: Windows XP, Windows 10, macOS, FreeBSD, unknown"
syn 10.77.2.2 128 65535 M1460,N,N,S
xp=$syn_out
syn 10.77.2.3 128 64240 M1460,N,W8,N,N,S
w10=$syn_out
syn 10.77.2.4 64 65535 M1460,N,W6,N,N,T,S,E,E
mac=$syn_out
syn 10.77.2.5 64 65535 M1460,N,W6,S,T
fbsd=$syn_out
syn 10.77.2.6 64 1234 M1460,N,N,N,N
unk=$syn_out
syn fd77:2::2 128 64240 M1460,N,W8,N,N,S
w10v6=$syn_out
lab_wait 5 eval '[ -n "$(connected 'fd77:2::2')" ]'

check "Windows XP SYN: connected, fingerprinted \"Windows\", on the list osf" \
    eval '[[ $(connected "10\.77\.2\.2") =~ lists=\"osf\"\ os=\"Windows ]]' ||
    say "$(connected '10\.77\.2\.2')" "$xp"
check "Windows XP SYN: the tarpit stutters (at most 4 bytes in 3 s)" eval \
    '[ "$(jget "$xp" connected)" = True ] && b=$(jget "$xp" bytes) &&
    [ "$b" -ge 1 ] && [ "$b" -le 4 ]' || say "$xp"
check "Windows 10 SYN: fingerprinted \"Windows 10-11\", on the list osf" \
    eval '[[ $(connected "10\.77\.2\.3") =~ lists=\"osf\"\ os=\"Windows\ 10 ]]' ||
    say "$(connected '10\.77\.2\.3')" "$w10"
check "Windows 10 SYN: stuttered too (at most 4 bytes in 3 s)" eval \
    '[ "$(jget "$w10" bytes)" -le 4 ]' || say "$w10"
check "macOS SYN: fingerprinted \"MacOS\", greylisted normally (no list)" \
    eval 'l=$(connected "10\.77\.2\.4"); [[ $l =~ \ os=\"MacOS ]] && [[ $l != *lists=* ]]' ||
    say "$(connected '10\.77\.2\.4')" "$mac"
check "macOS SYN: the whole banner at once (greylisted, not stuttered)" \
    eval '[[ $(jget "$mac" received) == 220\ * ]]' || say "$mac"
check "FreeBSD SYN: fingerprinted \"FreeBSD\", not tarpitted" \
    eval 'l=$(connected "10\.77\.2\.5"); [[ $l =~ \ os=\"FreeBSD ]] && [[ $l != *lists=* ]]' ||
    say "$(connected '10\.77\.2\.5')" "$fbsd"
check "a SYN of no known system: os=unknown, greylisted" \
    eval 'l=$(connected "10\.77\.2\.6"); [[ $l =~ \ os=unknown ]] && [[ $l != *lists=* ]]' ||
    say "$(connected '10\.77\.2\.6')" "$unk"
# The kernel's osf sees IPv4 only: nfspamd still names the system.
check "Windows 10 SYN over IPv6: nfspamd names it, the kernel's rule does not tarpit it" \
    eval 'l=$(connected "fd77:2::2"); [[ $l =~ \ os=\"Windows\ 10 ]] && [[ $l != *lists=* ]]' ||
    say "$(connected 'fd77:2::2')" "$w10v6"

# --- a real Linux Postfix from snd ---
LAB_TOKEN[4]=token-osf-$RANDOM$RANDOM
LAB_TOKEN[6]=token-osf6-$RANDOM$RANDOM
check "two messages submitted in snd (to gw over IPv4 and IPv6)" eval \
    'lab_sendmail snd osf@snd.e2e.test "user@[10.77.1.1]" "osf IPv4" \
    "${LAB_TOKEN[4]}" && lab_sendmail snd osf@snd.e2e.test \
    "user@[IPv6:fd77:1::1]" "osf IPv6" "${LAB_TOKEN[6]}"'
check "the Linux Postfix is greylisted normally, fingerprinted \"Linux\"" \
    lab_wait_log 15 "$LAB_NFSPAMD_LOG" \
    'greylisted ip=10\.77\.1\.2 .*new=1 attempts=1 os="Linux' ||
    say "$(grep -E 'ip=10\.77\.1\.2 ' "$LAB_NFSPAMD_LOG")"
check "... and never tarpitted" \
    eval '! grep -E "ip=10\.77\.1\.2 .*lists=" "$LAB_NFSPAMD_LOG" | grep -q .'
step "snd: $(grep -m1 -E 'greylisted ip=10\.77\.1\.2 ' "$LAB_NFSPAMD_LOG")"
check "it retries and passes (os= on the passed line)" \
    lab_wait_log 40 "$LAB_NFSPAMD_LOG" 'passed ip=10\.77\.1\.2 .*os="Linux'
check "IPv6: greylisted and passed as Linux too" \
    lab_wait_log 30 "$LAB_NFSPAMD_LOG" 'passed ip=fd77:1::2 .*os="Linux'
mbox=$LAB_TMP/postfix-gw/mail/mailbox
check "both messages delivered to the receiving Postfix" \
    lab_wait 30 eval 'grep -qs "${LAB_TOKEN[4]}" "$mbox" &&
    grep -qs "${LAB_TOKEN[6]}" "$mbox"' ||
    say "$(tail -n 20 "$LAB_TMP/postfix-gw/maillog")"
hdrs=$(grep -E '^X-OS-Fingerprint:' "$mbox" 2>/dev/null)
say "headers:" "$hdrs"
check "each delivered message carries \"X-OS-Fingerprint: Linux ...\"" \
    eval '[ "$(grep -c "^X-OS-Fingerprint: Linux " <<<"$hdrs")" -eq 2 ]'
check "the policy service logged its answers" \
    grep -Eq 'policy client=\S+ ip=10\.77\.1\.2 os="Linux[^"]*" answer=PREPEND' \
    "$LAB_TMP/policy.log" ||
    say "$(cat "$LAB_TMP/policy.log")"

# --- the database and the metrics ---
dbl=$("$nfspamdb" --db "$LAB_DB" --os 2>&1)
check "nfspamdb --os: the WHITE entry of 10.77.1.2 ends in |Linux ..." \
    grep -Eq '^WHITE\|10\.77\.1\.2\|\|\|[0-9|]+\|Linux ' <<<"$dbl" ||
    say "$dbl"
check "nfspamdb --json: nothing of the macOS SYN, which never got past the banner" \
    eval '! "$nfspamdb" --db "$LAB_DB" --json | grep -q "10\.77\.2\.4"'
m=$(lab_control gw "$LAB_CTL" metrics 2>&1)
mval() { sed -n "s/^$1 \([0-9]*\)$/\1/p" <<<"$m"; }
check "metrics: Windows counted twice or more by genre" \
    eval '[ "$(mval "nfspamd_os_connections_total{genre=\"Windows\"}")" -ge 3 ]' ||
    say "$(grep os_connections <<<"$m")"
check "metrics: Linux, MacOS, FreeBSD and unknown counted" eval \
    '[ "$(mval "nfspamd_os_connections_total{genre=\"Linux\"}")" -ge 2 ] &&
    [ "$(mval "nfspamd_os_connections_total{genre=\"MacOS\"}")" -ge 1 ] &&
    [ "$(mval "nfspamd_os_connections_total{genre=\"FreeBSD\"}")" -ge 1 ] &&
    [ "$(mval "nfspamd_os_connections_total{genre=\"unknown\"}")" -ge 1 ]' ||
    say "$(grep os_connections <<<"$m")"
check "metrics: the two tarpitted connections under list osf" \
    eval '[ "$(mval "nfspamd_blacklisted_connections_total{list=\"osf\"}")" -eq 2 ]' ||
    say "$(grep blacklisted_connections <<<"$m")"
# --- bad input to the policy service ---
bad=$(lab_exec gw python3 -c '
import socket
s = socket.create_connection(("127.0.0.1", 10045), 2)
s.settimeout(3)
s.sendall(b"request=smtpd_access_policy\nthis line has no equals sign\n\n")
print(repr(s.recv(100)))' 2>&1)
check "nfspamd-policy drops a client that sends a line without '=' (and says why)" \
    eval '[ "$bad" = "b'"''"'" ] &&
    lab_wait 3 grep -q "closed: .*no '"'='"' in" "$LAB_TMP/policy.log"' ||
    say "$bad" "$(tail -n 5 "$LAB_TMP/policy.log")"
check "nfspamd-policy still answers afterwards" eval \
    '[ "$(lab_exec gw python3 -c "
import socket
s = socket.create_connection((\"127.0.0.1\", 10045), 2)
s.settimeout(3)
s.sendall(b\"request=smtpd_access_policy\nclient_address=10.77.1.2\n\n\")
print(s.recv(200).decode().splitlines()[0])")" = "action=PREPEND X-OS-Fingerprint: $(sed -n "s/.*passed ip=10\.77\.1\.2 .*os=\"\([^\"]*\)\".*/\1/p" "$LAB_NFSPAMD_LOG" | head -n1)" ]'

# --- clean stop ---
lab_stop_pid "$policy_pid"
kill -TERM "$LAB_NFSPAMD_PID" 2>/dev/null
rc=
for ((i = 0; i < 100; i++)); do
	if ! kill -0 "$LAB_NFSPAMD_PID" 2>/dev/null; then
		wait "$LAB_NFSPAMD_PID"
		rc=$?
		break
	fi
	sleep 0.1
done
check "nfspamd exits 0 on SIGTERM" [ "$rc" = 0 ]
events='listening|connected|disconnected|greylisted|passed|blacklist|scan'
events="$events|firewall=[a-z]+ op=[a-z]+|stopping|alloweddomains|worker stats"
events="$events|greylisting by network:|os fingerprints=[0-9]+ files=[0-9]+|os fingerprints loaded"
check "nfspamd logged no warning or error" eval \
    '! grep -Ev "^nfspamd(\[[0-9]+\])?: ($events)( |$)" "$LAB_NFSPAMD_LOG" | grep -q .' ||
    say "$(grep -Ev "^nfspamd(\[[0-9]+\])?: ($events)( |$)" "$LAB_NFSPAMD_LOG" | head -n 20)"

[ "$_tap_failed" = 0 ] || dump_logs
done_testing
