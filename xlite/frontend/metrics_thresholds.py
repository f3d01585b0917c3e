"""TF1's threshold metrics: `auc` and the `*_at_thresholds` family. Each counts, per threshold, the (weighted)
examples whose prediction is above it, in local Variables of shape [num_thresholds] named as TF names them
(`auc/true_positives`, `auc/false_negatives`, ...); the curve is summed from those counts with TF's
threshold placement and epsilons, so values match TF's to float32 rounding."""
from __future__ import annotations

from xlite import tf_logging
from xlite.frontend import array_ops, math_ops, reduction_ops
from xlite.frontend.convert import constant
from xlite.frontend.metrics_ops import _publish, _squeeze_all, broadcast_weights, graph_only, metric_variable
from xlite.frontend.scopes import name_scope
from xlite.frontend.variables import assign_add
from xlite.ir import dtypes

_ALL = ("tp", "fn", "tn", "fp")
_VARIABLE_NAMES = {"tp": "true_positives", "fn": "false_negatives", "tn": "true_negatives",
                   "fp": "false_positives"}


def confusion_matrix_at_thresholds(labels, predictions, thresholds, weights=None, includes=_ALL):
    """({kind: Variable}, {kind: update}) for kinds among tp, fn, tn, fp: a prediction is positive at a
    threshold when it is strictly greater than it."""
    predictions, labels, weights = _squeeze_all(math_ops.cast(predictions, dtypes.float32),
                                                math_ops.cast(labels, dtypes.bool_), weights)
    num_thresholds = len(thresholds)
    predictions_row = array_ops.reshape(predictions, [1, -1])
    labels_row = array_ops.reshape(labels, [1, -1])
    column = array_ops.reshape(constant([float(t) for t in thresholds], dtype=dtypes.float32), [-1, 1])
    pred_is_pos = math_ops.greater(predictions_row, column)                       # [thresholds, n] by broadcasting
    label_is_pos = math_ops.logical_and(labels_row, array_ops.ones_like(pred_is_pos))
    weights_row = None
    if weights is not None:
        weights_row = array_ops.reshape(broadcast_weights(math_ops.cast(weights, dtypes.float32), predictions),
                                        [1, -1])
    values, updates = {}, {}
    for kind in _ALL:
        if kind not in includes:
            continue
        label = label_is_pos if kind in ("tp", "fn") else math_ops.logical_not(label_is_pos)
        pred = pred_is_pos if kind in ("tp", "fp") else math_ops.logical_not(pred_is_pos)
        variable = metric_variable([num_thresholds], dtypes.float32, name=_VARIABLE_NAMES[kind])
        hits = math_ops.cast(math_ops.logical_and(label, pred), dtypes.float32)
        if weights_row is not None:
            hits = hits * weights_row
        updates[kind] = assign_add(variable, reduction_ops.reduce_sum(hits, 1))
        values[kind] = variable
    return values, updates


def _interpolate_pr_auc(tp, fp, fn, n):
    """Davis & Goadrich's interpolation of precision between thresholds (summation_method
    'careful_interpolation' for curve 'PR')."""
    dtp = tp[:n - 1] - tp[1:]
    p = tp + fp
    prec_slope = math_ops.div_no_nan(dtp, math_ops.maximum(p[:n - 1] - p[1:], 0.0), name="prec_slope")
    intercept = tp[1:] - prec_slope * p[1:]
    safe_p_ratio = math_ops.where(
        math_ops.logical_and(math_ops.greater(p[:n - 1], 0.0), math_ops.greater(p[1:], 0.0)),
        math_ops.div_no_nan(p[:n - 1], math_ops.maximum(p[1:], 0.0), name="recall_relative_ratio"),
        array_ops.ones_like(p[1:]))
    return reduction_ops.reduce_sum(
        math_ops.div_no_nan(prec_slope * (dtp + intercept * math_ops.log(safe_p_ratio)),
                            math_ops.maximum(tp[1:] + fn[1:], 0.0), name="pr_auc_increment"),
        name="interpolate_pr_auc")


