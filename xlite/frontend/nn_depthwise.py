"""tf.nn.depthwise_conv2d and separable_conv2d: a grouped IR `convolution`, one group per input channel.

The filter [h, w, C, M] is read as HWIO with one input feature and C*M output features,
whose order c*M + m is TF's. The input gradient is the grouped transposed convolution
(the reversed filter read as (h, w, out=C, in=M)). XLA computes the filter gradient with
batch_group_count, which the IR lacks; here the channels move beside the batch instead:
the input becomes [1, C*N, H, W], and group c contracts its N images with the output
gradient's M channels c*M..c*M+M-1 (read in place as rhs (out=C*M, in=N, spatial)).
"""
from __future__ import annotations

import numpy as np

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor, get_default_graph
from xlite.frontend.nn_conv import (_conv_attrs, _float_pair, _Geometry, _make, backprop_input, conv2d,
                                    register_conv_grads)
from xlite.frontend.nn_window import data_format_axes, lhs_spec
from xlite.frontend.op_registry import lowering
from xlite.ir import dtypes
from xlite.ir.shape import Shape

FORWARD, INPUT_GRAD, FILTER_GRAD = ("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
                                    "DepthwiseConv2dNativeBackpropFilter")


def _check_depth(op, channels, filter_channels) -> None:
    if None not in (channels, filter_channels) and channels != filter_channels:
        raise ValueError(f"{op.type}: input depth {channels} does not match the filter's in_channels "
                         f"{filter_channels}")


@lowering(FORWARD)
def _lower_depthwise(ctx, op, x, w):
    geo = _Geometry(op, x, w)
    batch, feature, spatial = data_format_axes(geo.format)
    kh, kw, c, m = w.shape.dims
    _check_depth(op, x.shape.dims[feature], c)
    if None in (kh, kw, c, m):
        dims = [None] * 4
        dims[batch] = x.shape.dims[batch]
        return ctx.unknown(Shape(x.dtype, tuple(dims)))
    pads = geo.forward_padding([x.shape.dims[a] for a in spatial], (kh, kw))
    spec = lhs_spec(geo.format)
    return ctx.b.emit("convolution", (x, ctx.b.reshape(w, (kh, kw, 1, c * m))), lhs_spec=spec,
                      rhs_spec=geo.filter_spec, out_spec=spec, window_strides=geo.strides, padding=pads,
                      lhs_dilation=(1, 1), rhs_dilation=geo.dilations, feature_group_count=c)


@lowering(INPUT_GRAD)
def _lower_depthwise_backprop_input(ctx, op, sizes_inst, w, g):
    _, feature, _ = data_format_axes(_Geometry(op, g, w).format)
    c, m = w.shape.dims[2:]
    if None not in (c, m, g.shape.dims[feature]) and g.shape.dims[feature] != c * m:
        raise ValueError(f"{op.type}: output gradient depth {g.shape.dims[feature]} is not the filter's "
                         f"in_channels x channel_multiplier {c} x {m}")
    return backprop_input(ctx, op, sizes_inst, w, g, groups=c)


@lowering(FILTER_GRAD)
def _lower_depthwise_backprop_filter(ctx, op, x, sizes_inst, g):
    geo = _Geometry(op, x, g)
    sizes = ctx.constant_value(sizes_inst)
    if sizes is None or None in x.shape.dims or None in g.shape.dims:
        dims = (None,) * 4 if sizes is None else tuple(int(s) for s in sizes)
        return ctx.unknown(Shape(g.dtype, dims))
    kh, kw, c, m = (int(s) for s in sizes)
    batch, feature, spatial = data_format_axes(geo.format)
    _check_depth(op, x.shape.dims[feature], c)
    if g.shape.dims[feature] != c * m:
        raise ValueError(f"{op.type}: output gradient depth {g.shape.dims[feature]} is not filter_sizes' "
                         f"in_channels x channel_multiplier {c} x {m}")
    in_sizes = [x.shape.dims[a] for a in spatial]
    out = [g.shape.dims[a] for a in spatial]
    geo.check_output(op, in_sizes, (kh, kw), out)
    b = ctx.b
    n = x.shape.dims[batch]
    images = b.reshape(b.transpose(x, (feature, batch) + tuple(spatial)), (1, c * n, *in_sizes))
    dw = b.emit("convolution", (images, g), lhs_spec=(0, 1, 2, 3), rhs_spec=(feature, batch) + tuple(spatial),
                out_spec=(2, 3, 0, 1), window_strides=geo.dilations,
                padding=geo.filter_grad_padding(in_sizes, out, (kh, kw)), lhs_dilation=(1, 1),
                rhs_dilation=geo.strides, feature_group_count=c)
    if list(dw.shape.dims[:2]) != [kh, kw]:
        raise ValueError(f"{op.type}: filter_sizes {[kh, kw, c, m]} do not fit input {x.shape} and output "
                         f"gradient {g.shape}")
    return b.reshape(dw, (kh, kw, c, m))


