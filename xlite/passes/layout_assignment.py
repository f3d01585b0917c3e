"""Layout assignment: a minor_to_major layout on every array, row-major unless a layout removes a transpose.

Row-major (numpy C order) is the default everywhere: entry parameters and results,
sub-computation parameters and roots, tuple elements, dot and convolution operands
(the dot's dimension numbers tell the BLAS kernel which operand is transposed, so a
transpose the simplifier folded into them never comes back). Two rewrites make data
movement free:

- a `transpose` whose every user reads its operand in any layout (elementwise ops,
  reductions, broadcasts, slices, pads, reverses, concatenations) takes the permuted
  layout of its operand and becomes a `bitcast`: the same bytes, read as the
  transposed array;
- a `reshape` between row-major arrays keeps the linear order of the elements, so it
  is a `bitcast` too.

A value never reaches a user whose layout it does not fit (a transpose feeding a dot,
a tuple or the root stays a transpose), so no `copy` is ever needed to reconcile
constraints. Sets module.layouts_assigned = True.
"""
from __future__ import annotations

from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.opcodes import is_elementwise
from xlite.ir.shape import Layout, Shape, TupleShape
from xlite.passes.pass_pipeline import Pass

# Users that read an operand correctly and efficiently whatever its layout (their loops
# follow their own output's layout and index the operand through its layout).
_ANY_LAYOUT_USERS = frozenset({"reduce", "argmax", "argmin", "broadcast_in_dim", "slice", "reverse",
                               "pad", "concatenate"})


def row_major(shape):
    """`shape` with row-major layouts on every array (tuple elements included)."""
    if shape.is_tuple:
        return TupleShape(tuple(row_major(e) for e in shape.elements))
    return shape.with_layout(Layout.row_major(shape.rank))


def is_row_major(shape: Shape) -> bool:
    return shape.layout is None or shape.layout == Layout.row_major(shape.rank)


def transposed_layout(operand: Shape, perm) -> Layout:
    """The layout of transpose(operand, perm) that keeps operand's bytes in place.

    Result dim i is operand dim perm[i]; the result's minor-to-major order lists, for each
    operand dim from minor to major, the result dim that holds it."""
    inverse = {p: i for i, p in enumerate(perm)}
    return Layout(tuple(inverse[d] for d in operand.layout.minor_to_major))


def _reads_any_layout(user: Instruction) -> bool:
    return (is_elementwise(user.opcode) and user.opcode != "rng") or user.opcode in _ANY_LAYOUT_USERS


class LayoutAssignment(Pass):
    name = "layout-assignment"

    def run(self, module: Module) -> bool:
        if module.layouts_assigned:
            return False
        for comp in module.all_computations():
            assign_computation(comp)
        module.layouts_assigned = True
        return True


def assign_computation(comp: Computation) -> None:
    """Layouts for every instruction of `comp`, operands first; transposes and reshapes that
    become free are replaced in place by bitcasts."""
    users = comp.users()
    replaced: dict[Instruction, Instruction] = {}
    new_instructions = []
    for inst in comp.instructions:
        inst.operands = [replaced.get(o, o) for o in inst.operands]
        new = _assign(inst, users[inst], inst is comp.root)
        if new is not inst:
            replaced[inst] = new
        new_instructions.append(new)
    comp.instructions = new_instructions
    comp.root = replaced.get(comp.root, comp.root)


def _assign(inst: Instruction, users: list, is_root: bool) -> Instruction:
    op = inst.opcode
    if op == "tuple":
        inst.shape = TupleShape(tuple(o.shape for o in inst.operands))
        return inst
    if op == "get_tuple_element":
        inst.shape = inst.operands[0].shape.elements[inst.attrs["index"]]
        return inst
    if op == "while":
        inst.shape = inst.operands[0].shape
        return inst
    if inst.shape.is_tuple:
        inst.shape = row_major(inst.shape)
        return inst
    if op == "transpose" and not is_root and users and all(_reads_any_layout(u) for u in users):
        x = inst.operands[0]
        shape = inst.shape.with_layout(transposed_layout(x.shape, inst.attrs["dimensions"]))
        return _bitcast(inst, shape)
    if op == "bitcast" and inst.shape.layout is not None:
        return inst                     # already a statement about bytes: keep it
    inst.shape = row_major(inst.shape)
    if op == "reshape" and is_row_major(inst.operands[0].shape) and inst.shape.is_static:
        return _bitcast(inst, inst.shape)
    return inst


def _bitcast(inst: Instruction, shape: Shape) -> Instruction:
    return Instruction("bitcast", inst.operands, shape, name=inst.name, metadata=inst.metadata)
