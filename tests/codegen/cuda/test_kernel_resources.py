"""Every generated kernel fits the launch it gets on an H100 (registers x threads, shared memory, grid), by
ptxas's own count: a launch that asks for more fails only on the GPU, so CI checks it without one."""
import os
import sys

import pytest

from cuda_cases import CASES, optimized
from xlite.codegen.cuda import emit_cuda
from xlite.codegen.cuda.compiler import find_nvcc, kernel_resources
from xlite.codegen.cuda.prelude import PRELUDE
from xlite.codegen.cuda.program import Branch, Launch, While
from xlite.frontend.lower import lower_run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path[:0] = [os.path.join(ROOT, "tests"), ROOT]
from row_cases import ROW_CASES  # noqa: E402

pytestmark = [pytest.mark.skipif(find_nvcc() is None, reason="nvcc is not installed"),
              pytest.mark.slow]             # one ptxas run over every case, row case and workload

REGISTERS_PER_BLOCK = 64 * 1024      # sm_80 / sm_90
SHARED_PER_BLOCK = 48 * 1024         # static __shared__
MAX_THREADS = 1024
WORKLOADS = ("W1", "W2", "W3", "W4", "W5")


def _workload_module(wid: str):
    from benchmarks import workloads
    prog = getattr(workloads, f"build_{wid.lower()}")()
    tensors = [t for t in prog.fetches if hasattr(t, "dtype")]
    targets = [t for t in prog.fetches if not hasattr(t, "dtype")]
    return optimized(lower_run(prog.graph, tensors, targets, {t: v.shape for t, v in prog.feeds.items()}).module)


@pytest.fixture(scope="module")
def programs():
    modules = {f"case {c.name}": optimized(c.build()) for c in CASES}
    modules.update({f"row {c.name}": optimized(c.build()) for c in ROW_CASES})
    modules.update({wid: _workload_module(wid) for wid in WORKLOADS})
    return {name: emit_cuda(m, prefix=f"m{k}_") for k, (name, m) in enumerate(modules.items())}


@pytest.fixture(scope="module")
def resources(programs):
    source = PRELUDE + "\n".join(p.source[len(PRELUDE):] for p in programs.values())
    return kernel_resources(source, "sm_90")


def launches(steps):
    for step in steps:
        if isinstance(step, Launch):
            yield step
        elif isinstance(step, While):
            yield from launches(step.cond)
            yield from launches(step.body)
        elif isinstance(step, Branch):
            for branch in step.branches:
                yield from launches(branch)


def test_every_launch_fits_the_sm(programs, resources):
    problems = []
    for name, program in programs.items():
        for launch in launches(program.steps):
            r = resources[launch.kernel]
            threads = launch.block[0] * launch.block[1] * launch.block[2]
            if threads > MAX_THREADS or r.registers * threads > REGISTERS_PER_BLOCK:
                problems.append(f"{name} {launch.kernel}: {threads} threads x {r.registers} registers")
            if r.shared_bytes > SHARED_PER_BLOCK:
                problems.append(f"{name} {launch.kernel}: {r.shared_bytes} bytes of shared memory")
            if not (0 < launch.grid[0] < 1 << 31 and all(0 < g <= 65535 for g in launch.grid[1:])):
                problems.append(f"{name} {launch.kernel}: grid {launch.grid}")
    assert problems == []


def test_the_bandwidth_workloads_never_spill(programs, resources):
    for wid in ("W1", "W2"):
        for launch in launches(programs[wid].steps):
            r = resources[launch.kernel]
            assert r.spill_bytes == 0 and r.stack_bytes == 0, (wid, launch.kernel, r)


def test_resources_are_parsed_for_every_kernel(programs, resources):
    names = {launch.kernel for p in programs.values() for launch in launches(p.steps)}
    assert names <= set(resources)
    assert all(r.registers > 0 for r in resources.values())
    row = next(launch.kernel for launch in launches(programs["W2"].steps))
    assert resources[row].shared_bytes > 0          # block_reduce's partials
