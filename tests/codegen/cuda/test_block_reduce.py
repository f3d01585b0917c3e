"""reductions.block_reduce on its own: a hand-written kernel around it, run on the emulator and compiled by nvcc.

Each block reduces its own slice of x twice in a row (the second time over the
negated values, so a stale shared slot would show); with broadcast every thread
must end up with the block's result, without it thread 0.
"""
import ctypes
import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from xlite.codegen.cuda.c_types import ctype, memory_type
from xlite.codegen.cuda.compiler import compile_ptx, find_nvcc
from xlite.codegen.cuda.element_generator import ElementGenerator
from xlite.codegen.cuda.emulator import compile_library
from xlite.codegen.cuda.prelude import PRELUDE
from xlite.codegen.cuda.reductions import beats, block_reduce, combine, identity_literal
from xlite.codegen.cuda.writer import Writer
from xlite.ir import dtypes

BLOCKS, THREADS, N = 3, 96, 1001         # three warps; N is not a multiple of the block
CASES = [("sum", "s32"), ("sum", "f64"), ("max", "f32"), ("min", "s64"), ("argmax", "f32"), ("argmin", "s32")]


def _kernel(name: str, kind: str, dt, broadcast: bool) -> str:
    gen = ElementGenerator(Writer(), "int")
    kb = SimpleNamespace(gen=gen, w=gen.w)
    w, t = gen.w, ctype(dt)
    is_arg = kind.startswith("arg")
    for sign, slot in (("", 0), ("-", 1)):
        with gen.scope():
            acc = gen.var(t, "0" if is_arg else identity_literal(kind, dt))
            acc_i = gen.var("long long", "-1") if is_arg else None
            with gen.scope(f"for (int r = threadIdx.x; r < {N}; r += blockDim.x)"):
                v = gen.let(t, f"({t})({sign}x[blockIdx.x * {N} + r])")
                if is_arg:
                    with gen.scope(f"if ({beats(kind, dt, v, 'r', acc, acc_i)})"):
                        w.line(f"{acc} = {v}; {acc_i} = r;")
                else:
                    w.line(f"{acc} = {combine(kind, dt, acc, v)};")
            block_reduce(kb, kind, dt, acc, acc_i, broadcast=broadcast)
            at = f"(({slot} * {BLOCKS} + blockIdx.x) * {THREADS} + threadIdx.x)"
            with gen.scope("" if broadcast else "if (threadIdx.x == 0)"):
                w.line(f"out[{at}] = {acc_i if is_arg else acc};")
    out_t = "long long" if is_arg else memory_type(dt)
    return (f'extern "C" __global__ void __launch_bounds__({THREADS}) {name}(const {memory_type(dt)}* x, '
            f'{out_t}* out) {{\n{gen.w.text()}}}\n')


def _sources():
    return {(kind, dt, b): _kernel(f"br_{kind}_{dt}_{int(b)}", kind, dtypes.as_dtype(dt), b)
            for kind, dt in CASES for b in (False, True)}


def _expected(kind, x):
    fn = {"sum": np.sum, "max": np.max, "min": np.min, "argmax": np.argmax, "argmin": np.argmin}[kind]
    return np.array([fn(row) for row in x])


@pytest.mark.skipif(shutil.which("g++") is None and shutil.which("clang++") is None, reason="needs a C++ compiler")
@pytest.mark.slow
def test_block_reduce_on_the_emulator():
    sources = _sources()
    lib = compile_library(PRELUDE + "\n".join(sources.values()))
    rng = np.random.default_rng(0)
    for (kind, dt, broadcast), _ in sources.items():
        np_dt = np.dtype(dtypes.as_dtype(dt).np)
        x = (rng.standard_normal((BLOCKS, N)) * 100).astype(np_dt)
        if kind == "argmax":
            x[1, 7] = x[1, 900] = x[1].max() + 1     # the first of two equal maxima
            x[2, 500] = np.nan                       # NaN wins
        out = np.full((2, BLOCKS, THREADS), 7, np.int64 if kind.startswith("arg") else np_dt)
        argv = (ctypes.c_void_p * 2)(x.ctypes.data, out.ctypes.data)
        getattr(lib, f"xl_emu_br_{kind}_{dt}_{int(broadcast)}")(argv, BLOCKS, 1, 1, THREADS)
        readers = slice(None) if broadcast else slice(0, 1)
        for slot, values in ((0, x), (1, -x)):
            want = _expected(kind, values)
            got = out[slot][:, readers]
            if np_dt.kind == "f" and not kind.startswith("arg"):
                np.testing.assert_allclose(got, np.broadcast_to(want[:, None], got.shape), rtol=1e-6)
            else:
                np.testing.assert_array_equal(got, np.broadcast_to(want[:, None], got.shape))
        if not broadcast:
            assert (out[:, :, 1:] == 7).all()


@pytest.mark.skipif(find_nvcc() is None, reason="nvcc is not installed")
@pytest.mark.slow
@pytest.mark.parametrize("arch", ("sm_80", "sm_90"))
def test_block_reduce_compiles_to_ptx(arch):
    ptx = compile_ptx(PRELUDE + "\n".join(_sources().values()), arch, optimize=False)
    assert ptx.count(".entry ") == len(CASES) * 2
