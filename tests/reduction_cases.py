"""Accuracy of long float32 reductions, shared by the cpu, interpreter and emulated cuda tests.

Every case runs a TF graph on float32 data and compares with float64 NumPy.
A sum of n float32 values added pairwise (NumPy, Eigen) is within about
log2(n) roundings of the exact sum, relative to sum(|x|); one long serial
chain is off by up to n roundings (a [5000, 5000] mean of ones came out
0.99). The bound every case checks is C * eps32 * log2(n) of that scale, plus
the final rounding, with C a few ulps: serial accumulation fails it.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import log2, prod
from typing import Callable

import numpy as np

import xlite as tf

EPS32 = float(np.finfo(np.float32).eps)
ULPS = 4.0           # C: the roundings per level of the tree a backend may spend (blocks, lanes, threads)


@dataclass
class Case:
    name: str
    shape: tuple
    build: Callable          # build(x: Tensor) -> Tensor
    reference: Callable      # reference(x64) -> (value, scale): |got - value| <= bound(n) * scale + eps * |value|
    n: int                   # elements each output sums over
    data: str = "uniform"    # uniform [0, 1), normal, tenth (every element 0.1), ones, spike (see inputs)

    def inputs(self, rng: np.random.Generator) -> np.ndarray:
        if self.data == "ones":
            return np.ones(self.shape, np.float32)
        if self.data == "tenth":
            return np.full(self.shape, 0.1, np.float32)
        if self.data == "spike":           # a softmax row of one 1 and many exp(-2.3) ~ 0.1: a constant addend
            x = np.full(self.shape, -2.3, np.float32)
            x[..., 0] = 0.0
            return x
        if self.data == "normal":
            return rng.standard_normal(self.shape).astype(np.float32)
        return rng.random(self.shape, dtype=np.float32)


def bound(n: int) -> float:
    return ULPS * EPS32 * max(1.0, log2(max(n, 2)))


def _axes(axis, rank: int) -> tuple:
    return tuple(range(rank)) if axis is None else tuple(a % rank for a in np.atleast_1d(axis))


def sum_case(shape, axis, data: str = "uniform", mean: bool = False, fused: bool = False) -> Case:
    """reduce_sum / reduce_mean of x (of 2 * x + 0.5 when `fused`: an elementwise producer in the fusion)."""
    rank = len(shape)
    axes = _axes(axis, rank)
    n = prod(shape[a] for a in axes)
    name = f"{'mean' if mean else 'sum'}{'_fused' if fused else ''}_{'x'.join(map(str, shape))}_axis{axis}_{data}"

    def build(x):
        y = x * 2.0 + 0.5 if fused else x
        return (tf.reduce_mean if mean else tf.reduce_sum)(y, axis=axis)

    def reference(x):
        y = x * np.float32(2.0) + np.float32(0.5) if fused else x
        y = y.astype(np.float64)
        value, scale = y.sum(axis=axes), np.abs(y).sum(axis=axes)
        return (value / n, scale / n) if mean else (value, scale)

    return Case(name, tuple(shape), build, reference, n, data)


def softmax_case(rows: int, cols: int, data: str = "normal") -> Case:
    """Each softmax output is exp(x - max) / sum: the sum's relative error is the output's."""
    def reference(x):
        x = x.astype(np.float64)
        e = np.exp(x - x.max(axis=1, keepdims=True))
        value = e / e.sum(axis=1, keepdims=True)
        return value, value
    return Case(f"softmax_{rows}x{cols}_{data}", (rows, cols), tf.nn.softmax, reference, cols, data)


def cross_entropy_case(rows: int, cols: int, data: str = "normal") -> Case:
    """softmax_cross_entropy_with_logits with uniform soft labels: two long sums a row."""
    label = np.float32(1.0 / cols)

    def build(x):
        return tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.fill(tf.shape(x), label), logits=x)

    def reference(x):
        x = x.astype(np.float64)
        m = x.max(axis=1, keepdims=True)
        lse = np.log(np.exp(x - m).sum(axis=1, keepdims=True)) + m
        value = -(float(label) * (x - lse)).sum(axis=1)
        scale = (float(label) * (np.abs(x) + np.abs(lse) + 1.0)).sum(axis=1)
        return value, scale
    return Case(f"xent_{rows}x{cols}_{data}", (rows, cols), build, reference, cols, data)


def gram_case(rows: int, depth: int, data: str = "tenth") -> Case:
    """x @ x^T: each output sums `depth` products (a dot's contraction, the GEMM's k loop)."""
    def reference(x):
        x = x.astype(np.float64)
        return x @ x.T, np.abs(x) @ np.abs(x).T
    return Case(f"gram_{rows}x{depth}_{data}", (rows, depth), lambda x: tf.matmul(x, x, transpose_b=True),
                reference, depth, data)


def random_cases(count: int, max_elements: int, seed: int) -> list[Case]:
    """Random shapes (rank 1 to 4, some long dims) up to max_elements, random axes, sum/mean, plain/fused."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        rank = int(rng.integers(1, 5))
        dims = [int(d) for d in np.exp(rng.uniform(0, np.log(max_elements), rank)).astype(int) + 1]
        if prod(dims) > max_elements:
            continue
        k = int(rng.integers(1, rank + 1))
        axes = sorted(int(a) for a in rng.choice(rank, k, replace=False))
        axis = None if k == rank and rng.random() < 0.5 else (axes[0] if k == 1 else axes)
        if prod(dims[a] for a in _axes(axis, rank)) < 64:
            continue
        cases.append(sum_case(tuple(dims), axis, data=str(rng.choice(["uniform", "normal", "tenth"])),
                              mean=bool(rng.random() < 0.5), fused=bool(rng.random() < 0.5)))
    return cases


