"""PycudaDriver against a stand-in `pycuda` package whose kernels run on the CPU emulator.

This checks the glue only (argument formats, prepared_call, context handling, the
nvcc cubin build and its cache, freeing at exit); it proves nothing about the GPU:
test_cuda_differential.py does that on a real one.
"""
import shutil
import sys
import types

import pytest

from cuda_cases import CASES, check_case, optimized
from xlite.codegen.cuda import compiler, driver as driver_module
from xlite.codegen.cuda.compiler import find_nvcc

pytestmark = pytest.mark.skipif(find_nvcc() is None or shutil.which("g++") is None,
                                reason="needs nvcc (for the cubin) and g++ (for the emulator)")


class _FakeAllocation:
    def __init__(self, emulated):
        self.emulated = emulated
        self.freed = False

    def __int__(self):
        return int(self.emulated)

    def free(self):
        self.freed = True


def _fake_pycuda(monkeypatch, emulator, sources: dict):
    calls = {"push": 0, "pop": 0, "launch": 0, "allocations": []}

    class Context:
        @staticmethod
        def synchronize():
            pass

        @staticmethod
        def pop():
            calls["pop"] += 1

        def push(self):
            calls["push"] += 1

    class Device:
        def compute_capability(self):
            return (9, 0)

        def name(self):
            return "Fake H100"

    class Module:
        def __init__(self, emulated):
            self.emulated = emulated

        def get_function(self, name):
            fn = self.emulated.get_function(name)
            real_call = fn.prepared_call

            def prepared_call(grid, block, *args):
                assert isinstance(block, tuple) and len(block) == 3 and len(grid) == 3
                assert len(args) == len(fn.arg_format) and set(fn.arg_format) == {"P"}
                assert all(isinstance(a, int) for a in args)
                calls["launch"] += 1
                real_call(grid, block, *args)

            def prepare(arg_types):
                fn.arg_format = arg_types
                return fn
            fn.prepare = prepare
            fn.prepared_call = prepared_call
            return fn

    def mem_alloc(n):
        assert n >= 1
        alloc = _FakeAllocation(emulator.mem_alloc(n))
        calls["allocations"].append(alloc)
        return alloc

    drv = types.ModuleType("pycuda.driver")
    drv.Context = Context
    drv.mem_alloc = mem_alloc
    drv.memcpy_htod = emulator.memcpy_htod
    drv.memcpy_dtoh = emulator.memcpy_dtoh
    drv.memcpy_dtod = emulator.memcpy_dtod
    drv.module_from_buffer = lambda cubin: Module(emulator.load_module(sources[cubin]))
    auto = types.ModuleType("pycuda.autoprimaryctx")
    auto.context, auto.device = Context(), Device()
    package = types.ModuleType("pycuda")
    package.driver, package.autoprimaryctx = drv, auto
    for name, module in (("pycuda", package), ("pycuda.driver", drv), ("pycuda.autoprimaryctx", auto)):
        monkeypatch.setitem(sys.modules, name, module)
    return calls


@pytest.mark.slow
def test_pycuda_driver_glue(monkeypatch, tmp_path):
    from xlite.codegen.cuda import emit_cuda
    from xlite.codegen.cuda.emulator import EmulatedDriver
    from xlite.codegen.cuda.executable import CudaExecutable
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compiler, "FLAGS", compiler.FLAGS + ("-Xcicc", "-O0", "-Xptxas", "-O0"))   # glue, not speed
    sources = {}
    real_compile = compiler.compile_cubin

    def compile_and_remember(source, arch):
        assert arch == "sm_90"
        cubin = real_compile(source, arch)
        sources[cubin] = source
        return cubin
    monkeypatch.setattr(compiler, "compile_cubin", compile_and_remember)
    calls = _fake_pycuda(monkeypatch, EmulatedDriver(), sources)
    drv = driver_module.PycudaDriver()
    assert drv.arch == "sm_90" and drv.name == "Fake H100"
    executables = []
    for c in [c for c in CASES if c.name in ("softmax", "while")]:
        compiled = optimized(c.build())
        executables.append(CudaExecutable(compiled.module, emit_cuda(compiled), drv))
        check_case(c, compiled.module, executables[-1], "pycuda glue")
    assert calls["launch"] > 4
    assert compiler.STATS["misses"] >= 2 and list((tmp_path / "cuda").glob("*.cubin"))
    hits = compiler.STATS["hits"]
    c = CASES[0]
    compiled = optimized(c.build())
    check_case(c, compiled.module, CudaExecutable(compiled.module, emit_cuda(compiled), drv), "cached")
    check_case(c, compiled.module, CudaExecutable(compiled.module, emit_cuda(compiled), drv), "cached")
    assert compiler.STATS["hits"] > hits
    alive = list(drv._buffers)                 # the rest were freed by the GC, as pycuda's are
    assert alive
    drv._free_all()
    assert all(b.allocation is None for b in alive)
    assert sum(a.freed for a in calls["allocations"]) >= len(alive)
