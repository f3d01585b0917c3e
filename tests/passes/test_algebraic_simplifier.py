"""Algebraic simplification, as XLA tests it: IR text in, IR text (or properties) out."""
import textwrap

import numpy as np
import pytest

from xlite.ir.parser import parse_module
from xlite.ir.printer import print_computation
from xlite.ir.verifier import verify_module
from xlite.passes.algebraic_simplifier import AlgebraicSimplifier
from xlite.passes.dce import DeadCodeElimination
from xlite.semantics.eval_rules import evaluate_module


def simplify(text: str, args=None):
    """Simplifies then drops dead code; checks the verifier and, given args, the values."""
    m = parse_module(text)
    verify_module(m)
    before = evaluate_module(m, args) if args is not None else None
    changed = AlgebraicSimplifier().run(m)
    verify_module(m)
    DeadCodeElimination().run(m)
    verify_module(m)
    if args is not None:
        after = evaluate_module(m, args)
        after, before = (v if isinstance(v, tuple) else (v,) for v in (after, before))
        for a, b in zip(after, before):
            np.testing.assert_allclose(a, b, rtol=1e-6)
    return m, changed


def body(m) -> str:
    """The entry's instruction lines, without the header."""
    return "\n".join(line.strip() for line in print_computation(m.entry).splitlines()[1:-1])


def expect(text: str) -> str:
    return "\n".join(line.strip() for line in textwrap.dedent(text).strip().splitlines())


def test_style_example_double_transpose():
    m, changed = simplify("""
      ENTRY e {
        %p = f32[2,3]{1,0} parameter(0)
        %t1 = f32[3,2]{1,0} transpose(%p), dimensions={1,0}
        ROOT %t2 = f32[2,3]{1,0} transpose(%t1), dimensions={1,0}
      }""")
    assert changed
    assert m.entry.root.opcode == "parameter"


def test_transpose_of_transpose_composes():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    m, _ = simplify("""
      ENTRY e {
        %p = f32[2,3,4] parameter(0)
        %t1 = f32[3,4,2] transpose(%p), dimensions={1,2,0}
        ROOT %t2 = f32[4,3,2] transpose(%t1), dimensions={1,0,2}
      }""", [x])
    assert body(m) == expect("""
        %p = f32[2,3,4] parameter(0)
        ROOT %t2 = f32[4,3,2] transpose(%p), dimensions={2,1,0}""")


@pytest.mark.parametrize("expr", [
    "mul(%x, %ones)", "mul(%ones, %x)", "add(%x, %zeros)", "add(%zeros, %x)", "sub(%x, %zeros)",
    "div(%x, %ones)", "mul(%x, %one_c)", "add(%zero_c, %x)",
])
def test_identities_with_zero_and_one(expr):
    x = np.array([[1.5, -2.0, np.nan], [np.inf, 0.0, 7.0]], np.float32)
    m, changed = simplify(f"""
      ENTRY e {{
        %x = f32[2,3] parameter(0)
        %one = f32[] constant(1)
        %zero = f32[] constant(0)
        %ones = f32[2,3] broadcast_in_dim(%one), dimensions={{}}
        %zeros = f32[2,3] broadcast_in_dim(%zero), dimensions={{}}
        %one_c = f32[2,3] constant({{{{1, 1, 1}}, {{1, 1, 1}}}})
        %zero_c = f32[2,3] constant({{{{0, 0, 0}}, {{-0.0, 0, 0}}}})
        ROOT %r = f32[2,3] {expr}
      }}""", [x])
    assert changed and m.entry.root.name == "x"


def test_no_identity_for_other_constants_or_x_minus_zero_on_the_left():
    text = """
      ENTRY e {
        %x = f32[3] parameter(0)
        %c = f32[3] constant({1, 1, 2})
        %zero = f32[] constant(0)
        %z = f32[3] broadcast_in_dim(%zero), dimensions={}
        %a = f32[3] mul(%x, %c)
        %b = f32[3] sub(%z, %x)
        %d = f32[3] div(%c, %x)
        ROOT %t = (f32[3], f32[3], f32[3]) tuple(%a, %b, %d)
      }"""
    _, changed = simplify(text)
    assert not changed


