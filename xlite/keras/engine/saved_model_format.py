"""Model.save(DIR) / load_model(DIR): a Keras model as a TF SavedModel directory.

The directory is an ordinary SavedModel (tf.saved_model's builder): tag "serve", the
"serving_default" predict signature from the model's input layer names to its output names, and every
Variable of the graph under its graph name in `variables/variables`, so tf.saved_model.loader.load
and `xlite compile --saved-model DIR` (and TF 1's loader) read it like any other. To rebuild the Keras
object, the model's JSON config, its training config and the variable names of `model.weights`, in
order, go to `assets.extra/keras_model.json` (assets.extra: files a SavedModel carries that its graph
does not read). TF 2's Keras writes its own object graph instead, which xlite does not read.
"""
from __future__ import annotations

import json
import os
import shutil

from xlite import errors
from xlite.keras import backend

METADATA = os.path.join("assets.extra", "keras_model.json")
_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt", "variables", "assets", "assets.extra")


def save_model(model, filepath: str, overwrite: bool = True, include_optimizer: bool = True) -> None:
    from xlite.io.saved_model import signature_constants, signature_def_utils, tag_constants
    from xlite.keras.engine import hdf5
    from xlite.keras.engine.model_config import to_json
    from xlite.train.saved_model_builder import SavedModelBuilder
    if model.inputs is None:
        raise errors.unimplemented("Model.save to a SavedModel needs a model with known inputs (a Sequential with "
                                   "an input shape, or a functional model); subclassed models are not supported "
                                   "by xlite yet")
    if overwrite and os.path.isdir(filepath):
        for name in _SAVED_MODEL_FILES:      # only the SavedModel's own files: anything else stays
            path = os.path.join(filepath, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)
    signature = signature_def_utils.predict_signature_def(dict(zip(model.input_names, model.inputs)),
                                                          dict(zip(model.output_names, model.outputs)))
    builder = SavedModelBuilder(filepath)
    builder.add_meta_graph_and_variables(
        backend.get_session(), [tag_constants.SERVING],
        signature_def_map={signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: signature})
    builder.save()
    metadata = {"model_config": json.loads(to_json(model)),
                "training_config": hdf5._training_config(model) if include_optimizer else None,
                "weights": [w.op.name for w in model.weights]}
    os.makedirs(os.path.join(filepath, "assets.extra"), exist_ok=True)
    with open(os.path.join(filepath, METADATA), "w") as f:
        json.dump(metadata, f)


def load_model(filepath: str, custom_objects=None, compile: bool = True):  # noqa: A002
    """The Keras model `save_model` wrote: rebuilt from its config, weights read from the SavedModel's
    variables (by the names they had when saved, so the new model's own names do not matter)."""
    from xlite.io.saved_model import constants
    from xlite.keras.engine import hdf5
    from xlite.keras.engine.model_config import model_from_json
    from xlite.train.checkpoint_reader import CheckpointReader
    path = os.path.join(filepath, METADATA)
    if not os.path.exists(path):
        raise errors.unimplemented(f"{filepath} is a SavedModel without xlite's Keras metadata ({METADATA}); load "
                                   "it with tf.saved_model.loader.load")
    with open(path) as f:
        metadata = json.load(f)
    model = model_from_json(json.dumps(metadata["model_config"]), custom_objects)
    reader = CheckpointReader(os.path.join(filepath, constants.VARIABLES_DIRECTORY, constants.VARIABLES_FILENAME))
    model.set_weights([reader.get_tensor(name) for name in metadata["weights"]])
    if compile and metadata.get("training_config") is not None:
        hdf5.compile_from_training_config(model, metadata["training_config"])
    return model
