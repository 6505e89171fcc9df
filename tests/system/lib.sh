# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# shellcheck shell=bash
# tests/system/lib.sh: a lab of network namespaces with real Postfix
# instances and nfspamd, for tests/system/e2e.sh and contrib/demo.
# Source it from bash, as root.  Needs iproute2, nftables, postfix, python3.
#
# Building blocks:
#	lab_init [prefix]	temp dir, cleanup traps (EXIT, INT, TERM, HUP)
#	lab_ns NAME		a network namespace, loopback up; its real
#				name, unique per run: lab_nsname NAME
#	lab_link NS1 DEV1 NS2 DEV2	a veth pair between two lab namespaces
#	lab_addr NS DEV CIDR	an address (IPv6 without DAD)
#	lab_exec NS CMD...	run CMD inside a lab namespace
#	lab_postfix NAME NS IFACES [key=value...]
#				prepare a Postfix instance of its own for
#				NS, listening on IFACES (comma-separated);
#				its files: lab_postfix_dir NAME
#	lab_postfix_start NAME...	start instances (in parallel)
#	lab_postfix_stop NAME
#	lab_sendmail NAME FROM TO SUBJECT BODY	submit one message
#	lab_spawn NS LOG CMD...	start a daemon in NS in the background,
#				its stdout and stderr to LOG; kept for cleanup
#	lab_wait SECS CMD...	run CMD every 0.2 s until it succeeds; 1 on
#				timeout
#	lab_wait_log SECS FILE ERE	wait until a line of FILE matches
#	lab_control NS SOCK LINE...	send lines to nfspamd's control socket
#	lab_stutter NS HOST PORT N	the first N bytes a server sends, and
#				the seconds before each
#	lab_elapsed		seconds since lab_init, as "12.3"
#	lab_watchdog SECS MSG	after SECS, print MSG and send SIGTERM to
#				this script (whose trap then cleans up)
#	lab_cleanup		everything undone (also run by the traps);
#				with LAB_KEEP=1 the temp dir and its logs
#				are kept
# The mail gateway lab built from them is described further down.
#
# Do not call the functions that create things inside $(...): a
# subshell's bookkeeping is lost and cleanup would miss what it made.
#
# The lab touches nothing outside the namespaces it creates and its temp
# dir: interfaces are created straight inside the namespaces (never in
# the host's), every address is set inside a namespace, and the
# namespaces are deleted on exit, on failure and on Ctrl-C, after every
# process in them has been stopped: nfspamd with SIGTERM, each Postfix
# with "postfix -c DIR stop", then whatever still runs in a lab namespace
# (ip netns pids) with SIGTERM and at last SIGKILL.
#
# The Postfix configuration that works (Debian 12's postfix 3.7.11, a
# second instance per namespace, started with "postfix -c DIR start"
# inside the namespace):
#   - config dir, queue_directory and data_directory in the temp dir; the
#     queue directory must exist before "postfix start" (post-install then
#     creates its subdirectories with the right owners), the data
#     directory must not (it must belong to the postfix user; post-install
#     makes it); the temp dir is mode 0755 so the postfix user reaches it
#   - master.cf: Debian's /usr/share/postfix/master.cf.dist with chroot
#     off for every service (postconf -F '*/*/chroot = n')
#   - logging: maillog_file in the temp dir (written by the postlog
#     service of master.cf), which needs maillog_file_prefixes to allow
#     it; without it "postfix start" fails and says so only to syslog
#     (there is no /dev/log here, so the message is lost)
#   - "postfix -c DIR start/stop" must run inside the namespace: Postfix
#     checks inet_interfaces and exits (silently, to syslog) where those
#     addresses do not exist
#   - no DNS: smtp_dns_support_level = disabled, smtpd_peername_lookup =
#     no; mail goes to address literals: user@[10.77.1.1] and
#     user@[IPv6:fd77:1::1] are local domains of the instance that
#     listens on those addresses (no mydestination entry needed)
#   - delivery: local_transport = virtual with virtual_mailbox_maps =
#     static:mailbox, so every local recipient lands in one mbox file,
#     virtual_mailbox_base/mailbox, written as uid/gid nobody/nogroup
#     (static uid/gid maps); no local user, no aliases.
#     virtual_mailbox_domains must be set empty: by default it is
#     $virtual_mailbox_maps, and static: matches every domain, so the
#     sender would deliver every message to itself
#   - retries: minimal_backoff_time, maximal_backoff_time and
#     queue_run_delay (the lab: 13s, 15s, 3s on the senders)
#   - submission: "sendmail -C DIR" inside the namespace, as root

