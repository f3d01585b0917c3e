"""tf.nn.conv2d and its two backward ops, each one IR `convolution` (as XLA lowers them).

The input gradient convolves the stride-dilated output gradient with the spatially
reversed filter, its in/out features swapped; the filter gradient convolves the
input with the output gradient, which is dilated by the stride. Filters are HWIO.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend import array_ops
from xlite.frontend.array_helpers import partial_value
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor, get_default_graph
from xlite.frontend.nn_window import (data_format_axes, get_sequence, lhs_spec, normalize_padding,
                                      shape_tensor, transpose_padding, window_padding)
from xlite.frontend.op_registry import lowering, make_op
from xlite.ir import dtypes
from xlite.ir.shape import Shape


class _Geometry:
    """The spatial view of a conv op: per spatial dim its stride, dilation and padding mode."""

    def __init__(self, op, *operands):
        rank = operands[0].shape.rank
        if any(o.shape.rank != rank for o in operands):
            raise ValueError(f"{op.type}: operands of ranks {[o.shape.rank for o in operands]} should all be rank "
                             f"{rank}")
        a = op.attrs
        self.format = a["data_format"]
        _, _, self.spatial = data_format_axes(self.format)
        if len(self.spatial) + 2 != rank:
            raise ValueError(f"{op.type} with data_format {self.format} needs rank-{len(self.spatial) + 2} "
                             f"input, got rank {rank}")
        self.n = len(self.spatial)
        self.strides = tuple(a["strides"][i] for i in self.spatial)
        self.dilations = tuple(a["dilations"][i] for i in self.spatial)
        self.padding = a["padding"]
        self.explicit = tuple(a["explicit_paddings"][i] for i in self.spatial) if a["explicit_paddings"] else ()

    def forward_padding(self, sizes, kernel) -> tuple:
        effective = [None if k is None else (k - 1) * d + 1 for k, d in zip(kernel, self.dilations)]
        return window_padding(sizes, effective, self.strides, self.padding, self.explicit)

    def check_output(self, op, in_sizes, kernel, out) -> None:
        """A backprop's output gradient must have the forward conv's output size (the paddings assume it)."""
        pads = self.forward_padding(in_sizes, kernel)
        for size, k, s, d, (lo, hi), y in zip(in_sizes, kernel, self.strides, self.dilations, pads, out):
            effective = (k - 1) * d + 1
            computed = (size + lo + hi - effective) // s + 1 if size + lo + hi >= effective else 0
            if y != computed:
                raise ValueError(f"{op.type}: Size of out_backprop doesn't match computed: actual = {y}, "
                                 f"computed = {computed} (input {list(in_sizes)}, filter {list(kernel)}, "
                                 f"strides {list(self.strides)}, padding {self.padding})")

    def filter_grad_padding(self, in_sizes, out, kernel) -> tuple:
        """Padding of the input when the output gradient, dilated by the strides, is the window."""
        forward = self.forward_padding(in_sizes, kernel)
        return tuple((lo, (k - 1) * d + (y - 1) * s + 1 - size - lo) for size, y, k, s, d, (lo, _)
                     in zip(in_sizes, out, kernel, self.strides, self.dilations, forward))

    @property
    def filter_spec(self) -> tuple:
        """HWIO filter as (out, in, spatial...) dimension numbers."""
        return (self.n + 1, self.n) + tuple(range(self.n))

    @property
    def swapped_filter_spec(self) -> tuple:
        return (self.n, self.n + 1) + tuple(range(self.n))


@lowering("Conv2D")
def _lower_conv(ctx, op, x, w):
    geo = _Geometry(op, x, w)
    sizes = [x.shape.dims[a] for a in geo.spatial]
    pads = geo.forward_padding(sizes, w.shape.dims[:geo.n])
    spec = lhs_spec(geo.format)
    return ctx.b.emit("convolution", (x, w), lhs_spec=spec, rhs_spec=geo.filter_spec, out_spec=spec,
                      window_strides=geo.strides, padding=pads, lhs_dilation=(1,) * geo.n,
                      rhs_dilation=geo.dilations, feature_group_count=1)


@lowering("Conv2DBackpropInput")
def _lower_conv_backprop_input(ctx, op, sizes_inst, w, g):
    return backprop_input(ctx, op, sizes_inst, w, g, groups=1)


def backprop_input(ctx, op, sizes_inst, w, g, groups: int | None):
    """The input gradient of a (grouped) conv: g, dilated by the strides, convolved with the reversed filter
    read as (spatial..., out, in), its in features in `groups` groups (None: unknown at graph construction)."""
    geo = _Geometry(op, g, w)
    sizes = ctx.constant_value(sizes_inst)
    kernel = w.shape.dims[:geo.n]
    out = [g.shape.dims[a] for a in geo.spatial]
    if sizes is None or None in out or None in kernel or groups is None:
        dims = (None,) * g.shape.rank if sizes is None else tuple(int(s) for s in sizes)
        return ctx.unknown(Shape(g.dtype, dims))
    sizes = [int(s) for s in sizes]
    b = ctx.b
    in_sizes = [sizes[a] for a in geo.spatial]
    geo.check_output(op, in_sizes, kernel, out)
    forward = geo.forward_padding(in_sizes, kernel)
    pads = tuple(transpose_padding(x, y, k, s, d, lo)
                 for x, y, k, s, d, (lo, _) in zip(in_sizes, out, kernel, geo.strides, geo.dilations, forward))
    w_rev = b.emit("reverse", (w,), dimensions=tuple(range(geo.n)))
    spec = lhs_spec(geo.format)
    dx = b.emit("convolution", (g, w_rev), lhs_spec=spec, rhs_spec=geo.swapped_filter_spec, out_spec=spec,
                window_strides=(1,) * geo.n, padding=pads, lhs_dilation=geo.strides,
                rhs_dilation=geo.dilations, feature_group_count=groups)
    # g's batch may be unknown at graph construction; the run checks it
    if any(d is not None and d != s for d, s in zip(dx.shape.dims, sizes)):
        raise ValueError(f"{op.type}: input_sizes {sizes} do not fit the output gradient {g.shape} "
                         f"and filter {w.shape}")
    return dx


@lowering("Conv2DBackpropFilter")
def _lower_conv_backprop_filter(ctx, op, x, sizes_inst, g):
    geo = _Geometry(op, x, g)
    sizes = ctx.constant_value(sizes_inst)
    in_sizes = [x.shape.dims[a] for a in geo.spatial]
    out = [g.shape.dims[a] for a in geo.spatial]
    if sizes is None or None in in_sizes or None in out:
        dims = (None,) * x.shape.rank if sizes is None else tuple(int(s) for s in sizes)
        return ctx.unknown(Shape(g.dtype, dims))
    kernel = [int(k) for k in sizes[:geo.n]]
    geo.check_output(op, in_sizes, kernel, out)
    batch, feature, spatial = data_format_axes(geo.format)
    swapped = (feature, batch) + tuple(spatial)
    dw = ctx.b.emit("convolution", (x, g), lhs_spec=swapped, rhs_spec=swapped, out_spec=geo.swapped_filter_spec,
                    window_strides=geo.dilations, padding=geo.filter_grad_padding(in_sizes, out, kernel),
                    lhs_dilation=(1,) * geo.n, rhs_dilation=geo.strides, feature_group_count=1)
    if list(dw.shape.dims) != [int(s) for s in sizes]:
        raise ValueError(f"Conv2DBackpropFilter: filter_sizes {list(sizes)} do not fit input {x.shape} and "
                         f"output gradient {g.shape}")
    return dw


def _attrs(op) -> dict:
    return {k: op.attrs[k] for k in ("strides", "padding", "explicit_paddings", "dilations", "data_format")}


def _backprop_input(sizes: Tensor, w: Tensor, g: Tensor, attrs: dict, name: str) -> Tensor:
    """`dtype` names the result's type, which make_op cannot take from the int32 sizes."""
    return _make("Conv2DBackpropInput", [sizes, w, g], {**attrs, "dtype": w.dtype}, name)


