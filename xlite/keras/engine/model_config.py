"""Model configs in Keras' JSON layout: get_config/from_config of Functional models, to_json, model_from_json.

A Functional config lists each layer with its `inbound_nodes` ([layer name,
node index, tensor index, kwargs] per input) and the model's input and output
layers; rebuilding creates each layer from its config and calls it on the
tensors its inbound nodes name, in the order the config lists them.
"""
from __future__ import annotations

import json

from xlite.keras.engine.base_layer import is_keras_tensor


# Keys of newer Keras configs (Keras 3's .h5 files) whose values mean "nothing special" when xlite drops them.
_BENIGN = {"renorm_momentum", "ema_momentum", "optional", "build_config", "registered_name", "module",
           "input_axes", "output_axes"}


def accepted(config: dict, *functions, what: str) -> dict:
    """`config` without the keys none of `functions` takes (newer Keras configs carry more); a dropped key that
    asks for something (a true value, not a benign one) is UnimplementedError rather than silently ignored."""
    import inspect
    from xlite import errors
    names = set()
    for fn in functions:
        names |= {p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    out = {}
    for key, value in config.items():
        if key in names:
            out[key] = value
        elif value not in (None, False, 0, "", [], {}) and key not in _BENIGN:
            raise errors.unimplemented(f"{what}: {key}={value!r} in the config is not supported by xlite yet")
    return out


def normalize_layer_config(cls, config: dict) -> dict:
    """Keras 3's spellings in Keras 2's terms: a dtype policy's name, batch_shape for batch_input_shape; then
    only the arguments the layer takes."""
    from xlite.keras.engine.base_layer import Layer
    config = dict(config)
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = config["dtype"].get("config", {}).get("name", "float32")
    if "batch_shape" in config and "batch_input_shape" not in config:
        config["batch_input_shape"] = config.pop("batch_shape")
    return accepted(config, cls.__init__, Layer.__init__, what=f"tf.keras.layers.{cls.__name__}")


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
    return cls.from_config(normalize_layer_config(cls, spec["config"]))


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
