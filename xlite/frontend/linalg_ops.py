"""tf.linspace, tf.eye, the diagonal ops, tf.matrix_band_part, tf.trace and tf.norm as compositions.

Index grids (tf.range) compared and fed to tf.where build every mask, so each
function has the gradients of the ops it is made of and needs no IR of its own.
"""
from __future__ import annotations

import builtins

import numpy as np

from xlite import errors
from xlite.frontend.array_ops import (broadcast_to, concat, expand_dims, range, reshape, shape, squeeze, stack,
                                     transpose, zeros_like)
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.math_ops import (FLOATS, abs, cast, check_dtype, equal, less, logical_and, logical_or, maximum,
                                     minimum, pow, sqrt, where)
from xlite.frontend.reduction_ops import reduce_max, reduce_prod, reduce_sum
from xlite.frontend.scopes import name_scope
from xlite.frontend.slicing_ops import slice
from xlite.ir import dtypes

__all__ = ["linspace", "lin_space", "eye", "diag", "diag_part", "matrix_diag", "matrix_diag_part",
           "matrix_band_part", "trace", "norm", "matrix_transpose"]


def _int_arg(value, name: str) -> Tensor:
    t = convert_to_tensor(value, preferred_dtype=dtypes.int32, name=name)
    if t.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter '{name}' has DataType {t.dtype.name} not in list of allowed "
                        f"values: int32, int64")
    return t


# linspace -------------------------------------------------------------------------------------
def linspace(start, stop, num, name=None, axis=0) -> Tensor:
    """num evenly spaced values from start to stop inclusive along `axis`; integer ends give float64, as TF."""
    with name_scope(name, "linspace", [start, stop]):
        start = convert_to_tensor(start, name="start")
        stop = convert_to_tensor(stop, dtype=start.dtype, name="stop")
        if start.dtype.is_integer:
            start, stop = cast(start, dtypes.float64), cast(stop, dtypes.float64)
        check_dtype(start, FLOATS, "LinSpace", "start")
        num = _int_arg(num, "num")
        if num.shape.ndims not in (None, 0):
            raise ValueError(f"num must be a scalar, got shape {num.shape}")
        ends = [start + zeros_like(stop), stop + zeros_like(start)]   # broadcast against each other
        rank = ends[0].shape.ndims
        if rank is None:
            raise ValueError("linspace needs start and stop of known rank")
        if not -rank - 1 <= axis <= rank:
            raise ValueError(f"linspace axis {axis} is out of range for start/stop of rank {rank}")
        axis %= rank + 1
        first, last = (expand_dims(e, axis) for e in ends)
        steps = maximum(num - 1, 1)
        delta = (last - first) / cast(steps, start.dtype)
        index = reshape(range(0, num, 1), [-1 if k == axis else 1 for k in builtins.range(rank + 1)])
        values = first + delta * cast(index, start.dtype)
        return where(equal(index, steps), last, values)   # the last value is exactly stop


lin_space = linspace


# eye and diagonals ------------------------------------------------------------------------------
def _eye_mask(rows, cols) -> Tensor:
    """mask[i, j] = i == j for an rows x cols grid."""
    return equal(expand_dims(range(0, rows, 1), -1), expand_dims(range(0, cols, 1), 0))


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None) -> Tensor:
    """An identity matrix (ones on the main diagonal) of dtype, stacked over batch_shape."""
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, "eye"):
        rows = _int_arg(num_rows, "num_rows")
        cols = rows if num_columns is None else _int_arg(num_columns, "num_columns")
        mask = _eye_mask(rows, cols)
        if batch_shape is not None:
            batch = _int_arg(batch_shape, "batch_shape")
            mask = broadcast_to(mask, concat([batch, stack([rows, cols])], 0))
        return cast(mask, dtype)


def matrix_diag(diagonal, name="diag", k=0) -> Tensor:
    """Batched diagonal matrices: [..., n] -> [..., n, n] with the input on the main diagonal."""
    if k != 0:
        raise errors.unimplemented("tf.linalg.diag with k != 0 (an off-main diagonal) is not supported by xlite")
    with name_scope(name, "diag", [diagonal]) as scope:
        x = convert_to_tensor(diagonal, name="diagonal")
        if x.shape.ndims == 0:
            raise ValueError("tf.linalg.diag: input must be at least 1-D, got a scalar")
        n = shape(x)[-1]
        return where(_eye_mask(n, n), expand_dims(x, -1), zeros_like(expand_dims(x, -1)), name=scope)


def matrix_diag_part(input, name="diag_part", k=0) -> Tensor:  # noqa: A002 - TF's name
    """The main diagonal of each matrix: [..., m, n] -> [..., min(m, n)]."""
    if k != 0:
        raise errors.unimplemented("tf.linalg.diag_part with k != 0 (an off-main diagonal) is not supported by xlite")
    with name_scope(name, "diag_part", [input]) as scope:
        x = convert_to_tensor(input, name="input")
        rank = x.shape.ndims
        if rank is None or rank < 2:
            raise ValueError(f"tf.linalg.diag_part: input must have known rank >= 2, got shape {x.shape}")
        m, n = x.shape.dims[-2:]
        dims = shape(x)
        size = min(m, n) if None not in (m, n) else minimum(dims[-2], dims[-1])
        square = slice(x, [0] * rank, concat([[-1] * (rank - 2), stack([size, size])], 0) if isinstance(
            size, Tensor) else [-1] * (rank - 2) + [size, size])
        return reduce_sum(where(_eye_mask(size, size), square, zeros_like(square)), -1, name=scope)


