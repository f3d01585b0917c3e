"""Scheduling: the order of the entry's instructions, chosen to keep few bytes live at once.

A greedy list scheduler repeatedly runs the ready instruction that frees the most
arena bytes net of what it allocates (ties: the earlier instruction); instructions
that cost nothing (parameters, constants, get_tuple_element, bitcast) run as soon
as they are ready. The pass keeps whichever of that order and the current one
gives the lower peak under the liveness-based buffer assignment.

A Variable's update is written into the Variable's own buffer, so every other
reader of the old value is scheduled before the update wherever the data allows
(a reader that itself depends on the update cannot be, and buffer assignment
then writes the update through a copy).

The schedule is the order of module.entry.instructions; the root stays last.
"""
from __future__ import annotations

from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.shape import leaf_shapes
from xlite.passes.buffer_assignment import aliased_outputs, plan_buffers, returned_values
from xlite.passes.pass_pipeline import Pass

_FREE = frozenset({"parameter", "constant", "get_tuple_element", "bitcast"})


class Scheduling(Pass):
    name = "scheduling"

    def run(self, module: Module) -> bool:
        entry = module.entry
        aliased = aliased_outputs(module)
        before = list(entry.instructions)
        extra = update_ordering(module)
        candidate = list_schedule(entry, extra)
        if _violates(before, extra):
            best = candidate
        else:
            current = plan_buffers(entry, before, aliased).peak_bytes
            best = candidate if plan_buffers(entry, candidate, aliased).peak_bytes < current else before
        entry.instructions = best
        module.properties["scheduled"] = True
        return best != before


def update_ordering(module: Module) -> dict:
    """Extra dependencies: update -> {readers of its Variable's old value that must run first}."""
    entry = module.entry
    aliases = module.properties.get("output_aliases", {})
    if not aliases or entry.root.opcode != "tuple":
        return {}
    users = entry.users()
    params = {p.attrs["number"]: p for p in entry.parameters}
    extra: dict = {}
    for out_index, number in aliases.items():
        update = entry.root.operands[out_index]
        param = params.get(number)
        if param is None or update.opcode in ("parameter", "constant"):
            continue
        after = _descendants(update, users)
        readers = {u for u in users[param] if u is not entry.root and u is not update and u not in after}
        if readers:
            extra.setdefault(update, set()).update(readers)
    return extra


def _descendants(inst: Instruction, users: dict) -> set:
    seen, stack = set(), [inst]
    while stack:
        for u in users[stack.pop()]:
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return seen


def _violates(order: list, extra: dict) -> bool:
    pos = {inst: i for i, inst in enumerate(order)}
    return any(pos[r] > pos[u] for u, readers in extra.items() for r in readers)


def list_schedule(comp: Computation, extra: dict | None = None) -> list:
    """A topological order of comp (honoring `extra` dependencies) that greedily frees bytes."""
    extra = extra or {}
    index = {inst: i for i, inst in enumerate(comp.instructions)}
    users = comp.users()
    preds = {inst: set(inst.operands) | extra.get(inst, set()) for inst in comp.instructions}
    succs: dict = {inst: [] for inst in comp.instructions}
    for inst, ps in preds.items():
        for p in ps:
            succs[p].append(inst)
    waiting = {inst: len(ps) for inst, ps in preds.items()}
    pending_users = {inst: len(set(users[inst])) for inst in comp.instructions}
    pinned = returned_values(comp)
    size = {inst: _bytes(inst) for inst in comp.instructions}

    def frees(v: Instruction) -> int:
        if v.opcode in ("parameter", "constant") or v in pinned:
            return 0
        if v.opcode == "bitcast":
            return frees(v.operands[0]) if pending_users[v.operands[0]] == 0 else 0
        return size[v]

    def score(inst: Instruction):
        if inst is comp.root:
            return (0, 0, -index[inst])
        if inst.opcode in _FREE:
            return (2, 0, -index[inst])
        freed = sum(frees(o) for o in set(inst.operands) if pending_users[o] == 1)
        return (1, freed - size[inst], -index[inst])

    ready = [inst for inst in comp.instructions if waiting[inst] == 0]
    order = []
    while ready:
        best = max(ready, key=score)
        ready.remove(best)
        order.append(best)
        for o in set(best.operands):
            pending_users[o] -= 1
        for s in succs[best]:
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    if len(order) != len(comp.instructions):
        raise ValueError(f"computation %{comp.name} has a dependency cycle")
    return order


def _bytes(inst: Instruction) -> int:
    if inst.opcode in ("parameter", "constant", "tuple", "get_tuple_element", "bitcast"):
        return 0
    shape = inst.shape
    if shape.is_tuple:
        return sum(s.byte_size for s in leaf_shapes(shape))
    return shape.byte_size
