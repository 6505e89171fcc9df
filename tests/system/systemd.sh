#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# The systemd side of nfspamd: the units in systemd/ parse
# (systemd-analyze verify), nfspamd.service keeps its sandbox
# (systemd-analyze security, exposure <= 2.0), sysusers.d and tmpfiles.d
# make the user and directories they should, the example
# /etc/default/nfspamd holds flags nfspamd accepts, and every system call,
# socket family and /proc file that nfspamd, nfspamd-setup, nfspamlogd
# and nft use under strace is one the units' filters allow.  TAP on stdout.
#
# Changes nothing on the system: units are verified from copies in a
# temporary directory, users and directories are made under a temporary
# --root, and the strace runs happen in a throwaway network namespace.
#
# Environment: top_srcdir (default: this script's ../..), top_builddir
# (default: top_srcdir; for src/nfspamd/nfspamd), NFSPAMD (the binary).
# Root is needed for the strace runs only; they are skipped without it.

# ok's conditions are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2317

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
NFSPAMD=${NFSPAMD:-$top_builddir/src/nfspamd/nfspamd}
NFSPAMDB=${NFSPAMDB:-$top_builddir/src/nfspamdb/nfspamdb}
units=$top_srcdir/systemd
THRESHOLD=2.0	# systemd-analyze --threshold= counts tenths: 20

. "$top_srcdir/tests/lib/tap.sh" || exit 99

tmp=$(mktemp -d) || bail_out "mktemp -d failed"
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

have() { command -v "$1" >/dev/null 2>&1; }

# logged PATTERN [N]: wait, 10 s at most, until the caller's $dir/log has
# N lines (1 if not given) matching PATTERN; what the traced program does
# next is then known to be done.
logged()
{
	local i n

	for ((i = 0; i < 100; i++)); do
		n=$(grep -Ec -- "$1" "$dir/log" 2>/dev/null)
		[ "${n:-0}" -ge "${2:-1}" ] && return 0
		sleep 0.1
	done
	echo "not logged in 10 s: $1" >&2
	return 1
}

if ! have systemd-analyze; then
	skip "systemd-analyze is not installed" 1
	done_testing
fi
diag "$(systemd-analyze --version | head -n 1)"

# --- systemd-analyze verify ----------------------------------------------
#
# From copies in one directory (verify adds it to the unit path, so the
# two units see each other).  nfspamd.service runs /usr/sbin/nfspamd;
# when that is not installed, the copy runs the built one instead.
# verify does not look up User=, so the nfspamd user need not exist.
# Man pages are checked separately below (--man=no): verify would need
# them installed.  verify exits 0 after "Unknown key" and the like, so
# any line that names one of our units is a failure.

vdir=$tmp/units
mkdir "$vdir"
cp "$units/nfspamd.service" "$units/nfspamd-nft.service" \
    "$units/nfspamd-setup.service" "$units/nfspamd-setup.timer" \
    "$units/nfspamlogd.service" "$vdir/"
nfspamd_runnable=1
if [ ! -x /usr/sbin/nfspamd ]; then
	if [ -x "$NFSPAMD" ]; then
		sed -i "s|^\(Exec[A-Za-z]*=[-@:+!]*\)/usr/sbin/nfspamd|\1$NFSPAMD|" \
		    "$vdir/nfspamd.service"
		diag "verify: ExecStart= runs $NFSPAMD (/usr/sbin/nfspamd is not installed)"
	else
		nfspamd_runnable=
	fi
fi
NFSPAMD_SETUP=${NFSPAMD_SETUP:-$top_builddir/src/nfspamd-setup/nfspamd-setup}
setup_runnable=1
if [ ! -x /usr/sbin/nfspamd-setup ]; then
	if [ -x "$NFSPAMD_SETUP" ]; then
		sed -i "s|^\(Exec[A-Za-z]*=[-@:+!]*\)/usr/sbin/nfspamd-setup|\1$NFSPAMD_SETUP|" \
		    "$vdir/nfspamd-setup.service"
	else
		setup_runnable=
	fi
fi

