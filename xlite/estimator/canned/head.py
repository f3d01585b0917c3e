"""The canned estimators' heads (TF 2.x estimator heads): loss, predictions, metrics and train_op from
logits. Loss reduction is SUM_OVER_BATCH_SIZE by default, as tf.estimator's 2.x heads have it.

- binary:      sigmoid cross-entropy; accuracy, precision, recall, auc, auc_precision_recall, label/mean,
               prediction/mean, accuracy_baseline, average_loss
- multi-class: sparse softmax cross-entropy; accuracy, average_loss
- regression:  squared error; label/mean, prediction/mean, average_loss
`loss` (the mean per-batch training loss) joins each in Estimator.evaluate. TF's string `classes` /
`all_classes` predictions are left out: xlite computes no string tensors (class_ids carry the same).
"""
from __future__ import annotations

import numpy as np

from xlite.estimator import export
from xlite.estimator.mode_keys import ModeKeys
from xlite.estimator.model_fn import AVERAGE_LOSS_METRIC_KEY, LOSS_METRIC_KEY, EstimatorSpec
from xlite.frontend import (array_ops, fill_ops, join_ops, math_ops, metrics_ops, metrics_thresholds, nn_softmax,
                            reduction_ops, shape_ops)
from xlite.frontend.convert import constant
from xlite.frontend.graph import Tensor
from xlite.frontend.losses import Reduction
from xlite.frontend.scopes import control_dependencies, name_scope
from xlite.frontend.variables import assign_add
from xlite.io.saved_model import signature_constants
from xlite.ir import dtypes
from xlite.train.optimizers import get_global_step


def _rank2(t: Tensor, what: str) -> Tensor:
    if t.shape.ndims == 1:
        return array_ops.expand_dims(t, -1)
    if t.shape.ndims not in (2, None):
        raise ValueError(f"{what} shape must be [D0, D1]. Given: {t.shape}")
    return t


def _weights(features, weight_column):
    if weight_column is None:
        return None
    key = weight_column if isinstance(weight_column, str) else weight_column.key
    return _rank2(math_ops.cast(features[key], dtypes.float32), "weights")


def _reduce(unweighted: Tensor, weights, reduction: str) -> Tensor:
    """The training loss: TF's compute_weighted_loss of the [batch, d] loss."""
    weighted = unweighted if weights is None else unweighted * weights
    total = reduction_ops.reduce_sum(weighted)
    if reduction == Reduction.SUM:
        return total
    if reduction == Reduction.SUM_OVER_BATCH_SIZE:
        return total / math_ops.cast(shape_ops.size(unweighted), dtypes.float32)
    raise ValueError(f"loss_reduction {reduction} is not supported by the canned heads (SUM, "
                     "SUM_OVER_BATCH_SIZE).")


def _train_op(loss: Tensor, optimizer, train_op_fn, trainable_variables=None, update_ops=None):
    """optimizer's update of the trainable Variables (or train_op_fn(loss)) with update_ops, then
    global_step + 1."""
    if train_op_fn is not None:
        return train_op_fn(loss)
    update = minimize(optimizer, loss, trainable_variables)
    with control_dependencies([update, *(update_ops or ())]):
        return assign_add(get_global_step(), constant(np.int64(1))).op


def minimize(optimizer, loss: Tensor, var_list):
    """The update op of a tf.train optimizer or a Keras one."""
    from xlite.frontend.variables import trainable_variables
    return optimizer.minimize(loss, var_list=var_list if var_list is not None else trainable_variables())


