"""More of TF1's tf.metrics that are running means of a derived value: mean_tensor (elementwise),
percentage_below, mean_relative_error, mean_cosine_distance, and mean_per_class_accuracy (per-class sums in
local Variables of shape [num_classes]). Names and formulas are TF's metrics_impl's."""
from __future__ import annotations

from xlite.frontend import array_ops, math_ops, reduction_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.fill_ops import one_hot
from xlite.frontend.metrics_ops import (_mean_outputs, _publish, _squeeze_all, broadcast_weights, graph_only, mean,
                                        metric_variable, remove_squeezable_dimensions)
from xlite.frontend.scopes import control_dependencies, name_scope
from xlite.frontend.variables import assign_add
from xlite.ir import dtypes


@graph_only
def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """The elementwise (weighted) mean of every `values` seen; `values` needs a fully known shape."""
    with name_scope(name, "mean", [values]):
        values = math_ops.cast(values, dtypes.float32)
        total = metric_variable(values.shape.as_list(), dtypes.float32, name="total_tensor")
        count = metric_variable(values.shape.as_list(), dtypes.float32, name="count_tensor")
        num_values = array_ops.ones_like(values)
        if weights is not None:
            values, _, weights = _squeeze_all(values, None, weights)
            weights = broadcast_weights(math_ops.cast(weights, dtypes.float32), values)
            values = values * weights
            num_values = num_values * weights
        update_total = assign_add(total, values)
        return _mean_outputs(total, count, update_total, values, num_values, metrics_collections,
                             updates_collections)


@graph_only
def percentage_below(values, threshold, weights=None, metrics_collections=None, updates_collections=None,
                     name=None):
    """The (weighted) fraction of values below `threshold`."""
    below = math_ops.cast(math_ops.less(values, threshold), dtypes.float32)
    return mean(below, weights, metrics_collections, updates_collections, name or "percentage_below_threshold")


@graph_only
def mean_relative_error(labels, predictions, normalizer, weights=None, metrics_collections=None,
                        updates_collections=None, name=None):
    """The mean of |labels - predictions| / normalizer (0 where the normalizer is 0)."""
    predictions, labels, weights = _squeeze_all(predictions, labels, weights)
    predictions, normalizer = remove_squeezable_dimensions(predictions, normalizer)
    predictions.shape.assert_is_compatible_with(normalizer.shape)
    relative = math_ops.where(math_ops.equal(normalizer, 0.0), array_ops.zeros_like(labels),
                              math_ops.divide(math_ops.abs(labels - predictions), normalizer))
    return mean(relative, weights, metrics_collections, updates_collections, name or "mean_relative_error")


@graph_only
def mean_cosine_distance(labels, predictions, dim: int, weights=None, metrics_collections=None,
                         updates_collections=None, name=None):
    """1 - the mean of sum(labels * predictions) along `dim` (inputs assumed unit-normalized, as TF assumes)."""
    predictions, labels, weights = _squeeze_all(predictions, labels, weights)
    radial = reduction_ops.reduce_sum(predictions * labels, axis=[dim], keepdims=True)
    distance, update = mean(radial, weights, None, None, name or "mean_cosine_distance")
    return (_publish(math_ops.subtract(1.0, distance), metrics_collections),
            _publish(math_ops.subtract(1.0, update), updates_collections))


@graph_only
def mean_per_class_accuracy(labels, predictions, num_classes: int, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """The mean over classes of each class's accuracy (labels give the class); the update op returns the
    per-class accuracies, as TF's does. Per-class sums are one_hot(labels)-weighted column sums."""
    with name_scope(name, "mean_accuracy", [predictions, labels]):
        labels = array_ops.reshape(math_ops.cast(labels, dtypes.int64), [-1])
        predictions = array_ops.reshape(convert_to_tensor(predictions), [-1])
        predictions.shape.assert_is_compatible_with(labels.shape)
        total = metric_variable([num_classes], dtypes.float32, name="total")
        count = metric_variable([num_classes], dtypes.float32, name="count")
        if labels.dtype != predictions.dtype:
            predictions = math_ops.cast(predictions, labels.dtype)
        classes = one_hot(labels, num_classes, dtype=dtypes.float32)          # [n, num_classes]
        is_correct = math_ops.cast(math_ops.equal(predictions, labels), dtypes.float32)
        ones = array_ops.ones_like(is_correct)
        if weights is not None:
            weights = array_ops.reshape(math_ops.cast(weights, dtypes.float32), [-1])
            is_correct, ones = is_correct * weights, ones * weights
        update_total = assign_add(total, reduction_ops.reduce_sum(classes * array_ops.expand_dims(ones, -1), 0))
        update_count = assign_add(count, reduction_ops.reduce_sum(classes * array_ops.expand_dims(is_correct, -1), 0))
        per_class = math_ops.div_no_nan(count, math_ops.maximum(total, 0.0))
        value = reduction_ops.reduce_mean(per_class, name="mean_accuracy")
        update_op = math_ops.div_no_nan(update_count, math_ops.maximum(update_total, 0.0), name="update_op")
        return _publish(value, metrics_collections), _publish(update_op, updates_collections)
