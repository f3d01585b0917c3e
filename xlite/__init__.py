"""xlite: TensorFlow-1-style graphs, compiled ahead of time. Use it as `import xlite as tf`."""
from __future__ import annotations

import importlib
import sys
import types

from xlite import errors
from xlite.frontend import control_flow_grad as _control_flow_grad  # noqa: F401  (gradients of If, While)
from xlite.frontend import while_grad_grad as _while_grad_grad  # noqa: F401  (WhileGrad's gradient)
from xlite.frontend import overloads as _overloads  # noqa: F401  (operators on Tensor and Variable)
from xlite.frontend import collective_ops as _collective_ops  # noqa: F401  (Horovod-style collective op types)
from xlite.frontend import deferred as _deferred
from xlite.frontend.array_ops import *  # noqa: F401,F403
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.graph import (Graph, GraphKeys, Operation, Tensor, get_default_graph,
                                  reset_default_graph)
from xlite.frontend.math_ops import *  # noqa: F401,F403
from xlite.frontend.matmul_ops import *  # noqa: F401,F403
from xlite.frontend.reduction_ops import *  # noqa: F401,F403
from xlite.frontend.clip_ops import *  # noqa: F401,F403
from xlite.frontend.random_ops import *  # noqa: F401,F403
from xlite.frontend.control_flow_ops import *  # noqa: F401,F403
from xlite.frontend.case_ops import *  # noqa: F401,F403
from xlite.frontend.tensor_array_ops import TensorArray
from xlite.frontend.functional_ops import foldl, foldr, map_fn, scan
from xlite.frontend.einsum_ops import *  # noqa: F401,F403
from xlite.frontend.linalg_ops import *  # noqa: F401,F403
from xlite.frontend.scan_ops import *  # noqa: F401,F403
from xlite.frontend.segment_ops import *  # noqa: F401,F403
from xlite.frontend.sort_ops import argsort, searchsorted, sort
from xlite.frontend.roll_ops import roll
from xlite.frontend.random_sampling import multinomial, random_shuffle
from xlite.frontend.bounded_ops import (bincount, boolean_mask, dynamic_partition, dynamic_stitch, unique,
                                       unique_with_counts)
from xlite.frontend.host_ops import Assert, add_check_numerics_ops, check_numerics, numpy_function, py_func
from xlite.frontend.host_ops import print_v2 as print  # noqa: A001  (TF's tf.print)
from xlite.frontend.assert_ops import *  # noqa: F401,F403
from xlite.frontend.scatter_ops import *  # noqa: F401,F403
from xlite.frontend.sparse_ops import *  # noqa: F401,F403
from xlite.frontend.indexed_slices import IndexedSlices, IndexedSlicesValue
from xlite.frontend import sparse_namespace as sparse
from xlite.frontend.variable_scope import *  # noqa: F401,F403
from xlite.frontend.init_ops import *  # noqa: F401,F403
from xlite.frontend.gradients import gradients
from xlite.frontend.hessians import hessians
from xlite.frontend import init_ops as initializers
from xlite.frontend import layers
from xlite.frontend import losses
from xlite.frontend import debugging_namespace as debugging
from xlite.frontend import linalg_namespace as linalg
from xlite.frontend import math_namespace as math
from xlite.frontend import metrics_namespace as metrics
from xlite.frontend import nn_ops as nn
from xlite.frontend import random_namespace as random
from xlite import train
from xlite.train.moving_averages import moving_average_variables
from xlite.frontend.scopes import (add_to_collection, add_to_collections, control_dependencies, device,
                                  get_collection, get_collection_ref, name_scope)
from xlite.compat.switches import (disable_eager_execution, disable_resource_variables,
                                   disable_v2_behavior, executing_eagerly)
from xlite.frontend.tensor_shape import TensorShape
from xlite.frontend.variables import (Variable, all_variables, assign, assign_add, assign_sub,
                                      global_variables, global_variables_initializer, group,
                                      initialize_all_variables, local_variables,
                                      local_variables_initializer, no_op, placeholder,
                                      placeholder_with_default, trainable_variables,
                                      variables_initializer)
from xlite.ir.dtypes import (DType, as_dtype, bfloat16, float16, float32, float64, int8, int32, int64,
                             uint8, uint32)
