"""tf.layers' convolutions: Conv1D, Conv2D and Conv2DTranspose, as classes and TF1's functions."""
from __future__ import annotations

from xlite.frontend import array_ops, init_ops, nn_ops
from xlite.frontend.graph import Tensor
from xlite.frontend.layer_base import Layer, _data_format, _no_constraints, _padding, _tuple, apply_layer


class ConvOps:
    """What tf.layers' and Keras' convolutions share, mixed into each's Layer: the nn ops' data format, the
    kernel's shape, the input's channels, and bias and activation after the subclass's `_convolve`."""

    rank = 2

    @property
    def _nn_format(self) -> str:
        spatial = "HW"[2 - self.rank:] if self.rank <= 2 else "DHW"
        return f"N{spatial}C" if self.data_format == "channels_last" else f"NC{spatial}"

    def _kernel_shape(self, channels: int) -> list:
        return [*self.kernel_size, channels, self.filters]

    def _input_channels(self, input_shape, rank_error: str) -> int:
        """The input's channel count; ValueError(rank_error) for an input of another rank."""
        if input_shape.ndims != self.rank + 2:
            raise ValueError(rank_error)
        channels = input_shape.dims[-1 if self.data_format == "channels_last" else 1]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
        return channels

    def call(self, inputs):
        outputs = self._convolve(inputs)   # each subclass's nn op
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias, data_format=self._nn_format)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


class Conv1DOps(ConvOps):
    """1-D convolution with a [k, in, filters] kernel; 'causal' padding pads (k - 1) * dilation on the left."""

    rank = 1

    def _convolve(self, inputs) -> Tensor:
        padding = self.padding
        if padding == "CAUSAL":
            pads = [[0, 0], [0, 0], [0, 0]]
            pads[1 if self.data_format == "channels_last" else 2][0] = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            inputs, padding = array_ops.pad(inputs, pads), "VALID"
        return nn_ops.conv1d(inputs, self.kernel, stride=self.strides[0], padding=padding,
                             data_format=self._nn_format, dilations=self.dilation_rate[0], name="conv1d")


class Conv2DOps(ConvOps):
    """2-D convolution with a [kh, kw, in, filters] kernel."""

    def _convolve(self, inputs) -> Tensor:
        return nn_ops.conv2d(inputs, self.kernel, strides=list(self.strides), padding=self.padding,
                             data_format=self._nn_format, dilations=list(self.dilation_rate))


def _deconv_length(size, kernel: int, stride: int, dilation: int, padding: str):
    """Keras' transposed-conv output length (an int, or a tensor when the input's size is one)."""
    kernel = (kernel - 1) * dilation + 1
    if padding == "VALID":
        return size * stride + max(kernel - stride, 0)
    return size * stride


class Conv2DTransposeOps(Conv2DOps):
    """The transpose of Conv2D (tf.nn.conv2d_transpose) with a [kh, kw, filters, in] kernel."""

    def _kernel_shape(self, channels: int) -> list:
        return [*self.kernel_size, self.filters, channels]

    def _convolve(self, inputs) -> Tensor:
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        shape = array_ops.shape(inputs)
        out = [_deconv_length(inputs.shape.dims[a] if inputs.shape.dims[a] is not None else shape[a], k, s, d,
                              self.padding)
               for a, k, s, d in zip(axes, self.kernel_size, self.strides, self.dilation_rate)]
        dims = [shape[0], *out, self.filters] if self.data_format == "channels_last" else [shape[0], self.filters,
                                                                                           *out]
        strides = [1, *self.strides, 1] if self.data_format == "channels_last" else [1, 1, *self.strides]
        return nn_ops.conv2d_transpose(inputs, self.kernel, array_ops.stack(dims), strides, self.padding,
                                       data_format=self._nn_format, dilations=list(self.dilation_rate))


class _Conv(ConvOps, Layer):
    """Keras' Conv over `rank` spatial dims: a [*kernel_size, in, filters] kernel, then bias and activation."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True,
                 name=None, **kwargs):
        _no_constraints(kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        self.filters = int(filters)
        if self.filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters}.")
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size")
        self.strides = _tuple(strides, self.rank, "strides")
        self.dilation_rate = _tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = self._padding(padding)
        self.data_format = _data_format(data_format)
        self.activation, self.use_bias = activation, use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer if bias_initializer is not None else init_ops.zeros_initializer()
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel = self.bias = None

    @staticmethod
    def _padding(padding: str) -> str:
        return _padding(padding)

    def build(self, input_shape) -> None:
        channels = self._input_channels(
            input_shape, f"Input 0 of layer {self.name} is incompatible with the layer: expected ndim={self.rank + 2}, "
                         f"found ndim={input_shape.ndims}. Full shape received: {input_shape}")
        self.kernel = self.add_weight("kernel", self._kernel_shape(channels), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)


class Conv1D(Conv1DOps, _Conv):
    """1-D convolution with a [k, in, filters] kernel; 'causal' padding pads (k - 1) * dilation on the left."""

    @staticmethod
    def _padding(padding: str) -> str:
        return "CAUSAL" if padding.lower() == "causal" else _padding(padding)


class Conv2D(Conv2DOps, _Conv):
    """2-D convolution with a [kh, kw, in, filters] kernel, 'valid' or 'same' padding (any case)."""


class Conv2DTranspose(Conv2DTransposeOps, Conv2D):
    """The transpose of Conv2D (tf.nn.conv2d_transpose) with a [kh, kw, filters, in] kernel."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                 activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        """TF1's argument order (no dilation_rate before activation); dilation_rate may come as a keyword."""
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                         name=name, **kwargs)


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
           dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None) -> Tensor:
    return apply_layer(Conv2D, locals())


def conv1d(inputs, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
           dilation_rate=1, activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None) -> Tensor:
    return apply_layer(Conv1D, locals())


def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                     activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
                     kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                     kernel_constraint=None, bias_constraint=None, trainable=True, name=None, reuse=None) -> Tensor:
    return apply_layer(Conv2DTranspose, locals())
