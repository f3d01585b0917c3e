"""TF1's streaming metrics (`tf.metrics`): each keeps running sums in local Variables and returns
(value, update_op), as TF's metrics_impl does, with TF's variable names (`accuracy/total`, ...) so
checkpoints and `tf.local_variables()` line up. All arithmetic is graph ops, so it compiles with the run.
The threshold-based metrics (AUC, *_at_thresholds) are in metrics_thresholds.py."""
from __future__ import annotations

import functools

from xlite.frontend import array_ops, math_ops, reduction_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.fill_ops import one_hot, zeros
from xlite.frontend.graph import GraphKeys, Tensor, executing_eagerly
from xlite.frontend.linalg_ops import diag_part
from xlite.frontend.matmul_ops import matmul
from xlite.frontend.scopes import add_to_collections, control_dependencies, name_scope
from xlite.frontend.shape_ops import size
from xlite.frontend.variables import Variable, assign_add
from xlite.ir import dtypes


def graph_only(metric):
    """TF1's metrics keep their sums in graph Variables updated by an op the caller runs: eagerly there is no
    such op, so TF raises RuntimeError, and so does xlite."""
    @functools.wraps(metric)
    def checked(*args, **kwargs):
        if executing_eagerly():
            raise RuntimeError(f"tf.metrics.{metric.__name__} is not supported when eager execution is enabled.")
        return metric(*args, **kwargs)
    return checked


def metric_variable(shape, dtype, validate_shape: bool = True, name: str | None = None) -> Variable:
    """A zero-initialized, non-trainable Variable in LOCAL_VARIABLES and METRIC_VARIABLES (TF's helper)."""
    return Variable(lambda: zeros(shape, dtype), trainable=False,
                    collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES],
                    validate_shape=validate_shape, name=name)


def _publish(tensor: Tensor, collections) -> Tensor:
    if collections:
        add_to_collections(collections, tensor)
    return tensor


def remove_squeezable_dimensions(labels, predictions):
    """Squeezes a trailing size-1 dim off whichever of labels/predictions has one more dim (TF's rule)."""
    labels, predictions = convert_to_tensor(labels), convert_to_tensor(predictions)
    lrank, prank = labels.shape.ndims, predictions.shape.ndims
    if lrank is not None and prank is not None:
        if prank - lrank == 1 and predictions.shape.as_list()[-1] in (1, None):
            predictions = array_ops.squeeze(predictions, [-1])
        elif prank - lrank == -1 and labels.shape.as_list()[-1] in (1, None):
            labels = array_ops.squeeze(labels, [-1])
    return labels, predictions


def _squeeze_all(predictions, labels=None, weights=None):
    """TF's metrics `_remove_squeezable_dimensions`: labels against predictions, then weights to their rank."""
    predictions = convert_to_tensor(predictions)
    if labels is not None:
        labels, predictions = remove_squeezable_dimensions(labels, predictions)
        predictions.shape.assert_is_compatible_with(labels.shape)
    if weights is None:
        return predictions, labels, None
    weights = convert_to_tensor(weights)
    wrank, prank = weights.shape.ndims, predictions.shape.ndims
    if wrank not in (0, None) and prank is not None:
        if wrank - prank == 1:
            weights = array_ops.squeeze(weights, [-1])
        elif prank - wrank == 1:
            weights = array_ops.expand_dims(weights, -1)
    return predictions, labels, weights


def broadcast_weights(weights, values) -> Tensor:
    """`weights` broadcast to `values`' shape (TF's weights_broadcast_ops.broadcast_weights)."""
    weights, values = convert_to_tensor(weights), convert_to_tensor(values)
    if weights.shape.is_fully_defined() and values.shape.is_fully_defined() and weights.shape == values.shape:
        return weights
    return math_ops.multiply(weights, array_ops.ones_like(values, dtype=weights.dtype))


def _mean_outputs(total, count, update_total, values, num_values, metrics_collections, updates_collections):
    """The shared end of a streaming mean: count += num_values after `values`, then (value, update_op) as
    total / count, published to their collections."""
    with control_dependencies([values]):
        update_count = assign_add(count, num_values)
    value = math_ops.div_no_nan(total, math_ops.maximum(count, 0.0), name="value")
    update_op = math_ops.div_no_nan(update_total, math_ops.maximum(update_count, 0.0), name="update_op")
    return _publish(value, metrics_collections), _publish(update_op, updates_collections)


