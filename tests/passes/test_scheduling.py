"""Scheduling: a topological order that keeps fewer bytes live, and Variable readers before updates."""
import numpy as np

from xlite.ir.parser import parse_module
from xlite.ir.verifier import verify_module
from xlite.passes.buffer_assignment import BufferAssignmentPass, plan_buffers
from xlite.passes.layout_assignment import LayoutAssignment
from xlite.passes.scheduling import Scheduling, list_schedule
from xlite.semantics.eval_rules import evaluate_module

# Three big products computed first, then each reduced: in this order all three are live at once.
WIDE = """
  ENTRY e {
    %x = f32[64,64] parameter(0)
    %w1 = f32[64,256] parameter(1)
    %w2 = f32[64,256] parameter(2)
    %w3 = f32[64,256] parameter(3)
    %d1 = f32[64,256] dot(%x, %w1), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
    %d2 = f32[64,256] dot(%x, %w2), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
    %d3 = f32[64,256] dot(%x, %w3), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
    %r1 = f32[64] reduce(%d1), dimensions={1}, kind=sum
    %r2 = f32[64] reduce(%d2), dimensions={1}, kind=max
    %r3 = f32[64] reduce(%d3), dimensions={1}, kind=min
    ROOT %out = (f32[64], f32[64], f32[64]) tuple(%r1, %r2, %r3)
  }"""


def _args(m, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(p.shape.dims).astype(np.float32) for p in m.entry.parameters]


def _is_topological(comp) -> bool:
    seen = set()
    for inst in comp.instructions:
        if any(o not in seen for o in inst.operands):
            return False
        seen.add(inst)
    return comp.instructions[-1] is comp.root


def test_list_scheduler_frees_each_product_before_making_the_next():
    m = parse_module(WIDE)
    LayoutAssignment().run(m)
    args = _args(m)
    before_values = evaluate_module(m, args)
    before = plan_buffers(m.entry).peak_bytes
    assert Scheduling().run(m)
    verify_module(m)
    assert _is_topological(m.entry)
    after = plan_buffers(m.entry).peak_bytes
    assert before == 3 * 64 * 256 * 4      # the reductions are results: no arena space
    assert after == 64 * 256 * 4
    names = [i.name for i in m.entry.instructions if i.opcode in ("dot", "reduce")]
    assert names == ["d1", "r1", "d2", "r2", "d3", "r3"]
    for a, b in zip(evaluate_module(m, args), before_values):
        np.testing.assert_array_equal(a, b)


def test_scheduler_keeps_a_better_existing_order():
    m = parse_module("""
      ENTRY e {
        %x = f32[128] parameter(0)
        %a = f32[128] exp(%x)
        %b = f32[128] log(%a)
        ROOT %out = (f32[128]) tuple(%b)
      }""")
    LayoutAssignment().run(m)
    order = list(m.entry.instructions)
    assert not Scheduling().run(m)
    assert m.entry.instructions == order


UPDATE = """
  ENTRY e {
    %x = f32[16,16] parameter(0)
    %w = f32[16,16] parameter(1)
    %g = f32[16,16] mul(%x, %x)
    %new = f32[16,16] sub(%w, %g)
    %y = f32[16,16] dot(%x, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
    %s = f32[16] reduce(%y), dimensions={1}, kind=sum
    ROOT %out = (f32[16], f32[16,16]) tuple(%s, %new)
  }"""


def test_readers_of_a_variable_run_before_its_update():
    m = parse_module(UPDATE)
    m.output_aliases = {1: 1}
    LayoutAssignment().run(m)
    args = _args(m)
    before = evaluate_module(m, args)
    Scheduling().run(m)
    order = [i.name for i in m.entry.instructions]
    assert order.index("y") < order.index("new")
    planner = BufferAssignmentPass()
    planner.run(m)
    verify_module(m)
    assert all(i.opcode != "copy" for i in m.entry.instructions)
    ba = planner.assignment
    new = next(i for i in m.entry.instructions if i.name == "new")
    assert ba.slices[new].kind == "parameter" and ba.slices[new].offset == 1
    for a, b in zip(evaluate_module(m, args), before):
        np.testing.assert_allclose(a, b, rtol=1e-6)


CROSSED = """
  ENTRY e {
    %a = f32[8] parameter(0)
    %b = f32[8] parameter(1)
    %new_a = f32[8] add(%a, %b)
    %new_b = f32[8] sub(%a, %b)
    ROOT %out = (f32[8], f32[8]) tuple(%new_a, %new_b)
  }"""


