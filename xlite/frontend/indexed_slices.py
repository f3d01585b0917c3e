"""tf.IndexedSlices: a gradient that touches only some rows (a gather's), kept as rows + their indices.

Optimizers apply it with a scatter; anything else converts it to a dense tensor
(`tf.convert_to_tensor`), as TF does, by summing the rows into zeros.
"""
from __future__ import annotations

import collections
from operator import attrgetter

from xlite.frontend.graph import Tensor

IndexedSlicesValue = collections.namedtuple("IndexedSlicesValue", ["values", "indices", "dense_shape"])


class IndexedSlices:
    """values[i] is row indices[i] of a tensor of dense_shape (rows may repeat: they add up)."""

    def __init__(self, values: Tensor, indices: Tensor, dense_shape: Tensor | None = None):
        self._values, self._indices, self._dense_shape = values, indices, dense_shape
        self._dense = None

    values = property(attrgetter("_values"))
    indices = property(attrgetter("_indices"))
    dense_shape = property(attrgetter("_dense_shape"))
    dtype = property(attrgetter("_values.dtype"))
    name = property(attrgetter("_values.name"))
    op = property(attrgetter("_values.op"))
    graph = property(attrgetter("_values.graph"))
    device = property(lambda self: "")

    @property
    def shape(self):
        """The dense shape, as far as it is known when the graph is built."""
        from xlite.frontend.array_helpers import partial_value
        from xlite.frontend.tensor_shape import TensorShape
        if self._dense_shape is None:
            return TensorShape(None)
        return TensorShape(partial_value(self._dense_shape))

    def _as_tensor(self) -> Tensor:
        """The dense tensor (made once): TF's unsorted_segment_sum of the rows."""
        if self._dense is None:
            if self._dense_shape is None:
                raise ValueError(f"Tensor conversion requested for IndexedSlices without dense_shape: {self!r}")
            from xlite.frontend import array_ops
            from xlite.frontend.segment_ops import unsorted_segment_sum
            with self.graph.as_default():
                rows = array_ops.gather(self._dense_shape, 0)
                self._dense = unsorted_segment_sum(self._values, self._indices, rows)
        return self._dense

    def _fetch_parts(self) -> tuple:
        """(how Session.run rebuilds the fetched value, the tensors it fetches)."""
        if self._dense_shape is None:
            return (lambda v, i: IndexedSlicesValue(v, i, None)), [self._values, self._indices]
        return IndexedSlicesValue, [self._values, self._indices, self._dense_shape]

    def __neg__(self) -> "IndexedSlices":
        from xlite.frontend import math_ops
        return IndexedSlices(math_ops.negative(self._values), self._indices, self._dense_shape)

    def __repr__(self) -> str:
        return (f"IndexedSlices(indices={self._indices!r}, values={self._values!r}"
                + (f", dense_shape={self._dense_shape!r})" if self._dense_shape is not None else ")"))


def densified(g):
    """g as a dense tensor when it is IndexedSlices; anything else as it is."""
    return g._as_tensor() if isinstance(g, IndexedSlices) else g


def sum_slices(grads: list) -> IndexedSlices:
    """The sum of several IndexedSlices of one tensor: their rows and indices concatenated (TF's aggregation)."""
    from xlite.frontend import array_ops
    if len(grads) == 1:
        return grads[0]
    values = array_ops.concat([g.values for g in grads], 0)
    indices = array_ops.concat([array_ops.reshape(g.indices, [-1]) if g.indices.dtype == grads[0].indices.dtype
                                else array_ops.reshape(_cast(g.indices, grads[0].indices.dtype), [-1])
                                for g in grads], 0)
    return IndexedSlices(values, indices, grads[0].dense_shape)


def _cast(t: Tensor, dtype) -> Tensor:
    from xlite.frontend import math_ops
    return math_ops.cast(t, dtype)


__all__ = ["IndexedSlices", "IndexedSlicesValue"]
