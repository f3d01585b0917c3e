"""tf.keras.Input and InputLayer: in graph mode a symbolic Keras tensor is a frontend placeholder."""
from __future__ import annotations

from xlite import errors
from xlite.frontend.graph import Tensor, executing_eagerly
from xlite.frontend.variables import placeholder
from xlite.ir import dtypes
from xlite.keras import backend
from xlite.keras.engine.base_layer import Layer, Node


class InputLayer(Layer):
    """The layer behind an Input: it owns the placeholder the model's data is fed to."""

    def __init__(self, input_shape=None, batch_size=None, dtype=None, input_tensor=None, sparse=False,
                 name=None, ragged=False, batch_input_shape=None):
        if sparse or ragged:
            raise errors.unimplemented("tf.keras.Input: sparse and ragged inputs are not supported by xlite")
        name = name or backend.unique_object_name("input")
        if batch_input_shape is None and input_shape is not None:
            batch_input_shape = (batch_size, *tuple(input_shape))
        super().__init__(name=name, dtype=dtype)
        dtype = dtypes.as_dtype(dtype or (input_tensor.dtype if input_tensor is not None else backend.floatx()))
        self._dtype = dtype.name
        if input_tensor is None:
            if batch_input_shape is None:
                raise ValueError("Please provide to Input either a `shape` or a `tensor` argument.")
            if executing_eagerly():
                with backend.keras_graph().as_default():
                    input_tensor = placeholder(dtype, list(batch_input_shape), name=name)
            else:
                input_tensor = placeholder(dtype, list(batch_input_shape), name=name)
        self._batch_input_shape = tuple(input_tensor.shape.as_list()) if input_tensor.shape.ndims is not None \
            else None
        self.is_placeholder = input_tensor.op.type == "Placeholder"
        self.built = True
        node = Node(self, [], [input_tensor], {})
        self._inbound_nodes.append(node)
        input_tensor._keras_history = (self, 0, 0)
        self.input_tensor = input_tensor

    def get_config(self) -> dict:
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype, "sparse": False,
                "ragged": False, "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        config = {k: v for k, v in config.items() if k not in ("ragged",)}
        return cls(**config)


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=False, tensor=None, ragged=False,  # noqa: N802
          batch_shape=None, **kwargs) -> Tensor:
    """A symbolic tensor to build a Functional model from: shape without the batch dim (or batch_shape)."""
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {list(kwargs)}")
    if shape is not None and batch_shape is not None:
        raise ValueError("Only provide the `shape` OR `batch_shape` argument to Input, not both at the same time.")
    if shape is None and batch_shape is None and tensor is None:
        raise ValueError("Please provide to Input a `shape` or a `tensor` or a `type_spec` argument. Note that "
                         "`shape` does not include the batch dimension.")
    if shape is not None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
    layer = InputLayer(input_shape=shape, batch_size=batch_size, dtype=dtype, input_tensor=tensor, sparse=sparse,
                       name=name, ragged=ragged, batch_input_shape=batch_shape)
    return layer.input_tensor