def diag(diagonal, name=None) -> Tensor:
    """TF1's Diag: a rank-k tensor becomes rank 2k with out[i..., i...] = x[i...] and zeros elsewhere."""
    with name_scope(name, "Diag", [diagonal]) as scope:
        x = convert_to_tensor(diagonal, name="diagonal")
        if x.shape.ndims is not None and x.shape.ndims < 1:
            raise ValueError(f"Input must be at least rank 1, got rank {x.shape.ndims} (tf.diag)")
        dims = shape(x)
        return reshape(matrix_diag(reshape(x, [-1])), concat([dims, dims], 0), name=scope)


def diag_part(input, name=None) -> Tensor:  # noqa: A002
    """TF1's DiagPart: the inverse of tf.diag, for a rank-2k input whose two halves of dims agree."""
    with name_scope(name, "DiagPart", [input]) as scope:
        x = convert_to_tensor(input, name="input")
        rank = x.shape.ndims
        if rank is None or rank == 0 or rank % 2:
            raise ValueError(f"Input must have even and non-zero rank, input rank is {rank} (tf.diag_part of "
                             f"shape {x.shape})")
        half = x.shape.dims[:rank // 2]
        for a, b in zip(half, x.shape.dims[rank // 2:]):
            if None not in (a, b) and a != b:
                raise ValueError(f"Dimensions must be equal, but are {a} and {b} (tf.diag_part of shape {x.shape})")
        lead = shape(x)[:rank // 2]
        flat = reshape(x, stack([reduce_prod(lead)] * 2))
        return reshape(matrix_diag_part(flat), lead, name=scope)


def matrix_band_part(input, num_lower, num_upper, name=None) -> Tensor:  # noqa: A002
    """Keeps x[..., i, j] where i - j <= num_lower and j - i <= num_upper (a negative bound keeps all); 0 elsewhere."""
    with name_scope(name, "MatrixBandPart", [input, num_lower, num_upper]) as scope:
        x = convert_to_tensor(input, name="input")
        if x.shape.ndims is not None and x.shape.ndims < 2:
            raise ValueError(f"input must be at least rank 2, got shape {x.shape} (tf.matrix_band_part)")
        lower = _int_arg(num_lower, "num_lower")
        upper = cast(_int_arg(num_upper, "num_upper"), lower.dtype)
        dims = shape(x, out_type=lower.dtype)
        rows = expand_dims(range(0, dims[-2], 1), -1)
        cols = expand_dims(range(0, dims[-1], 1), 0)
        keep = logical_and(logical_or(less(lower, 0), less(rows - cols, lower + 1)),
                           logical_or(less(upper, 0), less(cols - rows, upper + 1)))
        return where(keep, x, zeros_like(x), name=scope)


def trace(x, name=None) -> Tensor:
    """The sum of each matrix's main diagonal: [..., m, n] -> [...]."""
    with name_scope(name, "Trace", [x]) as scope:
        return reduce_sum(matrix_diag_part(convert_to_tensor(x, name="x")), -1, name=scope)


# norm -------------------------------------------------------------------------------------------
def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None, keep_dims=None) -> Tensor:  # noqa: A002
    """Vector norms (euclidean, 1, inf, any p > 0) and matrix norms ('fro', 1, inf) over `axis`, as TF computes them.

    The matrix 2-norm needs an SVD, which xlite lacks."""
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'")
    keepdims = bool(keep_dims if keepdims is None else keepdims)
    is_matrix = isinstance(axis, (list, tuple)) and len(axis) == 2
    if is_matrix:
        axis = [int(a) for a in axis]
        if axis[0] == axis[1]:
            raise ValueError(f"'axis' must be a tuple of 2 unique integers, got {tuple(axis)}")
        if ord not in ("euclidean", "fro", 1, 2, np.inf):
            raise ValueError(f"'ord' must be a supported matrix norm in ['euclidean', 'fro', 1, 2, inf], got {ord}")
        if ord == 2:
            raise errors.unimplemented("tf.norm: the matrix 2-norm needs a singular value decomposition, which "
                                       "xlite does not have")
    else:
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if not (axis is None or isinstance(axis, (int, np.integer))):
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
        if ord not in ("euclidean", 1, 2, np.inf) and (isinstance(ord, str) or not ord > 0):
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
        axis = None if axis is None else [int(axis)]
    with name_scope(name, "norm", [tensor]):
        x = convert_to_tensor(tensor, name="tensor")
        check_dtype(x, FLOATS, "norm", "tensor")
        if ord in ("euclidean", "fro", 2):
            result = sqrt(reduce_sum(x * x, axis, keepdims=True))
        elif ord == 1:
            result = reduce_sum(abs(x), None if axis is None else axis[0], keepdims=True)
            if is_matrix:
                result = reduce_max(result, axis[1], keepdims=True)
        elif ord == np.inf:
            result = abs(x)
            if is_matrix:
                result = reduce_sum(result, axis[1], keepdims=True)
            result = reduce_max(result, None if axis is None else axis[0], keepdims=True)
        else:
            result = pow(reduce_sum(pow(abs(x), float(ord)), axis, keepdims=True), 1.0 / ord)
        return result if keepdims else squeeze(result, axis)



def matrix_transpose(a, name="matrix_transpose", conjugate=False) -> Tensor:
    """The last two dimensions swapped (a batch of matrices, each transposed)."""
    x = convert_to_tensor(a, name="a")
    rank = x.shape.ndims
    if rank is None or rank < 2:
        raise ValueError(f"matrix_transpose needs a tensor of rank >= 2 and known rank, got shape {x.shape}")
    return transpose(x, list(builtins.range(rank - 2)) + [rank - 1, rank - 2], name=name, conjugate=conjugate)
