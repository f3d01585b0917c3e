"""One sweep over a computation that replaces instructions, keeping users, root, order and names valid."""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from xlite.ir.module import Computation, Instruction

# A rewrite: the instruction that now computes the value, and the fresh instructions
# (operands first, the replacement among them if it is fresh) to insert where the old one was.
Rewrite = Optional[tuple[Instruction, Sequence[Instruction]]]


def rewrite_computation(comp: Computation, rule: Callable[[Instruction], Rewrite]) -> bool:
    """Visits instructions in order, operands already rewritten, and applies `rule` to each.

    A replaced instruction is dropped; a fresh replacement takes its name, and so does an
    existing non-parameter instruction that becomes the root, so the root keeps its name."""
    names = {inst.name for inst in comp.instructions}
    replaced: dict[Instruction, Instruction] = {}
    kept: list[Instruction] = []
    for inst in comp.instructions:
        if replaced:
            inst.operands = [replaced.get(o, o) for o in inst.operands]
        result = rule(inst)
        if result is None or result[0] is inst:
            kept.append(inst)
            continue
        new, fresh = result
        for f in fresh:
            if f is new:
                f.name = inst.name
            elif f.name in names:
                f.name = unique_name(f.name, names)
            names.add(f.name)
        kept.extend(fresh)
        replaced[inst] = new
    if not replaced:
        return False
    old_root = comp.root
    comp.instructions = kept
    comp.root = replaced.get(old_root, old_root)
    if comp.root is not old_root and comp.root.opcode != "parameter":
        comp.root.name = old_root.name
    return True


def unique_name(base: str, taken: set[str]) -> str:
    k = 1
    while f"{base}.{k}" in taken:
        k += 1
    return f"{base}.{k}"
