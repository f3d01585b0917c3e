"""tf.losses against NumPy formulas, with TF1's weighting, reductions and LOSSES collection.

Names, the float32 computation and SUM_BY_NONZERO_WEIGHTS were checked against
TensorFlow 2.21's `tf.compat.v1.losses` in graph mode.
"""
import numpy as np
import pytest

import xlite as tf
from tiers import slow_except

RNG = np.random.default_rng(5)


def run(fetches, feed=None):
    with tf.Session() as s:
        return s.run(fetches, feed)


def by_nonzero_weights(losses, weights):
    weights = np.broadcast_to(weights, losses.shape)
    present = np.count_nonzero(weights)
    return (losses * weights).sum() / present if present else 0.0


LABELS = RNG.uniform(0, 1, (4, 3))
PREDICTIONS = RNG.uniform(0.05, 0.95, (4, 3))
ELEMENTWISE = {
    "mean_squared_error": (tf.losses.mean_squared_error, lambda y, p: (p - y) ** 2),
    "absolute_difference": (tf.losses.absolute_difference, lambda y, p: np.abs(p - y)),
    "log_loss": (tf.losses.log_loss, lambda y, p: -y * np.log(p + 1e-7) - (1 - y) * np.log(1 - p + 1e-7)),
    "huber_loss": (lambda labels, predictions, **kw: tf.losses.huber_loss(labels, predictions * 4, delta=0.7, **kw),
                   lambda y, p: np.where(np.abs(4 * p - y) <= 0.7, 0.5 * (4 * p - y) ** 2,
                                         0.7 * np.abs(4 * p - y) - 0.5 * 0.7 ** 2)),
    "hinge_loss": (lambda labels, predictions, **kw: tf.losses.hinge_loss(
                       np.round(labels), predictions * 3 - 1.5, **kw),
                   lambda y, p: np.maximum(0, 1 - (2 * np.round(y) - 1) * (p * 3 - 1.5))),
}
WEIGHTS = {"scalar": 2.0, "per_example": np.array([[1.0], [0.0], [2.0], [0.5]]),
           "full": RNG.choice([0.0, 1.0, 3.0], (4, 3)), "all_zero": np.zeros((4, 1))}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize(*slow_except("weights", sorted(WEIGHTS), 1))
def test_elementwise_losses_with_weights(name, weights):
    fn, ref = ELEMENTWISE[name]
    w = WEIGHTS[weights]
    loss = fn(labels=LABELS, predictions=PREDICTIONS, weights=w)
    assert loss.dtype == tf.float32 and loss.shape.as_list() == []       # inputs are cast to float32, as TF
    expected = by_nonzero_weights(ref(LABELS, PREDICTIONS), w)
    assert run(loss) == pytest.approx(expected, rel=2e-6, abs=1e-7)       # computed in float32, as TF
    assert tf.get_collection(tf.GraphKeys.LOSSES) == [loss]


def test_names_and_float32_results():
    labels = tf.placeholder(tf.float32, [None, 3])
    predictions = tf.placeholder(tf.float32, [None, 3])
    loss = tf.losses.mean_squared_error(labels, predictions)
    assert loss.name == "mean_squared_error/value:0" and loss.dtype == tf.float32
    assert tf.losses.absolute_difference(labels, predictions).name == "absolute_difference/value:0"
    got = run(loss, {labels: LABELS, predictions: PREDICTIONS})
    assert got == pytest.approx(((LABELS - PREDICTIONS) ** 2).mean(), rel=1e-6)


@pytest.mark.parametrize("reduction,expected", [
    (tf.losses.Reduction.SUM, lambda l, w: (l * w).sum()),
    (tf.losses.Reduction.MEAN, lambda l, w: (l * w).sum() / np.broadcast_to(w, l.shape).sum()),
    (tf.losses.Reduction.SUM_OVER_BATCH_SIZE, lambda l, w: (l * w).sum() / l.size),
    (tf.losses.Reduction.SUM_BY_NONZERO_WEIGHTS, by_nonzero_weights),
])
def test_reductions(reduction, expected):
    w = WEIGHTS["per_example"]
    loss = tf.losses.absolute_difference(LABELS, PREDICTIONS, weights=w, reduction=reduction)
    assert run(loss) == pytest.approx(expected(np.abs(PREDICTIONS - LABELS), w), rel=2e-6)


