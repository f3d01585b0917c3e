"""Keras pooling: Max/AveragePooling1D/2D and the global poolings, as frontend pool and reduce ops."""
from __future__ import annotations

from xlite.frontend import array_ops, nn_ops, reduction_ops
from xlite.frontend.layer_base import _tuple
from xlite.frontend.layers import pool2d
from xlite.keras.engine.base_layer import Layer


class _Pooling(Layer):
    """Keras' max/average pooling over `rank` spatial dims; a 1-D pool is a 2-D pool over an inserted unit dim."""

    _pool = None
    rank = 2

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        pool_size = _tuple(pool_size, self.rank, "pool_size")
        strides = pool_size if strides is None else _tuple(strides, self.rank, "strides")
        self.pool_size, self.strides = (pool_size, strides) if self.rank == 2 else (pool_size[0], strides[0])
        self.padding = padding.upper()
        if self.padding not in ("VALID", "SAME"):
            raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: {padding}")
        self.data_format = data_format or "channels_last"

    def call(self, inputs):
        if self.rank == 2:
            return pool2d(type(self)._pool, inputs, self.pool_size, self.strides, self.padding, self.data_format)
        axis = 1 if self.data_format == "channels_last" else 2
        y = pool2d(type(self)._pool, array_ops.expand_dims(inputs, axis), (1, self.pool_size), (1, self.strides),
                   self.padding, self.data_format)
        return array_ops.squeeze(y, [axis])

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding.lower(), "data_format": self.data_format}


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


def _layer_class(name: str, base: type, rank: int, **ops) -> type:
    """A public layer class: base over `rank` spatial dims with its op (a pool or a reduction) set."""
    return type(name, (base,), {"rank": rank, "__module__": __name__, "__qualname__": name,
                                **{k: staticmethod(op) for k, op in ops.items()}})


MaxPooling2D = _layer_class("MaxPooling2D", _Pooling, 2, _pool=nn_ops.max_pool)
AveragePooling2D = _layer_class("AveragePooling2D", _Pooling, 2, _pool=nn_ops.avg_pool)
MaxPooling1D = _layer_class("MaxPooling1D", _Pooling, 1, _pool=nn_ops.max_pool)
AveragePooling1D = _layer_class("AveragePooling1D", _Pooling, 1, _pool=nn_ops.avg_pool)
GlobalAveragePooling2D = _layer_class("GlobalAveragePooling2D", _GlobalPooling, 2, _reduce=reduction_ops.reduce_mean)
GlobalMaxPooling2D = _layer_class("GlobalMaxPooling2D", _GlobalPooling, 2, _reduce=reduction_ops.reduce_max)
GlobalAveragePooling1D = _layer_class("GlobalAveragePooling1D", _GlobalPooling, 1, _reduce=reduction_ops.reduce_mean)
GlobalMaxPooling1D = _layer_class("GlobalMaxPooling1D", _GlobalPooling, 1, _reduce=reduction_ops.reduce_max)

MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