def test_updates_that_read_each_others_old_values_get_one_copy_not_a_cycle():
    """a <- f(a, b), b <- g(a, b): both readers cannot run before both updates; one update goes via a copy."""
    m = parse_module(CROSSED)
    m.output_aliases = {0: 0, 1: 1}
    LayoutAssignment().run(m)
    args = _args(m)
    before = evaluate_module(m, [np.copy(a) for a in args])
    Scheduling().run(m)
    assert _is_topological(m.entry)
    BufferAssignmentPass().run(m)
    verify_module(m)
    assert sum(i.opcode == "copy" for i in m.entry.instructions) <= 1
    for a, b in zip(evaluate_module(m, [np.copy(a) for a in args]), before):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_list_schedule_is_topological_with_extra_edges():
    m = parse_module(UPDATE)
    insts = {i.name: i for i in m.entry.instructions}
    order = list_schedule(m.entry, {insts["new"]: {insts["s"]}})
    names = [i.name for i in order]
    assert names.index("s") < names.index("new") and names[-1] == "out"
    m.entry.instructions = order
    assert _is_topological(m.entry)


LOOP_WRITE = """
  %body {
    %s = (s32[], f32[4,3]) parameter(0)
    %i = s32[] get_tuple_element(%s), index=0
    %buf = f32[4,3] get_tuple_element(%s), index=1
    %z = s32[] constant(0)
    %c = f32[] constant(1)
    %row = f32[1,3] broadcast_in_dim(%c), dimensions={}
    %new = f32[4,3] dynamic_update_slice(%buf, %row, %i, %z)
    %old = f32[1,3] dynamic_slice(%buf, %i, %z), dynamic_slice_sizes={1,3}
    %e = f32[1,3] exp(%old)
    %later = f32[4,3] dynamic_update_slice(%new, %e, %z, %z)
    %one = s32[] constant(1)
    %i2 = s32[] add(%i, %one)
    ROOT %t = (s32[], f32[4,3]) tuple(%i2, %later)
  }
  %cond {
    %s = (s32[], f32[4,3]) parameter(0)
    %i = s32[] get_tuple_element(%s), index=0
    %n = s32[] constant(3)
    ROOT %lt = pred[] compare(%i, %n), direction=LT
  }
  ENTRY e {
    %x = f32[4,3] parameter(0)
    %z = s32[] constant(0)
    %init = (s32[], f32[4,3]) tuple(%z, %x)
    %w = (s32[], f32[4,3]) while(%init), calls={%cond, %body}
    ROOT %out = (f32[4,3]) tuple(%w)
  }"""


def test_a_loop_bodys_row_write_moves_after_the_other_reads_of_its_buffer():
    m = parse_module(LOOP_WRITE.replace("ROOT %out = (f32[4,3]) tuple(%w)",
                                        "%r = f32[4,3] get_tuple_element(%w), index=1\n"
                                        "    ROOT %out = (f32[4,3]) tuple(%r)"))
    args = [np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)]
    before = evaluate_module(m, args)
    assert Scheduling().run(m)
    verify_module(m)
    order = [i.name for i in next(c for c in m.all_computations() if c.name == "body").instructions]
    assert order.index("old") < order.index("e") < order.index("new") < order.index("later")
    for a, b in zip(evaluate_module(m, args), before):
        np.testing.assert_allclose(a, b, rtol=1e-6)


# A gradient ready after one dot, and two more dots the step needs only after the reduction.
OVERLAP = """
  ENTRY e {
    %p = f32[32,32] parameter(0)
    %q = f32[32,32] parameter(1)
    %b = f32[32,32] dot(%q, %q), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
    %c = f32[32,32] dot(%b, %b), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
    %a = f32[32,32] dot(%p, %p), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
    %s = f32[32,32] all_reduce_start(%a), kind=sum
    %d = f32[32,32] all_reduce_done(%s)
    %u = f32[32,32] add(%d, %c)
    ROOT %out = (f32[32,32]) tuple(%u)
  }"""


def test_an_all_reduce_starts_when_its_operand_is_ready_and_is_waited_for_at_its_first_user():
    m = parse_module(OVERLAP)
    LayoutAssignment().run(m)
    Scheduling().run(m)
    verify_module(m)
    names = [i.name for i in m.entry.instructions if i.opcode not in ("parameter", "tuple")]
    assert names == ["a", "s", "b", "c", "d", "u"]
    np.testing.assert_allclose(evaluate_module(m, _args(m))[0], evaluate_module(parse_module(OVERLAP), _args(m))[0],
                               rtol=1e-6)
