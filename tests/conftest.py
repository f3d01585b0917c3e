"""Suite-wide checks on every module any test compiles.

- XLITE_VERIFY=1: the verifier runs after every pass of the pipeline.
- Every compiled module round-trips through the IR printer and parser, and the
  interpreter gives the same results on the module as lowered and on the module
  after the whole cpu pipeline (checked on each executable's first run, with the
  test's own arguments). Set XLITE_CHECK_PIPELINE=0 to skip this.
- XLITE_TIERED=0: a signature compiles straight at its final level. Tests run each signature a few
  times, so a tier-up would be a second compile that never pays (~25% more suite time); the two tiers
  are bit-identical (tests/codegen/cpu/test_cpu_determinism.py) and tiering itself is tested in
  tests/codegen/cpu/test_tiers.py, which turns it back on.
"""
import os

import numpy as np
import pytest

os.environ.setdefault("XLITE_VERIFY", "1")
os.environ.setdefault("XLITE_TIERED", "0")


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return bool(np.allclose(a, b, rtol=2e-6, atol=1e-6, equal_nan=True))
    return bool(np.array_equal(a, b))


def _checked_compile(compile):
    """The compile driver's `compile`, checking every run signature compiled from a lowered Module."""
    from xlite.ir.module import Module
    from xlite.ir.parser import parse_module
    from xlite.ir.printer import print_module
    from xlite.runtime.driver import optimize
    from xlite.semantics.eval_rules import evaluate_module

    def compile_and_check(module, target, options=None):
        if options is not None or not isinstance(module, Module):     # traced variants, AOT objects
            return compile(module, target, options)
        text = print_module(module)
        lowered = parse_module(text)
        assert print_module(lowered) == text, "IR text does not round-trip through the parser"
        executable = compile(module, target)
        if any(i.opcode == "host_call" for c in module.all_computations() for i in c.instructions):
            return executable       # evaluating it again would call the Python functions twice more
        compiled = vars(executable).get("compiled")        # a cache hit's is made only when asked for: not here
        original_run = executable.run

        def run_once_checked(args):
            executable.run = original_run
            # on the first run, not at compile time, so that a compile runs exactly the passes it needs
            optimized = compiled.module if compiled is not None else optimize(parse_module(text)).module
            want = evaluate_module(lowered, list(args))
            got = evaluate_module(optimized, list(args))
            for i, (w, g) in enumerate(zip(want, got)):
                assert _same(w, g), f"output {i} changed under the cpu pipeline:\n{text}"
            return original_run(args)

        executable.run = run_once_checked
        return executable

    return compile_and_check


@pytest.fixture
def emulated(monkeypatch):
    """target "cuda" on the CPU emulator for this test (a fresh default driver)."""
    from xlite.codegen.cuda import driver as driver_module
    from xlite.codegen.cuda.emulator import EmulatedDriver
    monkeypatch.setenv("XLITE_CUDA_EMULATOR", "1")
    monkeypatch.setattr(driver_module, "_DEFAULT", [])
    drv = driver_module.default_driver()
    assert isinstance(drv, EmulatedDriver)
    return drv


@pytest.fixture
def world_of_one(monkeypatch):
    """A world of one process for this test, whatever started pytest: MPI is not started and every
    collective is the identity (xlite/semantics/world.py)."""
    from xlite.semantics import world
    monkeypatch.setenv("XLITE_MPI", "0")
    monkeypatch.setattr(world, "_world", None)


def pytest_configure(config):
    if os.environ.get("XLITE_CHECK_PIPELINE", "1") == "0":
        return
    from xlite.runtime import driver
    driver.compile = _checked_compile(driver.compile)
