"""tf.estimator.export: serving input receivers, export outputs, and the SavedModel an Estimator writes.

A receiver's tensors are the SavedModel's inputs; each export output becomes a SignatureDef. As in TF, the
classification and regression signatures need one serialized tf.Example (string) input, so a raw receiver
keeps only the predict ones (TF logs the others as excluded; so does xlite).
"""
from __future__ import annotations

import os
import shutil
import time

from xlite import errors, tf_logging
from xlite.frontend.graph import Tensor, get_default_graph
from xlite.frontend.variables import group, local_variables_initializer, placeholder
from xlite.io.saved_model import signature_constants, signature_def_utils, tag_constants
from xlite.runtime.session import Session
from xlite.train.saved_model_builder import ASSET_FILEPATHS, SavedModelBuilder
from xlite.train.saver import Saver

SINGLE_FEATURE_DEFAULT_NAME = "feature"
SINGLE_RECEIVER_DEFAULT_NAME = "input"


def _as_dict(tensors, default_name: str) -> dict:
    if tensors is None:
        return {}
    if isinstance(tensors, Tensor):
        return {default_name: tensors}
    if not isinstance(tensors, dict):
        raise ValueError(f"{default_name} must be a Tensor or a dict of Tensors, given: {tensors}")
    for key, value in tensors.items():
        if not isinstance(key, str):
            raise ValueError(f"{default_name} keys must be strings: {key}.")
        if not isinstance(value, Tensor):
            raise ValueError(f"{default_name} {key} must be a Tensor: {value}.")
    return dict(tensors)


class ServingInputReceiver:
    """The features a served model_fn sees and the receiver tensors (placeholders) a client feeds."""

    def __init__(self, features, receiver_tensors, receiver_tensors_alternatives=None):
        self.features = features if isinstance(features, dict) else _as_dict(features, SINGLE_FEATURE_DEFAULT_NAME)
        _as_dict(self.features, SINGLE_FEATURE_DEFAULT_NAME)
        self.receiver_tensors = _as_dict(receiver_tensors, SINGLE_RECEIVER_DEFAULT_NAME)
        if not self.receiver_tensors:
            raise ValueError("receiver_tensors must be defined.")
        self.receiver_tensors_alternatives = receiver_tensors_alternatives


class TensorServingInputReceiver(ServingInputReceiver):
    """A receiver whose features are one Tensor, handed to model_fn as it is (not wrapped in a dict)."""

    def __init__(self, features, receiver_tensors, receiver_tensors_alternatives=None):
        super().__init__({SINGLE_FEATURE_DEFAULT_NAME: features}, receiver_tensors, receiver_tensors_alternatives)
        self.features = features


def build_raw_serving_input_receiver_fn(features, default_batch_size=None):
    """A receiver_fn whose placeholders copy the dtypes and (batch-free) shapes of `features`, fed as they are."""
    def serving_input_receiver_fn():
        receiver = {}
        for name, t in _as_dict(features, SINGLE_FEATURE_DEFAULT_NAME).items():
            dims = t.shape.as_list() if t.shape.ndims is not None else None
            shape = None if dims is None else [default_batch_size] + dims[1:]
            receiver[name] = placeholder(t.dtype, shape, name=t.op.name)
        if isinstance(features, Tensor):
            return TensorServingInputReceiver(receiver[SINGLE_FEATURE_DEFAULT_NAME], receiver)
        return ServingInputReceiver(receiver, receiver)
    return serving_input_receiver_fn


def build_parsing_serving_input_receiver_fn(feature_spec, default_batch_size=None):
    """TF parses serialized tf.Example strings with tf.io.parse_example, which xlite does not have."""
    raise errors.unimplemented("tf.estimator.export.build_parsing_serving_input_receiver_fn: xlite has no "
                               "tf.io.parse_example (serialized tf.Example input); use "
                               "build_raw_serving_input_receiver_fn")


# export outputs ----------------------------------------------------------------------------------------
class ExportOutput:
    """One SignatureDef of an exported model, built on the receiver's tensors."""

    def as_signature_def(self, receiver_tensors: dict):
        raise NotImplementedError


class PredictOutput(ExportOutput):
    """Any named output tensors (TF Serving's Predict API)."""

    def __init__(self, outputs):
        self._outputs = _as_dict(outputs, "output")

    outputs = property(lambda self: self._outputs)

    def as_signature_def(self, receiver_tensors: dict):
        return signature_def_utils.predict_signature_def(receiver_tensors, self._outputs)


