"""tf.image.image_gradients and total_variation: differences of neighbouring pixels, composed of slices
as TF composes them (so their gradients are the slices')."""
from __future__ import annotations

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.math_ops import abs as abs_  # noqa: A004
from xlite.frontend.pad_ops import pad
from xlite.frontend.reduction_ops import reduce_sum
from xlite.frontend.scopes import name_scope

__all__ = ["image_gradients", "total_variation"]


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