@graph_only
def mean(values, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """The (weighted) mean of every value seen: total / count, both local Variables."""
    with name_scope(name, "mean", [values]):
        values = math_ops.cast(values, dtypes.float32)
        total = metric_variable([], dtypes.float32, name="total")
        count = metric_variable([], dtypes.float32, name="count")
        if weights is None:
            num_values = math_ops.cast(size(values), dtypes.float32)
        else:
            values, _, weights = _squeeze_all(values, None, weights)
            weights = broadcast_weights(math_ops.cast(weights, dtypes.float32), values)
            values = math_ops.multiply(values, weights)
            num_values = reduction_ops.reduce_sum(weights)
        update_total = assign_add(total, reduction_ops.reduce_sum(values))
        return _mean_outputs(total, count, update_total, values, num_values, metrics_collections,
                             updates_collections)


@graph_only
def accuracy(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """How often predictions equal labels (predictions cast to the labels' dtype), as a weighted mean."""
    predictions, labels, weights = _squeeze_all(predictions, labels, weights)
    predictions.shape.assert_is_compatible_with(labels.shape)
    if labels.dtype != predictions.dtype:
        predictions = math_ops.cast(predictions, labels.dtype)
    is_correct = math_ops.cast(math_ops.equal(predictions, labels), dtypes.float32)
    return mean(is_correct, weights, metrics_collections, updates_collections, name or "accuracy")


@graph_only
def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                        name=None):
    predictions, labels, weights = _squeeze_all(predictions, labels, weights)
    errors = math_ops.abs(predictions - labels)
    return mean(errors, weights, metrics_collections, updates_collections, name or "mean_absolute_error")


@graph_only
def mean_squared_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                       name=None):
    predictions, labels, weights = _squeeze_all(predictions, labels, weights)
    errors = math_ops.squared_difference(labels, predictions)
    return mean(errors, weights, metrics_collections, updates_collections, name or "mean_squared_error")


@graph_only
def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                           updates_collections=None, name=None):
    """sqrt of mean_squared_error; the Variables are `root_mean_squared_error/total` and `/count`."""
    mse, update_mse = mean_squared_error(labels, predictions, weights, None, None,
                                         name or "root_mean_squared_error")
    return (_publish(math_ops.sqrt(mse), metrics_collections),
            _publish(math_ops.sqrt(update_mse), updates_collections))


# counts of a condition -----------------------------------------------------------------------------
def _count_condition(values, weights=None, metrics_collections=None, updates_collections=None):
    """The (weighted) number of true `values`, in a local Variable `count`."""
    count = metric_variable([], dtypes.float32, name="count")
    values = math_ops.cast(values, dtypes.float32)
    if weights is not None:
        values = math_ops.multiply(values, math_ops.cast(weights, dtypes.float32))
    value = math_ops.identity(count)
    update_op = assign_add(count, reduction_ops.reduce_sum(values))
    return _publish(value, metrics_collections), _publish(update_op, updates_collections)


