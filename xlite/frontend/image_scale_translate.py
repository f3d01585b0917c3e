"""ScaleAndTranslate: tf.image.resize with antialias=True and the lanczos, gaussian and mitchellcubic methods.

Like the other resizes (image_resize.py), a separable filter whose taps the lowering computes from the
static sizes: TF's ComputeSpans (a kernel of radius r, widened by 1/scale when antialiasing a downscale,
its weights normalized per output) along width, then height, as TF's GatherSpans does. The gradient
(ScaleAndTranslateGrad) scatter-adds the same taps.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend.array_helpers import array_lowering, as_int_tensor
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule, no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend.image_resize import _filter, _filter_transposed, _out_size
from xlite.frontend.op_registry import make_op
from xlite.ir import dtypes
from xlite.ir.shape import Shape

_F32 = np.float32
_PI = _F32(3.14159265359)


def _lanczos(radius: float):
    r = _F32(radius)

    def k(x):
        x = abs(x)
        if x > r:
            return _F32(0)
        if x <= _F32(1e-3):
            return _F32(1)
        return r * np.sin(_PI * x) * np.sin(_PI * x / r) / (_PI * _PI * x * x)
    return k, r


def _gaussian(x):
    x, radius = abs(x), _F32(1.5)
    sigma = radius / _F32(3)
    return _F32(0) if x >= radius else np.exp(-x * x / (_F32(2) * sigma * sigma))


def _keys_cubic(x):
    x = abs(x)
    if x >= 2:
        return _F32(0)
    if x >= 1:
        return ((_F32(-0.5) * x + _F32(2.5)) * x - _F32(4)) * x + _F32(2)
    return ((_F32(1.5) * x - _F32(2.5)) * x) * x + _F32(1)


def _mitchell_cubic(x):
    x = abs(x)
    if x >= 2:
        return _F32(0)
    if x >= 1:
        return (((_F32(-7.0 / 18.0) * x + _F32(2)) * x - _F32(10.0 / 3.0)) * x + _F32(16.0 / 9.0))
    return (((_F32(7.0 / 6.0) * x - _F32(2)) * x) * x + _F32(8.0 / 9.0))


def _box(x):
    x = abs(x)
    return _F32(1) if x < 0.5 else _F32(0.5) if x == 0.5 else _F32(0)


_KERNELS = {
    "lanczos1": _lanczos(1), "lanczos3": _lanczos(3), "lanczos5": _lanczos(5),
    "gaussian": (_gaussian, _F32(1.5)), "box": (_box, _F32(0.5)),
    "triangle": (lambda x: _F32(1) - abs(x) if abs(x) < 1 else _F32(0), _F32(1)),
    "keyscubic": (_keys_cubic, _F32(2)), "mitchellcubic": (_mitchell_cubic, _F32(2)),
}


def scale_translate_taps(in_size: int, out_size: int, scale, translate, kernel_type: str, antialias: bool):
    """(indices, weights), each [out, span]: TF's ComputeSpansCore, in float32."""
    kernel, radius = _KERNELS[kernel_type]
    scale, translate = _F32(scale), _F32(translate)
    inv_scale = _F32(1.0 / float(scale))
    inv_translate = -inv_scale * translate
    kernel_scale = max(inv_scale, _F32(1)) if antialias else _F32(1)
    span = min(2 * int(np.ceil(radius * kernel_scale)) + 1, in_size)
    one_over = _F32(1) / kernel_scale
    index = np.zeros((out_size, span), np.int64)
    weights = np.zeros((out_size, span), _F32)
    for x in range(out_size):
        sample = (_F32(x) + _F32(0.5)) * inv_scale + inv_translate
        if sample < 0 or sample > in_size:
            continue
        start = int(np.ceil(sample - radius * kernel_scale - _F32(0.5)))
        end = int(np.floor(sample + radius * kernel_scale - _F32(0.5)))
        start = min(max(start, 0), in_size - 1)
        end = min(max(end, 0), in_size - 1) + 1
        found = [kernel(abs((_F32(s) + _F32(0.5) - sample) * one_over)) for s in range(start, end)]
        total = _F32(0)
        for w in found:
            total = _F32(total + w)
        if abs(total) >= _F32(1000) * np.finfo(_F32).tiny:
            found = [_F32(w * (_F32(1) / total)) for w in found]
        else:
            found = [_F32(0)] * len(found)
        index[x, :len(found)] = np.arange(start, end)
        weights[x, :len(found)] = found
    return index, weights


