"""Compiled code stops where it checks its stop words (xlite/cancellation.py): before kernels, at while
back-edges, and between the pieces of a kernel split over threads."""
import re

import numpy as np
import pytest

import xlite as tf
from cpu_check import module_from
from xlite.cancellation import INTERRUPTED
from xlite.codegen.cpu import compile_cpu, emit_llvm_ir
from xlite.ir.parser import parse_module
from xlite.runtime.driver import with_naive_buffers


WHILE = """
%cond {
  %s = (s32[], f32[5]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %n = s32[] constant(10)
  ROOT %lt = pred[] compare(%i, %n), direction=LT
}

%body {
  %s = (s32[], f32[5]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %x = f32[5] get_tuple_element(%s), index=1
  %one = s32[] constant(1)
  %i2 = s32[] add(%i, %one)
  %h = f32[] constant(0.5)
  %hb = f32[5] broadcast_in_dim(%h), dimensions={}
  %x2 = f32[5] mul(%x, %hb)
  %f = f32[] convert(%i2), dtype=f32
  %fb = f32[5] broadcast_in_dim(%f), dimensions={}
  %x3 = f32[5] add(%x2, %fb)
  ROOT %t = (s32[], f32[5]) tuple(%i2, %x3)
}

ENTRY %main {
  %x0 = f32[5] parameter(0)
  %z = s32[] constant(0)
  %init = (s32[], f32[5]) tuple(%z, %x0)
  %w = (s32[], f32[5]) while(%init), calls={%cond, %body}
  %n = s32[] get_tuple_element(%w), index=0
  %r = f32[5] get_tuple_element(%w), index=1
  ROOT %out = (s32[], f32[5]) tuple(%n, %r)
}
"""


def _reference_while(x: np.ndarray) -> tuple:
    """WHILE's loop in NumPy (float64): ten rounds of x = x * 0.5 + i."""
    x = x.astype(np.float64)
    for i in range(1, 11):
        x = x * 0.5 + i
    return 10, x


def test_interrupted_run_raises_and_the_next_run_is_whole():
    executable = compile_cpu(with_naive_buffers(parse_module(WHILE)))
    x = np.arange(5, dtype=np.float32)
    INTERRUPTED[0] = 1              # as Ctrl-C's handler leaves it while Python has not yet run
    try:
        with pytest.raises(tf.errors.CancelledError, match="interrupt"):
            executable.run([x])
    finally:
        INTERRUPTED[0] = 0
    n, got = executable.run([x])
    want_n, want = _reference_while(x)
    assert int(n) == want_n
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_split_kernel_pieces_check_the_stop_words(monkeypatch):
    monkeypatch.setenv("XLITE_NUM_THREADS", "4")
    module = module_from(lambda b, x: [b.emit("exp", (x,))], [("f32", (2048, 2048))])
    compiled = with_naive_buffers(module)
    executable = compile_cpu(compiled)
    text, plan = emit_llvm_ir(compiled)
    runners = re.findall(r'define internal ptr @"?[\w.]*runner[\w.]*"?\(.*?\n}\n', text, flags=re.S)
    assert runners and plan.cancellable
    for runner in runners:
        assert runner.count("load atomic i32") == 2        # the run's word and xlite_interrupted
    x = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    INTERRUPTED[0] = 1
    try:
        with pytest.raises(tf.errors.CancelledError):
            executable.run([x])
    finally:
        INTERRUPTED[0] = 0
    np.testing.assert_allclose(executable.run([x])[0], np.exp(x.astype(np.float64)), rtol=1e-6)
