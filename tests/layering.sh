#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
#
# The library's layers hold: nothing in libnfscore (policy and parsing)
# refers to libnfsio (LMDB, netlink, TLS, syslog, file ownership), and
# the programs' own directories are not compiled into one another.  TAP.
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
core=$top_builddir/src/lib/libnfscore.a
io=$top_builddir/src/lib/libnfsio.a

echo "1..2"
if [ ! -f "$core" ] || [ ! -f "$io" ]; then
	echo "not ok 1 - libnfscore.a and libnfsio.a are built"
else
	bad=$(nm --defined-only "$io" | awk '$2 ~ /[TDBR]/ { print $3 }' |
	    sort -u | grep -Fxf - "$(nm -u "$core" | awk '{ print $2 }' |
	    sort -u >"$core.undef" && echo "$core.undef")" | tr '\n' ' ')
	rm -f "$core.undef"
	if [ -z "$bad" ]; then
		echo "ok 1 - libnfscore refers to nothing in libnfsio"
	else
		echo "not ok 1 - libnfscore refers to libnfsio: $bad"
	fi
fi
# A program's sources name only its own directory (the libraries are
# linked, not compiled in).
sources()
{
	sed -n "/^$1 =/,/[^\\\\]\$/p" "$top_srcdir/Makefile.am" |
	    tr ' \t\\' '\n\n\n' | grep '^src/'
}
bad=
for prog in nfspamd nfspamlogd nfspamdb nfspamd-setup nfspamd-policy; do
	var=$(echo "src_${prog}_${prog}_SOURCES" | tr -- '-' '_')
	n=$(sources "$var" | grep -c "^src/$prog/")
	other=$(sources "$var" | grep -v "^src/$prog/" | tr '\n' ' ')
	[ "$n" -gt 0 ] || bad="$bad $prog:no-sources"
	[ -z "$other" ] || bad="$bad $prog:$other"
done
if [ -z "$bad" ]; then
	echo "ok 2 - each program compiles only its own directory's files"
else
	echo "not ok 2 - a program compiles files not its own:$bad"
fi
