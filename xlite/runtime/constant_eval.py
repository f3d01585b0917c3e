"""Evaluates instructions that depend on no parameter or random number, with the interpreter's rules."""
from __future__ import annotations

import numpy as np

from xlite.ir.module import Instruction
from xlite.runtime.interpreter import evaluate_instruction

_VARIABLE_LEAVES = ("parameter", "rng")


def try_evaluate(inst: Instruction, memo: dict | None = None):
    """The instruction's value as a NumPy array, or None when it depends on run-time input."""
    memo = {} if memo is None else memo
    if inst in memo:
        return memo[inst]
    if inst.opcode in _VARIABLE_LEAVES or inst.called:
        memo[inst] = None
        return None
    values = []
    for operand in inst.operands:
        v = try_evaluate(operand, memo)
        if v is None:
            memo[inst] = None
            return None
        values.append(v)
    result = evaluate_instruction(inst, values)
    memo[inst] = None if isinstance(result, tuple) else np.asarray(result)
    return memo[inst]