verify()
{
	local unit=$1 out rc

	out=$(cd "$vdir" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify \
	    --man=no --recursive-errors=no "$vdir/$unit" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && ! printf '%s\n' "$out" | grep -qF "$unit"; then
		[ -z "$out" ] || diag "verify $unit (other units): $out"
		_tap_result 1 "systemd-analyze verify $unit"
		return
	fi
	_tap_result 0 "systemd-analyze verify $unit"
	diag "exit $rc: $out"
}

if [ -n "$nfspamd_runnable" ]; then
	verify nfspamd.service
else
	skip "neither /usr/sbin/nfspamd nor $NFSPAMD exists (build first)" 1
fi
if [ -n "$setup_runnable" ]; then
	verify nfspamd-setup.service
	verify nfspamd-setup.timer
else
	skip "neither /usr/sbin/nfspamd-setup nor $NFSPAMD_SETUP exists" 2
fi
NFSPAMLOGD=${NFSPAMLOGD:-$top_builddir/src/nfspamlogd/nfspamlogd}
logd_runnable=1
if [ ! -x /usr/sbin/nfspamlogd ]; then
	if [ -x "$NFSPAMLOGD" ]; then
		sed -i "s|^\(Exec[A-Za-z]*=[-@:+!]*\)/usr/sbin/nfspamlogd|\1$NFSPAMLOGD|" \
		    "$vdir/nfspamlogd.service"
	else
		logd_runnable=
	fi
fi
if [ -n "$logd_runnable" ]; then
	verify nfspamlogd.service
else
	skip "neither /usr/sbin/nfspamlogd nor $NFSPAMLOGD exists" 1
fi
if [ -x /usr/sbin/nft ]; then
	verify nfspamd-nft.service
else
	skip "nfspamd-nft.service runs /usr/sbin/nft, which is not installed" 1
fi

# Documentation=man:... pages: ours must be in the source tree, others
# installed (when man can tell).
for unit in nfspamd.service nfspamd-nft.service nfspamd-setup.service \
    nfspamd-setup.timer nfspamlogd.service; do
	missing=
	# shellcheck disable=SC2013 # words: one line holds several
	for ref in $(sed -n 's/^Documentation=//p' "$units/$unit"); do
		case $ref in
		man:*) ;;
		*) continue ;;
		esac
		page=${ref#man:} name=${page%%(*} sec=${page#*(}
		sec=${sec%)}
		if [ -f "$top_srcdir/man/$name.$sec" ]; then
			continue
		elif have man && ! man -w "$sec" "$name" >/dev/null 2>&1; then
			missing="$missing $page"
		fi
	done
	is "$missing" "" "$unit: its Documentation= man pages exist"
done

# --- systemd-analyze security ----------------------------------------------

security()
{
	local unit=$1 out rc level tenths

	tenths=$(awk -v t="$THRESHOLD" 'BEGIN { printf "%d", t * 10 + 0.5 }')
	out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=yes \
	    --threshold="$tenths" --no-pager "$units/$unit" 2>&1)
	rc=$?
	level=$(printf '%s\n' "$out" |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ "$rc" = 0 ] && [ -n "$level" ] &&
	    awk -v l="$level" -v t="$THRESHOLD" 'BEGIN { exit !(l <= t) }'; then
		_tap_result 1 "$unit: exposure $level <= $THRESHOLD (systemd-analyze security --offline)"
		return
	fi
	_tap_result 0 "$unit: exposure ${level:-?} <= $THRESHOLD (systemd-analyze security --offline)"
	diag "exit $rc: $(printf '%s\n' "$out" | grep -E '✗|Overall')"
}

if systemd-analyze --help 2>&1 | grep -q -- --offline; then
	security nfspamd.service
	security nfspamd-nft.service
	security nfspamd-setup.service
	security nfspamlogd.service
else
	skip "this systemd-analyze has no security --offline" 4
fi

# --- sysusers.d and tmpfiles.d ---------------------------------------------
#
# Both tools take an absolute path.  --dry-run reads the host's users and
# writes nothing; the --root runs write under a temporary root only.

sysusers=$units/nfspamd.sysusers
tmpfiles=$units/nfspamd.tmpfiles
root=$tmp/root
mkdir -p "$root/etc"

if ! have systemd-sysusers; then
	skip "systemd-sysusers is not installed" 2
