"""What an optimizer's sparse update needs of an IndexedSlices gradient: each index's rows summed (TF's
_apply_sparse_duplicate_indices), without a data-dependent tf.unique.

Repeated indices are matched by an [n, n] comparison of the n indices, so the
cost grows as n^2 rows per step: fine for a batch of ids, not for millions.
"""
from __future__ import annotations

from xlite.frontend import array_ops, math_ops, matmul_ops, reduction_ops
from xlite.frontend.fill_ops import range as range_
from xlite.frontend.graph import Tensor
from xlite.frontend.indexed_slices import IndexedSlices


def summed_rows(grad: IndexedSlices) -> tuple[Tensor, Tensor, Tensor]:
    """(summed, indices, first): summed[i] is the sum of the rows of every j with indices[j] == indices[i];
    first[i] whether i is the first such j. Indices come back flat, rows as [n] + the row shape."""
    indices = array_ops.reshape(grad.indices, [-1])
    values = grad.values
    n = array_ops.size(indices)
    same = math_ops.equal(array_ops.expand_dims(indices, 1), array_ops.expand_dims(indices, 0))
    flat = array_ops.reshape(values, array_ops.stack([n, -1]))
    summed = array_ops.reshape(matmul_ops.matmul(math_ops.cast(same, values.dtype), flat), array_ops.shape(values))
    position = range_(n)
    earlier = math_ops.less(array_ops.expand_dims(position, 0), array_ops.expand_dims(position, 1))
    first = math_ops.logical_not(reduction_ops.reduce_any(math_ops.logical_and(same, earlier), axis=1))
    return summed, indices, first


def first_only(summed: Tensor, first: Tensor) -> Tensor:
    """summed where first, 0 at the repeats: scatter-adding it adds each index's sum once."""
    mask = array_ops.reshape(first, array_ops.concat(
        [array_ops.shape(first), array_ops.ones([array_ops.rank(summed) - 1], "int32")], 0))
    return math_ops.where(array_ops.broadcast_to(mask, array_ops.shape(summed)), summed,
                          array_ops.zeros_like(summed))


def cast_slices(grad: IndexedSlices, dtype) -> IndexedSlices:
    if grad.dtype == dtype:
        return grad
    return IndexedSlices(math_ops.cast(grad.values, dtype), grad.indices, grad.dense_shape)
