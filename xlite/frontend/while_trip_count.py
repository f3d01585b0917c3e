"""A tf.while_loop's trip count when the graph alone decides it (`i < 3` with `i` counting from 0 by 1).

A loop's gradient keeps each iteration's loop variables; a trip count known at compile time sizes
that history exactly, as a constant maximum_iterations does. Only the plain counting pattern is
recognised: the condition compares one integer loop variable with a constant, the body adds or
subtracts a constant to it, and its initial value is a constant. Anything else is left unknown.
A constant the loop takes from outside can be fed in a run, so the gradient's lowering asks again with
the run's values (`value_of`).
"""
from __future__ import annotations

import operator

from typing import Callable

from xlite.frontend.graph import Operation, Tensor

_COMPARISONS = {"Less": operator.lt, "LessEqual": operator.le, "Greater": operator.gt,
                "GreaterEqual": operator.ge, "NotEqual": operator.ne}
_MIRRORED = {"Less": "Greater", "LessEqual": "GreaterEqual", "Greater": "Less", "GreaterEqual": "LessEqual",
             "NotEqual": "NotEqual"}
_STEPS = {"Add": 1, "AddV2": 1, "Sub": -1}
_MAX_COUNTED = 1 << 20   # simulating further is not worth it; such loops size their history at run time


def static_trip_count(op: Operation, value_of: Callable | None = None) -> int | None:
    """How many iterations the "While" op runs, when its cond and body fix it; otherwise None.

    `value_of(t)` gives the value of one of the op's inputs when it is known (None otherwise);
    without it, the values known at graph construction."""
    a = op.attrs
    outer = set(op.inputs)

    def known(t: Tensor) -> int | None:
        value = value_of(t) if value_of is not None and t in outer else t._static_value
        if value is None or getattr(value, "shape", ()) != () or not t.dtype.is_integer:
            return None
        return int(value)

    count = _counted_trips(op, known) if a["n_vars"] else None
    if a["max_index"] is not None:
        limit = known(op.inputs[a["max_index"]])
        if limit is not None:
            count = max(limit, 0) if count is None else min(count, max(limit, 0))
    return count


def _counted_trips(op: Operation, known: Callable) -> int | None:
    cond, body = op.attrs["cond"], op.attrs["body"]
    pred = cond.outputs[0].op
    if pred.type not in _COMPARISONS:
        return None
    kind, (left, right) = pred.type, pred.inputs
    if known(left) is not None:
        kind, left, right = _MIRRORED[kind], right, left
    bound = known(right)
    if bound is None or left not in cond.args or not left.dtype.is_integer:
        return None
    j = cond.args.index(left)
    start, step = known(op.inputs[j]), _step(body.outputs[j], body.args[j], known)
    if start is None or step is None:
        return None
    compare, value, count = _COMPARISONS[kind], start, 0
    while compare(value, bound):
        if count >= _MAX_COUNTED or step == 0:
            return None
        value, count = value + step, count + 1
    return count


def _step(out: Tensor, arg: Tensor, known: Callable) -> int | None:
    """c when the body returns arg + c (or arg - c) for a constant c."""
    op = out.op
    if op.type not in _STEPS:
        return None
    x, y = op.inputs
    if x is arg and known(y) is not None:
        return _STEPS[op.type] * known(y)
    if y is arg and op.type != "Sub" and known(x) is not None:
        return known(x)
    return None