def register_conv_grads(forward: str, input_grad: str, filter_grad: str) -> None:
    """A conv family's three gradient rules: the forward op and its two backprops are each other's gradients."""
    def backprop_input(sizes, w, g, attrs):
        return _make(input_grad, [sizes, w, g], {**attrs, "dtype": w.dtype}, input_grad)

    @grad_rule(forward)
    def _forward_grad(op, g):
        x, w = op.inputs
        attrs = _attrs(op)
        dx = backprop_input(shape_tensor(x), w, g, attrs)
        dw = _make(filter_grad, [x, shape_tensor(w), g], attrs, filter_grad)
        dx.set_shape(x.shape)
        dw.set_shape(w.shape)
        return [dx, dw]

    @grad_rule(input_grad)
    def _input_grad_grad(op, dd):
        _, w, g = op.inputs
        attrs = _attrs(op)
        dw = _make(filter_grad, [dd, shape_tensor(w), g], attrs, filter_grad)
        dw.set_shape(w.shape)
        return [None, dw, _make(forward, [dd, w], attrs, forward)]

    @grad_rule(filter_grad)
    def _filter_grad_grad(op, dw):
        x, _, g = op.inputs
        attrs = _attrs(op)
        dx = backprop_input(shape_tensor(x), dw, g, attrs)
        dx.set_shape(x.shape)
        return [dx, None, _make(forward, [x, dw], attrs, forward)]