from xlite.ir.dtypes import bool_ as bool  # noqa: A001
from xlite.frontend.default_session import get_default_session
from xlite.runtime.session import InteractiveSession, Session
from xlite.eager.context import enable_eager_execution
from xlite.eager.tape import GradientTape, UnconnectedGradients
from xlite.eager.py_function import py_function
from xlite import app, flags, gfile, summary
from xlite import image
from xlite.frontend.image_random import random_crop
from xlite.frontend.sequence_ops import reverse_sequence
from xlite import tf_logging as logging
from xlite.config import ConfigProto, GPUOptions, GraphOptions, OptimizerOptions, RunMetadata, RunOptions
from xlite.summary.summary_ops import (histogram_summary, image_summary, merge_all_summaries, merge_summary,
                                       scalar_summary)
from xlite.tf_logging import deprecated_alias as _deprecated_alias
from xlite.version import __version__  # noqa: F401

double = float64
half = float16
subtract = subtract
sub = subtract
mul = multiply
neg = negative
initialize_all_variables = _deprecated_alias("tf.initialize_all_variables", "tf.global_variables_initializer",
                                             global_variables_initializer)
initialize_local_variables = _deprecated_alias("tf.initialize_local_variables",
                                               "tf.local_variables_initializer", local_variables_initializer)
initialize_variables = _deprecated_alias("tf.initialize_variables", "tf.variables_initializer",
                                         variables_initializer)

# tf.<name> -> (module, its attribute, or None for the module itself): imported on first use, which keeps
# `import xlite` light (#18); their frontend rules load before any is found missing (frontend/deferred.py).
_DEFERRED = {
    "function": ("xlite.function", "function"), "TensorSpec": ("xlite.function", "TensorSpec"),
    "autograph": ("xlite.function.autograph", None),
    "data": ("xlite.data", None), "decode_csv": ("xlite.data.io_ops", "decode_csv"),
    "read_file": ("xlite.data.io_ops", "read_file"),
    "distribute": ("xlite.distribute", None), "keras": ("xlite.keras", None),
    "io": ("xlite.io", None), "graph_util": ("xlite.io.graph_util", None),
    "import_graph_def": ("xlite.io.graph_def", "import_graph_def"),
    "saved_model": ("xlite.saved_model", None),
    "estimator": ("xlite.estimator", None), "feature_column": ("xlite.estimator.feature_column", None),
    "compat": ("xlite.compat", None),
    "strings": ("xlite.strings", None), "string_strip": ("xlite.strings", "strip"),
    **{name: ("xlite.strings", name) for name in ("as_string", "regex_replace", "string", "string_join",
                                                  "string_split", "string_to_hash_bucket_fast", "string_to_number",
                                                  "substr", "reduce_join")},
}
_RULE_PACKAGES = ("xlite.strings", "xlite.data", "xlite.data.graph_loop", "xlite.function", "xlite.io.graph_def",
                  "xlite.saved_model", "xlite.distribute", "xlite.keras", "xlite.estimator",
                  "xlite.estimator.feature_column.string_lookup")   # every module above the frontend with rules


def _load_rule_packages() -> None:
    for module_name in _RULE_PACKAGES:
        importlib.import_module(module_name)


_deferred.add_loader(_load_rule_packages)


class _KerasEstimator:
    """tf.keras.estimator (model_to_estimator), which loads tf.estimator on first use."""

    def __getattr__(self, name):
        return getattr(importlib.import_module("xlite.estimator").keras_namespace, name)


class _XliteModule(types.ModuleType):
    """xlite's own module type: a subpackage imported after `import xlite` cannot shadow a TF name
    (Python sets a package's attribute to each subpackage it imports; tf.function stays the decorator)."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}":
            if name == "function":
                return
            if name == "keras":
                value.estimator = _KerasEstimator()
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _XliteModule


def __dir__():
    return sorted(set(globals()) | set(_DEFERRED))


def __getattr__(name):
    if name in _DEFERRED:
        module_name, attribute = _DEFERRED[name]
        module = importlib.import_module(module_name)
        value = module if attribute is None else getattr(module, attribute)
        globals()[name] = value
        return value
    if name in ("Summary", "Event", "HistogramProto", "SummaryMetadata", "SessionLog"):
        return getattr(summary, name)   # TensorBoard's protos, loaded on first use
    from xlite.frontend.missing_api import missing_api
    raise missing_api("", name, "xlite")
