"""tf.image's geometry and value ops, composed of existing frontend ops exactly as TF's image_ops_impl composes
them (ReverseV2, Transpose, Slice, Pad, Cast, arithmetic), so each gets its gradient from those ops' rules and
the graph shows the op types TF's would. Resizing is image_resize.py, colour spaces image_color.py."""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend.array_ops import expand_dims, reshape, reverse, squeeze, tile, transpose
from xlite.frontend.clip_ops import clip_by_value
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.einsum_ops import tensordot
from xlite.frontend.graph import Tensor
from xlite.frontend.math_ops import add, cast, divide, floordiv, identity, maximum, multiply, rsqrt, where
from xlite.frontend.math_ops import pow as power  # noqa: A004
from xlite.frontend.math_ops import round as round_  # noqa: A004
from xlite.frontend.math_ops import less
from xlite.frontend.pad_ops import pad
from xlite.frontend.random_ops import random_uniform
from xlite.frontend.reduction_ops import reduce_mean, reduce_prod, reduce_std
from xlite.frontend.scopes import name_scope
from xlite.frontend.shape_ops import shape
from xlite.frontend.slicing_ops import slice  # noqa: A004 - TF's name
from xlite.ir import dtypes

__all__ = ["adjust_brightness", "adjust_gamma", "central_crop", "convert_image_dtype", "crop_to_bounding_box",
           "flip_left_right", "flip_up_down", "grayscale_to_rgb", "pad_to_bounding_box", "per_image_standardization",
           "random_flip_left_right", "random_flip_up_down", "resize_image_with_crop_or_pad",
           "resize_with_crop_or_pad", "rgb_to_grayscale", "rot90", "saturate_cast", "transpose_image"]


# shapes --------------------------------------------------------------------------------------
def _rank(image: Tensor, what: str = "image") -> int:
    """3 (one image) or 4 (a batch); TF's ValueError otherwise."""
    ndims = image.shape.ndims
    if ndims is None:
        raise errors.unimplemented(f"tf.image on '{what}' of unknown rank: xlite needs the rank at graph "
                                   f"construction")
    if ndims < 3:
        raise ValueError(f"'{what}' (shape {image.shape}) must be at least three-dimensional.")
    if ndims > 4:
        raise ValueError(f"'{what}' (shape {image.shape}) must have either 3 or 4 dimensions.")
    return ndims


def _static_int(value, what: str) -> int:
    """A bounding-box number known at graph construction (a Python int or a constant tensor)."""
    if isinstance(value, Tensor) or hasattr(value, "_as_tensor"):
        known = convert_to_tensor(value)._static_value
        if known is None:
            raise errors.unimplemented(f"{what} must be known at graph construction: xlite compiles static "
                                       f"shapes, so a crop or pad size cannot be a value fed to a run")
        value = known
    return int(np.asarray(value))


def _batched(image: Tensor):
    """(the image as a batch, whether it came as one): TF's crop and pad work on 4-D and squeeze after."""
    return (image, True) if _rank(image) == 4 else (expand_dims(image, 0), False)


# flips, rotations ---------------------------------------------------------------------------------
def _flip(image, axis: int, scope: str) -> Tensor:
    with name_scope(None, scope, [image]):
        image = convert_to_tensor(image, name="image")
        rank = _rank(image)
        return reverse(image, [axis + rank - 3])


def flip_left_right(image) -> Tensor:
    """Mirrors the width axis (ReverseV2 of axis 1, or 2 for a batch)."""
    return _flip(image, 1, "flip_left_right")


def flip_up_down(image) -> Tensor:
    """Mirrors the height axis (ReverseV2 of axis 0, or 1 for a batch)."""
    return _flip(image, 0, "flip_up_down")


