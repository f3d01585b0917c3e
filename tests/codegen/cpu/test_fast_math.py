"""xlite/codegen/cpu/fast_math.py against a higher-precision NumPy reference.

Each function is JIT-compiled inside a loop `void f(T* noalias in, T* noalias out, i64 n)`
at -O3 with loop vectorization, as the elemental emitter's loops are, and run on a
dense sweep of inputs: random bit patterns over the whole float range (so every
binade, denormals, infinities and NaNs), uniform samples over each function's
interesting range, and hand-picked edge cases. The reference is NumPy in long
double (x87 extended, 11 more bits than float64) rounded to the tested type.
"""
from __future__ import annotations

import ctypes
import re

import numpy as np
import pytest
from llvmlite import binding as llvm
from llvmlite import ir

from tiers import slow_except
from xlite.codegen.cpu import fast_math
from xlite.codegen.cpu.fast_math import FAST_MATH, TRIG_ACCURATE_LIMIT, ULP_BOUNDS

LD = np.longdouble
_ld_ok = np.finfo(LD).nmant >= 63

# ---------------------------------------------------------------------------------------
# JIT helpers (local to this file)
_TM = None
_ENGINES = []          # keep every engine (and its code) alive for the whole session
_CACHE: dict = {}


def _target_machine():
    global _TM
    if _TM is None:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        target = llvm.Target.from_default_triple()
        _TM = target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                           features=llvm.get_host_cpu_features().flatten(), opt=3)
    return _TM


def _loop_module(name: str, dtype, lanes: int | None = None) -> ir.Module:
    """`void f(T* noalias in, T* noalias out, i64 n)`: out[i] = fn(in[i]) for i < n, where T is the
    scalar type, or the vector type <lanes x scalar> (then n counts vectors)."""
    scalar = ir.FloatType() if dtype == np.float32 else ir.DoubleType()
    ty = scalar if lanes is None else ir.VectorType(scalar, lanes)
    tm = _target_machine()
    module = ir.Module(name=f"{name}_{np.dtype(dtype).name}_{lanes}")
    module.triple = tm.triple
    module.data_layout = str(tm.target_data)
    i64 = ir.IntType(64)
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [ty.as_pointer(), ty.as_pointer(), i64]), "f")
    for arg in fn.args[:2]:
        arg.add_attribute("noalias")
    src, dst, n = fn.args
    entry, loop, done = fn.append_basic_block("entry"), fn.append_basic_block("loop"), fn.append_basic_block("done")
    b = ir.IRBuilder(entry)
    b.cbranch(b.icmp_signed(">", n, ir.Constant(i64, 0)), loop, done)
    b.position_at_end(loop)
    i = b.phi(i64)
    i.add_incoming(ir.Constant(i64, 0), entry)
    align = np.dtype(dtype).itemsize          # NumPy guarantees no more for the vector loads
    y = FAST_MATH[name](b, b.load(b.gep(src, [i]), align=align))
    assert y.type == ty
    b.store(y, b.gep(dst, [i]), align=align)
    nxt = b.add(i, ir.Constant(i64, 1))
    i.add_incoming(nxt, loop)
    b.cbranch(b.icmp_signed("<", nxt, n), loop, done)
    b.position_at_end(done)
    b.ret_void()
    return module


def _optimize(module: ir.Module) -> llvm.ModuleRef:
    ref = llvm.parse_assembly(str(module))
    ref.verify()
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pb = llvm.create_pass_builder(_target_machine(), pto)
    pb.getModulePassManager().run(ref, pb)
    return ref