def test_double_negation_and_not():
    m, _ = simplify("""
      ENTRY e {
        %x = s32[4] parameter(0)
        %n1 = s32[4] neg(%x)
        %n2 = s32[4] neg(%n1)
        %b1 = s32[4] not(%n2)
        %b2 = s32[4] not(%b1)
        ROOT %r = s32[4] abs(%b2)
      }""")
    assert body(m) == expect("""
        %x = s32[4] parameter(0)
        ROOT %r = s32[4] abs(%x)""")


def test_reshape_chain_becomes_one_reshape():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    m, _ = simplify("""
      ENTRY e {
        %p = f32[3,4] parameter(0)
        %r1 = f32[12] reshape(%p)
        %r2 = f32[2,6] reshape(%r1)
        ROOT %r3 = f32[6,2] reshape(%r2)
      }""", [x])
    assert body(m) == expect("""
        %p = f32[3,4] parameter(0)
        ROOT %r3 = f32[6,2] reshape(%p)""")


def test_reshape_chain_back_to_the_start_vanishes():
    m, _ = simplify("""
      ENTRY e {
        %p = f32[3,4] parameter(0)
        %r1 = f32[12] reshape(%p)
        %r2 = f32[3,4] reshape(%r1)
        ROOT %e = f32[3,4] exp(%r2)
      }""")
    assert m.entry.root.operands[0].name == "p"


@pytest.mark.parametrize("op", [
    "reshape(%p)", "transpose(%p), dimensions={0,1}", "broadcast_in_dim(%p), dimensions={0,1}",
    "slice(%p), start_indices={0,0}, limit_indices={3,1}, strides={1,1}", "convert(%p), dtype=f32",
    "reverse(%p), dimensions={1}", "concatenate(%p), dimension=0",
])
def test_no_op_shape_ops_forward_their_operand(op):
    m, changed = simplify(f"""
      ENTRY e {{
        %p = f32[3,1] parameter(0)
        %q = f32[3,1] {op}
        ROOT %r = f32[3,1] exp(%q)
      }}""")
    assert changed and m.entry.root.operands[0].name == "p"


def test_shape_ops_that_change_something_stay():
    text = """
      ENTRY e {
        %p = f32[3,2] parameter(0)
        %s = f32[2,2] slice(%p), start_indices={1,0}, limit_indices={3,2}, strides={1,1}
        %c = s32[3,2] convert(%p), dtype=s32
        %v = f32[3,2] reverse(%p), dimensions={0}
        ROOT %t = (f32[2,2], s32[3,2], f32[3,2]) tuple(%s, %c, %v)
      }"""
    _, changed = simplify(text)
    assert not changed


def test_layout_changing_no_op_is_kept():
    _, changed = simplify("""
      ENTRY e {
        %p = f32[3,2]{1,0} parameter(0)
        ROOT %r = f32[3,2]{0,1} reshape(%p)
      }""")
    assert not changed


def test_broadcast_of_broadcast_composes():
    x = np.arange(3, dtype=np.float32)
    m, _ = simplify("""
      ENTRY e {
        %p = f32[3] parameter(0)
        %b1 = f32[3,4] broadcast_in_dim(%p), dimensions={0}
        ROOT %b2 = f32[2,3,4] broadcast_in_dim(%b1), dimensions={1,2}
      }""", [x])
    assert body(m) == expect("""
        %p = f32[3] parameter(0)
        ROOT %b2 = f32[2,3,4] broadcast_in_dim(%p), dimensions={1}""")


def test_rearranged_scalar_broadcast_stays_a_scalar_broadcast():
    m, _ = simplify("""
      ENTRY e {
        %c = f32[] parameter(0)
        %b = f32[4096,4096] broadcast_in_dim(%c), dimensions={}
        %t = f32[4096,4096] transpose(%b), dimensions={1,0}
        %r = f32[16,1048576] reshape(%t)
        ROOT %s = f32[16,8] slice(%r), start_indices={0,0}, limit_indices={16,8}, strides={1,1}
      }""")
    assert body(m) == expect("""
        %c = f32[] parameter(0)
        ROOT %s = f32[16,8] broadcast_in_dim(%c), dimensions={}""")


