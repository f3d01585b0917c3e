"""Keras merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate) and their functions."""
from __future__ import annotations

from xlite.frontend import math_ops
from xlite.frontend.join_ops import concat
from xlite.keras.engine.base_layer import Layer


class _Merge(Layer):
    """Elementwise over a list of inputs (with broadcasting, as the frontend's binary ops have it)."""

    def _merge(self, a, b):
        raise NotImplementedError

    def build(self, input_shape) -> None:
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2:
            raise ValueError(f"A merge layer should be called on a list of at least 2 inputs. Got "
                             f"{len(input_shape) if isinstance(input_shape, (list, tuple)) else 1} inputs.")
        self.built = True

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return out


class Add(_Merge):
    def _merge(self, a, b):
        return a + b


class Subtract(_Merge):
    def build(self, input_shape) -> None:
        if len(input_shape) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: {input_shape}")
        self.built = True

    def _merge(self, a, b):
        return a - b


class Multiply(_Merge):
    def _merge(self, a, b):
        return a * b


class Maximum(_Merge):
    def _merge(self, a, b):
        return math_ops.maximum(a, b)


class Minimum(_Merge):
    def _merge(self, a, b):
        return math_ops.minimum(a, b)


class Average(_Merge):
    def call(self, inputs):
        return super().call(inputs) / float(len(inputs))

    def _merge(self, a, b):
        return a + b


class Concatenate(_Merge):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return concat(list(inputs), axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


def _functional(layer_class: type):
    """Keras' functional form of a merge layer: fn(inputs, **kwargs) = layer_class(**kwargs)(inputs)."""
    def merge(inputs, **kwargs):
        return layer_class(**kwargs)(inputs)
    merge.__name__ = merge.__qualname__ = layer_class.__name__.lower()
    return merge


add = _functional(Add)
subtract = _functional(Subtract)
multiply = _functional(Multiply)
average = _functional(Average)
maximum = _functional(Maximum)
minimum = _functional(Minimum)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)
