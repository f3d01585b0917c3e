"""tf.estimator.DNNClassifier / DNNRegressor: feature columns, hidden dense layers, a head (TF 2.x's canned DNN,
its variable names dnn/hiddenlayer_N/{kernel,bias} and dnn/logits/{kernel,bias})."""
from __future__ import annotations

from xlite.estimator.canned import head as head_lib
from xlite.estimator.canned.optimizers import get_optimizer_instance
from xlite.estimator.estimator import Estimator
from xlite.estimator.feature_column.feature_layers import input_layer
from xlite.estimator.mode_keys import ModeKeys
from xlite.frontend import layers, nn_activations
from xlite.frontend.init_ops import GlorotUniform
from xlite.frontend.losses import Reduction
from xlite.frontend.variable_scope import variable_scope

LEARNING_RATE = 0.05


def dnn_logits(features, feature_columns, hidden_units, logits_dimension: int, activation_fn, dropout, mode):
    """[batch, logits_dimension] logits under the current variable scope (`dnn` in the canned models)."""
    with variable_scope("input_from_feature_columns"):
        net = input_layer(features, feature_columns)
    for layer_id, units in enumerate(hidden_units):
        net = layers.dense(net, units, activation=activation_fn, kernel_initializer=GlorotUniform(),
                           name=f"hiddenlayer_{layer_id}")
        if dropout is not None and mode == ModeKeys.TRAIN:
            net = layers.dropout(net, rate=dropout, training=True)
    return layers.dense(net, logits_dimension, kernel_initializer=GlorotUniform(), name="logits")


def _dnn_model_fn(features, labels, mode, head, hidden_units, feature_columns, optimizer, activation_fn, dropout):
    if not isinstance(features, dict):
        raise ValueError(f"features should be a dictionary of `Tensor`s. Given type: {type(features)}")
    with variable_scope("dnn"):
        logits = dnn_logits(features, feature_columns, hidden_units, head.logits_dimension, activation_fn,
                            dropout, mode)
    return head.create_estimator_spec(features, mode, logits, labels,
                                      optimizer=get_optimizer_instance(optimizer, LEARNING_RATE))


class _DNNEstimator(Estimator):
    def __init__(self, head, hidden_units, feature_columns, model_dir, optimizer, activation_fn, dropout, config,
                 warm_start_from, batch_norm):
        if batch_norm:
            from xlite import errors
            raise errors.unimplemented("canned DNN estimators with batch_norm=True")
        if not feature_columns:
            raise ValueError("feature_columns must not be empty.")
        columns, units = tuple(feature_columns), tuple(hidden_units)

        def model_fn(features, labels, mode, config):
            return _dnn_model_fn(features, labels, mode, head, units, columns, optimizer, activation_fn, dropout)
        super().__init__(model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)


class DNNClassifier(_DNNEstimator):
    """A feed-forward classifier over feature columns (binary head for n_classes=2, else multi-class)."""

    def __init__(self, hidden_units, feature_columns, model_dir=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, optimizer="Adagrad", activation_fn=nn_activations.relu, dropout=None,
                 config=None, warm_start_from=None, loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, batch_norm=False):
        head = head_lib.head_for(n_classes, weight_column, label_vocabulary, loss_reduction)
        super().__init__(head, hidden_units, feature_columns, model_dir, optimizer, activation_fn, dropout, config,
                         warm_start_from, batch_norm)


class DNNRegressor(_DNNEstimator):
    """A feed-forward regressor over feature columns (squared error)."""

    def __init__(self, hidden_units, feature_columns, model_dir=None, label_dimension=1, weight_column=None,
                 optimizer="Adagrad", activation_fn=nn_activations.relu, dropout=None, config=None,
                 warm_start_from=None, loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, batch_norm=False):
        head = head_lib.RegressionHead(label_dimension, weight_column, loss_reduction=loss_reduction)
        super().__init__(head, hidden_units, feature_columns, model_dir, optimizer, activation_fn, dropout, config,
                         warm_start_from, batch_norm)


class DNNEstimator(_DNNEstimator):
    """A feed-forward network under any head (tf.estimator.BinaryClassHead, MultiClassHead, RegressionHead)."""

    def __init__(self, head, hidden_units, feature_columns, model_dir=None, optimizer="Adagrad",
                 activation_fn=nn_activations.relu, dropout=None, config=None, warm_start_from=None, batch_norm=False):
        super().__init__(head, hidden_units, feature_columns, model_dir, optimizer, activation_fn, dropout, config,
                         warm_start_from, batch_norm)
