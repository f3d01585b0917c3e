"""tf.image.image_gradients, total_variation and psnr: differences of neighbouring pixels, or of two images,
composed of existing ops as TF composes them (so their gradients are those ops')."""
from __future__ import annotations

import numpy as np

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.image_ops import convert_image_dtype
from xlite.frontend.math_ops import abs as abs_  # noqa: A004
from xlite.frontend.math_ops import cast, log, squared_difference, subtract
from xlite.frontend.pad_ops import pad
from xlite.frontend.reduction_ops import reduce_mean, reduce_sum
from xlite.frontend.scopes import name_scope
from xlite.ir import dtypes

__all__ = ["image_gradients", "psnr", "total_variation"]


def image_gradients(image) -> tuple:
    """(dy, dx): each pixel's difference to the next one down and right, 0 on the last row and column."""
    image = convert_to_tensor(image, name="image")
    if image.shape.ndims != 4:
        raise ValueError(f"image_gradients expects a 4D tensor [batch_size, h, w, d], not {image.shape}.")
    with name_scope(None, "image_gradients", [image]):
        dy = image[:, 1:, :, :] - image[:, :-1, :, :]
        dx = image[:, :, 1:, :] - image[:, :, :-1, :]
        return pad(dy, [[0, 0], [0, 1], [0, 0], [0, 0]]), pad(dx, [[0, 0], [0, 0], [0, 1], [0, 0]])


def total_variation(images, name=None) -> Tensor:
    """Sum of absolute differences of vertically and horizontally adjacent pixels, per image of a batch."""
    with name_scope(name, "total_variation", [images]):
        images = convert_to_tensor(images, name="images")
        ndims = images.shape.ndims
        if ndims == 3:
            dif1 = images[1:, :, :] - images[:-1, :, :]
            dif2 = images[:, 1:, :] - images[:, :-1, :]
            axis = None
        elif ndims == 4:
            dif1 = images[:, 1:, :, :] - images[:, :-1, :, :]
            dif2 = images[:, :, 1:, :] - images[:, :, :-1, :]
            axis = [1, 2, 3]
        else:
            raise ValueError("'images' must be either 3 or 4-dimensional.")
        return reduce_sum(abs_(dif1), axis=axis) + reduce_sum(abs_(dif2), axis=axis)


def psnr(a, b, max_val, name=None) -> Tensor:
    """Peak signal-to-noise ratio in dB of each image of a against b, values in [0, max_val] (TF's formula)."""
    with name_scope(name, "PSNR", [a, b]):
        a, b = convert_to_tensor(a, name="a"), convert_to_tensor(b, name="b")
        if not a.shape.is_compatible_with(b.shape):
            raise ValueError(f"Shapes must be compatible: {a.shape} and {b.shape}")
        max_val = convert_image_dtype(cast(max_val, a.dtype), dtypes.float32)
        a, b = convert_image_dtype(a, dtypes.float32), convert_image_dtype(b, dtypes.float32)
        mse = reduce_mean(squared_difference(a, b), [-3, -2, -1])
        return subtract(20 * log(max_val) / log(10.0), np.float32(10 / np.log(10)) * log(mse))
