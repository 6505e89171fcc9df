#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# The conditions given to ok are single-quoted on purpose: ok evaluates
# them; the functions given to waitfor run through lab_wait.
# shellcheck disable=SC2016,SC2317 source-path=SCRIPTDIR
# The Debian package (debian/, issue 14), from source to purge:
#
#  1. dpkg-buildpackage -us -uc -b on a copy of the checkout in a temp dir
#     (the files git knows about: tracked ones and untracked ones that are
#     not ignored, as the work tree has them), DEB_BUILD_OPTIONS="nocheck
#     parallel=2" (the tests run elsewhere).
#  2. lintian on the .changes (the .deb, its dbgsym .deb, the .buildinfo):
#     no E: line; whatever else it says is shown.
#  3. dpkg -i in a throwaway root: an overlay whose lower layer is the
#     host's / and whose upper layer is in the temp dir, mounted in a
#     private mount namespace (held by a sleeping process; commands enter
#     it with nsenter and chroot into the overlay), with /proc, /sys and
#     fresh /dev, /run, /tmp.  What landed, the conffiles, the user and
#     directories, nothing enabled, every program runs.
#  4. The lab of lib.sh (snd with a sending Postfix, gw with the receiving
#     one): the installed /etc/nfspamd/nfspamd.nft loaded as shipped, the
#     installed /usr/sbin/nfspamd started in gw as nfspamd.service would
#     start it: ExecStart= of the installed unit, NFSPAMD_OPTS from the
#     installed /etc/default/nfspamd, User=, Group=, UMask=, LimitNOFILE=,
#     AmbientCapabilities=, CapabilityBoundingSet=, NoNewPrivileges=,
#     StateDirectory= and RuntimeDirectory= as the unit says, syslog to a
#     /dev/log of the test's.  Mail from snd (IPv4 and IPv6) is greylisted;
#     the passtime is the shipped 25 minutes, so the tuples are aged with
#     the installed nfspamdb --import instead of waiting; the sender's queue
#     is flushed, the retry passes, the addresses land in @spamd-white and
#     @spamd-white6, and the next attempt is delivered.
#  5. dpkg -r, dpkg -P, dpkg -i again, each checked.
#  6. Everything undone (traps too): processes, namespaces, mounts, temp
#     dirs; the host's files, users and dpkg database are as they were.
#
# TAP on stdout, the plan last; logs on stderr when something fails.  About
# 90 s on two cores, most of it the build.  Needs root, dpkg-dev, debhelper
# and the build dependencies, lintian, postfix, nftables, iproute2,
# python3, git (tests/install-deps all); skips otherwise.
# Environment: top_srcdir (default: this script's ../..); LAB_KEEP=1 keeps
# the temp dirs; DEB_WATCHDOG (default 420) stops the script after that
# many seconds.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}

