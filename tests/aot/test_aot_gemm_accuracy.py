"""Accuracy of the emitted AOT GEMM (xlite/aot/gemm.py) against float64 NumPy, with the bound of
tests/reduction_cases.py: |got - ref| <= 4 eps32 log2(k) sum|a b| + eps32 |ref|.

A block-serial GEMM adds each 256-deep block product into C one after another, so with a large
first product and many small ones (a constant addend of 0.1 on 10^4) its error grows with k / 256
and breaks the bound at k = 2^17; the pairwise block sums stay within it. Edge shapes (k of 0, 1
and around one block, odd m and n, more panels than one, both transposes, float64) check the
panel and tile bookkeeping against the same bound.
"""
from __future__ import annotations

import numpy as np
import pytest

import xlite as tf
import xlite.aot
from aot_harness import CC
from reduction_cases import EPS32, bound

pytestmark = pytest.mark.skipif(CC is None, reason="needs a C compiler to link the .so")

EPS = {np.float32: EPS32, np.float64: float(np.finfo(np.float64).eps)}


def _compile_matmuls(tmp_path, name: str, cases: list, dtype) -> tuple:
    """One AOT object computing op(a_i) @ op(b_i) for every (m, k, n, ta, tb) of `cases`."""
    graph = tf.Graph()
    feeds, fetches = [], []
    with graph.as_default():
        for i, (m, k, n, ta, tb) in enumerate(cases):
            pa = tf.placeholder(dtype, (k, m) if ta else (m, k), name=f"a{i}")
            pb = tf.placeholder(dtype, (n, k) if tb else (k, n), name=f"b{i}")
            feeds += [pa, pb]
            fetches.append(tf.matmul(pa, pb, transpose_a=ta, transpose_b=tb))
    artifacts = xlite.aot.compile(fetches, feeds, name=name, out_dir=str(tmp_path), graph=graph)
    return xlite.aot.load(artifacts.shared_path)


def _check(got, a, b, ta: bool, tb: bool, dtype) -> None:
    """The reduction-cases bound for a product of depth k, per element of C."""
    a64 = (a.T if ta else a).astype(np.float64)
    b64 = (b.T if tb else b).astype(np.float64)
    k = a64.shape[1]
    want, scale = a64 @ b64, np.abs(a64) @ np.abs(b64)
    got = np.asarray(got, np.float64)
    assert got.shape == want.shape
    eps = EPS[dtype]
    allowed = bound(k) * (eps / EPS32) * scale + eps * np.abs(want) + 1e-300
    err = np.abs(got - want)
    worst = np.unravel_index(np.argmax(err / allowed), err.shape) if err.size else ()
    assert np.all(err <= allowed), (
        f"k={k}: error {float(err[worst]):.3g} > bound {float(allowed[worst]):.3g} at {worst} "
        f"({float(err[worst] / (eps * scale[worst])):.1f} ulps of sum|a b|)")


def test_long_k_positive_sums_stay_within_log2_bound(tmp_path):
    """k = 2^17, positive: column 0 of b starts with 10^4 then 0.1s (serial blocks: 1.6x the bound),
    column 1 is all 0.1, column 2 uniform; a is ones except one uniform row."""
    k = 2 ** 17
    rng = np.random.default_rng(0)
    a = np.ones((2, k), np.float32)
    a[1] = rng.random(k, dtype=np.float32)
    b = np.full((k, 3), 0.1, np.float32)
    b[0, 0] = 1e4
    b[:, 2] = rng.random(k, dtype=np.float32)
    run = _compile_matmuls(tmp_path, "longk", [(2, k, 3, False, False)], np.float32)
    _check(run(a0=a, b0=b)[0], a, b, False, False, np.float32)


EDGE_CASES = [  # (m, k, n, transpose_a, transpose_b)
    (7, 0, 5, False, False),
    (7, 1, 5, False, False),
    (33, 255, 9, False, True),
    (16, 256, 4, True, False),
    (17, 257, 13, True, True),
    (301, 8192, 45, False, False),      # 32 blocks: levels for 256 columns of C^T a panel, so two panels
    (1, 3000, 1, False, False),
]


@pytest.mark.parametrize("dtype", [np.float32, pytest.param(np.float64, marks=pytest.mark.slow)])
def test_edge_shapes(tmp_path, dtype):
    rng = np.random.default_rng(1)
    run = _compile_matmuls(tmp_path, "edges", EDGE_CASES, dtype)
    feeds, operands = {}, []
    for i, (m, k, n, ta, tb) in enumerate(EDGE_CASES):
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
        b = (rng.random((n, k) if tb else (k, n)) + 0.5).astype(dtype)
        feeds[f"a{i}"], feeds[f"b{i}"] = a, b
        operands.append((a, b, ta, tb))
    results = run(**feeds)
    for got, (a, b, ta, tb) in zip(results, operands):
        _check(got, a, b, ta, tb, dtype)
