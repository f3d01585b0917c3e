"""tf.reduce_*, argmax/argmin and cumsum: their lowerings and gradients.

Axes are compile-time constants, normalized when the op lowers, so negative
axes and inputs of unknown rank work; gradients stretch results back to the
input's shape with `BroadcastReduced`, which also lowers with concrete shapes.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule, no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend.math_ops import (ALL, BOOL, FLOATS, NUMERIC, add, cast, check_dtype, equal, exp,
                                     is_finite, log, not_equal, sqrt, square, stop_gradient, where)
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.scopes import name_scope
from xlite.ir import dtypes
from xlite.ir.shape import Shape
from xlite.tf_logging import warn_deprecated

_REDUCE_KINDS = {"Sum": "sum", "Prod": "prod", "Max": "max", "Min": "min", "All": "and", "Any": "or"}


def reduced_axes(ctx, axes_inst, rank: int) -> tuple | None:
    """The sorted, non-negative axes an op reduces (all of them without an axes operand); None if unknown."""
    if axes_inst is None:
        return tuple(range(rank))
    value = ctx.constant_value(axes_inst)
    if value is None:
        return None
    axes = [int(a) for a in np.asarray(value).reshape(-1)]
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"Invalid reduction dimension {a} for input with {rank} dimensions")
    normalized = sorted(a % rank for a in axes)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"Invalid reduction arguments: Axes contains duplicate dimension: {axes}")
    return tuple(normalized)


def _unknown_reduction(ctx, x, axes_inst, keep: bool):
    """Graph-construction result of a reduction over axes not yet known: rank known when the axis count is."""
    if not ctx.static:
        raise ValueError("reduction axes must be a compile-time constant (a Const, or computed from shapes)")
    if keep:
        return ctx.unknown(Shape(x.dtype, (None,) * x.shape.rank))
    count = 1 if axes_inst.shape.rank == 0 else axes_inst.shape.dims[0]
    if count is None:
        raise ValueError("the number of reduction axes must be known when the graph is built")
    return ctx.unknown(Shape(x.dtype, (None,) * (x.shape.rank - count)))


def _element_count(dims, axes):
    count = 1
    for a in axes:
        count = None if count is None or dims[a] is None else count * dims[a]
    return count


@lowering(*_REDUCE_KINDS, "Mean")
def _lower_reduce(ctx, op, x, axes_inst=None):
    b = ctx.b
    keep = op.attrs["keep_dims"]
    axes = reduced_axes(ctx, axes_inst, x.shape.rank)
    if axes is None:
        return _unknown_reduction(ctx, x, axes_inst, keep)
    r = b.reduce(x, "sum" if op.type == "Mean" else _REDUCE_KINDS[op.type], axes)
    if op.type == "Mean":
        count = _element_count(x.shape.dims, axes)
        if count is None:
            r = ctx.unknown(r.shape)
        else:   # integers divide (truncating) like TF; an empty integer mean is 0, not 0 / 0
            divisor = max(count, 1) if x.dtype.is_integer else count
            r = b.emit("div", (r, b.broadcast_to(b.scalar(divisor, x.dtype), r.shape.dims)))
    if keep:
        r = b.reshape(r, tuple(1 if i in axes else d for i, d in enumerate(x.shape.dims)))
    return r


def _warn_old_spellings(reduction_indices, keep_dims) -> None:
    if reduction_indices is not None:
        warn_deprecated("reduction_indices=", "axis=")
    if keep_dims is not None:
        warn_deprecated("keep_dims=", "keepdims=")


def _keep(keepdims, keep_dims) -> bool:
    return bool(keep_dims if keepdims is None else keepdims)


def _reduction(op_type, input_tensor, axis, keepdims, name, reduction_indices=None, keep_dims=None) -> Tensor:
    if axis is not None and reduction_indices is not None:
        raise ValueError("Can not specify both 'axis' and 'reduction_indices'.")
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Can not specify both 'keepdims' and 'keep_dims'.")
    _warn_old_spellings(reduction_indices, keep_dims)
    axis = reduction_indices if axis is None else axis
    keepdims = _keep(keepdims, keep_dims)
    x = convert_to_tensor(input_tensor, name="input_tensor")
    check_dtype(x, BOOL if op_type in ("All", "Any") else NUMERIC, op_type, "input")
    inputs = [x]
    if axis is not None:
        if not isinstance(axis, Tensor):
            axis = convert_to_tensor(np.asarray(axis, dtype=np.int32), name="reduction_indices")
        if not axis.dtype.is_integer:
            raise TypeError(f"reduction axes must be int32 or int64, got {axis.dtype.name}")
        inputs.append(axis)
    if op_type == "Mean" and x.op.type == "TrimToCount":      # a data-dependent size: divide by its count
        from xlite.frontend.bounded_ops import bounded_mean     # it builds on this module
        return bounded_mean(x, axis, keepdims, name)
    return make_op(op_type, inputs, {"keep_dims": keepdims}, name=name or op_type).outputs[0]


def _reducer(op_type: str, doc: str | None = None):
    """tf.reduce_<op type> (TF's arguments, the old spellings included) for a reduction op type."""
    def reduce(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None) -> Tensor:
        return _reduction(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims)
    reduce.__name__ = reduce.__qualname__ = f"reduce_{op_type.lower()}"
    reduce.__doc__ = doc or f"tf.{reduce.__name__}: the {op_type} reduction over axis (all axes when None)."
    return reduce


reduce_sum = _reducer("Sum")
reduce_mean = _reducer("Mean", "The mean; integer inputs give the truncated integer mean, as TF does.")
reduce_max = _reducer("Max")
reduce_min = _reducer("Min")
reduce_prod = _reducer("Prod")
reduce_all = _reducer("All")
reduce_any = _reducer("Any")


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None) -> Tensor:
    """log(sum(exp(x))) computed around the (gradient-stopped) max, so large inputs do not overflow."""
    _warn_old_spellings(reduction_indices, keep_dims)
    axis = reduction_indices if axis is None else axis
    keep = _keep(keepdims, keep_dims)
    with name_scope(name, "ReduceLogSumExp", [input_tensor]) as scope:
        x = convert_to_tensor(input_tensor, name="input_tensor")
        check_dtype(x, FLOATS, "ReduceLogSumExp")
        raw_max = reduce_max(x, axis, keepdims=True)
        shift = stop_gradient(where(is_finite(raw_max), raw_max, 0))
        result = log(reduce_sum(exp(x - shift), axis, keepdims=keep))
        if not keep:   # drop the kept size-1 dims of the shift (a sum over them is the identity)
            shift = reduce_sum(shift, axis)
        return add(result, shift, name=scope)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    with name_scope(name, "reduce_variance", [input_tensor]):
        x = convert_to_tensor(input_tensor, name="input_tensor")
        check_dtype(x, FLOATS, "reduce_variance")
        deviations = x - reduce_mean(x, axis, keepdims=True)
        return reduce_mean(square(deviations), axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    with name_scope(name, "reduce_std", [input_tensor]):
        return sqrt(reduce_variance(input_tensor, axis, keepdims))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    with name_scope(name, "EuclideanNorm", [input_tensor]):
        x = convert_to_tensor(input_tensor, name="input_tensor")
        check_dtype(x, FLOATS, "EuclideanNorm")
        return sqrt(reduce_sum(square(x), axis, keepdims=keepdims))


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None) -> Tensor:  # noqa: A002
    with name_scope(name, "count_nonzero", [input_tensor]):
        x = convert_to_tensor(input if input_tensor is None else input_tensor, name="input")
        nonzero = cast(not_equal(x, False if x.dtype.is_bool else 0), dtypes.int64)
        total = reduce_sum(nonzero, axis, keepdims, reduction_indices=reduction_indices, keep_dims=keep_dims)
        return cast(total, dtype)


