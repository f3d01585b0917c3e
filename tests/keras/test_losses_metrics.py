"""Keras losses (per sample and reduced) and metrics against NumPy with Keras' formulas."""
import numpy as np
import pytest

import xlite as tf

keras = tf.keras
EPS = 1e-7


def _run(t):
    return keras.backend.get_session().run(t)


def test_losses_match_keras_formulas():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 1, size=(4, 3)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    labels = np.array([0, 2, 1, 2])
    onehot = np.eye(3, dtype=np.float32)[labels]
    logits = rng.normal(size=(4, 3)).astype(np.float32)
    sw = np.array([1.0, 0.0, 2.0, 1.0], np.float32)
    L = keras.losses
    got = _run([L.categorical_crossentropy(onehot, p), L.sparse_categorical_crossentropy(labels, p),
                L.SparseCategoricalCrossentropy(from_logits=True)(labels, logits),
                L.CategoricalCrossentropy(from_logits=True)(onehot, logits, sample_weight=sw),
                L.mse(onehot, p), L.MeanAbsoluteError()(onehot, p),
                L.binary_crossentropy(onehot, p), L.BinaryCrossentropy(from_logits=True)(onehot, logits)])
    ce = -np.log(p[np.arange(4), labels])
    np.testing.assert_allclose(got[0], ce, rtol=1e-5)
    np.testing.assert_allclose(got[1], ce, rtol=1e-5)
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    xent = -log_softmax[np.arange(4), labels]
    np.testing.assert_allclose(got[2], xent.mean(), rtol=1e-5)
    np.testing.assert_allclose(got[3], (xent * sw).sum() / 4, rtol=1e-5)
    np.testing.assert_allclose(got[4], ((onehot - p) ** 2).mean(1), rtol=1e-5)
    np.testing.assert_allclose(got[5], np.abs(onehot - p).mean(), rtol=1e-5)
    clipped = np.clip(p, EPS, 1 - EPS)
    bce = -(onehot * np.log(clipped + EPS) + (1 - onehot) * np.log(1 - clipped + EPS)).mean(1)
    np.testing.assert_allclose(got[6], bce, rtol=1e-5)
    sig = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(got[7], (-(onehot * np.log(sig) + (1 - onehot) * np.log(1 - sig))).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="Unknown loss"):
        keras.losses.get("nope")


def test_stateful_metrics_accumulate_and_reset():
    acc = keras.metrics.SparseCategoricalAccuracy()
    y = tf.placeholder(tf.int64, [None])
    p = tf.placeholder(tf.float32, [None, 2])
    update, result = acc.update_state(y, p), acc.result()
    session = keras.backend.get_session()
    session.run(update, {y: [0, 1], p: [[0.9, 0.1], [0.8, 0.2]]})
    session.run(update, {y: [1], p: [[0.1, 0.9]]})
    assert abs(session.run(result) - 2 / 3) < 1e-6
    acc.reset_states()
    assert session.run(result) == 0
    mean = keras.metrics.Mean()
    v, w = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
    session = keras.backend.get_session()          # initializes the new metric's Variables
    session.run(mean.update_state(v, sample_weight=w), {v: [1.0, 3.0], w: [1.0, 3.0]})
    assert abs(session.run(mean.result()) - 2.5) < 1e-6


@pytest.mark.parametrize("loss,y_shape,out_units,want", [
    ("sparse_categorical_crossentropy", (None,), 3, "SparseCategoricalAccuracy"),
    ("categorical_crossentropy", (None, 3), 3, "CategoricalAccuracy"),
    ("binary_crossentropy", (None, 1), 1, "BinaryAccuracy"),
    ("mse", (None, 1), 3, "SparseCategoricalAccuracy"),      # labels [n, 1] against 3 outputs: sparse
])
def test_accuracy_resolves_like_keras(loss, y_shape, out_units, want):
    y_true = tf.placeholder(tf.float32, list(y_shape))
    y_pred = tf.placeholder(tf.float32, [None, out_units])
    metric = keras.metrics.resolve_accuracy("accuracy", keras.losses.get(loss), y_true, y_pred)
    assert type(metric).__name__ == want and metric.name == "accuracy"


def test_to_categorical_and_mnist_needs_local_file(tmp_path, monkeypatch):
    np.testing.assert_array_equal(keras.utils.to_categorical([0, 2, 1], 3), np.eye(3)[[0, 2, 1]])
    assert keras.utils.to_categorical(np.array([[1], [0]])).shape == (2, 2)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(tf.errors.NotFoundError, match="does not download"):
        keras.datasets.mnist.load_data()
    (tmp_path / ".keras" / "datasets").mkdir(parents=True)
    np.savez(tmp_path / ".keras" / "datasets" / "mnist.npz", x_train=np.zeros((2, 28, 28), np.uint8),
             y_train=np.array([1, 2], np.uint8), x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.array([3]))
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    assert x_train.shape == (2, 28, 28) and y_test.tolist() == [3]


def test_loss_objects_squeeze_a_trailing_unit_dim_like_keras():
    y = np.array([1.0, 0.0, 1.0], np.float32)
    p = np.array([[0.8], [0.3], [0.6]], np.float32)
    got = _run([keras.losses.BinaryCrossentropy()(y, p), keras.losses.MeanSquaredError()(y, p)])
    want = -(y * np.log(p[:, 0] + EPS) + (1 - y) * np.log(1 - p[:, 0] + EPS)).mean()
    np.testing.assert_allclose(got, [want, ((y - p[:, 0]) ** 2).mean()], rtol=1e-5)


def test_precision_and_recall():
    y = np.array([1, 0, 1, 1, 0], np.float32)
    p = np.array([0.9, 0.8, 0.2, 0.7, 0.1], np.float32)
    precision, recall = keras.metrics.Precision(), keras.metrics.Recall()
    results = [precision(y, p), recall(y, p)]
    got = keras.backend.get_session().run(results)
    np.testing.assert_allclose(got, [2 / 3, 2 / 3], rtol=1e-6)           # tp 2, fp 1, fn 1
    with pytest.raises(tf.errors.UnimplementedError, match="top_k"):
        keras.metrics.Precision(top_k=2)


def test_regularizers_join_the_training_loss():
    layer = keras.layers.Dense(2, kernel_regularizer=keras.regularizers.l2(0.1),
                               activity_regularizer=keras.regularizers.l1(0.01), kernel_initializer="ones")
    model = keras.Sequential([keras.Input((3,)), layer])
    model.compile(keras.optimizers.SGD(0.0), "mse")
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    loss = model.evaluate(x, y, verbose=0)
    out = x @ np.ones((3, 2))
    want = (out ** 2).mean() + 0.1 * 6 + 0.01 * np.abs(out).sum() / 4
    assert abs(loss - want) < 1e-4
    assert abs(model.fit(x, y, verbose=0).history["loss"][0] - want) < 1e-4
    assert len(model.losses) == 2        # the kernel's penalty and the latest call's activity penalty
