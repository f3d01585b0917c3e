"""Scheduling: the order of the entry's instructions, chosen to keep few bytes live at once.

Two candidate orders: a greedy list scheduler that repeatedly runs the ready
instruction freeing the most arena bytes net of what it allocates (ties: the
earlier instruction; parameters, constants, get_tuple_element and bitcast run as
soon as they are ready), and a depth-first post-order from the root that visits
the heaviest operand subgraph first, so values are made close to their use. The
pass keeps whichever of these and the current order gives the lowest peak under
the liveness-based buffer assignment (the current order on ties).

A Variable's update is written into the Variable's own buffer, so every other
reader of the old value is scheduled before the update wherever the data allows
(a reader that itself depends on the update cannot be, and buffer assignment
then writes the update through a copy).

The schedule is the order of module.entry.instructions; the root stays last. In the other
computations (loop bodies, branches) each dynamic_update_slice and scatter_add moves down to just
before its first user, after the other readers of the buffer it writes, so codegen can write it in place.
"""
from __future__ import annotations

from xlite.ir.symbolic import nominal
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
        candidates = [] if _violates(before, extra) else [before]
        candidates += [list_schedule(entry, extra), dfs_schedule(entry, extra)]
        best = min(candidates, key=lambda order: nominal(plan_buffers(entry, order, aliased).peak_bytes))
        best = overlap_collectives(best, extra)
        entry.instructions = best
        sunk = [sink_updates(comp) for comp in module.all_computations() if comp is not entry]
        return best != before or any(sunk)


def overlap_collectives(order: list, extra: dict | None = None) -> list:
    """`order` with each all_reduce_start as early as its operand can be made and each all_reduce_done as late
    as its first user allows, so the reductions run while the instructions between compute.

    Start by start (in `order`), what a start needs (through operands and `extra` dependencies) moves up, in
    its order, to just before it; the rest keeps its order after the last start; each done then moves down to
    just before its first user (the root at the latest)."""
    starts = [inst for inst in order if inst.opcode == "all_reduce_start"]
    if not starts:
        return order
    extra = extra or {}
    placed: set = set()
    hoisted: list = []
    for start in starts:
        need, stack = set(), [start]
        while stack:
            inst = stack.pop()
            if inst in need or inst in placed:
                continue
            need.add(inst)
            stack.extend(inst.operands)
            stack.extend(extra.get(inst, ()))
        hoisted += [inst for inst in order if inst in need]
        placed |= need
    result = hoisted + [inst for inst in order if inst not in placed]
    waits_for = {}          # instruction -> the dones it must follow (operands and extra dependencies)
    for inst in result:
        for pred in list(inst.operands) + list(extra.get(inst, ())):
            if pred.opcode == "all_reduce_done":
                waits_for.setdefault(inst, []).append(pred)
    dones = [inst for inst in result if inst.opcode == "all_reduce_done"]
    result = [inst for inst in result if inst.opcode != "all_reduce_done"]
    placed_dones: set = set()
    final = []
    for inst in result:
        for done in waits_for.get(inst, ()):
            if done not in placed_dones:
                placed_dones.add(done)
                final.append(done)
        final.append(inst)
    unused = [d for d in dones if d not in placed_dones]      # read by nothing: the root, or dead
    root = order[-1]
    return final + unused if root in unused else final[:-1] + unused + final[-1:]


def sink_updates(comp: Computation) -> bool:
    """Moves each dynamic_update_slice and scatter_add of comp to just before its first user (a loop body's row write
    after the other reads of the old buffer: then it may overwrite that buffer in place)."""
    changed = False
    for inst in [i for i in comp.instructions if i.opcode in ("dynamic_update_slice", "scatter_add")]:
        order = comp.instructions
        at = order.index(inst)
        first = next((k for k in range(at + 1, len(order)) if inst in order[k].operands), None)
        if first is not None and first > at + 1:
            order.insert(first - 1, order.pop(at))
            changed = True
    return changed


def update_ordering(module: Module) -> dict:
    """Extra dependencies: update -> {readers of its Variable's old value that must run first}."""
    entry = module.entry
    aliases = module.output_aliases
    if not aliases or entry.root.opcode != "tuple":
        return {}
    users = entry.users()
    params = {p.attrs["number"]: p for p in entry.parameters}
    position = {inst: i for i, inst in enumerate(entry.instructions)}
    extra: dict = {}
    for out_index, number in sorted(aliases.items()):
        update = entry.root.operands[out_index]
        param = params.get(number)
        if param is None or update.opcode in ("parameter", "constant"):
            continue
        for reader in sorted(users[param], key=position.get):
            # an edge that closes a cycle (the reader needs this update, perhaps through another update's
            # ordering: a <- f(a, b), b <- g(a, b)) is left out; buffer assignment copies that update instead
            if reader is not entry.root and reader is not update and not _depends(reader, update, extra):
                extra.setdefault(update, set()).add(reader)
    return extra


def _depends(inst: Instruction, on: Instruction, extra: dict) -> bool:
    """Whether inst must run after `on`, through operands and the `extra` orderings so far."""
    seen, stack = set(), [inst]
    while stack:
        current = stack.pop()
        if current is on:
            return True
        if current in seen:
            continue
        seen.add(current)
        stack.extend(current.operands)
        stack.extend(extra.get(current, ()))
    return False


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
    size = {inst: nominal(_bytes(inst)) for inst in comp.instructions}     # (a symbolic size: an estimate)

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


def dfs_schedule(comp: Computation, extra: dict | None = None) -> list:
    """A post-order from the root, each instruction's operands visited heaviest subgraph first, so
    every value is made close to where it is used (`extra` dependencies count as operands)."""
    extra = extra or {}
    index = {inst: i for i, inst in enumerate(comp.instructions)}
    deps = {inst: list(dict.fromkeys(list(inst.operands) + sorted(extra.get(inst, ()), key=index.get)))
            for inst in comp.instructions}
    weight: dict = {}
    for inst in comp.instructions:
        weight[inst] = nominal(_bytes(inst)) + sum(weight[d] for d in deps[inst] if d in weight)
    order, done = [i for i in comp.instructions if i.opcode == "parameter"], set()
    done.update(order)
    stack = [(comp.root, False)]
    while stack:
        inst, expanded = stack.pop()
        if inst in done:
            continue
        if expanded:
            done.add(inst)
            order.append(inst)
            continue
        stack.append((inst, True))
        for d in sorted(deps[inst], key=lambda d: (weight.get(d, 0), -index[d])):
            if d not in done:
                stack.append((d, False))     # pushed lightest first: the heaviest is visited first
    rest = [i for i in comp.instructions if i not in done]      # nothing the root needs
    return order[:-1] + rest + order[-1:]


def _bytes(inst: Instruction) -> int:
    if inst.opcode in ("parameter", "constant", "tuple", "get_tuple_element", "bitcast"):
        return 0
    shape = inst.shape
    if shape.is_tuple:
        return sum(s.byte_size for s in leaf_shapes(shape))
    return shape.byte_size