# argmax / argmin ------------------------------------------------------------------------
@lowering("ArgMax", "ArgMin")
def _lower_argminmax(ctx, op, x, axis_inst):
    """The first index of the extreme value along the axis (TF's tie rule)."""
    value = ctx.constant_value(axis_inst)
    rank = x.shape.rank
    index_dtype = op.attrs["output_type"]
    if value is None:
        if not ctx.static:
            raise ValueError("argmax/argmin axis must be a compile-time constant")
        return ctx.unknown(Shape(index_dtype, (None,) * (rank - 1)))
    axis = int(np.asarray(value).reshape(()))
    if not -rank <= axis < rank:
        raise ValueError(f"Expected dimension in the range [{-rank}, {rank}), but got {axis}")
    return ctx.b.emit("argmax" if op.type == "ArgMax" else "argmin", (x,),
                      dimension=axis % rank, index_dtype=index_dtype)


def _arg(op_type, input, axis, name, output_type, dimension) -> Tensor:  # noqa: A002
    if axis is not None and dimension is not None:
        raise ValueError("Cannot specify both 'axis' and 'dimension'")
    x = convert_to_tensor(input, name="input")
    check_dtype(x, ALL, op_type, "input")
    output_type = dtypes.as_dtype(output_type)
    if output_type not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter 'output_type' has DataType {output_type.name} not in "
                        "list of allowed values: int32, int64")
    axis = 0 if axis is None and dimension is None else (dimension if axis is None else axis)
    axis_t = axis if isinstance(axis, Tensor) else convert_to_tensor(np.int32(axis), name="dimension")
    return make_op(op_type, [x, axis_t], {"output_type": output_type}, name=name or op_type).outputs[0]


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64) -> Tensor:  # noqa: A002
    return _arg("ArgMax", input, axis, name, output_type, dimension)


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64) -> Tensor:  # noqa: A002
    return _arg("ArgMin", input, axis, name, output_type, dimension)


