#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The nfspamd authors
# Bootstrap a checkout: generate configure and Makefile.in.  The TAP test
# driver comes from the installed automake, like the other build-aux files.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
driver=$(ls /usr/share/automake-*/tap-driver.sh 2>/dev/null | tail -n 1)
if [ -z "$driver" ]; then
	echo "autogen.sh: automake's tap-driver.sh not found (apt-get install automake)" >&2
	exit 1
fi
cp "$driver" build-aux/tap-driver.sh
exec autoreconf -fi
