"""tf.feature_column.input_layer and linear_model: features through columns into one dense tensor, or into
the logits of a linear model, with TF's variable names (input_layer/<column>/..., linear_model/<column>/weights,
linear_model/bias_weights)."""
from __future__ import annotations

from xlite.estimator.feature_column.columns import FeatureTransformationCache, columns_in_order, combine_rows
from xlite.frontend import array_ops, join_ops, math_ops, matmul_ops, nn_ops
from xlite.frontend.init_ops import Zeros
from xlite.frontend.variable_scope import get_variable, variable_scope
from xlite.frontend.variables import Variable


def _is_dense(column) -> bool:
    return hasattr(column, "get_dense_tensor")


def _new_variables(before: set, scope_name: str) -> list:
    from xlite.frontend.variables import global_variables
    return [v for v in global_variables() if v.op.name.startswith(scope_name) and id(v) not in before]


def _variable_ids() -> set:
    from xlite.frontend.variables import global_variables
    return {id(v) for v in global_variables()}


def _publish(new: list, key, weight_collections, cols_to_vars) -> None:
    """A column's Variables into cols_to_vars and weight_collections (TF's two out-arguments)."""
    if cols_to_vars is not None:
        cols_to_vars[key] = new
    for collection in weight_collections or ():
        for v in new:
            v.graph.add_to_collection(collection, v)


def _per_column(columns, build, weight_collections, cols_to_vars) -> list:
    """build(column) for each column in its own variable scope (named after it), its new Variables published."""
    outputs = []
    for column in columns:
        before = _variable_ids()
        with variable_scope(None, default_name=column.name) as scope:
            outputs.append(build(column))
            _publish(_new_variables(before, scope.name + "/"), column, weight_collections, cols_to_vars)
    return outputs


def _dense(column, cache, trainable: bool):
    return array_ops.reshape(column.get_dense_tensor(cache, trainable=trainable), [-1, column.variable_shape[0]])


def input_layer(features, feature_columns, weight_collections=None, trainable=True, cols_to_vars=None,
                cols_to_output_tensors=None):
    """The dense tensors of `feature_columns` (sorted by name) concatenated: [batch, sum of their widths]."""
    columns = columns_in_order(feature_columns)
    for column in columns:
        if not _is_dense(column):
            raise ValueError("Items of feature_columns must be a _DenseColumn. You can wrap a categorical column "
                             f"with an embedding_column or indicator_column. Given: {column}")
    cache = FeatureTransformationCache(features)
    with variable_scope(None, default_name="input_layer", values=list(features.values())):
        outputs = _per_column(columns, lambda column: _dense(column, cache, trainable), weight_collections,
                              cols_to_vars)
    if cols_to_output_tensors is not None:
        cols_to_output_tensors.update(zip(columns, outputs))
    return join_ops.concat(outputs, 1)


def linear_model(features, feature_columns, units=1, sparse_combiner="sum", weight_collections=None,
                 trainable=True, cols_to_vars=None):
    """sum over columns of column @ weights (a categorical column: its ids' weight rows, combined by
    sparse_combiner) plus bias_weights; all weights start at zero, as TF's."""
    columns = columns_in_order(feature_columns)
    cache = FeatureTransformationCache(features)

    def weighted_sum(column):
        if hasattr(column, "get_ids"):
            ids, valid = column.get_ids(cache)
            return combine_rows(_weights("weights", [column.num_buckets, units], trainable), ids, valid,
                                sparse_combiner)
        weights = _weights("weights", [column.variable_shape[0], units], trainable)
        return matmul_ops.matmul(_dense(column, cache, trainable), weights)
    with variable_scope(None, default_name="linear_model", values=list(features.values())):
        weighted = _per_column(columns, weighted_sum, weight_collections, cols_to_vars)
        bias = _weights("bias_weights", [units], trainable)
        _publish([bias], "bias", weight_collections, cols_to_vars)
        total = weighted[0] if len(weighted) == 1 else math_ops.add_n(weighted)
        return nn_ops.bias_add(total, bias, name="weighted_sum")


def _weights(name: str, shape: list, trainable: bool) -> Variable:
    return get_variable(name, shape, initializer=Zeros(), trainable=trainable)