register_conv_grads("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")


def _make(op_type: str, inputs, attrs: dict, name: str) -> Tensor:
    return make_op(op_type, inputs, attrs, name=name).outputs[0]


# the API -----------------------------------------------------------------------------------
def _conv_attrs(strides, padding, data_format, dilations, rank: int = 4, what: str = "conv2d") -> dict:
    data_format = data_format or "NHWC"
    batch, feature, _ = data_format_axes(data_format)
    strides = get_sequence(strides, rank - 2, feature, "strides")
    dilations = get_sequence(dilations, rank - 2, feature, "dilations")
    if strides[batch] != 1 or strides[feature] != 1:
        raise ValueError(f"{what}: Current implementation does not yet support strides in the batch and depth "
                         f"dimensions.")
    if dilations[batch] != 1 or dilations[feature] != 1:
        raise ValueError(f"{what}: Current implementation does not yet support dilations in the batch and depth "
                         f"dimensions.")
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations):
        raise ValueError(f"{what}: strides {strides} and dilations {dilations} must be positive")
    if padding is None:
        raise ValueError(f"{what} needs a padding ('SAME', 'VALID' or explicit pairs)")
    mode, explicit = normalize_padding(padding, rank, data_format)
    return {"strides": tuple(strides), "padding": mode, "explicit_paddings": explicit,
            "dilations": tuple(dilations), "data_format": data_format}


def _float_pair(a, b, what: str, names: tuple = ("input", "filter")) -> tuple[Tensor, Tensor]:
    a = convert_to_tensor(a, name=names[0])
    b = convert_to_tensor(b, dtype=a.dtype, name=names[1])
    if not a.dtype.is_floating:
        raise TypeError(f"{what} needs floating point inputs, got {a.dtype.name}")
    return a, b


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,  # noqa: A002
           data_format="NHWC", dilations=None, name=None, filters=None) -> Tensor:
    """NHWC input, HWIO filter; padding 'SAME', 'VALID' or [[0, 0], [top, bottom], [left, right], [0, 0]]."""
    x, w = _float_pair(input, filter if filter is not None else filters, "conv2d")
    attrs = _conv_attrs(strides, padding, data_format, dilations)
    return _make("Conv2D", [x, w], attrs, name or "Conv2D")


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None,  # noqa: A002
           data_format=None, name=None, input=None, dilations=None) -> Tensor:  # noqa: A002
    """TF's conv1d: NWC (or NCW) input, [width, in, out] filter, as expand_dims + Conv2D + squeeze like TF."""
    value = input if value is None else value
    if value is None or filters is None:
        raise ValueError("conv1d needs an input (value) and filters")
    if data_format in (None, "NWC", "NHWC"):
        fmt, expanded, channel = "NHWC", -3, 2
    elif data_format in ("NCW", "NCHW"):
        fmt, expanded, channel = "NCHW", -2, 1
    else:
        raise ValueError(f"conv1d: `data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}")
    if padding is None:
        raise ValueError("conv1d needs a padding ('SAME' or 'VALID')")
    with get_default_graph().name_scope(name or "conv1d") as scope:
        x, w = _float_pair(value, filters, "conv1d")
        for t, what in ((x, "input"), (w, "filters")):
            if t.shape.ndims not in (None, 3):
                raise ValueError(f"conv1d: {what} must be rank 3, got shape {t.shape}")
        strides = [1] + get_sequence(stride, 1, channel, "stride")
        rates = [1] + get_sequence(dilations, 1, channel, "dilations")
        y = conv2d(array_ops.expand_dims(x, expanded), array_ops.expand_dims(w, 0), strides, padding,
                   data_format=fmt, dilations=rates, name=scope)
        return array_ops.squeeze(y, [expanded])


