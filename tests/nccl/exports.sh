#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The plugin's version script (adapters/nccl/exports.map) leaves exactly the
# structs NCCL looks up in the dynamic symbol table: ncclNetPlugin_v8..v12.
# libscalex's munmap guard is linked in but local: its symbol is in the
# static table, not the dynamic one (exports.map says why).
set -u -o pipefail
so=${1:?plugin .so}
want=$(printf 'ncclNetPlugin_v%s\n' 10 11 12 8 9)
got=$(nm -D --defined-only "$so" | awk '{ print $3 }' | LC_ALL=C sort) || exit 1
if [ "$got" != "$want" ]; then
	echo "exported: $(echo $got)"; echo "expected: $(echo $want)"; exit 1
fi
# (whole outputs first: grep -q closing the pipe early would fail nm under pipefail)
syms=$(nm "$so") || exit 1
dyn=$(nm -D "$so") || exit 1
grep -qE ' t munmap$' <<<"$syms" || { echo "munmap guard not linked in, or not local"; exit 1; }
if grep -qE ' [TW] munmap$' <<<"$dyn"; then echo "munmap is exported"; exit 1; fi
echo "exports: $(echo $got); munmap local"
