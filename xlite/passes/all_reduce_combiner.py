"""Tensor fusion: independent all_reduces of one kind and dtype become one, over a buffer that holds them all.

A training step all-reduces one gradient per Variable; each MPI call costs a latency (microseconds on one
machine, tens of them across a network) whatever its size, so Horovod packs small gradients into one
fusion buffer, as XLA's AllReduceCombiner does. Here the operands are flattened and concatenated, one
all_reduce reduces the buffer, and slices give every original result back:

    %r1 = f32[3,2] all_reduce(%g1), kind=mean          %flat = f32[10] concatenate(reshape(%g1), reshape(%g2))
    %r2 = f32[4]   all_reduce(%g2), kind=mean    ->    %r = f32[10] all_reduce(%flat), kind=mean
                                                       %r1 = f32[3,2] reshape(slice(%r, 0:6)); %r2 = slice 6:10

All-reduces combine only when none depends on another, up to FUSION_BYTES per buffer (Horovod's default
fusion threshold), in buckets as Horovod and PyTorch's DistributedDataParallel make them: in backward order
(by the work their operands need: the last layer's gradients first), a bucket closing where the next gradient
needs substantial work (OVERLAP_WORK operations) that the bucket's do not, once it holds bucket_bytes(). Split
into start and done (async_collectives.py), the first buckets are then reduced while the backward pass
computes the later ones. The loop fusion that follows computes each concatenation in one kernel and folds
each slice into its users. A gradient of bucket_bytes() or more is reduced on its own, in the buffer its
producer wrote: its call's latency is small beside copying it into a fusion buffer. Every process runs the same
pass on the same Module, so all make the same calls.
"""
from __future__ import annotations

from math import prod

from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.opcodes import op_info
from xlite.ir.shape import Shape
from xlite.ir.shape_inference import infer_shape
from xlite.ir.symbolic import nominal
from xlite.passes.pass_pipeline import Pass
from xlite.passes.rewrite import unique_name
from xlite.semantics.world import world

FUSION_BYTES = 64 << 20
# A ring all-reduce over p processes costs 2 (p - 1) latencies plus 2 (p - 1) / p of its bytes over the
# bandwidth, so one more bucket pays off only if it moves more than p * latency * bandwidth bytes: ~11 KB a
# process for MPI over shared memory on a quiet host here (9 us at 1.2 GB/s, docs/distributed.md), ~27 KB
# loaded (27 us at 1 GB/s); a network's 10 us at 3 GB/s is 30 KB.
BUCKET_BYTES_PER_PROCESS = 32 << 10
OVERLAP_WORK = 1 << 20      # operations (~0.1 ms on one core) worth starting a bucket's reduction before


class AllReduceCombiner(Pass):
    name = "all-reduce-combiner"

    def __init__(self, fusion_bytes: int = FUSION_BYTES, bucket_bytes: int | None = None):
        self.fusion_bytes = fusion_bytes
        self.bucket_bytes = bucket_bytes        # None: default_bucket_bytes(), asked only of a Module with all-reduces

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
        """Groups of two or more all_reduces to combine, each member independent of the others: buckets in
        backward order (the order their operands can be ready), each closed where the next gradient needs
        at least OVERLAP_WORK operations the bucket does not, once it holds bucket_bytes."""
        if sum(i.opcode == "all_reduce" for i in comp.instructions) < 2:
            return []
        ancestors: dict[Instruction, frozenset] = {}
        work: dict[Instruction, int] = {}
        candidates: dict[tuple, list] = {}       # (kind, dtype) -> all_reduces
        for inst in comp.instructions:
            ancestors[inst] = frozenset({inst}).union(*(ancestors[o] for o in inst.operands))
            work[inst] = estimated_work(inst)
            if inst.opcode == "all_reduce" and inst.shape.is_static:
                candidates.setdefault((inst.attrs["kind"], inst.shape.dtype.ir_name), []).append(inst)
        position = {inst: k for k, inst in enumerate(comp.instructions)}
        done: list[list[Instruction]] = []
        bucket_bytes = self.bucket_bytes if self.bucket_bytes is not None else default_bucket_bytes()
        for members in candidates.values():
            members = [m for m in members if m.shape.byte_size < bucket_bytes]     # big ones: no copy
            ready = {m: sum(work[a] for a in ancestors[m.operands[0]]) for m in members}
            group, nbytes, needs = [], 0, frozenset()
            for inst in sorted(members, key=lambda m: (ready[m], position[m])):
                size = inst.shape.byte_size
                new_work = sum(work[a] for a in ancestors[inst.operands[0]] - needs)
                if group and (nbytes + size > self.fusion_bytes
                              or any(m in ancestors[inst] or inst in ancestors[m] for m in group)
                              or (nbytes >= bucket_bytes and new_work >= OVERLAP_WORK)):
                    done.append(group)
                    group, nbytes, needs = [], 0, frozenset()
                group.append(inst)
                nbytes += size
                needs |= ancestors[inst.operands[0]]
            done.append(group)
        return [g for g in done if len(g) > 1]


def default_bucket_bytes() -> int:
    """The least bytes a bucket holds before it may close: grows with the world (every process compiles for the
    same one, which the cache key names)."""
    return BUCKET_BYTES_PER_PROCESS * max(2, world().size)


def estimated_work(inst: Instruction) -> int:
    """Rough operations to compute inst (a symbol taken as nominal): a dot's or convolution's multiply-adds,
    else one per element times the op's cost."""
    if inst.shape.is_tuple or not inst.shape.is_static or inst.opcode in ("parameter", "constant"):
        return 0
    n = nominal(prod(inst.shape.dims))
    if inst.opcode == "dot":
        lhs = inst.operands[0].shape
        return 2 * n * nominal(prod(lhs.dims[d] for d in inst.attrs["lhs_contracting_dims"]))
    if inst.opcode == "convolution":
        rhs, spec = inst.operands[1].shape, inst.attrs["rhs_spec"]
        return 2 * n * nominal(prod(rhs.dims)) // max(1, nominal(rhs.dims[spec[0]]))
    return n * op_info(inst.opcode).cost


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


__all__ = ["AllReduceCombiner", "FUSION_BYTES", "BUCKET_BYTES_PER_PROCESS", "OVERLAP_WORK", "default_bucket_bytes",
           "estimated_work"]
