"""tf.shape, tf.shape_n, tf.size and tf.rank: constants whenever the shape is known, which it always is in a run."""
from __future__ import annotations

import math

import numpy as np

from xlite.frontend.array_helpers import array_lowering
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.gradients import no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import make_op
from xlite.ir import dtypes
from xlite.ir.shape import Shape
from xlite.ir.symbolic import has_symbolic

__all__ = ["shape", "shape_n", "size", "rank"]


def _shape_of(ctx, x, out_type):
    if None in x.shape.dims:
        return ctx.unknown(Shape(out_type, (x.shape.rank,)))
    if has_symbolic(x.shape.dims):
        return ctx.symbolic_shape(x.shape.dims, out_type)
    return ctx.b.constant(np.array(x.shape.dims, dtype=out_type.np).reshape(x.shape.rank))


@array_lowering("Shape")
def _lower_shape(ctx, op, x):
    return _shape_of(ctx, x, op.attrs["out_type"])


@array_lowering("ShapeN", outputs=lambda op: op.attrs["N"])
def _lower_shape_n(ctx, op, *xs):
    return [_shape_of(ctx, x, op.attrs["out_type"]) for x in xs]


@array_lowering("Size")
def _lower_size(ctx, op, x):
    out_type = op.attrs["out_type"]
    if None in x.shape.dims:
        return ctx.unknown(Shape(out_type, ()))
    return ctx.b.scalar(math.prod(x.shape.dims), out_type)     # (a symbolic size: a parameter of the run)


@array_lowering("Rank")
def _lower_rank(ctx, op, x):
    return ctx.b.scalar(x.shape.rank, dtypes.int32)


no_gradient("Shape", "ShapeN", "Size", "Rank")


def _out_type(out_type) -> dtypes.DType:
    out_type = dtypes.as_dtype(out_type)
    if out_type not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"out_type must be int32 or int64, got {out_type.name}")
    return out_type


def shape(input, name=None, out_type=dtypes.int32) -> Tensor:  # noqa: A002 - TF's names
    """A Const when the static shape is fully known (as TF1's optimize=True), else a Shape op."""
    x = convert_to_tensor(input)
    out_type = _out_type(out_type)
    if x.shape.is_fully_defined():
        with x.graph.as_default():
            return constant(np.array(x.shape.as_list(), dtype=out_type.np).reshape(x.shape.ndims),
                            name=name or "Shape")
    if x.op.type == "TrimToCount":      # a data-dependent size (bounded_ops.py): its run's count
        from xlite.frontend.bounded_ops import bounded_shape      # it builds on this module
        return bounded_shape(x, out_type, name)
    rank_known = x.shape.ndims is not None
    return make_op("Shape", [x], {"out_type": out_type, "T": x.dtype}, name=name or "Shape",
                   output_shapes=[[x.shape.ndims if rank_known else None]]).outputs[0]


def shape_n(input, out_type=dtypes.int32, name=None) -> list:  # noqa: A002
    xs = [convert_to_tensor(x) for x in input]
    out_type = _out_type(out_type)
    shapes = [[x.shape.ndims] for x in xs]
    op = make_op("ShapeN", xs, {"out_type": out_type, "N": len(xs), "T": xs[0].dtype}, name=name or "ShapeN",
                 n_outputs=len(xs), output_shapes=shapes)
    return list(op.outputs)


def size(input, name=None, out_type=dtypes.int32) -> Tensor:  # noqa: A002
    x = convert_to_tensor(input)
    out_type = _out_type(out_type)
    if x.shape.is_fully_defined():
        with x.graph.as_default():
            return constant(np.array(x.shape.num_elements(), dtype=out_type.np), name=name or "Size")
    if x.op.type == "TrimToCount":
        from xlite.frontend.bounded_ops import bounded_shape
        from xlite.frontend.reduction_ops import reduce_prod
        return reduce_prod(bounded_shape(x, out_type), name=name or "Size")
    return make_op("Size", [x], {"out_type": out_type, "T": x.dtype}, name=name or "Size",
                   output_shapes=[[]]).outputs[0]


def rank(input, name=None) -> Tensor:  # noqa: A002
    x = convert_to_tensor(input)
    if x.shape.ndims is not None:
        with x.graph.as_default():
            return constant(np.array(x.shape.ndims, dtype=np.int32), name=name or "Rank")
    return make_op("Rank", [x], {"out_type": dtypes.int32, "T": x.dtype}, name=name or "Rank",
                   output_shapes=[[]]).outputs[0]

