"""Every opcode through evaluate_module, against NumPy or naive loops written here, on awkward shapes."""
import itertools
import math
import sys

import numpy as np
import pytest

from xlite import errors
from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.module import Computation, Module
from xlite.ir.opcodes import OPCODES
from xlite.ir.shape import Layout, Shape, TupleShape
from xlite.ir.verifier import verify_module
from xlite.semantics import philox
from xlite.semantics.eval_rules import evaluate_module

_EVALUATED: set[str] = set()
SIZES = [(0,), (1,), (7,), (3, 5), (2, 0, 3)]
FLOATS = [np.float32, np.float64]
INTS = [np.int32, np.int64]


def rng(seed=0):
    return np.random.default_rng(seed)


def shape_of(x, layout=None):
    x = np.asarray(x)
    return Shape(dtypes.as_dtype(x.dtype), x.shape, layout)


def build_module(build, arg_shapes, subs=()):
    b = Builder(Computation("main"))
    params = [b.parameter(s) for s in arg_shapes]
    b.computation.root = build(b, *params)
    module = Module("test", b.computation)
    for comp in list(subs) + [b.computation]:
        module.add_computation(comp)
    verify_module(module)
    for comp in module.all_computations():
        _EVALUATED.update(i.opcode for i in comp.instructions)
    return module


def run(build, *args, subs=()):
    """Builds `build(b, *params)` over parameters shaped like args, verifies it and evaluates it."""
    args = [np.asarray(a) for a in args]
    module = build_module(build, [shape_of(a) for a in args], subs)
    return evaluate_module(module, args)


def sub(name, param_shapes, build):
    """A sub-computation with the given parameters, its root `build(b, *params)`."""
    b = Builder(Computation(name))
    params = [b.parameter(s) for s in param_shapes]
    b.computation.root = build(b, *params)
    return b.computation


def check(got, want, dtype=None, **tol):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == (want.dtype if dtype is None else np.dtype(dtype)), (got.dtype, want.dtype)
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, want, **(tol or {"rtol": 2e-6 if got.dtype == np.float32 else 1e-13}))
    else:
        np.testing.assert_array_equal(got, want)


def random_array(shape, dtype, seed=0, low=-10, high=10):
    r = rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return r.random(shape) < 0.5
    if dtype.kind == "f":
        return r.uniform(low, high, shape).astype(dtype)
    return r.integers(low, high, shape, endpoint=True).astype(dtype)


# leaves ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (2, 3)])
def test_constant_and_parameter(dtype, shape):
    value = random_array(shape, dtype, seed=3)
    got = run(lambda b, p: b.tuple([b.constant(value), p]), value)
    check(got[0], value)
    check(got[1], value)


@pytest.mark.parametrize("dtype", [dtypes.int32, dtypes.int64, dtypes.float32])
@pytest.mark.parametrize("dims,dim", [((5,), 0), ((2, 0, 3), 2), ((3, 4, 1), 1), ((1, 2), 0)])
def test_iota(dtype, dims, dim):
    got = run(lambda b: b.iota(dtype, dims, dim))
    want = np.zeros(dims, dtype.np)
    for index in np.ndindex(*dims):
        want[index] = index[dim]
    check(got, want)


def test_rng_follows_the_philox_definition_and_the_run_counter():
    key = (0x12345678, 0x9ABCDEF0)
    for dist in ("uniform", "normal", "truncated_normal"):
        for counter in (0, 1, 2 ** 40):
            got = run(lambda b, c: b.emit("rng", (c,), Shape(dtypes.float32, (3, 5)), distribution=dist, key=key),
                      np.int64(counter))
            words = philox.random_words(15, key, counter)
            assert got.shape == (3, 5) and got.dtype == np.float32
            if dist == "uniform":
                np.testing.assert_array_equal(got.reshape(-1), (words[0] >> 9).astype(np.float64) / 2 ** 23)
            np.testing.assert_array_equal(got, philox.sample(dist, (3, 5), np.float32, key, counter))
    a = run(lambda b, c: b.emit("rng", (c,), Shape(dtypes.float64, (100,)), distribution="uniform", key=key),
            np.int64(5))
    b_ = run(lambda b, c: b.emit("rng", (c,), Shape(dtypes.float64, (100,)), distribution="uniform", key=key),
             np.int64(6))
    assert a.dtype == np.float64 and not np.array_equal(a, b_)


# unary -----------------------------------------------------------------------------------------
def _logistic(x):
    return np.array([1 / (1 + math.exp(-v)) if v > -700 else 0.0 for v in x.reshape(-1).astype(float)]).reshape(x.shape)


FLOAT_UNARY = {
    "neg": lambda x: -x, "abs": lambda x: np.where(x < 0, -x, x), "exp": np.exp, "log": np.log,
    "log1p": np.log1p, "tanh": np.tanh, "logistic": _logistic, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1.0 / np.sqrt(x.astype(np.float64)), "sin": np.sin, "cos": np.cos,
    "floor": np.floor, "ceil": np.ceil, "copy": lambda x: x.copy(),
    "sign": lambda x: np.array([int(v > 0) - int(v < 0) for v in x.reshape(-1).tolist()]).reshape(x.shape),
}


@pytest.mark.parametrize("opcode", sorted(FLOAT_UNARY))
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SIZES)
def test_float_unary(opcode, dtype, shape):
    low = {"log": 0.01, "sqrt": 0.0, "rsqrt": 0.01, "log1p": -0.99}.get(opcode, -5)
    x = random_array(shape, dtype, seed=1, low=low, high=5)
    want = np.asarray(FLOAT_UNARY[opcode](x.astype(np.float64))).astype(dtype)
    tol = dict(rtol=3e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
    check(run(lambda b, p: b.emit(opcode, (p,)), x), want, **tol)


def test_float_unary_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30], np.float32)
    got = run(lambda b, p: b.tuple([b.emit(op, (p,)) for op in ("exp", "tanh", "logistic", "sqrt", "abs", "neg")]), x)
    with np.errstate(all="ignore"):
        check(got[0], np.exp(x))
        check(got[1], np.array([np.nan, 1, -1, 0, -0.0, 1e-30], np.float32))
        check(got[2], np.array([np.nan, 1, 0, 0.5, 0.5, 0.5], np.float32))
        check(got[3], np.sqrt(x))
    assert np.signbit(got[4][4]) == False and np.signbit(got[5][3]) == True   # noqa: E712
    big = np.array([-1000.0, 1000.0], np.float64)
    check(run(lambda b, p: b.emit("logistic", (p,)), big), np.array([0.0, 1.0]))