def _confusion_count(kind: str, want_label: bool, want_prediction: bool):
    def metric(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
        with name_scope(name, kind, [predictions, labels]):
            predictions, labels, weights = _squeeze_all(math_ops.cast(predictions, dtypes.bool_),
                                                        math_ops.cast(labels, dtypes.bool_), weights)
            label_ok = labels if want_label else math_ops.logical_not(labels)
            prediction_ok = predictions if want_prediction else math_ops.logical_not(predictions)
            return _count_condition(math_ops.logical_and(label_ok, prediction_ok), weights,
                                    metrics_collections, updates_collections)
    metric.__name__ = kind
    metric.__doc__ = f"The (weighted) count of {kind.replace('_', ' ')} (labels and predictions as bools)."
    return graph_only(metric)


true_positives = _confusion_count("true_positives", True, True)
false_positives = _confusion_count("false_positives", False, True)
false_negatives = _confusion_count("false_negatives", True, False)
true_negatives = _confusion_count("true_negatives", False, False)


def _ratio(numerator, other, name):
    """numerator / (numerator + other), 0 where both are 0 (precision and recall)."""
    denominator = numerator + other
    return math_ops.where(math_ops.greater(denominator, 0.0), math_ops.divide(numerator, denominator),
                           array_ops.zeros_like(numerator), name=name)


def _ratio_metric(kind: str, other_count, labels, predictions, weights, metrics_collections,
                  updates_collections, name):
    with name_scope(name, kind, [predictions, labels]):
        predictions, labels, weights = _squeeze_all(math_ops.cast(predictions, dtypes.bool_),
                                                    math_ops.cast(labels, dtypes.bool_), weights)
        tp, tp_update = true_positives(labels, predictions, weights)
        other, other_update = other_count(labels, predictions, weights)
        value = _ratio(tp, other, "value")
        update_op = _ratio(tp_update, other_update, "update_op")
        return _publish(value, metrics_collections), _publish(update_op, updates_collections)


@graph_only
def precision(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """tp / (tp + fp), from the local counts `precision/true_positives/count` and `.../false_positives/count`."""
    return _ratio_metric("precision", false_positives, labels, predictions, weights, metrics_collections,
                         updates_collections, name)


@graph_only
def recall(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """tp / (tp + fn), from the local counts `recall/true_positives/count` and `.../false_negatives/count`."""
    return _ratio_metric("recall", false_negatives, labels, predictions, weights, metrics_collections,
                         updates_collections, name)


# mean IoU ------------------------------------------------------------------------------------------
def _confusion_matrix(labels, predictions, num_classes, weights) -> Tensor:
    """float64 [num_classes, num_classes], rows labels and columns predictions: one_hot(labels)^T @ one_hot(preds)."""
    rows = one_hot(math_ops.cast(labels, dtypes.int64), num_classes, dtype=dtypes.float64)
    cols = one_hot(math_ops.cast(predictions, dtypes.int64), num_classes, dtype=dtypes.float64)
    if weights is not None:
        rows = rows * array_ops.expand_dims(math_ops.cast(weights, dtypes.float64), -1)
    return matmul(rows, cols, transpose_a=True)


@graph_only
def mean_iou(labels, predictions, num_classes: int, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """Mean over classes that occur of diag / (row sum + column sum - diag) of the running confusion matrix
    (`mean_iou/total_confusion_matrix`, float64); the update op returns the updated matrix, as TF's does."""
    with name_scope(name, "mean_iou", [predictions, labels]):
        predictions, labels = convert_to_tensor(predictions), convert_to_tensor(labels)
        predictions.shape.assert_is_compatible_with(labels.shape)
        total_cm = metric_variable([num_classes, num_classes], dtypes.float64, name="total_confusion_matrix")
        if weights is not None:
            weights = array_ops.reshape(broadcast_weights(math_ops.cast(weights, dtypes.float64), labels), [-1])
        predictions = array_ops.reshape(predictions, [-1])
        labels = array_ops.reshape(labels, [-1])
        update_op = assign_add(total_cm, _confusion_matrix(labels, predictions, num_classes, weights))
        cm = convert_to_tensor(total_cm)
        sum_over_row = math_ops.cast(reduction_ops.reduce_sum(cm, 0), dtypes.float32)
        sum_over_col = math_ops.cast(reduction_ops.reduce_sum(cm, 1), dtypes.float32)
        cm_diag = math_ops.cast(diag_part(cm), dtypes.float32)
        denominator = sum_over_row + sum_over_col - cm_diag
        num_valid = reduction_ops.reduce_sum(math_ops.cast(math_ops.not_equal(denominator, 0.0), dtypes.float32))
        denominator = math_ops.where(math_ops.greater(denominator, 0.0), denominator,
                                      array_ops.ones_like(denominator))
        iou = math_ops.divide(cm_diag, denominator)
        value = math_ops.where(math_ops.greater(num_valid, 0.0),
                                reduction_ops.reduce_sum(iou, name="mean_iou") / num_valid,
                                array_ops.zeros_like(num_valid))
        return _publish(value, metrics_collections), _publish(update_op, updates_collections)

