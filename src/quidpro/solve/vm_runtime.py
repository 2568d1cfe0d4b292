"""The interpreter of :mod:`quidpro.solve.vm`, one numba function.

The interpreter of :mod:`quidpro.solve.vm`: one numba function, compiled once per
installation (numba's disk cache), that runs any model's instruction array.

Written by hand because it is quidpro's own: no library interprets a system-dynamics
program over ensemble lanes. Members run in blocks of ``LANES``: every instruction
works on a row of ``LANES`` members, so its dispatch is paid once per row and the row
loop compiles to SIMD code. Operations follow the NumPy kernel's semantics exactly
(``np.minimum`` propagates NaN, ``np.interp``'s formula, ``np.mod``'s sign rule), so
the two agree bit for bit on arithmetic and to rounding on transcendental functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from quidpro.solve.jit_runtime import j_max as _maximum
from quidpro.solve.jit_runtime import j_min as _minimum

LANES = 8  # members per block (measured: 8 beats 4 and 16 on the flagship, see docs)

# Opcodes (``code[i] = (op, dst, a, b, c)``), the most frequent first.
ADD, SUB, MUL, DIV, COPY, NEG, POW = 0, 1, 2, 3, 4, 5, 6
MIN, MAX, IF, LOOKUP, LT, LE, GT, GE, EQ, NE = 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
AND, OR, NOT, STEP, RAMP, PULSE, MOD = 17, 18, 19, 20, 21, 22, 23
ABS, EXP, LN, LOG10, SQRT, SIN, COS, TAN = 24, 25, 26, 27, 28, 29, 30, 31
ARCSIN, ARCCOS, ARCTAN, FLOOR, CEIL = 32, 33, 34, 35, 36
SINH, COSH, TANH, ARCSINH, ARCCOSH, ARCTANH, TRUNC = 37, 38, 39, 40, 41, 42, 43

# Fixed registers.
T, TK, DT, T0, T1 = 0, 1, 2, 3, 4

# Status codes per member (``status[r, 0]``).
OK, NON_FINITE, SHORT_LAG = 0, 1, 2

_Array = Any


@njit(cache=True, error_model="numpy", inline="always")
def _mod(a: float, b: float) -> float:
    """``np.mod`` for floats: the sign of the divisor (NumPy's npy_divmod)."""
    if b == 0.0:
        return np.nan
    m = np.fmod(a, b)
    if m != 0.0:
        if (b < 0.0) != (m < 0.0):
            m += b
    else:
        m = np.copysign(0.0, b)
    return float(m)


@njit(cache=True, error_model="numpy", inline="always")
def _power(x: float, y: float) -> float:
    """Compute ``x ** y`` as NumPy does for an array and a scalar exponent.

    ``x ** y`` as NumPy computes it for an array and a scalar exponent (its fast
    paths for 2, 0.5 and -1, pow otherwise).
    """
    if y == 2.0:
        return x * x
    if y == 0.5:
        return float(np.sqrt(x))
    if y == -1.0:
        return 1.0 / x
    return float(x**y)


@njit(cache=True, error_model="numpy")
def _lookup(x: float, xs_all: _Array, ys_all: _Array, first: int, end: int, mode: int) -> float:
    """Evaluate a lookup on ``xs_all[first:end]``.

    ``LookupFn`` on ``xs_all[first:end]``: np.interp's formula, clamped (mode 0),
    linear beyond (1), or discrete (2).
    """
    n = end - first
    if x != x:
        return x
    xs = xs_all[first:end]  # a view per call: lookups are rare beside arithmetic
    ys = ys_all[first:end]
    if mode == 2:
        lo, hi = 0, n  # searchsorted(side="right") - 1, clipped
        while lo < hi:
            mid = (lo + hi) // 2
            if xs[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        return float(ys[min(max(lo - 1, 0), n - 1)])
    if mode == 1 and n > 1:
        if x < xs[0]:
            return float(ys[0] + (x - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0]))
        if x > xs[n - 1]:
            return float(
                ys[n - 1] + (x - xs[n - 1]) * (ys[n - 1] - ys[n - 2]) / (xs[n - 1] - xs[n - 2])
            )
    if x <= xs[0]:
        return float(ys[0])
    if x >= xs[n - 1]:
        return float(ys[n - 1])
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    slope = (ys[lo + 1] - ys[lo]) / (xs[lo + 1] - xs[lo])
    y = slope * (x - xs[lo]) + ys[lo]
    if y != y:  # np.interp's fallbacks for infinite slopes
        y = slope * (x - xs[lo + 1]) + ys[lo + 1]
        if y != y and ys[lo] == ys[lo + 1]:
            y = ys[lo]
    return float(y)


@njit(cache=True, error_model="numpy", inline="always")
def _pulse(tk: float, dt: float, magnitude: float, t0: float, interval: float) -> float:
    eps = dt * 1e-6
    since = tk - t0
    phase = _mod(since + eps, interval) - eps if interval > 0 else since
    on = since > -eps and phase > -eps and phase < dt - eps
    return magnitude / dt if on else 0.0


@njit(cache=True, error_model="numpy")
def execute(
    code: _Array, R: _Array, time_reg: int, lk_x: _Array, lk_y: _Array, lk_meta: _Array
) -> None:
    """Run ``code`` over the register rows ``R[register, lane]``.

    Run ``code`` over the register rows ``R[register, lane]``; ``time_reg`` is the
    register the time builtins read (``T``, or ``TK`` when inputs hold over a step).
    """
    for i in range(code.shape[0]):
        op, d, a, b, c = code[i, 0], code[i, 1], code[i, 2], code[i, 3], code[i, 4]
        if op == ADD:
            for j in range(LANES):
                R[d, j] = R[a, j] + R[b, j]
        elif op == SUB:
            for j in range(LANES):
                R[d, j] = R[a, j] - R[b, j]
        elif op == MUL:
            for j in range(LANES):
                R[d, j] = R[a, j] * R[b, j]
        elif op == DIV:
            for j in range(LANES):
                R[d, j] = R[a, j] / R[b, j]
        elif op == COPY:
            for j in range(LANES):
                R[d, j] = R[a, j]
        elif op == NEG:
            for j in range(LANES):
                R[d, j] = -R[a, j]
        elif op == POW:
            for j in range(LANES):
                R[d, j] = _power(R[a, j], R[b, j])
        elif op == MIN:
            for j in range(LANES):
                R[d, j] = _minimum(R[a, j], R[b, j])
        elif op == MAX:
            for j in range(LANES):
                R[d, j] = _maximum(R[a, j], R[b, j])
        elif op == IF:
            for j in range(LANES):
                R[d, j] = R[b, j] if R[a, j] != 0.0 else R[c, j]
        elif op == LOOKUP:
            lo, hi, mode = lk_meta[b, 0], lk_meta[b, 1], lk_meta[b, 2]
            for j in range(LANES):
                R[d, j] = _lookup(R[a, j], lk_x, lk_y, lo, hi, mode)
        elif op == LT:
            for j in range(LANES):
                R[d, j] = 1.0 if R[a, j] < R[b, j] else 0.0
        elif op == LE:
            for j in range(LANES):
                R[d, j] = 1.0 if R[a, j] <= R[b, j] else 0.0
        elif op == GT:
            for j in range(LANES):
                R[d, j] = 1.0 if R[a, j] > R[b, j] else 0.0
        elif op == GE:
            for j in range(LANES):
                R[d, j] = 1.0 if R[a, j] >= R[b, j] else 0.0
        elif op == EQ:
            for j in range(LANES):
                R[d, j] = 1.0 if R[a, j] == R[b, j] else 0.0
        elif op == NE:
            for j in range(LANES):
                R[d, j] = 1.0 if R[a, j] != R[b, j] else 0.0
        elif op == AND:
            for j in range(LANES):
                R[d, j] = 1.0 if (R[a, j] != 0.0 and R[b, j] != 0.0) else 0.0
        elif op == OR:
            for j in range(LANES):
                R[d, j] = 1.0 if (R[a, j] != 0.0 or R[b, j] != 0.0) else 0.0
        elif op == NOT:
            for j in range(LANES):
                R[d, j] = 0.0 if R[a, j] != 0.0 else 1.0
        elif op == STEP:  # a: height, b: start
            for j in range(LANES):
                R[d, j] = R[a, j] if R[time_reg, j] >= R[b, j] else 0.0
        elif op == RAMP:  # a: slope, b: start, c: end
            for j in range(LANES):
                t = R[time_reg, j]
                R[d, j] = R[a, j] * (_minimum(t, R[c, j]) - _minimum(t, R[b, j]))
        elif op == PULSE:  # a: magnitude, b: start, c: interval
            for j in range(LANES):
                R[d, j] = _pulse(R[TK, j], R[DT, j], R[a, j], R[b, j], R[c, j])
        elif op == MOD:
            for j in range(LANES):
                R[d, j] = _mod(R[a, j], R[b, j])
        elif op == ABS:
            for j in range(LANES):
                R[d, j] = np.abs(R[a, j])
        elif op == EXP:
            for j in range(LANES):
                R[d, j] = np.exp(R[a, j])
        elif op == LN:
            for j in range(LANES):
                R[d, j] = np.log(R[a, j])
        elif op == LOG10:
            for j in range(LANES):
                R[d, j] = np.log10(R[a, j])
        elif op == SQRT:
            for j in range(LANES):
                R[d, j] = np.sqrt(R[a, j])
        elif op == SIN:
            for j in range(LANES):
                R[d, j] = np.sin(R[a, j])
        elif op == COS:
            for j in range(LANES):
                R[d, j] = np.cos(R[a, j])
        elif op == TAN:
            for j in range(LANES):
                R[d, j] = np.tan(R[a, j])
        elif op == ARCSIN:
            for j in range(LANES):
                R[d, j] = np.arcsin(R[a, j])
        elif op == ARCCOS:
            for j in range(LANES):
                R[d, j] = np.arccos(R[a, j])
        elif op == ARCTAN:
            for j in range(LANES):
                R[d, j] = np.arctan(R[a, j])
        elif op == FLOOR:
            for j in range(LANES):
                R[d, j] = np.floor(R[a, j])
        elif op == CEIL:
            for j in range(LANES):
                R[d, j] = np.ceil(R[a, j])
        elif op == SINH:
            for j in range(LANES):
                R[d, j] = np.sinh(R[a, j])
        elif op == COSH:
            for j in range(LANES):
                R[d, j] = np.cosh(R[a, j])
        elif op == TANH:
            for j in range(LANES):
                R[d, j] = np.tanh(R[a, j])
        elif op == ARCSINH:
            for j in range(LANES):
                R[d, j] = np.arcsinh(R[a, j])
        elif op == ARCCOSH:
            for j in range(LANES):
                R[d, j] = np.arccosh(R[a, j])
        elif op == ARCTANH:
            for j in range(LANES):
                R[d, j] = np.arctanh(R[a, j])
        elif op == TRUNC:
            for j in range(LANES):
                R[d, j] = np.trunc(R[a, j])


@njit(cache=True, error_model="numpy")
def _check(
    R: _Array, lo: int, hi: int, k: int, status: _Array, values: _Array, r0: int, n: int
) -> None:
    """Mark members whose registers ``lo:hi`` hold a non-finite value: the first one."""
    acc = np.zeros(LANES)
    for i in range(lo, hi):  # a sum is non-finite if a term is (or on overflow: rescanned)
        for j in range(LANES):
            acc[j] += R[i, j]
    for j in range(min(LANES, n - r0)):
        if np.isfinite(acc[j]) or status[r0 + j, 0] != OK:
            continue
        for i in range(lo, hi):
            if not np.isfinite(R[i, j]):
                status[r0 + j, 0] = NON_FINITE
                status[r0 + j, 1] = i
                status[r0 + j, 2] = k
                values[r0 + j] = R[i, j]
                break


@njit(cache=True, error_model="numpy")
def _run_block(
    r0: int,
    prog: tuple[_Array, ...],
    layout: _Array,
    consts: _Array,
    t0: float,
    dt: float,
    n_steps: int,
    stride: int,
    out: _Array,
    status: _Array,
    values: _Array,
) -> None:
    (code_static, code_init, code_step, reg0, const_reg, rec_reg, state_reg, deriv_reg) = prog[:8]
    (mem_reg, mem_src, mem_init, mem_lag, lk_x, lk_y, lk_meta, tab_a, tab_b, tab_c) = prog[8:]
    n = consts.shape[0]
    chk_lo, chk_hi, static_lo, static_hi = layout[0], layout[1], layout[2], layout[3]
    time_reg = layout[4]
    R = np.empty((reg0.shape[0], LANES))
    for i in range(reg0.shape[0]):
        R[i, :] = reg0[i]
    for j in range(LANES):  # the last block repeats its last member in unused lanes
        r = min(r0 + j, n - 1)
        for i in range(const_reg.shape[0]):
            R[const_reg[i], j] = consts[r, i]
    t1 = t0 + n_steps * dt
    R[T, :] = t0
    R[TK, :] = t0
    R[DT, :] = dt
    R[T0, :] = t0
    R[T1, :] = t1
    execute(code_static, R, time_reg, lk_x, lk_y, lk_meta)
    _check(R, static_lo, static_hi, 0, status, values, r0, n)
    execute(code_init, R, time_reg, lk_x, lk_y, lk_meta)
    n_mem = mem_reg.shape[0]
    lags = np.ones((n_mem, LANES), dtype=np.int64)
    depth = 1
    for i in range(n_mem):
        for j in range(LANES):
            lag = np.rint(R[mem_lag[i], j])
            if not lag >= 1:
                if r0 + j < n:
                    status[r0 + j, 0] = SHORT_LAG
                    status[r0 + j, 1] = i
                return
            lags[i, j] = int(lag)
            depth = max(depth, int(lag))
    buf = np.empty((n_mem, depth, LANES))
    n_states, n_stages = state_reg.shape[0], tab_b.shape[0]
    Y = np.empty((n_states, LANES))
    K = np.empty((n_stages, n_states, LANES))
    isave = 0
    for k in range(n_steps + 1):
        tk = t0 + k * dt
        R[T, :] = tk
        R[TK, :] = tk
        for i in range(n_mem):
            mr, mi = mem_reg[i], mem_init[i]
            for j in range(LANES):
                lag = lags[i, j]
                R[mr, j] = buf[i, (k - lag) % depth, j] if k >= lag else R[mi, j]
        execute(code_step, R, time_reg, lk_x, lk_y, lk_meta)
        _check(R, chk_lo, chk_hi, k, status, values, r0, n)
        if k % stride == 0:
            width = min(LANES, n - r0)
            for v in range(rec_reg.shape[0]):
                rv = rec_reg[v]
                for j in range(width):
                    out[r0 + j, isave, v] = R[rv, j]
            isave += 1
        for i in range(n_mem):
            src = mem_src[i]
            for j in range(LANES):
                buf[i, k % depth, j] = R[src, j]
        if k == n_steps:
            break
        for s in range(n_states):
            for j in range(LANES):
                Y[s, j] = R[state_reg[s], j]
                K[0, s, j] = R[deriv_reg[s], j]
        for stage in range(1, n_stages):
            R[T, :] = tk + tab_c[stage] * dt
            _combine(R, state_reg, Y, K, tab_a[stage], dt)
            execute(code_step, R, time_reg, lk_x, lk_y, lk_meta)
            for s in range(n_states):
                for j in range(LANES):
                    K[stage, s, j] = R[deriv_reg[s], j]
        _combine(R, state_reg, Y, K, tab_b, dt)


@njit(cache=True, error_model="numpy")
def _combine(R: _Array, state_reg: _Array, Y: _Array, K: _Array, w: _Array, dt: float) -> None:
    """Advance the states by the weighted stages.

    ``state = y + dt * (w0 K0 + w1 K1 + ...)`` over the nonzero weights, summed in
    the order the generated kernels write it (so all backends round alike).
    """
    acc = np.empty(LANES)
    for s in range(state_reg.shape[0]):
        first = True
        for i in range(w.shape[0]):
            if w[i] == 0.0:
                continue
            for j in range(LANES):
                term = w[i] * K[i, s, j]
                acc[j] = term if first else acc[j] + term
            first = False
        r = state_reg[s]
        for j in range(LANES):
            R[r, j] = Y[s, j] if first else Y[s, j] + dt * acc[j]


@njit(cache=True, error_model="numpy", parallel=True)
def run_program(
    prog: tuple[_Array, ...],
    layout: _Array,
    consts: _Array,
    t0: float,
    dt: float,
    n_steps: int,
    stride: int,
    out: _Array,
    status: _Array,
    values: _Array,
) -> None:
    """Every member of ``consts[member, constant]`` into ``out[member, time, var]``.

    Blocks of ``LANES`` members run in parallel.
    """
    n = consts.shape[0]
    n_blocks = (n + LANES - 1) // LANES
    for b in prange(n_blocks):
        _run_block(b * LANES, prog, layout, consts, t0, dt, n_steps, stride, out, status, values)


@njit(cache=True, error_model="numpy")
def run_program_serial(
    prog: tuple[_Array, ...],
    layout: _Array,
    consts: _Array,
    t0: float,
    dt: float,
    n_steps: int,
    stride: int,
    out: _Array,
    status: _Array,
    values: _Array,
) -> None:
    """:func:`run_program` on one thread (a single block: no thread pool to start)."""
    n = consts.shape[0]
    for b in range((n + LANES - 1) // LANES):
        _run_block(b * LANES, prog, layout, consts, t0, dt, n_steps, stride, out, status, values)
