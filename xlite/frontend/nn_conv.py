"""tf.nn.conv2d and its two backward ops, each one IR `convolution` (as XLA lowers them).

The input gradient convolves the stride-dilated output gradient with the spatially
reversed filter, its in/out features swapped; the filter gradient convolves the
input with the output gradient, which is dilated by the stride. Filters are HWIO.
"""
from __future__ import annotations

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
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
    geo = _Geometry(op, g, w)
    sizes = ctx.constant_value(sizes_inst)
    kernel = w.shape.dims[:geo.n]
    out = [g.shape.dims[a] for a in geo.spatial]
    if sizes is None or None in out or None in kernel:
        dims = (None,) * g.shape.rank if sizes is None else tuple(int(s) for s in sizes)
        return ctx.unknown(Shape(g.dtype, dims))
    sizes = [int(s) for s in sizes]
    b = ctx.b
    in_sizes = [sizes[a] for a in geo.spatial]
    forward = geo.forward_padding(in_sizes, kernel)
    pads = tuple(transpose_padding(x, y, k, s, d, lo)
                 for x, y, k, s, d, (lo, _) in zip(in_sizes, out, kernel, geo.strides, geo.dilations, forward))
    w_rev = b.emit("reverse", (w,), dimensions=tuple(range(geo.n)))
    spec = lhs_spec(geo.format)
    dx = b.emit("convolution", (g, w_rev), lhs_spec=spec, rhs_spec=geo.swapped_filter_spec, out_spec=spec,
                window_strides=(1,) * geo.n, padding=pads, lhs_dilation=geo.strides,
                rhs_dilation=geo.dilations, feature_group_count=1)
    if list(dx.shape.dims) != sizes:
        raise ValueError(f"Conv2DBackpropInput: input_sizes {sizes} do not fit the output gradient {g.shape} "
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
    forward = geo.forward_padding(in_sizes, kernel)
    pads = tuple((lo, (k - 1) * d + (y - 1) * s + 1 - size - lo)
                 for size, y, k, s, d, (lo, _) in zip(in_sizes, out, kernel, geo.strides, geo.dilations, forward))
    batch, feature, spatial = data_format_axes(geo.format)
    swapped = (feature, batch) + tuple(spatial)
    dw = ctx.b.emit("convolution", (x, g), lhs_spec=swapped, rhs_spec=swapped, out_spec=geo.swapped_filter_spec,
                    window_strides=geo.dilations, padding=pads, lhs_dilation=(1,) * geo.n,
                    rhs_dilation=geo.strides, feature_group_count=1)
    if list(dw.shape.dims) != [int(s) for s in sizes]:
        raise ValueError(f"Conv2DBackpropFilter: filter_sizes {list(sizes)} do not fit input {x.shape} and "
                         f"output gradient {g.shape}")
    return dw


def _attrs(op) -> dict:
    return {k: op.attrs[k] for k in ("strides", "padding", "explicit_paddings", "dilations", "data_format")}


def _backprop_input(sizes: Tensor, w: Tensor, g: Tensor, attrs: dict, name: str) -> Tensor:
    """`dtype` names the result's type, which make_op cannot take from the int32 sizes."""
    return _make("Conv2DBackpropInput", [sizes, w, g], {**attrs, "dtype": w.dtype}, name)


@grad_rule("Conv2D")
def _conv_grad(op, g):
    x, w = op.inputs
    attrs = _attrs(op)
    dx = _backprop_input(shape_tensor(x), w, g, attrs, "Conv2DBackpropInput")
    dw = _make("Conv2DBackpropFilter", [x, shape_tensor(w), g], attrs, "Conv2DBackpropFilter")
    dx.set_shape(x.shape)
    dw.set_shape(w.shape)
    return [dx, dw]


@grad_rule("Conv2DBackpropInput")
def _conv_backprop_input_grad(op, dd):
    _, w, g = op.inputs
    attrs = _attrs(op)
    dw = _make("Conv2DBackpropFilter", [dd, shape_tensor(w), g], attrs, "Conv2DBackpropFilter")
    dw.set_shape(w.shape)
    return [None, dw, _make("Conv2D", [dd, w], attrs, "Conv2D")]


@grad_rule("Conv2DBackpropFilter")
def _conv_backprop_filter_grad(op, dw):
    x, _, g = op.inputs
    attrs = _attrs(op)
    dx = _backprop_input(shape_tensor(x), dw, g, attrs, "Conv2DBackpropInput")
    dx.set_shape(x.shape)
    return [dx, None, _make("Conv2D", [x, dw], attrs, "Conv2D")]


def _make(op_type: str, inputs, attrs: dict, name: str) -> Tensor:
    return make_op(op_type, inputs, attrs, name=name).outputs[0]


# the API -----------------------------------------------------------------------------------
def _conv_attrs(strides, padding, data_format, dilations, rank: int = 4) -> dict:
    data_format = data_format or "NHWC"
    batch, feature, _ = data_format_axes(data_format)
    strides = get_sequence(strides, rank - 2, feature, "strides")
    dilations = get_sequence(dilations, rank - 2, feature, "dilations")
    if strides[batch] != 1 or strides[feature] != 1:
        raise ValueError("Current implementation does not yet support strides in the batch and depth dimensions.")
    if dilations[batch] != 1 or dilations[feature] != 1:
        raise ValueError("Current implementation does not yet support dilations in the batch and depth dimensions.")
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations):
        raise ValueError(f"strides {strides} and dilations {dilations} must be positive")
    if padding is None:
        raise ValueError("conv2d needs a padding ('SAME', 'VALID' or explicit pairs)")
    mode, explicit = normalize_padding(padding, rank, data_format)
    return {"strides": tuple(strides), "padding": mode, "explicit_paddings": explicit,
            "dilations": tuple(dilations), "data_format": data_format}


