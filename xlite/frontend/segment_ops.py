"""Segment reductions: tf.math.unsorted_segment_sum as one IR scatter_add, and the means and sorted forms on top.

Ids outside [0, num_segments) are dropped, as TF's CPU kernel does for negative
ids (it raises for ids >= num_segments; xlite's scatter drops those too, XLA's
rule). Their gradient is 0, as in TF. The sorted segment_* ops take their
output size from the ids, so the ids must be known when the graph is built.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend.array_helpers import array_lowering, as_int_tensor, op_scope, scalar_arg, zeros_ir
from xlite.frontend.array_ops import ones_like, reshape
from xlite.frontend.gather_ops import gather_clamped
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.math_ops import (NUMERIC, cast, check_dtype, greater_equal, less, logical_and, maximum, truediv,
                                     where)
from xlite.frontend.op_registry import make_op
from xlite.frontend.scopes import name_scope
from xlite.ir import dtypes
from xlite.ir.shape import Shape

__all__ = ["unsorted_segment_sum", "unsorted_segment_mean", "segment_sum", "segment_mean"]

_ID_DTYPES = (dtypes.int32, dtypes.int64)


@array_lowering("UnsortedSegmentSum")
def _lower_unsorted_segment_sum(ctx, op, data, ids, num_inst):
    n = scalar_arg(ctx, op, num_inst, "num_segments", index=2)
    k = ids.shape.rank
    lead, rest = data.shape.dims[:k], data.shape.dims[k:]
    if len(lead) != k or any(None not in (a, b) and a != b for a, b in zip(lead, ids.shape.dims)):
        raise ValueError(f"segment_ids.shape = {list(ids.shape.dims)} is not a prefix of data.shape = "
                         f"{list(data.shape.dims)}")
    if n is not None and n < 0:
        raise ValueError(f"num_segments must be non-negative, got {n}")
    out = (n,) + tuple(rest)
    if ctx.static and (n is None or None in data.shape.dims or None in ids.shape.dims):
        return ctx.unknown(Shape(data.dtype, out))
    b = ctx.b
    count = int(np.prod(ids.shape.dims, dtype=np.int64))
    flat = b.reshape(data, (count,) + tuple(rest))
    return b.emit("scatter_add", (zeros_ir(b, data.dtype, out), b.reshape(ids, (count,)), flat), axis=0)


@grad_rule("UnsortedSegmentSum")
def _unsorted_segment_sum_grad(op, g):
    """g gathered at each id; 0 for the ids that were dropped (TF's _GatherDropNegatives, out-of-range too)."""
    data, ids, num = op.inputs
    valid = logical_and(greater_equal(ids, 0), less(ids, cast(num, ids.dtype)))
    gathered = gather_clamped(g, ids)   # the dropped ids clamped into range; `valid` zeroes them
    extra = data.shape.ndims - ids.shape.ndims if data.shape.ndims is not None else None
    if extra is None:
        raise ValueError(f"the gradient of {op.name} needs data of known rank")
    mask = reshape(valid, _with_ones(ids, extra))
    return [where(mask, gathered, 0), None, None]


def _with_ones(ids: Tensor, extra: int):
    from xlite.frontend.array_ops import concat, shape
    return concat([shape(ids), np.ones(extra, np.int32)], 0) if extra else shape(ids)


def _segment_args(data, segment_ids, op_type: str) -> tuple[Tensor, Tensor]:
    x = convert_to_tensor(data, name="data")
    check_dtype(x, NUMERIC, op_type, "data")
    ids = convert_to_tensor(segment_ids, name="segment_ids")
    if ids.dtype not in _ID_DTYPES:
        raise TypeError(f"Value passed to parameter 'segment_ids' has DataType {ids.dtype.name} not in list of "
                        f"allowed values: int32, int64 ({op_type})")
    if ids.shape.ndims is None:
        raise ValueError(f"{op_type}: segment_ids must have a known rank")
    return x, ids


def unsorted_segment_sum(data, segment_ids, num_segments, name=None) -> Tensor:
    """out[s] = sum of data[i...] over ids[i...] == s, for s < num_segments; shape [num_segments] + data.shape[k:]."""
    with op_scope(name, "UnsortedSegmentSum") as scope:
        x, ids = _segment_args(data, segment_ids, "UnsortedSegmentSum")
        num = as_int_tensor(num_segments, "num_segments")
        if num.shape.ndims not in (None, 0):
            raise ValueError(f"num_segments should be a scalar, got shape {num.shape}")
        return make_op("UnsortedSegmentSum", [x, ids, num], {"T": x.dtype, "Tindices": ids.dtype,
                                                               "Tnumsegments": num.dtype}, name=scope).outputs[0]


def unsorted_segment_mean(data, segment_ids, num_segments, name=None) -> Tensor:
    """The sum over each segment divided by its size (at least 1, so an empty segment gives 0), as TF."""
    with name_scope(name, "UnsortedSegmentMean", [data, segment_ids]) as scope:
        x, ids = _segment_args(data, segment_ids, "UnsortedSegmentMean")
        total = unsorted_segment_sum(x, ids, num_segments)
        counts = unsorted_segment_sum(ones_like(ids, dtype=x.dtype), ids, num_segments)
        if x.shape.ndims is None:
            raise ValueError("UnsortedSegmentMean: data must have a known rank")
        counts = reshape(maximum(counts, 1), [-1] + [1] * (x.shape.ndims - ids.shape.ndims))
        return truediv(total, counts, name=scope)   # integer data gives a float mean, as in TF


def _sorted_count(ids: Tensor, op_type: str) -> int:
    """num_segments of a sorted op: max id + 1, from ids known at graph construction (checked sorted, >= 0)."""
    if ids.shape.ndims != 1:
        raise ValueError(f"segment_ids should be a vector, got shape {ids.shape} ({op_type})")
    value = ids._static_value
    if value is None:
        raise errors.unimplemented(
            f"tf.math.{op_type}: the output size is max(segment_ids) + 1, which xlite's static shapes need when "
            f"the graph is built; pass constant segment_ids, or use tf.math.unsorted_{op_type} with num_segments")
    value = np.reshape(value, -1)
    if value.size and (value[0] < 0 or np.any(np.diff(value) < 0)):
        raise errors.InvalidArgumentError(None, None, f"segment ids are not increasing or are negative: "
                                                      f"{value.tolist()} ({op_type})")
    return int(value[-1]) + 1 if value.size else 0


def segment_sum(data, segment_ids, name=None) -> Tensor:
    """unsorted_segment_sum over sorted, constant ids, with max(ids) + 1 segments."""
    with name_scope(name, "SegmentSum", [data, segment_ids]) as scope:
        x, ids = _segment_args(data, segment_ids, "SegmentSum")
        return unsorted_segment_sum(x, ids, _sorted_count(ids, "segment_sum"), name=scope)


def segment_mean(data, segment_ids, name=None) -> Tensor:
    """unsorted_segment_mean over sorted, constant ids, with max(ids) + 1 segments."""
    with name_scope(name, "SegmentMean", [data, segment_ids]) as scope:
        x, ids = _segment_args(data, segment_ids, "SegmentMean")
        return unsorted_segment_mean(x, ids, _sorted_count(ids, "segment_mean"), name=scope)