@pytest.mark.parametrize("dims", [(1,), (2, 3), (2, 1000)])
def test_splat_constant_becomes_a_scalar_broadcast(dims):
    literal = "2.5"
    for d in reversed(dims):
        literal = "{" + ", ".join([literal] * d) + "}"
    shape = "f32[" + ",".join(map(str, dims)) + "]"
    m, _ = simplify(f"""
      ENTRY e {{
        %p = {shape} parameter(0)
        %c = {shape} constant({literal})
        ROOT %m = {shape} mul(%p, %c)
      }}""")
    c = m.entry.root.operands[1]
    assert c.opcode == "broadcast_in_dim" and c.name == "c" and c.operands[0].literal == 2.5


def test_scalar_and_mixed_constants_stay():
    _, changed = simplify("""
      ENTRY e {
        %s = f32[] constant(2.5)
        %v = f32[2] constant({2.5, nan})
        ROOT %t = (f32[], f32[2]) tuple(%s, %v)
      }""")
    assert not changed


def test_reduce_over_size_one_dims():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 1, 3)
    m, _ = simplify("""
      ENTRY e {
        %p = f32[1,2,1,3] parameter(0)
        %all_unit = f32[2,3] reduce(%p), kind=max, dimensions={0,2}
        %mixed = f32[3] reduce(%p), kind=sum, dimensions={0,1,2}
        ROOT %t = (f32[2,3], f32[3]) tuple(%all_unit, %mixed)
      }""", [x])
    unit, mixed = m.entry.root.operands
    assert unit.opcode == "reshape" and unit.name == "all_unit"
    assert mixed.opcode == "reduce" and mixed.attrs["dimensions"] == (0,)
    assert mixed.operands[0].shape.dims == (2, 3)


def test_matmul_with_transposed_operands_absorbs_them():
    a = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    m, _ = simplify("""
      ENTRY e {
        %a = f32[5,3] parameter(0)
        %b = f32[4,5] parameter(1)
        %at = f32[3,5] transpose(%a), dimensions={1,0}
        %bt = f32[5,4] transpose(%b), dimensions={1,0}
        ROOT %d = f32[3,4] dot(%at, %bt), lhs_batch_dims={}, lhs_contracting_dims={1}, rhs_batch_dims={}, rhs_contracting_dims={0}
      }""", [a, b])
    assert body(m) == expect("""
        %a = f32[5,3] parameter(0)
        %b = f32[4,5] parameter(1)
        ROOT %d = f32[3,4] dot(%a, %b), lhs_batch_dims={}, lhs_contracting_dims={0}, rhs_batch_dims={}, rhs_contracting_dims={1}""")


def test_batched_dot_absorbs_a_transpose_that_keeps_free_dims_in_order():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 2, 4)).astype(np.float32), rng.standard_normal((2, 4, 5)).astype(np.float32)
    m, _ = simplify("""
      ENTRY e {
        %x = f32[3,2,4] parameter(0)
        %y = f32[2,4,5] parameter(1)
        %xt = f32[2,3,4] transpose(%x), dimensions={1,0,2}
        ROOT %d = f32[2,3,5] dot(%xt, %y), lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}
      }""", [x, y])
    d = m.entry.root
    assert d.operands[0].name == "x" and d.attrs["lhs_batch_dims"] == (1,) and d.attrs["lhs_contracting_dims"] == (2,)


def test_dot_keeps_a_transpose_that_reorders_free_dims():
    _, changed = simplify("""
      ENTRY e {
        %x = f32[2,3,4] parameter(0)
        %y = f32[4] parameter(1)
        %xt = f32[3,2,4] transpose(%x), dimensions={1,0,2}
        ROOT %d = f32[3,2] dot(%xt, %y), lhs_batch_dims={}, lhs_contracting_dims={2}, rhs_batch_dims={}, rhs_contracting_dims={0}
      }""")
    assert not changed


def test_select_with_constant_predicate_or_equal_branches():
    a, b = np.array([1, 2], np.int32), np.array([3, 4], np.int32)
    m, _ = simplify("""
      ENTRY e {
        %a = s32[2] parameter(0)
        %b = s32[2] parameter(1)
        %p = pred[2] parameter(2)
        %t = pred[] constant(true)
        %tt = pred[2] broadcast_in_dim(%t), dimensions={}
        %ff = pred[2] constant({false, false})
        %s1 = s32[2] select(%tt, %a, %b)
        %s2 = s32[2] select(%ff, %a, %b)
        %s3 = s32[2] select(%p, %b, %b)
        ROOT %r = (s32[2], s32[2], s32[2]) tuple(%s1, %s2, %s3)
      }""", [a, b, np.array([True, False])])
    assert [o.name for o in m.entry.root.operands] == ["a", "b", "b"]


