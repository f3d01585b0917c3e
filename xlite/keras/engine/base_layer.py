"""tf.keras.layers.Layer: weights made by add_weight, built on the first call from the input's shape.

A layer is a thin object over frontend ops: `call` builds ops, the compiler does
the arithmetic. Weights are frontend Variables in graph mode (EagerVariables
while executing eagerly: `tf.Variable` picks), named `<layer>/<weight>:0` as
Keras names them, whatever scope the layer is called in. A call on symbolic
Keras tensors (outputs of `tf.keras.Input` or of other layers' such calls)
records a Node, the edge the Functional API walks to re-run the graph of layer
calls on new inputs.
"""
from __future__ import annotations

import contextlib
import inspect
import re
import threading

import numpy as np

from xlite.frontend import math_ops, nest
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor, executing_eagerly, get_default_graph
from xlite.frontend.tensor_shape import TensorShape
from xlite.frontend.variables import Variable
from xlite.ir import dtypes
from xlite.keras import backend, constraints, initializers, regularizers

_state = threading.local()


def snake_case(name: str) -> str:
    """Keras' default layer names: Dense -> dense, Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return insecure if insecure[0] != "_" else "private" + insecure     # a scope name cannot start with _


def map_structure(fn, structure):
    """`structure` with `fn` applied to each leaf (tf.nest.map_structure)."""
    return nest.pack_sequence_as(structure, [fn(x) for x in nest.flatten(structure)])


@contextlib.contextmanager
def no_nodes():
    """Layer calls inside a model's own call record no nodes: the model's call is the node."""
    _state.quiet = getattr(_state, "quiet", 0) + 1
    try:
        yield
    finally:
        _state.quiet -= 1


def _training_stack() -> list:
    if not hasattr(_state, "training"):
        _state.training = []
    return _state.training


def is_keras_tensor(x) -> bool:
    return isinstance(x, Tensor) and hasattr(x, "_keras_history")


class Node:
    """One call of `layer` on symbolic tensors: its inputs (nested as given), outputs and other arguments."""

    def __init__(self, layer: "Layer", inputs, outputs, kwargs: dict):
        self.layer, self.inputs, self.outputs, self.kwargs = layer, inputs, outputs, kwargs
        self.flat_inputs = [t for t in nest.flatten(inputs) if isinstance(t, Tensor)]
        self.flat_outputs = nest.flatten(outputs)

    @property
    def inbound_layers(self) -> list:
        return [t._keras_history[0] for t in self.flat_inputs if is_keras_tensor(t)]


class Layer:
    """The base of every Keras layer and model: weights, build on first call, config, nodes."""

    _quiet_inside = False       # a model's call records no nodes of the layers it calls

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None, dynamic: bool = False,
                 input_shape=None, batch_input_shape=None, batch_size=None, input_dim=None, **kwargs):
        if kwargs:
            raise TypeError(f"Keyword argument not understood: {sorted(kwargs)[0]!r}")
        object.__setattr__(self, "_layers", [])
        self._trainable = trainable
        self._name = name or backend.unique_object_name(snake_case(type(self).__name__))
        self._dtype = dtypes.as_dtype(dtype).name if dtype is not None else None
        self.built = False
        self.dynamic = dynamic
        self._trainable_weights: list = []
        self._non_trainable_weights: list = []
        self._losses: list = []
        self._updates: list = []
        self._inbound_nodes: list[Node] = []
        self.supports_masking = False
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is None and input_shape is not None:
            batch_input_shape = (batch_size, *tuple(input_shape))
        self._batch_input_shape = None if batch_input_shape is None else tuple(batch_input_shape)
        self._call_takes_training = "training" in inspect.signature(self.call).parameters

    # --- tracking ---------------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        """Layers held as attributes (or in lists) are sublayers: their weights are this layer's too."""
        if not name.startswith("_") or name == "_layers":
            candidates = value if isinstance(value, (list, tuple)) else [value]
            for v in candidates:
                if isinstance(v, Layer) and v is not self and v not in self.__dict__.get("_layers", []):
                    self.__dict__.setdefault("_layers", []).append(v)
        object.__setattr__(self, name, value)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> str:
        return self._dtype or backend.floatx()

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = value

    def _flatten_layers(self) -> list:
        return list({id(layer): layer for layer in self._layers}.values())

    def _with_sublayers(self, own: list, of_layer) -> list:
        """own, then of_layer(layer) of each distinct sublayer."""
        out = list(own)
        for layer in self._flatten_layers():
            out += of_layer(layer)
        return out

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        out = list(self._trainable_weights)
        for layer in self._flatten_layers():
            out += [w for w in layer.trainable_weights if not any(w is o for o in out)]
        return out

    @property
    def non_trainable_weights(self) -> list:
        out = list(self._non_trainable_weights) + ([] if self.trainable else list(self._trainable_weights))
        for layer in self._flatten_layers():
            extra = layer.non_trainable_weights if self.trainable else layer.weights
            out += [w for w in extra if not any(w is o for o in out)]
        return out

    @property
    def weights(self) -> list:
        """Keras' order: trainable weights first, then the rest."""
        return self.trainable_weights + self.non_trainable_weights

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def losses(self) -> list:
        return self._with_sublayers(self._losses, lambda layer: layer.losses)

    @property
    def updates(self) -> list:
        return self._with_sublayers(self._updates, lambda layer: layer.updates)

    def add_loss(self, loss) -> None:
        self._losses.append(loss)

    def add_update(self, update) -> None:
        self._updates.append(update)

    # --- weights ----------------------------------------------------------------------------
    def add_weight(self, name: str | None = None, shape=None, dtype=None, initializer=None, regularizer=None,
                   trainable: bool | None = None, constraint=None, **kwargs) -> Variable:
        """A Variable `<layer name>/<name>:0` initialized by `initializer` (glorot_uniform for floats, zeros
        otherwise, as Keras); a regularizer's penalty joins `losses`."""
        shape = [] if shape is None else [int(d) for d in shape]
        dtype = dtypes.as_dtype(dtype or self.dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        init = initializers.get(initializer)
        trainable = True if trainable is None else bool(trainable)
        with get_default_graph().name_scope(self.name + "/"):
            var = Variable(lambda: init(shape, dtype=dtype), trainable=trainable, name=name or "Variable",
                           dtype=dtype, constraint=constraints.get(constraint))
        backend.track_variable(var)
        if not hasattr(type(var), "constraint"):         # an eager Variable keeps it itself, as TF's does
            var.constraint = constraints.get(constraint)  # the optimizer projects the weight after each update
        (self._trainable_weights if trainable else self._non_trainable_weights).append(var)
        if regularizer is not None:
            penalty = regularizers.get(regularizer)
            self._losses.append(lambda: penalty(var))
        return var

    def get_weights(self) -> list:
        return backend.batch_get_value(self.weights)

    def set_weights(self, weights) -> None:
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(f"You called `set_weights(weights)` on layer \"{self.name}\" with a weight list of "
                             f"length {len(weights)}, but the layer was expecting {len(params)} weights.")
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(p.shape.as_list()) != w.shape:
                raise ValueError(f"Layer {self.name} weight shape {tuple(p.shape.as_list())} is not compatible "
                                 f"with provided weight shape {w.shape}.")
        backend.batch_set_value(zip(params, weights))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self.name}, but the layer isn't built. "
                             f"You can build it manually via: `{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(w.shape.as_list(), dtype=np.int64)) for w in self.weights))

    # --- building and calling ----------------------------------------------------------------
    def build(self, input_shape) -> None:
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def compute_output_shape(self, input_shape):
        raise NotImplementedError

    def _cast_inputs(self, inputs):
        """Floating inputs take the layer's dtype (Keras' autocast); others pass as they are."""
        want = dtypes.as_dtype(self.dtype)

        def cast(x):
            if isinstance(x, (Tensor, Variable)) or hasattr(x, "numpy"):
                t = convert_to_tensor(x)
            elif isinstance(x, (np.ndarray, float, int, list, np.generic)):
                arr = np.asarray(x)
                t = convert_to_tensor(arr.astype(want.np) if arr.dtype.kind == "f" else arr)
            else:
                return x
            if t.dtype.is_floating and t.dtype != want:
                t = math_ops.cast(t, want)
            return t
        return map_structure(cast, inputs)

    def _resolve_training(self, kwargs: dict):
        """`training` as given, else the enclosing model call's, else the learning phase (Keras' order)."""
        training = kwargs.get("training")
        if training is None:
            stack = _training_stack()
            training = stack[-1] if stack else None
        if training is None:
            training = bool(backend.learning_phase())
        return training

    def __call__(self, inputs, *args, **kwargs):
        if not executing_eagerly() or not backend.in_keras_graph(nest.flatten(inputs)):
            return self._call(inputs, *args, **kwargs)
        # Symbolic tensors while executing eagerly: the weights are made eagerly, the call is recorded in
        # Keras' graph of symbolic tensors (which captures them).
        if not self.built:
            self._maybe_build(inputs)
        with backend.keras_graph().as_default():
            return self._call(inputs, *args, **kwargs)

    def _call(self, inputs, *args, **kwargs):
        graph_mode = not executing_eagerly()
        inputs = self._cast_inputs(inputs)
        explicit_training = kwargs.get("training")
        symbolic = (graph_mode and not getattr(_state, "quiet", 0)
                    and any(is_keras_tensor(t) for t in nest.flatten(inputs)))
        training = self._resolve_training(kwargs)
        if self._call_takes_training:
            kwargs["training"] = training
        else:
            kwargs.pop("training", None)
        scope = get_default_graph().name_scope(self.name) if graph_mode else contextlib.nullcontext()
        _training_stack().append(training)
        try:
            with scope:
                if not self.built:
                    self._maybe_build(inputs)
                self._losses = [l for l in self._losses if callable(l)]    # a call's own losses: this call's
                with no_nodes() if self._quiet_inside else contextlib.nullcontext():
                    outputs = self.call(inputs, *args, **kwargs)
        finally:
            _training_stack().pop()
        if symbolic:
            node_kwargs = {k: v for k, v in kwargs.items() if k != "training"}
            if explicit_training is not None:
                node_kwargs["training"] = explicit_training
            self._add_node(inputs, args, outputs, node_kwargs)
        return outputs

    def _maybe_build(self, inputs) -> None:
        shapes = map_structure(lambda t: TensorShape(t.shape) if hasattr(t, "shape") else None, inputs)
        self.build(shapes)
        self.built = True

    def _add_node(self, inputs, args, outputs, kwargs: dict) -> None:
        if args:
            kwargs = {**kwargs, "_args": args}
        node = Node(self, inputs, outputs, kwargs)
        index = len(self._inbound_nodes)
        self._inbound_nodes.append(node)
        for i, t in enumerate(node.flat_outputs):
            if isinstance(t, Tensor):
                t._keras_history = (self, index, i)

    # --- shapes of the first call -------------------------------------------------------------
    def _node_shapes(self, which: str):
        if not self._inbound_nodes:
            raise AttributeError(f"The layer \"{self.name}\" has never been called and thus has no defined "
                                 f"{which} shape.")
        tensors = getattr(self._inbound_nodes[0], "inputs" if which == "input" else "outputs")
        return map_structure(lambda t: tuple(t.shape.as_list()) if t.shape.ndims is not None else None,
                                  tensors)

    @property
    def input_shape(self):
        return self._node_shapes("input")

    @property
    def output_shape(self):
        return self._node_shapes("output")

    @property
    def input(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no input to return.")
        return self._inbound_nodes[0].inputs

    @property
    def output(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} has no inbound nodes.")
        return self._inbound_nodes[0].outputs

    # --- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object name={self.name!r}>"
