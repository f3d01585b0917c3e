"""Tensor fusion: independent all_reduces of one kind and dtype become one over a concatenated buffer."""
import numpy as np

from xlite.ir.parser import parse_module
from xlite.ir.verifier import verify_module
from xlite.passes.all_reduce_combiner import AllReduceCombiner
from xlite.semantics.eval_rules import evaluate_module

TEXT = """
ENTRY e {
  %g1 = f32[3,2]{1,0} parameter(0)
  %g2 = f32[4]{0} parameter(1)
  %i = s32[5]{0} parameter(2)
  %r1 = f32[3,2]{1,0} all_reduce(%g1), kind=mean
  %n = f32[3,2]{1,0} neg(%r1)
  %r2 = f32[4]{0} all_reduce(%g2), kind=mean
  %r3 = f32[3,2]{1,0} all_reduce(%n), kind=mean
  %r4 = f32[4]{0} all_reduce(%g2), kind=max
  %r5 = s32[5]{0} all_reduce(%i), kind=sum
  %r6 = f32[3,2]{1,0} all_reduce(%g1), kind=max
  ROOT %t = (f32[3,2]{1,0}, f32[4]{0}, f32[3,2]{1,0}, f32[4]{0}, s32[5]{0}, f32[3,2]{1,0}) tuple(%n, %r2, %r3, %r4, %r5, %r6)
}"""


def _all_reduces(module):
    return [(i.attrs["kind"], i.shape.dims) for i in module.entry.instructions if i.opcode == "all_reduce"]


def test_independent_all_reduces_of_a_kind_and_dtype_combine():
    module = parse_module(TEXT)
    assert AllReduceCombiner().run(module)
    verify_module(module)
    # r1+r2 (mean, r3 depends on r1 so stays apart), r4+r6 (max); the int sum is alone
    assert sorted(_all_reduces(module)) == [("max", (10,)), ("mean", (3, 2)), ("mean", (10,)), ("sum", (5,))]
    args = [np.arange(6, dtype=np.float32).reshape(3, 2), np.ones(4, np.float32), np.arange(5, dtype=np.int32)]
    for got, want in zip(evaluate_module(module, args), evaluate_module(parse_module(TEXT), args)):
        np.testing.assert_array_equal(got, want)
    assert not AllReduceCombiner().run(module)


def test_the_fusion_buffer_is_bounded():
    module = parse_module(TEXT)
    AllReduceCombiner(fusion_bytes=30).run(module)       # 24 + 16 bytes do not fit in one buffer
    assert ("mean", (10,)) not in _all_reduces(module) and ("max", (10,)) not in _all_reduces(module)
