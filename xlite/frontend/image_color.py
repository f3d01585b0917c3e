"""tf.image colour ops: RGBToHSV, HSVToRGB, AdjustContrastv2, AdjustSaturation and AdjustHue.

Each is TF's op type, lowered to elementwise IR that follows its TF CPU kernel step by step (the same
branches as selects, the same float constants), so results agree with TF's to the last bit or so. TF
registers a gradient only for RGBToHSV (image_color_grad.py); HSVToRGB is NotDifferentiable and the three
adjustments have none (tf.gradients raises LookupError), as here.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend.array_helpers import array_lowering, slice_dim
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend import image_color_grad as _image_color_grad  # noqa: F401  (RGBToHSV's gradient)
from xlite.frontend.gradients import no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend.image_ops import _as_float, convert_image_dtype
from xlite.frontend.op_registry import make_op
from xlite.frontend.scopes import name_scope
from xlite.ir import dtypes
from xlite.ir.module import Instruction

__all__ = ["adjust_contrast", "adjust_hue", "adjust_saturation", "hsv_to_rgb", "rgb_to_hsv"]


class _Elementwise:
    """Elementwise IR on one shape, scalars broadcast: keeps the kernels' formulas readable."""

    def __init__(self, b, like):
        self.b, self.dims, self.dtype = b, like.shape.dims, like.dtype

    def c(self, value, dtype=None):
        return self.b.broadcast_in_dim(self.b.scalar(value, dtype or self.dtype), self.dims, ())

    def _v(self, x):
        return x if isinstance(x, Instruction) else self.c(x)

    def __call__(self, opcode: str, *xs):
        return self.b.emit(opcode, tuple(self._v(x) for x in xs))

    def cmp(self, x, y, direction: str):
        return self.b.compare(self._v(x), self._v(y), direction)

    def where(self, pred, x, y):
        return self("select", pred, x, y)

    def pick(self, category, values: list):
        """values[category] for an integer-valued category (0 where it is out of range, C's default)."""
        out = self.c(0)
        for k, v in enumerate(values):
            out = self.where(self.cmp(category, self.c(k, category.dtype), "EQ"), v, out)
        return out


def _channels(ctx, op, x):
    """r, g, b as [..., 1] slices, or None when the shape is not known yet."""
    dims = x.shape.dims
    if x.shape.rank < 1 or (dims[-1] is not None and dims[-1] != 3):
        raise ValueError(f"input must have 3 channels but instead has {dims[-1] if dims else 0} channels.")
    if None in dims:
        return None
    return [slice_dim(ctx.b, x, len(dims) - 1, i, i + 1) for i in range(3)]


def _join(b, parts):
    return b.emit("concatenate", tuple(parts), dimension=parts[0].shape.rank - 1)


def _channel_lowering(op_type: str):
    """Registers fn(e, c0, c1, c2) -> three channels as op_type's lowering of its one 3-channel input."""
    def register(fn):
        @array_lowering(op_type)
        def lower(ctx, op, x):
            channels = _channels(ctx, op, x)
            if channels is None:
                return ctx.unknown(x.shape)
            return _join(ctx.b, fn(_Elementwise(ctx.b, channels[0]), *channels))
        return fn
    return register


@_channel_lowering("RGBToHSV")
def _lower_rgb_to_hsv(e, r, g, b_):
    """TF's colorspace_op.h: V = max, S = range / V, H from whichever channel is the max."""
    v = e("max", e("max", r, g), b_)
    rng = e("sub", v, e("min", e("min", r, g), b_))
    s = e.where(e.cmp(v, 0, "GT"), e("div", rng, v), 0)
    norm = e("mul", e("div", 1, rng), np.asarray(1, e.dtype.np) / np.asarray(6, e.dtype.np))
    two, four = (np.asarray(k, e.dtype.np) / np.asarray(6, e.dtype.np) for k in (2, 4))
    h = e.where(e.cmp(r, v, "EQ"), e("mul", norm, e("sub", g, b_)),
                e.where(e.cmp(g, v, "EQ"), e("add", e("mul", norm, e("sub", b_, r)), two),
                        e("add", e("mul", norm, e("sub", r, g)), four)))
    h = e.where(e.cmp(rng, 0, "GT"), h, 0)
    h = e.where(e.cmp(h, 0, "LT"), e("add", h, 1), h)
    return [h, s, v]


@_channel_lowering("HSVToRGB")
def _lower_hsv_to_rgb(e, h, s, v):
    """TF's colorspace_op.h: each channel a clipped piecewise-linear function of 6H, scaled by S and V."""
    dh = e("mul", h, 6)

    def clipped(value):
        return e("min", e("max", value, 0), 1)
    dr = clipped(e("sub", e("abs", e("sub", dh, 3)), 1))
    dg = clipped(e("add", e("neg", e("abs", e("sub", dh, 2))), 2))
    db = clipped(e("add", e("neg", e("abs", e("sub", dh, 4))), 2))
    one_s = e("add", e("neg", s), 1)
    return [e("mul", e("add", one_s, e("mul", s, d)), v) for d in (dr, dg, db)]


