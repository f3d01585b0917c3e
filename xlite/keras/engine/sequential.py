"""tf.keras.Sequential: a plain stack of layers, one input and one output.

With an input shape (an `input_shape=` on the first layer, or an `Input` added
first) the model is built as each layer is added, a Functional graph from an
InputLayer named `<first layer>_input`, so `summary()` works before any data;
otherwise it is built from the first data it sees.
"""
from __future__ import annotations

from xlite.frontend.graph import Tensor, executing_eagerly
from xlite.keras.engine.base_layer import Layer, is_keras_tensor
from xlite.keras.engine.input_layer import Input, InputLayer
from xlite.keras.engine.training import Model


class Sequential(Model):
    def __init__(self, layers=None, name=None):
        super().__init__(name=name)
        self._stack: list[Layer] = []
        self._input = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list:
        return list(self._stack)

    def add(self, layer) -> None:
        """Appends `layer` (or the InputLayer behind a `tf.keras.Input`), building the graph when it can."""
        if isinstance(layer, Tensor) and is_keras_tensor(layer):
            layer = layer._keras_history[0]
        if isinstance(layer, InputLayer):
            if self._stack or self._input is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model.")
            self._input = layer.input_tensor
            self._rebuild()
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Received: layer={layer} of type "
                            f"{type(layer)}.")
        if any(l.name == layer.name for l in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name \"{layer.name}\""
                             f" is already the name of a layer in this model. Update the `name` argument to pass a "
                             f"unique name.")
        if not self._stack and self._input is None and layer._batch_input_shape is not None:
            self._input = Input(batch_shape=layer._batch_input_shape, dtype=layer._dtype,
                                name=f"{layer.name}_input")
        self._stack.append(layer)
        self._layers.append(layer)
        self._rebuild()

    def pop(self) -> None:
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self._layers.remove(layer)
        self._rebuild()

    def _rebuild(self) -> None:
        if self._input is None or not self._stack:
            return
        x = self._input
        for layer in self._stack:
            x = layer(x)
        self._init_network(self._input, x)

    def _build_from_data(self, x) -> None:
        """A deferred model builds its graph from the first batch's shape (None batch dim)."""
        import numpy as np
        from xlite.keras import backend
        array = np.asarray(x)
        dtype = backend.floatx() if array.dtype.kind == "f" else array.dtype
        self._input = Input(batch_shape=(None, *array.shape[1:]), dtype=dtype,
                            name=f"{self._stack[0].name}_input")
        self._rebuild()

    def build(self, input_shape=None) -> None:
        if self._network is None and input_shape is not None and not executing_eagerly():
            self._input = Input(batch_shape=tuple(input_shape), name=f"{self._stack[0].name}_input")
            self._rebuild()
        self.built = True

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._stack:
            x = layer(x)
        return x

    def _maybe_build(self, inputs) -> None:
        if self._network is None and isinstance(inputs, Tensor) and not executing_eagerly() \
                and not is_keras_tensor(inputs):
            self._input = Input(batch_shape=(None, *inputs.shape.as_list()[1:]), dtype=inputs.dtype,
                                name=f"{self._stack[0].name}_input")
            self._rebuild()
        self.built = True

    def get_config(self) -> dict:
        from xlite.keras.engine.model_config import layer_to_dict
        layers = []
        if self._input is not None:
            layers.append(layer_to_dict(self._input._keras_history[0]))
        layers += [layer_to_dict(l) for l in self._stack]
        return {"name": self.name, "layers": layers}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from xlite.keras.engine.model_config import layer_from_dict
        model = cls(name=config.get("name"))
        for spec in config["layers"]:
            layer = layer_from_dict(spec, custom_objects)
            if isinstance(layer, InputLayer):
                model.add(layer.input_tensor)
            else:
                model.add(layer)
        return model
