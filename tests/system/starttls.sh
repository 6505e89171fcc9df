#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# The conditions given to ok are single-quoted on purpose (eval'd).
# shellcheck disable=SC2016 source-path=SCRIPTDIR
# tests/system/starttls.sh: a sending Postfix that insists on TLS
# (smtp_tls_security_level = encrypt) against nfspamd -C/-K behind the
# real ruleset, as root, in network namespaces.
#
#   snd (10.81.1.2, fd81:1::2) ── veth ── gw (10.81.1.1, fd81:1::1)
#
# gw: nft/nfspamd.nft, nfspamd --firewall nft -C cert -K key as nobody, a
# receiving Postfix on port 25 that offers STARTTLS too.  snd mails
# user@[10.81.1.1] and user@[IPv6:fd81:1::1]: each attempt to nfspamd runs
# over TLS, is greylisted, deferred, retried, passes (tls= in the log),
# lands in @spamd-white / @spamd-white6 and is delivered over TLS to the
# real Postfix.  Before that: a key only root can read makes nfspamd,
# running as nobody, refuse to start and say why.
#
# Environment: top_srcdir, top_builddir, NFSPAMD, NFSPAMDB.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
NFSPAMD=${NFSPAMD:-$top_builddir/src/nfspamd/nfspamd}
NFSPAMDB=${NFSPAMDB:-$top_builddir/src/nfspamdb/nfspamdb}
. "$top_srcdir/tests/lib/tap.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root (network namespaces, nftables, Postfix)" 1
	done_testing
	exit 0
fi
for c in nft ip python3 openssl postfix postconf; do
	command -v "$c" >/dev/null || { skip "$c not installed" 1; done_testing; exit 0; }
done
[ -r /usr/share/postfix/master.cf.dist ] ||
    { skip "postfix not installed" 1; done_testing; exit 0; }
for p in "$NFSPAMD" "$NFSPAMDB"; do
	[ -x "$p" ] || bail_out "no binary at $p (build first)"
done
. "$top_srcdir/tests/system/lib.sh"

lab_init nfst
lab_watchdog 120 "Bail out! tests/system/starttls.sh: watchdog after 120 s"
lab_ns snd && lab_ns gw && lab_link snd eth0 gw snd0 &&
    lab_addr snd eth0 10.81.1.2/24 && lab_addr snd eth0 fd81:1::2/64 &&
    lab_addr gw snd0 10.81.1.1/24 && lab_addr gw snd0 fd81:1::1/64 ||
    bail_out "cannot build the lab"
lab_exec gw nft -f "$top_srcdir/nft/nfspamd.nft" || bail_out "nft -f"

tls=$LAB_TMP/tls
mkdir -p "$tls" "$LAB_TMP/db" "$LAB_TMP/run"
: >"$LAB_TMP/alloweddomains"
chown nobody: "$LAB_TMP/db" "$LAB_TMP/run"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/key.pem" \
    -out "$tls/cert.pem" -days 2 -subj /CN=spamd.gw.test >/dev/null 2>&1 ||
    bail_out "openssl req failed"
chmod 0600 "$tls/key.pem"
chmod 0644 "$tls/cert.pem"

log=$LAB_TMP/nfspamd.log
start_nfspamd()
{
	lab_spawn gw "$log" "$NFSPAMD" -d --firewall nft -G 3s:1h:1h -S 0 \
	    -s 0 -l 0.0.0.0 -l :: -p 8025 -h spamd.gw.test --db "$LAB_TMP/db" \
	    --control "$LAB_TMP/run/control.sock" --user nobody \
	    --alloweddomains "$LAB_TMP/alloweddomains" \
	    --os-fingerprints "$top_srcdir/etc/os-fingerprints" \
	    --os-fingerprints "$top_srcdir/etc/pf.os" \
	    -C "$tls/cert.pem" -K "$tls/key.pem"
	NFSPAMD_PID=$LAB_LASTPID
}

# --- a key only root can read ---
start_nfspamd
lab_wait 10 eval '! kill -0 $NFSPAMD_PID'
ok '! kill -0 $NFSPAMD_PID' \
    "a key readable only by root: nfspamd (as nobody) does not start"
like "$(cat "$log")" "-K $tls/key\\.pem: Permission denied \\(as user nobody, which nfspamd runs as: make it readable by that user" \
    "... and says which file, which user and what to do"

# --- as it should be: the key readable by nfspamd's user ---
chown nobody "$tls/key.pem"
: >"$log"
start_nfspamd
lab_wait_log 10 "$log" "listening port=8025 .* starttls=on" ||
    bail_out "nfspamd did not start: $(cat "$log")"
ok 'kill -0 $NFSPAMD_PID' "with the key readable by nobody, nfspamd starts (starttls=on)"

# --- Postfix: gw receives (and offers TLS), snd insists on TLS ---
lab_postfix gw gw '10.81.1.1, [fd81:1::1]' \
    "smtpd_tls_cert_file=$tls/cert.pem" "smtpd_tls_key_file=$tls/key.pem" \
    smtpd_tls_security_level=may smtpd_tls_loglevel=1 ||
    bail_out "postfix gw"
lab_postfix snd snd '127.0.0.1, [::1]' smtp_tls_security_level=encrypt \
    smtp_tls_loglevel=1 minimal_backoff_time=5s maximal_backoff_time=6s \
    queue_run_delay=2s || bail_out "postfix snd"
