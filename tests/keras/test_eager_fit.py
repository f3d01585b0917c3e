"""fit while executing eagerly: a tf.function step (one trace per input signature), the same numbers as TF."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager.context import eager_mode

from keras_cases import TF_HISTORY, data as _data

keras = tf.keras
L = keras.layers


@pytest.fixture
def eager():
    with eager_mode():
        keras.backend.clear_session()          # eager layer names count from dense again
        yield


def _model(weights, optimizer):
    m = keras.Sequential([L.Dense(8, activation="relu", input_shape=(5,)), L.Dense(3)])
    m(weights[0][:1, :5] * 0)                    # builds it (eager Sequential models build on first call)
    m.set_weights(weights)
    m.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return m


@pytest.mark.slow
def test_eager_fit_history_equals_tensorflows(eager):
    x, y, weights = _data()
    m = _model(weights, keras.optimizers.Adam(0.01))
    history = m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], TF_HISTORY["adam"]["loss"], rtol=1e-5)
    np.testing.assert_allclose(history.history["accuracy"], TF_HISTORY["adam"]["accuracy"])
    np.testing.assert_allclose(m.evaluate(x, y, verbose=0), TF_HISTORY["adam"]["eval"], rtol=1e-5)
    assert m._steps._train.experimental_get_tracing_count() <= 2      # a first trace, and TF's check trace
    w1, b1, w2, b2 = m.get_weights()
    np.testing.assert_allclose(m.predict(x), np.maximum(x @ w1 + b1, 0) @ w2 + b2, rtol=1e-5, atol=1e-5)


def test_eager_layers_and_model_call(eager):
    dense = L.Dense(2, kernel_initializer="ones")
    out = dense(np.ones((3, 4), np.float32))
    assert type(out).__name__ == "EagerTensor"
    np.testing.assert_allclose(out.numpy(), np.full((3, 2), 4.0))
    assert dense.kernel.name == "dense/kernel:0"
    bn = L.BatchNormalization(momentum=0.5)
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    bn(x, training=True)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-6)


@pytest.mark.slow
def test_functional_api_while_executing_eagerly(eager, capsys):
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    h = L.Dense(5, activation="relu", name="hidden")(L.concatenate([a, b]))
    model = keras.Model([a, b], [L.Dense(1, name="score")(h), L.Dense(2, name="cls")(h)])
    model.summary()
    assert "concatenate (Concatenate)" in capsys.readouterr().out
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(16, 4)).astype(np.float32), rng.normal(size=(16, 3)).astype(np.float32)
    score, cls = model([xa, xb])
    assert type(score).__name__ == "EagerTensor" and cls.shape == (16, 2)
    hidden = model.get_layer("hidden")
    k, bias = hidden.kernel.numpy(), hidden.bias.numpy()
    h_np = np.maximum(np.concatenate([xa, xb], 1) @ k + bias, 0)
    np.testing.assert_allclose(score.numpy(), h_np @ model.get_layer("score").kernel.numpy()
                               + model.get_layer("score").bias.numpy(), rtol=1e-5, atol=1e-6)
    model.compile("adam", ["mse", keras.losses.SparseCategoricalCrossentropy(from_logits=True)])
    history = model.fit([xa, xb], [rng.normal(size=(16, 1)), rng.integers(0, 2, 16)], epochs=2, verbose=0)
    assert set(history.history) == {"loss", "score_loss", "cls_loss"}
