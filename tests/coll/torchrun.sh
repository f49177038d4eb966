#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# torchrun.sh TORCHRUN COLL_CHECK NODES LOCAL — the collectives checked under
# PyTorch's launcher (Debian python3-torch), with no scalex launcher: one
# torchrun agent per emulated node (--nnodes NODES --node_rank i, the
# multi-host recipe of docs/collectives.md, here on one machine), each
# starting LOCAL ranks of coll_check (--no_python). The ranks take RANK,
# WORLD_SIZE, GROUP_RANK (their node) and LOCAL_RANK from torchrun; node 0's
# agent serves torchrun's store at MASTER_PORT, rank 0 the communicator's
# rendezvous at SCALEX_COLL_PORT. Every rank checks its results against the
# scalar reference; rank 0 prints the job's PASS and a failing rank its FAIL,
# and an agent whose ranks fail exits non-zero.
set -euo pipefail
torchrun=$1 check=$2 nodes=$3 local_size=$4
n=$((nodes * local_size))
# Free ports: torchrun's store and the rendezvous.
. "$(dirname "$0")/../../tools/common/free_port.sh"
mport=$(sx_free_port)
while cport=$(sx_free_port) && [ "$cport" = "$mport" ]; do :; done
dir=$(mktemp -d /tmp/coll-torchrun-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2> /dev/null || true
	done
	wait 2> /dev/null || true
	rm -rf "$dir" /var/run/dpdk/sxc-"$cport"-* 2> /dev/null || true
}
trap cleanup EXIT
for ((i = 0; i < nodes; i++)); do
	# torchrun 1.13 on Python 3.11 needs non-zero --redirects/--tee
	SCALEX_COLL_PORT=$cport SCALEX_COLL_JOBDIR=$dir/job SCALEX_COLL_CHUNK=65536 \
	SCALEX_COLL_SHM_MB=16 COLL_CHECK_QUICK=1 \
	timeout -k 5 150 "$torchrun" --nnodes "$nodes" --node_rank "$i" \
		--nproc_per_node "$local_size" --master_addr 127.0.0.1 --master_port "$mport" \
		--redirects 2 --tee 1 --log_dir "$dir/log$i" \
		--no_python "$check" --scenario full > "$dir/agent$i.out" 2>&1 &
	pids+=($!)
done
bad=0
for ((i = 0; i < nodes; i++)); do
	if ! wait "${pids[$i]}"; then
		echo "torchrun agent of node $i failed:"
		bad=1
	fi
	cat "$dir/agent$i.out"
done
pids=()
# torchrun exits non-zero when a worker does; rank 0 reports the whole job
# (every rank's checks), any failing rank reports itself
out=$(cat "$dir"/agent*.out)
if ! grep -q "full: [0-9]* checks on $n ranks, $nodes nodes" <<< "$out" ||
	! grep -q 'rank 0: full PASS' <<< "$out" || grep -q ' FAIL' <<< "$out"; then
	bad=1
fi
echo "torchrun: $nodes agents x $local_size ranks: $([[ $bad -eq 0 ]] && echo PASS || echo FAIL)"
[[ $bad -eq 0 ]]