skip_all()
{
	echo "ok 1 # SKIP $1"
	echo "1..1"
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "not root"
command -v dpkg-buildpackage >/dev/null ||
    skip_all "dpkg-buildpackage is not installed (tests/install-deps build)"
command -v dh >/dev/null ||
    skip_all "debhelper is not installed (tests/install-deps build)"
for c in git lintian postfix postconf nft ip python3 unshare nsenter \
    setpriv chroot; do
	command -v "$c" >/dev/null || skip_all "$c is not installed"
done
git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1 ||
    skip_all "$top_srcdir is not a git checkout"
[ -f "$top_srcdir/debian/control" ] || skip_all "no debian/ in $top_srcdir"

. "$top_srcdir/tests/lib/tap.sh" || exit 99
# shellcheck source=lib.sh
. "$here/lib.sh"

t_start=$(date +%s)
T=
holder=
holder_ns=
deb_cleaned=0

# --- the host, before ------------------------------------------------------

# What the package would change if it were installed on the host.
host_state()
{
	local f

	for f in /usr/sbin/nfspamd /usr/sbin/nfspamdb /usr/sbin/nfspamd-setup \
	    /usr/sbin/nfspamlogd /lib/systemd/system/nfspamd.service \
	    /lib/systemd/system/nfspamd-nft.service \
	    /usr/lib/sysusers.d/nfspamd.conf /usr/lib/tmpfiles.d/nfspamd.conf \
	    /usr/share/man/man8/nfspamd.8.gz /etc/default/nfspamd \
	    /etc/nfspamd /etc/nfspamd/spamd.conf /etc/nfspamd/nfspamd.nft \
	    /var/lib/nfspamd /run/nfspamd /etc/nftables.conf /etc/passwd \
	    /etc/group /etc/shadow; do
		if [ -L "$f" ] || [ -e "$f" ]; then
			printf '%s: %s %s\n' "$f" "$(stat -c '%F %a %U:%G %s' "$f")" \
			    "$( [ -f "$f" ] && md5sum <"$f" | cut -c1-32)"
		else
			printf '%s: absent\n' "$f"
		fi
	done
	printf 'dpkg: %s\n' "$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' \
	    nfspamd 2>&1)"
	printf 'passwd: %s\n' "$(getent passwd nfspamd || echo none)"
	find /etc/systemd/system \( -name 'nfspamd*' -o -name 'nfspamlogd*' \
	    -o -name 'nftables*' \) -printf 'enabled: %p\n' 2>/dev/null | sort
	printf 'mounts: %s\n' "$(grep -c nfspamd-deb /proc/self/mountinfo)"
}
host_before=$(host_state)

# --- cleanup -----------------------------------------------------------------

# The processes in the overlay's mount namespace, whatever started them.
holder_pids()
{
	local p

	[ -n "$holder_ns" ] || return 0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$holder_ns" ] &&
		    echo "${p#/proc/}"
	done
}

deb_cleanup()
{
	local i pids

	[ "$deb_cleaned" = 1 ] && return 0
	deb_cleaned=1
	lab_cleanup
	# The mount namespace (and with it the overlay and every mount in
	# it) goes when its last process does.
	for ((i = 0; i < 30; i++)); do
		pids=$(holder_pids)
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		if [ $i -lt 20 ]; then
			[ $((i % 10)) = 0 ] && kill -TERM $pids 2>/dev/null
		else
			kill -KILL $pids 2>/dev/null
		fi
		sleep 0.1
	done
	[ -n "$holder" ] && wait "$holder" 2>/dev/null
	if [ "${LAB_KEEP:-0}" = 1 ]; then
		[ -n "$T" ] && echo "deb.sh: kept $T" >&2
	elif [ -n "$T" ] && [ -d "$T" ]; then
		rm -rf "$T"
	fi
	return 0
}

lab_init deb || bail_out "lab_init failed"
trap deb_cleanup EXIT
T=$(mktemp -d /tmp/nfspamd-deb.XXXXXX) || bail_out "mktemp failed"
chmod 755 "$T"
lab_watchdog "${DEB_WATCHDOG:-420}" \
    "Bail out! deb.sh ran for ${DEB_WATCHDOG:-420} s; stopped"

dump()
{
	local f

	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "==== $f" >&2
		tail -n 60 "$f" >&2
	done
}

# --- 1. build --------------------------------------------------------------

changelog_version=$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" \
    -S Version)
ac_version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' \
    "$top_srcdir/configure.ac")
is "${changelog_version%-*}" "$ac_version" \
    "debian/changelog's version $changelog_version is configure.ac's $ac_version plus a revision"

arch=$(dpkg --print-architecture)
src=$T/build/nfspamd-$ac_version
mkdir -p "$src"
files=$T/files
git -C "$top_srcdir" ls-files -z --cached --others --exclude-standard >"$files"
untracked=$(git -C "$top_srcdir" ls-files --others --exclude-standard | wc -l)
(cd "$top_srcdir" && tar --null -T "$files" --ignore-failed-read -cf - 2>/dev/null) |
    tar -xf - -C "$src"
diag "source: $(tr -cd '\0' <"$files" | wc -c) files of $top_srcdir ($untracked untracked, not ignored) in $src"

b0=$(date +%s.%N)
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
    DEB_BUILD_PROFILES=nocheck dpkg-buildpackage -us -uc -b) \
    >"$T/build.log" 2>&1
