"""Dead-code elimination: drops instructions the root does not need and computations nothing calls."""
from __future__ import annotations

from xlite.ir.module import Computation, Module
from xlite.passes.pass_pipeline import Pass


def live_instructions(comp: Computation) -> set:
    """Everything the root reads, transitively, plus the parameters (a computation's signature)."""
    live, stack = set(), [comp.root]
    while stack:
        inst = stack.pop()
        if inst not in live:
            live.add(inst)
            stack.extend(inst.operands)
    return live | {i for i in comp.instructions if i.opcode == "parameter"}


class DeadCodeElimination(Pass):
    """Nothing in the op set has side effects, so an unread instruction can always go."""

    name = "dce"

    def run(self, module: Module) -> bool:
        changed = False
        for comp in module.all_computations():
            live = live_instructions(comp)
            if len(live) != len(comp.instructions):
                comp.instructions = [i for i in comp.instructions if i in live]
                changed = True
        called = _called_computations(module)
        kept = [c for c in module.computations if c is module.entry or c in called]
        if len(kept) != len(module.computations):
            module.computations = kept
            changed = True
        return changed


def _called_computations(module: Module) -> set:
    seen, stack = set(), [module.entry]
    while stack:
        comp = stack.pop()
        for inst in comp.instructions:
            for c in inst.called:
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
    return seen