LAB_PREFIX=
LAB_TMP=
LAB_T0=
LAB_NS=()		# real names of the namespaces created
LAB_PF=()		# names of the Postfix instances started
LAB_PIDS=()		# daemons started with lab_spawn
LAB_CLEANED=0
declare -A LAB_NSNAME	# short name -> real name
declare -A LAB_PFDIR	# Postfix instance name -> its base dir
declare -A LAB_PFNS	# Postfix instance name -> its namespace

lab_init()
{
	LAB_PREFIX=${1:-nfsl}$$
	LAB_T0=$(date +%s.%N)
	LAB_TMP=$(mktemp -d "/tmp/nfspamd-lab.XXXXXX") || return 1
	chmod 755 "$LAB_TMP"
	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

lab_elapsed()
{
	local now

	now=$(date +%s.%N)
	awk -v a="$LAB_T0" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

lab_ns()
{
	local short=$1 real="$LAB_PREFIX-$1"

	ip netns add "$real" || return 1
	LAB_NS+=("$real")
	LAB_NSNAME[$short]=$real
	ip -n "$real" link set lo up
}

# The real name of a lab namespace.
lab_nsname()
{
	echo "${LAB_NSNAME[$1]:?unknown lab namespace $1}"
}

lab_link()
{
	local a b

	a=$(lab_nsname "$1") && b=$(lab_nsname "$3") || return 1
	# Created inside namespace a, its peer moved to b at once: no
	# interface ever exists in the host's namespace.
	ip -n "$a" link add "$2" type veth peer name "$4" netns "$b" &&
	    ip -n "$a" link set "$2" up && ip -n "$b" link set "$4" up
}

lab_addr()
{
	local ns

	ns=$(lab_nsname "$1") || return 1
	case $3 in
	*:*) ip -n "$ns" -6 addr add "$3" dev "$2" nodad ;;
	*) ip -n "$ns" addr add "$3" dev "$2" ;;
	esac
}

