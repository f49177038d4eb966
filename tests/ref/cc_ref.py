#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Reference models of scalex's congestion-control algorithms, and the golden
traces the C tests (tests/cc/cc_test.c) replay against cc/.

Run by hand after changing a model or a trace, and commit the output:

    /usr/bin/python3 tests/ref/cc_ref.py            # rewrites tests/vectors/cc_*.txt
    /usr/bin/python3 tests/ref/cc_ref.py --check    # exit 1 if a file would change

The `cc-vectors` test runs --check, so the committed files are always what
this script produces.

Nothing here reads scalex code. Each model is written from the published
description of its algorithm, in the shape the paper gives it (explicit
timers, per-event updates), not in the shape of the C code:

  DCQCN   Zhu et al., SIGCOMM 2015, section 3 (reaction point), with the
          NVIDIA ConnectX parameter semantics as docs/cc.md states them
          (rpg_gd, rpg_min_dec_fac, clamp_tgt_rate[_after_time_inc],
          rate_reduce_monitor_period, rate_to_set_on_first_cnp, initial
          alpha, limiter release at line rate).
  TIMELY  Mittal et al., SIGCOMM 2015, Algorithm 1, with the two guards
          docs/cc.md states (gradient cut at most beta, rate in
          [min_rate, line]) and the segment rule; with patched = 1, the
          last lines are Algorithm 2 of Zhu et al., "ECN or Delay",
          CoNEXT 2016 (Patched TIMELY: weight w(g), delay error against
          RTT_ref), its beta the patched_beta parameter.
  Swift   Kumar et al., SIGCOMM 2020, Algorithm 1 and section 3.5 (target
          scaling), with the scalex adaptations docs/cc.md states.
  NSCC    the sender CC of the Ultra Ethernet Transport 1.0 specification
          (NSCC) as docs/cc.md describes scalex's variant of it.
  HPCC    Li et al., SIGCOMM 2019, Algorithm 1 (MeasureInflight,
          ComputeWind, NewAck) with the choices docs/cc.md states (byte
          counts for ack.seq and snd_nxt, W in [min_rate T, B T], U from 1,
          counters modulo the wire's wrap).

Vector file format (one file per algorithm, tests/vectors/cc_<algo>.txt):

    trace <name> <algo> <preset|-> <line_bps>
    set <param> <value>                       (after the preset, in order)
    hop <rate_bps> <ts_ns> <tx_bytes> <qlen_bytes>   (INT records of the next step)
    step <at_ns> <event> <bytes> <rtt_ns> <rate_bps> <target_bps> <alpha> <cwnd_bytes>
    end

at_ns counts from the algorithm's init; event is cnp, timer, send, ack,
int (an ACK echoing the hop lines just before it, none: no INT hop), loss
or timeout; a timer step's time is when the model says the next timer
is due, and the C test asserts next_timer() says the same. Expected values
are what the state must hold after the event; '-' is not checked. Rates are
exact model values: the C test allows 1 bit/s (the state rounds to whole
bits) and 1 byte for cwnd.
"""
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, '..', 'vectors')

US = 1000
MS = 1000 * US


def clamp(x, lo, hi):
    """x in [lo, hi]; lo wins when lo > hi (a parameter set at its extreme)."""
    return max(min(x, hi), lo)


# ---------------------------------------------------------------- DCQCN

DCQCN_PRESETS = {
    # docs/cc.md, "Where the preset values come from"
    'nic': dict(rpg_time_reset=300, rpg_byte_reset=32767, rpg_threshold=1,
                rpg_ai_rate=5, rpg_hai_rate=50, rpg_gd=11, rpg_min_dec_fac=50,
                rpg_min_rate=1, dce_tcp_g=1019, dce_tcp_rtt=1,
                initial_alpha_value=1023, rate_reduce_monitor_period=4,
                clamp_tgt_rate=0, clamp_tgt_rate_after_time_inc=1,
                rate_to_set_on_first_cnp=0),
    'paper': dict(rpg_time_reset=55, rpg_byte_reset=10000000, rpg_threshold=5,
                  rpg_ai_rate=40, rpg_hai_rate=400, rpg_gd=11, rpg_min_dec_fac=50,
                  rpg_min_rate=1, dce_tcp_g=1020, dce_tcp_rtt=55,
                  initial_alpha_value=1024, rate_reduce_monitor_period=0,
                  clamp_tgt_rate=1, clamp_tgt_rate_after_time_inc=1,
                  rate_to_set_on_first_cnp=0),
}


class Dcqcn:
    """The reaction point as a set of timers: the alpha timer (K), the
    rate-increase timer (T), the byte counter (B) and, with a monitor
    period, a pending cut. Internal timers fire in time order before each
    outside event; at equal times alpha first, then a cut, then an
    increase."""

    def __init__(self, p, line):
        self.p = p
        self.line = float(line)
        self.g = (1024 - p['dce_tcp_g']) / 1024.0
        self.floor = min(p['rpg_min_rate'] * 1e6, self.line)
        self.rc = self.rt = self.line
        self.alpha = p['initial_alpha_value'] / 1024.0
        self.limited = False
        self.t_alpha = self.t_inc = self.t_cut = None
        self.last_cut = None
        self.T = self.BC = 0
        self.bytes = 0
        self.raised_timer = self.raised_bytes = False

    def next_timer(self):
        ts = [t for t in (self.t_inc, self.t_cut) if t is not None]
        return min(ts) if self.limited and ts else None

    def _stop(self):
        # back at line rate: the NIC frees the rate limiter
        self.limited = False
        self.rc = self.rt = self.line
        self.t_alpha = self.t_inc = self.t_cut = None
        self.bytes = 0

    def _reset_counters(self, now):
        self.T = self.BC = 0
        self.bytes = 0
        self.raised_timer = self.raised_bytes = False
        self.last_cut = now
        self.t_alpha = now + self.p['dce_tcp_rtt'] * US
        self.t_inc = now + self.p['rpg_time_reset'] * US
        self.t_cut = None

    def _cut(self, now):
        p = self.p
        if p['clamp_tgt_rate'] or self.raised_bytes or \
                (p['clamp_tgt_rate_after_time_inc'] and self.raised_timer):
            self.rt = self.rc
        # Rc (1 - alpha_fixed / 2^rpg_gd), alpha_fixed = 1024 alpha
        factor = min(1.0, self.alpha * 1024.0 / 2 ** p['rpg_gd'])
        new = self.rc * (1 - factor)
        new = max(new, self.rc * p['rpg_min_dec_fac'] / 100.0)
        self.rc = min(max(new, self.floor), self.line)
        self.rt = max(self.rt, self.rc)
        self.alpha = (1 - self.g) * self.alpha + self.g
        self._reset_counters(now)

    def _increase(self, by_timer):
        p = self.p
        F = p['rpg_threshold']
        if max(self.T, self.BC) <= F:
            pass  # fast recovery
        elif min(self.T, self.BC) > F:
            self.rt += (min(self.T, self.BC) - F) * p['rpg_hai_rate'] * 1e6
        else:
            self.rt += p['rpg_ai_rate'] * 1e6
        self.rt = min(max(self.rt, self.floor), self.line)
        self.rc = (self.rt + self.rc) / 2
        if self.rt - self.rc < 1.0:
            self.rc = self.rt
        if by_timer:
            self.raised_timer = True
        else:
            self.raised_bytes = True
        if self.rc >= self.line:
            self._stop()

    def advance(self, now):
        while self.limited:
            due = []
            if self.t_alpha is not None and self.t_alpha <= now:
                due.append((self.t_alpha, 0))
            if self.t_cut is not None and self.t_cut <= now:
                due.append((self.t_cut, 1))
            if self.t_inc is not None and self.t_inc <= now:
                due.append((self.t_inc, 2))
            if not due:
                return
            t, kind = min(due)
            if kind == 0:
                self.alpha *= 1 - self.g
                self.t_alpha = t + self.p['dce_tcp_rtt'] * US
            elif kind == 1:
                self._cut(t)
            else:
                self.t_inc = t + self.p['rpg_time_reset'] * US
                self.T += 1
                self._increase(True)

    def cnp(self, now):
        p = self.p
        self.advance(now)
        if not self.limited:
            self.limited = True
            self.alpha = p['initial_alpha_value'] / 1024.0
            self.raised_timer = self.raised_bytes = False
            if p['rate_to_set_on_first_cnp'] > 0:
                self.rc = self.rt = min(max(p['rate_to_set_on_first_cnp'] * 1e6,
                                            self.floor), self.line)
                self._reset_counters(now)
            else:
                self._cut(now)
            return
        period = p['rate_reduce_monitor_period'] * US
        if period == 0 or now >= self.last_cut + period:
            self._cut(now)
        else:
            # coalesced into one cut at the period's end; alpha's K restarts
            self.t_cut = self.last_cut + period
            self.t_alpha = now + p['dce_tcp_rtt'] * US

    def send(self, now, nbytes):
        self.advance(now)
        B = self.p['rpg_byte_reset']
        if not self.limited or B == 0:
            return
        self.bytes += nbytes
        while self.limited and self.bytes >= B:
            self.bytes -= B
            self.BC += 1
            self._increase(False)

    def timer(self, now):
        self.advance(now)

    def observe(self):
        return (self.rc, self.rt, self.alpha if self.limited else None, None)


# ---------------------------------------------------------------- TIMELY

TIMELY_PRESETS = {
    'paper': dict(t_low=50, t_high=500, delta=10, beta=0.8, ewma_alpha=0.46,
                  hai_thresh=5, hai_n=5, min_rtt=0, min_rate=10, segment_bytes=16384,
                  patched=0, patched_beta=0.008, rtt_ref=0),
    # Zhu et al., CoNEXT 2016, section 4.3: "All other TIMELY parameters
    # remain the same except we set beta = 0.008 and Seg = 16KB"; the
    # reference queue q' = C T_low, i.e. RTT_ref = T_low.
    'patched': dict(t_low=50, t_high=500, delta=10, beta=0.8, ewma_alpha=0.46,
                    hai_thresh=5, hai_n=5, min_rtt=0, min_rate=10, segment_bytes=16384,
                    patched=1, patched_beta=0.008, rtt_ref=0),
}


def patched_weight(g):
    """w(g) of Zhu et al. (CoNEXT 2016, section 4.3): 0 for g <= -1/4,
    2g + 1/2 for -1/4 < g < 1/4, 1 for g >= 1/4."""
    if g <= -0.25:
        return 0.0
    if g >= 0.25:
        return 1.0
    return 2 * g + 0.5


class Timely:
    """Algorithm 1 of the TIMELY paper, once per completion event."""

    def __init__(self, p, line):
        self.p = p
        self.line = float(line)
        self.rate = self.line
        self.prev_rtt = None
        self.rtt_diff = 0.0
        self.seen_min = None
        self.acked = 0
        self.neg = 0

    def ack(self, now, nbytes, rtt_ns):
        p = self.p
        self.acked += nbytes
        if rtt_ns == 0 or self.acked < p['segment_bytes']:
            return
        self.acked = 0
        new_rtt = rtt_ns / 1000.0
        self.seen_min = new_rtt if self.seen_min is None else min(self.seen_min, new_rtt)
        if self.prev_rtt is None:
            self.prev_rtt = new_rtt
        new_rtt_diff = new_rtt - self.prev_rtt
        self.prev_rtt = new_rtt
        a = p['ewma_alpha']
        self.rtt_diff = (1 - a) * self.rtt_diff + a * new_rtt_diff
        min_rtt = p['min_rtt'] if p['min_rtt'] > 0 else self.seen_min
        min_rtt = max(min_rtt, 0.001)  # never below 1 ns
        gradient = self.rtt_diff / min_rtt
        self.neg = self.neg + 1 if gradient < 0 else 0
        delta = p['delta'] * 1e6
        if new_rtt < p['t_low']:
            self.rate += delta
        elif new_rtt > p['t_high']:
            self.rate *= 1 - p['beta'] * (1 - p['t_high'] / new_rtt)
        elif p['patched']:
            # Algorithm 2 (Patched TIMELY), lines 9-11; a negative result
            # is clamped to min_rate below.
            weight = patched_weight(gradient)
            rtt_ref = p['rtt_ref'] if p['rtt_ref'] > 0 else p['t_low']
            rtt_ref = max(rtt_ref, 0.001)
            error = (new_rtt - rtt_ref) / rtt_ref
            self.rate = delta * (1 - weight) + self.rate * (1 - p['patched_beta'] * weight * error)
        elif gradient <= 0:
            n = p['hai_n'] if self.neg >= p['hai_thresh'] else 1
            self.rate += n * delta
        else:
            self.rate *= 1 - min(p['beta'] * gradient, p['beta'])
        self.rate = min(max(self.rate, min(p['min_rate'] * 1e6, self.line)), self.line)

    def observe(self):
        return (self.rate, None, None, None)


# ---------------------------------------------------------------- Swift

SWIFT_PRESETS = {
    # docs/cc.md, "Swift": Algorithm 1's constants as the paper's evaluation
    # and its public reproductions use them; delay targets sized for a
    # single-hall fabric of a few microseconds' base RTT.
    'paper': dict(base_target=10, hops=0, hop_scale=1, host_target=2, fs_range=20,
                  fs_min_cwnd=0.1, fs_max_cwnd=100, ai=1, beta=0.8, max_mdf=0.5,
                  min_cwnd=0.001, max_cwnd=1024, init_cwnd=16, packet_bytes=4096,
                  retx_reset=5, loss_mdf=0.5),
}


class Swift:
    """Swift's Algorithm 1 on a window in packets, with the flow- and
    hop-scaled target of section 3.5. One window: the RTT sample (fabric and
    host delay together) against the fabric target plus the host target.
    The window is enforced by the QP; below one packet it becomes a pacing
    rate, cwnd * packet / RTT."""

    def __init__(self, p, line):
        self.p = p
        self.line = float(line)
        self.cwnd = clamp(float(p['init_cwnd']), p['min_cwnd'], p['max_cwnd'])
        self.delay = None          # ns, latest RTT sample
        self.t_last_dec = 0
        self.retx = 0
        self.rate = self.line

    def target_ns(self):
        p = self.p
        t = p['base_target'] + p['hops'] * p['hop_scale'] + p['host_target']
        lo, hi = p['fs_min_cwnd'], p['fs_max_cwnd']
        if hi > lo:
            a = p['fs_range'] / (1 / math.sqrt(lo) - 1 / math.sqrt(hi))
            b = -a / math.sqrt(hi)
            t += max(0.0, min(a / math.sqrt(self.cwnd) + b, p['fs_range']))
        return t * US

    def can_decrease(self, now):
        return self.delay is not None and now - self.t_last_dec >= self.delay

    def _finish(self, now, prev):
        p = self.p
        self.cwnd = clamp(self.cwnd, p['min_cwnd'], p['max_cwnd'])
        if self.cwnd < prev:
            self.t_last_dec = now
        # pacing below one packet (Algorithm 1's pacing_delay = rtt / cwnd);
        # above, the window limits and the rate is the line rate
        if self.cwnd < 1 and self.delay:
            bps = self.cwnd * p['packet_bytes'] * 8 * 1e9 / self.delay
            self.rate = min(max(bps, 1.0), self.line)
        else:
            self.rate = self.line

    def ack(self, now, nbytes, rtt_ns):
        p = self.p
        prev = self.cwnd
        if rtt_ns:
            self.delay = rtt_ns
        if self.delay is None:
            return
        self.retx = 0
        target = self.target_ns()
        acked = nbytes / p['packet_bytes']
        if self.delay < target:
            if self.cwnd >= 1:
                self.cwnd += p['ai'] / self.cwnd * acked
            else:
                self.cwnd += p['ai'] * acked
        elif self.can_decrease(now):
            self.cwnd *= max(1 - p['beta'] * (self.delay - target) / self.delay,
                             1 - p['max_mdf'])
        self._finish(now, prev)

    def loss(self, now):
        prev = self.cwnd
        self.retx = 0
        if self.can_decrease(now):
            self.cwnd *= 1 - self.p['loss_mdf']
        self._finish(now, prev)

    def timeout(self, now):
        prev = self.cwnd
        self.retx += 1
        if self.retx >= self.p['retx_reset']:
            self.cwnd = self.p['min_cwnd']
        elif self.can_decrease(now):
            self.cwnd *= 1 - self.p['max_mdf']
        self._finish(now, prev)

    def observe(self):
        return (self.rate, None, None, self.cwnd * self.p['packet_bytes'])


# ---------------------------------------------------------------- NSCC

NSCC_PRESETS = {
    'default': dict(target_qdelay=4, base_rtt=0, md_gain=1, max_md=0.5, pi_gain=0.5,
                fi_bytes=4096, min_cwnd=4096, max_cwnd=4194304, init_cwnd=65536,
                qa_threshold=0.5, packet_bytes=4096, min_time_between_cnps=0,
                cnp_dscp=48),
}


class Nscc:
    """A window in bytes, updated per acknowledgement from the delay above
    the base RTT and once per RTT from the fraction of ECN-marked packets
    (each CNP is one marked packet); quick adapt on loss or timeout sets the
    window to what was delivered in the last RTT."""

    def __init__(self, p, line):
        self.p = p
        self.line = float(line)
        self.cwnd = clamp(float(p['init_cwnd']), p['min_cwnd'], p['max_cwnd'])
        self.rtt = None            # ns, latest sample
        self.base = None           # ns, base RTT
        self.win_start = 0
        self.win_acked = 0
        self.win_marked = 0
        self.last_delivered = None  # bytes acknowledged in the last whole RTT
        self.qa_until = 0
        self.rate = self.line

    def _base(self):
        return self.p['base_rtt'] * US if self.p['base_rtt'] > 0 else self.base

    def _clamp(self):
        self.cwnd = clamp(self.cwnd, self.p['min_cwnd'], self.p['max_cwnd'])
        if self.cwnd < self.p['packet_bytes'] and self.rtt:
            self.rate = min(max(self.cwnd * 8 * 1e9 / self.rtt, 1.0), self.line)
        else:
            self.rate = self.line

    def _window(self, now):
        """Close the observation window once an RTT has passed."""
        if self.rtt is None or now - self.win_start < self.rtt:
            return
        p = self.p
        if self.win_acked > 0 or self.win_marked > 0:
            marked = self.win_marked * p['packet_bytes']
            frac = min(1.0, marked / self.win_acked) if self.win_acked else 1.0
            delay = self.rtt - self._base()
            if frac > 0 and delay >= p['target_qdelay'] * US:
                self.cwnd *= 1 - min(p['md_gain'] * frac, p['max_md'])
        self.last_delivered = self.win_acked
        self.win_start = now
        self.win_acked = 0
        self.win_marked = 0
        self._clamp()

    def ack(self, now, nbytes, rtt_ns):
        p = self.p
        if rtt_ns:
            self.rtt = rtt_ns
            self.base = rtt_ns if self.base is None else min(self.base, rtt_ns)
        self._window(now)
        if self.rtt is None:
            return
        self.win_acked += nbytes
        target = p['target_qdelay'] * US
        delay = self.rtt - self._base()
        if self.win_marked == 0:
            if delay < target:
                self.cwnd += p['pi_gain'] * nbytes * (target - delay) / target
            else:
                self.cwnd += p['fi_bytes'] * nbytes / self.cwnd
        self._clamp()

    def cnp(self, now):
        self._window(now)
        self.win_marked += 1

    def _quick_adapt(self, now):
        self._window(now)
        if self.rtt is None or now < self.qa_until or self.last_delivered is None:
            return
        if self.last_delivered < self.p['qa_threshold'] * self.cwnd:
            self.cwnd = self.last_delivered
            self.qa_until = now + self.rtt
        self._clamp()

    def loss(self, now):
        self._quick_adapt(now)

    def timeout(self, now):
        self._quick_adapt(now)

    def observe(self):
        return (self.rate, None, None, self.cwnd)

# ---------------------------------------------------------------- HPCC

# INT counters as the wire carries them (docs/wire.md, "INT").
INT_TS_WRAP = 1 << 24
INT_TX_WRAP = 1 << 27

HPCC_PRESETS = {
    # Li et al., SIGCOMM 2019, sections 3.3 and 5; T and min_rate: docs/cc.md
    'paper': dict(eta=0.95, max_stage=5, wai_bytes=80, base_rtt=8, min_rate=100),
}


class Hpcc:
    """Algorithm 1 of the paper. L holds the previous ACK's INT records;
    U the normalized inflight; Wc the reference window, updated once per
    RTT (ack.seq > lastUpdateSeq); W the window, updated per ACK; R = W/T."""

    def __init__(self, p, line):
        self.p = p
        self.line = float(line)
        self.T = p['base_rtt'] * US
        self.B_nic = self.line / 8e9          # bytes per ns
        self.W_init = self.B_nic * self.T     # the paper's initial window
        self.W_min = min(p['min_rate'] * 1e6 / 8e9 * self.T, self.W_init)
        self.W = self.Wc = self.W_init
        self.U = 1.0
        self.incStage = 0
        self.lastUpdateSeq = 0
        self.snd_nxt = 0
        self.ack_seq = 0
        self.L = None

    def measure_inflight(self, ackL):
        T = self.T
        u, tau = None, 0.0  # docs/cc.md: an idle hop (u' = 0) still counts
        for a, l in zip(ackL, self.L):
            dt = (a['ts'] - l['ts']) % INT_TS_WRAP
            if dt == 0 or a['B'] == 0:
                continue
            B = a['B'] / 8e9
            txRate = ((a['txBytes'] - l['txBytes']) % INT_TX_WRAP) / dt
            u_ = min(a['qLen'], l['qLen']) / (B * T) + txRate / B
            if u is None or u_ > u:
                u, tau = u_, dt
        if u is None:
            return self.U
        tau = min(tau, T)
        self.U = (1 - tau / T) * self.U + tau / T * u
        return self.U

    def compute_wind(self, U, updateWc):
        p = self.p
        if U >= p['eta'] or self.incStage >= p['max_stage']:
            W = self.Wc / (U / p['eta']) + p['wai_bytes'] if U > 0 else self.W_init
            W = clamp(W, self.W_min, self.W_init)
            if updateWc:
                self.incStage = 0
                self.Wc = W
        else:
            W = clamp(self.Wc + p['wai_bytes'], self.W_min, self.W_init)
            if updateWc:
                self.incStage += 1
                self.Wc = W
        return W

    def new_ack(self, now, nbytes, ackL):
        self.ack_seq += nbytes
        if not ackL:
            return  # no INT: the window stays
        if self.L is not None and len(self.L) == len(ackL):
            if self.ack_seq > self.lastUpdateSeq:
                self.W = self.compute_wind(self.measure_inflight(ackL), True)
                self.lastUpdateSeq = self.snd_nxt
            else:
                self.W = self.compute_wind(self.measure_inflight(ackL), False)
        self.L = [dict(h) for h in ackL]

    def send(self, now, nbytes):
        self.snd_nxt += nbytes

    def ack(self, now, nbytes, rtt_ns):
        self.ack_seq += nbytes

    def observe(self):
        R = min(max(self.W * 8e9 / self.T, 1.0), self.line)
        return (R, None, None, max(self.W, 1))


MODELS = {
    'dcqcn': (Dcqcn, DCQCN_PRESETS),
    'timely': (Timely, TIMELY_PRESETS),
    'swift': (Swift, SWIFT_PRESETS),
    'nscc': (Nscc, NSCC_PRESETS),
    'hpcc': (Hpcc, HPCC_PRESETS),
}


# ---------------------------------------------------------------- traces

class Trace:
    def __init__(self, name, algo, preset, line, params=()):
        cls, presets = MODELS[algo]
        self.name, self.algo, self.preset, self.line = name, algo, preset, line
        self.params = list(params)
        p = dict(presets[preset])
        for k, v in self.params:
            assert k in p, (algo, k)
            p[k] = v
        self.m = cls(p, line)
        self.steps = []

    def _rec(self, at, ev, nbytes=0, rtt=0, hops=()):
        self.steps.append((at, ev, nbytes, rtt, tuple(hops)) + tuple(self.m.observe()))

    def int_ack(self, at, nbytes, hops):
        """An ACK echoing INT records: hops is a list of (B bit/s, ts ns,
        txBytes, qLen bytes), the first switch first."""
        L = [dict(B=b, ts=ts % INT_TS_WRAP, txBytes=tx % INT_TX_WRAP, qLen=q)
             for b, ts, tx, q in hops]
        self.m.new_ack(at, nbytes, L)
        self._rec(at, 'int', nbytes, 0, [(h['B'], h['ts'], h['txBytes'], h['qLen']) for h in L])

    def cnp(self, at):
        self.m.cnp(at)
        self._rec(at, 'cnp')

    def send(self, at, nbytes):
        self.m.send(at, nbytes)
        self._rec(at, 'send', nbytes)

    def ack(self, at, nbytes, rtt):
        self.m.ack(at, nbytes, rtt)
        self._rec(at, 'ack', nbytes, rtt)

    def loss(self, at):
        self.m.loss(at)
        self._rec(at, 'loss')

    def timeout(self, at):
        self.m.timeout(at)
        self._rec(at, 'timeout')

    def timer(self):
        """The next timer, at the time the model says it is due; None if none."""
        at = self.m.next_timer()
        if at is None:
            return None
        self.m.timer(at)
        self._rec(at, 'timer')
        return at

    def text(self):
        out = ['trace %s %s %s %d' % (self.name, self.algo, self.preset, self.line)]
        for k, v in self.params:
            out.append('set %s %s' % (k, num(v)))
        for st in self.steps:
            for h in st[4]:
                out.append('hop %d %d %d %d' % h)
            out.append('step %d %s %d %d %s' % (st[0], st[1], st[2], st[3],
                                                 ' '.join(num(x) for x in st[5:])))
        out.append('end')
        return '\n'.join(out)


def num(v):
    if v is None:
        return '-'
    if isinstance(v, int):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def dcqcn_traces():
    G = 1e9
    out = []
    # One CNP at line rate, none after: fast recovery, then additive
    # increase that can only halve the gap (Rt is the line rate).
    t = Trace('paper_one_cnp', 'dcqcn', 'paper', int(100 * G))
    t.cnp(0)
    for _ in range(7):
        t.timer()
    out.append(t)
    # A second CNP 10 us later: Rt <- 50, then R_AI steps of 40 Mb/s.
    t = Trace('paper_additive', 'dcqcn', 'paper', int(100 * G))
    t.cnp(0)
    t.cnp(10 * US)
    for _ in range(8):
        t.timer()
    out.append(t)
    # Timer and byte counter together with F = 1: hyper increase.
    t = Trace('paper_hyper', 'dcqcn', 'paper', int(100 * G),
              [('rpg_threshold', 1), ('rpg_byte_reset', 1000), ('rpg_ai_rate', 1000),
               ('rpg_hai_rate', 10000)])
    t.cnp(0)
    t.cnp(1 * US)
    t.send(2 * US, 1000)
    at = t.timer()
    t.send(at + US, 1000)
    at = t.timer()
    t.send(at + US, 1000)
    t.send(at + 2 * US, 2000)
    t.timer()
    out.append(t)
    # NIC defaults: the byte counter fires at exactly rpg_byte_reset bytes.
    t = Trace('nic_byte_counter', 'dcqcn', 'nic', int(100 * G))
    t.cnp(0)
    t.send(100, 32766)
    t.send(200, 1)
    t.send(300, 32766)
    out.append(t)
    # rate_reduce_monitor_period: CNPs inside the period coalesce.
    t = Trace('nic_monitor_period', 'dcqcn', 'nic', int(100 * G))
    t.cnp(0)
    t.cnp(500)
    t.cnp(1200)
    t.timer()
    t.timer()
    out.append(t)
    # NIC defaults after one CNP: back to line rate, the limiter released.
    t = Trace('nic_recovery', 'dcqcn', 'nic', int(25 * G))
    t.cnp(0)
    while t.timer() is not None:
        pass
    t.cnp(20 * MS)
    out.append(t)
    # clamp_tgt_rate 0, with and without clamp_tgt_rate_after_time_inc.
    for ati in (0, 1):
        t = Trace('nic_clamp_ati%d' % ati, 'dcqcn', 'nic', int(100 * G),
                  [('clamp_tgt_rate_after_time_inc', ati), ('rpg_byte_reset', 0)])
        t.cnp(0)
        t.cnp(10 * US)
        at = t.timer()
        t.cnp(at + 10 * US)
        out.append(t)
    t = Trace('nic_clamp_bytes', 'dcqcn', 'nic', int(100 * G),
              [('clamp_tgt_rate_after_time_inc', 0)])
    t.cnp(0)
    t.send(10 * US, 32767)
    t.cnp(20 * US)
    out.append(t)
    # rate_to_set_on_first_cnp: a jump, not a cut; then ordinary cuts.
    t = Trace('nic_first_cnp_rate', 'dcqcn', 'nic', int(100 * G),
              [('rate_to_set_on_first_cnp', 10000)])
    t.cnp(0)
    t.cnp(10 * US)
    t.timer()
    out.append(t)
    # rpg_min_dec_fac and rpg_gd: how deep one cut may go.
    for fac, gd in ((80, 11), (50, 11), (100, 11), (50, 9), (1, 9), (30, 10), (1, 12)):
        t = Trace('paper_dec_fac%d_gd%d' % (fac, gd), 'dcqcn', 'paper', int(100 * G),
                  [('rpg_min_dec_fac', fac), ('rpg_gd', gd)])
        t.cnp(0)
        t.cnp(1 * US)
        out.append(t)
    # A CNP every microsecond down to rpg_min_rate.
    t = Trace('paper_floor', 'dcqcn', 'paper', int(100 * G), [('rpg_min_rate', 1000)])
    for i in range(40):
        t.cnp(i * US)
    for _ in range(10):
        t.timer()
    out.append(t)
    # A varied life on both presets: CNPs, sends and timers at random times.
    for preset, seed in (('nic', 1), ('paper', 2)):
        rnd = random.Random(seed)
        t = Trace('%s_random' % preset, 'dcqcn', preset, int(100 * G),
                  [('rpg_byte_reset', 65536)] if preset == 'paper' else [])
        now = 0
        for _ in range(400):
            now += rnd.choice((1, 500, US, 3 * US, 20 * US, 100 * US))
            nt = t.m.next_timer()
            if nt is not None and nt <= now and rnd.random() < 0.7:
                now = t.timer()
                continue
            r = rnd.random()
            if r < 0.3:
                t.cnp(now)
            else:
                t.send(now, rnd.choice((64, 1024, 4096, 9000, 32767, 65536)))
        out.append(t)
    return out


def timely_traces():
    out = []
    # Algorithm 1 per sample at 10 Gb/s with minRTT 100 us: each branch.
    t = Trace('paper_branches', 'timely', 'paper', 10 ** 10,
              [('segment_bytes', 0), ('min_rtt', 100)])
    for i, rtt in enumerate((1000, 20, 100, 100, 100, 100, 100, 200, 200, 150, 400, 2000, 0)):
        t.ack((i + 1) * 10 * US, 4096, rtt * US)
    out.append(t)
    # segment_bytes: one update per 16 KB acknowledged; minRTT from samples.
    t = Trace('paper_segments', 'timely', 'paper', 10 ** 10)
    now = 0
    for rtt in (1000, 1000, 0, 300, 300, 300, 280, 260, 240, 220, 600, 600, 40, 40):
        now += 5 * US
        t.ack(now, 8192, rtt * US)
    out.append(t)
    # Random RTTs around the thresholds, with the floor and ceiling reached.
    rnd = random.Random(3)
    t = Trace('paper_random', 'timely', 'paper', 25 * 10 ** 9, [('segment_bytes', 4096)])
    now = 0
    for _ in range(400):
        now += rnd.choice((1, US, 5 * US))
        rtt = rnd.choice((0, 10, 45, 55, 80, 120, 300, 480, 520, 900, 5000)) * US
        rtt += rnd.randrange(0, 2000)
        t.ack(now, rnd.choice((0, 1024, 4096, 8192)), rtt if rtt >= 2000 else 0)
    out.append(t)
    # Patched TIMELY at 10 Gb/s, minRTT 20 us, per sample: a flat RTT
    # (g = 0, w = 1/2) below and above RTT_ref = T_low, a rising RTT
    # (w = 1), a falling one (w = 0), the linear part of w, and the T_low
    # and T_high lines unchanged.
    t = Trace('patched_branches', 'timely', 'patched', 10 ** 10,
              [('segment_bytes', 0), ('min_rtt', 20)])
    for i, rtt in enumerate((100, 100, 100, 60, 60, 60, 300, 320, 340, 330, 326, 327,
                             200, 120, 80, 80, 30, 700, 700, 45, 200, 200, 0)):
        t.ack((i + 1) * 10 * US, 4096, rtt * US)
    out.append(t)
    # rtt_ref set (an RTT below it: a negative error raises the rate even
    # at w = 1) and patched_beta; then a tiny rtt_ref: an error above
    # 1 / patched_beta takes the rate below zero, clamped to min_rate.
    t = Trace('patched_ref', 'timely', 'patched', 25 * 10 ** 9,
              [('segment_bytes', 0), ('rtt_ref', 200), ('patched_beta', 0.05)])
    now = 0
    for rtt in (150, 150, 180, 250, 250, 400, 120, 120):
        now += 7 * US
        t.ack(now, 1024, rtt * US)
    out.append(t)
    t = Trace('patched_floor', 'timely', 'patched', 25 * 10 ** 9,
              [('segment_bytes', 0), ('rtt_ref', 1), ('t_low', 0.5)])
    now = 0
    for rtt in (90, 90, 95, 300, 80):
        now += 7 * US
        t.ack(now, 1024, rtt * US)
    out.append(t)
    # 16 KB segments, minRTT from samples, random RTTs around the thresholds.
    rnd = random.Random(5)
    t = Trace('patched_random', 'timely', 'patched', 100 * 10 ** 9)
    now = 0
    for _ in range(400):
        now += rnd.choice((1, US, 3 * US))
        rtt = rnd.choice((0, 5, 30, 49, 51, 60, 75, 120, 250, 499, 501, 800)) * US
        rtt += rnd.randrange(0, 3000)
        t.ack(now, rnd.choice((0, 1024, 4096, 8192, 16384)), rtt if rtt >= 3000 else 0)
    out.append(t)
    return out


def swift_traces():
    G = 10 ** 9
    out = []
    # Below target: additive increase of ai per RTT; cwnd becomes a rate.
    t = Trace('paper_increase', 'swift', 'paper', 100 * G)
    now = 0
    for _ in range(12):
        now += 8 * US
        t.ack(now, 16 * 4096, 8 * US)
    out.append(t)
    # Above target: one cut per RTT, at most max_mdf; then loss, timeouts.
    t = Trace('paper_decrease', 'swift', 'paper', 100 * G)
    now = 0
    for rtt in (30, 30, 30, 80, 80, 200, 200, 200, 12, 12):
        now += 10 * US
        t.ack(now, 4096, rtt * US)
    now += 300 * US
    t.loss(now)
    t.loss(now + 1 * US)
    for i in range(6):
        now += 400 * US
        t.timeout(now)
    for i in range(10):
        now += 20 * US
        t.ack(now, 4096, 20 * US)
    out.append(t)
    # Below one packet: pacing, increase by ai per acked packet; flow
    # scaling raises the target as cwnd falls; hop scaling.
    t = Trace('paper_sub_packet', 'swift', 'paper', 100 * G,
              [('hops', 3), ('init_cwnd', 4), ('min_cwnd', 0.01)])
    now = 0
    for rtt in (500, 500, 500, 500, 500, 500, 500, 500, 40, 40, 40, 40, 25, 25):
        now += rtt * US
        t.ack(now, 4096, rtt * US)
    out.append(t)
    # Long haul: a window near the BDP of 100 Gb/s x 10 ms, the target above
    # the base RTT, random loss not taken for congestion (loss_mdf 0), but a
    # timeout and delay above target still cut.
    t = Trace('wan_loss', 'swift', 'paper', 100 * G,
              [('base_target', 10500), ('max_cwnd', 65536), ('init_cwnd', 30000),
               ('ai', 64), ('loss_mdf', 0)])
    now = 0
    for i in range(8):
        now += 10 * MS
        t.ack(now, 65536, 10 * MS)
        t.loss(now + 1)
    now += 10 * MS
    t.ack(now, 65536, 12 * MS)
    now += 40 * MS
    t.timeout(now)
    out.append(t)
    rnd = random.Random(4)
    t = Trace('paper_random', 'swift', 'paper', 100 * G, [('hops', 2)])
    now = 0
    for _ in range(400):
        now += rnd.choice((1, US, 5 * US, 20 * US))
        r = rnd.random()
        if r < 0.9:
            rtt = rnd.choice((0, 0, 5, 10, 14, 20, 30, 60, 200)) * US
            t.ack(now, rnd.choice((0, 1024, 4096, 65536)), rtt)
        elif r < 0.97:
            t.loss(now)
        else:
            t.timeout(now)
    out.append(t)
    return out


def nscc_traces():
    G = 10 ** 9
    out = []
    # Delay headroom: proportional increase, fair increase above target.
    t = Trace('increase', 'nscc', 'default', 100 * G)
    now = 0
    for rtt in (5, 5, 6, 7, 8, 9, 10, 12, 12, 12):
        now += 5 * US
        t.ack(now, 16384, rtt * US)
    out.append(t)
    # ECN fraction: one cut per RTT in proportion to the marked fraction.
    t = Trace('ecn', 'nscc', 'default', 100 * G)
    now = 0
    t.ack(now + 1, 4096, 6 * US)
    for k in range(8):
        for j in range(4):
            now += 2 * US
            if j % 2 == 0 and k < 5:
                t.cnp(now)
            t.ack(now, 8192, (15 if k < 5 else 6) * US)
    out.append(t)
    # Quick adapt: loss with little delivered in the last RTT.
    t = Trace('quick_adapt', 'nscc', 'default', 100 * G)
    now = 0
    for _ in range(6):
        now += 10 * US
        t.ack(now, 65536, 10 * US)
    now += 10 * US
    t.ack(now, 12288, 10 * US)
    now += 11 * US
    t.ack(now, 12288, 10 * US)
    t.loss(now + 1)
    t.loss(now + 2)
    now += 30 * US
    t.timeout(now)
    for _ in range(4):
        now += 10 * US
        t.ack(now, 4096, 10 * US)
    out.append(t)
    rnd = random.Random(5)
    t = Trace('random', 'nscc', 'default', 100 * G)
    now = 0
    for _ in range(400):
        now += rnd.choice((1, US, 3 * US, 10 * US))
        r = rnd.random()
        if r < 0.7:
            rtt = rnd.choice((0, 0, 4, 5, 8, 12, 30)) * US
            t.ack(now, rnd.choice((0, 4096, 16384)), rtt)
        elif r < 0.9:
            t.cnp(now)
        elif r < 0.97:
            t.loss(now)
        else:
            t.timeout(now)
    out.append(t)
    return out


class IntPath:
    """Switch ports as an INT source: each accumulates txBytes at a given
    utilization and reports a given queue, stamped at the ACK's time minus
    a fixed delay (records are older than the ACK that echoes them)."""

    def __init__(self, rates, start_ts=0, start_tx=0):
        self.rates = list(rates)
        self.tx = [float(start_tx)] * len(self.rates)
        self.ts = [start_ts] * len(self.rates)

    def advance(self, dt_ns, utils, qlens):
        hops = []
        for i, b in enumerate(self.rates):
            self.ts[i] += dt_ns
            self.tx[i] += b / 8e9 * dt_ns * utils[i]
            tx = int(self.tx[i]) // 128 * 128  # the wire counts 128-byte units
            q = int(qlens[i]) // 80 * 80       # and the queue in 80-byte units
            hops.append((b, self.ts[i], tx, q))
        return hops


def hpcc_traces():
    G = 10 ** 9
    out = []
    # One 100G hop: a full link with no queue (U = 1 >= eta: multiplicative
    # step to eta), then a half-used link (additive steps, then after
    # max_stage a multiplicative increase). An ACK every 1 us, 4 KB each.
    t = Trace('one_hop', 'hpcc', 'paper', 100 * G)
    path = IntPath([100 * G], start_ts=1000)
    now = 0
    t.send(0, 65536)  # a window in flight: Wc moves once per RTT
    for k in range(40):
        now += US
        t.send(now, 4096)
        util = 1.0 if k < 12 else 0.5
        t.int_ack(now, 4096, path.advance(US, [util], [0]))
    out.append(t)
    # A queue: U above 1, the window cut in one step, floors at min_rate T.
    t = Trace('queue', 'hpcc', 'paper', 100 * G, [('min_rate', 20000)])
    path = IntPath([100 * G])
    now = 0
    for k in range(30):
        now += 2 * US
        t.send(now, 8192)
        q = 200000 if k < 15 else (20000 if k < 22 else 0)
        t.int_ack(now, 8192, path.advance(2 * US, [1.0], [q]))
    out.append(t)
    # Two hops, counters wrapping: the ts and txBytes of every record lie
    # just below the wire's wrap at the start; the loaded hop moves.
    t = Trace('two_hops_wrap', 'hpcc', 'paper', 25 * G, [('base_rtt', 12), ('max_stage', 2)])
    path = IntPath([100 * G, 25 * G], start_ts=INT_TS_WRAP - 3000, start_tx=INT_TX_WRAP - 20000)
    now = 0
    for k in range(40):
        now += 700
        t.send(now, 1024)
        utils = [0.3, 0.9] if k < 20 else [0.99, 0.2]
        qs = [0, 3000] if k < 20 else [15000, 0]
        t.int_ack(now, 1024, path.advance(700, utils, qs))
    out.append(t)
    # New paths and missing telemetry: a hop count that changes only
    # records L; an ACK without hops, plain ACKs and ACKs of no new bytes
    # leave Wc alone (ack.seq not past lastUpdateSeq).
    t = Trace('path_change', 'hpcc', 'paper', 100 * G, [('wai_bytes', 500)])
    p2 = IntPath([100 * G, 100 * G], start_ts=5000)
    p3 = IntPath([100 * G, 100 * G, 100 * G], start_ts=9000)
    now = 0
    for k in range(30):
        now += US
        if k % 3 == 0:
            t.send(now, 4096)
        if k < 8:
            t.int_ack(now, 4096 if k % 2 else 0, p2.advance(US, [0.6, 0.7], [0, 800]))
        elif k < 10:
            t.int_ack(now, 4096, [])
            t.ack(now + 1, 1024, 5 * US)
        else:
            t.int_ack(now, 4096 if k % 4 else 0,
                      p3.advance(US, [0.5, 0.97, 0.4], [0, 160 * (k % 5), 0]))
    out.append(t)
    rnd = random.Random(6)
    t = Trace('random', 'hpcc', 'paper', 100 * G)
    paths = [IntPath([100 * G] * n, start_ts=rnd.randrange(INT_TS_WRAP),
                     start_tx=rnd.randrange(INT_TX_WRAP)) for n in (1, 2, 3, 5)]
    cur = paths[1]
    now = 0
    for _ in range(400):
        dt = rnd.choice((1, 300, US, 3 * US, 10 * US))
        now += dt
        r = rnd.random()
        if r < 0.3:
            t.send(now, rnd.choice((0, 1024, 4096)))
        elif r < 0.9:
            if rnd.random() < 0.03:
                cur = rnd.choice(paths)
            n = len(cur.rates)
            hops = cur.advance(dt, [rnd.choice((0.1, 0.5, 0.9, 1.0)) for _ in range(n)],
                               [rnd.choice((0, 0, 1000, 50000, 400000)) for _ in range(n)])
            t.int_ack(now, rnd.choice((0, 1024, 4096, 16384)), hops)
        else:
            t.ack(now, rnd.choice((0, 4096)), rnd.choice((0, 5 * US)))
    out.append(t)
    return out


GENERATORS = {
    'dcqcn': dcqcn_traces,
    'timely': timely_traces,
    'swift': swift_traces,
    'nscc': nscc_traces,
    'hpcc': hpcc_traces,
}


def render(algo):
    head = ('# Golden traces for %s, generated by tests/ref/cc_ref.py: do not edit.\n'
            '# Format: see the docstring of tests/ref/cc_ref.py.\n' % algo)
    return head + '\n'.join(t.text() for t in GENERATORS[algo]()) + '\n'


def main(argv):
    check = '--check' in argv
    stale = []
    for algo in GENERATORS:
        path = os.path.join(VECTORS, 'cc_%s.txt' % algo)
        text = render(algo)
        if check:
            try:
                with open(path) as f:
                    old = f.read()
            except OSError:
                old = None
            if old != text:
                stale.append(path)
        else:
            with open(path, 'w') as f:
                f.write(text)
    if stale:
        sys.stderr.write('stale, regenerate with /usr/bin/python3 tests/ref/cc_ref.py: %s\n'
                         % ' '.join(stale))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