class _Head:
    """Shared spec building; subclasses give the loss, predictions, metrics and export outputs."""

    def __init__(self, weight_column=None, loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, name=None, loss_fn=None):
        if loss_reduction not in (Reduction.SUM, Reduction.SUM_OVER_BATCH_SIZE):
            raise ValueError(f"Invalid loss_reduction: {loss_reduction}. Only SUM and SUM_OVER_BATCH_SIZE are "
                             "supported by the canned heads.")
        self._weight_column, self._loss_reduction, self._name = weight_column, loss_reduction, name
        self._loss_fn = loss_fn

    def create_estimator_spec(self, features, mode, logits, labels=None, optimizer=None, trainable_variables=None,
                              train_op_fn=None, update_ops=None, regularization_losses=None) -> EstimatorSpec:
        """The EstimatorSpec of `mode` for these logits (TF 2.x's Head.create_estimator_spec)."""
        with name_scope(self._name, "head"):
            predictions = self.predictions(logits)
            if mode == ModeKeys.PREDICT:
                return EstimatorSpec(mode, predictions=predictions, export_outputs=self.export_outputs(predictions))
            if labels is None:
                raise ValueError("You must provide a labels Tensor. Given: None. Suggested troubleshooting "
                                 "steps: Check that your data contain your label feature. Check that your input "
                                 "function properly parses and returns labels.")
            labels = self.processed_labels(labels)
            weights = _weights(features, self._weight_column)
            unweighted = self._loss_fn(labels, logits) if self._loss_fn else self.unweighted_loss(labels, logits)
            loss = _reduce(unweighted, weights, self._loss_reduction)
            if regularization_losses:
                loss = loss + math_ops.add_n(list(regularization_losses))
            if mode == ModeKeys.EVAL:
                metrics = self.metrics(labels, predictions, unweighted, weights)
                metrics[LOSS_METRIC_KEY] = metrics_ops.mean(loss, name=LOSS_METRIC_KEY)
                return EstimatorSpec(mode, predictions=predictions, loss=loss, eval_metric_ops=metrics)
            if optimizer is None and train_op_fn is None:
                raise ValueError("train_op_fn and optimizer cannot both be None.")
            return EstimatorSpec(mode, predictions=predictions, loss=loss,
                                 train_op=_train_op(loss, optimizer, train_op_fn, trainable_variables, update_ops))

    def export_outputs(self, predictions: dict) -> dict:
        """TF's: serving_default and classification / regression (Classify, Regress: they need a string
        tf.Example input) beside predict."""
        outputs = {"predict": export.PredictOutput(predictions)}
        if "probabilities" in predictions:
            outputs["classification"] = export.ClassificationOutput(scores=predictions["probabilities"])
        if "logistic" in predictions or "predictions" in predictions:
            value = predictions.get("logistic", predictions.get("predictions"))
            if value.shape.ndims is not None and value.shape.as_list()[-1] == 1:
                outputs["regression"] = export.RegressionOutput(value)
        default = outputs.get("classification") or outputs.get("regression") or outputs["predict"]
        outputs[signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY] = default
        return outputs

    def _average_loss(self, unweighted, weights) -> dict:
        return {AVERAGE_LOSS_METRIC_KEY: metrics_ops.mean(unweighted, weights, name=AVERAGE_LOSS_METRIC_KEY)}


def _class_ids(logits: Tensor) -> Tensor:
    return array_ops.expand_dims(reduction_ops.argmax(logits, axis=-1), -1)


def _all_class_ids(logits: Tensor, n_classes: int) -> Tensor:
    row = constant(np.arange(n_classes, dtype=np.int32).reshape(1, -1))
    return row + fill_ops.zeros_like(math_ops.cast(logits, dtypes.int32)[:, :1])


class BinaryClassHead(_Head):
    """Two classes from one logit: P(class 1) = sigmoid(logit)."""

    logits_dimension = 1

    def __init__(self, weight_column=None, thresholds=None, label_vocabulary=None,
                 loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, loss_fn=None, name=None):
        super().__init__(weight_column, loss_reduction, name, loss_fn)
        self._thresholds = tuple(thresholds or ())
        self._label_vocabulary = label_vocabulary

    def processed_labels(self, labels):
        return math_ops.cast(_label_ids(labels, self._label_vocabulary), dtypes.float32)

    def unweighted_loss(self, labels, logits):
        return nn_softmax.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)

    def predictions(self, logits) -> dict:
        with name_scope(None, "predictions"):
            logistic = math_ops.sigmoid(logits, name="logistic")
            two_class_logits = join_ops.concat([fill_ops.zeros_like(logits), logits], axis=-1)
            return {"logits": logits, "logistic": logistic,
                    "probabilities": nn_softmax.softmax(two_class_logits, name="probabilities"),
                    "class_ids": _class_ids(two_class_logits), "all_class_ids": _all_class_ids(logits, 2)}

    def metrics(self, labels, predictions, unweighted, weights) -> dict:
        class_ids = math_ops.cast(predictions["class_ids"], dtypes.float32)
        logistic = predictions["logistic"]
        label_mean = metrics_ops.mean(labels, weights, name="label/mean")
        baseline = math_ops.maximum(label_mean[0], 1.0 - label_mean[0], name="accuracy_baseline")
        metrics = {
            "accuracy": metrics_ops.accuracy(labels, class_ids, weights, name="accuracy"),
            "precision": metrics_ops.precision(labels, class_ids, weights, name="precision"),
            "recall": metrics_ops.recall(labels, class_ids, weights, name="recall"),
            "prediction/mean": metrics_ops.mean(logistic, weights, name="prediction/mean"),
            "label/mean": label_mean,
            "accuracy_baseline": (baseline, label_mean[1]),
            "auc": metrics_thresholds.auc(labels, logistic, weights, name="auc"),
            "auc_precision_recall": metrics_thresholds.auc(labels, logistic, weights, curve="PR",
                                                           summation_method="careful_interpolation",
                                                           name="auc_precision_recall"),
            **self._average_loss(unweighted, weights)}
        for threshold in self._thresholds:
            above = math_ops.cast(math_ops.greater(logistic, constant(np.float32(threshold))), dtypes.float32)
            metrics[f"accuracy/positive_threshold_{threshold:g}"] = metrics_ops.accuracy(labels, above, weights)
            metrics[f"precision/positive_threshold_{threshold:g}"] = metrics_ops.precision(labels, above, weights)
            metrics[f"recall/positive_threshold_{threshold:g}"] = metrics_ops.recall(labels, above, weights)
        return metrics


