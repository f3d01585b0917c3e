"""Layout assignment: row-major everywhere, except where a layout turns a transpose into a free bitcast."""
import numpy as np

import xlite as tf
from xlite.frontend.lower import lower_run
from xlite.ir.parser import parse_module
from xlite.ir.printer import print_module
from xlite.ir.shape import Layout
from xlite.ir.verifier import verify_module
from xlite.passes.layout_assignment import LayoutAssignment
from xlite.passes.pipelines import cpu_pipeline
from xlite.semantics.eval_rules import evaluate_module


def assign(text: str, args):
    m = parse_module(text)
    before = evaluate_module(m, args)
    assert LayoutAssignment().run(m)
    verify_module(m)
    assert m.layouts_assigned
    after = evaluate_module(m, args)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)
    return m


def entry(m):
    return {i.name: i for i in m.entry.instructions}


def test_transpose_read_by_elementwise_becomes_bitcast_with_permuted_layout():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = np.ones((3, 2), np.float32)
    m = assign("""
      ENTRY e {
        %p = f32[2,3] parameter(0)
        %q = f32[3,2] parameter(1)
        %t = f32[3,2] transpose(%p), dimensions={1,0}
        %a = f32[3,2] add(%t, %q)
        ROOT %r = (f32[3,2]) tuple(%a)
      }""", [x, y])
    insts = entry(m)
    assert insts["t"].opcode == "bitcast"
    assert insts["t"].shape.layout == Layout((0, 1))
    for name in ("p", "q", "a"):
        assert insts[name].shape.layout == Layout((1, 0))


def test_rank3_transpose_layout_keeps_bytes():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    m = assign("""
      ENTRY e {
        %p = f32[2,3,4] parameter(0)
        %t = f32[4,2,3] transpose(%p), dimensions={2,0,1}
        %n = f32[4,2,3] neg(%t)
        ROOT %s = f32[4,3] reduce(%n), dimensions={1}, kind=sum
      }""", [x])
    t = entry(m)["t"]
    assert t.opcode == "bitcast"
    # operand dims minor to major: 2, 1, 0 -> result dims holding them: 0, 2, 1
    assert t.shape.layout == Layout((0, 2, 1))


def test_transpose_into_root_dot_or_tuple_stays_a_transpose():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    m = assign("""
      ENTRY e {
        %p = f32[2,3] parameter(0)
        %t = f32[3,2] transpose(%p), dimensions={1,0}
        %u = f32[3,2] transpose(%p), dimensions={1,0}, metadata={op_name="other"}
        %d = f32[3,3] dot(%u, %p), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
        ROOT %r = (f32[3,2], f32[3,3]) tuple(%t, %d)
      }""", [x])
    insts = entry(m)
    assert insts["t"].opcode == "transpose" and insts["u"].opcode == "transpose"
    assert all(i.shape.layout == Layout.row_major(i.shape.rank) for i in m.entry.instructions
               if not i.shape.is_tuple)


def test_reshape_of_row_major_is_bitcast():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    m = assign("""
      ENTRY e {
        %p = f32[3,4] parameter(0)
        %r = f32[2,6] reshape(%p)
        %n = f32[2,6] neg(%r)
        ROOT %out = (f32[2,6]) tuple(%n)
      }""", [x])
    assert entry(m)["r"].opcode == "bitcast"


def test_sub_computations_are_row_major_at_their_boundaries():
    m = assign("""
      %cond {
        %s = (s32[], f32[2,3]) parameter(0)
        %i = s32[] get_tuple_element(%s), index=0
        %lim = s32[] constant(3)
        ROOT %lt = pred[] compare(%i, %lim), direction=LT
      }
      %body {
        %s = (s32[], f32[2,3]) parameter(0)
        %i = s32[] get_tuple_element(%s), index=0
        %v = f32[2,3] get_tuple_element(%s), index=1
        %one = s32[] constant(1)
        %i1 = s32[] add(%i, %one)
        %t = f32[3,2] transpose(%v), dimensions={1,0}
        %n = f32[3,2] neg(%t)
        %b = f32[2,3] transpose(%n), dimensions={1,0}
        ROOT %out = (s32[], f32[2,3]) tuple(%i1, %b)
      }
      ENTRY %main {
        %p = f32[2,3] parameter(0)
        %zero = s32[] constant(0)
        %init = (s32[], f32[2,3]) tuple(%zero, %p)
        %w = (s32[], f32[2,3]) while(%init), calls={%cond,%body}
        ROOT %r = f32[2,3] get_tuple_element(%w), index=1
      }""", [np.arange(6, dtype=np.float32).reshape(2, 3)])
    body = next(c for c in m.computations if c.name == "body")
    ops = {i.name: i.opcode for i in body.instructions}
    assert ops["t"] == "bitcast" and ops["b"] == "transpose"


def test_idempotent():
    m = parse_module("""
      ENTRY e {
        %p = f32[2,3] parameter(0)
        ROOT %t = f32[3,2] transpose(%p), dimensions={1,0}
      }""")
    assert LayoutAssignment().run(m)
    text = print_module(m)
    assert not LayoutAssignment().run(m)
    assert print_module(m) == text


def _matmul_module(build):
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [5, 7])
        b = tf.placeholder(tf.float32, [3, 7])
        out = build(a, b)
    m = lower_run(g, [out], [], {a: (5, 7), b: (3, 7)}).module
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((5, 7)).astype(np.float32), rng.standard_normal((3, 7)).astype(np.float32)]
    return m, args


def test_matmul_with_transposed_operand_has_no_transpose_or_copy():
    for build in (lambda a, b: tf.matmul(a, b, transpose_b=True),
                  lambda a, b: tf.matmul(a, tf.transpose(b))):
        m, args = _matmul_module(build)
        before = evaluate_module(m, args)
        pipeline = cpu_pipeline()
        pipeline.verify = verify_module
        pipeline.run(m)
        np.testing.assert_allclose(evaluate_module(m, args)[0], before[0], rtol=1e-5)
        ops = [i.opcode for c in m.computations for i in c.instructions]
        assert "transpose" not in ops and "copy" not in ops
        (dot,) = [i for c in m.computations for i in c.instructions if i.opcode == "dot"]
        assert all(o.opcode == "parameter" for o in dot.operands)
        assert dot.attrs["rhs_contracting_dims"] == (1,)


def test_entry_parameters_and_results_are_row_major():
    m, args = _matmul_module(lambda a, b: tf.transpose(a) * 2.0)
    pipeline = cpu_pipeline()
    pipeline.verify = verify_module
    pipeline.run(m)
    for p in m.entry.parameters:
        assert p.shape.layout == Layout.row_major(p.shape.rank)
    for out in m.entry.root.operands:
        assert out.shape.layout == Layout.row_major(out.shape.rank)
