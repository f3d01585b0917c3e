"""Tensors made from a shape: tf.fill, tf.zeros, tf.ones, zeros_like/ones_like, tf.range, tf.one_hot."""
from __future__ import annotations

import builtins
import math

import numpy as np

from xlite.frontend.array_helpers import (array_lowering, as_int_tensor, constant_arg, is_tensor_like, op_scope,
                                          partial_value, scalar_arg, shape_arg)
from xlite.frontend.convert import constant, convert_to_tensor, default_graph_of, to_array
from xlite.frontend.gradients import grad_rule, no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import make_op
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes
from xlite.ir.shape import Shape

__all__ = ["fill", "zeros", "ones", "zeros_like", "ones_like", "range", "one_hot", "sequence_mask"]

# `range` below is tf.range; Python's is builtins.range in this module
_SMALL = 1000   # like TF1, zeros/ones of a known shape with fewer elements are a Const


# fill ------------------------------------------------------------------------------------
@array_lowering("Fill")
def _lower_fill(ctx, op, dims_inst, value):
    if value.shape.rank != 0:
        raise ValueError(f"Shape must be rank 0 but is rank {value.shape.rank}: the fill value must be a scalar")
    dims = shape_arg(ctx, op, 0, dims_inst)
    if dims is None:
        return ctx.unknown(Shape(value.dtype, ()))
    if any(d is not None and d < 0 for d in dims):
        raise ValueError(f"Fill dimensions must be >= 0, got {dims}")
    return ctx.b.broadcast_in_dim(value, tuple(dims), ())


@grad_rule("Fill")
def _fill_grad(op, g):
    from xlite.frontend.reduction_ops import reduce_sum
    return [None, reduce_sum(g)]


def _fill_op(dims: Tensor, value: Tensor, name: str) -> Tensor:
    known = partial_value(dims)
    return make_op("Fill", [dims, value], {"T": value.dtype, "index_type": dims.dtype}, name=name,
                   output_shapes=[None] if known is None else None).outputs[0]


def fill(dims, value, name=None) -> Tensor:
    with op_scope(name, "Fill", default_graph_of(dims, value)) as scope:
        dims_t = as_int_tensor(dims, "dims")
        return _fill_op(dims_t, convert_to_tensor(value, name="value"), scope)


def _python_dims(shape):
    """The dims of a shape given without tensors, or None when it holds tensors."""
    if isinstance(shape, TensorShape):
        return shape.as_list() if shape.is_fully_defined() else None
    if is_tensor_like(shape) or (isinstance(shape, (list, tuple)) and any(is_tensor_like(d) for d in shape)):
        return None
    dims = np.reshape(np.asarray(shape), -1)
    if dims.size and dims.dtype.kind not in "iu":   # [] (a scalar's shape) reads as float64
        raise TypeError(f"shape must hold integers, got {shape!r}")
    return [int(d) for d in dims]


def _filled(value, shape, dtype, name, default) -> Tensor:
    dtype = dtypes.as_dtype(dtype)
    fill_value = np.array(value, dtype=dtype.np)
    with op_scope(name, default, default_graph_of(shape)) as scope:
        dims = _python_dims(shape)
        if dims is not None and all(d >= 0 for d in dims) and math.prod(dims) < _SMALL:   # no int64 wrap-around
            return constant(np.full(dims, fill_value), name=scope)
        dims_t = as_int_tensor(list(dims) if dims is not None else shape, "shape_as_tensor")
        if dims_t.shape.ndims == 0:
            from xlite.frontend.array_ops import reshape
            dims_t = reshape(dims_t, [-1])
        return _fill_op(dims_t, constant(fill_value, name="Const"), scope)


def zeros(shape, dtype=dtypes.float32, name=None) -> Tensor:
    return _filled(0, shape, dtype, name, "zeros")


def ones(shape, dtype=dtypes.float32, name=None) -> Tensor:
    return _filled(1, shape, dtype, name, "ones")