def _taps(ctx, op, in_hw, out_hw, scale_inst, translate_inst):
    scale = ctx.constant_value(scale_inst)
    translate = ctx.constant_value(translate_inst)
    if scale is None or translate is None:
        if ctx.static:
            return None
        raise ValueError("scale and translation must be compile-time constants")
    kernel, antialias = op.attrs["kernel_type"], bool(op.attrs["antialias"])
    if kernel not in _KERNELS:
        raise ValueError(f"Unrecognized kernel type: {kernel}")
    scale, translate = np.reshape(scale, -1), np.reshape(translate, -1)
    return [scale_translate_taps(i, o, s, t, kernel, antialias)
            for i, o, s, t in zip(in_hw, out_hw, scale, translate)]


@array_lowering("ScaleAndTranslate")
def _lower_scale_and_translate(ctx, op, x, size_inst, scale_inst, translate_inst):
    size = _out_size(ctx, op, size_inst)
    n, h, w, c = x.shape.dims
    if size is None or None in x.shape.dims:
        return ctx.unknown(Shape(dtypes.float32, (n, *(size or (None, None)), c)))
    taps = _taps(ctx, op, (h, w), size, scale_inst, translate_inst)
    if taps is None:
        return ctx.unknown(Shape(dtypes.float32, (n, *size, c)))
    b = ctx.b
    x = b.convert(x, dtypes.float32)
    (yi, yw), (xi, xw) = taps
    return _filter(b, _filter(b, x, 2, xi, xw), 1, yi, yw)


@array_lowering("ScaleAndTranslateGrad")
def _lower_scale_and_translate_grad(ctx, op, g, image, scale_inst, translate_inst):
    n, h, w, c = image.shape.dims
    if None in (h, w) or None in g.shape.dims:
        return ctx.unknown(Shape(dtypes.float32, (n, h, w, c)))
    _, oh, ow, _ = g.shape.dims
    taps = _taps(ctx, op, (h, w), (oh, ow), scale_inst, translate_inst)
    if taps is None:
        return ctx.unknown(Shape(dtypes.float32, (n, h, w, c)))
    (yi, yw), (xi, xw) = taps
    b = ctx.b
    return _filter_transposed(b, _filter_transposed(b, g, 2, xi, xw, w), 1, yi, yw, h)


@grad_rule("ScaleAndTranslate")
def _scale_and_translate_grad(op, g):
    image, _, scale, translate = op.inputs
    attrs = {"T": dtypes.float32, "kernel_type": op.attrs["kernel_type"], "antialias": op.attrs["antialias"]}
    grad = make_op("ScaleAndTranslateGrad", [g, image, scale, translate], attrs,
                   name="ScaleAndTranslateGrad").outputs[0]
    return [grad, None, None, None]


no_gradient("ScaleAndTranslateGrad")


def scale_and_translate(images, size, scale, translation, kernel_type="lanczos3", antialias=True,
                        name=None) -> Tensor:
    """TF's raw ScaleAndTranslate: float32 [batch, size..., channels]."""
    images = convert_to_tensor(images, name="images")
    size = as_int_tensor(size, "size", dtypes.int32)
    scale = convert_to_tensor(scale, dtypes.float32, name="scale")
    translation = convert_to_tensor(translation, dtypes.float32, name="translation")
    return make_op("ScaleAndTranslate", [images, size, scale, translation],
                   {"T": images.dtype, "kernel_type": kernel_type, "antialias": bool(antialias)},
                   name=name or "ScaleAndTranslate").outputs[0]