lab_exec()
{
	local ns

	ns=$(lab_nsname "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

# lab_postfix NAME NS IFACES [key=value...]: prepare (not start) a
# Postfix instance.  Its files live under $LAB_TMP/postfix-NAME:
# etc/ (config), spool/, data/, maillog, mail/mailbox.
lab_postfix()
{
	local name=$1 ns=$2 ifaces=$3 base etc
	shift 3

	base=$LAB_TMP/postfix-$name
	etc=$base/etc
	mkdir -p "$etc" "$base/spool" "$base/mail" || return 1
	chown nobody:nogroup "$base/mail"
	cp /usr/share/postfix/master.cf.dist "$etc/master.cf" || return 1
	: >"$etc/main.cf"
	LAB_PFDIR[$name]=$base
	LAB_PFNS[$name]=$ns
	# shellcheck disable=SC2016
	postconf -c "$etc" -e \
	    compatibility_level=3.6 \
	    "myhostname=$name.e2e.test" \
	    'myorigin=$myhostname' \
	    'mydestination=$myhostname, localhost' \
	    "inet_interfaces=$ifaces" \
	    inet_protocols=all \
	    "queue_directory=$base/spool" \
	    "data_directory=$base/data" \
	    mail_owner=postfix \
	    setgid_group=postdrop \
	    "maillog_file=$base/maillog" \
	    "maillog_file_prefixes=$LAB_TMP" \
	    alias_maps= alias_database= \
	    biff=no \
	    smtp_dns_support_level=disabled \
	    smtpd_peername_lookup=no \
	    smtp_connect_timeout=5s \
	    'mynetworks=127.0.0.0/8 [::1]/128' \
	    local_transport=virtual \
	    local_recipient_maps= \
	    virtual_mailbox_domains= \
	    virtual_mailbox_maps=static:mailbox \
	    "virtual_mailbox_base=$base/mail" \
	    "virtual_uid_maps=static:$(id -u nobody)" \
	    "virtual_gid_maps=static:$(getent group nogroup | cut -d: -f3)" \
	    minimal_backoff_time=5s \
	    maximal_backoff_time=10s \
	    queue_run_delay=5s || return 1
	# The caller's settings, over those (one call would warn about each
	# setting given twice).
	[ $# -eq 0 ] || postconf -c "$etc" -e "$@" || return 1
	postconf -c "$etc" -F '*/*/chroot = n'
}

lab_postfix_dir()
{
	echo "${LAB_PFDIR[$1]:?unknown Postfix instance $1}"
}

# lab_postfix_start NAME...: start the instances, in parallel.
lab_postfix_start()
{
	local n pids=() rc=0 p

	for n in "$@"; do
		: "${LAB_PFDIR[$n]:?unknown Postfix instance $n}"
		LAB_PF+=("$n")
	done
	for n in "$@"; do
		lab_exec "${LAB_PFNS[$n]}" postfix -c "${LAB_PFDIR[$n]}/etc" \
		    start >>"${LAB_PFDIR[$n]}/ctl.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || rc=1
	done
	return $rc
}

# lab_postfix_stop NAME: "postfix stop" inside the namespace (elsewhere
# Postfix refuses to run: its inet_interfaces are not there), then wait
# up to 5 s for the master to go, then kill it.
lab_postfix_stop()
{
	local base=${LAB_PFDIR[$1]:?unknown Postfix instance $1} pid i

	pid=$(tr -dc 0-9 <"$base/spool/pid/master.pid" 2>/dev/null)
	lab_exec "${LAB_PFNS[$1]}" postfix -c "$base/etc" stop \
	    >>"$base/ctl.log" 2>&1
	[ -n "$pid" ] || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "lab: Postfix instance $1 did not stop; killed" >&2
	kill -KILL "$pid" 2>/dev/null
	return 0
}

# lab_sendmail NAME FROM TO SUBJECT BODY: submit through the instance's
# sendmail, inside its namespace.
lab_sendmail()
{
	local base=${LAB_PFDIR[$1]:?unknown Postfix instance $1}
	local from=$2 to=$3 subj=$4 body=$5

	printf 'From: %s\nTo: %s\nSubject: %s\n\n%s\n' "$from" "$to" \
	    "$subj" "$body" |
	    lab_exec "${LAB_PFNS[$1]}" sendmail -C "$base/etc" -f "$from" "$to"
}

# lab_spawn NS LOG CMD...: start CMD in NS in the background.  Sets
# LAB_LASTPID.  "ip netns exec" execs CMD, so the pid is CMD's.
lab_spawn()
{
	local ns log=$2

	ns=$(lab_nsname "$1") || return 1
	shift 2
	ip netns exec "$ns" "$@" >>"$log" 2>&1 </dev/null &
	LAB_LASTPID=$!
	LAB_PIDS+=("$LAB_LASTPID")
}

lab_stop_pid()
{
	local pid=$1 i

	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

lab_wait()
{
	local secs=$1 end
	shift

	end=$(($(date +%s%N) + secs * 1000000000))
	while :; do
		"$@" 2>/dev/null && return 0
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

lab_wait_log()
{
	lab_wait "$1" grep -Eq -- "$3" "$2"
}

# lab_control NS SOCK LINE...: the lines, then shut down the write side,
# then print the reply.
lab_control()
{
	local ns=$1 sock=$2
	shift 2

	lab_exec "$ns" python3 - "$sock" "$@" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall("".join(l + "\n" for l in sys.argv[2:]).encode())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
sys.stdout.write(out.decode(errors="replace"))
EOF
}

# lab_stutter NS HOST PORT N: connect, read the first N bytes one at a
# time; print the bytes read, then the seconds from connect to the first
# byte and between each two bytes, one per line.
lab_stutter()
{
	lab_exec "$1" python3 - "$2" "$3" "$4" <<'EOF'
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=n * 3 + 5)
t = [time.monotonic()]
got = b""
while len(got) < n:
    b = s.recv(1)
    if not b:
        break
    got += b
    t.append(time.monotonic())
s.close()
print(repr(got.decode(errors="replace")))
for a, b in zip(t, t[1:]):
    print("%.2f" % (b - a))
EOF
}

lab_watchdog()
{
	local secs=$1 msg=$2 me=$$

	(
		sleep "$secs" &
		sp=$!
		trap 'kill $sp 2>/dev/null; exit 0' TERM
		wait $sp || exit 0
		echo "$msg"
		kill -TERM "$me"
	) &
	LAB_PIDS+=($!)
}

# After lab_cleanup: the namespaces of "$@" that still exist, and (by
# lab_pids_left) the PIDs of "$@" still running (a zombie has stopped;
# only its reaping by PID 1 is pending), space-separated; "" if none.
lab_ns_left()
{
	local ns left=
	for ns in "$@"; do
		[ -e "/run/netns/$ns" ] && left="$left $ns"
	done
	printf '%s' "$left"
}

lab_pids_left()
{
	local p st left=
	for p in "$@"; do
		st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)
		[ -n "$st" ] && [ "$st" != Z ] && left="$left $p"
	done
	printf '%s' "$left"
}

lab_cleanup()
{
	local n pid ns pids i left stops=()

	[ "$LAB_CLEANED" = 1 ] && return 0
	LAB_CLEANED=1
	trap - INT TERM HUP
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for n in "${LAB_PF[@]}"; do
		lab_postfix_stop "$n" &
		stops+=($!)
	done
	for pid in "${stops[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		lab_stop_pid "$pid"
	done
	# Whatever still runs in a lab namespace was started by the lab.
	for ((i = 0; i < 30; i++)); do
		left=
		for ns in "${LAB_NS[@]}"; do
			pids=$(ip netns pids "$ns" 2>/dev/null)
			[ -n "$pids" ] || continue
			left=1
			# shellcheck disable=SC2086
			if [ $i -lt 20 ]; then
				[ $((i % 10)) = 0 ] && kill -TERM $pids 2>/dev/null
			else
				kill -KILL $pids 2>/dev/null
			fi
		done
		[ -n "$left" ] || break
		sleep 0.1
	done
	for ns in "${LAB_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "${LAB_KEEP:-0}" = 1 ]; then
		echo "lab: kept $LAB_TMP" >&2
	elif [ -n "$LAB_TMP" ] && [ -d "$LAB_TMP" ]; then
		rm -rf "$LAB_TMP"
	fi
	return 0
}

# --- the mail gateway lab, shared by tests/system/e2e.sh and contrib/demo -
#
#   snd  eth0 10.77.1.2/24 fd77:1::2/64 ── snd0 10.77.1.1/24 fd77:1::1/64  gw
#   bl   eth0 10.77.2.2/24              ── bl0  10.77.2.1/24               gw
#
# gw: the nfspamd ruleset, nfspamd on port 8025 (listening on 0.0.0.0 and
# ::, since a redirect delivers to the address of the interface the
# connection came in on), the receiving Postfix on port 25 of its three
# addresses.  snd: the sending Postfix.  bl: a sender on the blacklist
# "lab" (10.77.2.0/24), loaded through the control socket.
#
#	lab_gateway_net		the namespaces, links and addresses
#	lab_gateway_postfix	prepare and start the three Postfix instances
#	lab_gateway_reach	each sender reaches the receiving Postfix
#	lab_standin_ruleset	a minimal ruleset, for when nft/nfspamd.nft
#				does not exist
#	lab_nfspamd_start BIN BACKEND	nfspamd in gw (LAB_NFSPAMD_PID,
#				LAB_NFSPAMD_LOG, LAB_DB, LAB_CTL), with the
#				flags of LAB_NFSPAMD_ARGS added
#	lab_blacklist		load the "lab" list through the control
#				socket; prints nfspamd's reply
#	lab_submit		one message each: snd to user@[10.77.1.1] and
#				user@[IPv6:fd77:1::1], bl to user@[10.77.2.1]
#	lab_watch		follow everything as it happens, calling the
#				caller's lab_on_ok TRACK STAGE LINE,
#				lab_on_fail TRACK STAGE WHY... and
#				lab_on_note TRACK TEXT... (tracks 4, 6, bl;
#				stages: lab_stages TRACK)
#	lab_set_elem SET ADDR	"timeout=N expires=N" if ADDR is in
#				inet nfspamd SET with a timeout
#	lab_unbound_head ZONE ADDR/LEN...	the server: part of an
#				unbound.conf answering ZONE from its own
#				local-data lines, on each ADDR for its
#				network, to stdout (the caller adds the
#				local-data lines and "remote-control:")
#	lab_unbound_start NS	unbound -c $LAB_TMP/unbound.conf in NS,
#				checked first; LAB_UNBOUND_PID; bails out
#				when it does not listen on port 53

LAB_PASSTIME=10			# nfspamd -G passtime, seconds
LAB_NFSPAMD_ARGS=()		# more flags for lab_nfspamd_start
LAB_BACKEND=nft
declare -A LAB_ADDR=([4]=10.77.1.2 [6]=fd77:1::2 [bl]=10.77.2.2)
declare -A LAB_ARE=([4]='10\.77\.1\.2' [6]='fd77:1::2' [bl]='10\.77\.2\.2')
declare -A LAB_RCPT=([4]='user@[10.77.1.1]' [6]='user@[IPv6:fd77:1::1]'
    [bl]='user@[10.77.2.1]')
declare -A LAB_SET=([4]=spamd-white [6]=spamd-white6)
# What a pass puts in the set: the sender's network address, by nfspamd's
# default -N 32:64 (the IPv6 /64).
declare -A LAB_ELEM=([4]=10.77.1.2 [6]=fd77:1::)
declare -A LAB_TOKEN
declare -A LAB_WHEN		# TRACK.STAGE -> lab_elapsed when it happened

lab_gateway_net()
{
	lab_ns snd && lab_ns bl && lab_ns gw &&
	    lab_link snd eth0 gw snd0 && lab_link bl eth0 gw bl0 &&
	    lab_addr snd eth0 10.77.1.2/24 && lab_addr snd eth0 fd77:1::2/64 &&
	    lab_addr gw snd0 10.77.1.1/24 && lab_addr gw snd0 fd77:1::1/64 &&
	    lab_addr bl eth0 10.77.2.2/24 && lab_addr gw bl0 10.77.2.1/24
}

lab_gateway_postfix()
{
	lab_postfix gw gw '10.77.1.1, [fd77:1::1], 10.77.2.1' || return 1
	# Postfix retries a deferred message minimal_backoff_time after it
	# was queued, give or take its queue scan (queue_run_delay) and a
	# second of slack in that scan: here 12-16 s after the 451, safely
	# more than nfspamd's passtime (10 s).
	lab_postfix snd snd '127.0.0.1, [::1]' minimal_backoff_time=13s \
	    maximal_backoff_time=15s queue_run_delay=3s || return 1
	lab_postfix bl bl '127.0.0.1' inet_protocols=ipv4 \
	    minimal_backoff_time=13s maximal_backoff_time=15s \
	    queue_run_delay=3s || return 1
	lab_postfix_start gw snd bl
}

# lab_banner NS ADDR: ADDR:25 answers with the receiving Postfix's banner.
lab_banner()
{
	lab_exec "$1" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 25), 2)
s.settimeout(2)
sys.exit(0 if s.recv(100).startswith(b"220 gw.e2e.test ESMTP Postfix") else 1)' "$2"
}

lab_gateway_reach()
{
	lab_wait 10 lab_banner snd 10.77.1.1 && lab_banner snd fd77:1::1 &&
	    lab_banner bl 10.77.2.1
}

lab_standin_ruleset()
{
	cat <<'EOS'
table inet nfspamd {
	set spamd-white { type ipv4_addr; flags timeout; }
	set spamd-white6 { type ipv6_addr; flags timeout; }
	set nospamd { type ipv4_addr; flags interval; }
	set nospamd6 { type ipv6_addr; flags interval; }
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip saddr @nospamd tcp dport 25 return
		ip saddr @spamd-white tcp dport 25 return
		ip6 saddr @nospamd6 tcp dport 25 return
		ip6 saddr @spamd-white6 tcp dport 25 return
		tcp dport 25 redirect to :8025
	}
}
EOS
}