else
	if systemd-sysusers --help 2>&1 | grep -q -- --dry-run; then
		ok 'out=$(systemd-sysusers --dry-run "$sysusers" 2>&1) &&
		    ! printf "%s\n" "$out" | grep -qiE "fail|ignor|invalid|unknown"' \
		    "systemd-sysusers --dry-run nfspamd.sysusers"
	else
		skip "this systemd-sysusers has no --dry-run" 1
	fi
	systemd-sysusers --root="$root" "$sysusers" >"$tmp/sysusers.out" 2>&1
	pw=$(grep '^nfspamd:' "$root/etc/passwd" 2>/dev/null)
	gr=$(grep '^nfspamd:' "$root/etc/group" 2>/dev/null)
	uid=$(printf '%s' "$pw" | cut -d: -f3)
	# A system uid (below 1000 on Debian), the group of the same name.
	like "$pw:$(cut -d: -f1,3 <<<"$gr")" \
	    '^nfspamd:x:([0-9]{1,3}):([0-9]+):[^:]*:/var/lib/nfspamd:/usr/sbin/nologin:nfspamd:\2$' \
	    "sysusers.d makes system user and group nfspamd, home /var/lib/nfspamd, no shell" ||
	    diag "$(cat "$tmp/sysusers.out")"
fi

if ! have systemd-tmpfiles; then
	skip "systemd-tmpfiles is not installed" 2
else
	if systemd-tmpfiles --help 2>&1 | grep -q -- --dry-run; then
		ok 'systemd-tmpfiles --dry-run --create "$tmpfiles"' \
		    "systemd-tmpfiles --dry-run --create nfspamd.tmpfiles"
	else
		skip "systemd-tmpfiles $(systemd-tmpfiles --version |
		    sed -n '1s/^systemd \([0-9]*\).*/\1/p') has no --dry-run; --create under a temporary --root instead" 1
	fi
	desc="tmpfiles.d makes /run/nfspamd, /var/lib/nfspamd (0750 nfspamd) and /etc/nfspamd (0755 root)"
	if [ -z "${uid:-}" ]; then
		skip "no nfspamd user under the temporary root (sysusers failed)" 1
	elif [ "$(id -u)" != 0 ]; then
		skip "needs root: the directories are chowned" 1
	else
		# tmpfiles resolves users from the --root's /etc/passwd.
		systemd-tmpfiles --create --root="$root" "$tmpfiles" \
		    >"$tmp/tmpfiles.out" 2>&1
		tf_rc=$?
		got=$(cd "$root" && stat -c '%n %a %u %g' run/nfspamd \
		    var/lib/nfspamd etc/nfspamd 2>&1)
		want="run/nfspamd 750 $uid $uid
var/lib/nfspamd 750 $uid $uid
etc/nfspamd 755 0 0"
		if [ "$tf_rc" = 0 ] && [ ! -s "$tmp/tmpfiles.out" ]; then
			is "$got" "$want" "$desc"
		else
			_tap_result 0 "$desc"
			diag "exit $tf_rc: $(cat "$tmp/tmpfiles.out")"
		fi
	fi
fi

# --- /etc/default/nfspamd ----------------------------------------------------

default=$units/nfspamd.default
ok '( set -u; . "$default"; [ -z "$NFSPAMD_OPTS" ] )' \
    "nfspamd.default sets NFSPAMD_OPTS empty"
if [ -x "$NFSPAMD" ]; then
	# Each example, then "-p 0": nfspamd stops at the bad port only if
	# every flag before it parsed.
	bad=
	n=0
	while IFS= read -r line; do
		opts=${line#\#NFSPAMD_OPTS=\"}
		opts=${opts%\"}
		n=$((n + 1))
		# shellcheck disable=SC2086
		err=$("$NFSPAMD" $opts -p 0 2>&1 </dev/null)
		case $err in
		*"-p 0:"*) ;;
		*) bad="$bad [$opts: $err]" ;;
		esac
	done < <(grep '^#NFSPAMD_OPTS="' "$default")
	is "$n:$bad" "$n:" "nfspamd accepts the $n examples in nfspamd.default"
else
	skip "no nfspamd binary at $NFSPAMD" 1
fi

default=$units/nfspamd-setup.default
ok '( set -u; . "$default"; [ -z "$NFSPAMD_SETUP_OPTS" ] )' \
    "nfspamd-setup.default sets NFSPAMD_SETUP_OPTS empty"
