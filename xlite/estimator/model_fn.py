"""tf.estimator.EstimatorSpec: what a model_fn returns, checked as TF checks it."""
from __future__ import annotations

from typing import NamedTuple

from xlite.estimator.mode_keys import ModeKeys
from xlite.frontend.graph import Operation, Tensor
from xlite.frontend.array_ops import reshape

LOSS_METRIC_KEY = "loss"
AVERAGE_LOSS_METRIC_KEY = "average_loss"


class EstimatorSpec(NamedTuple("EstimatorSpec", [
        ("mode", str), ("predictions", object), ("loss", object), ("train_op", object),
        ("eval_metric_ops", dict), ("export_outputs", object), ("training_chief_hooks", tuple),
        ("training_hooks", tuple), ("scaffold", object), ("evaluation_hooks", tuple),
        ("prediction_hooks", tuple)])):
    """The ops of one mode: TRAIN needs loss and train_op, EVAL loss, PREDICT predictions."""

    def __new__(cls, mode, predictions=None, loss=None, train_op=None, eval_metric_ops=None, export_outputs=None,
                training_chief_hooks=None, training_hooks=None, scaffold=None, evaluation_hooks=None,
                prediction_hooks=None):
        if mode not in (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT):
            raise ValueError(f"mode={mode!r} is not one of the ModeKeys.")
        if mode == ModeKeys.TRAIN and train_op is None:
            raise ValueError("Missing train_op.")
        if mode != ModeKeys.PREDICT and loss is None:
            raise ValueError("Missing loss.")
        if mode == ModeKeys.PREDICT and predictions is None:
            raise ValueError("Missing predictions.")
        if loss is not None:
            loss = _scalar_loss(loss)
        if train_op is not None and not isinstance(train_op, (Tensor, Operation)):
            raise TypeError(f"train_op must be Operation or Tensor, given: {train_op}")
        if predictions is not None and not isinstance(predictions, (Tensor, dict)):
            raise TypeError(f"predictions must be Tensor or dict of Tensor, given: {predictions}")
        metrics = dict(eval_metric_ops or {})
        for key, value in metrics.items():
            if not (isinstance(value, tuple) and len(value) == 2):
                raise TypeError(f"Values of eval_metric_ops must be (metric_value, update_op) tuples, given: "
                                f"{value} for key: {key}")
        hooks = [tuple(h or ()) for h in (training_chief_hooks, training_hooks, evaluation_hooks, prediction_hooks)]
        return super().__new__(cls, mode, predictions, loss, train_op, metrics, export_outputs, hooks[0], hooks[1],
                               scaffold, hooks[2], hooks[3])

    def _replace(self, **kwargs):
        return EstimatorSpec(**{**self._asdict(), **kwargs})


def _scalar_loss(loss):
    if not isinstance(loss, Tensor):
        raise TypeError(f"loss must be Tensor, given: {loss}")
    if loss.shape.ndims is not None and loss.shape.num_elements() == 1 and loss.shape.ndims > 0:
        return reshape(loss, [])
    if loss.shape.ndims not in (0, None):
        raise ValueError(f"Loss must be scalar, given: {loss}")
    return loss
