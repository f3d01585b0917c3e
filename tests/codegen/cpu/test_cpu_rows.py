"""Row kernels (codegen/cpu/rows.py) compiled for the CPU against the interpreter, one and two threads."""
import os
import re
import sys

import numpy as np
import pytest

from cpu_check import assert_same
from tiers import slow_except
from xlite.codegen.cpu import compile_cpu, emit_llvm_ir
from xlite.runtime.driver import optimize
from xlite.semantics.eval_rules import evaluate_module

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from row_cases import ROW_CASES, RowCase, _args, _module, softmax  # noqa: E402

# big enough that the kernel is split over threads (PARALLEL_MIN_COST)
BIG = RowCase("softmax_257x4099", _module(softmax, [("f32", (257, 4099))]), _args([("f32", (257, 4099))]))


def compiled(case):
    return optimize(case.build())


@pytest.mark.parametrize(*slow_except("threads", ["1", "2"], 1))
@pytest.mark.parametrize(*slow_except("case", ROW_CASES + [BIG], 0, 4, 12, 13), ids=lambda c: c.name)
def test_row_kernel_matches_interpreter(case, threads, monkeypatch):
    monkeypatch.setenv("XLITE_NUM_THREADS", threads)
    args = case.args(np.random.default_rng(1))
    ref = [np.asarray(r) for r in evaluate_module(case.build(), [np.copy(a) for a in args])]
    got = compile_cpu(compiled(case)).run([np.copy(a) for a in args])
    for k, (g, r) in enumerate(zip(got, ref)):
        assert_same(g, r, what=f"{case.name} output {k}", **case.tol)


def _row_buffers(case) -> list:
    text, _ = emit_llvm_ir(compiled(case))
    return [(t, n) for t, n in re.findall(r"alloca (float|double|i\d+), i64 (\d+)", text) if int(n) > 1]


def test_softmax_row_keeps_exp_in_a_row_buffer_once_computed():
    """The exp of a softmax is stored by the sum's pass over the row and loaded by the output's."""
    (case,) = [c for c in ROW_CASES if c.name == "softmax_3x1000"]
    assert _row_buffers(case) == [("float", "1000")]


def test_rows_too_long_for_l1_recompute_instead():
    (case,) = [c for c in ROW_CASES if c.name == "softmax_2x10000"]
    assert _row_buffers(case) == []


def test_cheap_values_are_recomputed_not_buffered():
    (case,) = [c for c in ROW_CASES if c.name == "layer_norm"]
    assert _row_buffers(case) == []
