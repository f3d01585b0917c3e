"""tf.saved_model (TF 1's API): SavedModelBuilder, simple_save, loader.load, signature and tag constants.

The format pieces are xlite/io/saved_model; the builder and loader, Saver users, xlite/train.
"""
from __future__ import annotations

import types

from xlite.io.saved_model import constants, signature_constants, signature_def_utils, tag_constants, utils
from xlite.io.saved_model.constants import (ASSETS_DIRECTORY, ASSETS_KEY, LEGACY_INIT_OP_KEY, MAIN_OP_KEY,
                                            SAVED_MODEL_FILENAME_PB, SAVED_MODEL_FILENAME_PBTXT,
                                            SAVED_MODEL_SCHEMA_VERSION, VARIABLES_DIRECTORY, VARIABLES_FILENAME)
from xlite.io.saved_model.signature_constants import (CLASSIFY_INPUTS, CLASSIFY_METHOD_NAME,
                                                      CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES,
                                                      DEFAULT_SERVING_SIGNATURE_DEF_KEY, PREDICT_INPUTS,
                                                      PREDICT_METHOD_NAME, PREDICT_OUTPUTS, REGRESS_INPUTS,
                                                      REGRESS_METHOD_NAME, REGRESS_OUTPUTS)
from xlite.io.saved_model.signature_def_utils import (build_signature_def, classification_signature_def,
                                                      is_valid_signature, predict_signature_def,
                                                      regression_signature_def)
from xlite.io.saved_model.tag_constants import GPU, SERVING, TPU, TRAINING
from xlite.io.saved_model.utils import build_tensor_info, get_tensor_from_tensor_info
from xlite.train import saved_model_builder as builder
from xlite.train import saved_model_loader as loader
from xlite.train.saved_model_builder import Builder, simple_save
from xlite.train.saved_model_loader import contains_saved_model, load, maybe_saved_model_directory

main_op = types.SimpleNamespace(main_op=builder.main_op)

__all__ = ["builder", "loader", "constants", "signature_constants", "signature_def_utils", "tag_constants", "utils",
           "main_op", "Builder", "simple_save", "load", "contains_saved_model", "maybe_saved_model_directory",
           "build_signature_def", "build_tensor_info", "classification_signature_def",
           "get_tensor_from_tensor_info", "is_valid_signature", "predict_signature_def", "regression_signature_def",
           "ASSETS_DIRECTORY", "ASSETS_KEY", "LEGACY_INIT_OP_KEY", "MAIN_OP_KEY", "SAVED_MODEL_FILENAME_PB",
           "SAVED_MODEL_FILENAME_PBTXT", "SAVED_MODEL_SCHEMA_VERSION", "VARIABLES_DIRECTORY", "VARIABLES_FILENAME",
           "CLASSIFY_INPUTS", "CLASSIFY_METHOD_NAME", "CLASSIFY_OUTPUT_CLASSES", "CLASSIFY_OUTPUT_SCORES",
           "DEFAULT_SERVING_SIGNATURE_DEF_KEY", "PREDICT_INPUTS", "PREDICT_METHOD_NAME", "PREDICT_OUTPUTS",
           "REGRESS_INPUTS", "REGRESS_METHOD_NAME", "REGRESS_OUTPUTS", "GPU", "SERVING", "TPU", "TRAINING"]