if [ -x "$NFSPAMD_SETUP" ]; then
	# Each example with -n and a missing spamd.conf: the run stops there
	# only if every flag parsed.
	bad=
	n=0
	while IFS= read -r line; do
		opts=${line#\#NFSPAMD_SETUP_OPTS=\"}
		opts=${opts%\"}
		n=$((n + 1))
		# shellcheck disable=SC2086
		err=$("$NFSPAMD_SETUP" $opts -n -f "$tmp/none.conf" 2>&1 </dev/null)
		case $err in
		*"$tmp/none.conf"*) ;;
		*) bad="$bad [$opts: $err]" ;;
		esac
	done < <(grep '^#NFSPAMD_SETUP_OPTS="' "$default")
	is "$n:$bad" "$n:" "nfspamd-setup accepts the $n examples in nfspamd-setup.default"
else
	skip "no nfspamd-setup binary at $NFSPAMD_SETUP" 1
fi

# --- system calls, socket families, /proc: under strace ----------------------
#
# The units' SystemCallFilter= lines, resolved through
# systemd-analyze syscall-filter as systemd does: the first line decides
# between allow and deny list, "~" lines take out of an allow list, later
# plain lines add back.

declare -A group_of_line
load_groups()
{
	local line cur=
	while IFS= read -r line; do
		case $line in
		@*) cur=$line ;;
		"    #"* | "" | "#"*) ;;
		"    "*) group_of_line[$cur]+=" ${line# *}"
			group_of_line[$cur]=${group_of_line[$cur]# } ;;
		esac
	done < <(systemd-analyze syscall-filter --no-pager 2>/dev/null)
}

# expand NAME...: the system calls, groups resolved.
declare -A seen_group
expand()
{
	local x
	for x in "$@"; do
		x=${x# }
		case $x in
		"") ;;
		@*) [ -n "${seen_group[$x]:-}" ] && continue
			seen_group[$x]=1
			# shellcheck disable=SC2086
			expand ${group_of_line[$x]:-} ;;
		*) echo "$x" ;;
		esac
	done
}

# allowed_syscalls UNITFILE: one system call a line, or "*" when the unit
# has no filter.
allowed_syscalls()
{
	local unit=$1 value mode='' neg sc
	declare -A set=()

	while IFS= read -r value; do
		neg=
		[ -z "$value" ] && { mode=; set=(); continue; }
		case $value in
		"~"*) neg=1; value=${value#\~} ;;
		esac
		[ -z "$mode" ] && { [ -n "$neg" ] && mode=deny || mode=allow; }
		seen_group=()
		# shellcheck disable=SC2086
		for sc in $(expand $value); do
			if { [ "$mode" = allow ] && [ -z "$neg" ]; } ||
			    { [ "$mode" = deny ] && [ -n "$neg" ]; }; then
				set[$sc]=1
			else
				unset "set[$sc]"
			fi
		done
	done < <(sed -n 's/^SystemCallFilter=//p' "$unit")
	case $mode in
	"") echo "*" ;;
	allow) printf '%s\n' "${!set[@]}" ;;
	deny) # everything known, minus the deny list
		seen_group=()
		expand @known | sort -u | grep -vxF -f <(printf '%s\n' \
		    "${!set[@]}" x) ;;
	esac
}

# traced_syscalls TRACE: the system calls made, one a line.
traced_syscalls()
{
	sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)[( ].*/\2/p' "$1" |
	    grep -vxE 'exited|killed' | sort -u
}

# check_trace UNITFILE TRACE WHAT: three results.
check_trace()
{
	local unit=$1 trace=$2 what=$3 allowed families want bad p

	allowed=$(allowed_syscalls "$unit")
	if [ "$allowed" = "*" ]; then
		bad=
	else
		bad=$(traced_syscalls "$trace" | grep -vxF -f <(printf '%s\n' \
		    "$allowed") | tr '\n' ' ')
	fi
	is "${bad% }" "" "$what: every system call is in $(basename "$unit")'s SystemCallFilter="

	families=$(grep -oE '(socket|socketpair)\(AF_[A-Z0-9]+' "$trace" |
	    sed 's/.*(//' | sort -u | tr '\n' ' ')
	want=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit" | tr ' ' '\n')
	bad=
	for p in $families; do
		printf '%s\n' "$want" | grep -qxF "$p" || bad="$bad $p"
	done
	is "${bad# }" "" "$what: sockets of families ${families% } only, all in RestrictAddressFamilies="

	# ProcSubset=pid leaves /proc/<pid> and /proc/self only.
	if grep -q '^ProcSubset=pid' "$unit"; then
		bad=$(grep -oE '"/proc/[^"]*"' "$trace" | tr -d '"' |
		    grep -vE '^/proc/(self|thread-self|[0-9]+)(/|$)' |
		    sort -u | tr '\n' ' ')
		is "${bad% }" "" "$what: no /proc file outside /proc/<pid> (ProcSubset=pid)"
	else
		skip "$(basename "$unit") has no ProcSubset=pid" 1
	fi
}

