"""A traced per-element function rewritten to run on a chunk of elements at once (TF's map vectorization).

A map over 60,000 small images run one element per executable call spends its time in the call, not
in the arithmetic. Where every op of the trace has a rule here, the trace is rebuilt in a graph of its
own whose placeholders have a leading batch dim, like TF's `pfor`: each tensor is *batched* (one row per
element) or *unbatched* (the same for all, e.g. a constant), and each rule makes the op that computes
all the rows at once: elementwise ops align their operands' ranks (a batched operand gets unit dims
after its batch dim, an unbatched one broadcasts over it), reductions, reshapes, transposes and
expand_dims shift their axes past the batch dim, one_hot's axis likewise. An op without a rule, a
stateful op (random numbers differ per element) or an unknown rank means no vectorized version: the
map runs element by element, exactly as traced.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend.convert import constant
from xlite.frontend.graph import Graph, Tensor
from xlite.frontend.op_registry import is_stateful, make_op
from xlite.frontend.variables import placeholder

ELEMENTWISE = {
    "Cast", "Identity", "Neg", "Abs", "Exp", "Log", "Log1p", "Expm1", "Tanh", "Sigmoid", "Sqrt", "Rsqrt",
    "Sign", "Floor", "Ceil", "Round", "Rint", "Sin", "Cos", "Relu", "Relu6", "Elu", "Selu", "Softplus",
    "Square", "Reciprocal", "LogicalNot", "IsFinite", "IsNan", "IsInf",
    "AddV2", "Add", "Sub", "Mul", "RealDiv", "Div", "FloorDiv", "FloorMod", "Maximum", "Minimum", "Pow",
    "SquaredDifference", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd",
    "LogicalOr", "SelectV2", "DivNoNan", "TruncateDiv",
}
REDUCTIONS = {"Sum", "Mean", "Max", "Min", "Prod", "All", "Any"}
_CONTROL_FLOW = {"If", "While", "StatelessIf", "StatelessWhile", "Case"}


class _NoRule(Exception):
    pass


def vectorize(inputs: list[Tensor], outputs: list[Tensor]):
    """(graph, batched placeholders, batched outputs) computing `outputs` for a chunk of elements, or
    None when some op of the trace has no rule."""
    graph = Graph()
    try:
        with graph.as_default():
            values: dict = {}
            for ph in inputs:
                if ph.shape.ndims is None:
                    return None
                values[ph] = (placeholder(ph.dtype, [None] + list(ph.shape.dims)), True)
            for op in inputs[0].graph.get_operations() if inputs else []:
                if op.type == "Placeholder" and op.outputs[0] in values:
                    continue
                for t, value in zip(op.outputs, _rule(op, values)):
                    values[t] = value
            results = [values[t] for t in outputs]
    except _NoRule:
        return None
    if not all(batched for _, batched in results):
        return None             # an output the same for every element: left to the per-element run
    return graph, [values[ph][0] for ph in inputs], [t for t, _ in results]


def _rule(op, values: dict) -> list:
    if (op.control_inputs or is_stateful(op.type) or getattr(op, "_subgraph", None) is not None
            or "_captures" in op.attrs or op.type in _CONTROL_FLOW or op.type.startswith("_")):
        raise _NoRule(op.type)          # control flow (AutoGraph's tf.cond, tf.while_loop) runs per element
    ins = [values[t] for t in op.inputs]
    if op.type == "Const":
        return [(constant(op.attrs["value"], dtype=op.attrs["dtype"]), False)]
    if not any(batched for _, batched in ins):      # the same for every element: made as it was
        return [(t, False) for t in make_op(op.type, [t for t, _ in ins], dict(op.attrs)).outputs]
    if any(t.shape.ndims is None for t in op.inputs) or any(t.shape.ndims is None for t in op.outputs):
        raise _NoRule(op.type)
    if op.type in ELEMENTWISE:
        rank = op.outputs[0].shape.ndims
        aligned = [_with_rank(t, old.shape.ndims, rank) if batched else t
                   for (t, batched), old in zip(ins, op.inputs)]
        return [(make_op(op.type, aligned, dict(op.attrs)).outputs[0], True)]
    if any(batched for _, batched in ins[1:]):
        raise _NoRule(op.type)          # shapes, axes and depths must be the same for every element
    x = ins[0][0]
    rank = op.inputs[0].shape.ndims
    if op.type in REDUCTIONS:
        axes = list(range(rank)) if len(op.inputs) == 1 else _known(op.inputs[1]).reshape(-1).tolist()
        axes = [a + 1 if a >= 0 else a for a in axes]
        return [(_remade(op, [x, constant(np.array(axes, np.int32))]), True)]
    if op.type == "Reshape":
        out = op.outputs[0].shape
        if not out.is_fully_defined():
            raise _NoRule(op.type)
        return [(_remade(op, [x, constant(np.array([-1] + list(out.dims), np.int32))]), True)]
    if op.type == "Transpose":
        perm = _known(op.inputs[1]).reshape(-1)
        perm = [0] + [int(p) % rank + 1 for p in perm]
        return [(_remade(op, [x, constant(np.array(perm, np.int32))]), True)]
    if op.type == "ExpandDims":
        dim = int(_known(op.inputs[1]).reshape(-1)[0])
        return [(_remade(op, [x, constant(np.array(dim + 1 if dim >= 0 else dim, np.int32))]), True)]
    if op.type == "OneHot":
        attrs = dict(op.attrs)
        axis = attrs.get("axis", -1)
        attrs["axis"] = axis + 1 if axis is not None and axis >= 0 else axis
        return [(make_op("OneHot", [x] + [t for t, _ in ins[1:]], attrs).outputs[0], True)]
    raise _NoRule(op.type)


def _remade(op, inputs: list[Tensor]) -> Tensor:
    return make_op(op.type, inputs, dict(op.attrs)).outputs[0]


def _known(t: Tensor) -> np.ndarray:
    if t._static_value is None:
        raise _NoRule("an axis or shape computed at run time")
    return np.asarray(t._static_value)


def _with_rank(t: Tensor, element_rank: int, rank: int) -> Tensor:
    """A batched operand of element rank `element_rank` with unit dims after its batch dim, so that its
    element dims line up with the others' trailing dims under broadcasting."""
    from xlite.frontend.array_ops import expand_dims
    for _ in range(rank - element_rank):
        t = expand_dims(t, 1)
    return t


__all__ = ["vectorize"]
