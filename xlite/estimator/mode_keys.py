"""tf.estimator.ModeKeys: the three modes a model_fn is called in."""
from __future__ import annotations


class ModeKeys:
    """TRAIN builds the loss and train_op, EVAL the loss and metrics, PREDICT the predictions."""

    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"
