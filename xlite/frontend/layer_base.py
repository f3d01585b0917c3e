"""The base of tf.layers: `Layer`, and the argument checks the layers share.

A layer owns a variable scope, chosen on first use like TF1's: its name, or a
unique `default_name` ("dense", "dense_1", ...). Its Variables come from
tf.get_variable in that scope (`dense/kernel:0`) and its ops are named under the
scope's original name scope (`dense/MatMul`, `dense/BiasAdd`, `dense/Relu`).
"""
from __future__ import annotations

import re

from xlite import errors
from xlite.frontend import math_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import GraphKeys, Tensor, get_default_graph
from xlite.frontend.variable_scope import VariableScope, get_variable, variable_scope
from xlite.ir import dtypes


def _snake_case(name: str) -> str:
    """TF's layer base names: Dense -> dense, Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def _tuple(value, n: int, what: str) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"The `{what}` argument must be a tuple of {n} integers. Received: {value}")
    return value


def _padding(padding: str) -> str:
    p = padding.lower()
    if p not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: {padding}")
    return p.upper()


def _data_format(data_format: str | None) -> str:
    fmt = (data_format or "channels_last").lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', 'channels_last'. "
                         f"Received: {data_format}")
    return fmt


def _no_constraints(**constraints) -> None:
    for key, value in constraints.items():
        if value is not None:
            raise errors.unimplemented(f"tf.layers: {key} is not supported by xlite")


def apply_layer(layer_class, args: dict) -> Tensor:
    """TF1's functional form of a layer: layer_class made from the function's arguments (`reuse` and `name`
    pick its variable scope) and applied to their `inputs`."""
    args = dict(args)
    inputs, reuse = args.pop("inputs"), args.pop("reuse")
    return layer_class(**args, _reuse=reuse, _scope=args["name"]).apply(inputs)


class Layer:
    """TF1's layer: builds its Variables on the first call, inside its own variable scope."""

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None, activity_regularizer=None,
                 _reuse=None, _scope=None, **kwargs):
        """`_scope` (TF1's functional layers pass their name) fixes the variable scope now, ununiquified."""
        if kwargs:
            raise TypeError(f"Keyword argument not understood: {sorted(kwargs)[0]!r}")
        self.trainable = trainable
        self.built = False
        self.activity_regularizer = activity_regularizer
        self._dtype = None if dtype is None else dtypes.as_dtype(dtype)
        self._reuse = _reuse
        self._base_name = _snake_case(type(self).__name__)
        if isinstance(name, VariableScope):
            _scope, name = name, None
        self._name = name
        self._scope: VariableScope | None = None
        if _scope:
            with variable_scope(_scope) as captured:
                self._scope = captured
            self._name = captured.name.split("/")[-1]
        self._weights: list = []

    @property
    def name(self) -> str:
        return self._name or self._base_name

    @property
    def dtype(self):
        return self._dtype

    @property
    def scope_name(self) -> str:
        if self._scope is None:
            raise ValueError("No name available for layer scope because the layer has not been used yet.")
        return self._scope.name

    @property
    def variables(self) -> list:
        return list(self._weights)

    weights = variables

    @property
    def trainable_variables(self) -> list:
        return [v for v in self._weights if v.trainable] if self.trainable else []

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self) -> list:
        return [v for v in self._weights if not (self.trainable and v.trainable)]

    non_trainable_weights = non_trainable_variables

    def add_weight(self, name: str, shape, dtype=None, initializer=None, regularizer=None, trainable=True):
        var = get_variable(name, shape=shape, dtype=dtype or self._dtype or dtypes.float32,
                           initializer=initializer, regularizer=regularizer,
                           trainable=bool(trainable and self.trainable))
        if var not in self._weights:
            self._weights.append(var)
        return var

    add_variable = add_weight

    def build(self, input_shape) -> None:
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def _set_scope(self, scope=None) -> None:
        if self._scope is not None:
            return
        if self._reuse:
            with variable_scope(scope if scope is not None else self.name) as captured:
                self._scope = captured
        else:
            with variable_scope(scope, default_name=self.name) as captured:
                self._scope = captured
        self._name = self._scope.name.split("/")[-1]

    def _cast_input(self, inputs) -> Tensor:
        x = convert_to_tensor(inputs)
        if self._dtype is None:
            self._dtype = x.dtype if x.dtype.is_floating else dtypes.float32
        if x.dtype != self._dtype and (x.dtype.is_floating or x.dtype.is_integer):
            x = math_ops.cast(x, self._dtype)
        return x

    def __call__(self, inputs, *args, **kwargs):
        self._set_scope(kwargs.pop("scope", None))
        graph = get_default_graph()
        with variable_scope(self._scope, reuse=True if self.built else self._reuse,
                            auxiliary_name_scope=False) as scope:
            with graph.name_scope(scope.original_name_scope):
                x = self._cast_input(inputs)
                if not self.built:
                    self.build(x.shape)
                    self.built = True
                outputs = self.call(x, *args, **kwargs)
                if self.activity_regularizer is not None:
                    with graph.name_scope("ActivityRegularizer"):
                        loss = self.activity_regularizer(outputs)
                    if loss is not None:
                        graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return outputs

    apply = __call__
