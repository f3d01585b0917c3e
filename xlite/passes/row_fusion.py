"""Row fusion: reductions over rows merged with the kernels that read their results, one row at a time.

A softmax written out is three kernels after fusion (max, sum of exp, divide),
each reading the whole input. Their reductions all run over the same minor
dimensions, and everything else reads a reduction's result only through a
broadcast back along the row, so one kernel can compute it row by row: each
reduction in turn over the row, then the result's elements of the row, while
the row is still in cache (one pass over memory, one launch on the GPU).

The pass merges a reduction (a `reduce` or a fusion whose root is one) into the
fusion that reads it, when that fusion is its only user and the merged
computation is row-shaped: with F the reduced operand's dims and R = F without
the reduced dims, which are the minor-most of F's layout, every instruction is

- a parameter or a scalar constant of dims F, R, C (the reduced dims' sizes) or ();
- an elementwise op over dims F, R or C (operands of the same dims or scalars);
- a broadcast_in_dim of a scalar, of an R value along the reduced dims, or of a
  C value (one that no reduction feeds) along the others (a per-column gain);
- a `reduce` from F to R over exactly the reduced dims;

and the root has dims F or R. Producers and consumers may also be bare
elementwise ops (the log between a cross-entropy's two reductions). The result
is a fusion of kind "row". Codegen evaluates each reduction of a row once and
lets every later read of it at that row use the value (the rules above
guarantee no other row's reduction is ever read).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from xlite.ir.symbolic import guess
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.opcodes import is_elementwise
from xlite.ir.shape import physical_order
from xlite.passes.cse import instruction_key
from xlite.passes.fusion import MAX_FUSION_SIZE, FusionNames, unfused_computations
from xlite.passes.pass_pipeline import Pass

MERGEABLE_KINDS = frozenset({"loop", "input", "row"})
# A few very long rows stay separate kernels: one thread (CPU) or block (GPU) per row would leave most
# cores idle, where a plain reduction splits a long row over blocks and a loop kernel uses every core.
FEW_ROWS = 32
LONG_ROW = 1 << 14


@dataclass(frozen=True)
class RowShape:
    """The dims of a row fusion: `full` (F), the reduced dims of F, and `rows` (F without them)."""
    full: tuple
    reduced: tuple
    rows: tuple

    @property
    def row_count(self) -> int:
        return prod(self.rows)

    @property
    def col_count(self) -> int:
        return prod(self.full[d] for d in self.reduced)


def _minor_dims(shape, count: int) -> set:
    """The `count` minor-most dimensions of shape's layout."""
    return set(physical_order(shape)[len(physical_order(shape)) - count:])


def row_shape(comp: Computation) -> RowShape | None:
    """The RowShape of a computation that one row-at-a-time kernel can compute, or None."""
    reduces = [i for i in comp.instructions if i.opcode == "reduce"]
    if not reduces:
        return None
    first = reduces[0]
    full = first.operands[0].shape.dims
    reduced = tuple(sorted(first.attrs["dimensions"]))
    if not reduced or 0 in full or _minor_dims(first.operands[0].shape, len(reduced)) != set(reduced):
        return None
    rs = RowShape(full, reduced, tuple(d for k, d in enumerate(full) if k not in reduced))
    kept = tuple(k for k in range(len(full)) if k not in reduced)
    cols = tuple(full[k] for k in reduced)
    spaces = (rs.full, rs.rows, cols, ())
    after_reduce: set = set()           # values a reduction feeds: read only at the current row
    for inst in comp.instructions:
        if inst.shape.is_tuple:
            return None
        dims, op = inst.shape.dims, inst.opcode
        if any(o in after_reduce for o in inst.operands) or op == "reduce":
            after_reduce.add(inst)
        if op == "parameter":
            ok = dims in spaces
        elif op == "constant":
            ok = dims == ()
        elif op == "reduce":
            x = inst.operands[0]
            ok = (x.shape.dims == rs.full and tuple(sorted(inst.attrs["dimensions"])) == reduced
                  and _minor_dims(x.shape, len(reduced)) == set(reduced))
        elif op == "broadcast_in_dim":
            x, along = inst.operands[0], tuple(inst.attrs["dimensions"])
            ok = dims in spaces and (x.shape.dims == () or dims == rs.full and (
                (x.shape.dims == rs.rows and along == kept)
                or (x.shape.dims == cols and along == reduced and x not in after_reduce)))
        elif is_elementwise(op) and op != "rng":
            ok = dims in spaces and all(o.shape.dims in (dims, ()) for o in inst.operands)
        else:
            ok = False
        if not ok:
            return None
    return rs if comp.root.shape.dims in (rs.full, rs.rows) else None


class RowFusion(Pass):
    """Merges row reductions and the ops between them into their only consumer while the result stays
    row-shaped."""

    name = "row-fusion"

    def run(self, module: Module) -> bool:
        names = FusionNames(module)
        changed = False
        for comp in unfused_computations(module):
            while _merge_one(comp, module, names):
                changed = True
        return changed


