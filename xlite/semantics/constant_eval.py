"""Evaluates instructions that depend on no parameter or random number, with the interpreter's rules."""
from __future__ import annotations

import numpy as np

from xlite.ir.module import Instruction
from xlite.ir.opcodes import op_info
from xlite.ir.shape import leaf_shapes
from xlite.semantics.eval_rules import evaluate_instruction

_VARIABLE_LEAVES = ("parameter", "rng")


def _foldable(inst: Instruction) -> bool:
    """Leaves, calls and collectives (other processes' values) are never folded here; nor is anything whose
    shape is not fully known."""
    return (inst.opcode not in _VARIABLE_LEAVES and not inst.called and not op_info(inst.opcode).run_time_only
            and all(s.is_static for s in leaf_shapes(inst.shape)))


def try_evaluate(inst: Instruction, memo: dict | None = None):
    """The instruction's value as a NumPy array, or None when it depends on run-time input
    (or is a tuple, which only its get_tuple_element users can fold).

    Iterative, so long chains of constant arithmetic do not hit Python's recursion limit."""
    memo = {} if memo is None else memo
    stack = [inst]
    while stack:
        top = stack[-1]
        if top in memo:
            stack.pop()
            continue
        if not _foldable(top):
            memo[top] = None
            stack.pop()
            continue
        pending = [o for o in top.operands if o not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        values = [memo[o] for o in top.operands]
        if any(v is None for v in values):
            memo[top] = None
            continue
        result = evaluate_instruction(top, values)
        memo[top] = result if isinstance(result, tuple) else np.asarray(result)
    return None if isinstance(memo[inst], tuple) else memo[inst]
