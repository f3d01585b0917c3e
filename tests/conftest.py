"""Suite-wide checks on every module any test compiles.

- XLITE_VERIFY=1: the verifier runs after every pass of the pipeline.
- Every compiled module round-trips through the IR printer and parser, and the
  interpreter gives the same results on the module as lowered and on the module
  after the whole cpu pipeline (checked on each executable's first run, with the
  test's own arguments). Set XLITE_CHECK_PIPELINE=0 to skip this.
"""
import os

import numpy as np
import pytest

os.environ.setdefault("XLITE_VERIFY", "1")


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return bool(np.allclose(a, b, rtol=2e-6, atol=1e-6, equal_nan=True))
    return bool(np.array_equal(a, b))


def _checked_compile(compile_module):
    from xlite.ir.parser import parse_module
    from xlite.ir.printer import print_module
    from xlite.passes.pipelines import cpu_pipeline
    from xlite.runtime.interpreter import evaluate_module

    def compile_and_check(module, target):
        text = print_module(module)
        lowered = parse_module(text)
        assert print_module(lowered) == text, "IR text does not round-trip through the parser"
        executable = compile_module(module, target)
        optimized = executable.module if "buffer_assignment" in executable.module.properties else None
        if optimized is None:
            optimized = parse_module(text)
            cpu_pipeline().run(optimized)
        original_run = executable.run

        def run_once_checked(args):
            executable.run = original_run
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


def pytest_configure(config):
    if os.environ.get("XLITE_CHECK_PIPELINE", "1") == "0":
        return
    from xlite.runtime import executable, session
    checked = _checked_compile(executable.compile_module)
    session.compile_module = checked
