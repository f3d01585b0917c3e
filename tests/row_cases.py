"""Graphs that row fusion (xlite/passes/row_fusion.py) turns into one row kernel, shared by the pass test,
the CPU differential test and the CUDA PTX and emulator tests.

Each is built with the IR builder on awkward sizes: one row or one column, odd
rows, rows longer than a warp or a vector, rows too long for the CPU's row
cache (10000 floats), several reduced dims, int and bool reductions, NaN and
inf in the rows. `fused` says how many row kernels the cpu pipeline must make.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Module
from xlite.ir.shape import Shape


@dataclass
class RowCase:
    name: str
    build: Callable[[], Module]
    args: Callable[[np.random.Generator], list]
    fused: int = 1                   # row fusions expected after the cpu pipeline
    tol: dict = field(default_factory=lambda: dict(rtol=2e-6, atol=1e-6))


def _module(body, specs) -> Callable[[], Module]:
    def build() -> Module:
        b = Builder()
        params = [b.parameter(Shape(dtypes.as_dtype(dt), tuple(dims))) for dt, dims in specs]
        b.computation.root = b.tuple(list(body(b, *params)))
        m = Module("rows", b.computation)
        m.add_computation(b.computation)
        return m
    return build


def _args(specs, special: bool = False):
    def make(rng: np.random.Generator) -> list:
        out = []
        for dt, dims in specs:
            np_dt = np.dtype(dtypes.as_dtype(dt).np)
            if np_dt == np.bool_:
                out.append(rng.random(dims) < 0.7)
            elif np_dt.kind == "f":
                x = (rng.standard_normal(dims) * 4).astype(np_dt)
                if special and x.size >= 8:
                    flat = x.reshape(-1, x.shape[-1])
                    flat[0, 0] = np.nan
                    flat[-1, :] = -np.inf
                    flat[len(flat) // 2, -1] = np.inf
                out.append(x)
            else:
                out.append(rng.integers(-50, 50, dims).astype(np_dt))
        return out
    return make


def _back(b, v, x, axes):
    """v (x's dims without axes) broadcast back along them."""
    kept = tuple(d for d in range(x.shape.rank) if d not in axes)
    return b.broadcast_in_dim(v, x.shape.dims, kept)


def softmax(b, x, axes=(1,)):
    m = b.reduce(x, "max", axes)
    e = b.emit("exp", (b.emit("sub", (x, _back(b, m, x, axes))),))
    s = b.reduce(e, "sum", axes)
    return [b.emit("div", (e, _back(b, s, e, axes)))]


def logsumexp(b, x):
    m = b.reduce(x, "max", (1,))
    e = b.emit("exp", (b.emit("sub", (x, _back(b, m, x, (1,)))),))
    return [b.emit("add", (b.emit("log", (b.reduce(e, "sum", (1,)),)), m))]


def layer_norm(b, x, gain):
    n = b.scalar(float(x.shape.dims[1]), x.shape.dtype)
    mean = b.emit("div", (b.reduce(x, "sum", (1,)), b.broadcast_in_dim(n, (x.shape.dims[0],), ())))
    centered = b.emit("sub", (x, _back(b, mean, x, (1,))))
    var = b.reduce(b.emit("mul", (centered, centered)), "sum", (1,))
    eps = b.broadcast_in_dim(b.scalar(1e-5, x.shape.dtype), var.shape.dims, ())
    scale = b.emit("rsqrt", (b.emit("add", (b.emit("div", (var, b.broadcast_in_dim(n, var.shape.dims, ()))), eps)),))
    y = b.emit("mul", (centered, _back(b, scale, x, (1,))))
    return [b.emit("mul", (y, b.broadcast_in_dim(gain, x.shape.dims, (1,))))]


def cross_entropy(b, logits, labels):
    """Mean-free softmax cross-entropy per row and the softmax, the two fetches of a training step."""
    m = b.reduce(logits, "max", (1,))
    shifted = b.emit("sub", (logits, _back(b, m, logits, (1,))))
    lse = b.emit("log", (b.reduce(b.emit("exp", (shifted,)), "sum", (1,)),))
    logp = b.emit("sub", (shifted, _back(b, lse, logits, (1,))))
    loss = b.emit("neg", (b.reduce(b.emit("mul", (labels, logp)), "sum", (1,)),))
    return [loss]


def int_scaled(b, x):
    return [b.emit("mul", (x, _back(b, b.reduce(x, "sum", (1,)), x, (1,))))]


def all_above_min(b, x):
    """A bool reduction of a comparison against the row's minimum (and an f32 output of it)."""
    low = b.reduce(x, "min", (1,))
    above = b.compare(x, _back(b, low, x, (1,)), "GT")
    return [b.reduce(above, "or", (1,))]


ROW_CASES: list[RowCase] = []
for rows, cols in ((1, 1), (1, 17), (7, 1), (5, 33), (3, 1000), (2, 10000)):
    specs = [("f32", (rows, cols))]      # a size-1 row is simplified away before fusion: no row kernel
    ROW_CASES.append(RowCase(f"softmax_{rows}x{cols}", _module(softmax, specs), _args(specs), fused=int(cols > 1)))
ROW_CASES += [
    RowCase("softmax_middle_axis_is_no_row", _module(softmax, [("f32", (3, 6, 5))]), _args([("f32", (3, 6, 5))]),
            fused=0),
    RowCase("softmax_special", _module(softmax, [("f32", (6, 40))]), _args([("f32", (6, 40))], special=True)),
    RowCase("softmax_f64", _module(softmax, [("f64", (4, 23))]), _args([("f64", (4, 23))]),
            tol=dict(rtol=1e-13, atol=1e-15)),
    RowCase("softmax_3d_last", _module(lambda b, x: softmax(b, x, (2,)), [("f32", (2, 3, 19))]), _args([("f32", (2, 3, 19))])),
    RowCase("softmax_3d_two_axes", _module(lambda b, x: softmax(b, x, (1, 2)), [("f32", (4, 5, 6))]),
            _args([("f32", (4, 5, 6))])),
    RowCase("logsumexp", _module(logsumexp, [("f32", (9, 40))]), _args([("f32", (9, 40))])),
    RowCase("layer_norm", _module(layer_norm, [("f32", (8, 50)), ("f32", (50,))]),
            _args([("f32", (8, 50)), ("f32", (50,))]), tol=dict(rtol=2e-5, atol=2e-5)),
    RowCase("cross_entropy", _module(cross_entropy, [("f32", (12, 10)), ("f32", (12, 10))]),
            _args([("f32", (12, 10)), ("f32", (12, 10))]), tol=dict(rtol=2e-5, atol=2e-5)),
    RowCase("int_scaled", _module(int_scaled, [("s32", (5, 9))]), _args([("s32", (5, 9))])),
    RowCase("any_above_min", _module(all_above_min, [("f32", (6, 70))]), _args([("f32", (6, 70))])),
]


__all__ = ["RowCase", "ROW_CASES", "softmax"]