# zeros_like / ones_like ---------------------------------------------------------------------
@array_lowering("ZerosLike", "OnesLike")
def _lower_filled_like(ctx, op, x):
    b = ctx.b
    return b.broadcast_in_dim(b.scalar(1 if op.type == "OnesLike" else 0, op.attrs["T"]), x.shape.dims, ())


no_gradient("ZerosLike", "OnesLike")
_LIKE_TYPES = {"zeros_like": "ZerosLike", "ones_like": "OnesLike"}


def _filled_like(op_type, value, tensor, dtype, name, optimize) -> Tensor:
    x = convert_to_tensor(tensor)
    dtype = x.dtype if dtype is None else dtypes.as_dtype(dtype)
    if optimize and x.shape.is_fully_defined():
        with x.graph.as_default():
            return _filled(value, x.shape.as_list(), dtype, name, op_type)
    return make_op(_LIKE_TYPES[op_type], [x], {"T": dtype}, name=name or op_type).outputs[0]


def zeros_like(tensor, dtype=None, name=None, optimize=True) -> Tensor:
    return _filled_like("zeros_like", 0, tensor, dtype, name, optimize)


def ones_like(tensor, dtype=None, name=None, optimize=True) -> Tensor:
    return _filled_like("ones_like", 1, tensor, dtype, name, optimize)


# range --------------------------------------------------------------------------------------
@array_lowering("Range")
def _lower_range(ctx, op, start, limit, delta):
    dtype = op.attrs["Tidx"]
    for inst, what in ((start, "start"), (limit, "limit"), (delta, "delta")):
        if inst.shape.rank != 0:
            raise ValueError(f"{what} must be a scalar, not shape {list(inst.shape.dims)}")
    values = [constant_arg(ctx, op, inst, what) for inst, what in ((start, "start"), (limit, "limit"),
                                                                  (delta, "delta"))]
    if dtype.is_integer:   # at graph construction, tf.range(tf.shape(x)[1]) may know its limit
        values = [v if v is not None else partial_value(t)[0] for v, t in zip(values, op.inputs)]
    if any(v is None for v in values):
        return ctx.unknown(Shape(dtype, (None,)))
    s, lim, d = (np.asarray(v).item() for v in values)
    if d == 0:
        raise ValueError("Requires delta != 0")
    if d > 0 and s > lim:
        raise ValueError(f"Requires start <= limit when delta > 0: {s}/{lim}")
    if d < 0 and s < lim:
        raise ValueError(f"Requires start >= limit when delta < 0: {s}/{lim}")
    if dtype.is_integer:
        n = (abs(lim - s) + abs(d) - 1) // abs(d)
    else:
        n = int(np.ceil(abs((lim - s) / d)))
    b = ctx.b
    ramp = b.iota(dtype, (n,), 0)
    scaled = b.emit("mul", (ramp, b.broadcast_in_dim(b.scalar(d, dtype), (n,), ())))
    return b.emit("add", (scaled, b.broadcast_in_dim(b.scalar(s, dtype), (n,), ())))


no_gradient("Range")

_RANGE_DTYPES = (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64)