# cumsum ----------------------------------------------------------------------------------
def scan_axis(ctx, x, axis_inst, what: str) -> int | None:
    """The axis of a running sum or product as a number in [0, rank); None at graph construction, where the
    result is just x's shape (its value is only needed at run time)."""
    rank = x.shape.rank
    value = ctx.constant_value(axis_inst)
    if value is None:
        if not ctx.static:
            raise ValueError(f"{what} axis must be a compile-time constant")
        return None
    axis = int(np.asarray(value).reshape(()))
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for a tensor of rank {rank}")
    return None if ctx.static else axis % rank


def scan_lowering(op_type: str):
    """Registers fn(b, x, axis, n, exclusive) -> the running result from the start of the axis (of n > 0) as
    op_type's lowering; the axis check and `reverse` (x and the result reversed) are done here."""
    def register(fn):
        @lowering(op_type)
        def lower(ctx, op, x, axis_inst):
            b = ctx.b
            axis = scan_axis(ctx, x, axis_inst, op_type.lower())
            if axis is None:
                return ctx.unknown(x.shape)
            n = x.shape.dims[axis]
            if n == 0:
                return x
            reverse = op.attrs["reverse"]
            if reverse:
                x = b.emit("reverse", (x,), dimensions=(axis,))
            r = fn(b, x, axis, n, op.attrs["exclusive"])
            return b.emit("reverse", (r,), dimensions=(axis,)) if reverse else r
        return fn
    return register


@scan_lowering("Cumsum")
def _lower_cumsum(b, x, axis: int, n: int, exclusive: bool):
    """A running sum as a window sum: each output sums the window of n elements ending at it (XLA's way)."""
    rank = x.shape.rank
    window = tuple(n if d == axis else 1 for d in range(rank))
    padding = tuple((n if exclusive else n - 1, 0) if d == axis else (0, 0) for d in range(rank))
    r = b.emit("reduce_window", (x,), kind="sum", window=window, strides=(1,) * rank, padding=padding)
    if exclusive:
        r = b.emit("slice", (r,), start_indices=(0,) * rank, limit_indices=x.shape.dims, strides=(1,) * rank)
    return r


