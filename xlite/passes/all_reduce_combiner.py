"""Tensor fusion: independent all_reduces of one kind and dtype become one, over a buffer that holds them all.

A training step all-reduces one gradient per Variable; each MPI call costs a latency (microseconds on one
machine, tens of them across a network) whatever its size, so Horovod packs small gradients into one
fusion buffer, as XLA's AllReduceCombiner does. Here the operands are flattened and concatenated, one
all_reduce reduces the buffer, and slices give every original result back:

    %r1 = f32[3,2] all_reduce(%g1), kind=mean          %flat = f32[10] concatenate(reshape(%g1), reshape(%g2))
    %r2 = f32[4]   all_reduce(%g2), kind=mean    ->    %r = f32[10] all_reduce(%flat), kind=mean
                                                       %r1 = f32[3,2] reshape(slice(%r, 0:6)); %r2 = slice 6:10

All-reduces combine only when none depends on another, in program order, up to FUSION_BYTES per buffer
(Horovod's default fusion threshold). The loop fusion that follows computes the concatenation in one
kernel and folds each slice into its users. Every process runs the same pass on the same Module, so all
make the same calls.
"""
from __future__ import annotations

from math import prod

from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.shape import Shape
from xlite.ir.shape_inference import infer_shape
from xlite.passes.pass_pipeline import Pass
from xlite.passes.rewrite import unique_name

FUSION_BYTES = 64 << 20


class AllReduceCombiner(Pass):
    name = "all-reduce-combiner"

    def __init__(self, fusion_bytes: int = FUSION_BYTES):
        self.fusion_bytes = fusion_bytes

    def run(self, module: Module) -> bool:
        changed = False
        for comp in module.all_computations():
            changed |= self.combine(comp)
        return changed

    def combine(self, comp: Computation) -> bool:
        groups = self._groups(comp)
        if not groups:
            return False
        names = {i.name for i in comp.instructions}
        replaced: dict[Instruction, Instruction] = {}
        for group in groups:
            replaced.update(_combined(group, names))
        for inst in comp.instructions:
            inst.operands = [replaced.get(o, o) for o in inst.operands]
        comp.root = replaced.get(comp.root, comp.root)
        comp.instructions = _operands_first([replaced.get(i, i) for i in comp.instructions if i not in replaced])
        return True

    def _groups(self, comp: Computation) -> list[list[Instruction]]:
        """Groups of two or more all_reduces to combine, each member independent of the others."""
        open_groups: dict[tuple, list] = {}        # (kind, dtype) -> [members, bytes, ancestors of members]
        done: list[list[Instruction]] = []
        ancestors: dict[Instruction, frozenset] = {}
        for inst in comp.instructions:
            ancestors[inst] = frozenset().union(*({o} | ancestors[o] for o in inst.operands)) \
                if inst.operands else frozenset()
            if inst.opcode != "all_reduce" or not inst.shape.is_static:
                continue
            key = (inst.attrs["kind"], inst.shape.dtype.ir_name)
            nbytes = inst.shape.byte_size
            group = open_groups.get(key)
            if group is not None and (group[1] + nbytes > self.fusion_bytes
                                      or any(m in ancestors[inst] for m in group[0])):
                done.append(group[0])
                group = None
            if group is None:
                group = open_groups[key] = [[], 0]
            group[0].append(inst)
            group[1] += nbytes
        done.extend(g[0] for g in open_groups.values())
        return [g for g in done if len(g) > 1]


def _new(opcode: str, operands: list, names: set, like: Instruction, result=None, **attrs) -> Instruction:
    shape = infer_shape(opcode, [o.shape for o in operands], attrs, result)
    inst = Instruction(opcode, operands, shape, attrs, metadata=like.metadata)
    inst.name = unique_name(f"{like.name}.{opcode}", names)
    names.add(inst.name)
    return inst


def _combined(group: list[Instruction], names: set) -> dict[Instruction, Instruction]:
    """Each member -> the instruction that now computes its value from one combined all_reduce."""
    first = group[0]
    dtype = first.shape.dtype
    flats = [_new("reshape", [m.operands[0]], names, m, Shape(dtype, (prod(m.shape.dims),))) for m in group]
    buffer = _new("concatenate", flats, names, first, dimension=0)
    reduced = _new("all_reduce", [buffer], names, first, kind=first.attrs["kind"])
    result, offset = {}, 0
    for member, flat in zip(group, flats):
        n = flat.shape.dims[0]
        part = _new("slice", [reduced], names, member, start_indices=(offset,), limit_indices=(offset + n,),
                    strides=(1,))
        result[member] = _new("reshape", [part], names, member, member.shape)
        offset += n
    return result


def _operands_first(instructions: list[Instruction]) -> list[Instruction]:
    """The instructions and every operand they reach, each after its operands, otherwise in list order."""
    order, placed = [], set()
    for start in instructions:
        stack = [(start, False)]
        while stack:
            inst, expanded = stack.pop()
            if inst in placed:
                continue
            if expanded:
                placed.add(inst)
                order.append(inst)
                continue
            stack.append((inst, True))
            stack.extend((o, False) for o in reversed(inst.operands) if o not in placed)
    return order


__all__ = ["AllReduceCombiner", "FUSION_BYTES"]
