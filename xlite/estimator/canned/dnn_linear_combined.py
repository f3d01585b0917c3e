"""tf.estimator.DNNLinearCombinedClassifier / Regressor ("wide & deep"): the sum of a linear model's and a DNN's
logits, each part trained by its own optimizer (Ftrl and Adagrad by default), one global step."""
from __future__ import annotations

import numpy as np

from xlite.estimator.canned import head as head_lib
from xlite.estimator.canned.dnn import dnn_logits
from xlite.estimator.canned.linear import linear_learning_rate, linear_logits
from xlite.estimator.canned.optimizers import get_optimizer_instance
from xlite.estimator.estimator import Estimator
from xlite.frontend import nn_activations
from xlite.frontend.convert import constant
from xlite.frontend.graph import GraphKeys, get_default_graph
from xlite.frontend.losses import Reduction
from xlite.frontend.scopes import control_dependencies
from xlite.frontend.variable_scope import variable_scope
from xlite.frontend.variables import assign_add, group
from xlite.train.optimizers import get_global_step

DNN_LEARNING_RATE = 0.001
LINEAR_LEARNING_RATE = 0.005


def _scope_variables(scope: str) -> list:
    return [v for v in get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES)
            if v.op.name.startswith(scope + "/")]


class _CombinedEstimator(Estimator):
    def __init__(self, head, model_dir, linear_feature_columns, linear_optimizer, dnn_feature_columns, dnn_optimizer,
                 dnn_hidden_units, dnn_activation_fn, dnn_dropout, config, warm_start_from, batch_norm,
                 linear_sparse_combiner):
        linear_columns, dnn_columns = tuple(linear_feature_columns or ()), tuple(dnn_feature_columns or ())
        if not linear_columns and not dnn_columns:
            raise ValueError("Either linear_feature_columns or dnn_feature_columns must be defined.")
        if dnn_columns and not dnn_hidden_units:
            raise ValueError(f"dnn_hidden_units must be defined when dnn_feature_columns is specified. Given: "
                             f"{dnn_feature_columns}")
        if batch_norm:
            from xlite import errors
            raise errors.unimplemented("DNNLinearCombined estimators with batch_norm=True")

        def model_fn(features, labels, mode, config):
            parts, optimizers = [], {}
            if dnn_columns:
                with variable_scope("dnn"):
                    parts.append(dnn_logits(features, dnn_columns, dnn_hidden_units, head.logits_dimension,
                                            dnn_activation_fn, dnn_dropout, mode))
                optimizers["dnn"] = get_optimizer_instance(dnn_optimizer, DNN_LEARNING_RATE)
            if linear_columns:
                parts.append(linear_logits(features, linear_columns, head.logits_dimension, linear_sparse_combiner))
                optimizers["linear"] = get_optimizer_instance(
                    linear_optimizer, linear_learning_rate(len(linear_columns), LINEAR_LEARNING_RATE))
            logits = parts[0] if len(parts) == 1 else parts[0] + parts[1]

            def train_op_fn(loss):
                updates = [head_lib.minimize(opt, loss, _scope_variables(scope)) for scope, opt in optimizers.items()]
                with control_dependencies(updates):
                    return group(assign_add(get_global_step(), constant(np.int64(1))))
            return head.create_estimator_spec(features, mode, logits, labels, train_op_fn=train_op_fn)
        super().__init__(model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)


class DNNLinearCombinedClassifier(_CombinedEstimator):
    """A wide (linear) and deep (DNN) classifier."""

    def __init__(self, model_dir=None, linear_feature_columns=None, linear_optimizer="Ftrl", dnn_feature_columns=None,
                 dnn_optimizer="Adagrad", dnn_hidden_units=None, dnn_activation_fn=nn_activations.relu,
                 dnn_dropout=None, n_classes=2, weight_column=None, label_vocabulary=None, config=None,
                 warm_start_from=None, loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, batch_norm=False,
                 linear_sparse_combiner="sum"):
        head = head_lib.head_for(n_classes, weight_column, label_vocabulary, loss_reduction)
        super().__init__(head, model_dir, linear_feature_columns, linear_optimizer, dnn_feature_columns,
                         dnn_optimizer, dnn_hidden_units, dnn_activation_fn, dnn_dropout, config, warm_start_from,
                         batch_norm, linear_sparse_combiner)


class DNNLinearCombinedRegressor(_CombinedEstimator):
    """A wide (linear) and deep (DNN) regressor."""

    def __init__(self, model_dir=None, linear_feature_columns=None, linear_optimizer="Ftrl", dnn_feature_columns=None,
                 dnn_optimizer="Adagrad", dnn_hidden_units=None, dnn_activation_fn=nn_activations.relu,
                 dnn_dropout=None, label_dimension=1, weight_column=None, config=None, warm_start_from=None,
                 loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, batch_norm=False, linear_sparse_combiner="sum"):
        head = head_lib.RegressionHead(label_dimension, weight_column, loss_reduction=loss_reduction)
        super().__init__(head, model_dir, linear_feature_columns, linear_optimizer, dnn_feature_columns,
                         dnn_optimizer, dnn_hidden_units, dnn_activation_fn, dnn_dropout, config, warm_start_from,
                         batch_norm, linear_sparse_combiner)