def test_round_is_half_to_even():
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 2.4999, -3.7, 7.0], np.float32)
    check(run(lambda b, p: b.emit("round", (p,)), x), np.array([0, 2, 2, -0.0, -2, 2, -4, 7], np.float32))


@pytest.mark.parametrize("dtype", INTS)
def test_integer_unary_wraps(dtype):
    info = np.iinfo(dtype)
    x = np.array([info.min, info.min + 1, -3, 0, 5, info.max], dtype)
    got = run(lambda b, p: b.tuple([b.emit(op, (p,)) for op in ("neg", "abs", "sign", "not", "copy")]), x)
    wrap = lambda v: dtype(((v - int(info.min)) % 2 ** info.bits) + int(info.min))  # noqa: E731
    check(got[0], np.array([wrap(-int(v)) for v in x], dtype))
    check(got[1], np.array([wrap(abs(int(v))) for v in x], dtype))
    check(got[2], np.array([int(v > 0) - int(v < 0) for v in x.tolist()], dtype))
    check(got[3], np.array([wrap(~int(v)) for v in x], dtype))
    check(got[4], x)


def test_not_and_is_finite():
    p = np.array([True, False, True])
    check(run(lambda b, q: b.emit("not", (q,)), p), np.array([False, True, False]))
    x = np.array([1.0, np.nan, np.inf, -np.inf, -0.0], np.float64)
    check(run(lambda b, q: b.emit("is_finite", (q,)), x), np.array([True, False, False, False, True]))


# binary ----------------------------------------------------------------------------------------
FLOAT_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                "rem": np.fmod, "pow": np.power, "max": np.maximum, "min": np.minimum}


