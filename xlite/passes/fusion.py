"""Fusion: groups of instructions that one kernel computes, as `fusion` instructions.

Each group has one root, the instruction whose value the kernel writes to memory,
and members that the kernel evaluates element by element in registers. Kinds:

- "loop": elementwise ops, broadcasts, reshapes, transposes, bitcasts, slices (static
  and dynamic), selects, converts, concatenates, pads, reverses, iotas and scalar constants;
- "input": a reduction (reduce, argmax, argmin, reduce_window) with its producers;
- "output": a dot or convolution whose value flows only through same-index
  elementwise ops to the root (bias add, activation): the kernel writes the dot
  and applies that epilogue in place. The dot's operands are always kernel inputs.

Decisions walk the computation from the root up (consumers before producers).
A producer joins every group that reads it, or none and is materialized; a
member is duplicated into each group that reads it, so every group's inputs are
ancestors of its root and fusion never creates a cycle. An expensive producer
(`op_info(opcode).expensive`: exp, log, tanh, pow, ...) joins a group only where the group
evaluates each of its elements at most once (no broadcast or window between it
and the root), and into at most MAX_EXPENSIVE_COPIES groups; a producer that
must be materialized anyway is duplicated only if it is a cheap generator
(broadcast, iota, scalar constant). rng, parameters, while, conditional, tuples,
gather, scatter and dynamic_update_slice (a kernel of its own over its operand) are never fused.

The fusion instruction's operands are its inputs in the order of the fused
computation's parameters; the fused computation is registered in module.computations.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.opcodes import is_elementwise, op_info
from xlite.passes.pass_pipeline import Pass

LOOP_OPS = frozenset({"broadcast_in_dim", "reshape", "transpose", "bitcast", "slice", "pad",
                      "concatenate", "reverse", "iota", "dynamic_slice"})
INPUT_ROOTS = frozenset({"reduce", "argmax", "argmin", "reduce_window"})
OUTPUT_ROOTS = frozenset({"dot", "convolution"})
CHEAP_GENERATORS = frozenset({"broadcast_in_dim", "iota", "constant"})
# Reads each element of the operand at most once for each element it computes.
_INJECTIVE = frozenset({"reshape", "bitcast", "transpose", "slice", "reverse", "concatenate", "convert",
                        "copy"}) | INPUT_ROOTS - {"reduce_window"}
MAX_EXPENSIVE_COPIES = 3
MAX_FUSION_SIZE = 256


def is_loop_fusible(inst: Instruction) -> bool:
    """Whether `inst` can be evaluated element by element inside another kernel."""
    if inst.shape.is_tuple:
        return False
    if inst.opcode == "constant":
        return inst.shape.rank == 0
    return (is_elementwise(inst.opcode) and inst.opcode != "rng") or inst.opcode in LOOP_OPS


def fusion_kind(instructions) -> str:
    ops = {i.opcode for i in instructions}
    if ops & OUTPUT_ROOTS:
        return "output"
    if ops & INPUT_ROOTS:
        return "input"
    return "loop"


@dataclass(eq=False)
class _Group:
    root: Instruction
    members: set = field(default_factory=set)        # root included
    aligned: dict = field(default_factory=dict)      # member -> evaluated only at the root's index
    once: dict = field(default_factory=dict)         # member -> each element evaluated at most once
    has_dot: bool = False

    def __post_init__(self):
        self.members.add(self.root)
        self.aligned[self.root] = True
        self.once[self.root] = True
        self.has_dot = self.root.opcode in OUTPUT_ROOTS

    @property
    def fusible_root(self) -> bool:
        return is_loop_fusible(self.root) or self.root.opcode in INPUT_ROOTS | OUTPUT_ROOTS


def _same_index(user: Instruction, operand: Instruction) -> bool:
    """`user` reads `operand` at its own index (an elementwise op over equal dims)."""
    return is_elementwise(user.opcode) and operand.shape.dims == user.shape.dims


def _reads_once(user: Instruction, operand: Instruction) -> bool:
    """`user` reads each element of `operand` at most once over all its elements."""
    if _same_index(user, operand):
        return True
    if user.opcode == "broadcast_in_dim":
        return operand.shape.num_elements == user.shape.num_elements
    if user.opcode in ("pad", "dynamic_slice"):     # their other operands are read at every element
        return operand is user.operands[0] and operand not in user.operands[1:]
    if user.opcode == "concatenate":
        return sum(o is operand for o in user.operands) == 1
    return user.opcode in _INJECTIVE


class Fusion(Pass):
    name = "fusion"

    def run(self, module: Module) -> bool:
        names = FusionNames(module)
        changed = False
        for comp in unfused_computations(module):
            changed |= fuse_computation(comp, module, names)
        return changed


def unfused_computations(module: Module) -> list[Computation]:
    """The computations that are not some fusion's body (the entry, loop bodies, branches)."""
    fused = {id(callee) for c in module.all_computations() for i in c.instructions
             if i.opcode == "fusion" for callee in i.called}
    return [c for c in module.all_computations() if id(c) not in fused]


class FusionNames:
    """Fresh `fusion.N` / `fused_computation.N` names, unused anywhere in the module."""

    def __init__(self, module: Module):
        self.taken = {c.name for c in module.computations}
        self.taken |= {i.name for c in module.computations for i in c.instructions}
        self.count = 0

    def next(self) -> tuple[str, str]:
        while True:
            self.count += 1
            inst, comp = f"fusion.{self.count}", f"fused_computation.{self.count}"
            if inst not in self.taken and comp not in self.taken:
                self.taken |= {inst, comp}
                return inst, comp