# lab_nfspamd_start BIN BACKEND: start nfspamd in gw as it runs in
# production: as an unprivileged user (nobody here), which owns its
# database and the directory of its control socket.  Status 0 once it
# logged "listening"; 1 (and LAB_NFSPAMD_LOG says why) if it exited.
lab_nfspamd_start()
{
	local bin=$1 backend=$2

	LAB_NFSPAMD_LOG=$LAB_TMP/nfspamd.log
	LAB_DB=$LAB_TMP/db
	LAB_CTL=$LAB_TMP/run/control.sock
	LAB_BACKEND=$backend
	mkdir -p "$LAB_DB" "$LAB_TMP/run" &&
	    chown nobody: "$LAB_DB" "$LAB_TMP/run" || return 1
	lab_spawn gw "$LAB_NFSPAMD_LOG" "$bin" --firewall "$backend" -d \
	    -G "${LAB_PASSTIME}s:1h:1h" -S 0 -s 1 -l 0.0.0.0 -l :: -p 8025 \
	    -h spamd.gw.e2e.test --db "$LAB_DB" --control "$LAB_CTL" \
	    --user nobody --alloweddomains "$LAB_TMP/alloweddomains" \
	    --os-fingerprints "$top_srcdir/etc/os-fingerprints" \
	    --os-fingerprints "$top_srcdir/etc/pf.os" \
	    "${LAB_NFSPAMD_ARGS[@]}"
	LAB_NFSPAMD_PID=$LAB_LASTPID
	# shellcheck disable=SC2016  # eval'd
	lab_wait 10 eval '! kill -0 $LAB_NFSPAMD_PID ||
	    grep -q "listening " "$LAB_NFSPAMD_LOG"'
	kill -0 "$LAB_NFSPAMD_PID" 2>/dev/null &&
	    grep -q "listening " "$LAB_NFSPAMD_LOG"
}

