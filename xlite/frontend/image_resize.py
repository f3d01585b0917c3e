"""tf.image resizing: ResizeBilinear, ResizeNearestNeighbor, ResizeBicubic and ResizeArea, with their gradients.

Every method is separable: along height, then width, each output position reads a few input positions
(taps) with weights that depend only on the static sizes. The lowering computes those taps in NumPy float32
exactly as TF's kernels do (their scalers, floor/ceil, the bicubic coefficient table), and emits one gather
per tap and the weighted sum, so nothing is computed per element at run time but the interpolation itself.
A gradient is the transposed map: the same taps, scatter-added.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend.array_ops import expand_dims, squeeze
from xlite.frontend.array_helpers import array_lowering, as_int_tensor, constant_arg, zeros_ir
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule, no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend.image_ops import _static_int, pad_to_bounding_box
from xlite.frontend.op_registry import make_op
from xlite.frontend.scopes import name_scope
from xlite.frontend.shape_ops import shape
from xlite.ir import dtypes
from xlite.ir.shape import Shape

__all__ = ["resize", "resize_area", "resize_bicubic", "resize_bilinear", "resize_image_with_pad", "resize_images",
           "resize_images_v2", "resize_nearest_neighbor", "resize_with_pad"]

_F32 = np.float32


# taps: what each output position reads ------------------------------------------------------------
def _scale(in_size: int, out_size: int, align_corners: bool) -> np.float32:
    """TF's CalculateResizeScale, in float as the kernels compute it."""
    if align_corners and in_size > 1 and out_size > 1:
        return _F32(in_size - 1) / _F32(out_size - 1)
    return _F32(in_size) / _F32(out_size)


def _source(out_size: int, scale, half_pixel: bool, offset: float = 0.5) -> np.ndarray:
    """Input coordinate of each output position: (i + 0.5) * scale - offset (half pixel) or i * scale."""
    i = np.arange(out_size, dtype=_F32)
    return (i + _F32(0.5)) * scale - _F32(offset) if half_pixel else i * scale


