"""The shared walk's placement of a dynamic_update_slice in a sub-computation: over its operand's buffer
(in place) only when that buffer is the computation's own and its old value is not read afterwards;
values of such loops on the cpu backend against the interpreter, with clamped starts and edge sizes."""
from dataclasses import dataclass

import numpy as np
import pytest

from xlite.codegen.cpu import compile_cpu
from xlite.codegen.walk import ComputationWalker
from xlite.ir.parser import parse_module
from xlite.runtime.driver import optimize, with_naive_buffers
from xlite.semantics.eval_rules import evaluate_module



@dataclass(frozen=True)
class Loc:
    kind: str
    index: int

# Row i of a [R, C] loop-carried buffer gets i + 1 at start row 3*i - 4 (clamped to [0, R-1]); the
# third state element is OLD: the buffer itself (no old read), or the old buffer read after the write.
ROWS = """
%cond {
  %s = (s32[], f32[@R,@C], f32[@R,@C]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %n = s32[] constant(@N)
  ROOT %lt = pred[] compare(%i, %n), direction=LT
}
%body {
  %s = (s32[], f32[@R,@C], f32[@R,@C]) parameter(0)
  %i = s32[] get_tuple_element(%s), index=0
  %buf = f32[@R,@C] get_tuple_element(%s), index=1
  %keep = f32[@R,@C] get_tuple_element(%s), index=2
  %one = s32[] constant(1)
  %i2 = s32[] add(%i, %one)
  %fi = f32[] convert(%i2), dtype=f32
  %row = f32[1,@C] broadcast_in_dim(%fi), dimensions={}
  %three = s32[] constant(3)
  %four = s32[] constant(4)
  %m = s32[] mul(%i, %three)
  %start = s32[] sub(%m, %four)
  %zero = s32[] constant(0)
  %new = f32[@R,@C] dynamic_update_slice(%buf, %row, %start, %zero)
  %old = f32[@R,@C] neg(OLD)
  ROOT %t = (s32[], f32[@R,@C], f32[@R,@C]) tuple(%i2, %new, %old)
}
ENTRY %main {
  %x0 = f32[@R,@C] parameter(0)
  %z = s32[] constant(0)
  %init = (s32[], f32[@R,@C], f32[@R,@C]) tuple(%z, %x0, %x0)
  %w = (s32[], f32[@R,@C], f32[@R,@C]) while(%init), calls={%cond, %body}
  %r = f32[@R,@C] get_tuple_element(%w), index=1
  %k = f32[@R,@C] get_tuple_element(%w), index=2
  ROOT %out = (f32[@R,@C], f32[@R,@C], f32[@R,@C]) tuple(%r, %k, %x0)
}
"""

# A branch writing into its parameter: the caller's buffer, read again after the conditional.
BRANCH = """
%yes {
  %p = f32[5,3] parameter(0)
  %u = f32[] constant(7)
  %row = f32[1,3] broadcast_in_dim(%u), dimensions={}
  %two = s32[] constant(2)
  %zero = s32[] constant(0)
  ROOT %new = f32[5,3] dynamic_update_slice(%p, %row, %two, %zero)
}
%no {
  %p = f32[5,3] parameter(0)
  ROOT %r = f32[5,3] neg(%p)
}
ENTRY %main {
  %c = pred[] parameter(0)
  %x = f32[5,3] parameter(1)
  %y = f32[5,3] abs(%x)
  %k = f32[5,3] conditional(%c, %y, %y), calls={%yes, %no}
  ROOT %out = (f32[5,3], f32[5,3]) tuple(%k, %y)
}
"""


# The same loop adding each row with scatter_add (an index out of range adds nothing).
SCATTER = ("%new = f32[@R,@C] dynamic_update_slice(%buf, %row, %start, %zero)",
           "%at = s32[1] reshape(%start)\n  %new = f32[@R,@C] scatter_add(%buf, %at, %row), axis=0")


