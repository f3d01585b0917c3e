"""The Functional API's graph of layer calls: found from the outputs' Nodes, re-run on new inputs.

`Model(inputs, outputs)` walks back from each output's `_keras_history` to the
Inputs, keeping the Nodes in an order where every Node comes after the Nodes that
made its inputs. Calling the model runs those layer calls again on the new
tensors, so the weights are shared and each call builds fresh frontend ops (a
training call and an inference call are two graphs of one model).
"""
from __future__ import annotations

from xlite.frontend import nest
from xlite.frontend.graph import Tensor
from xlite.keras.engine.base_layer import Node, is_keras_tensor, no_nodes
from xlite.keras.engine.input_layer import InputLayer


class GraphNetwork:
    """The Nodes and layers between a model's inputs and outputs."""

    def __init__(self, inputs, outputs):
        self.nested_inputs, self.nested_outputs = inputs, outputs
        self.inputs = nest.flatten(inputs)
        self.outputs = nest.flatten(outputs)
        for t in self.inputs + self.outputs:
            if not is_keras_tensor(t):
                raise ValueError(f"Input tensors to a Functional must come from `tf.keras.Input`. Received: {t} "
                                 f"(missing previous layer metadata).")
        self.nodes: list[Node] = []
        seen: set[int] = set()
        input_ids = {id(t) for t in self.inputs}
        for t in self.outputs:
            self._visit(t, seen, input_ids)
        self.layers = []
        for t in self.inputs:
            layer = t._keras_history[0]
            if layer not in self.layers:
                self.layers.append(layer)
        for node in self.nodes:
            if node.layer not in self.layers:
                self.layers.append(node.layer)

    def _visit(self, tensor: Tensor, seen: set, input_ids: set) -> None:
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if id(node) in seen:
            return
        if id(tensor) in input_ids or isinstance(layer, InputLayer):
            if id(tensor) not in input_ids:
                raise ValueError(f"Graph disconnected: cannot obtain value for tensor {tensor} at layer "
                                 f"\"{layer.name}\". The following previous layers were accessed without issue: "
                                 f"{[n.layer.name for n in self.nodes]}")
            return
        for t in node.flat_inputs:
            if is_keras_tensor(t):
                self._visit(t, seen, input_ids)
        seen.add(id(node))
        self.nodes.append(node)

    def run(self, inputs):
        """The outputs computed from `inputs` (nested like the model's inputs, or a flat list)."""
        flat = nest.flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(f"Layer \"model\" expects {len(self.inputs)} input(s), but it received {len(flat)} "
                             f"input tensors.")
        values = {id(t): v for t, v in zip(self.inputs, flat)}
        with no_nodes():
            for node in self.nodes:
                args = nest.pack_sequence_as(node.inputs, [
                    values[id(t)] if isinstance(t, Tensor) and id(t) in values else t
                    for t in nest.flatten(node.inputs)])
                kwargs = dict(node.kwargs)
                extra = kwargs.pop("_args", ())
                outputs = node.layer(args, *extra, **kwargs)
                for t, v in zip(node.flat_outputs, nest.flatten(outputs)):
                    values[id(t)] = v
        return nest.pack_sequence_as(self.nested_outputs, [values[id(t)] for t in self.outputs])
