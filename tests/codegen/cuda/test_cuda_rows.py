"""Row kernels (codegen/cuda/rows.py): one launch per row fusion, valid PTX, and the interpreter's values on
the emulator (and on a GPU, cuda-marked); and W1 and W2 of the benchmark suite each one launch."""
import os
import shutil
import sys

import numpy as np
import pytest

from cuda_cases import assert_same, optimized
from xlite.codegen.cuda import availability, emit_cuda
from xlite.codegen.cuda.compiler import compile_ptx, find_nvcc
from xlite.codegen.cuda.driver import emulating
from xlite.codegen.cuda.emulator import EmulatedDriver
from xlite.codegen.cuda.executable import CudaExecutable
from xlite.codegen.cuda.prelude import PRELUDE
from xlite.frontend.lower import lower_run
from xlite.semantics.eval_rules import evaluate_module

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path[:0] = [os.path.join(ROOT, "tests"), ROOT]
from row_cases import ROW_CASES, RowCase, _args, _module, softmax  # noqa: E402

# rows of 1024 (W2's): each thread keeps its 4 exps in registers; and rows too long to keep them
CASES = ROW_CASES + [
    RowCase("softmax_9x1024", _module(softmax, [("f32", (9, 1024))]), _args([("f32", (9, 1024))])),
    RowCase("softmax_2x5000", _module(softmax, [("f32", (2, 5000))]), _args([("f32", (2, 5000))])),
]


@pytest.fixture(scope="module")
def programs():
    return {c.name: emit_cuda(optimized(c.build()), prefix=f"r{k}_") for k, c in enumerate(CASES)}


def test_each_row_fusion_is_one_launch(programs):
    for c in CASES:
        if c.fused:
            assert programs[c.name].launches == 1, c.name


def test_registers_keep_the_exp_only_when_the_row_fits(programs):
    assert "xl_row" in programs["softmax_9x1024"].source
    assert "xl_row" not in programs["softmax_2x5000"].source


@pytest.mark.skipif(find_nvcc() is None, reason="nvcc is not installed")
@pytest.mark.parametrize("arch", [pytest.param("sm_80", marks=pytest.mark.slow), "sm_90"])
def test_row_kernels_compile_to_ptx(programs, arch):
    source = PRELUDE + "\n".join(p.source[len(PRELUDE):] for p in programs.values())
    ptx = compile_ptx(source, arch, optimize=False)
    for p in programs.values():
        for name in p.kernels:
            assert f".entry {name}(" in ptx


NO_CXX = shutil.which("g++") is None and shutil.which("clang++") is None
DRIVERS = [pytest.param("emulator", marks=[pytest.mark.skipif(NO_CXX, reason="the cuda emulator needs a C++ compiler"),
                                         pytest.mark.slow]),
           pytest.param("gpu", marks=[pytest.mark.cuda, pytest.mark.skipif(
               emulating() or not availability.is_available(), reason="needs an NVIDIA GPU with pycuda, its driver "
               "and nvcc: " + "; ".join(availability.missing()))])]
_DRIVERS: dict = {}


@pytest.fixture(scope="module", params=DRIVERS)
def driver(request, programs):
    """The emulator, or the GPU (cuda-marked); each loads every case's kernels at once."""
    if request.param not in _DRIVERS:
        if request.param == "emulator":
            drv = EmulatedDriver()
        else:
            from xlite.codegen.cuda.driver import default_driver
            drv = default_driver()
        drv.preload([p.source for p in programs.values()])
        _DRIVERS[request.param] = drv
    return _DRIVERS[request.param]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_row_kernel_matches_interpreter(programs, driver, case):
    module = optimized(case.build()).module
    args = case.args(np.random.default_rng(3))
    ref = [np.asarray(r) for r in evaluate_module(case.build(), [np.copy(a) for a in args])]
    got = CudaExecutable(module, programs[case.name], driver).run([np.copy(a) for a in args])
    for k, (g, r) in enumerate(zip(got, ref)):
        assert_same(np.asarray(g), r, what=f"{case.name} output {k}", **case.tol)


@pytest.mark.parametrize("wid, launches", [("W1", 1), ("W2", 1)])
def test_w1_and_w2_are_one_launch_each(wid, launches):
    from benchmarks import workloads
    prog = getattr(workloads, f"build_{wid.lower()}")()
    feeds = {t: v.shape for t, v in prog.feeds.items()}
    module = optimized(lower_run(prog.graph, prog.fetches, [], feeds).module)
    assert emit_cuda(module).launches == launches