lab_blacklist()
{
	lab_control gw "$LAB_CTL" \
	    'lab;"Your address %A is on the lab blacklist\n";inet;1;10.77.2.0/24'
}

lab_submit()
{
	local t

	for t in 4 6 bl; do
		LAB_TOKEN[$t]=token-$t-$LAB_PREFIX-$RANDOM$RANDOM
	done
	lab_sendmail snd e2e@snd.e2e.test "${LAB_RCPT[4]}" "lab IPv4" \
	    "${LAB_TOKEN[4]}" &&
	    lab_sendmail snd e2e@snd.e2e.test "${LAB_RCPT[6]}" "lab IPv6" \
	    "${LAB_TOKEN[6]}" &&
	    lab_sendmail bl bl@bl.e2e.test "${LAB_RCPT[bl]}" "lab blacklisted" \
	    "${LAB_TOKEN[bl]}"
}

lab_set_elem()
{
	lab_exec gw nft -j list set inet nfspamd "$1" 2>/dev/null |
	    python3 -c '
import json, sys
want = sys.argv[1]
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("set", {}).get("elem", []):
        if isinstance(e, dict) and "elem" in e:
            e = e["elem"]
            if e.get("val") == want and "expires" in e:
                print("timeout=%s expires=%s" % (e.get("timeout"), e["expires"]))
                sys.exit(0)
sys.exit(1)' "$2"
}

