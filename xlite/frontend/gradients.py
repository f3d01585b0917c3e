"""tf.gradients: reverse-mode differentiation over the graph, one rule per op type.

A rule is `fn(op, *output_grads) -> list of input grads` (None where an input
gets no gradient), registered with `@grad_rule("Exp")`. Rules build ordinary
graph ops, so gradients are themselves compiled like any other tensor.
"""
from __future__ import annotations

import contextlib
import enum
from typing import Callable, Iterable

import numpy as np

from xlite.frontend import deferred
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.indexed_slices import IndexedSlices, densified, sum_slices
from xlite.frontend.op_registry import lowering, make_op, rule_decorator

_GRAD_RULES: dict[str, Callable | None] = {}


grad_rule = rule_decorator(_GRAD_RULES)   # @grad_rule("Exp"): fn(op, *output_grads) -> input grads


def no_gradient(*op_types: str) -> None:
    """Declares op types whose inputs never receive a gradient (comparisons, argmax, shapes)."""
    for t in op_types:
        _GRAD_RULES[t] = None


def has_grad_rule(op_type: str) -> bool:
    return op_type in _GRAD_RULES or (deferred.load_all() and op_type in _GRAD_RULES)


def gradient_rule(op_type: str, op_name: str) -> Callable | None:
    """The rule of `op_type` (None: its inputs get no gradient), for tf.gradients and GradientTape;
    LookupError, as TF raises, for an op type with neither."""
    if not has_grad_rule(op_type):
        raise LookupError(f"No gradient defined for operation '{op_name}' (op type: {op_type})")
    return _GRAD_RULES[op_type]


class UnconnectedGradients(enum.Enum):
    """What a source no path reaches gets: None, or zeros of its shape (tf.UnconnectedGradients)."""
    NONE = "none"
    ZERO = "zero"


# broadcasting helpers: shapes are concrete when these lower, so None dims are no obstacle --------
@lowering("SumToShapeOf")
def _lower_sum_to(ctx, op, g, like):
    """Sums g over the dims NumPy broadcasting added or stretched to reach it from `like`'s shape."""
    b = ctx.b
    target = like.shape.dims
    offset = g.shape.rank - len(target)
    if offset < 0:
        raise ValueError(f"cannot reduce gradient {g.shape} to {like.shape}")
    axes = list(range(offset)) + [i + offset for i, d in enumerate(target)
                                  if d == 1 and g.shape.dims[i + offset] != 1]
    return b.reshape(b.reduce(g, "sum", axes), target) if axes else b.reshape(g, target)


@lowering("BroadcastToShapeOf")
def _lower_broadcast_like(ctx, op, x, like):
    return ctx.b.broadcast_to(x, like.shape.dims)


def to_shape_of(op_type: str, x: Tensor, like: Tensor, name: str) -> Tensor:
    """op_type(x, like), which gives x like's shape, or x itself where both shapes are known and the same."""
    if x.shape.is_fully_defined() and like.shape.is_fully_defined() and x.shape == like.shape:
        return x
    return make_op(op_type, [x, like], name=name).outputs[0]


def sum_to_shape_of(g: Tensor, like: Tensor) -> Tensor:
    return to_shape_of("SumToShapeOf", g, like, "Sum")


def broadcast_to_shape_of(x: Tensor, like: Tensor) -> Tensor:
    return to_shape_of("BroadcastToShapeOf", x, like, "BroadcastTo")


def to_shape_of_grad(adjoint: Callable) -> Callable:
    """The gradient rule of an op that gives x like's shape: adjoint(g, x) for x, nothing for like."""
    return lambda op, g: [adjoint(g, op.inputs[0]), None]


grad_rule("SumToShapeOf")(to_shape_of_grad(broadcast_to_shape_of))
grad_rule("BroadcastToShapeOf")(to_shape_of_grad(sum_to_shape_of))


no_gradient("Const")    # declared here: convert.py, where Const lowers, is below this module


# op types whose rule hands an IndexedSlices gradient on as it is (every other rule sees it dense)
SPARSE_PASS_THROUGH = frozenset({"Identity", "ReadVariableOp"})


# the algorithm ------------------------------------------------------------------------
def _filled_like(value, like: Tensor, name: str) -> Tensor:
    """A tensor of `value` shaped like `like`, even where its dims are unknown until the run."""
    return broadcast_to_shape_of(constant(np.array(value, like.dtype.np), name=name), like)


