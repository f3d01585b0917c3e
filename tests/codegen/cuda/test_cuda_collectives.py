"""Collectives on the CUDA backend are host-staged steps between kernel launches; on the emulator, in the
world of one process a test runs in, they give the interpreter's values (two processes:
tests/distribute/test_mpi_training.py)."""
import shutil

import numpy as np
import pytest

from cuda_cases import CASES, check_case, optimized
from xlite.codegen.cuda import emit_cuda
from xlite.codegen.cuda.collectives import HostCollective

COLLECTIVE_CASES = [c for c in CASES if c.name.startswith("collectives_")]


pytestmark = pytest.mark.usefixtures("world_of_one")


def test_each_collective_is_one_host_step_and_no_kernel():
    program = emit_cuda(optimized(COLLECTIVE_CASES[1].build()))
    steps = [s for s in program.steps if isinstance(s, HostCollective)]
    # the pipeline splits each all_reduce into a start (the blocking host reduction) and a done (a device copy)
    assert sorted(s.inst.opcode for s in steps) == ["all_gather", "all_reduce_done", "all_reduce_done",
                                                    "all_reduce_start", "all_reduce_start", "collective_broadcast"]
    assert not any("all_reduce" in k or "all_gather" in k for k in program.kernels)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None and shutil.which("clang++") is None,
                    reason="the cuda emulator needs a C++ compiler")
@pytest.mark.parametrize("case", COLLECTIVE_CASES, ids=lambda c: c.name)
def test_emulated_collectives_match_the_interpreter(case):
    from xlite.codegen.cuda.emulator import EmulatedDriver
    from xlite.codegen.cuda.executable import CudaExecutable
    compiled = optimized(case.build())
    got = check_case(case, case.build(), CudaExecutable(compiled.module, emit_cuda(compiled), EmulatedDriver()))
    assert np.asarray(got[0]).shape == (int(case.name.split("_")[1]), 5)