def range(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:  # noqa: A001 - TF's name
    """Like TF, the dtype is the widest of the arguments' (int32 < int64 < float32 < float64) unless given."""
    from xlite.frontend.math_ops import cast
    if limit is None:
        start, limit = 0, start
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    with op_scope(name, "range", default_graph_of(start, limit, delta)) as scope:
        values = ((start, "start"), (limit, "limit"), (delta, "delta"))
        kinds = [convert_to_tensor(v).dtype if is_tensor_like(v) else dtypes.as_dtype(to_array(v).dtype)
                 for v, _ in values]
        for kind in kinds:
            if kind not in _RANGE_DTYPES:
                raise TypeError(f"tf.range does not support {kind.name} arguments")
        target = dtype or max(kinds, key=_RANGE_DTYPES.index)
        args = []
        for value, what in values:
            t = convert_to_tensor(value) if is_tensor_like(value) else constant(value, target, name=what)
            args.append(t if t.dtype == target else cast(t, target))
        return make_op("Range", args, {"Tidx": target}, name=scope).outputs[0]


# one_hot ------------------------------------------------------------------------------------
@array_lowering("OneHot")
def _lower_one_hot(ctx, op, indices, depth_inst, on, off):
    rank = indices.shape.rank
    axis = op.attrs["axis"]
    if not -1 <= axis <= rank:
        raise ValueError(f"Expected axis to be -1 or between [0, {rank + 1}). But received: {axis}")
    if on.shape.rank or off.shape.rank:
        raise ValueError("on_value and off_value must be scalars")
    position = rank if axis == -1 else axis
    depth = scalar_arg(ctx, op, depth_inst, "depth", index=1)
    dims = list(indices.shape.dims)
    dims.insert(position, depth)
    if depth is None:
        return ctx.unknown(Shape(on.dtype, dims))
    if depth < 0:
        raise ValueError(f"depth must be non-negative, got: {depth}")
    b = ctx.b
    ramp = b.iota(indices.dtype, dims, position)
    spread = b.broadcast_in_dim(indices, dims, tuple(i for i in builtins.range(len(dims)) if i != position))
    return b.emit("select", (b.compare(ramp, spread, "EQ"), b.broadcast_in_dim(on, dims, ()),
                             b.broadcast_in_dim(off, dims, ())))


no_gradient("OneHot")


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None) -> Tensor:
    """float32 unless on_value/off_value or dtype say otherwise; out-of-range indices give all off_value."""
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    with op_scope(name, "one_hot", default_graph_of(indices)) as scope:
        idx = convert_to_tensor(indices, name="indices")
        if idx.dtype not in (dtypes.uint8, dtypes.int32, dtypes.int64):
            raise TypeError(f"Value passed to parameter 'indices' has DataType {idx.dtype.name} not in list of "
                            f"allowed values: uint8, int32, int64")
        given = {}
        for value, what in ((on_value, "on_value"), (off_value, "off_value")):
            if value is not None:
                given[what] = convert_to_tensor(value, dtype=None if is_tensor_like(value) else dtype, name=what)
                if dtype is not None and given[what].dtype != dtype:
                    raise TypeError(f"dtype {given[what].dtype.name} of {what} does not match dtype parameter "
                                    f"{dtype.name}")
        if len(given) == 2 and given["on_value"].dtype != given["off_value"].dtype:
            raise TypeError(f"dtype {given['on_value'].dtype.name} of on_value does not match dtype "
                            f"{given['off_value'].dtype.name} of off_value")
        dtype = dtype or (next(iter(given.values())).dtype if given else dtypes.float32)
        depth_t = as_int_tensor(depth, "depth")
        on = given["on_value"] if "on_value" in given else constant(np.array(1, dtype=dtype.np), name="on_value")
        off = given["off_value"] if "off_value" in given else constant(np.array(0, dtype=dtype.np),
                                                                       name="off_value")
        return make_op("OneHot", [idx, depth_t, on, off], {"axis": -1 if axis is None else int(axis), "T": dtype,
                                                           "TI": idx.dtype}, name=scope).outputs[0]


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool_, name=None) -> Tensor:
    """mask[i, j] = j < lengths[i]; maxlen defaults to max(lengths), which must then be a compile-time constant."""
    from xlite.frontend.array_ops import expand_dims
    from xlite.frontend.math_ops import cast, less
    from xlite.frontend.reduction_ops import reduce_max
    with op_scope(name, "SequenceMask", default_graph_of(lengths, maxlen)):
        lengths = convert_to_tensor(lengths)
        maxlen = reduce_max(lengths) if maxlen is None else convert_to_tensor(maxlen, dtype=None if
                                                                              is_tensor_like(maxlen) else lengths.dtype)
        row = range(0, maxlen, 1, dtype=lengths.dtype)
        mask = less(row, expand_dims(lengths, -1))
        dtype = dtypes.as_dtype(dtype)
        return mask if dtype == dtypes.bool_ else cast(mask, dtype)
