"""tf.gather, tf.gather_nd and tf.scatter_nd.

A gather clamps out-of-range indices into range, so it never reads out of bounds, and raises TF's
InvalidArgumentError for them after the run (a run-time check: xlite/frontend/run_checks.py; clamped
silently inside while and cond bodies, in AOT objects, and where a gradient rule asks: gather_clamped); a scatter
drops out-of-range updates. The gradient of a gather scatters into zeros at
the same clamped indices, and the gradient of a scatter gives a dropped update
0, so each is the exact derivative of what ran.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend.array_helpers import (array_lowering, as_int_tensor, normalize_axis, op_scope, partial_value,
                                          scalar_arg, shape_arg, slice_dim, zeros_ir)
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor, get_default_graph
from xlite.frontend.indexed_slices import IndexedSlices
from xlite.frontend.op_registry import make_op
from xlite.frontend.run_checks import check_in_range, check_tuples_in_range
from xlite.frontend.shape_ops import shape
from xlite.ir import dtypes
from xlite.ir.shape import Shape

__all__ = ["gather", "gather_nd", "scatter_nd"]     # (gather_clamped: for gradient rules, not a TF name)

_INDEX_DTYPES = (dtypes.int32, dtypes.int64)


def _check_indices(t: Tensor) -> None:
    if t.dtype not in _INDEX_DTYPES:
        raise TypeError(f"Value passed to parameter 'indices' has DataType {t.dtype.name} not in list of allowed "
                        f"values: int32, int64")


def _clamp(b, idx, hi: int):
    return b.emit("clamp", (b.scalar(0, idx.dtype), idx, b.scalar(max(hi, 0), idx.dtype)))


# gather ------------------------------------------------------------------------------------
@array_lowering("GatherV2")
def _lower_gather(ctx, op, params, indices, axis_inst):
    rank = params.shape.rank
    axis = scalar_arg(ctx, op, axis_inst, "axis")
    if axis is None:
        return ctx.unknown(Shape(params.dtype, (None,) * (rank + indices.shape.rank - 1)))
    axis = normalize_axis(axis, rank, "gather axis")
    if not op.attrs.get("_clamped"):
        check_in_range(ctx, op, indices, params.shape.dims[axis])
    return ctx.b.emit("gather", (params, indices), axis=axis)


@array_lowering("ScatterAddToShapeOf")
def _lower_scatter_add_like(ctx, op, updates, indices, like, axis_inst):
    """Zeros of like's shape plus updates added at the clamped indices along axis: a gather's gradient."""
    dims = like.shape.dims
    axis = scalar_arg(ctx, op, axis_inst, "axis")
    if ctx.static and (axis is None or None in dims or None in updates.shape.dims):
        return ctx.unknown(Shape(updates.dtype, dims))
    axis = normalize_axis(axis, len(dims), "gather axis")
    b = ctx.b
    index = _clamp(b, indices, dims[axis] - 1)
    return b.emit("scatter_add", (zeros_ir(b, updates.dtype, dims), index, updates), axis=axis)


@grad_rule("GatherV2")
def _gather_grad(op, g):
    """Along axis 0, TF's IndexedSlices (g's rows at the indices, clamped as the gather clamped them);
    along another axis, dense."""
    params, indices, axis = op.inputs
    if partial_value(axis) == [0] and params.shape.ndims is not None:
        return [_gather_rows_grad(params, indices, g), None, None]
    gx = make_op("ScatterAddToShapeOf", [g, indices, params, axis], {"T": g.dtype}, name="ScatterAdd").outputs[0]
    return [gx, None, None]


def gathered_rows(params: Tensor, indices: Tensor, g: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(g as one row per index, the indices flat, params' shape): what a gather's IndexedSlices gradient holds."""
    from xlite.frontend import array_ops   # (array_ops imports this module)
    dense_shape = shape(params, out_type=indices.dtype)
    rows = array_ops.concat([array_ops.reshape(array_ops.size(indices, out_type=indices.dtype), [1]),
                             dense_shape[1:]], 0)
    return array_ops.reshape(g, rows), array_ops.reshape(indices, [-1]), dense_shape


def _gather_rows_grad(params: Tensor, indices: Tensor, g: Tensor) -> IndexedSlices:
    from xlite.frontend import math_ops
    values, flat, dense_shape = gathered_rows(params, indices, g)
    clamped = math_ops.minimum(math_ops.maximum(flat, 0), math_ops.maximum(dense_shape[0] - 1, 0))
    return IndexedSlices(values, clamped, dense_shape)