def _area(counts, n, curve, summation_method, name):
    tp, fn, tn, fp = (counts[k] for k in _ALL)
    if curve == "PR" and summation_method == "careful_interpolation":
        return _interpolate_pr_auc(tp, fp, fn, n)
    epsilon = 1.0e-6
    rec = math_ops.divide(tp + epsilon, tp + fn + epsilon)
    if curve == "ROC":
        x, y = math_ops.divide(fp, fp + tn + epsilon), rec
    else:
        x, y = rec, math_ops.divide(tp + epsilon, tp + fp + epsilon)
    width = x[:n - 1] - x[1:]
    if summation_method in ("trapezoidal", "careful_interpolation"):
        height = (y[:n - 1] + y[1:]) / 2.0
    elif summation_method == "minoring":
        height = math_ops.minimum(y[:n - 1], y[1:])
    else:
        height = math_ops.maximum(y[:n - 1], y[1:])
    return reduction_ops.reduce_sum(width * height, name=name)


@graph_only
def auc(labels, predictions, weights=None, num_thresholds: int = 200, metrics_collections=None,
        updates_collections=None, curve: str = "ROC", name=None, summation_method: str = "trapezoidal",
        thresholds=None):
    """Area under the ROC or PR curve, Riemann-summed over `num_thresholds` thresholds: (i+1)/(n-1) for
    i < n-2, with -1e-7 and 1+1e-7 at the ends so predictions of exactly 0 and 1 count."""
    with name_scope(name, "auc", [labels, predictions]):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"curve must be either ROC or PR, {curve} unknown")
        if summation_method not in ("trapezoidal", "careful_interpolation", "minoring", "majoring"):
            raise ValueError(f"Invalid summation_method: {summation_method}")
        if curve == "PR" and summation_method == "trapezoidal":
            tf_logging.warning("Trapezoidal rule is known to produce incorrect PR-AUCs; please switch to "
                               "\"careful_interpolation\" instead.")
        kepsilon = 1e-7
        if thresholds is not None:
            inner = sorted(thresholds)
            num_thresholds = len(inner) + 2
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        all_thresholds = [0.0 - kepsilon] + list(inner) + [1.0 + kepsilon]
        values, updates = confusion_matrix_at_thresholds(labels, predictions, all_thresholds, weights)
        value = _area(values, num_thresholds, curve, summation_method, "value")
        update_op = _area(updates, num_thresholds, curve, summation_method, "update_op")
        return _publish(value, metrics_collections), _publish(update_op, updates_collections)


def _count_at_thresholds(kind: str, scope: str):
    def metric(labels, predictions, thresholds, weights=None, metrics_collections=None, updates_collections=None,
               name=None):
        with name_scope(name, scope, [predictions, labels]):
            values, updates = confusion_matrix_at_thresholds(labels, predictions, thresholds, weights, (kind,))
            return _publish(values[kind], metrics_collections), _publish(updates[kind], updates_collections)
    metric.__name__ = scope + "_at_thresholds"
    metric.__doc__ = f"Per threshold, the (weighted) count of {scope.replace('_', ' ')} (prediction > threshold)."
    return graph_only(metric)


true_positives_at_thresholds = _count_at_thresholds("tp", "true_positives")
false_positives_at_thresholds = _count_at_thresholds("fp", "false_positives")
true_negatives_at_thresholds = _count_at_thresholds("tn", "true_negatives")
false_negatives_at_thresholds = _count_at_thresholds("fn", "false_negatives")


def _rate_at_thresholds(kind: str, other: str, scope: str, labels, predictions, thresholds, weights,
                        metrics_collections, updates_collections, name):
    with name_scope(name, scope, [predictions, labels]):
        values, updates = confusion_matrix_at_thresholds(labels, predictions, thresholds, weights, (kind, other))
        epsilon = 1e-7
        short = scope.split("_")[0]
        value = math_ops.divide(values[kind], epsilon + values[kind] + values[other], name=f"{short}_value")
        update_op = math_ops.divide(updates[kind], epsilon + updates[kind] + updates[other],
                                    name=f"{short}_update_op")
        return _publish(value, metrics_collections), _publish(update_op, updates_collections)