def _random_flip(image, axis: int, seed, scope: str) -> Tensor:
    """TF's rule: one draw < 0.5 flips a single image; a batch draws per image and rounds it to a 0/1 mask."""
    with name_scope(None, scope, [image]):
        image = convert_to_tensor(image, name="image")
        rank = _rank(image)
        if rank == 3:
            flip = less(random_uniform([], 0, 1.0, seed=seed), 0.5)
            return where(flip, reverse(image, [axis]), image)
        batch = image.shape.dims[0]
        if batch is None:
            batch = shape(image)[0]
        draws = random_uniform([batch], 0, 1.0, seed=seed)
        flips = cast(round_(draws), image.dtype)
        flips = reshape(flips, [-1, 1, 1, 1])
        return flips * reverse(image, [axis + 1]) + (1 - flips) * image


def random_flip_left_right(image, seed=None) -> Tensor:
    return _random_flip(image, 1, seed, "random_flip_left_right")


def random_flip_up_down(image, seed=None) -> Tensor:
    return _random_flip(image, 0, seed, "random_flip_up_down")


def transpose_image(image, name=None) -> Tensor:
    """Swaps height and width."""
    with name_scope(name, "transpose", [image]):
        image = convert_to_tensor(image, name="image")
        return transpose(image, [1, 0, 2] if _rank(image) == 3 else [0, 2, 1, 3])


def rot90(image, k=1, name=None) -> Tensor:
    """k quarter turns counter-clockwise, as TF builds them from reverse and transpose."""
    with name_scope(name, "rot90", [image, k]):
        image = convert_to_tensor(image, name="image")
        lead = _rank(image) - 3
        turns = _static_int(k, "rot90's k") % 4
        h, w = lead, lead + 1
        perm = list(range(lead)) + [w, h, lead + 2]
        if turns == 1:
            return transpose(reverse(image, [w]), perm)
        if turns == 2:
            return reverse(image, [h, w])
        if turns == 3:
            return reverse(transpose(image, perm), [w])
        return image


# crops and pads -----------------------------------------------------------------------------------
def _require(*checks) -> None:
    """Raises ValueError with the message of the first (condition, message) whose condition is false."""
    for ok, message in checks:
        if not ok:
            raise ValueError(message)


def _bounding_box(op_name: str, image, offsets, targets, box) -> Tensor:
    """box(image as a batch, oh, ow, th, tw, height, width), the offsets and targets as ints; the result is
    unbatched again where image was one image (TF's crop and pad)."""
    with name_scope(None, op_name, [image]):
        image, is_batch = _batched(convert_to_tensor(image, name="image"))
        oh, ow = _static_int(offsets[0], "offset_height"), _static_int(offsets[1], "offset_width")
        th, tw = _static_int(targets[0], "target_height"), _static_int(targets[1], "target_width")
        result = box(image, oh, ow, th, tw, *image.shape.dims[1:3])
        return result if is_batch else squeeze(result, axis=[0])


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width) -> Tensor:
    """The [offset, offset + target) window of height and width (a Slice)."""
    def box(batch, oh, ow, th, tw, height, width):
        _require((ow >= 0, "offset_width must be >= 0."), (oh >= 0, "offset_height must be >= 0."),
                 (tw > 0, "target_width must be > 0."), (th > 0, "target_height must be > 0."),
                 (width is None or width >= tw + ow, "width must be >= target + offset."),
                 (height is None or height >= th + oh, "height must be >= target + offset."))
        return slice(batch, [0, oh, ow, 0], [-1, th, tw, -1])
    return _bounding_box("crop_to_bounding_box", image, (offset_height, offset_width),
                         (target_height, target_width), box)


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width) -> Tensor:
    """Zeros around the image so it sits at (offset_height, offset_width) of a target-sized one (a Pad)."""
    def box(batch, oh, ow, th, tw, height, width):
        if height is None or width is None:
            raise errors.unimplemented("pad_to_bounding_box needs the image's height and width at graph "
                                       "construction")
        after_h, after_w = th - oh - height, tw - ow - width
        _require((oh >= 0, "offset_height must be >= 0"), (ow >= 0, "offset_width must be >= 0"),
                 (after_w >= 0, "width must be <= target - offset"),
                 (after_h >= 0, "height must be <= target - offset"))
        return pad(batch, [[0, 0], [oh, after_h], [ow, after_w], [0, 0]])
    return _bounding_box("pad_to_bounding_box", image, (offset_height, offset_width),
                         (target_height, target_width), box)