def _hsv_of(e, r, g, b_):
    """adjust_saturation_op.cc's rgb_to_hsv (its 2.0 / 6.0 is a double, so that add rounds from double)."""
    v = e("max", r, e("max", g, b_))
    rng = e("sub", v, e("min", r, e("min", g, b_)))
    s = e.where(e.cmp(v, 0, "GT"), e("div", rng, v), 0)
    norm = e("div", 1, e("mul", 6, rng))

    def plus_double(term, k):
        wide = e.b.convert(term, dtypes.float64)
        total = e.b.emit("add", (wide, e.b.broadcast_in_dim(e.b.scalar(k / 6.0, dtypes.float64), e.dims, ())))
        return e.b.convert(total, dtypes.float32)
    h = e.where(e.cmp(r, v, "EQ"), e("mul", norm, e("sub", g, b_)),
                e.where(e.cmp(g, v, "EQ"), plus_double(e("mul", norm, e("sub", b_, r)), 2),
                        plus_double(e("mul", norm, e("sub", r, g)), 4)))
    h = e.where(e.cmp(rng, 0, "LE"), 0, h)
    h = e.where(e.cmp(h, 0, "LT"), e("add", h, 1), h)
    return h, s, v


def _rgb_of(e, h, s, v):
    """adjust_saturation_op.cc's hsv_to_rgb: chroma, the sextant int(6h), and its second colour."""
    c = e("mul", s, v)
    m = e("sub", v, c)
    dh = e("mul", h, 6)
    category = e.b.convert(dh, dtypes.int32)
    half = e.b.convert(e.b.emit("div", (category, e.c(2, dtypes.int32))), dtypes.float32)
    fmodu = e("sub", dh, e("mul", half, 2))
    x = e("mul", c, e("sub", 1, e("abs", e("sub", fmodu, 1))))
    zero = e.c(0)
    rr = e.pick(category, [c, x, zero, zero, x, c])
    gg = e.pick(category, [x, c, c, x, zero, zero])
    bb = e.pick(category, [zero, zero, x, c, c, x])
    return [e("add", t, m) for t in (rr, gg, bb)]


def _float_kernel(ctx, x, body):
    """Runs a float32 kernel body on the channels of x (half is widened and narrowed back, as TF's GPU does)."""
    b = ctx.b
    wide = b.convert(x, dtypes.float32)
    rgb = [slice_dim(b, wide, wide.shape.rank - 1, i, i + 1) for i in range(3)]
    out = _join(b, body(_Elementwise(b, rgb[0]), *rgb))
    return b.convert(out, x.dtype)


def _scalar_operand(ctx, inst, what: str):
    if inst.shape.rank != 0:
        raise ValueError(f"{what} must be scalar: {list(inst.shape.dims)}")
    return ctx.b.convert(inst, dtypes.float32)


def _check_image(ctx, op, x):
    if x.shape.rank < 3:
        raise ValueError(f"input must be at least 3-D, got shape {list(x.shape.dims)}")
    return _channels(ctx, op, x) is not None


def _adjust_lowering(op_type: str, operand: str):
    """Registers fn(e, r, g, b, value) -> three channels as op_type's lowering: a float32 kernel on an
    image's channels and a scalar operand (called `operand` in errors)."""
    def register(fn):
        @array_lowering(op_type)
        def lower(ctx, op, x, value):
            if not _check_image(ctx, op, x):
                return ctx.unknown(x.shape)
            value = _scalar_operand(ctx, value, operand)
            return _float_kernel(ctx, x, lambda e, r, g, b_: fn(e, r, g, b_, value))
        return fn
    return register


@_adjust_lowering("AdjustSaturation", "scale")
def _lower_adjust_saturation(e, r, g, b_, scale):
    h, s, v = _hsv_of(e, r, g, b_)
    s = e("min", 1, e("max", 0, e("mul", s, e.b.broadcast_in_dim(scale, e.dims, ()))))
    return _rgb_of(e, h, s, v)


