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


# Gradients in a backward pass: g2 and g1 need only x; g3 needs the dot %h first (a later layer's work).
BACKWARD = """
ENTRY e {
  %x = f32[128,64]{1,0} parameter(0)
  %w = f32[64,64]{1,0} parameter(1)
  %h = f32[128,64]{1,0} dot(%x, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
  %g3 = f32[64,64]{1,0} dot(%x, %h), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={0}, rhs_contracting_dims={0}
  %g1 = f32[64,64]{1,0} dot(%x, %x), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={0}, rhs_contracting_dims={0}
  %g2 = f32[64]{0} reduce(%x), dimensions={0}, kind=sum
  %r3 = f32[64,64]{1,0} all_reduce(%g3), kind=mean
  %r1 = f32[64,64]{1,0} all_reduce(%g1), kind=mean
  %r2 = f32[64]{0} all_reduce(%g2), kind=mean
  ROOT %t = (f32[64,64]{1,0}, f32[64,64]{1,0}, f32[64]{0}) tuple(%r3, %r1, %r2)
}"""
BUCKET = 64 * 64 * 4 + 64 * 4      # g2 and g1 fill it


def _backward_args():
    x = np.random.RandomState(0).standard_normal((128, 64)).astype(np.float32)
    w = np.random.RandomState(1).standard_normal((64, 64)).astype(np.float32)
    return [x, w]


def test_buckets_follow_the_backward_pass_and_close_before_a_later_layers_work():
    module = parse_module(BACKWARD)
    assert AllReduceCombiner(bucket_bytes=BUCKET).run(module)
    verify_module(module)
    # g2 and g1 (ready first) share a bucket; g3 needs the dot %h they do not, so it is reduced on its own
    assert sorted(_all_reduces(module)) == [("mean", (64, 64)), ("mean", (64 * 64 + 64,))]
    concat = next(i for i in module.entry.instructions if i.opcode == "concatenate")
    assert [o.operands[0].name for o in concat.operands] == ["g2", "g1"]
    args = _backward_args()
    for got, want in zip(evaluate_module(module, args), evaluate_module(parse_module(BACKWARD), args)):
        np.testing.assert_array_equal(got, want)
    one_bucket = parse_module(BACKWARD)
    AllReduceCombiner(bucket_bytes=1 << 30).run(one_bucket)
    assert _all_reduces(one_bucket) == [("mean", (2 * 64 * 64 + 64,))]


def test_a_gradient_that_fills_a_bucket_is_reduced_alone_where_it_was_made():
    """Copying it into a fusion buffer would cost more than its call's latency: g1 and g3 each fill a bucket
    of 16 KB, so nothing is combined (g2 has no partner left) and no concatenate copies them."""
    module = parse_module(BACKWARD)
    assert not AllReduceCombiner(bucket_bytes=64 * 64 * 4).run(module)
    assert not any(i.opcode == "concatenate" for i in module.entry.instructions)
    assert sorted(_all_reduces(module)) == [("mean", (64,)), ("mean", (64, 64)), ("mean", (64, 64))]


def test_the_least_bucket_grows_with_the_world(monkeypatch):
    """One more bucket costs a ring's 2 (p - 1) latencies: with 64 processes all three gradients share one."""
    from xlite.passes import all_reduce_combiner
    from xlite.semantics.world import World
    monkeypatch.setattr(all_reduce_combiner, "world", lambda: World(64, 0, 1, 0, None))
    assert all_reduce_combiner.default_bucket_bytes() == 64 * 32 << 10
    module = parse_module(BACKWARD)
    AllReduceCombiner().run(module)
    assert _all_reduces(module) == [("mean", (2 * 64 * 64 + 64,))]
