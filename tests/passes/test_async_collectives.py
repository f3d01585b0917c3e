"""The entry's all_reduces split into all_reduce_start / all_reduce_done pairs; loop bodies keep theirs."""
import numpy as np

from xlite.ir.parser import parse_module
from xlite.ir.printer import print_module
from xlite.ir.verifier import verify_module
from xlite.passes.async_collectives import AsyncCollectives
from xlite.semantics.eval_rules import evaluate_module

TEXT = """
ENTRY e {
  %g = f32[3,2]{1,0} parameter(0)
  %r = f32[3,2]{1,0} all_reduce(%g), kind=mean
  %n = f32[3,2]{1,0} neg(%r)
  ROOT %t = (f32[3,2]{1,0}, f32[3,2]{1,0}) tuple(%n, %r)
}"""


def test_an_entry_all_reduce_becomes_a_start_and_a_done_its_users_read():
    module = parse_module(TEXT)
    assert AsyncCollectives().run(module)
    verify_module(module)
    text = print_module(module)
    assert "%r.start.1 = f32[3,2]{1,0} all_reduce_start(%g), kind=mean" in text
    assert "%r = f32[3,2]{1,0} all_reduce_done(%r.start.1)" in text and "neg(%r)" in text
    args = [np.arange(6, dtype=np.float32).reshape(3, 2)]
    for got, want in zip(evaluate_module(module, args), evaluate_module(parse_module(TEXT), args)):
        np.testing.assert_array_equal(got, want)
    assert not AsyncCollectives().run(module)


def test_a_loop_body_keeps_its_blocking_all_reduce():
    module = parse_module("""
    body {
      %s = (f32[4]{0}) parameter(0)
      %x = f32[4]{0} get_tuple_element(%s), index=0
      %r = f32[4]{0} all_reduce(%x), kind=sum
      ROOT %t = (f32[4]{0}) tuple(%r)
    }
    cond {
      %s = (f32[4]{0}) parameter(0)
      ROOT %c = pred[] constant(false)
    }
    ENTRY e {
      %p = f32[4]{0} parameter(0)
      %init = (f32[4]{0}) tuple(%p)
      ROOT %w = (f32[4]{0}) while(%init), calls={%cond,%body}
    }""")
    assert not AsyncCollectives().run(module)
    body = next(c for c in module.computations if c.name == "body")
    assert [i.opcode for i in body.instructions].count("all_reduce") == 1
