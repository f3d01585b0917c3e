"""TF1's learning-rate schedules (tf.train.*_decay): graph ops of the global step, built as TF 2's
compat.v1 builds them (Keras' LearningRateSchedule formulas, names and dtype rules)."""
from __future__ import annotations

import math

from xlite.frontend import math_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor, get_default_graph


def _float_learning_rate(learning_rate, schedule: str) -> Tensor:
    """The initial rate fixes the schedule's dtype; TF fails on an integer one (its Pow has no int/float mix)."""
    lr = convert_to_tensor(learning_rate, name="initial_learning_rate")
    if not lr.dtype.is_floating:
        raise TypeError(f"{schedule}: learning_rate must be a floating-point value, got {lr.dtype.name} "
                        f"({learning_rate!r}); pass e.g. 1.0 rather than 1.")
    return lr


def _step(global_step, schedule: str):
    if global_step is None:
        raise ValueError(f"global_step is required for {schedule}.")
    return global_step


def _exponential(learning_rate, global_step, decay_steps, decay_rate, staircase, name, schedule):
    step = _step(global_step, schedule)
    with get_default_graph().name_scope(name or "ExponentialDecay") as scope:
        lr = _float_learning_rate(learning_rate, schedule)
        p = math_ops.cast(step, lr.dtype) / math_ops.cast(decay_steps, lr.dtype)
        if staircase:
            p = math_ops.floor(p)
        return math_ops.multiply(lr, math_ops.pow(math_ops.cast(decay_rate, lr.dtype), p), name=scope)


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False,
                      name: str | None = None) -> Tensor:
    """lr * decay_rate ** (step / decay_steps), the exponent floored when `staircase`."""
    return _exponential(learning_rate, global_step, decay_steps, decay_rate, staircase, name,
                        "exponential_decay")


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False,
                      name: str | None = None) -> Tensor:
    """lr * exp(-decay_rate) ** (step / decay_steps): TF 2 builds it as an exponential_decay (same op names)."""
    _step(global_step, "natural_exp_decay")
    rate = math_ops.exp(math_ops.negative(decay_rate))
    return _exponential(learning_rate, global_step, decay_steps, rate, staircase, name, "natural_exp_decay")


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False,
                       name: str | None = None) -> Tensor:
    """lr / (1 + decay_rate * step / decay_steps), the ratio floored when `staircase`."""
    step = _step(global_step, "inverse_time_decay")
    with get_default_graph().name_scope(name or "InverseTimeDecay") as scope:
        lr = _float_learning_rate(learning_rate, "inverse_time_decay")
        p = math_ops.cast(step, lr.dtype) / math_ops.cast(decay_steps, lr.dtype)
        if staircase:
            p = math_ops.floor(p)
        denom = math_ops.add(math_ops.cast(1, lr.dtype), math_ops.multiply(math_ops.cast(decay_rate, lr.dtype), p))
        return math_ops.divide(lr, denom, name=scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001, power=1.0,
                     cycle: bool = False, name: str | None = None) -> Tensor:
    """(lr - end) * (1 - step / decay_steps) ** power + end; past decay_steps it stays at `end`, or with
    `cycle` decay_steps grows to the next multiple of itself above the step (1x at step 0)."""
    step = _step(global_step, "polynomial_decay")
    with get_default_graph().name_scope(name or "PolynomialDecay") as scope:
        lr = _float_learning_rate(learning_rate, "polynomial_decay")
        end = math_ops.cast(end_learning_rate, lr.dtype)
        power = math_ops.cast(power, lr.dtype)
        step = math_ops.cast(step, lr.dtype)
        steps = math_ops.cast(decay_steps, lr.dtype)
        if cycle:
            multiplier = math_ops.where_v2(math_ops.equal(step, 0), math_ops.cast(1.0, lr.dtype),
                                           math_ops.ceil(step / steps))
            steps = math_ops.multiply(steps, multiplier)
        else:
            step = math_ops.minimum(step, steps)
        p = math_ops.divide(step, steps)
        return math_ops.add(math_ops.multiply(lr - end, math_ops.pow(1 - p, power)), end, name=scope)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name: str | None = None) -> Tensor:
    """lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)."""
    step = _step(global_step, "cosine_decay")
    with get_default_graph().name_scope(name or "CosineDecay"):
        lr = _float_learning_rate(learning_rate, "cosine_decay")
        steps = math_ops.cast(decay_steps, lr.dtype)
        fraction = math_ops.minimum(math_ops.cast(step, lr.dtype), steps) / steps
        cosine = 0.5 * (1.0 + math_ops.cos(math_ops.cast(math.pi, lr.dtype) * fraction))
        return math_ops.multiply(lr, (1 - alpha) * cosine + alpha)


def piecewise_constant(x, boundaries, values, name: str | None = None) -> Tensor:
    """values[0] while x <= boundaries[0], values[i] for boundaries[i-1] < x <= boundaries[i], values[-1]
    past the last boundary (and values[0] where no interval holds x, e.g. NaN, as TF's tf.case default)."""
    boundaries = [convert_to_tensor(b) for b in _flat(boundaries)]
    values = [convert_to_tensor(v) for v in _flat(values)]
    x = convert_to_tensor(x)
    for i, b in enumerate(boundaries):
        if b.dtype != x.dtype:
            if not (b.dtype.name == "int32" and x.dtype.name == "int64"):   # ints widen without loss
                raise ValueError(f"Boundaries ({b.dtype.name}) must have the same dtype as x ({x.dtype.name}).")
            boundaries[i] = math_ops.cast(b, x.dtype)
    for v in values[1:]:
        if v.dtype != values[0].dtype:
            raise ValueError(f"Values must have elements all with the same dtype "
                             f"({values[0].dtype.name} vs {v.dtype.name}).")
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    if not boundaries:
        raise ValueError("piecewise_constant needs at least one boundary (and two values).")
    with get_default_graph().name_scope(name or "PiecewiseConstant"):
        result = values[0]
        pairs = [(x > boundaries[-1], values[-1])]
        pairs += [((x > low) & (x <= high), v) for low, high, v in zip(boundaries, boundaries[1:], values[1:-1])]
        for pred, value in pairs:       # the predicates are exclusive, so their order does not matter
            result = math_ops.where_v2(pred, value, result)
        return result


piecewise_constant_decay = piecewise_constant


def _flat(values) -> list:
    if isinstance(values, (list, tuple)):
        return [item for v in values for item in _flat(v)]
    return [values]