build_rc=$?
build_secs=$(awk -v a="$b0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
deb=$T/build/nfspamd_${changelog_version}_$arch.deb
changes=$T/build/nfspamd_${changelog_version}_$arch.changes
if [ "$build_rc" = 0 ] && [ -f "$deb" ] && [ -f "$changes" ]; then
	_tap_result 1 "dpkg-buildpackage -us -uc -b builds $(basename "$deb")"
	diag "build: ${build_secs}s; $(find "$T/build" -maxdepth 1 -type f -printf '%f\n' | sort | tr '\n' ' ')"
else
	_tap_result 0 "dpkg-buildpackage -us -uc -b builds $(basename "$deb")"
	diag "exit $build_rc after ${build_secs}s; the end of its log:" \
	    "$(tail -n 40 "$T/build.log")"
	done_testing
fi
leftover=$(find "$T/build" -mindepth 1 -maxdepth 1 ! -name "nfspamd-$ac_version" \
    ! -name 'nfspamd_*' ! -name 'nfspamd-dbgsym_*' -printf '%f ')
is "$leftover" "" "the build wrote nothing beside its source dir but the package files"

# --- 2. lintian --------------------------------------------------------------

l0=$(date +%s)
lint=$(lintian -I --pedantic "$changes" 2>&1 |
    grep -v '^running with root privileges is not recommended!$')
errors=$(grep -c '^E: ' <<<"$lint")
warnings=$(grep -c '^W: ' <<<"$lint")
if [ "$errors" = 0 ]; then
	_tap_result 1 "lintian: no error (.deb, dbgsym .deb, .buildinfo)"
else
	_tap_result 0 "lintian: no error (.deb, dbgsym .deb, .buildinfo)"
fi
diag "lintian $(lintian --version | awk '{print $2}'), -I --pedantic, $(($(date +%s) - l0))s: $errors errors, $warnings warnings${lint:+:}"
[ -z "$lint" ] || diag "  ${lint//$'\n'/$'\n'  }"

# --- 3. install in an overlay root -------------------------------------------

root=$T/root
mkdir -p "$root" "$T/upper" "$T/work"
# shellcheck disable=SC2016
holder_script='
set -e
r=$1
mount -t overlay nfspamd-deb -o "lowerdir=/,upperdir=$2,workdir=$3" "$r"
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount -t tmpfs -o mode=0755,nosuid nfspamd-deb-dev "$r/dev"
for n in null zero full random urandom tty; do cp -a "/dev/$n" "$r/dev/"; done
mkdir "$r/dev/pts" "$r/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev nfspamd-deb-shm "$r/dev/shm"
ln -s /proc/self/fd "$r/dev/fd"
ln -s /proc/self/fd/0 "$r/dev/stdin"
ln -s /proc/self/fd/1 "$r/dev/stdout"
ln -s /proc/self/fd/2 "$r/dev/stderr"
mount -t tmpfs -o mode=0755,nosuid,nodev nfspamd-deb-run "$r/run"
mount -t tmpfs -o mode=1777,nosuid,nodev nfspamd-deb-tmp "$r/tmp"
echo ready >"$4"
exec sleep infinity
'
unshare -m --propagation private -- sh -c "$holder_script" sh "$root" \
    "$T/upper" "$T/work" "$T/ready" >"$T/holder.log" 2>&1 </dev/null &
holder=$!
lab_wait 10 eval '[ -s "$T/ready" ] || ! kill -0 $holder'
holder_ns=$(readlink "/proc/$holder/ns/mnt" 2>/dev/null)
if [ -s "$T/ready" ] && [ -n "$holder_ns" ] &&
    [ "$holder_ns" != "$(readlink /proc/self/ns/mnt)" ]; then
	_tap_result 1 "an overlay root over / in a private mount namespace ($holder_ns)"
else
	_tap_result 0 "an overlay root over / in a private mount namespace"
	diag "$(cat "$T/holder.log")"
	done_testing
fi

PATH_ROOT=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# in_mnt CMD...: in the overlay's mount namespace, host paths.
in_mnt() { nsenter -t "$holder" -m -- "$@"; }
# in_root CMD...: chrooted into the overlay, a clean environment.
in_root()
{
	nsenter -t "$holder" -m -- chroot "$root" /usr/bin/env -i \
	    PATH=$PATH_ROOT LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
# in_gw CMD...: the same, in the lab's gw network namespace.
in_gw()
{
	nsenter -t "$holder" -m --net="/run/netns/$(lab_nsname gw)" -- \
	    chroot "$root" /usr/bin/env -i PATH=$PATH_ROOT LANG=C.UTF-8 "$@"
}
root_file() { in_root cat "$1" 2>/dev/null; }

in_mnt cp "$deb" "$root/tmp/" || bail_out "cannot copy the .deb into the root"
debname=$(basename "$deb")
in_root dpkg -i "/tmp/$debname" >"$T/dpkg-i.log" 2>&1
rc=$?
ok '[ $rc = 0 ] && [ "$(in_root dpkg-query -W -f="\${db:Status-Abbrev}" nfspamd)" = "ii " ]' \
    "dpkg -i $debname in the overlay root: installed" ||
    { diag "$(cat "$T/dpkg-i.log")"; done_testing; }
ok '[ -x "$T/upper/usr/sbin/nfspamd" ] && [ -f "$T/upper/var/lib/dpkg/info/nfspamd.list" ]' \
    "what dpkg wrote is in the overlay's upper dir"

want_files="/usr/sbin/nfspamd /usr/sbin/nfspamdb /usr/sbin/nfspamd-setup
/usr/sbin/nfspamlogd /usr/sbin/nfspamd-policy
/usr/share/man/man8/nfspamd.8.gz /usr/share/man/man8/nfspamdb.8.gz
/usr/share/man/man8/nfspamd-setup.8.gz /usr/share/man/man8/nfspamlogd.8.gz
/usr/share/man/man8/nfspamd-policy.8.gz
/usr/share/man/man5/spamd.conf.5.gz
/lib/systemd/system/nfspamd.service /lib/systemd/system/nfspamd-nft.service
/lib/systemd/system/nfspamd-setup.service
/lib/systemd/system/nfspamd-setup.timer /lib/systemd/system/nfspamlogd.service
/lib/systemd/system/nfspamd-policy.socket
/lib/systemd/system/nfspamd-policy@.service
/usr/lib/sysusers.d/nfspamd.conf /usr/lib/tmpfiles.d/nfspamd.conf
/usr/share/nfspamd/pf.os /usr/share/nfspamd/os-fingerprints
/usr/share/doc/nfspamd/copyright
/usr/share/doc/nfspamd/examples/nfspamd-gateway.nft"
# shellcheck disable=SC2086
missing=$(in_root sh -c 'for f; do [ -f "$f" ] || printf "%s " "$f"; done' \
    sh $want_files)
is "$missing" "" "the five programs, their man pages, the seven units, sysusers.d, tmpfiles.d, the OS fingerprints, the gateway ruleset example"
ok 'in_root sh -c "for p in nfspamd nfspamdb nfspamd-setup nfspamlogd nfspamd-policy; do [ -x /usr/sbin/\$p ] || exit 1; done"' \
    "the programs in /usr/sbin are executable"
is "$(in_root dpkg -V nfspamd 2>&1)" "" "dpkg -V: every file as packaged"

conffiles=$(in_root dpkg-query -W -f='${Conffiles}\n' nfspamd |
    awk 'NF { print $1 }' | sort | tr '\n' ' ')
is "$conffiles" "/etc/default/nfspamd /etc/default/nfspamd-setup /etc/default/nfspamlogd /etc/nfspamd/nfspamd.nft /etc/nfspamd/spamd.conf /etc/nfspamd/spf-senders " \
    "conffiles: /etc/default/{nfspamd,nfspamd-setup,nfspamlogd}, /etc/nfspamd/{nfspamd.nft,spamd.conf,spf-senders}"
ok 'cmp -s <(root_file /etc/nfspamd/nfspamd.nft) "$top_srcdir/nft/nfspamd.nft" &&
    cmp -s <(root_file /etc/default/nfspamd) "$top_srcdir/systemd/nfspamd.default" &&
    cmp -s <(root_file /etc/nfspamd/spamd.conf) "$top_srcdir/etc/spamd.conf"' \
    "/etc/nfspamd/nfspamd.nft, /etc/default/nfspamd and spamd.conf are the tree's nft/nfspamd.nft, systemd/nfspamd.default, etc/spamd.conf"
ok 'in_root sh -c ". /etc/default/nfspamd; [ -z \"\$NFSPAMD_OPTS\" ]"' \
    "the shipped /etc/default/nfspamd sets NFSPAMD_OPTS empty"

pw=$(in_root getent passwd nfspamd)
like "$pw" '^nfspamd:x:[0-9]{1,3}:[0-9]+:[^:]*:/var/lib/nfspamd:/usr/sbin/nologin$' \
    "postinst made the system user nfspamd (sysusers.d): $pw"
uid=$(cut -d: -f3 <<<"$pw")
is "$(in_root stat -c '%n %U:%G %a' /var/lib/nfspamd /run/nfspamd /etc/nfspamd 2>&1)" \
    "/var/lib/nfspamd nfspamd:nfspamd 750
/run/nfspamd nfspamd:nfspamd 750
/etc/nfspamd root:root 755" \
    "postinst made /var/lib/nfspamd and /run/nfspamd (nfspamd, 0750) through tmpfiles.d"

enabled=$(in_root find /etc/systemd/system \( -name 'nfspamd*' -o \
    -name 'nfspamlogd*' \) 2>&1)
is "$enabled" "" "nothing enabled: no nfspamd or nfspamlogd link under /etc/systemd/system"
ok '[ "$(in_root find /etc/systemd/system -name "nftables*" | sort)" = "$(find /etc/systemd/system -name "nftables*" | sort)" ] &&
    cmp -s <(root_file /etc/nftables.conf) /etc/nftables.conf' \
    "/etc/nftables.conf and nftables.service's links are as on the host"
exec_start=$(root_file /lib/systemd/system/nfspamd.service |
    sed -n 's/^ExecStart=//p')
is "$exec_start" '/usr/sbin/nfspamd $NFSPAMD_OPTS' \
    "the installed nfspamd.service runs /usr/sbin/nfspamd \$NFSPAMD_OPTS"

for p in nfspamd nfspamdb nfspamd-setup nfspamlogd nfspamd-policy; do
	out=$(in_root "/usr/sbin/$p" --version 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && grep -q "$ac_version" <<<"$out"; then
		_tap_result 1 "installed $p --version: $out"
	else
		_tap_result 0 "installed $p --version names $ac_version"
		diag "exit $rc: $out" "$p --help: $(in_root "/usr/sbin/$p" --help 2>&1 | head -n 3)"
	fi
done

# The shipped spamd.conf parses: with no network at all, nfspamd-setup -n
# gets as far as fetching the nixspam list.
out=$(in_mnt unshare -n chroot "$root" /usr/bin/env -i PATH=$PATH_ROOT \
    timeout 30 /usr/sbin/nfspamd-setup -n -d --timeout 5 2>&1)
like "$out" '^nfspamd-setup: list nixspam: https://www\.nixspam\.net/download/nixspam-ip\.dump\.gz: ' \
    "the shipped spamd.conf parses: nfspamd-setup -n (no network) fetches nixspam over https" ||
    diag "$out"
ok '! grep -q "spamd.conf:[0-9]" <<<"$out"' "... and reports no error in it" ||
    diag "$out"

# --- 4. the lab: the installed nfspamd as its unit runs it -------------------

diag "[+$(lab_elapsed)s] lab: namespaces snd, bl, gw as $LAB_PREFIX-*"
lab_gateway_net || bail_out "cannot build the lab"
# Not through ok: its $(...) would lose what lab_* keep for the cleanup.
if lab_gateway_postfix; then
	_tap_result 1 "Postfix instances start (receiver in gw, sender in snd)"
else
	_tap_result 0 "Postfix instances start (receiver in gw, sender in snd)"
	dump "$LAB_TMP"/postfix-*/maillog "$LAB_TMP"/postfix-*/ctl.log
	done_testing
fi
if lab_gateway_reach; then
	_tap_result 1 "snd reaches the receiving Postfix on gw:25 (IPv4, IPv6)"
else
	_tap_result 0 "snd reaches the receiving Postfix on gw:25 (IPv4, IPv6)"
	done_testing
fi

# A /dev/log of our own in the overlay: nfspamd logs to syslog (no -d in
# the unit), and this keeps what it says, one "severity message" a line.
syslog=$T/syslog.log
: >"$syslog"
(exec nsenter -t "$holder" -m -- python3 -c '
import os, re, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
names = "emerg alert crit err warning notice info debug".split()
with open(out, "a", buffering=1) as f:
    while True:
        m = s.recv(65536).decode(errors="replace").rstrip("\n")
        r = re.match(r"<(\d+)>(?:\w{3} [ \d]\d \d\d:\d\d:\d\d )?(.*)", m, re.S)
        if r:
            m = "%s %s" % (names[int(r.group(1)) & 7], r.group(2))
        f.write(m.replace("\n", " ") + "\n")
' "$root/dev/log" "$syslog") >"$T/syslogd.log" 2>&1 </dev/null &
LAB_PIDS+=($!)
lab_wait 5 in_mnt test -S "$root/dev/log" ||
    { diag "$(cat "$T/syslogd.log")"; bail_out "no /dev/log in the root"; }

# The unit, read as systemd would (the last value of each key).
unit=$(root_file /lib/systemd/system/nfspamd.service)
unit_val() { sed -n "s/^$1=//p" <<<"$unit" | tail -n 1; }
envfile=$(unit_val EnvironmentFile)
envfile=${envfile#-}
env_val() { in_root sh -c 'set -a; [ ! -r "$1" ] || . "$1"; eval "printf %s \"\${$2:-}\""' sh "$envfile" "$1"; }
argv=()
read -ra words <<<"$(unit_val ExecStart)"
words[0]=${words[0]#[-@:+!]}
for w in "${words[@]}"; do
	case $w in
	'${'*'}') v=${w#\$\{}; argv+=("$(env_val "${v%\}}")") ;;
	'$'*) read -ra vs <<<"$(env_val "${w#\$}")"; argv+=("${vs[@]}") ;;
	*) argv+=("$w") ;;
	esac
done
u_user=$(unit_val User) u_group=$(unit_val Group)
u_umask=$(unit_val UMask) u_nofile=$(unit_val LimitNOFILE)
caps() { unit_val "$1" | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_\(.*\)/+\1/p' | paste -sd, -; }
u_ambient=$(caps AmbientCapabilities) u_bounding=$(caps CapabilityBoundingSet)
nnp=()
[ "$(unit_val NoNewPrivileges)" = yes ] && nnp=(--no-new-privs)
diag "nfspamd.service: ExecStart=$(unit_val ExecStart) with NFSPAMD_OPTS=\"$(env_val NFSPAMD_OPTS)\" from $envfile: ${argv[*]}" \
    "  User=$u_user Group=$u_group UMask=$u_umask LimitNOFILE=$u_nofile ambient=$u_ambient bounding=$u_bounding ${nnp[*]}"
# StateDirectory=, RuntimeDirectory=: made (or fixed) before the start.
for kind in State:/var/lib Runtime:/run; do
	d=$(unit_val "${kind%%:*}Directory") m=$(unit_val "${kind%%:*}DirectoryMode")
	[ -n "$d" ] && in_root install -d -o "$u_user" -g "$u_group" \
	    -m "${m:-0755}" "${kind#*:}/$d"
done

# unit_cmd: the command line systemd would run, for in_gw.
unit_cmd=(/bin/sh -c 'umask "$1"; ulimit -n "$2"; shift 2; exec "$@"' sh
    "${u_umask:-0022}" "${u_nofile:-1024}"
    setpriv --reuid="$u_user" --regid="$u_group" --init-groups
    --inh-caps="-all${u_ambient:+,$u_ambient}"
    --ambient-caps="-all${u_ambient:+,$u_ambient}"
    --bounding-set="-all${u_bounding:+,$u_bounding}" "${nnp[@]}" --
    "${argv[@]}")

# Without the table nfspamd refuses to start and names the fix.
out=$(timeout 20 nsenter -t "$holder" -m --net="/run/netns/$(lab_nsname gw)" -- \
    chroot "$root" /usr/bin/env -i PATH=$PATH_ROOT LANG=C.UTF-8 \
    "${unit_cmd[@]}" 2>&1 </dev/null)
rc=$?
# (What went to syslog may be a moment behind the exit.)
grep -q nfspamd-nft <<<"$out" || lab_wait 5 grep -q nfspamd-nft "$syslog"
refusal="$out$(cat "$syslog")"
ok '[ $rc != 0 ] && grep -q "nfspamd-nft" <<<"$refusal"' \
    "without table inet nfspamd the unit's nfspamd exits ($rc) naming nfspamd-nft" ||
    diag "$refusal"
diag "refused: $(grep -m1 'nfspamd-nft' <<<"$refusal")"

if out=$(in_gw nft -f /etc/nfspamd/nfspamd.nft 2>&1); then
	_tap_result 1 "the installed /etc/nfspamd/nfspamd.nft, as shipped, loads in gw"
else
	_tap_result 0 "the installed /etc/nfspamd/nfspamd.nft, as shipped, loads in gw"
	diag "$out"
fi

logstart=$(wc -l <"$syslog")
newlog() { tail -n +"$((logstart + 1))" "$syslog"; }
(exec nsenter -t "$holder" -m --net="/run/netns/$(lab_nsname gw)" -- \
    chroot "$root" /usr/bin/env -i PATH=$PATH_ROOT LANG=C.UTF-8 \
    "${unit_cmd[@]}") >"$T/nfspamd.out" 2>&1 </dev/null &
nfspamd_pid=$!
LAB_PIDS+=("$nfspamd_pid")
lab_wait 10 eval '! kill -0 $nfspamd_pid || newlog | grep -q " listening "'
if kill -0 "$nfspamd_pid" 2>/dev/null && newlog | grep -q ' listening '; then
	_tap_result 1 "the installed nfspamd starts in gw as nfspamd.service would"
	diag "[+$(lab_elapsed)s] $(newlog | grep -m1 ' listening ')"
else
	_tap_result 0 "the installed nfspamd starts in gw as nfspamd.service would"
	diag "$(cat "$T/nfspamd.out")" "$(newlog)"
fi
like "$(newlog | grep -m1 ' listening ')" 'port=8025 .*firewall=nft' \
    "with no flags: port 8025, --firewall nft"
ok '[ "$(awk "/^Uid:/ {print \$3}" /proc/$nfspamd_pid/status)" = "$uid" ] &&
    [ "$(awk "/^CapEff:/ {print \$2}" /proc/$nfspamd_pid/status)" = 0000000000000000 ]' \
    "it runs as user nfspamd ($uid), no capability in its supervisor"

declare -A rcpt=([4]='user@[10.77.1.1]' [6]='user@[IPv6:fd77:1::1]')
declare -A addr=([4]=10.77.1.2 [6]=fd77:1::2)
declare -A are=([4]='10\.77\.1\.2' [6]='fd77:1::2')
# What the database and the sets key by (-N's default 32:64).
declare -A net=([4]=10.77.1.2 [6]=fd77:1::)
declare -A netre=([4]='10\.77\.1\.2' [6]='fd77:1::/64')
declare -A set=([4]=spamd-white [6]=spamd-white6)
declare -A token
snd_log=$LAB_TMP/postfix-snd/maillog
mbox=$LAB_TMP/postfix-gw/mail/mailbox
for f in 4 6; do
	token[$f]=token-$f-$LAB_PREFIX-$RANDOM$RANDOM
	lab_sendmail snd e2e@snd.e2e.test "${rcpt[$f]}" "deb IPv$f" "${token[$f]}" ||
	    diag "sendmail for ${rcpt[$f]} failed"
done
flush() { lab_exec snd postqueue -c "$(lab_postfix_dir snd)/etc" -f 2>/dev/null; }

# waitfor SECS DESC CMD...: a test point, passed once CMD succeeds.
waitfor()
{
	local secs=$1 desc=$2

	shift 2
	if lab_wait "$secs" "$@" >/dev/null; then
		_tap_result 1 "$desc"
		diag "  at +$(lab_elapsed)s"
		return 0
	fi
	_tap_result 0 "$desc"
	diag "timed out after ${secs}s"
	return 1
}
grey_logged() { newlog | grep -Eq "greylisted ip=${are[$1]} .*new=1"; }
deferred() { grep -F "to=<${rcpt[$1]}>" "$snd_log" | grep -Eq 'status=deferred .* 451 '; }
passed_logged() { newlog | grep -Eq "passed ip=${are[$1]} "; }
delivered()
{
	grep -qs "${token[$1]}" "$mbox" &&
	    grep -F "to=<${rcpt[$1]}>" "$snd_log" | grep -q 'status=sent'
}
# delivered_flushing F: delivered, or flush the queue every 3 s.
last_flush=0
delivered_flushing()
{
	local now

	delivered "$1" && return 0
	now=$(date +%s)
	if [ $((now - last_flush)) -ge 3 ]; then
		flush
		last_flush=$now
	fi
	return 1
}
as_nfspamd() { in_root setpriv --reuid=nfspamd --regid=nfspamd --init-groups -- "$@"; }

for f in 4 6; do
	waitfor 20 "IPv$f: first attempt greylisted (${addr[$f]}): nfspamd logged greylisted new=1" \
	    grey_logged "$f"
	waitfor 15 "IPv$f: the sending Postfix deferred it on the 451" deferred "$f"
done

# Age the tuples: first 26 minutes back, through the installed nfspamdb.
grey=$(as_nfspamd /usr/sbin/nfspamdb 2>&1 | grep -E "^GREY\|(${netre[4]}|${netre[6]})\|")
aged=$(awk -F'|' -v OFS='|' '$1 == "GREY" { $6 -= 26 * 60; print }' <<<"$grey")
printf '%s\n' "$aged" | in_mnt sh -c 'cat >"$1" && chmod 644 "$1"' sh "$root/tmp/aged"
out=$(as_nfspamd /usr/sbin/nfspamdb --import /tmp/aged 2>&1)
rc=$?
after=$(as_nfspamd /usr/sbin/nfspamdb 2>&1 | grep -E "^GREY\|(${netre[4]}|${netre[6]})\|")
ok '[ $rc = 0 ] && [ -n "$aged" ] && [ "$(sort <<<"$after")" = "$(sort <<<"$aged")" ]' \
    "nfspamdb --import ages both tuples 26 minutes (the shipped passtime is 25)" ||
    diag "before:" "$grey" "imported:" "$aged" "nfspamdb --import: exit $rc: $out" "after:" "$after"
diag "aged: $(tr '\n' ' ' <<<"$aged")"
flush
for f in 4 6; do
	waitfor 20 "IPv$f: the retry (postqueue -f) passes: nfspamd logged passed" \
	    passed_logged "$f"
	waitfor 5 "IPv$f: ${net[$f]} is in @${set[$f]} with a timeout" \
	    lab_set_elem "${set[$f]}" "${net[$f]}" &&
	    diag "  $(lab_set_elem "${set[$f]}" "${net[$f]}")"
done
last_flush=$(date +%s)
flush
for f in 4 6; do
	waitfor 30 "IPv$f: the next attempt is delivered into the receiving Postfix's mailbox" \
	    delivered_flushing "$f"
done
dbl=$(as_nfspamd /usr/sbin/nfspamdb 2>&1)
ok 'grep -q "^WHITE|10\.77\.1\.2|" <<<"$dbl" && grep -q "^WHITE|fd77:1::/64|" <<<"$dbl"' \
    "nfspamdb lists 10.77.1.2 and fd77:1::/64 as WHITE" || diag "$dbl"

kill -TERM "$nfspamd_pid" 2>/dev/null
rc=
for ((i = 0; i < 100; i++)); do
	if ! kill -0 "$nfspamd_pid" 2>/dev/null; then
		wait "$nfspamd_pid"
		rc=$?
		break
	fi
	sleep 0.1
done
is "$rc" 0 "nfspamd exits 0 on SIGTERM within 10 s"
bad=$(newlog | grep -E '^(emerg|alert|crit|err|warning) ')
is "$bad" "" "nfspamd logged no warning or error"
diag "nfspamd's syslog:" "$(newlog | sed 's/^/  /')"
[ "$_tap_failed" = 0 ] || dump "$snd_log" "$LAB_TMP/postfix-gw/maillog" \
    "$T/nfspamd.out"
lab_cleanup
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 5. remove, purge, install again -------------------------------------------

exists() { in_root sh -c 'for f; do [ -e "$f" ] && printf "%s " "$f"; done; :' sh "$@"; }
etc_files=(/etc/default/nfspamd /etc/default/nfspamd-setup
    /etc/default/nfspamlogd /etc/nfspamd/nfspamd.nft /etc/nfspamd/spamd.conf
    /etc/nfspamd/spf-senders)
in_root dpkg -r nfspamd >"$T/dpkg-r.log" 2>&1
rc=$?
ok '[ $rc = 0 ] && [ "$(in_root dpkg-query -W -f="\${db:Status-Abbrev}" nfspamd)" = "rc " ]' \
    "dpkg -r: removed, its conffiles left (rc)" || diag "$(cat "$T/dpkg-r.log")"
is "$(exists /usr/sbin/nfspamd /usr/sbin/nfspamdb /usr/sbin/nfspamd-setup \
    /usr/sbin/nfspamlogd /lib/systemd/system/nfspamd.service \
    /usr/lib/sysusers.d/nfspamd.conf /usr/share/man/man8/nfspamd.8.gz)" "" \
    "dpkg -r: programs, units, man pages gone"
is "$(exists "${etc_files[@]}")" "${etc_files[*]} " "dpkg -r: the conffiles stay"
ok 'in_root test -s /var/lib/nfspamd/data.mdb' \
    "dpkg -r: the state stays (/var/lib/nfspamd/data.mdb)" ||
    diag "$(in_root ls -la /var/lib/nfspamd 2>&1)"

in_root dpkg -P nfspamd >"$T/dpkg-p.log" 2>&1
rc=$?
ok '[ $rc = 0 ] && [ -z "$(in_root dpkg-query -W -f="\${db:Status-Abbrev}" nfspamd 2>/dev/null | tr -d " n")" ]' \
    "dpkg -P: purged, dpkg no longer knows nfspamd" || diag "$(cat "$T/dpkg-p.log")"
is "$(exists "${etc_files[@]}" /etc/nfspamd /var/lib/nfspamd /run/nfspamd)" "" \
    "dpkg -P: conffiles, /etc/nfspamd, /var/lib/nfspamd and /run/nfspamd gone"
is "$(in_root find /etc/systemd/system /var/lib/systemd \( -name 'nfspamd*' \
    -o -name 'nfspamlogd*' \) 2>/dev/null)" "" \
    "dpkg -P: no unit link or deb-systemd-helper state left"
is "$(in_root getent passwd nfspamd)" "$pw" \
    "dpkg -P: the system user nfspamd stays (Debian practice)"

in_root dpkg -i "/tmp/$debname" >"$T/dpkg-i2.log" 2>&1
rc=$?
ok '[ $rc = 0 ] && [ "$(in_root dpkg-query -W -f="\${db:Status-Abbrev}" nfspamd)" = "ii " ]' \
    "dpkg -i after the purge: installed again" || diag "$(cat "$T/dpkg-i2.log")"
is "$(in_root getent passwd nfspamd)|$(in_root stat -c '%U:%G %a' /var/lib/nfspamd 2>&1)|$(in_root ls -A /var/lib/nfspamd 2>&1)|$(exists "${etc_files[@]}")|$(in_root dpkg -V nfspamd 2>&1)" \
    "$pw|nfspamd:nfspamd 750||${etc_files[*]} |" \
    "... the same user, an empty /var/lib/nfspamd (0750), the conffiles as shipped"

# --- 6. everything undone --------------------------------------------------------

ns_list=("${LAB_NS[@]}")
tmps=("$T" "$LAB_TMP")
deb_cleanup
left=
for ns in "${ns_list[@]}"; do
	[ -e "/run/netns/$ns" ] && left="$left $ns"
done
is "$left" "" "cleanup removed every lab namespace"
is "$(holder_pids | tr '\n' ' ')" "" "cleanup stopped every process in the overlay's mount namespace"
if [ "${LAB_KEEP:-0}" = 1 ]; then
	skip "LAB_KEEP=1" 1
else
	is "$(ls -d "${tmps[@]}" 2>/dev/null)" "" "cleanup removed the temp dirs"
fi
host_after=$(host_state)
is "$host_after" "$host_before" \
    "the host is as it was: /usr/sbin, units, /etc, /var/lib/nfspamd, users, dpkg, links, mounts" ||
    diag "$(diff <(echo "$host_before") <(echo "$host_after"))"
diag "$(grep -E '^(dpkg|passwd|/usr/sbin/nfspamd):' <<<"$host_after")"
diag "total $(($(date +%s) - t_start))s (build ${build_secs}s)"
done_testing