@grad_rule("ScatterAddToShapeOf")
def _scatter_add_like_grad(op, g):
    _, indices, _, axis = op.inputs
    return [gather_clamped(g, indices, axis=axis), None, None, None]


def _gather_op(api: str, op_type: str, params, indices, name, batch_dims, build) -> Tensor:
    """build(params, indices, scope) in op_type's scope, the indices converted and checked."""
    if batch_dims:
        raise errors.unimplemented(f"tf.{api} with batch_dims != 0 is not supported by xlite")
    p = convert_to_tensor(params)
    building = get_default_graph()      # a tf.function trace captures an outer (eager) params there
    with op_scope(name, op_type, building if hasattr(building, "capture") else p.graph) as scope:
        idx = convert_to_tensor(indices, name="indices")
        _check_indices(idx)
        return build(p, idx, scope)


def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0) -> Tensor:
    def build(p, idx, scope):
        axis_t = as_int_tensor(0 if axis is None else axis, "axis")
        return make_op("GatherV2", [p, idx, axis_t], {"T": p.dtype, "Tparams": p.dtype, "Tindices": idx.dtype,
                                                      "Taxis": axis_t.dtype, "batch_dims": 0},
                       name=scope).outputs[0]
    return _gather_op("gather", "GatherV2", params, indices, name, batch_dims, build)


def gather_clamped(params, indices, axis=0, name=None) -> Tensor:
    """tf.gather whose out-of-range indices read the nearest row instead of raising: for gradient rules whose
    indices a forward op clamped or dropped (the caller masks those rows)."""
    def build(p, idx, scope):
        axis_t = as_int_tensor(axis, "axis")
        return make_op("GatherV2", [p, idx, axis_t], {"T": p.dtype, "Tparams": p.dtype, "Tindices": idx.dtype,
                                                      "Taxis": axis_t.dtype, "batch_dims": 0, "_clamped": True},
                       name=scope).outputs[0]
    return _gather_op("gather", "GatherV2", params, indices, name, 0, build)


# gather_nd / scatter_nd -------------------------------------------------------------------------
def _linear_index(b, indices, lead, clamp: bool):
    """Row-major positions in the leading dims `lead` of the index tuples along indices' last axis.

    Clamped into range for a gather; for a scatter, -1 where any component is out of range."""
    batch = indices.shape.dims[:-1]
    dtype = indices.dtype
    linear, stride, valid = None, 1, None
    for j in reversed(range(len(lead))):
        component = b.reshape(slice_dim(b, indices, len(batch), j, j + 1), batch)
        if clamp:
            component = _clamp(b, component, lead[j] - 1)
        else:
            inside = b.emit("and", (b.compare(component, b.broadcast_in_dim(b.scalar(0, dtype), batch, ()), "GE"),
                                    b.compare(component, b.broadcast_in_dim(b.scalar(lead[j], dtype), batch, ()),
                                              "LT")))
            valid = inside if valid is None else b.emit("and", (valid, inside))
        term = b.emit("mul", (component, b.broadcast_in_dim(b.scalar(stride, dtype), batch, ())))
        linear = term if linear is None else b.emit("add", (linear, term))
        stride *= lead[j]
    if linear is None:
        return zeros_ir(b, dtype, batch)
    if valid is not None:
        linear = b.emit("select", (valid, linear, b.broadcast_in_dim(b.scalar(-1, dtype), batch, ())))
    return linear


@array_lowering("GatherNd")
def _lower_gather_nd(ctx, op, params, indices):
    return _gather_nd_ir(ctx, op, params, indices, drop=False)


@array_lowering("ScatterNdUpdatesGrad")
def _lower_scatter_nd_updates_grad(ctx, op, g, indices):
    """gather_nd whose out-of-range index tuples give 0: the updates a scatter_nd dropped get no gradient."""
    return _gather_nd_ir(ctx, op, g, indices, drop=True)


