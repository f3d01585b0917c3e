"""tf.SparseTensor and the tf.sparse ops xlite compiles: to_dense, reduce_sum and sparse_dense_matmul.

A SparseTensor is its three tensors (indices [n, rank] int64, values [n],
dense_shape [rank] int64); each op lowers to scatters and gathers of them.
Output sizes taken from dense_shape must be known when the run compiles (a
constant, or a sparse_placeholder with a fully defined shape).
"""
from __future__ import annotations

import collections
from operator import attrgetter

import numpy as np

from xlite.frontend import array_ops, math_ops, reduction_ops
from xlite.frontend.array_helpers import partial_value
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.scatter_ops import tensor_scatter_nd_update
from xlite.frontend.segment_ops import unsorted_segment_sum
from xlite.frontend.tensor_shape import TensorShape
from xlite.frontend.variables import placeholder, placeholder_with_default
from xlite.ir import dtypes

SparseTensorValue = collections.namedtuple("SparseTensorValue", ["indices", "values", "dense_shape"])


class SparseTensor:
    """values[i] at position indices[i] of a tensor of dense_shape; every other element is zero."""

    def __init__(self, indices, values, dense_shape):
        self._values = convert_to_tensor(values, name="values")
        self._indices = convert_to_tensor(indices, dtype=dtypes.int64, name="indices")
        self._dense_shape = convert_to_tensor(dense_shape, dtype=dtypes.int64, name="dense_shape")
        if self._indices.shape.ndims not in (None, 2):
            raise ValueError(f"SparseTensor indices must be a matrix, got shape {self._indices.shape}")

    @classmethod
    def from_value(cls, value) -> "SparseTensor":
        return value if isinstance(value, SparseTensor) else cls(value.indices, value.values, value.dense_shape)

    indices = property(attrgetter("_indices"))
    values = property(attrgetter("_values"))
    dense_shape = property(attrgetter("_dense_shape"))
    dtype = property(attrgetter("_values.dtype"))
    op = property(attrgetter("_values.op"))
    graph = property(attrgetter("_values.graph"))

    @property
    def shape(self) -> TensorShape:
        """The dense shape as far as it is known when the graph is built."""
        return TensorShape(partial_value(self._dense_shape))

    def get_shape(self) -> TensorShape:
        return self.shape

    def _fetch_parts(self) -> tuple:
        return SparseTensorValue, [self._indices, self._values, self._dense_shape]

    def _feed_parts(self, value) -> tuple:
        """(the fed tensors, their values) for a SparseTensorValue or an (indices, values, dense_shape) tuple;
        a constant dense_shape is checked, not fed."""
        indices, values, dense_shape = (np.asarray(v) for v in value)     # (arrays: feeds never split them)
        if self._dense_shape.op.type == "Const":
            want = np.asarray(self._dense_shape._static_value).tolist()
            if dense_shape.tolist() != want:
                raise ValueError(f"Cannot feed a SparseTensorValue of dense_shape {list(dense_shape)} to a "
                                 f"SparseTensor of shape {want}")
            return (self._indices, self._values), (indices, values)
        return (self._indices, self._values, self._dense_shape), (indices, values, dense_shape)

    def __repr__(self) -> str:
        return f"SparseTensor(indices={self._indices!r}, values={self._values!r}, dense_shape={self._dense_shape!r})"


def _sparse(sp_input) -> SparseTensor:
    if isinstance(sp_input, SparseTensorValue):
        return SparseTensor.from_value(sp_input)
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"Input must be a SparseTensor, got {type(sp_input).__name__}")
    return sp_input


def sparse_placeholder(dtype, shape=None, name=None) -> SparseTensor:
    """Placeholders for the indices and values (and dense_shape, unless `shape` is fully defined) of a
    SparseTensor; feed it a SparseTensorValue."""
    name = name or "Placeholder"
    shape_known = shape is not None and TensorShape(shape).is_fully_defined()
    rank = None if shape is None else len(TensorShape(shape).dims)
    if shape_known:
        dense_shape = constant(np.array(TensorShape(shape).as_list(), np.int64), name=name + "/shape")
    elif rank is not None:
        default = [-1 if d is None else d for d in TensorShape(shape).dims]
        dense_shape = placeholder_with_default(np.array(default, np.int64), [rank], name=name + "/shape")
    else:
        dense_shape = placeholder(dtypes.int64, [None], name=name + "/shape")
    return SparseTensor(placeholder(dtypes.int64, [None, rank], name=name + "/indices"),
                        placeholder(dtype, [None], name=name + "/values"), dense_shape)


def sparse_to_dense_tensor(sp_input, default_value=None, validate_indices=True, name=None) -> Tensor:
    """tf.sparse.to_dense: default_value (0) everywhere but at the indices (a repeated index: the last value)."""
    sp = _sparse(sp_input)
    with sp.graph.name_scope(name or "SparseToDense"):
        fill = 0 if default_value is None else default_value
        base = array_ops.fill(sp.dense_shape, convert_to_tensor(fill, dtype=sp.dtype))
        return tensor_scatter_nd_update(base, sp.indices, sp.values)


def sparse_tensor_to_dense(sp_input, default_value=0, validate_indices=True, name=None) -> Tensor:
    return sparse_to_dense_tensor(sp_input, default_value, validate_indices, name)


def sparse_reduce_sum(sp_input, axis=None, keepdims=None, reduction_axes=None, keep_dims=None,
                      name=None) -> Tensor:
    """The sum of the values over `axis` (all axes by default), as a dense tensor."""
    sp = _sparse(sp_input)
    axis = reduction_axes if axis is None else axis
    keepdims = bool(keep_dims if keepdims is None else keepdims)
    with sp.graph.name_scope(name or "SparseReduceSum"):
        if axis is None and not keepdims:
            return reduction_ops.reduce_sum(sp.values)
        dense = array_ops.scatter_nd(sp.indices, sp.values, sp.dense_shape)   # repeated indices add up
        return reduction_ops.reduce_sum(dense, axis, keepdims=keepdims)


def sparse_tensor_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None) -> Tensor:
    """A (sparse, [m, k]) times B ([k, n]): B's rows gathered at A's columns, scaled by A's values and summed
    into A's rows; differentiable in A's values and in B."""
    sp = _sparse(sp_a)
    with sp.graph.name_scope(name or "SparseTensorDenseMatMul"):
        dense = convert_to_tensor(b, name="b")
        if dense.dtype != sp.dtype:
            raise TypeError(f"SparseTensorDenseMatMul: b has dtype {dense.dtype.name}, A has {sp.dtype.name}")
        if adjoint_b:
            dense = array_ops.transpose(dense)
        rows, cols = sp.indices[:, 0], sp.indices[:, 1]
        out_rows = sp.dense_shape[0]
        if adjoint_a:
            rows, cols, out_rows = cols, rows, sp.dense_shape[1]
        terms = array_ops.gather(dense, cols) * array_ops.expand_dims(sp.values, 1)
        return unsorted_segment_sum(terms, rows, out_rows)


__all__ = ["SparseTensor", "SparseTensorValue", "sparse_placeholder", "sparse_tensor_to_dense", "sparse_reduce_sum",
           "sparse_tensor_dense_matmul"]