def rows_text(rows: int, cols: int, trips: int, old: str, scatter: bool = False) -> str:
    text = ROWS.replace(*SCATTER) if scatter else ROWS
    return text.replace("@R", str(rows)).replace("@C", str(cols)).replace("@N", str(trips)).replace("OLD", old)


class RecordingWalker(ComputationWalker):
    """Places values like a backend and records (instruction, operand locations, output location)."""

    backend = "test"
    location = Loc

    def __init__(self, module, assignment):
        super().__init__(module, assignment)
        self.kernels = {}

    def scratch(self, shape):
        self.arena_end += 1 << 20
        return Loc("arena", self.arena_end)

    def constant(self, inst):
        return Loc("const", id(inst))

    def output_loc(self, inst, index):
        return Loc("result", index)

    def emit_copy(self, src, dst, shape):
        pass

    def emit_kernel(self, inst, locs, out, outputs):
        self.kernels[inst.name] = ([locs[o] for o in inst.operands], out)

    def emit_while(self, inst, init, state):
        cond, body = inst.called
        self.assign_state(init, state, inst.shape)
        self.emit_computation(cond, {0: state})
        self.run_computation(body, {0: state}, state, inst.shape)

    def emit_conditional(self, inst, operand_locs, out):
        for k, comp in enumerate(inst.called):
            self.run_computation(comp, {0: operand_locs[1 + k]}, out, inst.shape)


def placement(text: str, name: str):
    """(the location of operand 0, the output location) of kernel `name` as the walk placed them."""
    compiled = with_naive_buffers(parse_module(text))
    walker = RecordingWalker(compiled.module, compiled.buffer_assignment)
    walker.emit_computation(compiled.module.entry, {p: Loc("param", p.attrs["number"])
                                                    for p in compiled.module.entry.parameters})
    operands, out = walker.kernels[name]
    return operands[0], out


@pytest.mark.parametrize("scatter", [False, True])
def test_loop_carried_write_goes_in_place(scatter):
    operand, out = placement(rows_text(6, 4, 3, "%keep", scatter), "new")
    assert out == operand and out.kind == "arena"


@pytest.mark.parametrize("scatter", [False, True])
def test_old_value_read_after_the_write_keeps_its_buffer(scatter):
    operand, out = placement(rows_text(6, 4, 3, "%buf", scatter), "new")
    assert out != operand


def test_branch_parameter_is_never_written_in_place():
    operand, out = placement(BRANCH, "new")
    assert out != operand


@pytest.mark.parametrize("rows,cols,trips", [(1, 1, 2), (7, 33, 5)])
@pytest.mark.parametrize("old", ["%keep", "%buf"])
@pytest.mark.parametrize("pipeline", ["naive", "optimized"])
def test_row_writes_match_the_interpreter_on_cpu(rows, cols, trips, old, pipeline):
    text = rows_text(rows, cols, trips, old)
    x = np.random.default_rng(rows * cols).standard_normal((rows, cols)).astype(np.float32)
    ref = evaluate_module(parse_module(text), [x.copy()])
    module = parse_module(text)
    exe = compile_cpu(with_naive_buffers(module) if pipeline == "naive" else optimize(module))
    got = exe.run([x.copy()])
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(r))


@pytest.mark.parametrize("old", ["%keep", "%buf"])
def test_row_sums_match_the_interpreter_on_cpu(old):
    text = rows_text(7, 5, 6, old, scatter=True)
    x = np.random.default_rng(3).standard_normal((7, 5)).astype(np.float32)
    ref = evaluate_module(parse_module(text), [x.copy()])
    got = compile_cpu(optimize(parse_module(text))).run([x.copy()])
    for g, r in zip(got, ref):
        np.testing.assert_allclose(np.asarray(g), np.asarray(r), rtol=1e-6)


@pytest.mark.parametrize("selector", [True, False])
def test_branch_write_matches_the_interpreter_on_cpu(selector):
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    c = np.array(selector)
    ref = evaluate_module(parse_module(BRANCH), [c, x.copy()])
    got = compile_cpu(optimize(parse_module(BRANCH))).run([c, x.copy()])
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(r))
