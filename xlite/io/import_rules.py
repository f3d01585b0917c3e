"""TF op types that xlite builds from others when importing a GraphDef.

xlite's frontend makes some of TF's ops from smaller ones (Softmax is exp, sum and divide), and
some older TF op types have a newer twin xlite implements (Add is AddV2 without string support).
Each rule here builds a TF node's outputs from its inputs and attrs through the frontend, so an
imported graph computes what TF's does; graph_def.import_graph_def consults the table before
refusing an op type. Facts per op type live in this one table.
"""
from __future__ import annotations

from typing import Callable

from xlite.frontend import math_ops, nn_ops, nn_softmax
from xlite.frontend.op_registry import make_op, rule_decorator

# TF op type -> (rule(inputs, attrs) -> output tensors)
IMPORT_RULES: dict[str, Callable] = {}
# older TF op type -> xlite's op type with the same inputs, outputs and attrs
RENAMED = {"Add": "AddV2", "BatchMatMul": "BatchMatMulV2", "BatchMatMulV3": "BatchMatMulV2"}


def _variable(attrs: dict) -> tuple[str, dict]:
    return "VariableV2", {"shape": attrs["shape"], "dtype": attrs["dtype"]}


def _update(op_type: str):
    return lambda attrs: (op_type, {"validate_shape": attrs.get("validate_shape", op_type != "Assign")})


# TF's resource-variable op types -> (xlite's reference-variable op type, its attrs): a VarHandleOp
# becomes the VariableV2 its reads and assignments name; ReadVariableOp is xlite's own fresh read.
REWRITES = {"VarHandleOp": _variable, "AssignVariableOp": _update("Assign"),
            "AssignAddVariableOp": _update("AssignAdd"), "AssignSubVariableOp": _update("AssignSub")}
# op types left out of an import when no other node uses them (TF's initialization checks)
DROPPABLE = {"VarIsInitializedOp", "IsVariableInitialized"}


rule = rule_decorator(IMPORT_RULES)


@rule("Softmax")
def _softmax(inputs, attrs):
    return [nn_softmax.softmax(inputs[0])]


@rule("LogSoftmax")
def _log_softmax(inputs, attrs):
    return [nn_softmax.log_softmax(inputs[0])]


@rule("Div")
def _div(inputs, attrs):
    x, y = inputs
    if x.dtype.is_integer:     # TF's Div truncates integers toward zero
        return [make_op("TruncateDiv", [x, y]).outputs[0]]
    return [make_op("RealDiv", [x, y]).outputs[0]]


@rule("DivNoNan")
def _div_no_nan(inputs, attrs):
    return [math_ops.div_no_nan(inputs[0], inputs[1])]


@rule("Select")
def _select(inputs, attrs):
    cond, x, y = inputs
    if cond.shape.ndims == 1 and x.shape.ndims is not None and x.shape.ndims > 1:   # TF1 Select: per row
        cond = make_op("Reshape", [cond, _const([-1] + [1] * (x.shape.ndims - 1))]).outputs[0]
    return [make_op("SelectV2", [cond, x, y]).outputs[0]]


@rule("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")
def _fused_batch_norm(inputs, attrs):
    """Inference form (is_training false): the saved mean and variance; the other outputs echo them."""
    from xlite import errors
    x, scale, offset, mean, variance = inputs[:5]
    if attrs.get("is_training", True):
        raise errors.UnimplementedError(None, None, "FusedBatchNorm with is_training=true (a training graph) is "
                                        "not supported by import_graph_def; freeze the inference graph")
    if attrs.get("data_format", "NHWC") not in ("NHWC", "NDHWC"):
        raise errors.UnimplementedError(None, None, "FusedBatchNorm import supports channels-last data only")
    y = nn_ops.batch_normalization(x, mean, variance, offset, scale, attrs.get("epsilon", 1e-4))
    return [y, mean, variance, mean, variance, mean]   # V3's sixth output (reserve_space_3) unused here too


def _const(values):
    import numpy as np

    from xlite.frontend.convert import constant
    return constant(np.asarray(values, dtype=np.int32))
