"""tf.image's random augmentations beyond the flips: brightness, contrast, saturation and hue by a seeded
random_uniform draw (one per call, as TF draws them), and random_crop (a seeded offset, then Slice)."""
from __future__ import annotations

import numpy as np

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.image_color import adjust_contrast, adjust_hue, adjust_saturation
from xlite.frontend.image_ops import adjust_brightness
from xlite.frontend.math_ops import floormod
from xlite.frontend.random_ops import random_uniform
from xlite.frontend.scopes import name_scope
from xlite.frontend.shape_ops import shape
from xlite.frontend.slicing_ops import slice  # noqa: A004 - TF's name
from xlite.ir import dtypes

__all__ = ["random_brightness", "random_contrast", "random_crop", "random_hue", "random_saturation"]


def _check_range(lower, upper) -> None:
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")


def random_brightness(image, max_delta, seed=None) -> Tensor:
    """adjust_brightness by a delta uniform in [-max_delta, max_delta)."""
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_brightness(image, random_uniform([], -max_delta, max_delta, seed=seed))


def random_contrast(image, lower, upper, seed=None) -> Tensor:
    """adjust_contrast by a factor uniform in [lower, upper)."""
    _check_range(lower, upper)
    return adjust_contrast(image, random_uniform([], lower, upper, seed=seed))


def random_saturation(image, lower, upper, seed=None) -> Tensor:
    """adjust_saturation by a factor uniform in [lower, upper)."""
    _check_range(lower, upper)
    return adjust_saturation(image, random_uniform([], lower, upper, seed=seed))


def random_hue(image, max_delta, seed=None) -> Tensor:
    """adjust_hue by a delta uniform in [-max_delta, max_delta), max_delta at most 0.5."""
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_hue(image, random_uniform([], -max_delta, max_delta, seed=seed))


def random_crop(value, size, seed=None, name=None) -> Tensor:
    """A `size` window of value at a uniformly drawn offset (TF's draw: a full-range int32 mod the room)."""
    with name_scope(name, "random_crop", [value, size]):
        value = convert_to_tensor(value, name="value")
        size = convert_to_tensor(size, dtype=dtypes.int32, name="size")
        known, wanted = value.shape.dims, size._static_value
        if wanted is not None and value.shape.ndims is not None:
            wanted = np.reshape(wanted, -1)
            if len(wanted) != len(known) or any(d is not None and d < int(w) for d, w in zip(known, wanted)):
                raise ValueError(f"Need value.shape >= size, got {list(known)} {wanted.tolist()}")
        dims = shape(value)
        limit = dims - size + 1
        draws = random_uniform(shape(dims), dtype=dtypes.int32, maxval=np.iinfo(np.int32).max, seed=seed)
        return slice(value, floormod(draws, limit), size)