class MultiClassHead(_Head):
    """n_classes > 2 from n_classes logits: softmax probabilities, sparse softmax cross-entropy."""

    def __init__(self, n_classes, weight_column=None, label_vocabulary=None,
                 loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, loss_fn=None, name=None):
        if n_classes is None or n_classes <= 2:
            raise ValueError(f"n_classes must be > 2: {n_classes}.")
        super().__init__(weight_column, loss_reduction, name, loss_fn)
        self._n_classes, self._label_vocabulary = n_classes, label_vocabulary

    logits_dimension = property(lambda self: self._n_classes)

    def processed_labels(self, labels):
        return math_ops.cast(_label_ids(labels, self._label_vocabulary), dtypes.int64)

    def unweighted_loss(self, labels, logits):
        loss = nn_softmax.sparse_softmax_cross_entropy_with_logits(labels=array_ops.squeeze(labels, axis=[-1]),
                                                                   logits=logits)
        return array_ops.expand_dims(loss, -1)

    def predictions(self, logits) -> dict:
        with name_scope(None, "predictions"):
            return {"logits": logits, "probabilities": nn_softmax.softmax(logits, name="probabilities"),
                    "class_ids": _class_ids(logits), "all_class_ids": _all_class_ids(logits, self._n_classes)}

    def metrics(self, labels, predictions, unweighted, weights) -> dict:
        return {"accuracy": metrics_ops.accuracy(labels, predictions["class_ids"], weights, name="accuracy"),
                **self._average_loss(unweighted, weights)}


class RegressionHead(_Head):
    """label_dimension real outputs, the logits themselves; squared error."""

    def __init__(self, label_dimension=1, weight_column=None, loss_reduction=Reduction.SUM_OVER_BATCH_SIZE,
                 loss_fn=None, inverse_link_fn=None, name=None):
        if label_dimension < 1:
            raise ValueError(f"Invalid label_dimension {label_dimension}.")
        if inverse_link_fn is not None:
            from xlite import errors
            raise errors.unimplemented("RegressionHead(inverse_link_fn=...)")
        super().__init__(weight_column, loss_reduction, name, loss_fn)
        self._label_dimension = label_dimension

    logits_dimension = property(lambda self: self._label_dimension)

    def processed_labels(self, labels):
        return math_ops.cast(_rank2(labels, "labels"), dtypes.float32)

    def unweighted_loss(self, labels, logits):
        return math_ops.squared_difference(labels, logits)

    def predictions(self, logits) -> dict:
        return {"predictions": logits}

    def metrics(self, labels, predictions, unweighted, weights) -> dict:
        return {"label/mean": metrics_ops.mean(labels, weights, name="label/mean"),
                "prediction/mean": metrics_ops.mean(predictions["predictions"], weights, name="prediction/mean"),
                **self._average_loss(unweighted, weights)}


def _label_ids(labels, label_vocabulary) -> Tensor:
    """[batch, 1] label ids: the labels themselves, or their index in label_vocabulary (strings, on the host)."""
    labels = labels if isinstance(labels, Tensor) else constant(labels)
    if label_vocabulary is None:
        if not (labels.dtype.is_integer or labels.dtype.is_floating):
            raise ValueError("Labels dtype should be integer. Instead got string: give label_vocabulary.")
        return _rank2(labels, "labels")
    from xlite.estimator.feature_column import string_lookup
    ids, _ = string_lookup.vocabulary_ids(labels, tuple(label_vocabulary), -1, 0)   # [batch, 1]
    return ids


def head_for(n_classes: int, weight_column=None, label_vocabulary=None, loss_reduction=Reduction.SUM_OVER_BATCH_SIZE):
    """The classifier head for n_classes (binary for 2), as the canned classifiers pick it."""
    if n_classes == 2:
        return BinaryClassHead(weight_column, label_vocabulary=label_vocabulary, loss_reduction=loss_reduction)
    return MultiClassHead(n_classes, weight_column, label_vocabulary, loss_reduction=loss_reduction)
