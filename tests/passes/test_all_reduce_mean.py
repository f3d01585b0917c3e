"""An all_reduce mean becomes a sum and a divide by the world's size; other all_reduces stay."""
import numpy as np

from xlite.ir.parser import parse_module
from xlite.ir.printer import print_module
from xlite.ir.verifier import verify_module
from xlite.passes import all_reduce_mean
from xlite.passes.all_reduce_mean import AllReduceMeanToSum
from xlite.passes.pipelines import cpu_passes
from xlite.semantics.eval_rules import evaluate_module
from xlite.semantics.world import World

TEXT = """
ENTRY e {
  %g = f32[3,2]{1,0} parameter(0)
  %s = f32[]{} parameter(1)
  %i = s32[4]{0} parameter(2)
  %r = f32[3,2]{1,0} all_reduce(%g), kind=mean
  %rs = f32[]{} all_reduce(%s), kind=mean
  %ri = s32[4]{0} all_reduce(%i), kind=sum
  %m = f32[3,2]{1,0} all_reduce(%g), kind=max
  ROOT %t = (f32[3,2]{1,0}, f32[]{}, s32[4]{0}, f32[3,2]{1,0}) tuple(%r, %rs, %ri, %m)
}"""


def test_a_float_mean_is_a_sum_divided_by_the_world_size(monkeypatch):
    monkeypatch.setattr(all_reduce_mean, "world", lambda: World(4, 0, 1, 0, None))
    module = parse_module(TEXT)
    assert AllReduceMeanToSum().run(module)
    verify_module(module)
    text = print_module(module)
    assert "%r.sum = f32[3,2]{1,0} all_reduce(%g), kind=sum" in text
    assert "%r.size = f32[] constant(4.0)" in text and "%r = f32[3,2]{1,0} div(%r.sum, %r.sizes)" in text
    assert "%rs = f32[]{} div(%rs.sum, %rs.size)" in text           # a scalar needs no broadcast
    assert "%ri = s32[4]{0} all_reduce(%i), kind=sum" in text
    assert "%m = f32[3,2]{1,0} all_reduce(%g), kind=max" in text
    assert not AllReduceMeanToSum().run(module)


def test_the_divide_is_in_the_operands_dtype(monkeypatch):
    """Evaluated in a world of one (where the sum is the operand) the result is the operand / 2 in float32."""
    monkeypatch.setattr(all_reduce_mean, "world", lambda: World(2, 0, 1, 0, None))
    module = parse_module(TEXT)
    AllReduceMeanToSum().run(module)
    g, s = np.arange(6, dtype=np.float32).reshape(3, 2) / 3, np.float32(0.7)
    got = evaluate_module(module, [g, s, np.arange(4, dtype=np.int32)])
    np.testing.assert_array_equal(got[0], g / np.float32(2))
    assert got[1] == s / np.float32(2) and got[1].dtype == np.float32


def test_a_world_of_one_keeps_its_means():
    assert not AllReduceMeanToSum().run(parse_module(TEXT))


def test_the_cpu_pipeline_splits_means_before_combining_them():
    names = [p.name for p in cpu_passes()]
    assert names.index("all-reduce-mean-to-sum") < names.index("all-reduce-combiner")
