"""tf.reshape, tf.transpose, slicing, concat, gather and the other array ops."""
from __future__ import annotations

import numpy as np

from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.gradients import broadcast_to_shape_of
from xlite.frontend.graph import Tensor
from xlite.ir import dtypes

__all__ = ["zeros_like", "ones_like"]


def _filled_like(value, tensor, dtype, name) -> Tensor:
    tensor = convert_to_tensor(tensor)
    dtype = dtypes.as_dtype(dtype) if dtype is not None else tensor.dtype
    return broadcast_to_shape_of(constant(np.array(value, dtype=dtype.np), name=name), tensor)


def zeros_like(tensor, dtype=None, name="zeros_like", optimize=True) -> Tensor:
    return _filled_like(0, tensor, dtype, name)


def ones_like(tensor, dtype=None, name="ones_like", optimize=True) -> Tensor:
    return _filled_like(1, tensor, dtype, name)
