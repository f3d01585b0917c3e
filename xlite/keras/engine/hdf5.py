"""Keras' HDF5 files (needs h5py): weights (`save_weights('w.h5')`) and whole models (`model.save('m.h5')`).

The layout is Keras 2's: the root (or a model file's `model_weights` group) lists
`layer_names`; each layer's group lists its `weight_names` (`dense/kernel:0`) and
holds one dataset per weight under that name. A model file adds `model_config`
(the model's JSON config) and `training_config` (compile's optimizer, loss and
metrics). Loading matches layers with weights in order, as Keras' default
(topological) loading does.
"""
from __future__ import annotations

import json

import numpy as np

from xlite import errors

KERAS_VERSION = b"2.15.0"


def _h5py():
    try:
        import h5py
    except ImportError as e:
        raise ImportError("`save_weights`/`load_weights` and `save`/`load_model` in HDF5 format need h5py: "
                          "pip install h5py") from e
    return h5py


def _layers_with_weights(model) -> list:
    return [layer for layer in model.layers if layer.weights]


def write_weights(group, model) -> None:
    from xlite.keras import backend
    layers = model.layers
    group.attrs["layer_names"] = np.array([l.name.encode() for l in layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = KERAS_VERSION
    for layer in layers:
        g = group.create_group(layer.name)
        weights = layer.weights
        names = [w.name.encode() for w in weights]
        g.attrs["weight_names"] = np.array(names, dtype="S") if names else np.array([], dtype="S1")
        for name, value in zip(names, backend.batch_get_value(weights)):
            g.create_dataset(name.decode(), data=value)


def read_weights(group, model) -> None:
    from xlite.keras import backend

    def decode(v):
        return v.decode() if isinstance(v, bytes) else str(v)
    saved = []
    for name in group.attrs["layer_names"]:
        g = group[decode(name)]
        names = [decode(n) for n in g.attrs["weight_names"]]
        if names:
            saved.append((decode(name), [np.asarray(g[n]) for n in names]))
    layers = _layers_with_weights(model)
    if len(saved) != len(layers):
        raise ValueError(f"Layer count mismatch when loading weights from file. Model expected {len(layers)} "
                         f"layers, found {len(saved)} saved layers.")
    pairs = []
    for layer, (saved_name, values) in zip(layers, saved):
        if len(values) != len(layer.weights):
            raise ValueError(f"Layer '{layer.name}' expected {len(layer.weights)} weights, but the saved weights "
                             f"(layer '{saved_name}') have {len(values)} elements.")
        for w, v in zip(layer.weights, values):
            if tuple(w.shape.as_list()) != v.shape:
                raise ValueError(f"Shape mismatch in layer '{layer.name}' for weight {w.name}: weight expects "
                                 f"shape {tuple(w.shape.as_list())}, received saved weight with shape {v.shape}")
            pairs.append((w, v))
    backend.batch_set_value(pairs)


def save_weights(model, filepath: str) -> None:
    with _h5py().File(filepath, "w") as f:
        write_weights(f, model)


def load_weights(model, filepath: str) -> None:
    with _h5py().File(filepath, "r") as f:
        read_weights(f["model_weights"] if "model_weights" in f else f, model)


def _training_config(model) -> dict | None:
    if model.optimizer is None or model._compiled_loss is None:
        return None
    from xlite.keras import losses, metrics, optimizers

    def name_of(spec):
        if isinstance(spec, str) or spec is None:
            return spec
        if isinstance(spec, losses.Loss) and type(spec).__name__ in losses._CLASSES:
            return {"class_name": type(spec).__name__, "config": spec.get_config()}
        if isinstance(spec, metrics.Metric):
            return {"class_name": type(spec).__name__, "config": spec.get_config()}
        if callable(spec):
            return spec.__name__
        raise errors.unimplemented(f"model.save: cannot serialize {spec!r} in the training config")

    def walk(spec):
        if isinstance(spec, dict):
            return {k: walk(v) for k, v in spec.items()}
        if isinstance(spec, (list, tuple)):
            return [walk(v) for v in spec]
        return name_of(spec)
    return {"loss": walk(model.loss), "metrics": walk(model._compiled_metrics._specs[0] if len(
        model.output_names) == 1 else model._compiled_metrics._specs),
        "optimizer_config": optimizers.serialize(model.optimizer)}


def save_model(model, filepath: str, include_optimizer: bool = True) -> None:
    from xlite.keras.engine.model_config import to_json
    with _h5py().File(filepath, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = to_json(model).encode()
        training = _training_config(model) if include_optimizer else None
        if training is not None:
            f.attrs["training_config"] = json.dumps(training).encode()
        write_weights(f.create_group("model_weights"), model)


def load_model(filepath: str, custom_objects=None, compile: bool = True):  # noqa: A002
    from xlite.keras.engine.model_config import model_from_json
    with _h5py().File(filepath, "r") as f:
        config = f.attrs.get("model_config")
        if config is None:
            raise ValueError(f"No model config found in the file at {filepath}.")
        model = model_from_json(config.decode() if isinstance(config, bytes) else config, custom_objects)
        read_weights(f["model_weights"], model)
        training = f.attrs.get("training_config")
    if compile and training is not None:
        compile_from_training_config(model, json.loads(training.decode() if isinstance(training, bytes)
                                                       else training))
    return model


def compile_from_training_config(model, training: dict) -> None:
    """model.compile with the optimizer, loss and metrics a saved training config names (also used by the
    SavedModel format, saved_model_format.py)."""
    from xlite.keras import losses, metrics, optimizers

    def revive(spec, make):
        if isinstance(spec, dict) and "class_name" in spec:
            return make(spec)
        if isinstance(spec, dict):
            return {k: revive(v, make) for k, v in spec.items()}
        if isinstance(spec, list):
            return [revive(v, make) for v in spec]
        return spec
    loss = revive(training["loss"], losses.get)
    metric_specs = revive(training["metrics"], lambda s: getattr(metrics, s["class_name"])(**s["config"]))
    model.compile(optimizers.get(training["optimizer_config"]), loss, metrics=metric_specs)
