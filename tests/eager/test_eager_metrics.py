"""TF1's tf.metrics keep their sums in graph Variables updated by ops the caller runs; executing eagerly TF
raises RuntimeError naming the metric, and so does xlite."""
import pytest

import xlite as tf


def test_metrics_refuse_eager_execution_as_tf(eager):
    with pytest.raises(RuntimeError, match="tf.metrics.auc is not supported when eager execution is enabled"):
        tf.metrics.auc([1, 0], [0.5, 0.2])
    with pytest.raises(RuntimeError, match="tf.metrics.true_positives is not supported"):
        tf.metrics.true_positives([1, 0], [1, 1])
    with pytest.raises(RuntimeError, match="tf.metrics.accuracy is not supported"):
        tf.metrics.accuracy([1, 0], [1, 1])