def _mergeable(inst: Instruction) -> bool:
    """A kernel that can become part of a row kernel: a reduce, a fusion (not around a dot) or a bare
    elementwise op."""
    if inst.opcode == "fusion":
        return inst.attrs["kind"] in MERGEABLE_KINDS
    return inst.opcode == "reduce" or (is_elementwise(inst.opcode) and inst.opcode != "rng")


def _has_reduce(inst: Instruction) -> bool:
    if inst.opcode == "fusion":
        return any(i.opcode == "reduce" for i in inst.called[0].instructions)
    return inst.opcode == "reduce"


def _merge_one(comp: Computation, module: Module, names: FusionNames) -> bool:
    users = comp.users()
    for consumer in comp.instructions:
        if not _mergeable(consumer) or consumer.shape.is_tuple:
            continue
        for producer in dict.fromkeys(consumer.operands):
            if (not _mergeable(producer) or producer is comp.root or producer.shape.is_tuple
                    or not (_has_reduce(producer) or _has_reduce(consumer))
                    or any(u is not consumer for u in users[producer])):
                continue
            merged, operands = _merged_computation(producer, consumer)
            if len(merged.instructions) > MAX_FUSION_SIZE:
                continue
            rs = row_shape(merged)
            # (a row of a symbolic length is never row-fused: its kernel keeps rows in stack buffers)
            if rs is None or guess(lambda: rs.col_count >= LONG_ROW and rs.row_count < FEW_ROWS, True):
                continue
            _replace(comp, module, names, producer, consumer, merged, operands)
            return True
    return False


def _callee(inst: Instruction) -> tuple[Computation, list]:
    """inst as a fused computation and the instructions its parameters stand for."""
    if inst.opcode == "fusion":
        return inst.called[0], list(inst.operands)
    params = [Instruction("parameter", (), o.shape, {"number": k}, name=f"param_{k}", metadata=o.metadata)
              for k, o in enumerate(inst.operands)]
    root = Instruction(inst.opcode, params, inst.shape, inst.attrs, name=inst.name, metadata=inst.metadata,
                       literal=inst.literal)
    return Computation(inst.name, params + [root], root), list(inst.operands)


def _merged_computation(producer: Instruction, consumer: Instruction) -> tuple[Computation, list]:
    """The consumer's fused computation with the producer's computed inside it; and its operands."""
    inner, inner_operands = _callee(producer)
    outer, outer_operands = _callee(consumer)
    operands: list[Instruction] = []
    params: dict[Instruction, Instruction] = {}
    body: list[Instruction] = []
    canonical: dict[tuple, Instruction] = {}

    def param_for(value: Instruction, like: Instruction) -> Instruction:
        if value not in params:
            params[value] = Instruction("parameter", (), like.shape, {"number": len(operands)},
                                        name=f"param_{len(operands)}", metadata=like.metadata)
            operands.append(value)
        return params[value]

    def clone_all(computation: Computation, param_values: dict) -> Instruction:
        clones: dict[Instruction, Instruction] = {}
        for inst in computation.instructions:
            if inst.opcode == "parameter":
                clones[inst] = param_values[inst.attrs["number"]]
                continue
            copy = Instruction(inst.opcode, [clones[o] for o in inst.operands], inst.shape, inst.attrs,
                               name=inst.name, metadata=inst.metadata, literal=inst.literal, called=inst.called)
            clones[inst] = canonical.setdefault(instruction_key(copy), copy)
            if clones[inst] is copy:
                body.append(copy)
        return clones[computation.root]

    outer_params = {p.attrs["number"]: p for p in outer.parameters}
    # parameters in the consumer's order first, so an unchanged operand keeps its number
    values = {k: param_for(o, outer_params[k]) for k, o in enumerate(outer_operands) if o is not producer}
    inner_params = {p.attrs["number"]: p for p in inner.parameters}
    produced = clone_all(inner, {k: param_for(o, inner_params[k]) for k, o in enumerate(inner_operands)})
    for k, o in enumerate(outer_operands):
        if o is producer:
            values[k] = produced
    root = clone_all(outer, values)
    _unique_names(body)
    merged = Computation(outer.name, list(params.values()) + body, root)
    return merged, operands


def _unique_names(body: list) -> None:
    """Two merged copies of one instruction that compute different values keep distinct names."""
    taken: set = set()
    for inst in body:
        name, k = inst.name, 1
        while name in taken:
            k += 1
            name = f"{inst.name}.{k}"
        inst.name = name
        taken.add(name)


def _replace(comp: Computation, module: Module, names: FusionNames, producer: Instruction, consumer: Instruction,
             merged: Computation, operands: list) -> None:
    """consumer becomes the row fusion computing `merged` from `operands`; producer goes away."""
    old = [i.called[0] for i in (producer, consumer) if i.opcode == "fusion"]
    module.computations = [c for c in module.computations if all(c is not o for o in old)]
    if consumer.opcode == "fusion":
        merged.name = consumer.called[0].name
    else:
        consumer.name, merged.name = names.next()
        consumer.opcode = "fusion"
    module.add_computation(merged)
    consumer.operands = operands
    consumer.called = (merged,)
    consumer.attrs = {"kind": "row"}
    consumer.literal = None
    comp.instructions = [i for i in comp.instructions if i is not producer]


__all__ = ["RowFusion", "RowShape", "row_shape"]