@pytest.mark.parametrize("opcode", sorted(FLOAT_BINARY))
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SIZES)
def test_float_binary(opcode, dtype, shape):
    x = random_array(shape, dtype, seed=1, low=0.1 if opcode == "pow" else -5, high=5)
    y = random_array(shape, dtype, seed=2, low=-3, high=3)
    with np.errstate(all="ignore"):
        want = FLOAT_BINARY[opcode](x.astype(np.float64), y.astype(np.float64)).astype(dtype)
    check(run(lambda b, p, q: b.emit(opcode, (p, q)), x, y), want, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_float_binary_special_values():
    x = np.array([np.nan, 1.0, 1.0, -1.0, 0.0, 5.5, -5.5, np.inf], np.float32)
    y = np.array([1.0, np.nan, 0.0, 0.0, 0.0, -2.0, 2.0, 2.0], np.float32)
    got = run(lambda b, p, q: b.tuple([b.emit(op, (p, q)) for op in ("max", "min", "div", "rem")]), x, y)
    check(got[0], np.array([np.nan, np.nan, 1, 0, 0, 5.5, 2, np.inf], np.float32))
    check(got[1], np.array([np.nan, np.nan, 0, -1, 0, -2, -5.5, 2], np.float32))
    check(got[2], np.array([np.nan, np.nan, np.inf, -np.inf, np.nan, -2.75, -2.75, np.inf], np.float32))
    check(got[3], np.array([math.fmod(a, b) if b != 0 and math.isfinite(a) and not math.isnan(b) else np.nan
                            for a, b in zip(x.tolist(), y.tolist())], np.float32))


def _wrap(v: int, dtype) -> int:
    info = np.iinfo(dtype)
    return ((v - int(info.min)) % 2 ** info.bits) + int(info.min)


def _c_div(a: int, b: int, dtype) -> int:
    if b == 0:
        return -1
    q = abs(a) // abs(b)
    return _wrap(q if (a < 0) == (b < 0) else -q, dtype)


def _c_rem(a: int, b: int) -> int:
    if b == 0:
        return a
    return a - b * (abs(a) // abs(b) if (a < 0) == (b < 0) else -(abs(a) // abs(b)))


def _int_pow(a: int, b: int, dtype) -> int:
    if b < 0:
        return 1 if a == 1 else (-1 if b % 2 else 1) if a == -1 else 0
    return _wrap(pow(a, b, 2 ** 64), dtype)


@pytest.mark.parametrize("dtype", INTS)
def test_integer_binary_edge_semantics(dtype):
    info = np.iinfo(dtype)
    special = [int(info.min), int(info.min) + 1, -7, -1, 0, 1, 2, 7, int(info.max)]
    pairs = list(itertools.product(special, special))
    x = np.array([a for a, _ in pairs], dtype)
    y = np.array([b for _, b in pairs], dtype)
    ops = ("add", "sub", "mul", "div", "rem", "max", "min", "and", "or")
    got = run(lambda b, p, q: b.tuple([b.emit(op, (p, q)) for op in ops]), x, y)
    refs = {
        "add": lambda a, b: _wrap(a + b, dtype), "sub": lambda a, b: _wrap(a - b, dtype),
        "mul": lambda a, b: _wrap(a * b, dtype), "div": lambda a, b: _c_div(a, b, dtype),
        "rem": _c_rem, "max": max, "min": min, "and": lambda a, b: a & b, "or": lambda a, b: a | b,
    }
    for op, value in zip(ops, got):
        check(value, np.array([refs[op](a, b) for a, b in pairs], dtype))
    by_pair = dict(zip(pairs, got[3].tolist()))
    assert by_pair[(int(info.min), -1)] == info.min and by_pair[(7, 0)] == -1
    assert dict(zip(pairs, got[4].tolist()))[(int(info.min), -1)] == 0


@pytest.mark.parametrize("dtype", INTS)
def test_integer_pow(dtype):
    r = rng(4)
    x = np.concatenate([r.integers(-4, 5, 40), [0, 1, -1, -1, 2, 3, 0]]).astype(dtype)
    y = np.concatenate([r.integers(-2, 40, 40), [0, -3, -3, -4, 64, 41, -1]]).astype(dtype)
    want = np.array([_int_pow(int(a), int(b), dtype) for a, b in zip(x, y)], dtype)
    check(run(lambda b, p, q: b.emit("pow", (p, q)), x, y), want)


@pytest.mark.parametrize("dtype", INTS + FLOATS)
@pytest.mark.parametrize("shape", [(0,), (1,), (9,), (2, 3)])
def test_random_integer_and_float_arithmetic(dtype, shape):
    x = random_array(shape, dtype, seed=5, low=-50, high=50)
    y = random_array(shape, dtype, seed=6, low=-50, high=50)
    got = run(lambda b, p, q: b.tuple([b.emit(op, (p, q)) for op in ("add", "sub", "mul")]), x, y)
    check(got[0], (x + y).astype(dtype))
    check(got[1], (x - y).astype(dtype))
    check(got[2], (x * y).astype(dtype))


def test_pred_logic_and_max_min():
    p = np.array([True, True, False, False])
    q = np.array([True, False, True, False])
    got = run(lambda b, a, c: b.tuple([b.emit(op, (a, c)) for op in ("and", "or", "max", "min")]), p, q)
    check(got[0], p & q)
    check(got[1], p | q)
    check(got[2], p | q)
    check(got[3], p & q)


@pytest.mark.parametrize("direction", ["EQ", "NE", "LT", "LE", "GT", "GE"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_compare(direction, dtype):
    if dtype == np.bool_:
        x, y = np.array([False, False, True, True]), np.array([False, True, False, True])
    else:
        x = np.array([1, 2, 3, np.nan, np.nan, -0.0, np.inf] if dtype == np.float32 else [1, 2, 3, -5, 0, 9, 4], dtype)
        y = np.array([2, 2, 1, 1, np.nan, 0.0, np.inf] if dtype == np.float32 else [2, 2, 1, -5, 0, -9, 8], dtype)
    py = {"EQ": lambda a, b: a == b, "NE": lambda a, b: a != b, "LT": lambda a, b: a < b,
          "LE": lambda a, b: a <= b, "GT": lambda a, b: a > b, "GE": lambda a, b: a >= b}[direction]
    want = np.array([py(a, b) for a, b in zip(x.tolist(), y.tolist())], bool)
    check(run(lambda b, p, q: b.compare(p, q, direction), x, y), want)


# ternary and convert --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_])
@pytest.mark.parametrize("shape", [(0,), (1,), (5, 3)])
def test_select(dtype, shape):
    pred = random_array(shape, np.bool_, seed=1)
    a, c = random_array(shape, dtype, seed=2), random_array(shape, dtype, seed=3)
    want = np.array([u if s else v for s, u, v in zip(pred.reshape(-1), a.reshape(-1), c.reshape(-1))],
                    dtype).reshape(shape)
    check(run(lambda b, p, x, y: b.emit("select", (p, x, y)), pred, a, c), want)


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_clamp_with_scalar_and_array_bounds(dtype):
    x = random_array((11,), dtype, seed=7, low=-10, high=10)
    lo, hi = random_array((11,), dtype, seed=8, low=-6, high=0), random_array((11,), dtype, seed=9, low=0, high=6)
    got = run(lambda b, p, l, h: b.tuple([b.emit("clamp", (l, p, h)),
                                         b.emit("clamp", (b.scalar(-2, dtype), p, b.scalar(3, dtype)))]), x, lo, hi)
    check(got[0], np.array([min(max(v, a), c) for v, a, c in zip(x, lo, hi)], dtype))
    check(got[1], np.array([min(max(v, -2), 3) for v in x], dtype))
    if dtype == np.float64:
        nan = run(lambda b, p: b.emit("clamp", (b.scalar(0, dtype), p, b.scalar(1, dtype))), np.array([np.nan, 2.0]))
        check(nan, np.array([np.nan, 1.0]))


def test_convert_float_to_int_saturates_and_maps_nan_to_zero():
    x = np.array([np.nan, np.inf, -np.inf, 3e9, -3e9, 2.7, -2.7, -0.5, 2147483520.0, 1e19, -1e19, 0.0, -0.0],
                 np.float32)
    got = run(lambda b, p: b.tuple([b.convert(p, d) for d in ("s32", "s64", "u8", "pred", "f64")]), x)
    i32, i64 = np.iinfo(np.int32), np.iinfo(np.int64)
    check(got[0], np.array([0, i32.max, i32.min, i32.max, i32.min, 2, -2, 0, 2147483520, i32.max, i32.min, 0, 0],
                           np.int32))
    check(got[1], np.array([0, i64.max, i64.min, 3000000000, -3000000000, 2, -2, 0, 2147483520, i64.max, i64.min,
                            0, 0], np.int64))
    check(got[2], np.array([0, 255, 0, 255, 0, 2, 0, 0, 255, 255, 0, 0, 0], np.uint8))
    check(got[3], np.array([True] * 11 + [False, False]))
    check(got[4], x.astype(np.float64))


def test_convert_between_ints_bools_and_floats():
    x = np.array([0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 3], np.int64)
    got = run(lambda b, p: b.tuple([b.convert(p, d) for d in ("s32", "pred", "f32", "f64")]), x)
    check(got[0], np.array([_wrap(int(v), np.int32) for v in x], np.int32))
    check(got[1], np.array([v != 0 for v in x]))
    check(got[2], np.array([float(v) for v in x], np.float32))
    check(got[3], np.array([float(v) for v in x], np.float64))
    p = np.array([True, False])
    got = run(lambda b, q: b.tuple([b.convert(q, "f32"), b.convert(q, "s32")]), p)
    check(got[0], np.array([1.0, 0.0], np.float32))
    check(got[1], np.array([1, 0], np.int32))
    check(run(lambda b, q: b.convert(q, "f32"), np.array([1e300, -1e300, 1e-300])),
          np.array([np.inf, -np.inf, 0.0], np.float32))


# shape ops ------------------------------------------------------------------------------------
@pytest.mark.parametrize("in_dims,out_dims,mapping", [
    ((), (2, 3), ()), ((3,), (2, 3), (1,)), ((2,), (2, 0), (0,)), ((1, 4), (3, 5, 4), (0, 2)),
    ((2, 1), (2, 3), (0, 1))])
def test_broadcast_in_dim(in_dims, out_dims, mapping):
    x = random_array(in_dims, np.float32, seed=2)
    got = run(lambda b, p: b.emit("broadcast_in_dim", (p,), Shape(dtypes.float32, out_dims), dimensions=mapping), x)
    want = np.zeros(out_dims, np.float32)
    for index in np.ndindex(*out_dims):
        want[index] = x[tuple(0 if x.shape[i] == 1 else index[d] for i, d in enumerate(mapping))]
    check(got, want)


@pytest.mark.parametrize("in_dims,out_dims", [((2, 3), (3, 2)), ((6,), (1, 2, 1, 3)), ((0, 4), (2, 0)), ((), (1, 1))])
def test_reshape_is_row_major(in_dims, out_dims):
    x = random_array(in_dims, np.int64, seed=1)
    flat = [x[i] for i in np.ndindex(*in_dims)]
    want = np.zeros(out_dims, np.int64)
    for k, index in enumerate(np.ndindex(*out_dims)):
        want[index] = flat[k]
    check(run(lambda b, p: b.reshape(p, out_dims), x), want)


@pytest.mark.parametrize("perm", [(1, 0, 2), (2, 0, 1), (0, 1, 2), (2, 1, 0)])
def test_transpose(perm):
    x = random_array((2, 3, 0) if perm == (2, 1, 0) else (2, 3, 4), np.float64, seed=1)
    want = np.zeros(tuple(x.shape[p] for p in perm))
    for index in np.ndindex(*want.shape):
        src = [0] * 3
        for out_axis, in_axis in enumerate(perm):
            src[in_axis] = index[out_axis]
        want[index] = x[tuple(src)]
    check(run(lambda b, p: b.emit("transpose", (p,), dimensions=perm), x), want)


@pytest.mark.parametrize("starts,limits,strides", [
    ((0, 1), (5, 4), (2, 2)), ((1, 0), (4, 4), (3, 1)), ((2, 2), (2, 4), (1, 5)), ((0, 0), (5, 4), (7, 1))])
def test_slice_with_strides(starts, limits, strides):
    x = random_array((5, 4), np.int32, seed=1)
    rows = list(range(starts[0], limits[0], strides[0]))
    cols = list(range(starts[1], limits[1], strides[1]))
    want = np.array([[x[r, c] for c in cols] for r in rows], np.int32).reshape(len(rows), len(cols))
    got = run(lambda b, p: b.emit("slice", (p,), start_indices=starts, limit_indices=limits, strides=strides), x)
    check(got, want)


def _naive_pad(x, value, low, high, interior):
    out_dims = [lo + hi + d + max(d - 1, 0) * mid for d, lo, hi, mid in zip(x.shape, low, high, interior)]
    out = np.full(out_dims, value, x.dtype)
    for index in np.ndindex(*out_dims):
        src = []
        for o, d, lo, mid in zip(index, x.shape, low, interior):
            p = o - lo
            if p < 0 or p % (mid + 1) or p // (mid + 1) >= d:
                break
            src.append(p // (mid + 1))
        else:
            out[index] = x[tuple(src)]
    return out


@pytest.mark.parametrize("dims,low,high,interior", [
    ((3, 4), (1, 0), (2, 1), (0, 0)), ((3, 4), (-1, 2), (0, -2), (1, 2)), ((4,), (-3,), (-2,), (2,)),
    ((0, 2), (1, 1), (2, 0), (3, 1)), ((1,), (2,), (0,), (5,)), ((5,), (-2,), (4,), (0,))])
def test_pad_with_negative_and_interior_padding(dims, low, high, interior):
    x = random_array(dims, np.float32, seed=4)
    got = run(lambda b, p: b.emit("pad", (p, b.scalar(-9.5, "f32")), low=low, high=high, interior=interior), x)
    check(got, _naive_pad(x, np.float32(-9.5), low, high, interior))


@pytest.mark.parametrize("sizes,axis", [((2, 0, 3), 0), ((1, 4), 0), ((5,), 0)])
def test_concatenate(sizes, axis):
    xs = [random_array((s, 3), np.int32, seed=i) for i, s in enumerate(sizes)]
    rows = [row for x in xs for row in x.tolist()]
    want = np.array(rows, np.int32).reshape(len(rows), 3)
    check(run(lambda b, *ps: b.emit("concatenate", ps, dimension=axis), *xs), want)
    got = run(lambda b, *ps: b.emit("concatenate", ps, dimension=1), *[x.T for x in xs])
    check(got, want.T)


@pytest.mark.parametrize("dims", [(), (0,), (1,), (0, 1)])
def test_reverse(dims):
    x = random_array((3, 4), np.float64, seed=1)
    want = x.copy()
    for index in np.ndindex(3, 4):
        want[index] = x[tuple(x.shape[a] - 1 - i if a in dims else i for a, i in enumerate(index))]
    check(run(lambda b, p: b.emit("reverse", (p,), dimensions=dims), x), want)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_gather_clamps_indices(axis):
    x = random_array((3, 4, 5), np.float32, seed=1)
    idx = np.array([[0, -1, 2], [100, 3, -7]], np.int32)
    got = run(lambda b, p, i: b.emit("gather", (p, i), axis=axis), x, idx)
    n = x.shape[axis]
    want = np.zeros(x.shape[:axis] + idx.shape + x.shape[axis + 1:], np.float32)
    for index in np.ndindex(*want.shape):
        pre, mid, post = index[:axis], index[axis:axis + 2], index[axis + 2:]
        want[index] = x[pre + (min(max(int(idx[mid]), 0), n - 1),) + post]
    check(got, want)
    empty = run(lambda b, p, i: b.emit("gather", (p, i), axis=0), x, np.zeros((0,), np.int64))
    check(empty, np.zeros((0, 4, 5), np.float32))


@pytest.mark.parametrize("starts", [(0, 0), (2, 3), (-4, 1), (9, -1), (2 ** 40, -(2 ** 40))])
@pytest.mark.parametrize("sizes", [(0, 2), (1, 1), (3, 5), (4, 5)])
def test_dynamic_slice_and_update_clamp_their_window(starts, sizes):
    """XLA's semantics: each start clamped to [0, dim - size], so the window never leaves the operand."""
    x = random_array((4, 5), np.float32, seed=1)
    update = random_array(sizes, np.float32, seed=2)
    index = [np.asarray(s, np.int64) for s in starts]
    got_slice, got_update = run(lambda b, p, u, i, j: b.tuple([
        b.emit("dynamic_slice", (p, i, j), dynamic_slice_sizes=sizes), b.emit("dynamic_update_slice", (p, u, i, j))]),
        x, update, *index)
    clamped = [min(max(s, 0), n - size) for s, n, size in zip(starts, x.shape, sizes)]
    want_slice = np.zeros(sizes, np.float32)
    want_update = x.copy()
    for a, c in np.ndindex(*sizes):
        want_slice[a, c] = x[clamped[0] + a, clamped[1] + c]
        want_update[clamped[0] + a, clamped[1] + c] = update[a, c]
    check(got_slice, want_slice)
    check(got_update, want_update)
    scalar = run(lambda b, p: b.emit("dynamic_slice", (p,), dynamic_slice_sizes=()), np.float32(2.5))
    check(scalar, np.float32(2.5))


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_scatter_add_skips_out_of_range_indices(dtype):
    x = random_array((4, 3), dtype, seed=1)
    idx = np.array([[1, 1, -1], [3, 4, 0]], np.int64)
    upd = random_array((2, 3, 3), dtype, seed=2)
    want = x.copy()
    for i, j in np.ndindex(2, 3):
        if 0 <= idx[i, j] < 4:
            want[idx[i, j]] += upd[i, j]
    check(run(lambda b, p, i, u: b.emit("scatter_add", (p, i, u), axis=0), x, idx, upd), want)
    updt = np.ascontiguousarray(np.moveaxis(upd, 2, 0))       # (3, 2, 3): axis 1 of x
    want1 = x.T.copy()
    for i, j in np.ndindex(2, 3):
        if 0 <= idx[i, j] < 4:
            want1[:, idx[i, j]] += updt[:, i, j]
    check(run(lambda b, p, i, u: b.emit("scatter_add", (p, i, u), axis=1), x.T.copy(), idx, updt), want1)


# reductions -----------------------------------------------------------------------------------
def _naive_reduce(x, kind, dims):
    out_dims = tuple(d for i, d in enumerate(x.shape) if i not in dims)
    init = {"sum": 0, "prod": 1, "and": True, "or": False}.get(kind)
    if init is None:
        init = (-np.inf if kind == "max" else np.inf) if x.dtype.kind == "f" else \
            (np.iinfo(x.dtype).min if kind == "max" else np.iinfo(x.dtype).max)
    fn = {"sum": lambda a, b: a + b, "prod": lambda a, b: a * b, "max": max, "min": min,
          "and": lambda a, b: a and b, "or": lambda a, b: a or b}[kind]
    acc = {index: init for index in np.ndindex(*out_dims)}
    for index in np.ndindex(*x.shape):
        key = tuple(i for a, i in enumerate(index) if a not in dims)
        acc[key] = fn(acc[key], x[index].item())
    out = np.zeros(out_dims, x.dtype)
    for key, value in acc.items():
        out[key] = _wrap(value, x.dtype) if x.dtype.kind == "i" else value
    return out


@pytest.mark.parametrize("kind,dtype", [("sum", np.float32), ("sum", np.int32), ("prod", np.float64),
                                        ("prod", np.int64), ("max", np.float32), ("min", np.int32),
                                        ("max", np.int64), ("min", np.float64), ("and", np.bool_), ("or", np.bool_)])
@pytest.mark.parametrize("shape,dims", [((3, 4), (0,)), ((3, 4), (1,)), ((2, 3, 4), (0, 2)), ((5,), (0,)),
                                        ((0, 3), (0,)), ((3, 0), (1,)), ((0, 3), (1,)), ((2, 3), ()),
                                        ((2, 0, 2), (0, 1))])
def test_reduce(kind, dtype, shape, dims):
    x = random_array(shape, dtype, seed=3, low=-3, high=3)
    want = _naive_reduce(x, kind, dims)
    check(run(lambda b, p: b.emit("reduce", (p,), kind=kind, dimensions=dims), x), want, rtol=1e-5, atol=1e-5)


def test_reduce_of_empty_dims_gives_identities():
    for dtype, kinds in ((np.float32, ("sum", "prod", "max", "min")), (np.int32, ("sum", "prod", "max", "min")),
                         (np.bool_, ("and", "or"))):
        x = np.zeros((0, 2), dtype)
        got = run(lambda b, p: b.tuple([b.emit("reduce", (p,), kind=k, dimensions=(0,)) for k in kinds]), x)
        for kind, value in zip(kinds, got):
            if dtype == np.float32:
                ident = {"sum": 0, "prod": 1, "max": -np.inf, "min": np.inf}[kind]
            elif dtype == np.int32:
                ident = {"sum": 0, "prod": 1, "max": -2 ** 31, "min": 2 ** 31 - 1}[kind]
            else:
                ident = kind == "and"
            check(value, np.full((2,), ident, dtype))


@pytest.mark.parametrize("opcode", ["argmax", "argmin"])
@pytest.mark.parametrize("index_dtype", [dtypes.int32, dtypes.int64])
@pytest.mark.parametrize("axis", [0, 1])
def test_argmax_argmin_take_the_first_occurrence(opcode, index_dtype, axis):
    x = random_array((6, 7), np.int32, seed=1, low=0, high=2)        # many ties
    got = run(lambda b, p: b.emit(opcode, (p,), dimension=axis, index_dtype=index_dtype), x)
    moved = np.moveaxis(x, axis, -1)
    pick = max if opcode == "argmax" else min
    want = np.array([[row.tolist().index(pick(row.tolist()))] for row in moved.reshape(-1, moved.shape[-1])])
    check(got, want.reshape(moved.shape[:-1]).astype(index_dtype.np))
    f = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 2.0, -1.0, -1.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
    got = run(lambda b, p: b.emit(opcode, (p,), dimension=1, index_dtype=index_dtype), f)
    check(got, np.array([1, 0 if opcode == "argmax" else 2, 0], index_dtype.np))
    check(run(lambda b, p: b.emit(opcode, (p,), dimension=1), np.zeros((0, 3), np.float32)), np.zeros((0,), np.int64))


def _same_padding(size, window, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return (total // 2, total - total // 2)


def _naive_reduce_window(x, kind, window, strides, padding):
    fn = {"sum": sum, "max": max, "min": min}[kind]
    out_dims = [(d + lo + hi - w) // s + 1 for d, w, s, (lo, hi) in zip(x.shape, window, strides, padding)]
    out = np.zeros(out_dims, x.dtype)
    for o in np.ndindex(*out_dims):
        vals = []
        for k in np.ndindex(*window):
            src = tuple(oi * s + ki - lo for oi, s, ki, (lo, _) in zip(o, strides, k, padding))
            if all(0 <= i < d for i, d in zip(src, x.shape)):
                vals.append(x[src].item())
            elif kind == "sum":
                vals.append(0)
            else:
                vals.append(-np.inf if kind == "max" else np.inf)
        out[o] = fn(vals)
    return out


@pytest.mark.parametrize("kind", ["sum", "max", "min"])
@pytest.mark.parametrize("dims,window,strides,same", [
    ((5, 7), (2, 3), (2, 2), True), ((5, 7), (3, 3), (1, 1), True), ((4, 6), (2, 2), (2, 2), False),
    ((2, 5, 5, 3), (1, 3, 3, 1), (1, 2, 2, 1), True), ((1,), (3,), (1,), True), ((6,), (2,), (3,), False)])
def test_reduce_window(kind, dims, window, strides, same):
    x = random_array(dims, np.float64, seed=2)
    padding = tuple(_same_padding(d, w, s) if same else (0, 0) for d, w, s in zip(dims, window, strides))
    got = run(lambda b, p: b.emit("reduce_window", (p,), kind=kind, window=window, strides=strides,
                                  padding=padding), x)
    check(got, _naive_reduce_window(x, kind, window, strides, padding), rtol=1e-12, atol=1e-12)


def _naive_select_and_scatter(x, source, window, strides, padding):
    out = np.zeros_like(x)
    for o in np.ndindex(*source.shape):
        best, best_val = None, None
        for k in np.ndindex(*window):
            src = tuple(oi * s + ki - lo for oi, s, ki, (lo, _) in zip(o, strides, k, padding))
            if all(0 <= i < d for i, d in zip(src, x.shape)) and (best is None or x[src] > best_val):
                best, best_val = src, x[src]
        if best is not None:
            out[best] += source[o]
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("dims,window,strides,same", [
    ((5, 7), (2, 3), (2, 2), True), ((5, 7), (3, 3), (1, 1), True), ((4, 6), (2, 2), (2, 2), False),
    ((1, 4, 5, 2), (1, 3, 3, 1), (1, 2, 2, 1), True), ((0, 3), (1, 2), (1, 1), False)])
def test_select_and_scatter(dtype, dims, window, strides, same):
    x = random_array(dims, dtype, seed=3, low=-2, high=2)          # ties: the first maximum wins
    padding = tuple(_same_padding(d, w, s) if same else (0, 0) for d, w, s in zip(dims, window, strides))
    out_dims = tuple((d + lo + hi - w) // s + 1 for d, w, s, (lo, hi) in zip(dims, window, strides, padding))
    source = random_array(out_dims, dtype, seed=4, low=1, high=9)
    got = run(lambda b, p, s: b.emit("select_and_scatter", (p, s), window=window, strides=strides,
                                     padding=padding), x, source)
    check(got, _naive_select_and_scatter(x, source, window, strides, padding), rtol=1e-6)


def test_select_and_scatter_never_selects_padding():
    x = np.array([-np.inf, -np.inf, 1.0], np.float32)
    got = run(lambda b, p, s: b.emit("select_and_scatter", (p, s), window=(2,), strides=(1,), padding=((1, 1),)),
              x, np.array([10, 20, 30, 40], np.float32))
    check(got, np.array([30, 0, 70], np.float32))


# linear algebra -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_general_dot_with_unusual_dimension_positions(dtype):
    lhs = random_array((3, 4, 2, 5), dtype, seed=1, low=-4, high=4)   # l = (k1, m, b, k2)
    rhs = random_array((5, 6, 2, 3), dtype, seed=2, low=-4, high=4)   # r = (k2, n, b, k1)
    got = run(lambda b, p, q: b.emit("dot", (p, q), lhs_batch_dims=(2,), rhs_batch_dims=(2,),
                                     lhs_contracting_dims=(0, 3), rhs_contracting_dims=(3, 0)), lhs, rhs)
    want = np.zeros((2, 4, 6), np.float64)
    for bi, m, n in np.ndindex(2, 4, 6):
        want[bi, m, n] = sum(float(lhs[k1, m, bi, k2]) * float(rhs[k2, n, bi, k1])
                             for k1 in range(3) for k2 in range(5))
    check(got, want.astype(dtype), rtol=1e-5)


@pytest.mark.parametrize("m,k,n", [(0, 3, 2), (2, 0, 3), (1, 1, 1), (3, 5, 0), (4, 7, 3)])
def test_plain_dot_with_empty_and_unit_sizes(m, k, n):
    a, c = random_array((m, k), np.float64, seed=1), random_array((k, n), np.float64, seed=2)
    want = np.array([[sum((a[i, t] * c[t, j] for t in range(k)), 0.0) for j in range(n)]
                     for i in range(m)]).reshape(m, n)
    check(run(lambda b, p, q: b.emit("dot", (p, q), lhs_batch_dims=(), rhs_batch_dims=(), lhs_contracting_dims=(1,),
                                     rhs_contracting_dims=(0,)), a, c), want)


def _naive_conv_nhwc(x, w, strides, padding, lhs_dil, rhs_dil, groups):
    n, h, wd, c = x.shape
    kh, kw, cg, o = w.shape
    og = o // groups
    dil = [(h - 1) * lhs_dil[0] + 1 if h else 0, (wd - 1) * lhs_dil[1] + 1 if wd else 0]
    eff = [(kh - 1) * rhs_dil[0] + 1, (kw - 1) * rhs_dil[1] + 1]
    out_sp = [max(0, (dil[i] + padding[i][0] + padding[i][1] - eff[i]) // strides[i] + 1)
              if dil[i] + sum(padding[i]) >= eff[i] else 0 for i in range(2)]
    out = np.zeros((n, out_sp[0], out_sp[1], o), np.float64)

    def value(b, yy, xx, ch):
        py, px = yy - padding[0][0], xx - padding[1][0]
        if py < 0 or px < 0 or py % lhs_dil[0] or px % lhs_dil[1]:
            return 0.0
        py, px = py // lhs_dil[0], px // lhs_dil[1]
        return float(x[b, py, px, ch]) if py < h and px < wd else 0.0

    for b, oy, ox, oc in np.ndindex(n, out_sp[0], out_sp[1], o):
        g = oc // og
        acc = 0.0
        for ky, kx, ci in np.ndindex(kh, kw, cg):
            acc += value(b, oy * strides[0] + ky * rhs_dil[0], ox * strides[1] + kx * rhs_dil[1], g * cg + ci) \
                * float(w[ky, kx, ci, oc])
        out[b, oy, ox, oc] = acc
    return out


NHWC = dict(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))


@pytest.mark.parametrize("case", [
    dict(x=(2, 5, 4, 3), k=(3, 2), o=4, strides=(1, 1), padding=((1, 1), (0, 1))),
    dict(x=(1, 6, 7, 2), k=(3, 3), o=3, strides=(2, 3), padding=((1, 1), (1, 1))),
    dict(x=(2, 6, 5, 2), k=(2, 2), o=2, strides=(1, 1), padding=((0, 0), (0, 0)), rhs_dil=(2, 2)),
    dict(x=(1, 3, 4, 2), k=(3, 3), o=2, strides=(1, 1), padding=((2, 2), (2, 2)), lhs_dil=(2, 3)),
    dict(x=(2, 4, 4, 6), k=(3, 3), o=6, strides=(1, 2), padding=((1, 1), (1, 0)), groups=3),
    dict(x=(1, 4, 4, 4), k=(2, 2), o=8, strides=(1, 1), padding=((-1, 0), (0, -1)), groups=2),
    dict(x=(1, 2, 2, 1), k=(3, 3), o=1, strides=(2, 2), padding=((0, 0), (0, 0))),
    dict(x=(0, 3, 3, 2), k=(1, 1), o=2, strides=(1, 1), padding=((0, 0), (0, 0))),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convolution_nhwc_hwio(case, dtype):
    groups = case.get("groups", 1)
    x = random_array(case["x"], dtype, seed=1, low=-1, high=1)
    w = random_array(case["k"] + (case["x"][3] // groups, case["o"]), dtype, seed=2, low=-1, high=1)
    lhs_dil, rhs_dil = case.get("lhs_dil", (1, 1)), case.get("rhs_dil", (1, 1))
    got = run(lambda b, p, q: b.emit("convolution", (p, q), window_strides=case["strides"], padding=case["padding"],
                                     lhs_dilation=lhs_dil, rhs_dilation=rhs_dil, feature_group_count=groups,
                                     **NHWC), x, w)
    want = _naive_conv_nhwc(x, w, case["strides"], case["padding"], lhs_dil, rhs_dil, groups).astype(dtype)
    check(got, want, rtol=1e-5, atol=1e-5)


def test_convolution_nchw_oihw_1d_and_out_spec_permutation():
    x = random_array((2, 3, 9), np.float64, seed=1)     # N C W
    w = random_array((4, 3, 3), np.float64, seed=2)     # O I W
    got = run(lambda b, p, q: b.emit("convolution", (p, q), window_strides=(2,), padding=((1, 2),),
                                     lhs_spec=(0, 1, 2), rhs_spec=(0, 1, 2), out_spec=(2, 0, 1)), x, w)
    want = _naive_conv_nhwc(x.transpose(0, 2, 1)[:, :, None, :], w.transpose(2, 1, 0)[:, None, :, :],
                            (2, 1), ((1, 2), (0, 0)), (1, 1), (1, 1), 1)[:, :, 0, :]   # N W O
    check(got, want.transpose(2, 1, 0))     # out_spec (2, 0, 1): batch is dim 2, features dim 0: (O, W, N)


# bitcast --------------------------------------------------------------------------------------
def test_bitcast_reads_the_physical_layout():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    col = Layout((0, 1))                                        # column-major: x.T is contiguous
    m = build_module(lambda b, p: b.emit("bitcast", (p,), Shape(dtypes.float32, (3, 2), Layout((1, 0)))),
                     [Shape(dtypes.float32, (2, 3), col)])
    check(evaluate_module(m, [x]), np.ravel(x, order="F").reshape(3, 2))
    m = build_module(lambda b, p: b.emit("bitcast", (p,), Shape(dtypes.float32, (6,), Layout((0,)))),
                     [Shape(dtypes.float32, (2, 3), col)])
    check(evaluate_module(m, [x]), np.array([0, 3, 1, 4, 2, 5], np.float32))
    y = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    physical = y.transpose(0, 2, 1).reshape(-1)                 # layout {1,2,0}: dim 1 fastest, then 2, then 0
    m = build_module(lambda b, p: b.emit("bitcast", (p,), Shape(dtypes.int32, (4, 2, 3), Layout((0, 2, 1)))),
                     [Shape(dtypes.int32, (2, 3, 4), Layout((1, 2, 0)))])
    want = np.zeros((4, 2, 3), np.int32)                        # {0,2,1}: dim 0 fastest, then 2, then 1
    for k in range(24):
        d1, rest = divmod(k, 12)
        d2, d0 = divmod(rest, 4)
        want[d0, d1, d2] = physical[k]
    check(evaluate_module(m, [y]), want)


# structure ------------------------------------------------------------------------------------
def test_tuple_and_get_tuple_element():
    x, y = np.arange(3.0), np.array(True)
    got = run(lambda b, p, q: b.get_tuple_element(b.tuple([q, b.tuple([p, q])]), 1), x, y)
    assert isinstance(got, tuple) and len(got) == 2
    check(got[0], x)
    check(got[1], y)


def _counting_loop(limit_value, x):
    """while (i < limit) { i += 1; acc = acc * 2 + acc }, state (i, acc)."""
    state = TupleShape((Shape(dtypes.int32, ()), shape_of(x)))
    cond = sub("cond", [state], lambda b, s: b.compare(b.get_tuple_element(s, 0), b.scalar(limit_value, "s32"), "LT"))

    def body_fn(b, s):
        i, acc = b.get_tuple_element(s, 0), b.get_tuple_element(s, 1)
        two = b.broadcast_to(b.scalar(2, x.dtype), x.shape)
        tripled = b.emit("add", (b.emit("mul", (acc, two)), b.get_tuple_element(s, 1)))
        return b.tuple([b.emit("add", (i, b.scalar(1, "s32"))), tripled])
    body = sub("body", [state], body_fn)
    return cond, body, state


@pytest.mark.parametrize("start,limit", [(0, 5), (7, 3), (2, 2), (-1, 0)])
def test_while(start, limit):
    x = random_array((2, 3), np.float64, seed=1)
    cond, body, state = _counting_loop(limit, x)
    got = run(lambda b, i, p: b.emit("while", (b.tuple([i, p]),), called=(cond, body)), np.int32(start), x,
              subs=(cond, body))
    steps = max(limit - start, 0)
    acc = x.copy()
    for _ in range(steps):
        acc = acc * 2 + acc
    assert int(got[0]) == max(start, limit)
    check(got[1], acc)


@pytest.mark.parametrize("selector,branch", [(True, 0), (False, 1)])
def test_conditional_with_pred(selector, branch):
    x = random_array((4,), np.float32, seed=1)
    s = shape_of(x)
    neg = sub("on_true", [s], lambda b, p: b.emit("neg", (p,)))
    exp = sub("on_false", [s], lambda b, p: b.emit("exp", (p,)))
    got = run(lambda b, c, p: b.emit("conditional", (c, p, p), s, called=(neg, exp)), np.bool_(selector), x,
              subs=(neg, exp))
    check(got, -x if branch == 0 else np.exp(x))


@pytest.mark.parametrize("index,branch", [(0, 0), (1, 1), (2, 2), (3, 2), (-1, 2), (2 ** 31 - 1, 2)])
def test_conditional_with_index_takes_the_last_branch_when_out_of_range(index, branch):
    x = np.array([1.0, -2.0])
    i = np.array([4, 5], np.int32)
    out = Shape(dtypes.float64, (2,))
    b0 = sub("b0", [shape_of(x)], lambda b, p: b.emit("abs", (p,)))
    b1 = sub("b1", [shape_of(i)], lambda b, p: b.convert(p, "f64"))
    b2 = sub("b2", [shape_of(x)], lambda b, p: b.emit("neg", (p,)))
    got = run(lambda b, c, p, q: b.emit("conditional", (c, p, q, p), out, called=(b0, b1, b2)),
              np.int32(index), x, i, subs=(b0, b1, b2))
    check(got, [np.abs(x), i.astype(np.float64), -x][branch])


def test_fusion_evaluates_its_computation():
    x, y = random_array((3, 2), np.float32, seed=1), random_array((3, 2), np.float32, seed=2)
    s = shape_of(x)
    fused = sub("fused", [s, s], lambda b, p, q: b.emit("tanh", (b.emit("add", (b.emit("mul", (p, q)), q)),)))
    got = run(lambda b, p, q: b.emit("fusion", (p, q), s, called=(fused,), kind="loop"), x, y, subs=(fused,))
    check(got, np.tanh(x.astype(np.float64) * y + y).astype(np.float32), rtol=1e-6)


def test_arguments_must_fit_the_parameters():
    m = build_module(lambda b, p, q: b.emit("add", (p, q)), [Shape(dtypes.float32, (2,))] * 2)
    x = np.ones(2, np.float32)
    with pytest.raises(ValueError, match="takes 2 arguments, got 1"):
        evaluate_module(m, [x])
    with pytest.raises(ValueError, match="f32\\[2\\] got a float64\\[2\\] argument"):
        evaluate_module(m, [x, np.ones(2)])
    with pytest.raises(ValueError, match="got a float32\\[3\\] argument"):
        evaluate_module(m, [x, np.ones(3, np.float32)])
    s = build_module(lambda b, p: b.emit("neg", (p,)), [Shape(dtypes.float32, ())])
    check(evaluate_module(s, [2.5]), np.float32(-2.5))                # a Python scalar takes the parameter's dtype


def test_constant_evaluation_folds_only_what_depends_on_no_input():
    from xlite.semantics.constant_eval import try_evaluate
    b = Builder(Computation("main"))
    value = b.constant(np.arange(3, dtype=np.int32))
    for _ in range(3000):                                              # deeper than Python's recursion limit
        value = b.emit("add", (value, b.constant(np.ones(3, np.int32))))
    check(try_evaluate(value), np.arange(3, dtype=np.int32) + 3000)
    p = b.parameter(Shape(dtypes.int32, (3,)))
    assert try_evaluate(b.emit("add", (value, p))) is None
    counter = b.parameter(Shape(dtypes.int64, ()))
    noise = b.emit("rng", (counter,), Shape(dtypes.float32, (2,)), distribution="uniform", key=(0, 0))
    assert try_evaluate(noise) is None
    t = b.tuple([value, value])
    assert try_evaluate(t) is None
    check(try_evaluate(b.get_tuple_element(t, 1)), np.arange(3, dtype=np.int32) + 3000)


def test_collectives_of_a_world_of_one_are_the_identity(world_of_one):
    """Many processes: tests/distribute/test_mpi_training.py; edge sizes: test_collectives.py."""
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    out = run(lambda b, p: b.tuple([b.emit("all_reduce", (p,), kind="mean"), b.emit("all_gather", (p,), replicas=1),
                                    b.emit("collective_broadcast", (p,), root=0),
                                    b.emit("all_reduce_done", (b.emit("all_reduce_start", (p,), kind="sum"),))]), x)
    for value in out:
        check(value, x)


@pytest.mark.parametrize("shape", SIZES)
def test_host_call_is_the_python_function(shape):
    """Output 1 reads what the one call of output 0 returned; the result's shape and dtype are checked."""
    from xlite.ir.shape import Shape
    from xlite.semantics import host_calls
    calls = []
    key = host_calls.register(lambda a: calls.append(a.shape) or [a * 2, a.astype(np.int32)], "PyFunc")
    x = rng().standard_normal(shape).astype(np.float32)

    def build(b, p):
        first = b.emit("host_call", (p,), Shape(dtypes.float32, shape), key=key, output=0, args=1)
        second = b.emit("host_call", (p, first), Shape(dtypes.int32, shape), key=key, output=1, args=1)
        return b.tuple([first, second])
    doubled, ints = run(build, x)
    check(doubled, x * 2)
    check(ints, x.astype(np.int32))
    assert calls == [shape]
    wrong = host_calls.register(lambda a: [a.astype(np.float64)], "PyFunc")
    with pytest.raises(errors.InvalidArgumentError, match="output 0 is float64"):
        run(lambda b, p: b.emit("host_call", (p,), Shape(dtypes.float32, shape), key=wrong, output=0, args=1), x)


def test_every_opcode_is_evaluated_by_this_file(request):
    """Runs last; meaningful only when every test of this file was selected."""
    here = sys.modules[__name__]
    selected = {item.originalname for item in request.session.items if getattr(item, "module", None) is here}
    if selected != {name for name in globals() if name.startswith("test_")}:
        pytest.skip("only meaningful when the whole file runs")
    assert set(OPCODES) - _EVALUATED == set()
