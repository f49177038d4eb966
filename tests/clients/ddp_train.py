#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small PyTorch DDP training run on ProcessGroupGloo, launched by torchrun.

Fixed seeds, synthetic data: every rank builds the same model (an MLP),
then trains on its own shard of a synthetic regression set for --steps
steps of SGD with momentum; DDP all-reduces the gradients through Gloo,
over whatever transport GLOO_DEVICE_TRANSPORT names (TCP, or scalex when
libscalex-gloo.so is loaded: LD_PRELOAD, or --load). Every rank prints
"TRAIN ..." (loss, step and all-reduce times) and, when scalex is loaded,
"SCALEX rank R tx_bytes T ..." from the counters the library exports
(sx_gloo_counter): the proof of which transport carried the gradients.

With --out, rank 0 saves the final parameters (torch.save), to compare
with a run over another transport. (Both transports cannot serve one
process: PyTorch 1.13 reads GLOO_DEVICE_TRANSPORT once per process, into a
static, so every group of a process gets the same transport.)

  GLOO_DEVICE_TRANSPORT=scalex LD_PRELOAD=build/adapters/gloo/libscalex-gloo.so \
    torchrun --standalone --nproc_per_node 4 --redirects 2 --tee 1 --log_dir DIR \
    tests/clients/ddp_train.py --steps 20 --out /tmp/scalex.pt
"""
import argparse
import ctypes
import gc
import os
import signal
import threading
import time

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP


def scalex_counter(name):
    """A process-wide scalex counter, or None when the library is absent."""
    try:
        lib = ctypes.CDLL(None)
        fn = lib.sx_gloo_counter
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64)]
    fn.restype = ctypes.c_int
    v = ctypes.c_uint64(0)
    if fn(name.encode(), ctypes.byref(v)) != 0:
        return None
    return v.value


def dead_peer(rank, die_rank):
    """All-reduce 4 MB tensors until a peer dies: exit 3 on the error."""
    if rank == die_rank:
        threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
    buf = torch.ones(1 << 20)
    t0 = time.perf_counter()
    try:
        while time.perf_counter() - t0 < 120:
            dist.all_reduce(buf)
            buf.fill_(1.0)
    except RuntimeError as e:
        print(f"DEAD-PEER rank {rank} error after {time.perf_counter() - t0:.2f} s: "
              f"{str(e).splitlines()[0]}", flush=True)
        os._exit(3)
    print(f"DEAD-PEER rank {rank} no error", flush=True)
    os._exit(1)


def train(args, rank, group):
    """--steps of DDP from the fixed seeds on @group: (model, step_s, loss)."""
    torch.manual_seed(1234)
    model = nn.Sequential(nn.Linear(32, args.width), nn.Tanh(),
                          nn.Linear(args.width, args.width), nn.Tanh(),
                          nn.Linear(args.width, 1))
    ddp = DDP(model, process_group=group)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    gen = torch.Generator().manual_seed(99 + rank)
    true_w = torch.linspace(-1, 1, 32)
    loss = torch.zeros(())

    dist.barrier(group=group)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        x = torch.randn(args.batch, 32, generator=gen)
        y = (x @ true_w).unsqueeze(1) + 0.01 * torch.randn(args.batch, 1, generator=gen)
        opt.zero_grad()
        loss = nn.functional.mse_loss(ddp(x), y)
        loss.backward()
        opt.step()
    dist.barrier(group=group)
    step_s = (time.perf_counter() - t0) / max(args.steps, 1)
    # DDP holds the group: drop it so that a group can close (orderly) when
    # destroyed, not at interpreter exit
    del ddp, opt
    gc.collect()
    return model, step_s, loss.item()


def bench_allreduce(n, count, group):
    if count <= 0:
        return 0.0
    buf = torch.ones(n)
    dist.all_reduce(buf, group=group)
    t1 = time.perf_counter()
    for _ in range(count):
        dist.all_reduce(buf, group=group)
    return (time.perf_counter() - t1) / count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--out", default=None, help="rank 0 saves the final parameters here")
    ap.add_argument("--load", default=None, help="torch.ops.load_library this first")
    ap.add_argument("--bench-allreduce", type=int, default=0,
                    help="then time this many all-reduces of the model's size")
    ap.add_argument("--die-rank", type=int, default=-1,
                    help="after training, this rank kills itself (SIGKILL) 0.3 s into a "
                         "stream of all-reduces; the others must leave with an error")
    args = ap.parse_args()

    if args.load:
        torch.ops.load_library(args.load)
    torch.set_num_threads(1)
    transport = os.environ.get("GLOO_DEVICE_TRANSPORT", "TCP")
    dist.init_process_group("gloo")
    rank, size = dist.get_rank(), dist.get_world_size()

    tx0 = scalex_counter("tx_bytes")
    model, step_s, loss = train(args, rank, None)
    nparam = sum(p.numel() for p in model.parameters())
    if args.die_rank >= 0:
        dead_peer(rank, args.die_rank)
    ar_s = bench_allreduce(nparam, args.bench_allreduce, None)
    print(f"TRAIN rank {rank} size {size} transport {transport} steps {args.steps} "
          f"params {nparam} loss {loss:.6f} step_ms {step_s * 1e3:.3f} "
          f"allreduce_ms {ar_s * 1e3:.3f}", flush=True)
    tx, rx = scalex_counter("tx_bytes"), scalex_counter("rx_bytes")
    if tx is not None:
        print(f"SCALEX rank {rank} tx_bytes {tx - tx0} rx_bytes {rx} "
              f"param_bytes {nparam * 4} steps {args.steps}", flush=True)
    if rank == 0 and args.out:
        torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, args.out)

    t2 = time.perf_counter()
    dist.destroy_process_group()
    print(f"DONE rank {rank} destroy_ms {(time.perf_counter() - t2) * 1e3:.1f}", flush=True)


if __name__ == "__main__":
    main()
