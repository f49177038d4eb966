#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small PyTorch DDP training run on ProcessGroupGloo, launched by torchrun.

Fixed seeds, synthetic data: every rank builds the same model (an MLP),
then trains on its own shard of a synthetic regression set for --steps
steps of SGD with momentum; DDP all-reduces the gradients through Gloo,
over whatever transport GLOO_DEVICE_TRANSPORT names (TCP, or scalex when
libscalex-gloo.so is loaded: LD_PRELOAD, or --load). At the end rank 0
writes the final parameters (--out, torch.save) and every rank prints the
scalex counters of its process (sx_gloo_counter, exported by the library)
as one line "SCALEX rank R tx_bytes T rx_bytes R links_bytes B", so the
caller can prove which transport carried the gradients.

  GLOO_DEVICE_TRANSPORT=scalex LD_PRELOAD=build/adapters/gloo/libscalex-gloo.so \
    torchrun --standalone --nproc_per_node 4 --redirects 3 --tee 3 --log_dir DIR \
    tests/clients/ddp_train.py --steps 20 --out params.pt
"""
import argparse
import ctypes
import gc
import os
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--out", default=None, help="rank 0 saves the final parameters here")
    ap.add_argument("--load", default=None, help="torch.ops.load_library this first")
    ap.add_argument("--bench-allreduce", type=int, default=0,
                    help="then time this many all-reduces of the model's size")
    args = ap.parse_args()

    if args.load:
        torch.ops.load_library(args.load)
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, size = dist.get_rank(), dist.get_world_size()

    model = nn.Sequential(nn.Linear(32, args.width), nn.Tanh(),
                          nn.Linear(args.width, args.width), nn.Tanh(),
                          nn.Linear(args.width, 1))
    ddp = DDP(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    gen = torch.Generator().manual_seed(99 + rank)
    true_w = torch.linspace(-1, 1, 32)

    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        x = torch.randn(args.batch, 32, generator=gen)
        y = (x @ true_w).unsqueeze(1) + 0.01 * torch.randn(args.batch, 1, generator=gen)
        opt.zero_grad()
        loss = nn.functional.mse_loss(ddp(x), y)
        loss.backward()
        opt.step()
    dist.barrier()
    step_s = (time.perf_counter() - t0) / max(args.steps, 1)

    nparam = sum(p.numel() for p in model.parameters())
    ar_s = 0.0
    if args.bench_allreduce > 0:
        buf = torch.ones(nparam)
        dist.all_reduce(buf)
        t1 = time.perf_counter()
        for _ in range(args.bench_allreduce):
            dist.all_reduce(buf)
        ar_s = (time.perf_counter() - t1) / args.bench_allreduce

    if rank == 0 and args.out:
        torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, args.out)
    print(f"TRAIN rank {rank} size {size} steps {args.steps} params {nparam} "
          f"loss {loss.item():.6f} step_ms {step_s * 1e3:.3f} allreduce_ms {ar_s * 1e3:.3f}",
          flush=True)
    tx, rx = scalex_counter("tx_bytes"), scalex_counter("rx_bytes")
    if tx is not None:
        print(f"SCALEX rank {rank} tx_bytes {tx} rx_bytes {rx} "
              f"param_bytes {nparam * 4} steps {args.steps}", flush=True)
    # DDP holds the process group: drop it so that the group, its Gloo
    # context and scalex's links close now (orderly), not at exit
    del ddp, opt
    gc.collect()
    t2 = time.perf_counter()
    dist.destroy_process_group()
    print(f"DONE rank {rank} destroy_ms {(time.perf_counter() - t2) * 1e3:.1f}", flush=True)
    # the counters of links closed by the group's destruction
    tx, rx = scalex_counter("tx_bytes"), scalex_counter("rx_bytes")
    if tx is not None:
        print(f"SCALEX-FINAL rank {rank} tx_bytes {tx} rx_bytes {rx}", flush=True)


if __name__ == "__main__":
    main()
