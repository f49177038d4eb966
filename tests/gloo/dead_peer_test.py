#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A PyTorch rank dies mid-all-reduce on the scalex Gloo transport.

Four ranks of tests/clients/ddp_train.py, started by hand (RANK,
WORLD_SIZE, MASTER_ADDR, MASTER_PORT: torchrun would kill the survivors
itself as soon as one worker dies), train a few steps over scalex, then
all-reduce 4 MB tensors in a loop; rank 2 SIGKILLs itself 0.3 s in. Passes
when every other rank leaves its all_reduce with a RuntimeError (Gloo's
IoException, raised by the transport) within 30 s of the kill, and nothing
is left behind: no process, no memif socket; the EAL directories the dead
and the surviving ranks could not remove are removed here, as a launcher
would.

Usage: dead_peer_test.py BUILD_DIR SOURCE_DIR
"""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from free_port import free_port

NPROC, DIE = 4, 2


def main():
    build, src = sys.argv[1], sys.argv[2]
    lib = os.path.abspath(os.path.join(build, "adapters", "gloo", "libscalex-gloo.so"))
    tmp = tempfile.mkdtemp(prefix="scalex-gloo-dead-")
    prefix = f"sxgk{os.getpid()}"
    port = free_port(src)
    env = dict(os.environ, GLOO_DEVICE_TRANSPORT="scalex", LD_PRELOAD=lib,
               SCALEX_GLOO_DIR=tmp, SCALEX_GLOO_PREFIX=prefix, WORLD_SIZE=str(NPROC),
               MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1")
    procs = []
    for r in range(NPROC):
        procs.append(subprocess.Popen(
            ["/usr/bin/python3", os.path.join(src, "tests", "clients", "ddp_train.py"),
             "--steps", "3", "--die-rank", str(DIE)],
            env=dict(env, RANK=str(r), LOCAL_RANK=str(r)), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True))
    fails = []
    ended = {}
    deadline = time.monotonic() + 150
    while len(ended) < NPROC and time.monotonic() < deadline:
        for r, p in enumerate(procs):
            if r not in ended and p.poll() is not None:
                ended[r] = time.monotonic()
        time.sleep(0.05)
    for r, p in enumerate(procs):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            fails.append(f"rank {r} still running after 150 s")
        out = p.stdout.read()
        print("\n".join(f"rank {r}: {l}" for l in out.splitlines()
                        if "DEAD-PEER" in l or "Error" in l or "TRAIN" in l))
        if r == DIE:
            if p.returncode != -signal.SIGKILL:
                fails.append(f"rank {r} was to die by SIGKILL, exited {p.returncode}")
                print(out)
        elif p.returncode != 3 or "DEAD-PEER" not in out:
            fails.append(f"rank {r} exited {p.returncode} without the error")
            print(out)
        elif DIE in ended and ended[r] - ended[DIE] > 30:
            fails.append(f"rank {r} left {ended[r] - ended[DIE]:.1f} s after the kill")
        elif DIE in ended:
            print(f"rank {r} left with the error {ended[r] - ended[DIE]:.2f} s after the kill")
    socks = [f for f in os.listdir(tmp) if f.endswith(".sock")]
    for d in glob.glob(f"/var/run/dpdk/{prefix}-*"):
        shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"memif sockets left by ports kept open to exit: {len(socks)} (removed)")
    for f in fails:
        print("FAIL: " + f)
    print("PASS" if not fails else "FAIL")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