def resize_image_with_crop_or_pad(image, target_height, target_width) -> Tensor:
    """Centrally crops the dims larger than the target and zero-pads the smaller ones, as TF does."""
    with name_scope(None, "resize_image_with_crop_or_pad", [image]):
        image = convert_to_tensor(image, name="image")
        lead = _rank(image) - 3
        height, width = image.shape.dims[lead:lead + 2]
        if height is None or width is None:
            raise errors.unimplemented("resize_image_with_crop_or_pad needs the image's height and width at "
                                       "graph construction")
        th, tw = _static_int(target_height, "target_height"), _static_int(target_width, "target_width")
        if tw <= 0:
            raise ValueError("target_width must be > 0.")
        if th <= 0:
            raise ValueError("target_height must be > 0.")
        dw, dh = tw - width, th - height
        cropped = crop_to_bounding_box(image, max(-dh // 2, 0), max(-dw // 2, 0), min(th, height),
                                       min(tw, width))
        return pad_to_bounding_box(cropped, max(dh // 2, 0), max(dw // 2, 0), th, tw)


resize_with_crop_or_pad = resize_image_with_crop_or_pad


def central_crop(image, central_fraction) -> Tensor:
    """The central `central_fraction` of height and width, starts rounded down as TF's int() does."""
    with name_scope(None, "central_crop", [image]):
        image = convert_to_tensor(image, name="image")
        fraction = float(np.asarray(convert_to_tensor(central_fraction)._static_value
                                    if isinstance(central_fraction, Tensor) else central_fraction))
        if fraction <= 0.0 or fraction > 1.0:
            raise ValueError("central_fraction must be within (0, 1]")
        if fraction == 1.0:
            return image
        rank = _rank(image)
        lead = rank - 3
        height, width = image.shape.dims[lead:lead + 2]
        if height is None or width is None:
            raise errors.unimplemented("central_crop needs the image's height and width at graph construction")
        h0 = int((float(height) - float(height) * fraction) / 2)
        w0 = int((float(width) - float(width) * fraction) / 2)
        return slice(image, [0] * lead + [h0, w0, 0], [-1] * lead + [height - 2 * h0, width - 2 * w0, -1])


# values -----------------------------------------------------------------------------------------
def _limits(dtype: dtypes.DType) -> tuple:
    info = np.iinfo(dtype.np) if dtype.is_integer else np.finfo(dtype.np)
    return info.min, info.max


def saturate_cast(value, dtype, name=None) -> Tensor:
    """Clips to the range both dtypes share, then casts (TF's saturate_cast)."""
    with name_scope(name, "saturate_cast", [value]):
        value = convert_to_tensor(value, name="value")
        dtype = dtypes.as_dtype(dtype)
        if value.dtype != dtype and not value.dtype.is_bool:
            lo_in, hi_in = _limits(value.dtype)
            lo_out, hi_out = _limits(dtype)
            lo, hi = max(lo_in, lo_out), min(hi_in, hi_out)
            if lo > lo_in or hi < hi_in:
                as_in = (lambda v: float(v)) if value.dtype.is_floating else int
                value = clip_by_value(value, convert_to_tensor(as_in(lo), value.dtype),
                                      convert_to_tensor(as_in(hi), value.dtype))
        return cast(value, dtype)


def convert_image_dtype(image, dtype, saturate=False, name=None) -> Tensor:
    """Rescales between integer ranges ([0, MAX]) and floats ([0, 1]) exactly as TF does."""
    image = convert_to_tensor(image, name="image")
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating and not dtype.is_integer:
        raise AttributeError("dtype must be either floating point or integer")
    if not image.dtype.is_floating and not image.dtype.is_integer:
        raise AttributeError("image dtype must be either floating point or integer")
    if dtype == image.dtype:
        return identity(image, name=name)
    to = saturate_cast if saturate else cast
    with name_scope(name, "convert_image", [image]):
        if image.dtype.is_integer and dtype.is_integer:
            scale_in, scale_out = int(_limits(image.dtype)[1]), int(_limits(dtype)[1])
            if scale_in > scale_out:
                return to(floordiv(image, (scale_in + 1) // (scale_out + 1)), dtype)
            return multiply(to(image, dtype), (scale_out + 1) // (scale_in + 1))
        if image.dtype.is_floating and dtype.is_floating:
            return cast(image, dtype)
        if image.dtype.is_integer:
            return multiply(cast(image, dtype), 1.0 / float(_limits(image.dtype)[1]))
        return to(multiply(image, float(_limits(dtype)[1]) + 0.5), dtype)


def _as_float(image: Tensor) -> Tensor:
    """float16 and float32 stay; any other dtype goes through convert_image_dtype to float32 (TF's rule)."""
    return image if image.dtype in (dtypes.float16, dtypes.float32) else convert_image_dtype(image, dtypes.float32)


def adjust_brightness(image, delta) -> Tensor:
    """image + delta in float, converted back to the image's dtype with saturation."""
    with name_scope(None, "adjust_brightness", [image, delta]):
        image = convert_to_tensor(image, name="image")
        flt = _as_float(image)
        adjusted = add(flt, cast(delta, flt.dtype))
        return convert_image_dtype(adjusted, image.dtype, saturate=True)


def adjust_gamma(image, gamma=1, gain=1) -> Tensor:
    """gain * image ** gamma in float, converted back with saturation (Gamma must be non-negative)."""
    with name_scope(None, "adjust_gamma", [image, gamma, gain]):
        image = convert_to_tensor(image, name="image")
        known = convert_to_tensor(gamma)._static_value if isinstance(gamma, Tensor) else gamma
        if known is not None and np.any(np.asarray(known) < 0):
            raise ValueError("Gamma should be a non-negative real number.")
        flt = _as_float(image)
        adjusted = multiply(gain, power(flt, cast(gamma, flt.dtype)))
        return convert_image_dtype(adjusted, image.dtype, saturate=True)


def rgb_to_grayscale(images, name=None) -> Tensor:
    """ITU-R 601 luma (0.2989, 0.5870, 0.1140) of the last axis, kept as a size-1 channel axis."""
    with name_scope(name, "rgb_to_grayscale", [images]):
        images = convert_to_tensor(images, name="images")
        flt = convert_image_dtype(images, dtypes.float32)
        gray = tensordot(flt, convert_to_tensor([0.2989, 0.5870, 0.1140], dtypes.float32), [-1, -1])
        return convert_image_dtype(expand_dims(gray, -1), images.dtype)


def grayscale_to_rgb(images, name=None) -> Tensor:
    """The one channel repeated three times."""
    with name_scope(name, "grayscale_to_rgb", [images]):
        images = convert_to_tensor(images, name="images")
        rank = images.shape.ndims
        if rank is None or images.shape.dims[-1] not in (None, 1):
            raise ValueError(f"Last dimension of a grayscale image should be size 1, got {images.shape}")
        return tile(images, [1] * (rank - 1) + [3])


def per_image_standardization(image) -> Tensor:
    """(x - mean) / max(stddev, 1/sqrt(pixels)) over each image's height, width and channels, in float32."""
    with name_scope(None, "per_image_standardization", [image]):
        image = convert_to_tensor(image, name="image")
        _rank(image)
        image = cast(image, dtypes.float32)
        num_pixels = reduce_prod(shape(image)[-3:])
        mean = reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
        stddev = reduce_std(image, axis=[-1, -2, -3], keepdims=True)
        min_stddev = rsqrt(cast(num_pixels, dtypes.float32))
        return divide(image - mean, maximum(stddev, min_stddev))
