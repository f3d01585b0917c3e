"""Every elementwise opcode compiled for the CPU against the interpreter, on awkward sizes and values."""
import numpy as np
import pytest

from cpu_check import SIZES, check, module_from, random_array
from tiers import slow_except

EXACT_UNARY = ("neg", "abs", "sign", "floor", "ceil", "round", "sqrt", "rsqrt", "is_finite", "copy")
TRANSCENDENTAL = ("exp", "log", "log1p", "tanh", "logistic", "sin", "cos")


@pytest.mark.parametrize("dtype", ["f32", "f64", "f16"])
@pytest.mark.parametrize(*slow_except("size", SIZES, 0, 4))
def test_float_unary(dtype, size):
    rng = np.random.default_rng(size)
    x = random_array(rng, dtype, (size,), special=True)
    ops = EXACT_UNARY + TRANSCENDENTAL
    m = module_from(lambda b, p: [b.emit(op, (p,)) for op in ops], [(dtype, (size,))])
    got = check(m, [x], ulps=4)
    for op, g in zip(ops, got):
        if op in EXACT_UNARY:
            ref = {"neg": -x, "abs": np.abs(x), "copy": x}.get(op)
            if ref is not None:
                np.testing.assert_array_equal(g.view(np.uint8), ref.view(np.uint8), err_msg=op)


@pytest.mark.parametrize("dtype", ["s8", "s32", "s64", "u8", "u32"])
def test_integer_unary(dtype):
    rng = np.random.default_rng(1)
    x = random_array(rng, dtype, (5, 13), special=True)
    ops = ("neg", "abs", "sign", "not", "copy")
    m = module_from(lambda b, p: [b.emit(op, (p,)) for op in ops], [(dtype, (5, 13))])
    check(m, [x])


BINARY = ("add", "sub", "mul", "div", "rem", "pow", "max", "min")


@pytest.mark.parametrize(*slow_except("dtype", ["f32", "f64", "f16", "s8", "s32", "s64", "u8", "u32"], 0, 4))
@pytest.mark.parametrize(*slow_except("dims", [(67,), (3, 17), ()], 0))
def test_binary_and_compare(dtype, dims):
    rng = np.random.default_rng(len(dims))
    x = random_array(rng, dtype, dims, special=True)
    y = random_array(rng, dtype, dims, special=True)
    if np.dtype(x.dtype).kind in "iu" and x.size:
        y.reshape(-1)[:3] = 0          # division and remainder by zero must not trap
        if np.dtype(x.dtype).kind == "i":
            x.reshape(-1)[3:5] = np.iinfo(x.dtype).min
            y.reshape(-1)[3:5] = -1
    ops = BINARY + (("and", "or") if np.dtype(x.dtype).kind in "iu" else ())

    def build(b, p, q):
        outs = [b.emit(op, (p, q)) for op in ops]
        return outs + [b.compare(p, q, d) for d in ("EQ", "NE", "LT", "LE", "GT", "GE")]
    m = module_from(build, [(dtype, dims), (dtype, dims)])
    check(m, [x, y], ulps=2)


def test_bool_ops():
    rng = np.random.default_rng(2)
    x, y, z = (rng.random((4, 9)) < 0.5 for _ in range(3))

    def build(b, p, q, r):
        outs = [b.emit(op, (p, q)) for op in ("and", "or", "max", "min")]
        outs += [b.emit("not", (p,)), b.emit("select", (r, p, q))]
        return outs + [b.compare(p, q, d) for d in ("EQ", "NE", "LT", "GE")]
    check(module_from(build, [("pred", (4, 9))] * 3), [x, y, z])


@pytest.mark.parametrize("dtype", ["f32", "s32", "u8"])
def test_select_and_clamp(dtype):
    rng = np.random.default_rng(3)
    dims = (6, 11)
    pred = rng.random(dims) < 0.5
    x, y, lo, hi = (random_array(rng, dtype, dims) for _ in range(4))
    lo_s = random_array(rng, dtype, ())
    hi_s = np.asarray(lo_s + np.asarray(5, lo_s.dtype), dtype=lo_s.dtype)

    def build(b, c, p, q, l, h, ls, hs):
        return [b.emit("select", (c, p, q)), b.emit("clamp", (l, p, h)), b.emit("clamp", (ls, p, hs))]
    m = module_from(build, [("pred", dims), (dtype, dims), (dtype, dims), (dtype, dims), (dtype, dims),
                            (dtype, ()), (dtype, ())])
    check(m, [pred, x, y, lo, hi, lo_s, hi_s])


def test_float_max_min_propagate_nan():
    x = np.array([np.nan, 1.0, np.nan, -0.0, 0.0, 3.0], np.float32)
    y = np.array([1.0, np.nan, np.nan, 0.0, -0.0, -np.inf], np.float32)
    m = module_from(lambda b, p, q: [b.emit("max", (p, q)), b.emit("min", (p, q))], [("f32", (6,))] * 2)
    got = check(m, [x, y])
    np.testing.assert_array_equal(np.signbit(got[0]), np.signbit(np.maximum(x, y)))


ALL = ["f16", "f32", "f64", "s8", "s32", "s64", "u8", "u32", "pred"]


@pytest.mark.parametrize("src", ALL)
def test_convert_every_pair(src):
    rng = np.random.default_rng(4)
    x = random_array(rng, src, (41,), special=True)
    if src in ("f32", "f64"):
        x[:12] = [np.nan, np.inf, -np.inf, 3e9, -3e9, 1e19, -1e19, 2.0 ** 31, -(2.0 ** 31), 255.9, -0.7, 256.0]
    m = module_from(lambda b, p: [b.emit("convert", (p,), dtype=d) for d in ALL], [(src, (41,))])
    check(m, [x])


def test_integer_division_by_zero_does_not_trap():
    x = np.array([7, -7, 0, np.iinfo(np.int32).min, np.iinfo(np.int32).min, 5], np.int32)
    y = np.array([0, 0, 0, -1, 0, -1], np.int32)
    m = module_from(lambda b, p, q: [b.emit("div", (p, q)), b.emit("rem", (p, q))], [("s32", (6,))] * 2)
    div, rem = check(m, [x, y])
    np.testing.assert_array_equal(div, [-1, -1, -1, np.iinfo(np.int32).min, -1, -5])
    np.testing.assert_array_equal(rem, [7, -7, 0, 0, np.iinfo(np.int32).min, 0])


def test_double_to_half_rounds_once():
    """Values just past a half-precision tie, where double -> float -> half would round twice."""
    base = np.float64(1 + 2.0 ** -11)
    x = np.array([base + 2.0 ** -40, base - 2.0 ** -40, -(base + 2.0 ** -40), 65519.99, 65520.0, 1e-8, 6e-8,
                  np.nan, -np.inf, 3.0000001], np.float64)
    m = module_from(lambda b, p: [b.emit("convert", (p,), dtype="f16")], [("f64", (10,))])
    (got,) = check(m, [x])
    with np.errstate(over="ignore"):
        want = x.astype(np.float16)
    np.testing.assert_array_equal(got.view(np.uint16)[:7], want.view(np.uint16)[:7])