register_conv_grads(FORWARD, INPUT_GRAD, FILTER_GRAD)


# the API -----------------------------------------------------------------------------------
def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC",  # noqa: A002
                            dilations=(1, 1, 1, 1), name=None) -> Tensor:
    """The DepthwiseConv2dNative op: filter [h, w, in_channels, channel_multiplier], output depth in*mult."""
    x, w = _float_pair(input, filter, "depthwise_conv2d_native")
    attrs = _conv_attrs(strides, padding, data_format, dilations, what="depthwise_conv2d_native")
    return _make(FORWARD, [x, w], attrs, name or FORWARD)


def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop, strides, padding,  # noqa: A002
                                           data_format="NHWC", dilations=(1, 1, 1, 1), name=None) -> Tensor:
    w, g = _float_pair(filter, out_backprop, "depthwise_conv2d_native_backprop_input", ("filter", "out_backprop"))
    sizes = convert_to_tensor(input_sizes, dtype=dtypes.int32, name="input_sizes")
    attrs = _conv_attrs(strides, padding, data_format, dilations, what="depthwise_conv2d_native_backprop_input")
    return _make(INPUT_GRAD, [sizes, w, g], {**attrs, "dtype": w.dtype}, name or INPUT_GRAD)


def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                                            data_format="NHWC", dilations=(1, 1, 1, 1), name=None) -> Tensor:
    x, g = _float_pair(input, out_backprop, "depthwise_conv2d_native_backprop_filter", ("input", "out_backprop"))
    sizes = convert_to_tensor(filter_sizes, dtype=dtypes.int32, name="filter_sizes")
    attrs = _conv_attrs(strides, padding, data_format, dilations, what="depthwise_conv2d_native_backprop_filter")
    return _make(FILTER_GRAD, [x, sizes, g], attrs, name or FILTER_GRAD)


def _rate(rate, dilations, strides, data_format, what: str) -> list[int]:
    """TF's `rate` (or `dilations`) as the 4-element dilations; rate > 1 needs unit strides, as in TF1."""
    if rate is not None and dilations is not None:
        raise ValueError(f"{what}: Cannot specify both 'dilations' and 'rate'")
    rate = dilations if rate is None else rate
    rates = [int(r) for r in np.broadcast_to(1 if rate is None else rate, (2,))]
    if any(r < 1 for r in rates):
        raise ValueError(f"{what}: all values of `rate` must be positive. Received: rate={rates}")
    _, feature, spatial = data_format_axes(data_format or "NHWC")
    full = [1] * 4
    for axis, r in zip(spatial, rates):
        full[axis] = r
    if max(rates) > 1 and strides is not None and any(s != 1 for s in np.reshape(strides, -1)):
        raise ValueError(f"{what}: when rate is greater than 1, all strides must be 1. Received: rate={rates}, "
                         f"strides={list(np.reshape(strides, -1))}")
    return full


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None, data_format=None,  # noqa: A002
                     dilations=None) -> Tensor:
    """Each input channel convolved with its own channel_multiplier filters: output depth in_channels * mult."""
    rates = _rate(rate, dilations, strides, data_format, "depthwise_conv2d")
    with get_default_graph().name_scope(name or "depthwise") as scope:
        x, w = _float_pair(input, filter, "depthwise_conv2d", ("tensor_in", "filter_in"))
        attrs = _conv_attrs(strides, padding, data_format, rates, what="depthwise_conv2d")
        return _make(FORWARD, [x, w], attrs, scope)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, rate=None,  # noqa: A002
                     name=None, data_format=None, dilations=None) -> Tensor:
    """A depthwise conv then a 1x1 Conv2D mixing its in_channels * multiplier channels (pointwise, VALID)."""
    rates = _rate(rate, dilations, strides, data_format, "separable_conv2d")
    with get_default_graph().name_scope(name or "separable_conv2d") as scope:
        x = convert_to_tensor(input, name="tensor_in")
        if not x.dtype.is_floating:
            raise TypeError(f"separable_conv2d needs floating point inputs, got {x.dtype.name}")
        dw = convert_to_tensor(depthwise_filter, dtype=x.dtype, name="depthwise_filter")
        pw = convert_to_tensor(pointwise_filter, dtype=x.dtype, name="pointwise_filter")
        if pw.shape.ndims is not None and (pw.shape.ndims != 4 or any(d not in (None, 1) for d in pw.shape.dims[:2])):
            raise ValueError(f"separable_conv2d: pointwise_filter must be [1, 1, in_channels * channel_multiplier, "
                             f"out_channels], got shape {pw.shape}")
        attrs = _conv_attrs(strides, padding, data_format, rates, what="separable_conv2d")
        depthwise = _make(FORWARD, [x, dw], attrs, "depthwise")
        return conv2d(depthwise, pw, [1, 1, 1, 1], "VALID", data_format=data_format or "NHWC", name=scope)