def _as_tensor_list(values) -> list[Tensor]:
    values = values if isinstance(values, (list, tuple)) else [values]
    return [v._as_tensor() if hasattr(v, "_as_tensor") else convert_to_tensor(v) for v in values]


def _between(ys: list[Tensor], xs: list[Tensor], stops: set) -> set:
    """Ops on some path from an x to a y (the only ones whose gradients matter)."""
    backward, stack = set(), [t.op for t in ys]
    while stack:
        op = stack.pop()
        if op in backward:
            continue
        backward.add(op)
        stack.extend(t.op for t in op.inputs)
    forward, stack = set(), [t for t in xs]
    consumers: dict[Tensor, list] = {}
    for op in backward:
        for t in op.inputs:
            consumers.setdefault(t, []).append(op)
    while stack:
        t = stack.pop()
        for op in consumers.get(t, ()):
            if op not in forward and op not in stops:
                forward.add(op)
                stack.extend(op.outputs)
    return forward & backward


def sum_gradients(grads: list | None) -> Tensor | None:
    """The sum of the gradients one tensor received (None where it received none)."""
    grads = [g for g in grads or () if g is not None]
    if not grads:
        return None
    if all(isinstance(g, IndexedSlices) for g in grads):
        return sum_slices(grads)      # still sparse, as TF's aggregation keeps them
    grads = [densified(g) for g in grads]
    total = grads[0]
    for g in grads[1:]:
        total = total + g
    return total


def backpropagate(seeds: list, ops: Iterable, key: Callable, total: Callable, zeros: Callable,
                  rule_scope: Callable = lambda op: contextlib.nullcontext()) -> dict:
    """The backward walk of tf.gradients and GradientTape: from (target, gradient) seeds through ops
    (consumers first) by their rules; returns key(tensor) -> the gradients it received (total sums them)."""
    pending: dict = {}
    for t, g in seeds:
        pending.setdefault(key(t), []).append(g)
    for op in ops:
        out_grads = [total(pending.get(key(t))) for t in op.outputs]
        if all(g is None for g in out_grads) or op.type == "StopGradient":
            continue
        rule = gradient_rule(op.type, op.name)
        if rule is None:
            continue
        if op.type not in SPARSE_PASS_THROUGH:
            out_grads = [densified(g) for g in out_grads]
        if len(op.outputs) > 1:
            out_grads = [g if g is not None else zeros(t) for g, t in zip(out_grads, op.outputs)]
        with rule_scope(op):
            in_grads = rule(op, *out_grads)
        for t, g in zip(op.inputs, in_grads):
            if g is not None and t.dtype.is_floating:
                pending.setdefault(key(t), []).append(g)
    return pending


def gradients(ys, xs, grad_ys=None, name: str = "gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients="none") -> list:
    ys, xs = _as_tensor_list(ys), _as_tensor_list(xs)
    stop_ops = {t.op for t in _as_tensor_list(stop_gradients)} if stop_gradients is not None else set()
    unconnected_gradients = getattr(unconnected_gradients, "value", unconnected_gradients)
    if unconnected_gradients not in ("none", "zero"):
        raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}")
    graph = ys[0].graph
    if grad_ys is None:
        grad_ys = [None] * len(ys)
    grad_ys = list(grad_ys) if isinstance(grad_ys, (list, tuple)) else [grad_ys]
    if len(grad_ys) != len(ys):
        raise ValueError(f"Length mismatch. Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    with graph.name_scope(name):
        # as in TF, an integer y passes no gradient to anything
        seeds = [(y, _filled_like(1, y, "grad_ys") if gy is None else convert_to_tensor(gy, dtype=y.dtype))
                 for y, gy in zip(ys, grad_ys) if y.dtype.is_floating]
        between = sorted(_between(ys, xs, stop_ops), key=lambda o: o._id, reverse=True)
        pending = backpropagate(seeds, between, lambda t: t, sum_gradients, lambda t: _filled_like(0, t, "zeros_like"),
                                lambda op: graph.name_scope(op.name + "_grad"))
        result = []
        for x in xs:
            g = sum_gradients(pending.get(x))
            if g is None and unconnected_gradients == "zero":
                g = _filled_like(0, x, "zeros_like")
            result.append(g)
    return result
