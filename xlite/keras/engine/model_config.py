"""Model configs in Keras' JSON layout: get_config/from_config of Functional models, to_json, model_from_json.

A Functional config lists each layer with its `inbound_nodes` ([layer name,
node index, tensor index, kwargs] per input) and the model's input and output
layers; rebuilding creates each layer from its config and calls it on the
tensors its inbound nodes name, in the order the config lists them.
"""
from __future__ import annotations

import json

from xlite.keras.engine.base_layer import is_keras_tensor


def layer_to_dict(layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _classes(custom_objects=None) -> dict:
    from xlite.keras import layers
    from xlite.keras.engine.sequential import Sequential
    from xlite.keras.engine.training import Model
    classes = {**layers._all_layer_classes(), "Sequential": Sequential, "Model": Model, "Functional": Model}
    classes.update(custom_objects or {})
    return classes


def layer_from_dict(spec: dict, custom_objects=None):
    classes = _classes(custom_objects)
    name = spec["class_name"]
    if name not in classes:
        raise ValueError(f"Unknown layer: '{name}'. Please ensure you are using a `keras.utils.custom_object_scope` "
                         f"and that this object is included in the scope.")
    cls = classes[name]
    if name in ("Sequential", "Model", "Functional"):
        return cls.from_config(spec["config"], custom_objects)
    return cls.from_config(dict(spec["config"]))


def _node_key(model, node) -> tuple:
    """(layer name, index of the node among that layer's nodes inside this model)."""
    own = [n for n in model._network.nodes if n.layer is node.layer]
    return node.layer.name, own.index(node) if node in own else 0


def functional_config(model) -> dict:
    network = model._network
    layers = []
    for layer in network.layers:
        inbound = []
        for node in network.nodes:
            if node.layer is not layer:
                continue
            args = []
            for t in node.flat_inputs:
                source, index, pos = t._keras_history
                source_node = source._inbound_nodes[index]
                _, local = _node_key(model, source_node) if source_node in network.nodes else (source.name, 0)
                args.append([source.name, local, pos, {}])
            inbound.append(args)
        layers.append({**layer_to_dict(layer), "name": layer.name, "inbound_nodes": inbound})

    def refs(tensors):
        out = []
        for t in tensors:
            source, index, pos = t._keras_history
            node = source._inbound_nodes[index]
            _, local = _node_key(model, node) if node in network.nodes else (source.name, 0)
            out.append([source.name, local, pos])
        return out
    return {"name": model.name, "layers": layers, "input_layers": refs(network.inputs),
            "output_layers": refs(network.outputs)}


def functional_from_config(cls, config: dict, custom_objects=None):
    from xlite.keras.engine.input_layer import InputLayer
    created, outputs = {}, {}          # name -> layer; (name, node) -> [output tensors]
    for spec in config["layers"]:
        layer = layer_from_dict(spec, custom_objects)
        created[spec["name"]] = layer
        if isinstance(layer, InputLayer):
            outputs[(spec["name"], 0)] = [layer.input_tensor]
    pending = [(spec["name"], i, node) for spec in config["layers"] for i, node in enumerate(spec["inbound_nodes"])]
    while pending:
        progressed = False
        for item in list(pending):
            name, index, node = item
            if all((src, n) in outputs for src, n, _, _ in node):
                args = [outputs[(src, n)][pos] for src, n, pos, _ in node]
                result = created[name](args[0] if len(args) == 1 else args)
                outputs[(name, index)] = result if isinstance(result, (list, tuple)) else [result]
                pending.remove(item)
                progressed = True
        if not progressed:
            raise ValueError(f"Cannot rebuild the model: unresolved nodes {[p[:2] for p in pending]}")
    inputs = [outputs[(n, i)][p] for n, i, p in config["input_layers"]]
    outs = [outputs[(n, i)][p] for n, i, p in config["output_layers"]]
    assert all(is_keras_tensor(t) for t in inputs + outs)
    return cls(inputs=inputs if len(inputs) > 1 else inputs[0], outputs=outs if len(outs) > 1 else outs[0],
               name=config.get("name"))


def to_json(model, **kwargs) -> str:
    from xlite.keras.engine.sequential import Sequential
    class_name = "Sequential" if isinstance(model, Sequential) else "Functional"
    return json.dumps({"class_name": class_name, "config": model.get_config(), "keras_version": "2.15.0",
                       "backend": "tensorflow"}, default=_json_default, **kwargs)


def _json_default(obj):
    import numpy as np
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"Not JSON serializable: {obj!r}")


def model_from_config(config: dict, custom_objects=None):
    return layer_from_dict(config, custom_objects)


def model_from_json(json_string: str, custom_objects=None):
    return model_from_config(json.loads(json_string), custom_objects)
