"""Model.summary(): Keras' table (tf.keras 2.x's layout: layer, output shape, parameters, connections)."""
from __future__ import annotations

import numpy as np

from xlite.keras.engine.input_layer import InputLayer


def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape.as_list(), dtype=np.int64)) for w in weights))


def _shape_text(layer) -> str:
    try:
        shape = layer.output_shape
    except AttributeError:
        return "multiple"
    if isinstance(layer, InputLayer):
        return str([shape[0]]) if isinstance(shape, list) else str([shape])
    if isinstance(shape, list) and len(shape) == 1:
        shape = shape[0]
    return str(shape)


def _sequential_like(model) -> bool:
    from xlite.keras.engine.sequential import Sequential
    if isinstance(model, Sequential) or model._network is None:
        return True
    for node in model._network.nodes:
        if len(node.flat_inputs) > 1 or len(node.flat_outputs) > 1:
            return False
    layers_called = {}
    for node in model._network.nodes:
        layers_called[id(node.layer)] = layers_called.get(id(node.layer), 0) + 1
        for t in node.flat_inputs:
            source = t._keras_history[0]
            if not isinstance(source, InputLayer) and sum(
                    1 for n in model._network.nodes if any(i is t for i in n.flat_inputs)) > 1:
                return False
    return all(count == 1 for count in layers_called.values())


def print_summary(model, line_length=None, positions=None, print_fn=None) -> None:
    print_fn = print_fn or print
    sequential_like = _sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def row(fields):
        line = ""
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + " "
            line += str(field)
            line = line[:positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.")
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    row(headers)
    print_fn("=" * line_length)
    layers = model.layers
    for i, layer in enumerate(layers):
        name = f"{layer.name} ({type(layer).__name__})"
        params = layer.count_params() if layer.built else 0
        if sequential_like:
            row([name, _shape_text(layer), params])
        else:
            connections = []
            for node in layer._inbound_nodes:
                if model._network is not None and node not in model._network.nodes:
                    continue
                for t in node.flat_inputs:
                    source, index, pos = t._keras_history
                    connections.append(f"{source.name}[{index}][{pos}]")
            row([name, _shape_text(layer), params, connections[0] if connections else ""])
            for extra in connections[1:]:
                row(["", "", "", extra])
        print_fn("=" * line_length if i == len(layers) - 1 else "_" * line_length)
    trainable = _count(model.trainable_weights)
    total = _count(model.weights)
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn("_" * line_length)
