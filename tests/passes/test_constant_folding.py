"""Constant folding: constant subgraphs become one constant; large broadcasts and iotas stay lazy."""
import numpy as np

from xlite.ir.parser import parse_module
from xlite.ir.verifier import verify_module
from xlite.passes.constant_folding import FOLD_LIMIT, ConstantFolding
from xlite.passes.dce import DeadCodeElimination
from xlite.passes.pipelines import simplification_pipeline
from xlite.semantics.eval_rules import evaluate_module


def fold(text: str, args=()):
    """Parses, folds (then drops what died), and checks the value did not change."""
    m = parse_module(text)
    verify_module(m)
    before = evaluate_module(m, list(args))
    changed = ConstantFolding().run(m)
    verify_module(m)
    DeadCodeElimination().run(m)
    verify_module(m)
    after = evaluate_module(m, list(args))
    for b, a in zip(before if isinstance(before, tuple) else [before], after if isinstance(after, tuple) else [after]):
        np.testing.assert_array_equal(a, b)
    return m, changed


def opcodes(comp) -> list[str]:
    return [i.opcode for i in comp.instructions]


def test_constant_subgraph_folds_to_one_constant():
    m, changed = fold("""
      ENTRY e {
        %a = f32[2,2] constant({{1, 2}, {3, 4}})
        %b = f32[] constant(0.5)
        %bb = f32[2,2] broadcast_in_dim(%b), dimensions={}
        %m = f32[2,2] mul(%a, %bb)
        %t = f32[2,2] transpose(%m), dimensions={1,0}
        %s = f32[2] reduce(%t), kind=sum, dimensions={1}
        ROOT %e = f32[2] exp(%s)
      }""")
    assert changed and opcodes(m.entry) == ["constant"]
    assert m.entry.root.name == "e"
    np.testing.assert_allclose(m.entry.root.literal, np.exp([2.0, 3.0]).astype(np.float32))


def test_folds_through_integer_semantics_of_the_interpreter():
    m, _ = fold("""
      ENTRY e {
        %a = s32[3] constant({7, -7, 5})
        %z = s32[3] constant({0, 2, -1})
        ROOT %d = s32[3] div(%a, %z)
      }""")
    assert m.entry.root.literal.tolist() == [-1, -3, -5]


def test_does_not_touch_parameters_rng_or_calls():
    text = """
      %f {
        %x = f32[2] parameter(0)
        ROOT %n = f32[2] neg(%x)
      }
      ENTRY %e {
        %ctr = s64[] constant(3)
        %c = f32[2] constant({1, 2})
        %r = f32[2] rng(%ctr), distribution=normal, key={0,7}
        %fu = f32[2] fusion(%c), kind=loop, calls={%f}
        ROOT %t = (f32[2], f32[2]) tuple(%r, %fu)
      }"""
    m, changed = fold(text)
    assert not changed


def test_zeros_plus_x_does_not_materialize_64_mib():
    m = parse_module("""
      ENTRY e {
        %x = f32[4096,4096] parameter(0)
        %zero = f32[] constant(0)
        %zeros = f32[4096,4096] broadcast_in_dim(%zero), dimensions={}
        ROOT %y = f32[4096,4096] add(%zeros, %x)
      }""")
    simplification_pipeline().run(m)
    verify_module(m)
    assert all(i.literal.size <= FOLD_LIMIT for i in m.entry.instructions if i.opcode == "constant")
    assert m.entry.root.opcode == "parameter"


def test_large_broadcast_stays_lazy_and_elementwise_ops_fold_under_it():
    m, changed = fold("""
      ENTRY e {
        %one = f32[] constant(1)
        %two = f32[] constant(2)
        %ones = f32[2048,4] broadcast_in_dim(%one), dimensions={}
        %twos = f32[2048,4] broadcast_in_dim(%two), dimensions={}
        %s = f32[2048,4] add(%ones, %twos)
        ROOT %n = f32[2048,4] neg(%s)
      }""")
    assert changed
    root = m.entry.root
    assert root.opcode == "broadcast_in_dim" and root.name == "n"
    assert root.operands[0].literal.shape == () and root.operands[0].literal == -3.0


def test_small_results_of_large_lazy_values_fold():
    m, _ = fold("""
      ENTRY e {
        %one = f32[] constant(1)
        %ones = f32[4096,4096] broadcast_in_dim(%one), dimensions={}
        %io = s32[2048,3] iota(), dimension=0
        %corner = s32[2,3] slice(%io), start_indices={5,0}, limit_indices={7,3}, strides={1,1}
        %total = f32[] reduce(%ones), kind=sum, dimensions={0,1}
        ROOT %t = (f32[], s32[2,3]) tuple(%total, %corner)
      }""")
    total, corner = m.entry.root.operands
    assert total.opcode == "constant" and total.literal == 4096.0 * 4096
    assert corner.opcode == "constant" and corner.literal.tolist() == [[5, 5, 5], [6, 6, 6]]


def test_small_broadcast_and_iota_fold_but_scalar_broadcasts_stay():
    m, _ = fold(f"""
      ENTRY e {{
        %c = f32[3] constant({{1, 2, 3}})
        %b = f32[{FOLD_LIMIT // 3},3] broadcast_in_dim(%c), dimensions={{1}}
        %io = s32[{FOLD_LIMIT}] iota(), dimension=0
        %big = s32[{FOLD_LIMIT + 1}] iota(), dimension=0
        %s = f32[] constant(2)
        %splat = f32[2,2] broadcast_in_dim(%s), dimensions={{}}
        ROOT %t = (f32[{FOLD_LIMIT // 3},3], s32[{FOLD_LIMIT}], s32[{FOLD_LIMIT + 1}], f32[2,2]) tuple(%b, %io, %big, %splat)
      }}""")
    assert [o.opcode for o in m.entry.root.operands] == ["constant", "constant", "iota", "broadcast_in_dim"]


def test_arithmetic_on_scalar_broadcasts_stays_a_scalar_broadcast():
    m, _ = fold("""
      ENTRY e {
        %a = f32[] constant(2)
        %b = f32[] constant(0.1)
        %aa = f32[5,3] broadcast_in_dim(%a), dimensions={}
        %bb = f32[5,3] broadcast_in_dim(%b), dimensions={}
        ROOT %m = f32[5,3] mul(%aa, %bb)
      }""")
    assert m.entry.root.opcode == "broadcast_in_dim" and m.entry.root.operands[0].literal == np.float32(0.2)


def test_folding_never_grows_past_its_largest_input():
    half = FOLD_LIMIT // 2 + 100
    values = "{" + ", ".join(str(i) for i in range(half)) + "}"
    m, changed = fold(f"""
      ENTRY e {{
        %c = s32[{half}] constant({values})
        ROOT %cat = s32[{2 * half}] concatenate(%c, %c), dimension=0
      }}""")
    assert not changed and m.entry.root.opcode == "concatenate"


def test_operands_that_are_large_constants_may_fold_at_their_own_size():
    size = 2 * FOLD_LIMIT
    values = "{" + ", ".join(str(i % 7) for i in range(size)) + "}"
    m, _ = fold(f"""
      ENTRY e {{
        %c = s32[{size}] constant({values})
        %n = s32[{size}] neg(%c)
        %wide = s32[2,{size}] broadcast_in_dim(%c), dimensions={{1}}
        ROOT %t = (s32[{size}], s32[2,{size}]) tuple(%n, %wide)
      }}""")
    n, wide = m.entry.root.operands
    assert n.opcode == "constant" and wide.opcode == "broadcast_in_dim"