why=
if [ "$(id -u)" != 0 ]; then
	why="needs root (network namespace, CAP_NET_ADMIN)"
elif ! have strace; then
	why="strace is not installed"
elif ! have unshare || ! unshare -n true 2>/dev/null; then
	why="cannot make a network namespace (unshare -n)"
elif ! have setpriv || ! have ip || ! have pgrep; then
	why="needs setpriv, ip and pgrep"
fi
[ -z "$why" ] && load_groups
[ -z "$why" ] && [ -z "${group_of_line[@system-service]:-}" ] &&
    why="systemd-analyze syscall-filter lists no groups"

nftfile=$top_srcdir/nft/nfspamd.nft

# nft for nfspamd-nft.service: its ExecCondition=, ExecStart=,
# ExecReload= and ExecStop= in a fresh network namespace.
if [ -n "$why" ]; then
	skip "$why" 3
elif [ ! -x /usr/sbin/nft ] || [ ! -f "$nftfile" ]; then
	skip "needs /usr/sbin/nft and $nftfile" 3
else
	unshare -n strace -f -qq -o "$tmp/nft.trace" /bin/sh -c '
	    /bin/sh -c "! /usr/sbin/nft -t list table inet nfspamd >/dev/null 2>&1" &&
	    /usr/sbin/nft -f "$1" && /usr/sbin/nft -f "$1" &&
	    /usr/sbin/nft delete table inet nfspamd' sh "$nftfile" \
	    >"$tmp/nft.out" 2>&1 || diag "nft: $(cat "$tmp/nft.out")"
	check_trace "$units/nfspamd-nft.service" "$tmp/nft.trace" \
	    "nft (nfspamd-nft.service)"
fi

# nfspamd as nfspamd.service runs it: not root, CAP_NET_ADMIN ambient
# and bounding, no new privileges; two workers, the nft firewall backend
# when the binary has one.  One greylisted tuple that passes (so a
# whitelist entry reaches the kernel set), a blacklist on the control
# socket, SIGHUP, SIGTERM.
run_nfspamd()
{
	local dir=$1 user=nobody fw=none pid i line

	ip link set lo up
	if "$NFSPAMD" --help 2>&1 | grep -q 'firewall nft' &&
	    [ -x /usr/sbin/nft ] && [ -f "$nftfile" ] &&
	    /usr/sbin/nft -f "$nftfile"; then
		fw=nft
	fi
	echo "firewall=$fw"
	setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
	    --inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
	    --bounding-set=-all,+net_admin --no-new-privs \
	    strace -f -qq -o "$dir/trace" "$NFSPAMD" -d -j 2 -c 40000 \
	    -S 0 -s 0 -G 1s:1h:1h -p 8025 --firewall "$fw" \
	    --db "$dir/db" --control "$dir/db/control.sock" \
	    --alloweddomains "$dir/alloweddomains" \
	    -k "$dir/spamd.key" -y 127.0.0.1 -Y 127.0.0.1:9 2>"$dir/log" &
	pid=$!
	logged 'listening port='
	# Sync to the discard port; the catch-up serves on 127.0.0.1:8026
	# and fetches from there, from itself: both threads' calls traced.
	logged 'catchup: to 127\.0\.0\.1: '
	smtp() {
		exec 3<>/dev/tcp/127.0.0.1/8025 || return
		printf 'HELO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\nQUIT\r\n' >&3
		timeout 10 cat <&3 >/dev/null
		exec 3<&-
	}
	smtp
	# Past passtime (-G 1s) at once: the first attempt moved back 2 s.
	"$NFSPAMDB" --db "$dir/db" 2>/dev/null |
	    awk -F'|' 'BEGIN { OFS = "|" } /^GREY\|/ { $6 -= 2; print }' |
	    "$NFSPAMDB" --db "$dir/db" --import - 2>/dev/null
	smtp
	if have python3; then
		timeout 10 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"test;\"go away\";inet;1;192.0.2.0/24\n")