@graph_only
def precision_at_thresholds(labels, predictions, thresholds, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """Per threshold, tp / (tp + fp + 1e-7)."""
    return _rate_at_thresholds("tp", "fp", "precision_at_thresholds", labels, predictions, thresholds, weights,
                               metrics_collections, updates_collections, name)


@graph_only
def recall_at_thresholds(labels, predictions, thresholds, weights=None, metrics_collections=None,
                         updates_collections=None, name=None):
    """Per threshold, tp / (tp + fn + 1e-7)."""
    return _rate_at_thresholds("tp", "fn", "recall_at_thresholds", labels, predictions, thresholds, weights,
                               metrics_collections, updates_collections, name)


def _inner_thresholds(num_thresholds: int) -> list:
    return [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]


@graph_only
def sensitivity_at_specificity(labels, predictions, specificity: float, weights=None, num_thresholds: int = 200,
                               metrics_collections=None, updates_collections=None, name=None):
    """tp / (tp + fn) at the threshold whose specificity tn / (tn + fp) is closest to `specificity`."""
    if specificity < 0 or specificity > 1:
        raise ValueError(f"`specificity` must be in the range [0, 1]. Currently, `specificity` is {specificity:f}.")
    with name_scope(name, "sensitivity_at_specificity", [predictions, labels]):
        kepsilon = 1e-7
        thresholds = [0.0 - kepsilon] + _inner_thresholds(num_thresholds) + [1.0 + kepsilon]
        values, updates = confusion_matrix_at_thresholds(labels, predictions, thresholds, weights)

        def compute(c, name):
            specificities = math_ops.divide(c["tn"], c["tn"] + c["fp"] + kepsilon)
            index = math_ops.cast(reduction_ops.argmin(math_ops.abs(specificities - specificity), 0), dtypes.int32)
            return math_ops.divide(c["tp"][index], c["tp"][index] + c["fn"][index] + kepsilon, name=name)

        return (_publish(compute(values, "value"), metrics_collections),
                _publish(compute(updates, "update_op"), updates_collections))


@graph_only
def specificity_at_sensitivity(labels, predictions, sensitivity: float, weights=None, num_thresholds: int = 200,
                               metrics_collections=None, updates_collections=None, name=None):
    """tn / (tn + fp) at the last threshold whose sensitivity tp / (tp + fn) is closest to `sensitivity` (TF's
    thresholds here end at 1 - 1e-7)."""
    if sensitivity < 0 or sensitivity > 1:
        raise ValueError(f"`sensitivity` must be in the range [0, 1]. Currently, `sensitivity` is {sensitivity:f}.")
    with name_scope(name, "specificity_at_sensitivity", [predictions, labels]):
        kepsilon = 1e-7
        thresholds = [0.0 - kepsilon] + _inner_thresholds(num_thresholds) + [1.0 - kepsilon]
        values, updates = confusion_matrix_at_thresholds(labels, predictions, thresholds, weights)

        def compute(c, name):
            gap = math_ops.abs(math_ops.divide(c["tp"], c["tp"] + c["fn"] + kepsilon) - sensitivity)
            at_min = math_ops.cast(math_ops.equal(gap, reduction_ops.reduce_min(gap)), dtypes.int64)
            # the last closest: where the running count of closest ones first reaches its total
            index = math_ops.cast(reduction_ops.argmax(reduction_ops.cumsum(at_min), 0), dtypes.int32)
            return math_ops.divide(c["tn"][index], c["tn"][index] + c["fp"][index] + kepsilon, name=name)

        return (_publish(compute(values, "value"), metrics_collections),
                _publish(compute(updates, "update_op"), updates_collections))