lab_unbound_head()
{
	local zone=$1 a
	shift

	printf 'server:\n'
	for a; do
		printf '\tinterface: %s\n' "${a%/*}"
	done
	printf '\t%s\n' 'port: 53' 'do-daemonize: no' 'username: ""' \
	    'chroot: ""' "directory: \"$LAB_TMP\"" \
	    "pidfile: \"$LAB_TMP/unbound.pid\"" 'use-syslog: no' \
	    'logfile: ""' 'verbosity: 1' 'module-config: "iterator"'
	for a; do
		printf '\taccess-control: %s allow\n' "$(python3 -c '
import ipaddress, sys
print(ipaddress.ip_interface(sys.argv[1]).network)' "$a")"
	done
	printf '\tlocal-zone: "%s" static\n' "$zone"
}

lab_unbound_start()
{
	local unbound err

	unbound=$(command -v unbound || echo /usr/sbin/unbound)
	if ! err=$(unbound-checkconf "$LAB_TMP/unbound.conf" 2>&1); then
		echo "Bail out! unbound-checkconf: $err"
		exit 1
	fi
	lab_spawn "$1" "$LAB_TMP/unbound.log" "$unbound" -d \
	    -c "$LAB_TMP/unbound.conf"
	LAB_UNBOUND_PID=$LAB_LASTPID
	# Listening: port 53 (0035) in the namespace's UDP table.
	if ! lab_wait 10 lab_exec "$1" sh -c "grep -q ':0035 ' /proc/net/udp"
	then
		echo "Bail out! unbound did not start: $(tail -n 5 \
		    "$LAB_TMP/unbound.log")"
		exit 1
	fi
}

lab_stages()
{
	case $1 in
	bl) echo blconn stutter ;;
	*) echo grey deferred passed set delivered ;;
	esac
}

# lab_stage_desc TRACK STAGE: what the stage is, in a few words.
lab_stage_desc()
{
	local f=$1

	case $2 in
	grey) echo "IPv$f: first attempt greylisted (${LAB_ADDR[$f]})" ;;
	deferred) echo "IPv$f: the sending Postfix deferred it on the 451" ;;
	passed) echo "IPv$f: Postfix retried by itself and the tuple passed" ;;
	set) echo "IPv$f: ${LAB_ELEM[$f]} is in @${LAB_SET[$f]} with a timeout" ;;
	delivered) echo "IPv$f: the next attempt is delivered to the real Postfix" ;;
	blconn) echo "blacklisted: nfspamd logged the connection with lists=lab" ;;
	stutter) echo "blacklisted: stuttered, banner bytes ~1 s apart (-s 1)" ;;
	esac
}

_lab_next()
{
	_lab_stage[$1]=$2
	_lab_deadline[$1]=$(($(date +%s%N) + $3 * 1000000000))
}

_lab_ok()
{
	# shellcheck disable=SC2034  # read by the callers
	LAB_WHEN[$1.$2]=$(lab_elapsed)
	lab_on_ok "$@"
}