def _float_pair(a, b, what: str) -> tuple[Tensor, Tensor]:
    a = convert_to_tensor(a, name="input")
    b = convert_to_tensor(b, dtype=a.dtype, name="filter")
    if not a.dtype.is_floating:
        raise TypeError(f"{what} needs floating point inputs, got {a.dtype.name}")
    return a, b


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,  # noqa: A002
           data_format="NHWC", dilations=None, name=None, filters=None) -> Tensor:
    """NHWC input, HWIO filter; padding 'SAME', 'VALID' or [[0, 0], [top, bottom], [left, right], [0, 0]]."""
    x, w = _float_pair(input, filter if filter is not None else filters, "conv2d")
    attrs = _conv_attrs(strides, padding, data_format, dilations)
    return _make("Conv2D", [x, w], attrs, name or "Conv2D")


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None, padding=None,  # noqa: A002
                          use_cudnn_on_gpu=True, data_format="NHWC", dilations=None, name=None,
                          filters=None) -> Tensor:
    w, g = _float_pair(filter if filter is not None else filters, out_backprop, "conv2d_backprop_input")
    sizes = convert_to_tensor(input_sizes, dtype=dtypes.int32, name="input_sizes")
    attrs = _conv_attrs(strides, padding, data_format, dilations)
    return _backprop_input(sizes, w, g, attrs, name or "Conv2DBackpropInput")


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                           use_cudnn_on_gpu=True, data_format="NHWC", dilations=None, name=None) -> Tensor:
    x, g = _float_pair(input, out_backprop, "conv2d_backprop_filter")
    sizes = convert_to_tensor(filter_sizes, dtype=dtypes.int32, name="filter_sizes")
    attrs = _conv_attrs(strides, padding, data_format, dilations)
    return _make("Conv2DBackpropFilter", [x, sizes, g], attrs, name or "Conv2DBackpropFilter")


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None, padding="SAME",  # noqa: A002
                     data_format="NHWC", name=None, input=None, filters=None, dilations=None) -> Tensor:  # noqa: A002
    """The gradient of conv2d with respect to its input; the filter is [h, w, out_channels, in_channels]."""
    value = value if value is not None else input
    filter = filter if filter is not None else filters  # noqa: A001
    w, x = _float_pair(filter, value, "conv2d_transpose")
    _, feature, _ = data_format_axes(data_format or "NHWC")
    if x.shape.ndims is not None and w.shape.ndims is not None:
        if x.shape.dims[feature] is not None and w.shape.dims[3] is not None and x.shape.dims[feature] != w.shape.dims[3]:
            raise ValueError(f"input channels does not match filter's input channels, "
                             f"{x.shape.dims[feature]} != {w.shape.dims[3]}")
    with x.graph.name_scope(name or "conv2d_transpose") as scope:
        sizes = convert_to_tensor(output_shape, dtype=dtypes.int32, name="output_shape")
        attrs = _conv_attrs(strides, padding, data_format, dilations)
        return _backprop_input(sizes, w, x, attrs, scope)