def check(case: Case, target: str, seed: int = 0) -> None:
    """Runs the case on `target` (fed float32 data) and checks the bound against float64 NumPy."""
    x = case.inputs(np.random.default_rng(seed))
    g = tf.Graph()
    with g.as_default():
        p = tf.placeholder(tf.float32, case.shape)
        y = case.build(p)
    with tf.Session(target=target, graph=g) as sess:
        got = np.asarray(sess.run(y, {p: x}), np.float64)
    value, scale = case.reference(x)
    err = np.abs(got - value)
    allowed = bound(case.n) * np.abs(scale) + EPS32 * np.abs(value) + 1e-30
    worst = np.unravel_index(np.argmax(err / allowed), err.shape) if err.ndim else ()
    assert np.all(err <= allowed), (
        f"{case.name} on {target}: error {float(err[worst]):.3g} > bound {float(allowed[worst]):.3g} "
        f"({float(err[worst] / (np.abs(scale)[worst] * EPS32 + 1e-300)):.1f} ulps of the scale over "
        f"log2(n) = {log2(max(case.n, 2)):.1f}) at {worst}: got {float(got[worst])!r}, want {float(value[worst])!r}")


MAJOR_AXES = [                                                  # NumPy (and a plain loop) add rows serially
    sum_case((3000, 700), 0, data="tenth"),                     # columns of 3000
    sum_case((50, 300, 40), [0, 1], data="tenth", fused=True),  # several major axes keeping the minor one
    sum_case((40, 3000, 9), 1, data="tenth"),                   # a middle axis
]
WHOLE = [                                                       # everything into one value
    sum_case((5000, 5000), None, data="ones", mean=True),       # 0.9950 on cpu before pairwise sums
    sum_case((5000, 5000), None, data="tenth"),
    sum_case((600, 1000), None, data="tenth", mean=True, fused=True),
    sum_case((20000, 100), None, data="tenth"),                 # rows too short for a block: 10 rows a block
]
LONG_ROWS = [                                                   # row fusions: each row's sums are long
    softmax_case(2, 2_000_000, data="spike"),
    cross_entropy_case(2, 2_000_000, data="spike"),
]