def _single_string_input(receiver_tensors: dict, what: str) -> Tensor:
    from xlite.data import structure
    if len(receiver_tensors) != 1 or next(iter(receiver_tensors.values())).dtype is not structure.string:
        raise ValueError(f"{what} input must be a single string Tensor; got {receiver_tensors}")
    return next(iter(receiver_tensors.values()))


class ClassificationOutput(ExportOutput):
    """Float scores and/or string classes for TF Serving's Classify API (one string input)."""

    def __init__(self, scores=None, classes=None):
        if scores is None and classes is None:
            raise ValueError("At least one of scores and classes must be set.")
        self.scores, self.classes = scores, classes

    def as_signature_def(self, receiver_tensors: dict):
        examples = _single_string_input(receiver_tensors, "Classification")
        return signature_def_utils.classification_signature_def(examples, self.classes, self.scores)


class RegressionOutput(ExportOutput):
    """Float predictions for TF Serving's Regress API (one string input)."""

    def __init__(self, value):
        if not isinstance(value, Tensor) or not value.dtype.is_floating:
            raise ValueError(f"Regression output value must be a float32 Tensor; got {value}")
        self.value = value

    def as_signature_def(self, receiver_tensors: dict):
        return signature_def_utils.regression_signature_def(_single_string_input(receiver_tensors, "Regression"),
                                                            self.value)


def build_all_signature_defs(receiver_tensors: dict, export_outputs: dict) -> dict:
    """{key: SignatureDef}, leaving out (and logging) the outputs the receiver cannot serve."""
    signatures, excluded = {}, {}
    for key, output in export_outputs.items():
        if not isinstance(output, ExportOutput):
            raise ValueError(f"export_outputs must be a dict of ExportOutput; got {output} for {key}")
        try:
            signatures[key] = output.as_signature_def(receiver_tensors)
        except ValueError as e:
            excluded[key] = str(e)
    if excluded:
        tf_logging.warning("Signatures EXCLUDED from export because they cannot be be served via TensorFlow "
                           "Serving APIs:\n%s", "\n".join(f"'{k}' : {v}" for k, v in excluded.items()))
    tf_logging.info("Signatures INCLUDED in export for Predict: %s", sorted(signatures))
    if signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY not in signatures:
        tf_logging.warning("Export includes no default signature!")
    return signatures


def _timestamped_dir(export_dir_base: str) -> str:
    for _ in range(10):
        path = os.path.join(export_dir_base, str(int(time.time())))
        if not os.path.exists(path):
            return path
        time.sleep(1)
    raise RuntimeError("Failed to obtain a unique export directory name after 10 attempts.")


def write_saved_model(export_dir_base, receiver: ServingInputReceiver, spec, checkpoint_path: str, assets_extra,
                      as_text: bool) -> bytes:
    """Restores `checkpoint_path` into the serving graph and writes it as a SavedModel (tag "serve") under a
    new timestamped directory, written in a temp directory first and renamed, as TF does."""
    export_outputs = spec.export_outputs or {
        signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: PredictOutput(spec.predictions)}
    signatures = build_all_signature_defs(receiver.receiver_tensors, export_outputs)
    export_dir_base = os.fsdecode(export_dir_base)
    export_dir = _timestamped_dir(export_dir_base)
    temp_dir = os.path.join(export_dir_base, "temp-" + os.path.basename(export_dir))
    graph = get_default_graph()
    main_op = group(local_variables_initializer())
    saver = Saver(sharded=True, allow_empty=True)
    with Session(graph=graph) as session:
        saver.restore(session, checkpoint_path)
        builder = SavedModelBuilder(temp_dir)
        builder.add_meta_graph_and_variables(session, [tag_constants.SERVING], signature_def_map=signatures,
                                             assets_collection=graph.get_collection(ASSET_FILEPATHS),
                                             main_op=main_op, saver=saver)
        builder.save(as_text)
    if assets_extra:
        extra_dir = os.path.join(temp_dir, "assets.extra")
        for dest_relative, source in assets_extra.items():
            dest = os.path.join(extra_dir, dest_relative)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(source, dest)
    os.rename(temp_dir, export_dir)
    tf_logging.info("SavedModel written to: %s", export_dir)
    return export_dir.encode()