def _gather_nd_ir(ctx, op, params, indices, drop: bool):
    if indices.shape.rank < 1:
        raise ValueError("indices must be at least a vector for gather_nd")
    k = indices.shape.dims[-1]
    dims = params.shape.dims
    if k is None:
        return ctx.unknown(Shape(params.dtype, ()))
    if k > len(dims):
        raise ValueError(f"index innermost dimension length must be <= params rank; saw: {k} vs. {len(dims)}")
    out = indices.shape.dims[:-1] + dims[k:]
    if None in dims or None in indices.shape.dims:
        return ctx.unknown(Shape(params.dtype, out))
    b = ctx.b
    if not drop:
        check_tuples_in_range(ctx, op, indices, dims)
    flat = b.reshape(params, (int(np.prod(dims[:k], dtype=np.int64)),) + dims[k:])
    linear = _linear_index(b, indices, dims[:k], clamp=not drop)
    gathered = b.emit("gather", (flat, linear), axis=0)        # gather clamps: -1 reads row 0
    if not drop:
        return gathered
    batch = indices.shape.dims[:-1]
    valid = b.compare(linear, b.broadcast_in_dim(b.scalar(0, linear.shape.dtype), batch, ()), "GE")
    valid = b.broadcast_in_dim(valid, out, tuple(range(len(batch))))
    return b.emit("select", (valid, gathered, zeros_ir(b, params.dtype, out)))


@array_lowering("ScatterNd")
def _lower_scatter_nd(ctx, op, indices, updates, shape_inst):
    dims = shape_arg(ctx, op, 2, shape_inst)
    if indices.shape.rank < 1:
        raise ValueError("indices must be at least a vector for scatter_nd")
    k = indices.shape.dims[-1]
    if dims is None or k is None:
        return ctx.unknown(Shape(updates.dtype, () if dims is None else dims))
    if k > len(dims):
        raise ValueError(f"index innermost dimension length must be <= output rank; saw: {k} vs. {len(dims)}")
    if any(d is not None and d < 0 for d in dims):
        raise ValueError(f"scatter_nd shape must be non-negative, got {dims}")
    want = indices.shape.dims[:-1] + tuple(dims[k:])
    got = updates.shape.dims
    if len(got) != len(want) or any(None not in (a, w) and a != w for a, w in zip(got, want)):
        raise ValueError(f"updates must have shape {list(want)} (indices.shape[:-1] + shape[{k}:]), got {list(got)}")
    if None in dims or None in indices.shape.dims or None in got:
        return ctx.unknown(Shape(updates.dtype, dims))
    b = ctx.b
    flat = zeros_ir(b, updates.dtype, (int(np.prod(dims[:k], dtype=np.int64)),) + tuple(dims[k:]))
    linear = _linear_index(b, indices, dims[:k], clamp=False)
    return b.reshape(b.emit("scatter_add", (flat, linear, updates), axis=0), dims)


@grad_rule("GatherNd")
def _gather_nd_grad(op, g):
    params, indices = op.inputs
    return [scatter_nd(indices, g, shape(params, out_type=indices.dtype)), None]


@grad_rule("ScatterNd")
def _scatter_nd_grad(op, g):
    indices = op.inputs[0]
    return [None, _scatter_nd_updates_grad(g, indices), None]


@grad_rule("ScatterNdUpdatesGrad")
def _scatter_nd_updates_grad_grad(op, gg):
    g, indices = op.inputs
    return [scatter_nd(indices, gg, shape(g, out_type=indices.dtype)), None]


def _scatter_nd_updates_grad(g: Tensor, indices: Tensor) -> Tensor:
    with op_scope(None, "ScatterNdUpdatesGrad", g.graph) as scope:
        unknown = indices.shape.ndims is None or indices.shape.dims[-1] is None
        return make_op("ScatterNdUpdatesGrad", [g, indices], {"T": g.dtype, "Tindices": indices.dtype},
                       name=scope, output_shapes=[None] if unknown else None).outputs[0]


def gather_nd(params, indices, name=None, batch_dims=0) -> Tensor:
    def build(p, idx, scope):
        unknown = idx.shape.ndims is None or idx.shape.dims[-1] is None
        return make_op("GatherNd", [p, idx], {"T": p.dtype, "Tparams": p.dtype, "Tindices": idx.dtype},
                       name=scope, output_shapes=[None] if unknown else None).outputs[0]
    return _gather_op("gather_nd", "GatherNd", params, indices, name, batch_dims, build)


def scatter_nd(indices, updates, shape, name=None) -> Tensor:  # noqa: A002
    """Sums updates into zeros of `shape` at the index tuples; out-of-range tuples are dropped (XLA's rule)."""
    u = convert_to_tensor(updates)
    with op_scope(name, "ScatterNd", u.graph) as scope:
        idx = convert_to_tensor(indices, name="indices")
        _check_indices(idx)
        shape_t = as_int_tensor(shape, "shape", dtype=idx.dtype)
        known = partial_value(shape_t)
        return make_op("ScatterNd", [idx, u, shape_t], {"T": u.dtype, "Tindices": idx.dtype}, name=scope,
                       output_shapes=[None] if known is None else None).outputs[0]