# _lab_try TRACK: 0 when the stage the track waits for has happened.
_lab_try()
{
	local f=$1 line log=$LAB_NFSPAMD_LOG got gaps
	local snd_log=$LAB_TMP/postfix-snd/maillog
	local mbox=$LAB_TMP/postfix-gw/mail/mailbox

	case ${_lab_stage[$f]} in
	grey)
		line=$(grep -m1 -E "greylisted ip=${LAB_ARE[$f]} .*new=1" \
		    "$log") || return 1
		_lab_ok "$f" grey "$line"
		_lab_next "$f" deferred 10
		;;
	deferred)
		line=$(grep -F "to=<${LAB_RCPT[$f]}>" "$snd_log" |
		    grep -m1 -E 'status=deferred .* 451 ') || return 1
		_lab_ok "$f" deferred "${line#*postfix/}"
		_lab_next "$f" passed 45
		;;
	passed)
		line=$(grep -m1 -E "passed ip=${LAB_ARE[$f]} " "$log") ||
		    return 1
		_lab_ok "$f" passed "$line"
		if [ "$LAB_BACKEND" != nft ]; then
			lab_on_fail "$f" set \
			    "no nft backend in nfspamd; --firewall none logged:" \
			    "$(grep -E "firewall=none op=white ip=${LAB_ARE[$f]} " "$log")"
			lab_on_fail "$f" delivered \
			    "not tried: without the nft backend the address" \
			    "never reaches @${LAB_SET[$f]}"
			_lab_stage[$f]=over
			return 0
		fi
		_lab_next "$f" set 3
		;;
	set)
		line=$(lab_set_elem "${LAB_SET[$f]}" "${LAB_ELEM[$f]}") ||
		    return 1
		_lab_ok "$f" set "${LAB_ELEM[$f]} in inet nfspamd ${LAB_SET[$f]}, $line"
		_lab_next "$f" delivered 45
		;;
	delivered)
		grep -qs "${LAB_TOKEN[$f]}" "$mbox" || return 1
		line=$(grep -F "to=<${LAB_RCPT[$f]}>" "$snd_log" |
		    grep -m1 'status=sent') || return 1
		_lab_ok "$f" delivered "${line#*postfix/}"
		_lab_stage[$f]=over
		;;
	blconn)
		line=$(grep -m1 -E \
		    'connected ip=10\.77\.2\.2 .*lists="?lab"?( |$)' "$log") ||
		    return 1
		_lab_ok "$f" blconn "$line"
		_lab_next "$f" stutter 15
		;;
	stutter)
		kill -0 "$_lab_stutter_pid" 2>/dev/null && return 1
		wait "$_lab_stutter_pid"
		got=$(head -n1 "$LAB_TMP/stutter.out")
		gaps=$(tail -n +2 "$LAB_TMP/stutter.out" | tr '\n' ' ')
		line="read $got, seconds before each byte: $gaps"
		if [ "$got" = "'220 '" ] && awk -v g="$gaps" 'BEGIN {
		    n = split(g, a, " "); if (n != 4) exit 1
		    for (i = 1; i <= n; i++)
			if (a[i] < 0.7 || a[i] > 1.6) exit 1 }'; then
			_lab_ok "$f" stutter "$line"
		else
			lab_on_fail "$f" stutter "$line" \
			    "$(cat "$LAB_TMP/stutter.out")"
		fi
		_lab_stage[$f]=over
		;;
	*) return 1 ;;
	esac
}

# _lab_expire TRACK: the stage did not come in time; it and every later
# stage of the track fail.
_lab_expire()
{
	local f=$1 s later=0

	for s in $(lab_stages "$f"); do
		[ "$s" = "${_lab_stage[$f]}" ] && later=1
		[ $later = 1 ] || continue
		if [ "$s" = "${_lab_stage[$f]}" ]; then
			lab_on_fail "$f" "$s" "timed out waiting for it"
		else
			lab_on_fail "$f" "$s" "not reached"
		fi
	done
	if [ "$f" != bl ]; then
		lab_on_note "$f" "what nfspamd logged about ${LAB_ADDR[$f]}:" \
		    "$(grep -E "ip=${LAB_ARE[$f]} " "$LAB_NFSPAMD_LOG")" \
		    "what the sender logged:" \
		    "$(grep -F "${LAB_RCPT[$f]}" "$LAB_TMP/postfix-snd/maillog")"
	fi
	_lab_stage[$f]=over
}

# lab_watch: three tracks at once.  IPv4 and IPv6 mail from snd: greylisted,
# deferred by the sender on the 451, retried by the sender and passed, in
# the kernel set, delivered.  bl: nfspamd sees a blacklisted client, and a
# raw connection from bl reads the banner byte by byte.  Every stage has a
# deadline; the whole takes under a minute.  Call after lab_submit.
lab_watch()
{
	local f busy
	declare -gA _lab_stage _lab_deadline

	lab_stutter bl 10.77.2.1 25 4 >"$LAB_TMP/stutter.out" 2>&1 &
	_lab_stutter_pid=$!
	_lab_next 4 grey 20
	_lab_next 6 grey 20
	_lab_next bl blconn 10
	while :; do
		busy=0
		for f in 4 6 bl; do
			[ "${_lab_stage[$f]}" = over ] && continue
			busy=1
			_lab_try "$f" && continue
			[ "$(date +%s%N)" -lt "${_lab_deadline[$f]}" ] ||
			    _lab_expire "$f"
		done
		[ $busy = 1 ] || break
		sleep 0.2
	done
}