def test_integer_compare_with_itself_is_constant():
    x = np.array([[1, 2, 3]], np.int32)
    m, _ = simplify("""
      ENTRY e {
        %x = s32[1,3] parameter(0)
        %eq = pred[1,3] compare(%x, %x), direction=EQ
        %lt = pred[1,3] compare(%x, %x), direction=LT
        ROOT %t = (pred[1,3], pred[1,3]) tuple(%eq, %lt)
      }""", [x])
    eq, lt = m.entry.root.operands
    assert eq.opcode == lt.opcode == "broadcast_in_dim"
    assert eq.operands[0].literal == True and lt.operands[0].literal == False  # noqa: E712


def test_float_compare_with_itself_stays():
    _, changed = simplify("""
      ENTRY e {
        %x = f32[3] parameter(0)
        ROOT %eq = pred[3] compare(%x, %x), direction=EQ
      }""")
    assert not changed


def test_get_tuple_element_of_tuple():
    m, _ = simplify("""
      ENTRY e {
        %x = f32[3] parameter(0)
        %y = s32[] parameter(1)
        %t = (f32[3], s32[]) tuple(%x, %y)
        %g = s32[] get_tuple_element(%t), index=1
        ROOT %n = s32[] neg(%g)
      }""")
    assert m.entry.root.operands[0].name == "y"


def test_root_replaced_by_fresh_instruction_keeps_its_name():
    m, _ = simplify("""
      ENTRY e {
        %p = f32[2,3] parameter(0)
        %r1 = f32[6] reshape(%p)
        ROOT %out = f32[3,2] reshape(%r1)
      }""")
    assert m.entry.root.name == "out" and m.entry.root.operands[0].name == "p"


def test_simplifies_inside_sub_computations():
    m, _ = simplify("""
      %f {
        %x = f32[3] parameter(0)
        %n = f32[3] neg(%x)
        ROOT %nn = f32[3] neg(%n)
      }
      ENTRY %e {
        %p = f32[3] parameter(0)
        ROOT %r = f32[3] fusion(%p), kind=loop, calls={%f}
      }""")
    assert m.computations[0].root.opcode == "parameter"


def test_sum_with_an_update_of_zeros_adds_into_the_window_only():
    """a + dynamic_update_slice(0, u, i, 0) -> a with u added at the clamped row i: starts out of range too."""
    text = """
      ENTRY e {
        %a = f32[5,3] parameter(0)
        %u = f32[1,3] parameter(1)
        %i = s32[] parameter(2)
        %z = s32[] constant(0)
        %c = f32[] constant(0)
        %zeros = f32[5,3] broadcast_in_dim(%c), dimensions={}
        %d = f32[5,3] dynamic_update_slice(%zeros, %u, %i, %z)
        ROOT %s = f32[5,3] add(%d, %a)
      }"""
    rng = np.random.default_rng(0)
    for row in (-2, 0, 3, 9):
        m, changed = simplify(text, [rng.standard_normal((5, 3)).astype(np.float32),
                                     rng.standard_normal((1, 3)).astype(np.float32), np.int32(row)])
        assert changed
        root = m.entry.root
        assert root.opcode == "dynamic_update_slice" and root.operands[0].name == "a"
        assert root.operands[1].opcode == "add" and root.operands[1].shape.dims == (1, 3)


def test_sum_with_a_scatter_into_zeros_scatters_into_the_sum():
    text = """
      ENTRY e {
        %a = f32[5,3] parameter(0)
        %u = f32[2,3] parameter(1)
        %i = s32[2] parameter(2)
        %c = f32[] constant(0)
        %zeros = f32[5,3] broadcast_in_dim(%c), dimensions={}
        %d = f32[5,3] scatter_add(%zeros, %i, %u), axis=0
        ROOT %s = f32[5,3] add(%a, %d)
      }"""
    rng = np.random.default_rng(1)
    m, changed = simplify(text, [rng.standard_normal((5, 3)).astype(np.float32),
                                 rng.standard_normal((2, 3)).astype(np.float32), np.array([4, 7], np.int32)])
    assert changed and m.entry.root.opcode == "scatter_add" and m.entry.root.operands[0].name == "a"
