#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run_python.sh PYTHON SCRIPT ARGS...: run SCRIPT with PYTHON, or report the
# test skipped (exit 77, meson's skip code) when that interpreter is missing.
py=$1
shift
if [ -z "$py" ] || [ ! -x "$py" ]; then
	echo "SKIP: no python interpreter at '$py' (scapy is installed for /usr/bin/python3)"
	exit 77
fi
exec "$py" "$@"