# --- labs of several nodes (tests/system/ha.sh) ---------------------------
#
#	lab_bridge NS BR PORT...	a bridge BR inside lab namespace NS,
#				up, with NS's interfaces PORT... as its
#				ports (never in the host's namespace)
#	lab_nfspamd_node NAME NS BIN [FLAGS...]	one nfspamd among several:
#				in NS, as nobody, with a database, control
#				socket and log of its own under
#				$LAB_TMP/NAME (db/, run/control.sock,
#				nfspamd.log, appended to on a restart);
#				the flags of lab_nfspamd_start but no -l
#				(every address, as a node that does not
#				hold the shared address yet needs) and
#				-s 0, plus FLAGS; status 0 once it logged
#				"listening port=", 1 if it exited.
#				LAB_NODE_PID[NAME],
#				LAB_NODE_DB[NAME], LAB_NODE_CTL[NAME],
#				LAB_NODE_LOG[NAME]
#	lab_nfspamd_node_kill NAME	SIGKILL to every process of that
#				nfspamd (supervisor, workers, netlink
#				helper), as a crash would; waits for them
#	lab_log_mark FILE	the number of lines FILE has now
#	lab_wait_log_after SECS FILE MARK ERE	wait until a line of FILE
#				after line MARK matches ERE

declare -A LAB_NODE_PID LAB_NODE_NS LAB_NODE_BIN LAB_NODE_DB LAB_NODE_CTL
declare -A LAB_NODE_LOG

lab_bridge()
{
	local ns br=$2 p

	ns=$(lab_nsname "$1") || return 1
	shift 2
	ip -n "$ns" link add "$br" type bridge &&
	    ip -n "$ns" link set "$br" up || return 1
	for p; do
		ip -n "$ns" link set "$p" master "$br" || return 1
	done
}

lab_nfspamd_node()
{
	local name=$1 ns=$2 bin=$3 dir=$LAB_TMP/$1
	shift 3

	LAB_NODE_NS[$name]=$ns
	LAB_NODE_BIN[$name]=$bin
	# shellcheck disable=SC2034  # for the callers
	LAB_NODE_DB[$name]=$dir/db
	# shellcheck disable=SC2034  # for the callers
	LAB_NODE_CTL[$name]=$dir/run/control.sock
	LAB_NODE_LOG[$name]=$dir/nfspamd.log
	mkdir -p "$dir/db" "$dir/run" && touch "$dir/alloweddomains" &&
	    chown nobody: "$dir/db" "$dir/run" || return 1
	_lab_node_mark=$(lab_log_mark "$dir/nfspamd.log")
	lab_spawn "$ns" "$dir/nfspamd.log" "$bin" --firewall nft -d \
	    -G "${LAB_PASSTIME}s:1h:1h" -S 0 -s 0 -p 8025 \
	    -h "spamd.$name.e2e.test" --db "$dir/db" \
	    --control "$dir/run/control.sock" --user nobody \
	    --alloweddomains "$dir/alloweddomains" "$@"
	LAB_NODE_PID[$name]=$LAB_LASTPID
	# shellcheck disable=SC2016  # eval'd
	lab_wait 10 eval '! kill -0 ${LAB_NODE_PID[$name]} ||
	    _lab_log_after "${LAB_NODE_LOG[$name]}" $_lab_node_mark "listening port="'
	kill -0 "${LAB_NODE_PID[$name]}" 2>/dev/null &&
	    _lab_log_after "${LAB_NODE_LOG[$name]}" "$_lab_node_mark" "listening port="
}

lab_nfspamd_node_kill()
{
	local name=$1 ns exe pid pids=() i

	ns=$(lab_nsname "${LAB_NODE_NS[$name]:?unknown nfspamd node $1}")
	exe=$(readlink -f "${LAB_NODE_BIN[$name]}")
	for pid in $(ip netns pids "$ns"); do
		[ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] &&
		    pids+=("$pid")
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill -KILL "${pids[@]}" 2>/dev/null
	wait "${LAB_NODE_PID[$name]}" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "${pids[@]}" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

lab_log_mark()
{
	if [ -f "$1" ]; then
		wc -l <"$1"
	else
		echo 0
	fi
}

# _lab_log_after FILE MARK ERE: a line after line MARK of FILE matches.
_lab_log_after()
{
	tail -n +$(($2 + 1)) "$1" 2>/dev/null | grep -Eq -- "$3"
}

lab_wait_log_after()
{
	lab_wait "$1" _lab_log_after "$2" "$3" "$4"
}