def _compiled(name: str, dtype, lanes: int | None = None):
    """(callable f(x) -> y, optimized IR text) for one function, type and vector width."""
    key = (name, np.dtype(dtype).name, lanes)
    if key not in _CACHE:
        ref = _optimize(_loop_module(name, dtype, lanes))
        text = str(ref)
        engine = llvm.create_mcjit_compiler(ref, _target_machine())
        engine.finalize_object()
        _ENGINES.append(engine)
        cptr = ctypes.c_void_p
        raw = ctypes.CFUNCTYPE(None, cptr, cptr, ctypes.c_int64)(engine.get_function_address("f"))

        def run(x, _raw=raw, _lanes=lanes or 1):
            x = np.ascontiguousarray(x, dtype=dtype)
            assert x.size % _lanes == 0
            y = np.empty_like(x)
            _raw(x.ctypes.data, y.ctypes.data, x.size // _lanes)
            return y
        _CACHE[key] = (run, text)
    return _CACHE[key]


# ---------------------------------------------------------------------------------------
# reference and error measure
def _logistic_ld(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


_REFERENCE = {"exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "tanh": np.tanh,
              "logistic": _logistic_ld, "sin": np.sin, "cos": np.cos}


def reference(name: str, x: np.ndarray) -> np.ndarray:
    """The function in long double, rounded once to x's type."""
    with np.errstate(all="ignore"):
        return _REFERENCE[name](x.astype(LD)).astype(x.dtype)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many representable values lie between a and b (0 when equal, +0 == -0, NaN == NaN)."""
    itype = np.int32 if a.dtype == np.float32 else np.int64
    sign = np.iinfo(itype).max

    def ordered(v):
        i = v.view(itype).astype(np.int64) if itype is np.int32 else v.view(itype)
        return np.where(i < 0, -(i & sign), i)
    with np.errstate(over="ignore"):
        d = np.abs(ordered(a) - ordered(b))
    both_nan = np.isnan(a) & np.isnan(b)
    one_nan = np.isnan(a) ^ np.isnan(b)
    return np.where(both_nan, 0, np.where(one_nan, np.iinfo(np.int64).max, d))


# interesting ranges per function: (lo, hi) sampled uniformly
_RANGES = {
    "exp": [(-104.5, 89.5), (-1.0, 1.0), (-103.0, -88.0), (88.0, 88.8)],
    "expm1": [(-30.0, 89.5), (-1.0, 1.0), (-1e-3, 1e-3), (-20.0, -15.0)],
    "log": [(0.0, 4.0), (0.5, 2.0), (0.9, 1.1), (0.0, 1e-37)],
    "log1p": [(-1.0, 4.0), (-1e-3, 1e-3), (-1.0, -0.99), (-0.4, 0.5), (1e6, 1e9)],
    "tanh": [(-12.0, 12.0), (-1.0, 1.0), (0.5, 0.6), (8.5, 9.5), (-1e-3, 1e-3)],
    "logistic": [(-110.0, 30.0), (-10.0, 10.0), (-1.0, 1.0), (-104.0, -86.0)],
    "sin": [(-10.0, 10.0), (-1e4, 1e4), (-2.0 ** 30, 2.0 ** 30), (2.0 ** 46, 2.0 ** 48)],
    "cos": [(-10.0, 10.0), (-1e4, 1e4), (-2.0 ** 30, 2.0 ** 30), (2.0 ** 46, 2.0 ** 48)],
}


def sweep(name: str, dtype, n_random: int, n_range: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    itype = np.uint32 if dtype == np.float32 else np.uint64
    bits = rng.integers(0, np.iinfo(itype).max, size=n_random, dtype=itype, endpoint=True)
    parts = [bits.view(dtype)]
    for lo, hi in _RANGES[name]:
        parts.append(rng.uniform(lo, hi, size=n_range).astype(dtype))
    finfo = np.finfo(dtype)
    tiny = finfo.smallest_subnormal
    parts.append(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, tiny, -tiny, finfo.tiny, -finfo.tiny,
                           finfo.max, -finfo.max, 1.0, -1.0, 0.5, 2.0], dtype=dtype))
    x = np.concatenate(parts)
    if name in ("sin", "cos"):
        x = x[~(np.abs(x) >= TRIG_ACCURATE_LIMIT)]
    return x


def _report(name, x, y, ref):
    d = ulp_distance(y, ref)
    k = int(np.argmax(d))
    bits = x[k].view(np.uint32 if x.dtype == np.float32 else np.uint64)
    return f"{name}: max {int(d[k])} ulp at x={x[k]!r} ({bits:#x}): got {y[k]!r}, want {ref[k]!r}"


# ---------------------------------------------------------------------------------------
pytestmark = pytest.mark.skipif(not _ld_ok, reason="long double is not x87 extended here")
NAMES = sorted(FAST_MATH)


@pytest.mark.parametrize(*slow_except("name", NAMES, 1, 3, 6))
def test_float32_accuracy(name):
    x = sweep(name, np.float32, n_random=1 << 20, n_range=1 << 17)
    run, _ = _compiled(name, np.float32)
    y, ref = run(x), reference(name, x)
    d = ulp_distance(y, ref)
    assert d.max() <= ULP_BOUNDS[name], _report(name, x, y, ref)


@pytest.mark.parametrize("name", NAMES)
def test_float64_accuracy(name):
    x = sweep(name, np.float64, n_random=1 << 17, n_range=1 << 15, seed=1)
    run, _ = _compiled(name, np.float64)
    y, ref = run(x), reference(name, x)
    d = ulp_distance(y, ref)
    assert d.max() <= ULP_BOUNDS[name], _report(name, x, y, ref)


_INF, _NAN = np.inf, np.nan
_F32, _F64 = "float32", "float64"     # marks a case that holds for that type only
_SPECIAL = {
    # name: [(x, expected[, _F32]), ...]; compared bit for bit (any NaN matches NaN)
    "exp": [(0.0, 1.0), (-0.0, 1.0), (_INF, _INF), (-_INF, 0.0), (_NAN, _NAN), (1e300, _INF), (-1e300, 0.0),
            (-746.0, 0.0), (710.0, _INF), (88.8, _INF, _F32), (-104.0, 0.0, _F32), (-103.0, 1e-45, _F32),
            (88.72, 3.3931806e38, _F32)],
    "expm1": [(0.0, 0.0), (-0.0, -0.0), (_INF, _INF), (-_INF, -1.0), (_NAN, _NAN), (1e-300, 1e-300),
              (-1e300, -1.0), (1e300, _INF), (-30.0, -1.0, _F32), (89.0, _INF, _F32), (1e-40, 1e-40, _F32),
              (-1e-40, -1e-40, _F32)],
    "log": [(1.0, 0.0), (0.0, -_INF), (-0.0, -_INF), (-1.0, _NAN), (-_INF, _NAN), (_INF, _INF), (_NAN, _NAN),
            (-1e-300, _NAN, _F64), (5e-324, -744.4400719213812, _F64), (1e-45, -103.27893, _F32)],
    "log1p": [(0.0, 0.0), (-0.0, -0.0), (-1.0, -_INF), (-1.5, _NAN), (-_INF, _NAN), (_INF, _INF), (_NAN, _NAN),
              (1e-300, 1e-300), (-1e-300, -1e-300), (1e-40, 1e-40, _F32), (-1e-40, -1e-40, _F32)],
    "tanh": [(0.0, 0.0), (-0.0, -0.0), (_INF, 1.0), (-_INF, -1.0), (_NAN, _NAN), (20.0, 1.0), (-20.0, -1.0),
             (1e-300, 1e-300), (-1e-300, -1e-300), (1e300, 1.0), (-1e300, -1.0), (9.1, 1.0, _F32),
             (-9.1, -1.0, _F32), (1e-40, 1e-40, _F32), (-1e-40, -1e-40, _F32)],
    "logistic": [(0.0, 0.5), (-0.0, 0.5), (_INF, 1.0), (-_INF, 0.0), (_NAN, _NAN), (40.0, 1.0),
                 (-1e300, 0.0), (1e300, 1.0), (-746.0, 0.0), (100.0, 1.0, _F32), (-104.0, 0.0, _F32),
                 (-100.0, 3.7835e-44, _F32)],
    "sin": [(0.0, 0.0), (-0.0, -0.0), (_INF, _NAN), (-_INF, _NAN), (_NAN, _NAN), (1e-300, 1e-300),
            (1e-40, 1e-40, _F32)],
    "cos": [(0.0, 1.0), (-0.0, 1.0), (_INF, _NAN), (-_INF, _NAN), (_NAN, _NAN), (1e-300, 1.0)],
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_special_values(name, dtype):
    cases = [c for c in _SPECIAL[name] if len(c) == 2 or c[2] == np.dtype(dtype).name]
    with np.errstate(over="ignore", under="ignore"):
        x = np.array([c[0] for c in cases], dtype=dtype)
        want = np.array([c[1] for c in cases], dtype=dtype)
    run, _ = _compiled(name, dtype)
    y = run(x)
    itype = np.uint32 if dtype == np.float32 else np.uint64
    same = (y.view(itype) == want.view(itype)) | (np.isnan(y) & np.isnan(want))
    assert same.all(), (x[~same], y[~same], want[~same])
    assert (ulp_distance(reference(name, x), want) == 0).all()     # the table agrees with NumPy


def test_denormal_edges():
    """Gradual underflow in exp and logistic, and log of denormals, against the reference exactly
    or to within the bound."""
    x = np.linspace(-104.0, -87.0, 20001, dtype=np.float32)
    for name in ("exp", "logistic"):
        run, _ = _compiled(name, np.float32)
        y, ref = run(x), reference(name, x)
        assert (y[x < -88] < np.finfo(np.float32).tiny).all()
        assert ulp_distance(y, ref).max() <= ULP_BOUNDS[name], _report(name, x, y, ref)
    x = (np.arange(1, 1 << 16, dtype=np.uint32) * 127).view(np.float32)      # denormals
    run, _ = _compiled("log", np.float32)
    y, ref = run(x), reference("log", x)
    assert ulp_distance(y, ref).max() <= ULP_BOUNDS["log"], _report("log", x, y, ref)


@pytest.mark.parametrize("dtype,edge", [(np.float32, 88.72284), (np.float64, 709.782712893384)])
@pytest.mark.parametrize("name", ["exp", "expm1"])
def test_overflow_edge_exact(name, dtype, edge):
    """Overflow to inf starts at exactly the input where the true value rounds to inf (the ulp
    bound alone would let FLT_MAX and inf swap: they are 1 ulp apart)."""
    itype = np.int32 if dtype == np.float32 else np.int64
    x = (np.arange(-20000, 20000, dtype=itype) + np.array(edge, dtype).view(itype)).view(dtype)
    run, _ = _compiled(name, dtype)
    y, ref = run(x), reference(name, x)
    assert np.isinf(ref).any() and not np.isinf(ref).all()
    assert np.array_equal(np.isinf(y), np.isinf(ref))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trig_huge_arguments_stay_bounded(dtype):
    """Beyond the accurate range sin/cos still give values in [-1, 1] (no NaN, no poison)."""
    exponents = np.linspace(np.log2(TRIG_ACCURATE_LIMIT), np.finfo(dtype).maxexp - 1, 2000)
    x = np.exp2(exponents).astype(dtype)
    x = np.concatenate([x, [np.finfo(dtype).max]])
    x = np.concatenate([x, -x])
    for name in ("sin", "cos"):
        run, _ = _compiled(name, dtype)
        y = run(x)
        assert np.all(np.abs(y) <= 1), (name, x[~(np.abs(y) <= 1)][:5], y[~(np.abs(y) <= 1)][:5])


# ---------------------------------------------------------------------------------------
_MATH_INTRINSICS = {"exp", "exp2", "exp10", "log", "log2", "log10", "pow", "powi", "sin", "cos", "tan",
                    "tanh", "sincos", "asin", "acos", "atan", "sinh", "cosh"}


def _bad_calls(text: str) -> set:
    """Called functions that are not LLVM intrinsics, or are math intrinsics (which lower to libm)."""
    called = set(re.findall(r"call [^@]*@([\w.$]+)\(", text))
    return {f for f in called if not f.startswith("llvm.") or f.split(".")[1] in _MATH_INTRINSICS}


@pytest.mark.parametrize("name", NAMES)
def test_loop_vectorizes(name):
    """The optimized loop works on <N x float> (16 on this AVX-512 host) and calls no libm function
    and no math intrinsic: only fma, rint, fabs, ... which lower to vector instructions."""
    _, text = _compiled(name, np.float32)
    assert re.search(r"<(4|8|16|32) x float>", text), text
    assert not _bad_calls(text)


@pytest.mark.parametrize(*slow_except("dtype,lanes", [(np.float32, 8), (np.float32, 16), (np.float64, 4)], 0))
@pytest.mark.parametrize("name", NAMES)
def test_vector_type_entry_point(name, dtype, lanes):
    """Emitting on a vector value directly gives the scalar loop's results bit for bit."""
    x = sweep(name, dtype, n_random=1 << 12, n_range=1 << 10, seed=2)
    x = x[: x.size - x.size % lanes]
    vrun, text = _compiled(name, dtype, lanes)
    srun, _ = _compiled(name, dtype)
    elem = "float" if dtype == np.float32 else "double"
    assert f"<{lanes} x {elem}>" in text
    assert not _bad_calls(text)
    itype = np.uint32 if dtype == np.float32 else np.uint64
    vy, sy = vrun(x), srun(x)
    same = (vy.view(itype) == sy.view(itype)) | (np.isnan(vy) & np.isnan(sy))
    assert same.all(), (x[~same][:5], vy[~same][:5], sy[~same][:5])


def test_rejects_non_float_types():
    b = ir.IRBuilder(ir.Function(ir.Module(), ir.FunctionType(ir.VoidType(), [ir.IntType(32)]), "g")
                     .append_basic_block())
    with pytest.raises(TypeError):
        fast_math.emit_exp(b, b.function.args[0])


def test_install_routes_mathlib(monkeypatch):
    """install() makes mathlib.emit_math(fc, name, x) emit these functions (registry restored after)."""
    from xlite.codegen.cpu import mathlib
    monkeypatch.setattr(mathlib, "_IMPLS", dict(mathlib._IMPLS))
    fast_math.install(("exp", "tanh"))
    fn = ir.Function(ir.Module(), ir.FunctionType(ir.FloatType(), [ir.FloatType()]), "g")

    class FC:
        builder = ir.IRBuilder(fn.append_basic_block())
    y = mathlib.emit_math(FC, "tanh", fn.args[0])
    FC.builder.ret(y)
    text = str(fn.module)
    assert "llvm.fma.f32" in text and "llvm.tanh" not in text
