#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""PyTorch DDP over scalex, launched by torchrun, against the same run on
Gloo's TCP transport (tests/clients/ddp_train.py; docs/integrations.md).

Two torchrun launches of 4 ranks train the same model from the same seeds
for the same steps: one with GLOO_DEVICE_TRANSPORT=scalex and
libscalex-gloo.so preloaded, one with GLOO_DEVICE_TRANSPORT=TCP. (One
launch cannot do both: PyTorch 1.13 reads GLOO_DEVICE_TRANSPORT once per
process.) Passes when the final parameters are bitwise equal (Gloo's
all-reduce algorithm is the same whatever the transport, so the sums
happen in the same order: no tolerance is needed), when scalex's own
counters show that every rank of the scalex run sent and received at least
one model's worth of bytes per step through scalex ports (a run that fell
back to TCP reads 0; ring all-reduce moves 2(n-1)/n = 1.5 models per step
per rank), when the TCP run never loaded scalex, and when nothing is left
behind. The test runs both launches at once (the machine is small; their
timing does not matter here).

--bench K runs them one after the other instead, times K all-reduces of
the model's size after training, and prints the DDP step and all-reduce
times of both and their ratios; --rounds R repeats that R times in
alternating order (scalex first, then TCP first, ...), since the load of a
shared machine moves between two launches, and prints the median ratios.

Usage: ddp_test.py BUILD_DIR SOURCE_DIR [--steps N] [--bench K [--rounds R]]
"""
import argparse
import glob
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

import torch

from free_port import free_port

NPROC = 4
TIMEOUT_S = 200


def start(tag, env_extra, args, tmp, src):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.update(env_extra)
    out = os.path.join(tmp, tag + ".pt")
    # not --standalone: its rendezvous port is fixed (29400), and the two
    # launches may run at once
    port = free_port(src)
    cmd = ["torchrun", "--nnodes", "1", "--master_addr", "127.0.0.1",
           "--master_port", str(port), "--nproc_per_node", str(NPROC),
           "--redirects", "2", "--tee", "1", "--log_dir", os.path.join(tmp, "log-" + tag),
           os.path.join(src, "tests", "clients", "ddp_train.py"),
           "--steps", str(args.steps), "--out", out]
    if args.bench:
        cmd += ["--bench-allreduce", str(args.bench)]
    print("$ " + " ".join(f"{k}={v}" for k, v in env_extra.items()) + " " + " ".join(cmd),
          flush=True)
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    return (tag, p, out)


def finish(run):
    tag, p, out = run
    try:
        text, _ = p.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        text, _ = p.communicate()
        print(text)
        raise SystemExit(f"FAIL: the {tag} run took longer than {TIMEOUT_S} s")
    print("\n".join(l for l in text.splitlines() if re.search("TRAIN|SCALEX", l)), flush=True)
    if p.returncode != 0:
        print(text)
        raise SystemExit(f"FAIL: the {tag} run exited with {p.returncode}")
    return text, torch.load(out)


def worst(text, key):
    return max(float(m.group(1)) for m in re.finditer(key + r" ([0-9.]+)", text))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("src")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--bench", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    lib = os.path.abspath(os.path.join(args.build, "adapters", "gloo", "libscalex-gloo.so"))
    tmp = tempfile.mkdtemp(prefix="scalex-gloo-ddp-")
    prefix = f"sxgd{os.getpid()}"
    sx_env = {"GLOO_DEVICE_TRANSPORT": "scalex", "LD_PRELOAD": lib,
              "SCALEX_GLOO_DIR": tmp, "SCALEX_GLOO_PREFIX": prefix}
    tcp_env = {"GLOO_DEVICE_TRANSPORT": "TCP"}
    fails = []
    try:
        step_r, ar_r = [], []
        if args.bench:
            for rnd in range(args.rounds):
                if rnd % 2 == 0:
                    sx_text, sx = finish(start("scalex", sx_env, args, tmp, args.src))
                    tcp_text, tcp = finish(start("tcp", tcp_env, args, tmp, args.src))
                else:
                    tcp_text, tcp = finish(start("tcp", tcp_env, args, tmp, args.src))
                    sx_text, sx = finish(start("scalex", sx_env, args, tmp, args.src))
                s_sx, s_tcp = worst(sx_text, "step_ms"), worst(tcp_text, "step_ms")
                a_sx, a_tcp = worst(sx_text, "allreduce_ms"), worst(tcp_text, "allreduce_ms")
                step_r.append(s_sx / s_tcp)
                ar_r.append(a_sx / a_tcp)
                print(f"round {rnd + 1} ({'scalex' if rnd % 2 == 0 else 'TCP'} first): "
                      f"DDP step scalex {s_sx:.3f} ms, TCP {s_tcp:.3f} ms; all-reduce "
                      f"scalex {a_sx:.3f} ms, TCP {a_tcp:.3f} ms", flush=True)
        else:
            runs = [start("scalex", sx_env, args, tmp, args.src),
                    start("tcp", tcp_env, args, tmp, args.src)]
            (sx_text, sx), (tcp_text, tcp) = finish(runs[0]), finish(runs[1])

        if sx.keys() != tcp.keys():
            fails.append("the two runs have different parameters")
        for k in sx:
            if not torch.equal(sx[k], tcp[k]):
                diff = (sx[k] - tcp[k]).abs().max().item()
                fails.append(f"parameter {k} differs by up to {diff}")
        print(f"parameters: {len(sx)} tensors, {sum(v.numel() for v in sx.values())} values, "
              f"{'bitwise equal' if not fails else 'DIFFERENT'} (scalex run vs TCP run)")
        seen = set()
        for m in re.finditer(r"SCALEX rank (\d+) tx_bytes (\d+) rx_bytes (\d+) "
                             r"param_bytes (\d+) steps (\d+)", sx_text):
            r, tx, rx, pb, steps = (int(x) for x in m.groups())
            seen.add(r)
            print(f"rank {r}: scalex ports carried {tx} bytes out, {rx} in "
                  f"(gradients: {steps} steps x {pb} bytes)")
            if tx < pb * steps or rx < pb * steps:
                fails.append(f"rank {r}: scalex carried tx {tx} rx {rx} bytes, "
                             f"less than {steps} steps x {pb} bytes of gradients")
        if seen != set(range(NPROC)):
            fails.append(f"scalex counters from ranks {sorted(seen)}, not all {NPROC}")
        if "SCALEX rank" in tcp_text:
            fails.append("the TCP run loaded scalex")

        if args.bench:
            n = re.search(r"params (\d+)", sx_text).group(1)
            fmt = " ".join(f"{r:.2f}" for r in step_r)
            print(f"DDP step ({NPROC} ranks, {args.steps} steps), ratio scalex/TCP, median of "
                  f"{len(step_r)}: {statistics.median(step_r):.2f} ({fmt})")
            fmt = " ".join(f"{r:.2f}" for r in ar_r)
            print(f"all-reduce of the model's {n} floats ({args.bench} times), ratio "
                  f"scalex/TCP, median of {len(ar_r)}: {statistics.median(ar_r):.2f} ({fmt})")
    finally:
        left = glob.glob(f"/var/run/dpdk/{prefix}-*") + \
            [f for f in glob.glob(os.path.join(tmp, "*")) if f.endswith(".sock")]
        for d in glob.glob(f"/var/run/dpdk/{prefix}-*"):
            shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    if left:
        fails.append(f"left behind: {left}")
    for f in fails:
        print("FAIL: " + f)
    print("PASS" if not fails else "FAIL")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
