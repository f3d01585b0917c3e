"""tf.estimator.LinearClassifier / LinearRegressor: linear_model logits (linear/linear_model/<column>/weights,
linear/linear_model/bias_weights) under a head, Ftrl by default."""
from __future__ import annotations

import math

from xlite.estimator.canned import head as head_lib
from xlite.estimator.canned.optimizers import get_optimizer_instance
from xlite.estimator.estimator import Estimator
from xlite.estimator.feature_column.feature_layers import linear_model
from xlite.frontend.losses import Reduction
from xlite.frontend.variable_scope import variable_scope

LEARNING_RATE = 0.2


def linear_learning_rate(num_feature_columns: int, cap: float = LEARNING_RATE) -> float:
    """TF's default: min(cap, 1 / sqrt(number of feature columns))."""
    return min(cap, 1.0 / math.sqrt(num_feature_columns))


def linear_logits(features, feature_columns, units: int, sparse_combiner: str):
    with variable_scope("linear"):
        return linear_model(features, feature_columns, units=units, sparse_combiner=sparse_combiner)


class _LinearEstimator(Estimator):
    def __init__(self, head, feature_columns, model_dir, optimizer, config, warm_start_from, sparse_combiner):
        if not feature_columns:
            raise ValueError("feature_columns must not be empty.")
        columns = tuple(feature_columns)

        def model_fn(features, labels, mode, config):
            if not isinstance(features, dict):
                raise ValueError(f"features should be a dictionary of `Tensor`s. Given type: {type(features)}")
            logits = linear_logits(features, columns, head.logits_dimension, sparse_combiner)
            opt = get_optimizer_instance(optimizer, linear_learning_rate(len(columns)))
            return head.create_estimator_spec(features, mode, logits, labels, optimizer=opt)
        super().__init__(model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)


class LinearClassifier(_LinearEstimator):
    """Logistic (n_classes=2) or softmax regression over feature columns."""

    def __init__(self, feature_columns, model_dir=None, n_classes=2, weight_column=None, label_vocabulary=None,
                 optimizer="Ftrl", config=None, warm_start_from=None,
                 loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, sparse_combiner="sum"):
        head = head_lib.head_for(n_classes, weight_column, label_vocabulary, loss_reduction)
        super().__init__(head, feature_columns, model_dir, optimizer, config, warm_start_from, sparse_combiner)


class LinearRegressor(_LinearEstimator):
    """Least-squares linear regression over feature columns."""

    def __init__(self, feature_columns, model_dir=None, label_dimension=1, weight_column=None, optimizer="Ftrl",
                 config=None, warm_start_from=None, loss_reduction=Reduction.SUM_OVER_BATCH_SIZE,
                 sparse_combiner="sum"):
        head = head_lib.RegressionHead(label_dimension, weight_column, loss_reduction=loss_reduction)
        super().__init__(head, feature_columns, model_dir, optimizer, config, warm_start_from, sparse_combiner)


class LinearEstimator(_LinearEstimator):
    """A linear model under any head."""

    def __init__(self, head, feature_columns, model_dir=None, optimizer="Ftrl", config=None, sparse_combiner="sum",
                 warm_start_from=None):
        super().__init__(head, feature_columns, model_dir, optimizer, config, warm_start_from, sparse_combiner)