def plan_fusion(comp: Computation) -> tuple[dict, set]:
    """The groups of `comp` (root -> _Group, singletons included) and the materialized instructions."""
    users = comp.users()
    groups: dict[Instruction, _Group] = {}
    containing: dict[Instruction, list[_Group]] = {}
    materialized: set = set()

    def materialize(inst: Instruction) -> None:
        materialized.add(inst)
        group = _Group(inst)
        groups[inst] = group
        containing.setdefault(inst, []).append(group)

    for p in reversed(comp.instructions):
        sites: list[_Group] = []
        needed = p is comp.root
        for u in users[p]:
            for g in containing.get(u, ()):
                if not g.fusible_root:
                    needed = True
                elif g not in sites:
                    sites.append(g)
        if p.opcode in OUTPUT_ROOTS and _try_output_fusion(p, users[p], sites, needed):
            _join(p, sites[0], users[p])
            sites[0].has_dot = True
            containing[p] = [sites[0]]
            continue
        if not is_loop_fusible(p) or not sites:
            materialize(p)
            continue
        ok = [g for g in sites if _can_join(p, g, users[p])]
        expensive = op_info(p.opcode).expensive
        if not needed and len(ok) == len(sites) and not (expensive and len(sites) > MAX_EXPENSIVE_COPIES):
            targets = sites
        else:
            materialize(p)
            targets = ok if p.opcode in CHEAP_GENERATORS else []
        for g in targets:
            _join(p, g, users[p])
            containing.setdefault(p, []).append(g)
    return groups, materialized


def _try_output_fusion(dot: Instruction, users: list, sites: list, needed: bool) -> bool:
    """A dot whose only user is in one loop group, where it is read at the root's index."""
    if needed or len(users) != 1 or len(sites) != 1:
        return False
    g = sites[0]
    u = users[0]
    return (not g.has_dot and fusion_kind(g.members) == "loop" and g.root.shape.dims == dot.shape.dims
            and g.aligned.get(u, False) and _same_index(u, dot) and len(g.members) < MAX_FUSION_SIZE)


def _can_join(p: Instruction, g: _Group, users: list) -> bool:
    if len(g.members) >= MAX_FUSION_SIZE:
        return False
    inside = [u for u in users if u in g.members]
    if any(u.opcode in OUTPUT_ROOTS for u in inside):
        return False                    # a dot's operands stay in memory
    if op_info(p.opcode).expensive:
        return _once(p, g, inside)
    return True


def _aligned(p: Instruction, g: _Group, inside: list) -> bool:
    return all(g.aligned[u] and _same_index(u, p) for u in inside)


def _once(p: Instruction, g: _Group, inside: list) -> bool:
    if _aligned(p, g, inside):
        return True
    return len(inside) == 1 and g.once[inside[0]] and _reads_once(inside[0], p)


def _join(p: Instruction, g: _Group, users: list) -> None:
    inside = [u for u in users if u in g.members]
    g.aligned[p] = _aligned(p, g, inside)
    g.once[p] = _once(p, g, inside)
    g.members.add(p)


def fuse_computation(comp: Computation, module: Module, names: FusionNames) -> bool:
    groups, materialized = plan_fusion(comp)
    order = {inst: i for i, inst in enumerate(comp.instructions)}
    for root, group in groups.items():    # a lone op on scalar constants is no fusion: keep them
        if all(m.opcode == "constant" for m in group.members if m is not root):
            materialized.update(group.members)
            group.members = {root}
    replaced: dict[Instruction, Instruction] = {}
    kept: list[Instruction] = []
    changed = False
    for inst in comp.instructions:
        if inst not in materialized:
            changed = True
            continue
        group = groups.get(inst)
        if group is None or len(group.members) == 1:
            inst.operands = [replaced.get(o, o) for o in inst.operands]
            kept.append(inst)
            continue
        fusion = _make_fusion(group, sorted(group.members, key=order.__getitem__), module, names, replaced)
        replaced[inst] = fusion
        kept.append(fusion)
        changed = True
    comp.instructions = kept
    comp.root = replaced.get(comp.root, comp.root)
    return changed


def _make_fusion(group: _Group, members: list, module: Module, names: FusionNames, replaced: dict) -> Instruction:
    """The fused computation of `group` (`members` in their original order) and the fusion calling it."""
    inst_name, comp_name = names.next()
    fused = Computation(comp_name)
    clones: dict[Instruction, Instruction] = {}
    inputs: list[Instruction] = []
    params: dict[Instruction, Instruction] = {}
    body: list[Instruction] = []
    for m in members:
        operands = []
        for o in m.operands:
            if o in clones:
                operands.append(clones[o])
                continue
            if o not in params:
                params[o] = Instruction("parameter", (), o.shape, {"number": len(inputs)},
                                        name=f"param_{len(inputs)}", metadata=o.metadata)
                inputs.append(o)
            operands.append(params[o])
        clones[m] = Instruction(m.opcode, operands, m.shape, m.attrs, name=m.name, metadata=m.metadata,
                                literal=m.literal, called=m.called)
        body.append(clones[m])
    fused.instructions = list(params.values()) + body
    fused.root = clones[group.root]
    module.add_computation(fused)
    kind = fusion_kind(members)
    return Instruction("fusion", [replaced.get(i, i) for i in inputs], group.root.shape, {"kind": kind},
                       name=inst_name, metadata=group.root.metadata, called=(fused,))


# Instructions that are neither kernels nor data movement: buffers and plumbing.
NOT_KERNELS = frozenset({"parameter", "constant", "tuple", "get_tuple_element", "bitcast"})


def kernel_count(comp: Computation) -> int:
    """Kernels the computation launches: every instruction but parameters, constants, tuple plumbing
    and bitcasts (which share their operand's buffer)."""
    return sum(1 for i in comp.instructions if i.opcode not in NOT_KERNELS)