def scan(op_type: str, x, axis, exclusive: bool, reverse: bool, name) -> Tensor:
    """A running sum or product op ("Cumsum", "Cumprod") of x along axis."""
    x = convert_to_tensor(x, name="x")
    check_dtype(x, NUMERIC, op_type)
    if x.shape.ndims == 0:
        raise ValueError(f"{op_type.lower()} needs an input of rank >= 1")
    axis_t = axis if isinstance(axis, Tensor) else convert_to_tensor(np.int32(axis), name="axis")
    return make_op(op_type, [x, axis_t], {"exclusive": bool(exclusive), "reverse": bool(reverse)},
                   name=name or op_type).outputs[0]


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    return scan("Cumsum", x, axis, exclusive, reverse, name)


# gradients -------------------------------------------------------------------------------
@lowering("BroadcastReduced")
def _lower_broadcast_reduced(ctx, op, g, x, axes_inst=None):
    """g, a reduction of x, stretched back to x's shape (and divided by the element count for Mean)."""
    b = ctx.b
    axes = reduced_axes(ctx, axes_inst, x.shape.rank)
    if axes is None:
        return _unknown_reduction(ctx, x, axes_inst, True)
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape.dims))
    r = b.broadcast_to(b.reshape(g, kept), x.shape.dims)
    if op.attrs["mean"]:
        count = _element_count(x.shape.dims, axes)
        if count is None:
            return ctx.unknown(r.shape)
        if count:
            r = b.emit("div", (r, b.broadcast_to(b.scalar(count, r.dtype), r.shape.dims)))
    return r


def _axes_of(op) -> Tensor | None:
    return op.inputs[1] if len(op.inputs) > 1 else None


def broadcast_reduced(g: Tensor, op, mean: bool = False) -> Tensor:
    """The gradient g of reduction `op` spread over its input's shape."""
    axes = _axes_of(op)
    inputs = [g, op.inputs[0]] + ([axes] if axes is not None else [])
    return make_op("BroadcastReduced", inputs, {"keep_dims": op.attrs["keep_dims"], "mean": mean},
                   name="Tile").outputs[0]


@grad_rule("BroadcastReduced")
def _broadcast_reduced_grad(op, g):
    axes = op.inputs[2] if len(op.inputs) > 2 else None
    reduce = reduce_mean if op.attrs["mean"] else reduce_sum
    return [reduce(g, axes, keepdims=op.attrs["keep_dims"]), None, None][:len(op.inputs)]


@grad_rule("Sum")
def _sum_grad(op, g):
    return [broadcast_reduced(g, op), None]


@grad_rule("Mean")
def _mean_grad(op, g):
    return [broadcast_reduced(g, op, mean=True), None]


@grad_rule("Max", "Min")
def _max_grad(op, g):
    """The gradient is shared equally among the elements that tie for the extreme value, as in TF."""
    x = op.inputs[0]
    hit = cast(equal(x, broadcast_reduced(op.outputs[0], op)), g.dtype)
    count = reduce_sum(hit, _axes_of(op), keepdims=True)
    return [hit / count * broadcast_reduced(g, op), None]


@grad_rule("Prod")
def _prod_grad(op, g):
    """The product of the other elements, without dividing by zero: exact with one zero, 0 with more."""
    x, axes = op.inputs[0], _axes_of(op)
    is_zero = equal(x, 0)
    safe = where(is_zero, 1, x)
    nonzero_product = reduce_prod(safe, axes, keepdims=True)
    zeros = reduce_sum(cast(is_zero, x.dtype), axes, keepdims=True)
    others = where(is_zero, where(equal(zeros, 1), nonzero_product, 0),
                   where(equal(zeros, 0), nonzero_product / safe, 0))
    return [others * broadcast_reduced(g, op), None]


@grad_rule("Cumsum")
def _cumsum_grad(op, g):
    return [cumsum(g, op.inputs[1], exclusive=op.attrs["exclusive"], reverse=not op.attrs["reverse"]), None]


no_gradient("ArgMax", "ArgMin", "All", "Any")


__all__ = [   # what TF1 has at the top level (reduce_std, reduce_variance, reduce_euclidean_norm: tf.math only)
    "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_all", "reduce_any",
    "reduce_logsumexp", "count_nonzero", "argmax", "argmin", "cumsum",
]
