#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# mpirun.sh MPIRUN COLL_CHECK NODES LOCAL — the collectives checked under
# Open MPI's launcher, with no scalex launcher involved: mpirun starts
# NODES x LOCAL ranks, each finds its rank in OMPI_COMM_WORLD_RANK/SIZE,
# SCALEX_LOCAL_SIZE groups them into emulated nodes, and rank 0 serves the
# rendezvous at MASTER_ADDR:MASTER_PORT.
set -euo pipefail
mpirun=$1 check=$2 nodes=$3 local_size=$4
n=$((nodes * local_size))
. "$(dirname "$0")/../../tools/common/free_port.sh"
port=$(sx_free_port)
dir=/tmp/coll-mpirun-$port
cleanup() {
	rm -rf "$dir" /var/run/dpdk/sxc-"$port"-* 2> /dev/null || true
}
trap cleanup EXIT
"$mpirun" --allow-run-as-root --oversubscribe --bind-to none -n "$n" \
	-x SCALEX_LOCAL_SIZE="$local_size" -x MASTER_ADDR=127.0.0.1 -x MASTER_PORT="$port" \
	-x SCALEX_COLL_JOBDIR="$dir" -x SCALEX_COLL_CHUNK=65536 -x SCALEX_COLL_SHM_MB=16 \
	-x COLL_CHECK_QUICK=1 -x UBSAN_OPTIONS \
	"$check" --scenario full