s.shutdown(socket.SHUT_WR)
sys.stdout.write(s.recv(4096).decode())' "$dir/db/control.sock"
	fi
	logged "firewall=$fw op=white ip=127\.0\.0\.1 "
	[ "$fw" = nft ] && /usr/sbin/nft list set inet nfspamd spamd-white |
	    grep -o '127\.0\.0\.1[^,}]*'
	# strace's child is nfspamd's supervisor.
	kill -HUP "$(pgrep -P "$pid" -x nfspamd || echo "$pid")"
	logged 'reloaded worker=' 2
	kill -TERM "$(pgrep -P "$pid" -x nfspamd || echo "$pid")"
	timeout 20 tail --pid="$pid" -f /dev/null
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

if [ -n "$why" ]; then
	skip "$why" 5
elif [ ! -x "$NFSPAMD" ]; then
	skip "no nfspamd binary at $NFSPAMD" 5
else
	sdir=$tmp/strace
	mkdir "$sdir"
	: >"$sdir/alloweddomains"
	head -c 256 /dev/urandom >"$sdir/spamd.key"
	chown -R nobody "$sdir"
	export -f run_nfspamd have logged
	export NFSPAMD NFSPAMDB nftfile
	timeout 90 unshare -n bash -c 'run_nfspamd "$1"' sh "$sdir" \
	    >"$sdir/out" 2>&1
	diag "nfspamd under strace: $(tr '\n' ' ' <"$sdir/out")"
	if ! grep -q 'listening port=' "$sdir/log" 2>/dev/null; then
		diag "nfspamd did not start: $(cat "$sdir/log" 2>/dev/null)"
	fi
	# The trace covers a pass into the firewall and a reload only if
	# they happened.
	ok 'grep -q "passed ip=127\.0\.0\.1 " "$sdir/log" &&
	    grep -Eq "firewall=[a-z]+ op=white ip=127\.0\.0\.1 " "$sdir/log" &&
	    [ "$(grep -c "reloaded worker=" "$sdir/log")" = 2 ]' \
	    "nfspamd under strace: a pass reached the firewall, both workers reloaded" ||
	    diag "$(cat "$sdir/log")"
	ok 'grep -q "catchup: from 127\.0\.0\.1: entries=" "$sdir/log" &&
	    ! grep -q "setpriority" "$sdir/log"' \
	    "nfspamd under strace: a catch-up served and fetched, its threads behind SMTP" ||
	    diag "$(grep catchup "$sdir/log")"
	check_trace "$units/nfspamd.service" "$sdir/trace" \
	    "nfspamd (nfspamd.service)"
fi

# nfspamd-setup as nfspamd-setup.service runs it (nobody, CAP_NET_ADMIN
# ambient): -b with a file list and an exec list, a nospamd file, no
# nfspamd to talk to.  The exec command notes its own capabilities.
run_setup()
{
	local dir=$1

	ip link set lo up
	/usr/sbin/nft -f "$nftfile" || return
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	    --inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
	    --bounding-set=-all,+net_admin --no-new-privs \
	    strace -f -qq -o "$dir/trace" "$NFSPAMD_SETUP" -b -d \
	    -f "$dir/spamd.conf" --db "$dir/db" --nospamd "$dir/nospamd" \
	    --control "$dir/db/control.sock"
	echo "exit=$?"
	/usr/sbin/nft list set inet nfspamd spamd | tr -s ' \n\t' ' '
	echo
	/usr/sbin/nft list set inet nfspamd nospamd6 | tr -s ' \n\t' ' '
	echo
}

if [ -n "$why" ]; then
	skip "$why" 6
elif [ ! -x "$NFSPAMD_SETUP" ] || [ ! -x /usr/sbin/nft ]; then
	skip "needs $NFSPAMD_SETUP and /usr/sbin/nft" 6
