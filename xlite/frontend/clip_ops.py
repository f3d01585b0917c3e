"""tf.clip_by_value, clip_by_norm and clip_by_global_norm, composed from math ops as TF composes them."""
from __future__ import annotations

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.indexed_slices import IndexedSlices
from xlite.frontend.math_ops import (add_n, cast, check_dtype, FLOATS, greater, identity, maximum, minimum,
                                     NUMERIC, sqrt, square, where)
from xlite.frontend.reduction_ops import reduce_sum
from xlite.frontend.scopes import name_scope


def clip_by_value(t, clip_value_min, clip_value_max, name=None) -> Tensor:
    """min(max(t, lo), hi) elementwise; the bounds may broadcast but must not grow t's shape."""
    with name_scope(name, "clip_by_value", [t, clip_value_min, clip_value_max]) as scope:
        t = convert_to_tensor(t, name="t")
        check_dtype(t, NUMERIC, "clip_by_value", "t")
        t_min = minimum(t, clip_value_max)
        t.shape.assert_is_compatible_with(t_min.shape)
        t_max = maximum(t_min, clip_value_min, name=scope)
        t.shape.assert_is_compatible_with(t_max.shape)
        return t_max


def clip_by_norm(t, clip_norm, axes=None, name=None) -> Tensor:
    """t scaled so its L2 norm over `axes` is at most clip_norm (a zero t stays zero, with finite gradient)."""
    with name_scope(name, "clip_by_norm", [t, clip_norm]) as scope:
        t = convert_to_tensor(t, name="t")
        check_dtype(t, FLOATS, "clip_by_norm", "t")
        l2sum = reduce_sum(square(t), axes, keepdims=True)
        positive = greater(l2sum, 0)
        l2norm = where(positive, sqrt(where(positive, l2sum, 1)), l2sum)
        clip_norm = convert_to_tensor(clip_norm, dtype=t.dtype, name="clip_norm") \
            if not isinstance(clip_norm, Tensor) else clip_norm
        return identity(t * clip_norm / maximum(l2norm, clip_norm), name=scope)


def global_norm(t_list, name=None) -> Tensor:
    """sqrt(sum of squares) over every tensor in t_list (None entries are skipped)."""
    tensors = [t.values if isinstance(t, IndexedSlices) else convert_to_tensor(t) for t in t_list if t is not None]
    if not tensors:
        raise ValueError("global_norm needs at least one tensor")
    with name_scope(name, "global_norm", tensors) as scope:
        dtype = tensors[0].dtype
        squares = [cast(reduce_sum(square(t)), dtype) for t in tensors]
        return sqrt(add_n(squares), name=scope)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None) -> tuple[list, Tensor]:
    """Every tensor scaled by clip_norm / max(global_norm, clip_norm); an infinite norm gives NaNs, as in TF."""
    if isinstance(t_list, Tensor) or not isinstance(t_list, (list, tuple)):
        raise TypeError("t_list should be a sequence")
    with name_scope(name, "clip_by_global_norm", [t for t in t_list if t is not None]):
        use_norm = global_norm(t_list) if use_norm is None else convert_to_tensor(use_norm)
        one = convert_to_tensor(1.0, dtype=use_norm.dtype)
        scale = clip_norm * minimum(one / use_norm, one / clip_norm)
        scale = scale + (use_norm - use_norm)     # NaN when the norm is infinite
        clipped = [None if t is None else _scaled(t, scale) for t in t_list]
    return clipped, use_norm


def _scaled(t, scale):
    """t * scale; an IndexedSlices (a gather's gradient) stays one, its rows scaled, as in TF."""
    if isinstance(t, IndexedSlices):
        return IndexedSlices(identity(t.values * cast(scale, t.dtype)), t.indices, t.dense_shape)
    return identity(t * cast(scale, convert_to_tensor(t).dtype))


__all__ = ["clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm"]