def bilinear_taps(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """(lower, upper, lerp) per output position (TF's compute_interpolation_weights)."""
    src = _source(out_size, _scale(in_size, out_size, align_corners), half_pixel)
    floor = np.floor(src)
    lower = np.maximum(floor.astype(np.int64), 0)
    upper = np.minimum(np.ceil(src).astype(np.int64), in_size - 1)
    return lower, upper, (src - floor).astype(_F32)


def nearest_taps(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """The one input index per output position (TF's ResizeNearestNeighbor: roundf with align_corners)."""
    src = _source(out_size, _scale(in_size, out_size, align_corners), half_pixel, offset=0.0)
    picked = np.trunc(src + np.copysign(_F32(0.5), src)) if align_corners else np.floor(src)
    index = np.minimum(picked.astype(np.int64), in_size - 1)
    return np.maximum(index, 0) if half_pixel else index


_TABLE_SIZE = 1024


def _cubic_table(a: float) -> np.ndarray:
    """TF's InitCoeffsTable: Keys' cubic kernel at 1/1024 steps, [i, 0] for |x| < 1 and [i, 1] for 1 <= |x| < 2."""
    x = np.arange(_TABLE_SIZE + 1, dtype=np.float64) / _TABLE_SIZE
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    x = x + 1.0
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.stack([near, far], axis=1).astype(_F32)


def bicubic_taps(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """(indices, weights), each [out, 4] (TF's GetWeightsAndIndices).

    Half-pixel centers use Keys' kernel (a = -0.5) with taps outside the image weighted 0 and the rest
    renormalized; the legacy mode uses a = -0.75 and repeats the edge pixel."""
    src = _source(out_size, _scale(in_size, out_size, align_corners), half_pixel)
    base = np.floor(src).astype(np.int64)
    delta = (src - np.floor(src)).astype(_F32)
    offset = np.rint(delta * _F32(_TABLE_SIZE)).astype(np.int64)
    table = _cubic_table(-0.5 if half_pixel else -0.75)
    weights = np.stack([table[offset, 1], table[offset, 0], table[_TABLE_SIZE - offset, 0],
                        table[_TABLE_SIZE - offset, 1]], axis=1)
    wanted = base[:, None] + np.arange(-1, 3)[None, :]
    index = np.clip(wanted, 0, in_size - 1)
    if half_pixel:
        weights = np.where(index == wanted, weights, _F32(0))
        total = weights[:, 0] + weights[:, 1] + weights[:, 2] + weights[:, 3]
        ok = np.abs(total) >= _F32(1000) * np.finfo(_F32).tiny
        weights = np.where(ok[:, None], weights * (_F32(1) / np.where(ok, total, _F32(1)))[:, None], weights)
    return index, weights.astype(_F32)


def area_taps(in_size: int, out_size: int, align_corners: bool):
    """(indices, weights), each [out, K]: the input cells [i * scale, (i + 1) * scale) covers and how much
    of each (TF's ResizeArea); unused taps have weight 0."""
    scale = _scale(in_size, out_size, align_corners)
    rows = []
    for i in range(out_size):
        lo, hi = _F32(i) * scale, _F32(i + 1) * scale
        cells = []
        for j in range(int(np.floor(lo)), int(np.ceil(hi))):
            if j < lo:
                w = scale if j + 1 > hi else _F32(j + 1) - lo
            else:
                w = hi - _F32(j) if j + 1 > hi else _F32(1)
            cells.append((min(max(j, 0), in_size - 1), _F32(w)))
        rows.append(cells)
    k = max(len(r) for r in rows)
    index = np.zeros((out_size, k), np.int64)
    weights = np.zeros((out_size, k), _F32)
    for i, cells in enumerate(rows):
        for t, (j, w) in enumerate(cells):
            index[i, t], weights[i, t] = j, w
    return index, weights, scale


# IR helpers ----------------------------------------------------------------------------------------
def _gather(b, x, index: np.ndarray, axis: int):
    return b.emit("gather", (x, b.constant(index.astype(np.int32))), axis=axis)


def _along(b, values: np.ndarray, axis: int, like):
    """values laid along `axis` of like's shape."""
    return b.broadcast_in_dim(b.constant(values.astype(like.dtype.np)), like.shape.dims, (axis,))


def _filter(b, x, axis: int, index: np.ndarray, weights: np.ndarray):
    """sum over taps t (in order) of weights[:, t] * x[index[:, t]] along axis."""
    total = None
    for t in range(index.shape[1]):
        picked = _gather(b, x, index[:, t], axis)
        term = b.emit("mul", (picked, _along(b, weights[:, t], axis, picked)))
        total = term if total is None else b.emit("add", (total, term))
    return total


def _filter_transposed(b, g, axis: int, index: np.ndarray, weights: np.ndarray, size: int):
    """The gradient of _filter: each tap's weighted g scatter-added back to where it was read."""
    dims = list(g.shape.dims)
    dims[axis] = size
    total = zeros_ir(b, g.dtype, dims)
    for t in range(index.shape[1]):
        if weights is None:
            update = g
        else:
            update = b.emit("mul", (g, _along(b, weights[:, t], axis, g)))
        total = b.emit("scatter_add", (total, b.constant(index[:, t].astype(np.int32)), update), axis=axis)
    return total


def _lerp(b, lo, hi, frac):
    """lo + (hi - lo) * frac, TF's bilinear formula."""
    return b.emit("add", (lo, b.emit("mul", (b.emit("sub", (hi, lo)), frac))))


# lowering ------------------------------------------------------------------------------------------
def _out_size(ctx, op, size_inst):
    value = constant_arg(ctx, op, size_inst, "size")
    if value is None:
        return None
    size = [int(v) for v in np.reshape(value, -1)]
    if len(size) != 2:
        raise ValueError(f"size must be a 1-D tensor of 2 elements (new_height, new_width), got {size}")
    return size


def _check_modes(ctx, op):
    if op.attrs.get("half_pixel_centers") and op.attrs.get("align_corners") and not ctx.static:
        raise ValueError("If half_pixel_centers is True, align_corners must be False.")


def _resize_setup(ctx, op, x, size_inst, out_dtype):
    """(n, h, w, c, out_h, out_w) when everything is known, else the unknown result to return."""
    if x.shape.rank != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {x.shape.rank} for '{op.name}' ({op.type})")
    size = _out_size(ctx, op, size_inst)
    n, h, w, c = x.shape.dims
    if size is None or None in (h, w):
        return ctx.unknown(Shape(out_dtype, (n, *(size or (None, None)), c)))
    _check_modes(ctx, op)
    if min(size) <= 0:
        raise ValueError(f"output dimensions must be positive, got {size}")
    if not ctx.static and (h <= 0 or w <= 0):
        raise ValueError(f"input image must be of non-zero size, got {[h, w]}")
    if ctx.static and (n is None or c is None):
        return ctx.unknown(Shape(out_dtype, (n, *size, c)))
    return (h, w, *size)


def _modes(op):
    return bool(op.attrs.get("align_corners")), bool(op.attrs.get("half_pixel_centers"))


def _resize_lowering(op_type: str, to_float: bool = True):
    """Registers fn(b, op, x, h, w, out_h, out_w) as op_type's lowering, called once the sizes are known
    (x converted to float32 when to_float); until then the result is of unknown shape."""
    def register(fn):
        @array_lowering(op_type)
        def lower(ctx, op, x, size_inst):
            out_dtype = dtypes.float32 if to_float else x.dtype
            setup = _resize_setup(ctx, op, x, size_inst, out_dtype)
            if not isinstance(setup, tuple):
                return setup
            return fn(ctx.b, op, ctx.b.convert(x, out_dtype) if x.dtype != out_dtype else x, *setup)
        return fn
    return register


def _resize_grad_lowering(op_type: str):
    """Registers fn(b, op, g, h, w, out_h, out_w), the gradient g scattered back onto an image of [h, w],
    as op_type's lowering; its result takes the image's dtype."""
    def register(fn):
        @array_lowering(op_type)
        def lower(ctx, op, g, image):
            n, h, w, c = image.shape.dims
            if None in (h, w) or None in g.shape.dims:
                return ctx.unknown(Shape(image.dtype, (n, h, w, c)))
            _check_modes(ctx, op)
            _, oh, ow, _ = g.shape.dims
            out = fn(ctx.b, op, g, h, w, oh, ow)
            return ctx.b.convert(out, image.dtype) if image.dtype != out.dtype else out
        return fn
    return register


@_resize_lowering("ResizeBilinear")
def _lower_bilinear(b, op, x, h, w, oh, ow):
    y0, y1, ylerp = bilinear_taps(h, oh, *_modes(op))
    x0, x1, xlerp = bilinear_taps(w, ow, *_modes(op))
    top, bottom = _gather(b, x, y0, 1), _gather(b, x, y1, 1)
    rows = []
    for r in (top, bottom):
        left, right = _gather(b, r, x0, 2), _gather(b, r, x1, 2)
        rows.append(_lerp(b, left, right, _along(b, xlerp, 2, left)))
    return _lerp(b, rows[0], rows[1], _along(b, ylerp, 1, rows[0]))


@_resize_grad_lowering("ResizeBilinearGrad")
def _lower_bilinear_grad(b, op, g, h, w, oh, ow):
    y0, y1, ylerp = bilinear_taps(h, oh, *_modes(op))
    x0, x1, xlerp = bilinear_taps(w, ow, *_modes(op))
    one = _F32(1)
    cols = _filter_transposed(b, g, 2, np.stack([x0, x1], 1), np.stack([one - xlerp, xlerp], 1), w)
    return _filter_transposed(b, cols, 1, np.stack([y0, y1], 1), np.stack([one - ylerp, ylerp], 1), h)


@_resize_lowering("ResizeNearestNeighbor", to_float=False)
def _lower_nearest(b, op, x, h, w, oh, ow):
    rows = _gather(b, x, nearest_taps(h, oh, *_modes(op)), 1)
    return _gather(b, rows, nearest_taps(w, ow, *_modes(op)), 2)


@array_lowering("ResizeNearestNeighborGrad")
def _lower_nearest_grad(ctx, op, g, size_inst):
    size = _out_size(ctx, op, size_inst)
    n, oh, ow, c = g.shape.dims
    if size is None or None in g.shape.dims:
        return ctx.unknown(Shape(g.dtype, (n, *(size or (None, None)), c)))
    _check_modes(ctx, op)
    h, w = size
    b = ctx.b
    cols = _filter_transposed(b, g, 2, nearest_taps(w, ow, *_modes(op))[:, None], None, w)
    return _filter_transposed(b, cols, 1, nearest_taps(h, oh, *_modes(op))[:, None], None, h)


@_resize_lowering("ResizeBicubic")
def _lower_bicubic(b, op, x, h, w, oh, ow):
    """Along height first, then width, as TF's kernel interpolates (its cache holds the column sums)."""
    cols = _filter(b, x, 1, *bicubic_taps(h, oh, *_modes(op)))
    return _filter(b, cols, 2, *bicubic_taps(w, ow, *_modes(op)))


@_resize_grad_lowering("ResizeBicubicGrad")
def _lower_bicubic_grad(b, op, g, h, w, oh, ow):
    cols = _filter_transposed(b, g, 2, *bicubic_taps(w, ow, *_modes(op)), w)
    return _filter_transposed(b, cols, 1, *bicubic_taps(h, oh, *_modes(op)), h)


@_resize_lowering("ResizeArea")
def _lower_area(b, op, x, h, w, oh, ow):
    """Each output is the area-weighted mean of the input cells it covers: width sums, then height, then
    one scale, in TF's order."""
    align = bool(op.attrs.get("align_corners"))
    xi, xw, xs = area_taps(w, ow, align)
    yi, yw, ys = area_taps(h, oh, align)
    out = _filter(b, _filter(b, x, 2, xi, xw), 1, yi, yw)
    scale = b.broadcast_to(b.scalar(_F32(1) / (ys * xs), dtypes.float32), out.shape.dims)
    return b.emit("mul", (out, scale))


def _image_grad(op, g, grad_type: str, differentiable: bool) -> list:
    """[grad_type(g, image), None]: the image's gradient (none where TF registers none for its dtype)."""
    image = op.inputs[0]
    if not differentiable:
        return [None, None]
    return [make_op(grad_type, [g, image], _grad_attrs(op, image.dtype), name=grad_type).outputs[0], None]


@grad_rule("ResizeBilinear")
def _bilinear_grad(op, g):
    return _image_grad(op, g, "ResizeBilinearGrad", op.inputs[0].dtype.is_floating)


@grad_rule("ResizeBicubic")
def _bicubic_grad(op, g):
    return _image_grad(op, g, "ResizeBicubicGrad", op.inputs[0].dtype in (dtypes.float32, dtypes.float64))


@grad_rule("ResizeNearestNeighbor")
def _nearest_grad(op, g):
    image = op.inputs[0]
    dims = image.shape.dims[1:3]
    if None in dims:
        size = shape(image)[1:3]
    else:
        size = convert_to_tensor(np.asarray(dims, np.int32))
    return [make_op("ResizeNearestNeighborGrad", [g, size], _grad_attrs(op, g.dtype),
                    name="ResizeNearestNeighborGrad").outputs[0], None]


def _grad_attrs(op, dtype) -> dict:
    return {"T": dtype, "align_corners": op.attrs["align_corners"],
            "half_pixel_centers": op.attrs["half_pixel_centers"]}


# TF registers no gradient for these: ResizeBilinearGrad is NotDifferentiable; the others are linear maps
# whose second derivative TF leaves out too.
no_gradient("ResizeBilinearGrad", "ResizeNearestNeighborGrad", "ResizeBicubicGrad")


# API -------------------------------------------------------------------------------------------------
class ResizeMethod:
    """TF2's method names (tf.image.ResizeMethod in TF 2), which resize_images also accepts."""
    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"


class ResizeMethodV1:
    """TF1's tf.image.ResizeMethod."""
    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


_V1_NAMES = {0: "bilinear", 1: "nearest", 2: "bicubic", 3: "area"}
_OP_TYPES = {"bilinear": "ResizeBilinear", "nearest": "ResizeNearestNeighbor", "bicubic": "ResizeBicubic",
             "area": "ResizeArea"}


def _resize_op(op_type: str, images, size, align_corners: bool, half_pixel_centers: bool | None,
               name) -> Tensor:
    images = convert_to_tensor(images, name="images")
    size = as_int_tensor(size, "size", dtypes.int32)
    attrs = {"T": images.dtype, "align_corners": bool(align_corners)}
    if half_pixel_centers is not None:
        attrs["half_pixel_centers"] = bool(half_pixel_centers)
    return make_op(op_type, [images, size], attrs, name=name or op_type).outputs[0]


def resize_bilinear(images, size, align_corners=False, name=None, half_pixel_centers=False) -> Tensor:
    """float32 bilinear resize of a [batch, height, width, channels] tensor (TF1's tf.image.resize_bilinear)."""
    return _resize_op("ResizeBilinear", images, size, align_corners, half_pixel_centers, name)


def resize_nearest_neighbor(images, size, align_corners=False, name=None, half_pixel_centers=False) -> Tensor:
    """Nearest-neighbor resize, keeping the images' dtype."""
    return _resize_op("ResizeNearestNeighbor", images, size, align_corners, half_pixel_centers, name)


def resize_bicubic(images, size, align_corners=False, name=None, half_pixel_centers=False) -> Tensor:
    """float32 bicubic resize (Keys' kernel a = -0.5 with half-pixel centers, else TF1's a = -0.75)."""
    return _resize_op("ResizeBicubic", images, size, align_corners, half_pixel_centers, name)


def resize_area(images, size, align_corners=False, name=None) -> Tensor:
    """float32 area-weighted resize; TF registers no gradient for it."""
    return _resize_op("ResizeArea", images, size, align_corners, None, name)


def _resize_common(images, size, preserve_aspect_ratio: bool, name, skip_if_same: bool, resize_fn) -> Tensor:
    with name_scope(name, "resize", [images, size]):
        images = convert_to_tensor(images, name="images")
        ndims = images.shape.ndims
        if ndims is None:
            raise ValueError("'images' contains no shape.")
        if ndims not in (3, 4):
            raise ValueError("'images' must have either 3 or 4 dimensions.")
        is_batch = ndims == 4
        if not is_batch:
            images = expand_dims(images, 0)
        _, height, width, _ = images.shape.dims
        try:
            size = as_int_tensor(size, "size", dtypes.int32)
        except (TypeError, ValueError):
            raise ValueError("'size' must be a 1-D int32 Tensor") from None
        if size.shape.ndims != 1 or size.shape.dims[0] not in (None, 2):
            raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
        known = size._static_value
        if preserve_aspect_ratio:
            if known is None or None in (height, width):
                raise errors.unimplemented("resize with preserve_aspect_ratio needs the sizes at graph "
                                           "construction")
            factor = min(_F32(known[0]) / _F32(height), _F32(known[1]) / _F32(width))
            known = np.asarray([np.rint(factor * _F32(height)), np.rint(factor * _F32(width))], np.int32)
            size = convert_to_tensor(known, dtypes.int32, name="size")
        if skip_if_same and known is not None and [height, width] == [int(v) for v in known]:
            return images if is_batch else squeeze(images, axis=[0])
        resized = resize_fn(images, size)
        return resized if is_batch else squeeze(resized, axis=[0])


def _method_name(method) -> str:
    name = _V1_NAMES.get(method, method) if isinstance(method, int) else method
    if name not in _OP_TYPES:
        raise ValueError(f"Resize method is not implemented: {method}")
    return name


def resize_images(images, size, method=ResizeMethodV1.BILINEAR, align_corners=False, preserve_aspect_ratio=False,
                  name=None) -> Tensor:
    """TF1's tf.image.resize_images / tf.image.resize: legacy pixel mapping (no half-pixel centers); float32
    out except for nearest neighbor, and the images themselves when the size does not change."""
    kind = _method_name(method)

    def resize_fn(images_t, new_size):
        if kind == "area":
            return resize_area(images_t, new_size, align_corners=align_corners)
        return _resize_op(_OP_TYPES[kind], images_t, new_size, align_corners, False, None)
    return _resize_common(images, size, preserve_aspect_ratio, name, True, resize_fn)


resize = resize_images


def resize_images_v2(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False, antialias=False,
                     name=None) -> Tensor:
    """TF2's tf.image.resize: half-pixel centers for bilinear, nearest and bicubic, always a new op; antialias
    and the lanczos, gaussian and mitchellcubic methods are ScaleAndTranslate (image_scale_translate.py)."""
    kind = method if method in _SCALE_AND_TRANSLATE else _method_name(method)
    if antialias and kind in ("bilinear", "bicubic"):
        kind = {"bilinear": "triangle", "bicubic": "keyscubic"}[kind]

    def resize_fn(images_t, new_size):
        if kind in _SCALE_AND_TRANSLATE or kind in ("triangle", "keyscubic"):
            from xlite.frontend.image_scale_translate import scale_and_translate  # it builds on this module
            known, dims = new_size._static_value, images_t.shape.dims[1:3]
            if known is None or None in dims:
                raise errors.unimplemented(f"tf.image.resize with method '{kind}' needs the sizes at graph "
                                           f"construction")
            scale = np.asarray(known, _F32) / np.asarray(dims, _F32)
            return scale_and_translate(images_t, new_size, scale, np.zeros(2, _F32), kernel_type=kind,
                                       antialias=antialias)
        if kind == "area":
            return resize_area(images_t, new_size)
        return _resize_op(_OP_TYPES[kind], images_t, new_size, False, True, None)
    return _resize_common(images, size, preserve_aspect_ratio, name, False, resize_fn)


_SCALE_AND_TRANSLATE = ("lanczos3", "lanczos5", "gaussian", "mitchellcubic")


def _resize_with_pad(image, target_height, target_width, resize_fn) -> Tensor:
    """TF's _resize_image_with_pad_common: scale to fit (float32 ratios, floored sizes), then centre with
    zeros by pad_to_bounding_box."""
    with name_scope(None, "resize_image_with_pad", [image]):
        image = convert_to_tensor(image, name="image")
        if image.shape.ndims not in (3, 4):
            raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")
        is_batch = image.shape.ndims == 4
        batch = image if is_batch else expand_dims(image, 0)
        th, tw = _static_int(target_height, "target_height"), _static_int(target_width, "target_width")
        if tw <= 0:
            raise ValueError("target_width must be > 0.")
        if th <= 0:
            raise ValueError("target_height must be > 0.")
        _, height, width, _ = batch.shape.dims
        if height is None or width is None:
            raise errors.unimplemented("resize_with_pad needs the image's height and width at graph construction")
        fh, fw, fth, ftw = _F32(height), _F32(width), _F32(th), _F32(tw)
        ratio = max(fw / ftw, fh / fth)
        rh, rw = fh / ratio, fw / ratio
        resized = resize_fn(batch, [int(np.floor(rh)), int(np.floor(rw))])
        ph = max(0, int(np.floor((fth - rh) / _F32(2))))
        pw = max(0, int(np.floor((ftw - rw) / _F32(2))))
        padded = pad_to_bounding_box(resized, ph, pw, th, tw)
        return padded if is_batch else squeeze(padded, axis=[0])


def resize_image_with_pad(image, target_height, target_width, method=ResizeMethodV1.BILINEAR,
                          align_corners=False) -> Tensor:
    """TF1's tf.image.resize_image_with_pad: resize_images to fit, keeping the aspect ratio, then zero-pad."""
    return _resize_with_pad(image, target_height, target_width,
                            lambda im, size: resize_images(im, size, method, align_corners=align_corners))


def resize_with_pad(image, target_height, target_width, method=ResizeMethod.BILINEAR, antialias=False) -> Tensor:
    """TF2's tf.image.resize_with_pad: resize_images_v2 to fit, then zero-pad."""
    return _resize_with_pad(image, target_height, target_width,
                            lambda im, size: resize_images_v2(im, size, method, antialias=antialias))
