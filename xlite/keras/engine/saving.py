"""save_weights / load_weights in TF's checkpoint format, through tf.train.Saver's public API.

The keys are Keras' object-based ones for layer weights
(`layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`), so a checkpoint names
each weight by the layer's position among the layers that have weights, not by
the graph's (uniquified) Variable names: a model built again in a fresh graph
loads it. HDF5 files (`.h5`, needing h5py) are hdf5.py's.
"""
from __future__ import annotations

import os

from xlite import errors
from xlite.frontend.graph import executing_eagerly
from xlite.keras import backend
from xlite.semantics.world import is_chief


def _is_h5(filepath: str, save_format) -> bool:
    return save_format in ("h5", "hdf5", "keras") or str(filepath).endswith((".h5", ".hdf5", ".keras"))


def weight_keys(model) -> dict:
    """{checkpoint key: Variable} for every weight of every layer that has weights, in Keras' order."""
    keys = {}
    index = 0
    for layer in model.layers:
        weights = layer.weights
        if not weights:
            continue
        for w in weights:
            short = w.name.split(":")[0]
            prefix = layer.name + "/"
            short = short[len(prefix):] if short.startswith(prefix) else short.rsplit("/", 1)[-1]
            keys[f"layer_with_weights-{index}/{short}/.ATTRIBUTES/VARIABLE_VALUE"] = w
        index += 1
    return keys


def _saver(model):
    from xlite.train.saver import Saver
    if executing_eagerly():
        raise errors.unimplemented("Model.save_weights/load_weights while executing eagerly is not supported by "
                                   "xlite yet")
    return Saver(weight_keys(model))


def save_weights(model, filepath, save_format=None) -> None:
    filepath = os.fspath(filepath)
    if not is_chief():          # data-parallel replicas hold the same weights: rank 0 writes them
        return
    if _is_h5(filepath, save_format):
        from xlite.keras.engine import hdf5
        hdf5.save_weights(model, filepath)
        return
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    _saver(model).save(backend.get_session(), filepath, write_meta_graph=False)


def load_weights(model, filepath, by_name: bool = False):
    filepath = os.fspath(filepath)
    if _is_h5(filepath, None):
        from xlite.keras.engine import hdf5
        if by_name:
            raise errors.unimplemented("Model.load_weights(by_name=True) is not supported by xlite yet")
        hdf5.load_weights(model, filepath)
        return
    if by_name:
        raise errors.unimplemented("Model.load_weights(by_name=True) is not supported by xlite yet")
    if os.path.isdir(filepath):
        from xlite.train.saver import latest_checkpoint
        filepath = latest_checkpoint(filepath)
    _saver(model).restore(backend.get_session(), filepath)


def save_model(model, filepath, overwrite=True, include_optimizer=True, save_format=None) -> None:
    """HDF5 (`.h5`, or save_format='h5'), else a SavedModel directory (saved_model_format.py); only rank 0
    of a data-parallel world writes."""
    filepath = os.fspath(filepath)
    if not is_chief():
        return
    if not _is_h5(filepath, save_format):
        from xlite.keras.engine import saved_model_format
        saved_model_format.save_model(model, filepath, overwrite, include_optimizer)
        return
    from xlite.keras.engine import hdf5
    hdf5.save_model(model, filepath, include_optimizer)


def load_model(filepath, custom_objects=None, compile=True, options=None):  # noqa: A002
    filepath = os.fspath(filepath)
    if os.path.isdir(filepath):
        from xlite.keras.engine import saved_model_format
        return saved_model_format.load_model(filepath, custom_objects, compile)
    from xlite.keras.engine import hdf5
    return hdf5.load_model(filepath, custom_objects, compile)