def test_reduction_none_keeps_the_shape():
    loss = tf.losses.mean_squared_error(LABELS, PREDICTIONS, weights=WEIGHTS["full"],
                                        reduction=tf.losses.Reduction.NONE)
    assert loss.shape.as_list() == [4, 3]
    np.testing.assert_allclose(run(loss), (PREDICTIONS - LABELS) ** 2 * WEIGHTS["full"], rtol=2e-6)
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        tf.losses.mean_squared_error(LABELS, PREDICTIONS, reduction="average")


def test_argument_checks():
    with pytest.raises(ValueError, match="Argument `labels` must not be None"):
        tf.losses.mean_squared_error(None, PREDICTIONS)
    with pytest.raises(ValueError):
        tf.losses.mean_squared_error(LABELS, PREDICTIONS[:, :2])
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        tf.losses.mean_squared_error(LABELS, PREDICTIONS, weights=np.ones((3, 4)))


def np_log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_softmax_cross_entropy_with_label_smoothing(smoothing):
    logits = RNG.normal(0, 2, (5, 4)).astype(np.float32)
    onehot = np.eye(4)[RNG.integers(0, 4, 5)]
    weights = np.array([1.0, 0.0, 2.0, 1.0, 1.0])
    loss = tf.losses.softmax_cross_entropy(onehot, logits, weights=weights, label_smoothing=smoothing)
    smoothed = onehot * (1 - smoothing) + smoothing / 4
    per_example = -(smoothed * np_log_softmax(logits.astype(np.float64))).sum(-1)
    assert loss.name == "softmax_cross_entropy_loss/value:0"
    assert run(loss) == pytest.approx(by_nonzero_weights(per_example, weights), rel=1e-5)
    assert loss.dtype == tf.float32
    assert tf.losses.softmax_cross_entropy(onehot, logits.astype(np.float64)).dtype == tf.float64  # logits' dtype


def test_softmax_cross_entropy_sends_no_gradient_to_labels():
    labels = tf.constant(np.eye(3), tf.float32)
    loss = tf.losses.softmax_cross_entropy(labels, tf.constant(np.ones((3, 3)), tf.float32))
    assert tf.gradients(loss, labels) == [None]


def test_sparse_softmax_cross_entropy_squeezes_trailing_label_dim():
    logits = RNG.normal(0, 2, (6, 5)).astype(np.float32)
    labels = RNG.integers(0, 5, 6)
    flat = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    column = tf.losses.sparse_softmax_cross_entropy(labels[:, None], logits, weights=np.ones((6, 1)))
    expected = -np_log_softmax(logits.astype(np.float64))[np.arange(6), labels].mean()
    got_flat, got_column = run([flat, column])
    assert got_flat == pytest.approx(expected, rel=1e-5) and got_column == pytest.approx(expected, rel=1e-5)
    assert flat.name == "sparse_softmax_cross_entropy_loss/value:0"


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_sigmoid_cross_entropy(smoothing):
    logits = RNG.normal(0, 3, (4, 3)).astype(np.float32)
    labels = RNG.integers(0, 2, (4, 3))
    loss = tf.losses.sigmoid_cross_entropy(labels, logits, label_smoothing=smoothing)
    z = labels * (1 - smoothing) + 0.5 * smoothing
    x = logits.astype(np.float64)
    expected = (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))).mean()
    assert run(loss) == pytest.approx(expected, rel=1e-5)


def test_cosine_distance():
    a = RNG.normal(size=(4, 3))
    b = RNG.normal(size=(4, 3))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    loss = tf.losses.cosine_distance(a, b, axis=1)
    assert run(loss) == pytest.approx((1 - (a * b).sum(1)).mean(), rel=1e-5)
    with pytest.raises(ValueError, match="axis"):
        tf.losses.cosine_distance(a, b)


def test_total_loss_sums_losses_and_regularization():
    mse = tf.losses.mean_squared_error([1.0, 2.0], [2.0, 4.0])
    tf.losses.add_loss(tf.constant(10.0))
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.constant(0.5))
    other = tf.losses.absolute_difference([1.0], [3.0], loss_collection=None)
    total = tf.losses.get_total_loss()
    without = tf.losses.get_total_loss(add_regularization_losses=False, name="data_loss")
    assert total.name == "total_loss:0" and len(tf.losses.get_losses()) == 2
    assert other not in tf.losses.get_losses()
    assert run([total, without, tf.losses.get_regularization_loss(), mse]) == pytest.approx([13.0, 12.5, 0.5, 2.5])


def test_total_loss_without_losses_is_an_error():
    with pytest.raises(ValueError, match="No losses"):
        tf.losses.get_total_loss()
    assert run(tf.losses.get_regularization_loss()) == 0.0