def atrous_conv2d(value, filters, rate, padding, name=None) -> Tensor:
    """conv2d with the filter dilated by `rate`: one dilated IR convolution (TF goes through space_to_batch)."""
    rates = [int(r) for r in np.broadcast_to(rate, (2,))]
    if any(r < 1 for r in rates):
        raise ValueError(f"atrous_conv2d: all values of `dilation_rate` must be positive. Received: "
                         f"dilation_rate={rates}")
    return conv2d(value, filters, [1, 1, 1, 1], padding, dilations=[1, *rates, 1], name=name or "convolution")


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None, padding=None,  # noqa: A002
                          use_cudnn_on_gpu=True, data_format="NHWC", dilations=None, name=None,
                          filters=None) -> Tensor:
    w, g = _float_pair(filter if filter is not None else filters, out_backprop, "conv2d_backprop_input")
    sizes = convert_to_tensor(input_sizes, dtype=dtypes.int32, name="input_sizes")
    attrs = _conv_attrs(strides, padding, data_format, dilations, what="conv2d_backprop_input")
    return _backprop_input(sizes, w, g, attrs, name or "Conv2DBackpropInput")


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                           use_cudnn_on_gpu=True, data_format="NHWC", dilations=None, name=None) -> Tensor:
    x, g = _float_pair(input, out_backprop, "conv2d_backprop_filter")
    sizes = convert_to_tensor(filter_sizes, dtype=dtypes.int32, name="filter_sizes")
    attrs = _conv_attrs(strides, padding, data_format, dilations, what="conv2d_backprop_filter")
    return _make("Conv2DBackpropFilter", [x, sizes, g], attrs, name or "Conv2DBackpropFilter")


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None, padding="SAME",  # noqa: A002
                     data_format="NHWC", name=None, input=None, filters=None, dilations=None) -> Tensor:  # noqa: A002
    """The gradient of conv2d with respect to its input; the filter is [h, w, out_channels, in_channels]."""
    value = value if value is not None else input
    filter = filter if filter is not None else filters  # noqa: A001
    w, x = _float_pair(filter, value, "conv2d_transpose", ("filter", "input"))
    _, feature, _ = data_format_axes(data_format or "NHWC")
    x_dims = x.shape.dims or [None] * 4
    w_dims = w.shape.dims or [None] * 4
    if None not in (x_dims[feature], w_dims[3]) and x_dims[feature] != w_dims[3]:
        raise ValueError(f"conv2d_transpose: input channels does not match filter's input channels, "
                         f"{x_dims[feature]} != {w_dims[3]}")
    with x.graph.name_scope(name or "conv2d_transpose") as scope:
        sizes = convert_to_tensor(output_shape, dtype=dtypes.int32, name="input_sizes")
        if sizes.shape.ndims is not None and sizes.shape.dims != [4]:
            raise ValueError(f"conv2d_transpose: output_shape must have shape (4,), got {sizes.shape}")
        known = partial_value(sizes)
        if known is not None and None not in (known[feature], w_dims[2]) and known[feature] != w_dims[2]:
            raise ValueError(f"conv2d_transpose: output_shape does not match filter's output channels, "
                             f"{known[feature]} != {w_dims[2]}")
        attrs = _conv_attrs(strides, padding, data_format, dilations, what="conv2d_transpose")
        y = _backprop_input(sizes, w, x, attrs, scope)
        if known is not None and y.shape.dims == [None] * 4:   # sizes partly known (a tf.stack with tf.shape)
            y.set_shape([d if d is not None else k for d, k in zip(y.shape.dims, known)])
        return y
