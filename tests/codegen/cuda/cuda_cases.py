"""One small test graph (or a few) for every opcode, shared by the PTX test and the GPU differential test.

A `Case` builds a fresh Module (passes mutate modules) and its arguments. The
graphs use awkward sizes (0, 1, odd, longer than a warp) and special values
(NaN, inf, INT_MIN, division by zero) where the semantics are delicate.
`optimized(module)` runs the cpu pipeline (layouts, fusion, schedule, buffers),
which is what a Session compiles, so every case is also checked fused;
`as_written(module)` compiles a case exactly as built (naive buffers).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

os.environ.setdefault("XLITE_CACHE_DIR", tempfile.mkdtemp(prefix="xlite-cuda-test-cache-"))

from xlite.ir import dtypes  # noqa: E402
from xlite.ir.builder import Builder  # noqa: E402
from xlite.ir.compiled import CompiledModule  # noqa: E402
from xlite.ir.module import Module  # noqa: E402
from xlite.ir.opcodes import OPCODES  # noqa: E402
from xlite.ir.parser import parse_module  # noqa: E402
from xlite.ir.shape import Shape  # noqa: E402


@dataclass
class Case:
    name: str
    build: Callable[[], Module]
    args: Callable[[np.random.Generator], list]
    tol: dict = field(default_factory=dict)
    opcodes: set = field(default_factory=set)


def module_from(build, param_shapes) -> Module:
    """build(b, *params) -> list of result instructions, as the root tuple of a fresh module."""
    b = Builder()
    params = [b.parameter(Shape(dtypes.as_dtype(dt), tuple(dims))) for dt, dims in param_shapes]
    outs = build(b, *params)
    b.computation.root = b.tuple(list(outs))
    m = Module("test", b.computation)
    m.add_computation(b.computation)
    return m


def mlp_graph(inputs: int, hidden: int, classes: int, learning_rate: float):
    """A one-hidden-layer softmax classifier and its SGD step: (graph, x, y, loss, step, init, first weights)."""
    import xlite as tf
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, inputs])
        y = tf.placeholder(tf.float32, [None, classes])
        h = tf.layers.dense(x, hidden, activation=tf.nn.relu)
        logits = tf.layers.dense(h, classes)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        step = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss)
        init = tf.global_variables_initializer()
        weights = tf.trainable_variables()[0]
    return g, x, y, loss, step, init, weights


def optimized(module: Module) -> CompiledModule:
    from xlite.runtime.driver import optimize
    return optimize(module)


def as_written(module: Module) -> CompiledModule:
    from xlite.runtime.driver import with_naive_buffers
    return with_naive_buffers(module)


def random_array(rng, dtype, dims, special=False):
    dt = np.dtype(dtypes.as_dtype(dtype).np)
    if dt == np.bool_:
        return rng.random(dims) < 0.5
    if dt.kind == "f":
        x = (rng.standard_normal(dims) * 3).astype(dt)
        if special and x.size:
            flat = x.reshape(-1)
            values = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, 88.5, -104.0, 1e30, 0.5, 2.5, -2.5],
                              dtype=dt)
            k = min(flat.size, values.size)
            flat[rng.choice(flat.size, k, replace=False)] = values[:k]
        return x
    info = np.iinfo(dt)
    x = rng.integers(max(info.min, -100), min(info.max, 100) + 1, dims, dtype=dt)
    if special and x.size:
        flat = x.reshape(-1)
        values = np.array([0, info.min, info.max, 1, info.max - 1], dtype=np.int64)
        if info.min < 0:
            values = np.append(values, [-1, info.min + 1])
        k = min(flat.size, values.size)
        flat[rng.choice(flat.size, k, replace=False)] = values[:k].astype(dt)
    return x


def _args(*specs, special=False):
    return lambda rng: [random_array(rng, dt, dims, special) for dt, dims in specs]


CASES: list[Case] = []


def case(name, build, specs, tol=None, args=None, special=False):
    CASES.append(Case(name, lambda: module_from(build, specs), args or _args(*specs, special=special), tol or {}))


def text_case(name, text, args, tol=None):
    CASES.append(Case(name, lambda: parse_module(text), args, tol or {}))


# elementwise -----------------------------------------------------------------------------------
FLOAT_UNARY = ("neg", "abs", "sign", "floor", "ceil", "round", "sqrt", "rsqrt", "is_finite", "copy",
               "exp", "log", "log1p", "tanh", "logistic", "sin", "cos")
for _dt in ("f32", "f64"):
    for _n in (0, 1, 37):
        case(f"float_unary_{_dt}_{_n}", lambda b, p: [b.emit(op, (p,)) for op in FLOAT_UNARY],
             [(_dt, (_n,))], tol=dict(ulps=4), special=True)

for _dt in ("s8", "s32", "s64", "u8", "u32"):
    case(f"int_unary_{_dt}", lambda b, p: [b.emit(op, (p,)) for op in ("neg", "abs", "sign", "not", "copy")],
         [(_dt, (5, 13))], special=True)

BINARY = ("add", "sub", "mul", "div", "rem", "pow", "max", "min")
DIRECTIONS = ("EQ", "NE", "LT", "LE", "GT", "GE")


def _binary_args(dt, dims):
    def make(rng):
        x, y = random_array(rng, dt, dims, True), random_array(rng, dt, dims, True)
        if np.dtype(x.dtype).kind in "iu" and x.size >= 5:
            y.reshape(-1)[:3] = 0
            if np.dtype(x.dtype).kind == "i":
                x.reshape(-1)[3:5] = np.iinfo(x.dtype).min
                y.reshape(-1)[3:5] = -1
        return [x, y]
    return make


for _dt in ("f32", "f64", "s8", "s32", "s64", "u8", "u32"):
    _ops = BINARY + (("and", "or") if _dt[0] in "su" else ())
    case(f"binary_{_dt}",
         lambda b, p, q, _ops=_ops: [b.emit(op, (p, q)) for op in _ops] + [b.compare(p, q, d) for d in DIRECTIONS],
         [(_dt, (3, 17)), (_dt, (3, 17))], tol=dict(ulps=4), args=_binary_args(_dt, (3, 17)))

case("bool_ops", lambda b, p, q, r: [b.emit(op, (p, q)) for op in ("and", "or", "max", "min")]
     + [b.emit("not", (p,)), b.emit("select", (r, p, q))] + [b.compare(p, q, d) for d in ("EQ", "NE", "LT", "GE")],
     [("pred", (4, 9))] * 3)

for _dt in ("f32", "s32", "u8"):
    case(f"select_clamp_{_dt}", lambda b, c, p, q, lo, hi, ls, hs: [
        b.emit("select", (c, p, q)), b.emit("clamp", (lo, p, hi)), b.emit("clamp", (ls, p, hs))],
        [("pred", (6, 11)), (_dt, (6, 11)), (_dt, (6, 11)), (_dt, (6, 11)), (_dt, (6, 11)), (_dt, ()), (_dt, ())])

ALL_DTYPES = ["f32", "f64", "s8", "s32", "s64", "u8", "u32", "pred"]


def _convert_args(src):
    def make(rng):
        x = random_array(rng, src, (41,), True)
        if src in ("f32", "f64"):
            x[:12] = [np.nan, np.inf, -np.inf, 3e9, -3e9, 1e19, -1e19, 2.0 ** 31, -(2.0 ** 31), 255.9, -0.7, 256.0]
        return [x]
    return make


for _src in ALL_DTYPES:
    case(f"convert_from_{_src}", lambda b, p: [b.emit("convert", (p,), dtype=d) for d in ALL_DTYPES],
         [(_src, (41,))], args=_convert_args(_src))

# leaves ----------------------------------------------------------------------------------------------
case("iota_constants", lambda b, p: [
    b.iota("f32", (3, 5), 1), b.iota("s64", (4, 2), 0), b.iota("u8", (300,), 0),
    b.emit("add", (p, b.constant(np.arange(15, dtype=np.float32).reshape(3, 5)))),
    b.emit("mul", (p, b.constant(np.full((3, 5), 2.5, np.float32)))),
    b.emit("add", (p, b.broadcast_in_dim(b.scalar(-1.5, "f32"), (3, 5), ()))),
    b.constant(np.array([[1, 2], [3, 4]], np.int32)), b.constant(np.array([True, False]))],
    [("f32", (3, 5))])


def _rng(dist, dt, dims, key):
    return lambda b, c: [b.emit("rng", (c,), Shape(dtypes.as_dtype(dt), dims), distribution=dist, key=key)]


CASES.append(Case("rng_uniform", lambda: module_from(
    lambda b, c: _rng("uniform", "f32", (7, 33), (0x12345678, 0x9ABCDEF0))(b, c)
    + _rng("uniform", "f64", (1000,), (1, 2))(b, c) + _rng("uniform", "f32", (0,), (3, 4))(b, c), [("s64", ())]),
    lambda rng: [np.int64(2 ** 33 + 5)]))
CASES.append(Case("rng_normal", lambda: module_from(
    lambda b, c: _rng("normal", "f32", (4099,), (7, 11))(b, c)
    + _rng("truncated_normal", "f32", (3, 5, 7), (5, 6))(b, c), [("s64", ())]),
    lambda rng: [np.int64(3)], dict(rtol=1e-5, atol=1e-6)))

# shape ops -------------------------------------------------------------------------------------------
case("shape_ops", lambda b, p: [
    b.broadcast_in_dim(p, (2, 4, 6, 5), (1, 2, 3)),
    b.reshape(p, (6, 20)), b.reshape(p, (1, 4, 1, 6, 5, 1)),
    b.transpose(p, (2, 0, 1)),
    b.emit("slice", (p,), start_indices=(1, 0, 1), limit_indices=(4, 6, 5), strides=(2, 3, 1)),
    b.emit("reverse", (p,), dimensions=(0, 2)),
    b.emit("pad", (p, b.scalar(9.0, "f32")), low=(1, -2, 0), high=(0, 3, 2), interior=(1, 0, 2)),
    b.emit("concatenate", (p, p, b.emit("slice", (p,), start_indices=(0, 0, 0), limit_indices=(4, 6, 0),
                                        strides=(1, 1, 1))), dimension=2),
    b.emit("concatenate", (p,), dimension=0)],
    [("f32", (4, 6, 5))])
case("broadcast_size_one", lambda b, p: [b.broadcast_in_dim(p, (3, 7, 4), (0, 1))], [("s32", (1, 7))])


def _gather_args(rng):
    x = random_array(rng, "f32", (5, 7, 3))
    idx = np.array([[0, 6, -3], [100, 2, 6]], np.int32)
    idx64 = np.array([4, -1, 0, 9], np.int64)
    return [x, idx, idx64]


case("gather", lambda b, x, i, j: [b.emit("gather", (x, i), axis=1), b.emit("gather", (x, j), axis=0),
                                   b.emit("gather", (x, j), axis=2)],
     [("f32", (5, 7, 3)), ("s32", (2, 3)), ("s64", (4,))], args=_gather_args)


def _scatter_args(rng):
    x = random_array(rng, "f32", (6, 4))
    idx = np.array([[1, 1, 5], [-1, 6, 1]], np.int32)
    upd = random_array(rng, "f32", (2, 3, 4))
    xi = random_array(rng, "s32", (3, 9))
    idx2 = np.array([8, 0, 8, 8, 3], np.int64)
    updi = random_array(rng, "s32", (3, 5))
    return [x, idx, upd, xi, idx2, updi]


case("scatter_add", lambda b, x, i, u, xi, j, ui: [b.emit("scatter_add", (x, i, u), axis=0),
                                                   b.emit("scatter_add", (xi, j, ui), axis=1)],
     [("f32", (6, 4)), ("s32", (2, 3)), ("f32", (2, 3, 4)), ("s32", (3, 9)), ("s64", (5,)), ("s32", (3, 5))],
     args=_scatter_args)


# Few columns, many updates: a block per column adding with atomics (scatter.py), the rest per-column threads.
def _atomic_scatter_args(rng):
    x1 = random_array(rng, "f32", (37,))
    i1 = rng.integers(-5, 43, 500).astype(np.int32)            # repeated, and out of range on both sides
    u1 = random_array(rng, "f32", (500,))
    x2 = random_array(rng, "f64", (1,))
    i2 = np.where(rng.random(300) < 0.5, 0, rng.integers(-2, 3, 300)).astype(np.int64)
    u2 = random_array(rng, "f64", (300,))
    x3 = random_array(rng, "s32", (50, 3), special=True)
    i3 = rng.integers(-3, 54, (2, 100)).astype(np.int32)
    u3 = random_array(rng, "s32", (2, 100, 3), special=True)   # INT_MIN/INT_MAX: the sums wrap
    x4 = random_array(rng, "s64", (4, 9), special=True)
    i4 = rng.integers(-1, 10, 130).astype(np.int64)
    u4 = random_array(rng, "s64", (4, 130), special=True)
    x5 = random_array(rng, "u32", (5,))
    i5 = rng.integers(0, 6, 64).astype(np.int32)               # exactly ATOMIC_MIN_UPDATES
    u5 = random_array(rng, "u32", (64,), special=True)
    x6 = random_array(rng, "s32", (6,))
    i6 = rng.integers(-1, 7, 63).astype(np.int32)              # one update short: per-column threads
    u6 = random_array(rng, "s32", (63,))
    return [x1, i1, u1, x2, i2, u2, x3, i3, u3, x4, i4, u4, x5, i5, u5, x6, i6, u6]


case("scatter_add_few_columns",
     lambda b, *p: [b.emit("scatter_add", tuple(p[k:k + 3]), axis=ax) for k, ax in zip(range(0, 18, 3),
                                                                                      (0, 0, 0, 1, 0, 0))],
     [("f32", (37,)), ("s32", (500,)), ("f32", (500,)), ("f64", (1,)), ("s64", (300,)), ("f64", (300,)),
      ("s32", (50, 3)), ("s32", (2, 100)), ("s32", (2, 100, 3)), ("s64", (4, 9)), ("s64", (130,)), ("s64", (4, 130)),
      ("u32", (5,)), ("s32", (64,)), ("u32", (64,)), ("s32", (6,)), ("s32", (63,)), ("s32", (63,))],
     tol=dict(rtol=1e-5, atol=1e-5), args=_atomic_scatter_args)

def _contended_scatter_args(rng):
    idx = rng.integers(-1, 4, 200001).astype(np.int32)
    ints = rng.integers(-100, 101, 200001).astype(np.int32)
    return [rng.integers(-9, 10, 3).astype(np.int32), idx, ints, np.zeros(3, np.float32), idx,
            ints.astype(np.float32)]


# Every thread of the block hits the same three elements: a non-atomic add would lose updates (exact sums).
case("scatter_add_contended", lambda b, x, i, u, y, j, v: [b.emit("scatter_add", (x, i, u), axis=0),
                                                         b.emit("scatter_add", (y, j, v), axis=0)],
     [("s32", (3,)), ("s32", (200001,)), ("s32", (200001,)), ("f32", (3,)), ("s32", (200001,)),
      ("f32", (200001,))], args=_contended_scatter_args)


def _dynamic_slices(b, x, xi, i, j, k, u, one, ui):
    """Windows of size 0, 1, odd and whole at run-time starts, fused and not, over f32 and s32 operands."""
    def ds(operand, starts, sizes):
        return b.emit("dynamic_slice", (operand, *starts), dynamic_slice_sizes=sizes)

    def dus(operand, update, starts):
        return b.emit("dynamic_update_slice", (operand, update, *starts))
    empty = b.emit("slice", (u,), start_indices=(0, 0), limit_indices=(0, 17), strides=(1, 1))
    return [ds(x, (i, j), (0, 5)), ds(x, (i, j), (1, 33)), ds(x, (i, j), (7, 17)), ds(x, (i, j), (3, 1)),
            b.emit("exp", (ds(b.emit("neg", (x,)), (j, i), (5, 31)),)), ds(xi, (k,), (3,)),
            dus(x, u, (i, j)), dus(x, one, (j, i)), dus(x, empty, (i, j)), dus(x, x, (i, j)), dus(xi, ui, (k,)),
            b.emit("add", (dus(b.emit("neg", (x,)), b.emit("exp", (u,)), (i, j)), x))]


def _dynamic_args(starts, index_dtype):
    def make(rng):
        return [random_array(rng, "f32", (7, 33)), random_array(rng, "s32", (5,), special=True),
                *[np.asarray(s, dtypes.as_dtype(index_dtype).np) for s in starts],
                random_array(rng, "f32", (2, 17)), random_array(rng, "f32", (1, 1)), random_array(rng, "s32", (3,))]
    return make


# Starts in range, negative, past the end, and beyond s32: every backend clamps them so the window fits.
for _name, _dt, _starts in (("in_range", "s32", (2, 9, 1)), ("negative", "s32", (-3, -40, -1)),
                            ("past_end", "s32", (100, 31, 5)), ("s64_huge", "s64", (2 ** 40, -2 ** 40, 2 ** 62))):
    case(f"dynamic_slices_{_name}", _dynamic_slices,
         [("f32", (7, 33)), ("s32", (5,))] + [(_dt, ())] * 3 + [("f32", (2, 17)), ("f32", (1, 1)), ("s32", (3,))],
         tol=dict(rtol=1e-6, atol=1e-6), args=_dynamic_args(_starts, _dt))

text_case("bitcast_layouts", """
ENTRY %main {
  %p = f32[3,4]{1,0} parameter(0)
  %t = f32[4,3]{0,1} bitcast(%p)
  %e = f32[4,3]{0,1} exp(%t)
  %r = f32[4,3]{1,0} copy(%e)
  %s = f32[3] reduce(%e), kind=sum, dimensions={0}
  %q = f32[12]{0} bitcast(%p)
  ROOT %out = (f32[4,3]{1,0}, f32[3]{0}, f32[12]{0}) tuple(%r, %s, %q)
}""", _args(("f32", (3, 4))), dict(ulps=4))


# reductions ---------------------------------------------------------------------------------------------
def _reductions(dt, dims):
    def build(b, p):
        outs = []
        kinds = ("sum", "prod", "max", "min") if dt != "pred" else ("and", "or")
        for kind in kinds:
            outs += [b.reduce(p, kind, (1,)), b.reduce(p, kind, (0,)), b.reduce(p, kind, (0, 1))]
        return outs
    return build


for _dt, _dims in (("f32", (5, 300)), ("f32", (70, 3)), ("f64", (3, 65)), ("s32", (4, 40)), ("s8", (3, 100)),
                   ("u32", (2, 7)), ("s64", (33, 50)), ("pred", (3, 100)), ("f32", (0, 40)), ("f32", (2, 0))):
    case(f"reduce_{_dt}_{_dims[0]}x{_dims[1]}", _reductions(_dt, _dims), [(_dt, _dims)],
         tol=dict(rtol=1e-5, atol=1e-5), special=_dt != "f32" or _dims == (5, 300))


def _argmax_args(dt, dims):
    def make(rng):
        x = random_array(rng, dt, dims)
        if dt == "f32" and x.size:
            x[0, :3] = [np.nan, 1.0, np.nan]
            x[1, :] = 2.0
            x[2, 5] = np.nan
        return [x]
    return make


for _dt, _dims in (("f32", (4, 100)), ("f32", (5, 7)), ("s32", (3, 64)), ("u8", (40, 3))):
    case(f"argmax_{_dt}_{_dims[1]}", lambda b, p: [
        b.emit("argmax", (p,), dimension=1), b.emit("argmin", (p,), dimension=1, index_dtype="s32"),
        b.emit("argmax", (p,), dimension=0, index_dtype="s32"), b.emit("argmin", (p,), dimension=0)],
        [(_dt, _dims)], args=_argmax_args(_dt, _dims))


# Long rows of few outputs are split over several blocks (reductions.py's "last block finishes"). The values make
# every result exact in any order (integers, integer-valued floats, powers of two), so a partial lost, counted
# twice or combined out of order fails; extremes and ties sit in late blocks and at the tails.
def _big_args(n, rows=1):
    def make(rng):
        ints = rng.integers(-100, 101, (rows, n)).astype(np.int32)
        floats = ints.astype(np.float32)
        floats[0, -1] = 1000.5                                   # the maximum is the very last element
        floats[-1, n // 2] = -1000.25
        powers = np.ones((rows, n), np.float32)                  # a product of powers of two never rounds
        hits = rng.choice(n, 60, replace=False)
        powers[0, hits] = np.where(np.arange(60) % 3 == 0, 0.5, 2.0)
        wrap = np.where(rng.random((rows, n)) < 0.001, rng.integers(-9, 10, (rows, n)), 1).astype(np.int32)
        ties = floats.copy()
        ties[0, [n // 3, n - 2]] = 5000.0                        # the first of two maxima, in different blocks
        ties[0, [n // 4, n - 3]] = -5000.0
        if rows > 1:
            ties[1, [n // 5, n - 4]] = np.nan                    # the first NaN wins both argmax and argmin
        return [ints, floats, powers, wrap, ties]
    return make


def _big_reductions(b, ints, floats, powers, wrap, ties):
    rank = ints.shape.rank
    last, every = (rank - 1,), tuple(range(rank))
    outs = []
    for axes in ((last, every) if rank > 1 else (every,)):
        outs += [b.reduce(ints, "sum", axes), b.reduce(floats, "sum", axes), b.reduce(floats, "max", axes),
                 b.reduce(floats, "min", axes), b.reduce(powers, "prod", axes), b.reduce(wrap, "prod", axes)]
    outs += [b.emit("argmax", (ties,), dimension=rank - 1), b.emit("argmin", (ties,), dimension=rank - 1,
                                                                   index_dtype="s32")]
    return outs


# 139999 is split over 34 blocks (more partials than a warp combines), 3 x 40009 over 9 blocks per row.
for _rows, _n in ((1, 139999), (3, 40009), (1, 8193), (2, 4097)):
    _dims = (_n,) if _rows == 1 and _n == 139999 else (_rows, _n)
    case(f"reduce_split_{_rows}x{_n}", _big_reductions, [(t, _dims) for t in ("s32", "f32", "f32", "s32", "f32")],
         args=(lambda make, dims: lambda rng: [a.reshape(dims) for a in make(rng)])(_big_args(_n, _rows), _dims))


def _columns_args(rng):
    x = rng.integers(-50, 51, (24001, 3)).astype(np.float32)
    x[-1, 2] = 900.0
    x[[10, 20000], 1] = np.nan
    return [x, rng.integers(-50, 51, (20001, 5)).astype(np.int32)]


case("reduce_split_kept_minor", lambda b, x, y: [
    b.reduce(x, "sum", (0,)), b.reduce(x, "max", (0,)), b.reduce(y, "sum", (0,)), b.reduce(y, "min", (0,)),
    b.emit("argmax", (x,), dimension=0), b.emit("argmin", (y,), dimension=0, index_dtype="s32")],
    [("f32", (24001, 3)), ("s32", (20001, 5))], args=_columns_args)
case("reduce_window", lambda b, p: [
    b.emit("reduce_window", (p,), kind="max", window=(1, 3, 3, 1), strides=(1, 2, 2, 1),
           padding=((0, 0), (1, 1), (1, 1), (0, 0))),
    b.emit("reduce_window", (p,), kind="sum", window=(1, 2, 2, 1), strides=(1, 1, 1, 1),
           padding=((0, 0), (0, 1), (0, 1), (0, 0))),
    b.emit("reduce_window", (p,), kind="min", window=(2, 1, 2, 2), strides=(1, 3, 1, 2),
           padding=((0, 0), (0, 0), (0, 0), (0, 0)))],
    [("f32", (2, 7, 6, 3))], tol=dict(rtol=1e-6, atol=1e-6))


def _sas_args(rng):
    x = random_array(rng, "f32", (2, 6, 7, 3))
    x[0, 0, :2, 0] = 1.0                  # ties: the first maximal element wins
    x[1, 2, 2, 1] = np.nan
    return [x, random_array(rng, "f32", (2, 3, 4, 3)), random_array(rng, "f32", (2, 6, 7, 3)),
            random_array(rng, "f32", (2, 6, 7, 3))]


case("select_and_scatter", lambda b, x, s, x2, s2: [
    b.emit("select_and_scatter", (x, s), window=(1, 2, 2, 1), strides=(1, 2, 2, 1),
           padding=((0, 0), (0, 0), (0, 1), (0, 0))),
    b.emit("select_and_scatter", (x2, s2), window=(1, 3, 3, 1), strides=(1, 1, 1, 1),
           padding=((0, 0), (1, 1), (1, 1), (0, 0)))],
    [("f32", (2, 6, 7, 3)), ("f32", (2, 3, 4, 3)), ("f32", (2, 6, 7, 3)), ("f32", (2, 6, 7, 3))],
    args=_sas_args, tol=dict(rtol=1e-6, atol=1e-6))


# linear algebra -------------------------------------------------------------------------------------------
def _dot(b, x, y, lb=(), rb=(), lc=(1,), rc=(0,)):
    return b.emit("dot", (x, y), lhs_batch_dims=lb, rhs_batch_dims=rb, lhs_contracting_dims=lc,
                  rhs_contracting_dims=rc)


case("dot_f32", lambda b, x, y, z, v: [_dot(b, x, y), _dot(b, x, z, lc=(1,), rc=(1,)), _dot(b, v, y, lc=(0,)),
                                       _dot(b, v, v, lc=(), rc=())],
     [("f32", (67, 130)), ("f32", (130, 70)), ("f32", (9, 130)), ("f32", (130,))], tol=dict(rtol=2e-5, atol=2e-4))
case("dot_batched", lambda b, x, y: [_dot(b, x, y, lb=(0,), rb=(0,), lc=(2,), rc=(1,)),
                                     _dot(b, x, y, lb=(0,), rb=(0,), lc=(2, 1), rc=(1, 2))],
     [("f64", (3, 5, 17)), ("f64", (3, 17, 5))], tol=dict(rtol=1e-12, atol=1e-12))
case("dot_int", lambda b, x, y: [_dot(b, x, y)], [("s32", (7, 9)), ("s32", (9, 4))], special=True)
case("dot_empty", lambda b, x, y: [_dot(b, x, y)], [("f32", (3, 0)), ("f32", (0, 4))])


def _conv(b, x, w, strides=(1, 1), padding=((0, 0), (0, 0)), lhs_dil=(1, 1), rhs_dil=(1, 1), groups=1,
          specs=((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))):
    return b.emit("convolution", (x, w), lhs_spec=specs[0], rhs_spec=specs[1], out_spec=specs[2],
                  window_strides=strides, padding=padding, lhs_dilation=lhs_dil, rhs_dilation=rhs_dil,
                  feature_group_count=groups)


case("convolution", lambda b, x, w, wg: [
    _conv(b, x, w, padding=((2, 2), (2, 2))),
    _conv(b, x, w, strides=(2, 1), padding=((1, 0), (0, 2)), rhs_dil=(1, 2)),
    _conv(b, x, w, lhs_dil=(2, 2), padding=((4, 4), (4, 4))),
    _conv(b, x, wg, groups=2, padding=((1, 1), (0, 0)))],
    [("f32", (2, 9, 8, 4)), ("f32", (5, 5, 4, 6)), ("f32", (3, 3, 2, 6))], tol=dict(rtol=1e-5, atol=1e-4))
case("convolution_1d_nchw", lambda b, x, w: [
    b.emit("convolution", (x, w), lhs_spec=(0, 1, 2), rhs_spec=(0, 1, 2), out_spec=(0, 1, 2),
           window_strides=(3,), padding=((1, 2),))],
    [("f64", (2, 3, 20)), ("f64", (5, 3, 4))], tol=dict(rtol=1e-12, atol=1e-12))

# structure ---------------------------------------------------------------------------------------------------
WHILE = """
%cond {
  %s = (s32[], f32[5]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %n = s32[] constant(10)
  ROOT %lt = pred[] compare(%i, %n), direction=LT
}
%body {
  %s = (s32[], f32[5]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %x = f32[5] get_tuple_element(%s), index=1
  %one = s32[] constant(1)
  %i2 = s32[] add(%i, %one)
  %h = f32[] constant(0.5)
  %hb = f32[5] broadcast_in_dim(%h), dimensions={}
  %x2 = f32[5] mul(%x, %hb)
  %f = f32[] convert(%i2), dtype=f32
  %fb = f32[5] broadcast_in_dim(%f), dimensions={}
  %x3 = f32[5] add(%x2, %fb)
  ROOT %t = (s32[], f32[5]) tuple(%i2, %x3)
}
ENTRY %main {
  %x0 = f32[5] parameter(0)
  %z = s32[] constant(0)
  %init = (s32[], f32[5]) tuple(%z, %x0)
  %w = (s32[], f32[5]) while(%init), calls={%cond, %body}
  %n = s32[] get_tuple_element(%w), index=0
  %r = f32[5] get_tuple_element(%w), index=1
  ROOT %out = (s32[], f32[5], f32[5]) tuple(%n, %r, %x0)
}
"""
text_case("while", WHILE, _args(("f32", (5,))), dict(rtol=1e-6))

SWAP = """
%cond {
  %s = (s32[], s32[3], s32[3]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %n = s32[] constant(3)
  ROOT %lt = pred[] compare(%i, %n), direction=LT
}
%body {
  %s = (s32[], s32[3], s32[3]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %a = s32[3] get_tuple_element(%s), index=1
  %b = s32[3] get_tuple_element(%s), index=2
  %one = s32[] constant(1)
  %i2 = s32[] add(%i, %one)
  ROOT %t = (s32[], s32[3], s32[3]) tuple(%i2, %b, %a)
}
ENTRY %main {
  %a = s32[3] parameter(0)
  %b = s32[3] parameter(1)
  %z = s32[] constant(0)
  %init = (s32[], s32[3], s32[3]) tuple(%z, %a, %b)
  %w = (s32[], s32[3], s32[3]) while(%init), calls={%cond, %body}
  %ra = s32[3] get_tuple_element(%w), index=1
  %rb = s32[3] get_tuple_element(%w), index=2
  ROOT %out = (s32[3], s32[3]) tuple(%ra, %rb)
}"""
text_case("while_swapping_state", SWAP, _args(("s32", (3,)), ("s32", (3,))))

# The state's arrays swap through bitcasts: each bitcast aliases a state leaf, so the new state stages one.
BITCAST_STATE = """
%cond {
  %s = (s32[], f32[2,3]{1,0}, f32[6]{0}) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %n = s32[] constant(3)
  ROOT %lt = pred[] compare(%i, %n), direction=LT
}
%body {
  %s = (s32[], f32[2,3]{1,0}, f32[6]{0}) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %a = f32[2,3]{1,0} get_tuple_element(%s), index=1
  %b = f32[6]{0} get_tuple_element(%s), index=2
  %one = s32[] constant(1)
  %i2 = s32[] add(%i, %one)
  %a6 = f32[6]{0} bitcast(%a)
  %b23 = f32[2,3]{1,0} bitcast(%b)
  %nb = f32[2,3]{1,0} neg(%b23)
  ROOT %t = (s32[], f32[2,3]{1,0}, f32[6]{0}) tuple(%i2, %nb, %a6)
}
ENTRY %main {
  %a = f32[2,3]{1,0} parameter(0)
  %b = f32[6]{0} parameter(1)
  %z = s32[] constant(0)
  %init = (s32[], f32[2,3]{1,0}, f32[6]{0}) tuple(%z, %a, %b)
  %w = (s32[], f32[2,3]{1,0}, f32[6]{0}) while(%init), calls={%cond, %body}
  %ra = f32[2,3]{1,0} get_tuple_element(%w), index=1
  %rb = f32[6]{0} get_tuple_element(%w), index=2
  ROOT %out = (f32[2,3]{1,0}, f32[6]{0}) tuple(%ra, %rb)
}"""
text_case("while_bitcast_state", BITCAST_STATE, _args(("f32", (2, 3)), ("f32", (6,))))

# Rows written into a loop-carried buffer (in place: only the window is stored) at clamped starts 3*i - 4;
# with OLD = %buf the old buffer is read after the write, so the write must not go in place.
ROW_WRITES = """
%cond {
  %s = (s32[], f32[6,5]{1,0}, f32[6,5]{1,0}) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %n = s32[] constant(4)
  ROOT %lt = pred[] compare(%i, %n), direction=LT
}
%body {
  %s = (s32[], f32[6,5]{1,0}, f32[6,5]{1,0}) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %buf = f32[6,5]{1,0} get_tuple_element(%s), index=1
  %keep = f32[6,5]{1,0} get_tuple_element(%s), index=2
  %one = s32[] constant(1)
  %i2 = s32[] add(%i, %one)
  %fi = f32[] convert(%i2), dtype=f32
  %row = f32[1,5]{1,0} broadcast_in_dim(%fi), dimensions={}
  %three = s32[] constant(3)
  %four = s32[] constant(4)
  %m = s32[] mul(%i, %three)
  %start = s32[] sub(%m, %four)
  %zero = s32[] constant(0)
  %new = f32[6,5]{1,0} dynamic_update_slice(%buf, %row, %start, %zero)
  %old = f32[6,5]{1,0} neg(OLD)
  ROOT %t = (s32[], f32[6,5]{1,0}, f32[6,5]{1,0}) tuple(%i2, %new, %old)
}
ENTRY %main {
  %x0 = f32[6,5]{1,0} parameter(0)
  %z = s32[] constant(0)
  %init = (s32[], f32[6,5]{1,0}, f32[6,5]{1,0}) tuple(%z, %x0, %x0)
  %w = (s32[], f32[6,5]{1,0}, f32[6,5]{1,0}) while(%init), calls={%cond, %body}
  %r = f32[6,5]{1,0} get_tuple_element(%w), index=1
  %k = f32[6,5]{1,0} get_tuple_element(%w), index=2
  ROOT %out = (f32[6,5]{1,0}, f32[6,5]{1,0}, f32[6,5]{1,0}) tuple(%r, %k, %x0)
}"""
text_case("while_row_writes", ROW_WRITES.replace("OLD", "%keep"), _args(("f32", (6, 5))))
text_case("while_row_writes_old_read", ROW_WRITES.replace("OLD", "%buf"), _args(("f32", (6, 5))))
text_case("while_row_sums", ROW_WRITES.replace("OLD", "%keep").replace(
    "%new = f32[6,5]{1,0} dynamic_update_slice(%buf, %row, %start, %zero)",
    "%at = s32[1]{0} reshape(%start)\n  %new = f32[6,5]{1,0} scatter_add(%buf, %at, %row), axis=0"),
    _args(("f32", (6, 5))), dict(rtol=1e-6))

COND = """
%yes {
  %p = (f32[4], f32[4]) parameter(0)
  %a = f32[4] get_tuple_element(%p), index=0
  %b = f32[4] get_tuple_element(%p), index=1
  ROOT %r = f32[4] add(%a, %b)
}
%no {
  %p = f32[4] parameter(0)
  ROOT %r = f32[4] neg(%p)
}
ENTRY %main {
  %c = SEL parameter(0)
  %x = f32[4] parameter(1)
  %y = f32[4] parameter(2)
  %t = (f32[4], f32[4]) tuple(%x, %y)
  %k = f32[4] conditional(%c, %t, %y), calls={%yes, %no}
  ROOT %out = (f32[4]) tuple(%k)
}"""
for _sel, _value in (("pred[]", True), ("pred[]", False), ("s32[]", 0), ("s32[]", 1), ("s32[]", 7), ("s32[]", -1)):
    text_case(f"conditional_{_sel[:4]}_{_value}", COND.replace("SEL", _sel),
              lambda rng, _sel=_sel, _value=_value: [np.asarray(_value, np.bool_ if _sel == "pred[]" else np.int32),
                                                      random_array(rng, "f32", (4,)), random_array(rng, "f32", (4,))])

FUSED_BY_HAND = """
%fused {
  %p0 = f32[6,4] parameter(0)
  %p1 = s32[3] parameter(1)
  %p2 = f32[3,4] parameter(2)
  %s = f32[6,4] scatter_add(%p0, %p1, %p2), axis=0
  %t = f32[6,4] tanh(%s)
  ROOT %r = (f32[6,4], f32[6,4]) tuple(%t, %s)
}
ENTRY %main {
  %x = f32[6,4] parameter(0)
  %i = s32[3] parameter(1)
  %u = f32[3,4] parameter(2)
  %f = (f32[6,4], f32[6,4]) fusion(%x, %i, %u), kind=loop, calls={%fused}
  %a = f32[6,4] get_tuple_element(%f), index=0
  %b = f32[6,4] get_tuple_element(%f), index=1
  ROOT %out = (f32[6,4], f32[6,4]) tuple(%a, %b)
}"""
text_case("fusion_run_op_by_op", FUSED_BY_HAND,
          lambda rng: [random_array(rng, "f32", (6, 4)), np.array([5, -1, 5], np.int32),
                       random_array(rng, "f32", (3, 4))], dict(ulps=4))

# fusion shapes the pipeline makes: an MLP layer, softmax, a training step's update in place --------------------
case("mlp_layer", lambda b, x, w, bias: [b.emit("max", (
    b.emit("add", (_dot(b, x, w), b.broadcast_in_dim(bias, (33, 70), (1,)))),
    b.broadcast_in_dim(b.scalar(0.0, "f32"), (33, 70), ())))],
    [("f32", (33, 130)), ("f32", (130, 70)), ("f32", (70,))], tol=dict(rtol=2e-5, atol=2e-4))


def _softmax(b, x):
    m = b.reduce(x, "max", (1,))
    e = b.emit("exp", (b.emit("sub", (x, b.broadcast_in_dim(m, x.shape.dims, (0,)))),))
    s = b.reduce(e, "sum", (1,))
    return [b.emit("div", (e, b.broadcast_in_dim(s, x.shape.dims, (0,))))]


case("softmax", _softmax, [("f32", (37, 1000))], tol=dict(rtol=1e-5, atol=1e-7))


def _sgd_module():
    m = module_from(lambda b, w, x, g: [b.emit("sub", (w, b.emit("mul", (
        b.broadcast_in_dim(b.scalar(0.01, "f32"), (40, 24), ()), _dot(b, x, g, lc=(0,), rc=(0,))))))],
        [("f32", (40, 24)), ("f32", (16, 40)), ("f32", (16, 24))])
    m.output_aliases = {0: 0}
    return m


CASES.append(Case("sgd_update_in_place", _sgd_module, _args(("f32", (40, 24)), ("f32", (16, 40)), ("f32", (16, 24))),
                  dict(rtol=1e-5, atol=1e-5)))


# random graphs ---------------------------------------------------------------------------------------------
_UNARY_SAFE = ("neg", "abs", "exp", "tanh", "logistic", "sin", "cos")   # continuous: no flips at rounding
_BINARY_SAFE = ("add", "sub", "mul", "max", "min", "div")


def random_module(rng: np.random.Generator) -> tuple[Module, list]:
    """A random f32 graph of elementwise ops, broadcasts, reductions, transposes, slices, concatenations and
    dots over 1-3 parameters, returning 1-3 of its values (what fusion and the kernels see in real graphs)."""
    b = Builder()
    sizes = (1, 3, 17, 40)
    params = []
    pool = []
    for _ in range(int(rng.integers(1, 4))):
        dims = (int(rng.choice(sizes)), int(rng.choice(sizes)))
        p = b.parameter(Shape(dtypes.float32, dims))
        params.append(p)
        pool.append(p)

    def pick(dims=None):
        options = [v for v in pool if dims is None or v.shape.dims == dims]
        return options[int(rng.integers(len(options)))] if options else None

    for _ in range(int(rng.integers(3, 10))):
        x = pick()
        m, n = x.shape.dims
        kind = rng.choice(["unary", "binary", "binary", "reduce", "dot", "transpose", "slice", "concat", "select"])
        if kind == "unary":
            op = str(rng.choice(_UNARY_SAFE))
            v = b.emit(op, (b.emit("tanh", (x,)),)) if op in ("exp",) else b.emit(op, (x,))
        elif kind == "binary":
            y = pick((m, n))
            if rng.random() < 0.3:
                axis = int(rng.integers(2))
                y = b.broadcast_in_dim(b.reduce(pick((m, n)), "max", (axis,)), (m, n), (1 - axis,))
            v = b.emit(str(rng.choice(_BINARY_SAFE)), (x, y))
        elif kind == "reduce":
            axis = int(rng.integers(2))
            r = b.reduce(x, str(rng.choice(["sum", "max", "min"])), (axis,))
            v = b.broadcast_in_dim(r, (m, n), (1 - axis,))
        elif kind == "dot":
            k = int(rng.choice(sizes))
            w = b.parameter(Shape(dtypes.float32, (n, k)))
            params.append(w)
            v = b.emit("dot", (x, w), lhs_batch_dims=(), rhs_batch_dims=(), lhs_contracting_dims=(1,),
                       rhs_contracting_dims=(0,))
        elif kind == "transpose":
            v = b.transpose(x, (1, 0))
        elif kind == "slice" and m > 2:
            v = b.emit("slice", (x,), start_indices=(1, 0), limit_indices=(m, n), strides=(2, 1))
        elif kind == "concat":
            v = b.emit("concatenate", (x, pick((m, n))), dimension=int(rng.integers(2)))
        else:
            c = b.compare(x, pick((m, n)), "GT")
            v = b.emit("select", (c, x, b.emit("neg", (x,))))
        pool.append(v)
    outs = [pool[-1]] + [pick() for _ in range(int(rng.integers(0, 3)))]
    b.computation.root = b.tuple(outs)
    m = Module("random", b.computation)
    m.add_computation(b.computation)
    return m, [p.shape.dims for p in params]


def random_cases(count: int, seed: int = 0) -> list[Case]:
    cases = []
    for k in range(count):
        def build(k=k):
            return random_module(np.random.default_rng([seed, k]))[0]
        dims = random_module(np.random.default_rng([seed, k]))[1]
        cases.append(Case(f"random_{seed}_{k}", build,
                          lambda rng, dims=dims: [random_array(rng, "f32", d) for d in dims],
                          dict(rtol=1e-4, atol=1e-4)))
    return cases


def assert_same(got, ref, rtol=0.0, atol=0.0, ulps=0, what=""):
    """Equal dtype and shape; integers and bools exactly, floats within tolerance with NaN and inf
    in the same places."""
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape and got.dtype == ref.dtype, \
        f"{what}: {got.dtype}{got.shape} vs {ref.dtype}{ref.shape}"
    if ref.dtype.kind != "f":
        np.testing.assert_array_equal(got, ref, err_msg=what)
        return
    nan_ref = np.isnan(ref)
    np.testing.assert_array_equal(np.isnan(got), nan_ref, err_msg=f"{what}: NaN positions")
    g, r = got[~nan_ref], ref[~nan_ref]
    inf = np.isinf(r)
    np.testing.assert_array_equal(g[inf], r[inf], err_msg=f"{what}: infinities")
    g, r = g[~inf], r[~inf]
    tol = atol + rtol * np.abs(r)
    if ulps:
        tol = np.maximum(tol, ulps * np.spacing(np.abs(r).astype(ref.dtype)))
    bad = ~(np.abs(g.astype(np.float64) - r.astype(np.float64)) <= tol)
    if bad.any():
        i = np.argmax(bad)
        raise AssertionError(f"{what}: {bad.sum()} of {bad.size} differ, first {g[i]!r} vs {r[i]!r}")


def check_case(c: Case, module: Module, executable, what: str = "") -> list:
    """Runs `executable` (compiled from `module`, a fresh build of case c) against the interpreter."""
    from xlite.semantics.eval_rules import evaluate_module
    args = c.args(np.random.default_rng(0))
    ref = [np.asarray(r) for r in evaluate_module(c.build(), [np.copy(a) for a in args])]
    got = [np.asarray(g) for g in executable.run([np.copy(a) for a in args])]
    assert len(got) == len(ref)
    for i, (g, r) in enumerate(zip(got, ref)):
        assert_same(g, r, what=f"{c.name} {what} output {i}", **c.tol)
    return got


def _self_update_module():
    """w <- w - 0.01 * dot(w, h): in place, the dot reads the buffer the update overwrites."""
    m = module_from(lambda b, w, h: [b.emit("sub", (w, b.emit("mul", (
        b.broadcast_in_dim(b.scalar(0.01, "f32"), (24, 24), ()), _dot(b, w, h)))))],
        [("f32", (24, 24)), ("f32", (24, 24))])
    m.output_aliases = {0: 0}
    return m


CASES.append(Case("update_reading_itself_in_place", _self_update_module, _args(("f32", (24, 24)), ("f32", (24, 24))),
                  dict(rtol=1e-5, atol=1e-5)))


# collectives: host-staged steps; in the world of one process a test runs in, the identity ------------------
for _n in (0, 7):
    case(f"collectives_{_n}", lambda b, x: [b.emit("all_reduce", (x,), kind="mean"), b.emit("all_reduce", (x,), kind="max"),
                                            b.emit("all_gather", (b.emit("exp", (x,)),), replicas=1),
                                            b.emit("collective_broadcast", (x,), root=0)], [("f32", (_n, 5))],
         tol=dict(ulps=2))


# Python host calls: host-staged steps between launches (xlite/codegen/cuda/host_calls.py) -------------------
def _host_case_key() -> int:
    from xlite.semantics.host_calls import register
    return register(lambda a, c: [np.tanh(a) * c[:1], (a > 1).astype(np.int32)], "PyFunc")


_HOST_KEY = _host_case_key()


def _host_calls(b, x, c):
    """Both outputs of one call on a kernel's result; output 1 reads output 0 first."""
    e = b.emit("exp", (x,))
    first = b.emit("host_call", (e, c), Shape(dtypes.float32, x.shape.dims), key=_HOST_KEY, output=0, args=2)
    return [first, b.emit("host_call", (e, c, first), Shape(dtypes.int32, x.shape.dims), key=_HOST_KEY, output=1,
                          args=2)]


for _n in (0, 1, 7):
    case(f"host_call_{_n}", _host_calls, [("f32", (_n, 5)), ("f32", (3,))], tol=dict(ulps=2))


def covered_opcodes() -> set:
    """Every opcode some case's module uses (raw or optimized)."""
    used = set()
    for c in CASES:
        for module in (c.build(), optimized(c.build()).module):
            for comp in module.all_computations():
                used.update(i.opcode for i in comp.instructions)
    return used


__all__ = ["CASES", "Case", "random_cases", "random_module", "module_from", "optimized", "as_written", "random_array",
           "OPCODES",
           "covered_opcodes", "assert_same",
           "check_case"]