else
	sdir=$tmp/setup
	mkdir -p "$sdir/db"
	printf '192.0.2.0/24\n' >"$sdir/black"
	printf '#!/bin/sh\ngrep ^CapEff /proc/self/status >%s/caps\necho 198.51.100.0/24\n' \
	    "$sdir" >"$sdir/cmd"
	chmod 755 "$sdir/cmd"
	printf '2001:db8::/32\n' >"$sdir/nospamd"
	printf 'all:\\\n\t:local:cmd:\nlocal:\\\n\t:black:msg="m":file=%s/black:\ncmd:\\\n\t:black:msg="c":method=exec:file=%s/cmd:\n' \
	    "$sdir" "$sdir" >"$sdir/spamd.conf"
	chown -R nobody "$sdir"
	export -f run_setup
	export NFSPAMD_SETUP nftfile
	timeout 60 unshare -n bash -c 'run_setup "$1"' sh "$sdir" \
	    >"$sdir/out" 2>&1
	diag "nfspamd-setup under strace: $(tr '\n' ' ' <"$sdir/out")"
	ok 'grep -q "exit=1" "$sdir/out" && grep -q "is nfspamd running" "$sdir/out"' \
	    "nfspamd-setup without nfspamd: exit 1, says why"
	ok 'grep -q "elements = { 192.0.2.0/24, 198.51.100.0/24 }" "$sdir/out"' \
	    "nfspamd-setup -b as nobody with ambient CAP_NET_ADMIN: spamd loaded"
	ok 'grep -q "CapEff:.0000000000000000" "$sdir/caps"' \
	    "the exec list's command runs with no capability ($(cat "$sdir/caps" 2>/dev/null))"
	check_trace "$units/nfspamd-setup.service" "$sdir/trace" \
	    "nfspamd-setup (nfspamd-setup.service)"
fi

# nfspamlogd as nfspamlogd.service runs it (nobody, CAP_NET_ADMIN
# ambient): bind NFLOG group 25, whitelist the peer of one outbound SYN
# (over a veth pair: the ruleset skips lo), SIGHUP, SIGTERM.
run_logd()
{
	local dir=$1 pid i

	ip link set lo up
	ip link add a0 type veth peer name b0 && ip addr add 10.9.0.1/24 dev a0 &&
	    ip link set a0 up && ip link set b0 up || return
	/usr/sbin/nft -f "$nftfile" || return
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	    --inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
	    --bounding-set=-all,+net_admin --no-new-privs \
	    strace -f -qq -o "$dir/trace" "$NFSPAMLOGD" -D --db "$dir/db" \
	    2>"$dir/log" &
	pid=$!
	logged 'listening group='
	timeout 3 bash -c 'exec 3<>/dev/tcp/10.9.0.7/25' 2>/dev/null
	logged 'whitelisted ip=10\.9\.0\.7 '
	/usr/sbin/nft list set inet nfspamd spamd-white | grep -o '10\.9\.0\.7'
	i=$(grep -c '^nfspamlogd: stats events=' "$dir/log")
	kill -HUP "$(pgrep -P "$pid" -x nfspamlogd || echo "$pid")"
	logged '^nfspamlogd: stats events=' $((i + 1))
	kill -TERM "$(pgrep -P "$pid" -x nfspamlogd || echo "$pid")"
	timeout 10 tail --pid="$pid" -f /dev/null
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	cat "$dir/log"
}

if [ -n "$why" ]; then
	skip "$why" 4
elif [ ! -x "$NFSPAMLOGD" ] || [ ! -x /usr/sbin/nft ]; then
	skip "needs $NFSPAMLOGD and /usr/sbin/nft" 4
else
	sdir=$tmp/logd
	mkdir -p "$sdir/db"
	chown -R nobody "$sdir"
	export -f run_logd logged
	export NFSPAMLOGD nftfile
	timeout 60 unshare -n bash -c 'run_logd "$1"' sh "$sdir" \
	    >"$sdir/out" 2>&1
	diag "nfspamlogd under strace: $(tr '\n' ' ' <"$sdir/out")"
	ok 'grep -q "^10\.9\.0\.7$" "$sdir/out" && grep -q "stats final events=1 " "$sdir/out"' \
	    "nfspamlogd as nobody with ambient CAP_NET_ADMIN whitelists an outbound peer"
	check_trace "$units/nfspamlogd.service" "$sdir/trace" \
	    "nfspamlogd (nfspamlogd.service)"
fi

done_testing
