"""Keras convolutions (Conv1D, Conv2D, Conv2DTranspose) and ZeroPadding2D, UpSampling2D, as frontend nn ops."""
from __future__ import annotations

from xlite.frontend import array_ops
from xlite.frontend.conv_layers import Conv1DOps, Conv2DOps, Conv2DTransposeOps, ConvOps
from xlite.frontend.layer_base import _tuple
from xlite.frontend.pad_ops import pad
from xlite.keras import activations, initializers
from xlite.keras.engine.base_layer import Layer


def _padding(padding: str, allow_causal: bool = False) -> str:
    p = padding.lower()
    if p not in ("valid", "same") + (("causal",) if allow_causal else ()):
        raise ValueError(f"The `padding` argument must be a string, one of 'valid', 'same'. Received: {padding}")
    return p.upper()


class _Conv(ConvOps, Layer):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if groups != 1:
            from xlite import errors
            raise errors.unimplemented("tf.keras convolutions with groups > 1 are not supported by xlite yet")
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size")
        self.strides = _tuple(strides, self.rank, "strides")
        self.dilation_rate = _tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = _padding(padding, allow_causal=self.rank == 1)
        self.data_format = data_format or "channels_last"
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        if activity_regularizer is not None:
            from xlite import errors
            raise errors.unimplemented("tf.keras convolutions with an activity_regularizer are not supported by "
                                       "xlite yet")

    def build(self, input_shape) -> None:
        channels = self._input_channels(
            input_shape, f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                         f"min_ndim={self.rank + 2}, found ndim={input_shape.ndims}. Full shape received: "
                         f"{tuple(input_shape.as_list()) if input_shape.ndims else None}")
        self.kernel = self.add_weight("kernel", self._kernel_shape(channels), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", [self.filters], initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.built = True

    def get_config(self) -> dict:
        init = self.kernel_initializer
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding.lower(), "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": init if isinstance(init, str) else initializers.serialize(init)}


class Conv1D(Conv1DOps, _Conv):
    """1-D convolution; 'causal' padding pads (k - 1) * dilation on the left."""


class Conv2D(Conv2DOps, _Conv):
    """2-D convolution with a [kh, kw, in, filters] kernel."""


class Conv2DTranspose(Conv2DTransposeOps, Conv2D):
    """The gradient of Conv2D with respect to its input, with a [kh, kw, filters, in] kernel."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), **kwargs):
        if output_padding is not None:
            from xlite import errors
            raise errors.unimplemented("Conv2DTranspose(output_padding=...) is not supported by xlite yet")
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)


class ZeroPadding2D(Layer):
    """Pads rows and columns with zeros: an int, (rows, cols) or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        elif isinstance(padding[0], int):
            padding = ((padding[0], padding[0]), (padding[1], padding[1]))
        self.padding = tuple(tuple(int(v) for v in p) for p in padding)
        self.data_format = data_format or "channels_last"

    def call(self, inputs):
        spatial = [list(p) for p in self.padding]
        pads = [[0, 0], *spatial, [0, 0]] if self.data_format == "channels_last" else [[0, 0], [0, 0], *spatial]
        return pad(inputs, pads)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class UpSampling2D(Layer):
    """Repeats each row `size[0]` times and each column `size[1]` times (nearest-neighbour upsampling)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        if interpolation != "nearest":
            from xlite import errors
            raise errors.unimplemented(f"UpSampling2D(interpolation={interpolation!r}) is not supported by xlite yet")
        self.size = _tuple(size, 2, "size")
        self.data_format = data_format or "channels_last"
        self.interpolation = interpolation

    def call(self, inputs):
        x = inputs
        if self.data_format == "channels_first":
            x = array_ops.transpose(x, [0, 2, 3, 1])
        _, h, w, c = x.shape.dims
        if None in (h, w, c):
            raise ValueError("UpSampling2D needs the spatial and channel dims known")
        sh, sw = self.size
        x = array_ops.reshape(x, [-1, h, 1, w, 1, c])
        x = array_ops.tile(x, [1, 1, sh, 1, sw, 1])
        x = array_ops.reshape(x, [-1, h * sh, w * sw, c])
        if self.data_format == "channels_first":
            x = array_ops.transpose(x, [0, 3, 1, 2])
        return x

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}
