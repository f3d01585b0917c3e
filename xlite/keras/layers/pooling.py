"""Keras pooling: Max/AveragePooling1D/2D and the global poolings, as frontend pool and reduce ops."""
from __future__ import annotations

from xlite.frontend import array_ops, nn_ops, reduction_ops
from xlite.frontend.layer_base import _tuple
from xlite.keras.engine.base_layer import Layer


class _Pooling2D(Layer):
    _pool = None

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = _tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else _tuple(strides, 2, "strides")
        self.padding = padding.upper()
        if self.padding not in ("VALID", "SAME"):
            raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: {padding}")
        self.data_format = data_format or "channels_last"

    def call(self, inputs):
        if self.data_format == "channels_last":
            ksize, strides, fmt = [1, *self.pool_size, 1], [1, *self.strides, 1], "NHWC"
        else:
            ksize, strides, fmt = [1, 1, *self.pool_size], [1, 1, *self.strides], "NCHW"
        return type(self)._pool(inputs, ksize, strides, self.padding, data_format=fmt)

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding.lower(), "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    _pool = staticmethod(nn_ops.max_pool)


class AveragePooling2D(_Pooling2D):
    _pool = staticmethod(nn_ops.avg_pool)


class _Pooling1D(Layer):
    """Keras' 1-D pooling: a 2-D pool over an inserted unit dim."""

    _pool = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = _tuple(pool_size, 1, "pool_size")[0]
        self.strides = self.pool_size if strides is None else _tuple(strides, 1, "strides")[0]
        self.padding = padding.upper()
        self.data_format = data_format or "channels_last"

    def call(self, inputs):
        axis = 1 if self.data_format == "channels_last" else 2
        x = array_ops.expand_dims(inputs, axis)
        if self.data_format == "channels_last":
            y = type(self)._pool(x, [1, 1, self.pool_size, 1], [1, 1, self.strides, 1], self.padding,
                                 data_format="NHWC")
        else:
            y = type(self)._pool(x, [1, 1, 1, self.pool_size], [1, 1, 1, self.strides], self.padding,
                                 data_format="NCHW")
        return array_ops.squeeze(y, [axis])

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding.lower(), "data_format": self.data_format}


class MaxPooling1D(_Pooling1D):
    _pool = staticmethod(nn_ops.max_pool)


class AveragePooling1D(_Pooling1D):
    _pool = staticmethod(nn_ops.avg_pool)


class _GlobalPooling(Layer):
    rank = 2
    _reduce = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.keepdims = keepdims

    def call(self, inputs):
        first = 1 if self.data_format == "channels_last" else 2
        axes = list(range(first, first + self.rank))
        return type(self)._reduce(inputs, axis=axes, keepdims=self.keepdims)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling):
    _reduce = staticmethod(reduction_ops.reduce_mean)


class GlobalMaxPooling2D(_GlobalPooling):
    _reduce = staticmethod(reduction_ops.reduce_max)


class GlobalAveragePooling1D(_GlobalPooling):
    rank = 1
    _reduce = staticmethod(reduction_ops.reduce_mean)


class GlobalMaxPooling1D(_GlobalPooling):
    rank = 1
    _reduce = staticmethod(reduction_ops.reduce_max)


MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