@_adjust_lowering("AdjustHue", "delta")
def _lower_adjust_hue(e, r, g, b_, delta):
    """adjust_hue_op.cc: hue as a sextant plus a ratio between the min and max channels, turned by 6 delta."""
    def lt(p, q):
        return e.cmp(p, q, "LT")
    sel = e.where
    # (max, mid, min, category, category is odd) for each ordering, as the kernel's branches.
    orders = {"b<r<g": (g, r, b_, 1, 1), "r<g<b": (b_, g, r, 3, 1), "r<b<g": (g, b_, r, 2, 0),
              "b<g<r": (r, g, b_, 0, 0), "g<r<b": (b_, r, g, 4, 0), "g<b<r": (r, b_, g, 5, 1)}
    r_lt_g, b_lt_r, g_lt_b, b_lt_g, r_lt_b = lt(r, g), lt(b_, r), lt(g, b_), lt(b_, g), lt(r, b_)

    def choose(k):
        def item(name):
            value = orders[name][k]
            return value if k < 3 else e.c(value)
        first = sel(b_lt_r, item("b<r<g"), sel(g_lt_b, item("r<g<b"), item("r<b<g")))
        second = sel(b_lt_g, item("b<g<r"), sel(r_lt_b, item("g<r<b"), item("g<b<r")))
        return sel(r_lt_g, first, second)
    vmax, vmid, vmin, category, odd_category = (choose(k) for k in range(5))
    ratio = e("div", e("sub", vmid, vmin), e("sub", vmax, vmin))
    h = e("add", category, sel(e.cmp(odd_category, 1, "EQ"), e("sub", 1, ratio), ratio))
    h = sel(e.cmp(vmax, vmin, "EQ"), 0, h)
    h = e("add", h, e("mul", e.b.broadcast_in_dim(delta, e.dims, ()), 6))
    for _ in range(2):
        h = sel(lt(h, 0), e("add", h, 6), h)
    for _ in range(2):
        h = sel(e.cmp(h, 6, "GE"), e("sub", h, 6), h)
    sextant = e.b.convert(h, dtypes.int32)
    frac = e("sub", h, e.b.convert(sextant, dtypes.float32))
    odd = e.cmp(e.b.emit("rem", (sextant, e.c(2, dtypes.int32))), e.c(1, dtypes.int32), "EQ")
    frac = sel(odd, e("sub", 1, frac), frac)
    mid = e("add", vmin, e("mul", frac, e("sub", vmax, vmin)))
    return [e.pick(sextant, [vmax, mid, vmin, vmin, mid, vmax]) if i == 0 else
            e.pick(sextant, [mid, vmax, vmax, mid, vmin, vmin]) if i == 1 else
            e.pick(sextant, [vmin, vmin, mid, vmax, vmax, mid]) for i in range(3)]


@array_lowering("AdjustContrastv2")
def _lower_adjust_contrast(ctx, op, x, factor):
    """adjust_contrast_op.h: mean over height and width (a float sum / count), then mean + (x - mean) * f."""
    if x.shape.rank < 3:
        raise ValueError(f"input must be at least 3-D, got shape {list(x.shape.dims)}")
    if None in x.shape.dims:
        return ctx.unknown(x.shape)
    b = ctx.b
    factor = _scalar_operand(ctx, factor, "contrast_factor")
    rank = x.shape.rank
    wide = b.convert(x, dtypes.float32)
    total = b.reduce(wide, "sum", (rank - 3, rank - 2))
    count = x.shape.dims[rank - 3] * x.shape.dims[rank - 2]
    mean = b.emit("div", (total, b.broadcast_in_dim(b.scalar(float(count), dtypes.float32), total.shape.dims, ())))
    keep = tuple(d for d in range(rank) if d not in (rank - 3, rank - 2))
    mean = b.convert(b.broadcast_in_dim(mean, x.shape.dims, keep), x.dtype)
    scaled = b.emit("mul", (b.convert(b.emit("sub", (x, mean)), dtypes.float32),
                            b.broadcast_in_dim(factor, x.shape.dims, ())))
    return b.emit("add", (mean, b.convert(scaled, x.dtype)))


no_gradient("HSVToRGB")




# API -------------------------------------------------------------------------------------------------
def _color_op(op_type: str, images, name, *extra) -> Tensor:
    return make_op(op_type, [images, *extra], {"T": images.dtype}, name=name or op_type).outputs[0]


def _colorspace_op(op_type: str, images, name) -> Tensor:
    images = convert_to_tensor(images, name="images")
    if not images.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'images' has DataType {images.dtype.name} not in list of "
                        f"allowed values: half, bfloat16, float32, float64")
    return _color_op(op_type, images, name)


def rgb_to_hsv(images, name=None) -> Tensor:
    """RGB in [0, 1] to hue, saturation, value in [0, 1] along the last axis (float types only)."""
    return _colorspace_op("RGBToHSV", images, name)


def hsv_to_rgb(images, name=None) -> Tensor:
    return _colorspace_op("HSVToRGB", images, name)


def _adjusted(op_type: str, scope: str, image, value, name, saturate: bool) -> Tensor:
    with name_scope(name, scope, [image]):
        image = convert_to_tensor(image, name="image")
        flt = _as_float(image)
        value = convert_to_tensor(value, dtypes.float32)
        out = _color_op(op_type, flt, None, value)
        return convert_image_dtype(out, image.dtype, saturate=saturate)


def adjust_contrast(images, contrast_factor) -> Tensor:
    """(x - mean) * contrast_factor + mean per image and channel, the mean over height and width."""
    return _adjusted("AdjustContrastv2", "adjust_contrast", images, contrast_factor, None, True)


def adjust_saturation(image, saturation_factor, name=None) -> Tensor:
    """Saturation times saturation_factor, clipped to [0, 1], in HSV."""
    return _adjusted("AdjustSaturation", "adjust_saturation", image, saturation_factor, name, False)


def adjust_hue(image, delta, name=None) -> Tensor:
    """Hue turned by delta (a fraction of the colour circle, in [-1, 1])."""
    if isinstance(delta, (int, float)) and not -1 <= delta <= 1:
        raise ValueError("delta must be in the interval [-1, 1]")
    return _adjusted("AdjustHue", "adjust_hue", image, delta, name, False)