lab_postfix_start gw snd || bail_out "Postfix does not start: $(cat "$LAB_TMP"/postfix-*/ctl.log)"
gwlog=$LAB_TMP/postfix-gw/maillog
sndlog=$LAB_TMP/postfix-snd/maillog
box=$LAB_TMP/postfix-gw/mail/mailbox

tok4=tls4-$RANDOM$RANDOM tok6=tls6-$RANDOM$RANDOM
lab_sendmail snd tls@snd.test 'user@[10.81.1.1]' "over TLS, IPv4" "$tok4" &&
    lab_sendmail snd tls@snd.test 'user@[IPv6:fd81:1::1]' "over TLS, IPv6" \
    "$tok6" || bail_out "sendmail"
diag "submitted user@[10.81.1.1] and user@[IPv6:fd81:1::1] from snd (smtp_tls_security_level=encrypt)"

for v in 4 6; do
	# elem: what the set holds (the /64 for IPv6, -N's default).
	if [ $v = 4 ]; then ip=10.81.1.2 ipre='10\.81\.1\.2' dst=10.81.1.1 set=spamd-white tok=$tok4
		elem=$ip
		rcre='user@\[10\.81\.1\.1\]'
	else ip=fd81:1::2 ipre='fd81:1::2' dst=fd81:1::1 set=spamd-white6 tok=$tok6
		elem=fd81:1::
		rcre='user@\[IPv6:fd81:1::1\]'
	fi
	dstre=${dst//./\\.}
	ok "lab_wait_log 20 \"$log\" 'starttls ip=$ipre version=TLSv1\\.[23]'" \
	    "IPv$v: Postfix's STARTTLS to nfspamd completes a handshake"
	ok "lab_wait_log 10 \"$log\" 'greylisted ip=$ipre helo=snd\\.e2e\\.test from=<tls@snd\\.test> .* tls=TLSv1\\.[23]'" \
	    "IPv$v: the tuple is greylisted, logged with tls="
	ok "lab_wait_log 10 \"$sndlog\" 'TLS connection established to $dstre\\]?\\[.*TLSv1\\.[23]'" \
	    "IPv$v: Postfix logs a TLS connection to nfspamd"
	ok "lab_wait_log 10 \"$sndlog\" 'to=<$rcre>.*status=deferred .*said: 451 Temporary failure'" \
	    "IPv$v: ... and defers on the 451"
	ok "lab_wait_log 30 \"$log\" 'passed ip=$ipre .* tls=TLSv1\\.[23]'" \
	    "IPv$v: Postfix's retry, over TLS again, passes"
	ok "lab_wait 10 lab_exec gw nft get element inet nfspamd $set '{ $elem }'" \
	    "IPv$v: $elem is in @$set"
	ok "lab_wait 30 grep -q '$tok' '$box'" \
	    "IPv$v: the message is delivered to the real Postfix"
done
ok "grep -Eq 'TLS connection established from .*(10\\.81\\.1\\.2|fd81:1::2)' '$gwlog'" \
    "the real Postfix received it over TLS"
ok "grep -Eq 'to=<user@\\[10\\.81\\.1\\.1\\]>.*status=sent' '$sndlog' && grep -Eq 'to=<user@\\[IPv6:fd81:1::1\\]>.*status=sent' '$sndlog'" \
    "snd's Postfix says status=sent for both"
diag "$(grep -E 'starttls|greylisted|passed' "$log")"

# --- a renewed certificate on SIGHUP ---
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/key.new" \
    -out "$tls/cert.new" -days 2 -subj /CN=renewed.gw.test >/dev/null 2>&1
chown nobody "$tls/key.new"
mv "$tls/key.new" "$tls/key.pem" && mv "$tls/cert.new" "$tls/cert.pem"
kill -HUP "$NFSPAMD_PID"
ok "lab_wait_log 5 '$log' 'STARTTLS certificate re-read from '" \
    "SIGHUP: nfspamd re-reads the renewed certificate"
nw=$(sed -n 's/.*listening .*workers=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
ok "lab_wait 5 eval '[ \$(grep -c \"reloaded worker=.* certificate=reloaded\" \"$log\") -ge ${nw:-1} ]'" \
    "SIGHUP: each of the ${nw:-?} workers says it has it"
# (snd is white by now, so straight to nfspamd's port, inside gw.)
subj=$(lab_exec gw timeout 10 openssl s_client -starttls smtp \
    -connect 127.0.0.1:8025 </dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null)
like "$subj" 'CN *= *renewed\.gw\.test' \
    "the next STARTTLS shows the renewed certificate"

# --- the end ---
kill -TERM "$NFSPAMD_PID"
rc=
for ((i = 0; i < 100; i++)); do
	kill -0 "$NFSPAMD_PID" 2>/dev/null || { wait "$NFSPAMD_PID"; rc=$?; break; }
	sleep 0.1
done
is "$rc" 0 "nfspamd exits 0 on SIGTERM"
bad=$(grep -Ev '^nfspamd: (listening|connected|disconnected|greylisted|passed|scan|firewall=nft op=[a-z]+|stopping|starttls|SIGHUP:|STARTTLS certificate|reloaded|alloweddomains|worker stats|greylisting by network:|os fingerprints=[0-9]+ files=[0-9]+|os fingerprints loaded)( |$)' "$log" |
    grep -v 'does not start\|Permission denied' | head -n 20)
is "$bad" "" "nfspamd logged no warning or error (besides the refused key)"

if [ "$_tap_failed" -gt 0 ]; then
	diag "$(cat "$log")"
	diag "$(cat "$sndlog")"
	diag "$(cat "$gwlog")"
fi
done_testing
