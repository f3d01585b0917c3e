"""fit / evaluate / predict in graph mode against TensorFlow's own numbers on a deterministic setup."""
import numpy as np
import pytest

import xlite as tf

keras = tf.keras

from keras_cases import TF_HISTORY, data as _data


def _model(weights, optimizer, metrics=("accuracy",)):
    m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    m.set_weights(weights)
    m.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=list(metrics))
    return m


@pytest.mark.slow
@pytest.mark.parametrize("name,optimizer", [("sgd", lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True)),
                                            ("adam", lambda: keras.optimizers.Adam(0.01))])
def test_fit_history_equals_tensorflows(name, optimizer):
    x, y, weights = _data()
    m = _model(weights, optimizer())
    history = m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    assert isinstance(history, keras.callbacks.History) and history.epoch == [0, 1, 2]
    np.testing.assert_allclose(history.history["loss"], TF_HISTORY[name]["loss"], rtol=1e-5)
    np.testing.assert_allclose(history.history["accuracy"], TF_HISTORY[name]["accuracy"])
    np.testing.assert_allclose(m.evaluate(x, y, verbose=0), TF_HISTORY[name]["eval"], rtol=1e-5)


def test_one_session_run_per_step_and_one_executable(monkeypatch):
    x, y, weights = _data()
    m = _model(weights, "sgd")
    m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)      # builds the step, initializes the optimizer
    session = keras.backend.get_session()
    runs = []
    original = type(session).run
    monkeypatch.setattr(type(session), "run", lambda self, *a, **k: runs.append(1) or original(self, *a, **k))
    compiled = len(session._cache)
    m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)       # 4 steps of 16
    assert len(runs) == 4 and len(session._cache) == compiled          # the same executable every step
    m.fit(x[:40], y[:40], batch_size=16, epochs=1, shuffle=False, verbose=0)   # 16, 16, then a last batch of 8
    assert len(runs) == 7 and len(session._cache) == compiled          # the batch dim is symbolic: no compile


@pytest.mark.slow
def test_progress_bar_prints_keras_format(capsys):
    x, y, weights = _data()
    m = _model(weights, "sgd")
    m.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    import re
    pattern = r"4/4 \[==============================\] - \d+s \d+(s|ms|us)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}"
    assert re.fullmatch(pattern, lines[1]), lines[1]
    m.fit(x, y, batch_size=16, epochs=1, verbose=2)
    line = capsys.readouterr().out.splitlines()[1]
    assert re.fullmatch(r"4/4 - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - \d+s/epoch - \d+(s|ms|us)/step", line)


@pytest.mark.slow
def test_predict_evaluate_and_batches():
    x, y, weights = _data()
    m = _model(weights, "sgd", metrics=())
    logits = m.predict(x, batch_size=10)
    w1, b1, w2, b2 = weights
    np.testing.assert_allclose(logits, np.maximum(x @ w1 + b1, 0) @ w2 + b2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.predict_on_batch(x[:3]), logits[:3], rtol=1e-6)
    loss = m.evaluate(x, y, verbose=0)
    shifted = logits - logits.max(1, keepdims=True)
    want = -(shifted[np.arange(64), y] - np.log(np.exp(shifted).sum(1))).mean()
    assert isinstance(loss, float) and abs(loss - want) < 1e-5


@pytest.mark.slow
def test_validation_split_and_data_add_val_logs():
    x, y, weights = _data()
    m = _model(weights, "sgd")
    h = m.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    m2 = _model(weights, "sgd")
    h2 = m2.fit(x[:48], y[:48], batch_size=16, epochs=1, shuffle=False, validation_data=(x[48:], y[48:]),
                verbose=0)
    m3 = _model(weights, "sgd")
    h3 = m3.fit(x, y, batch_size=16, epochs=1, shuffle=False, validation_split=0.25, verbose=0)
    np.testing.assert_allclose(h2.history["val_loss"], h3.history["val_loss"], rtol=1e-6)


@pytest.mark.slow
def test_sample_weight_and_class_weight():
    x, y, weights = _data()
    m = _model(weights, "sgd", metrics=())
    sw = (y == 1).astype(np.float32) * 2.0
    by_sample = m.evaluate(x, y, sample_weight=sw, batch_size=64, verbose=0)
    logits = m.predict(x)
    shifted = logits - logits.max(1, keepdims=True)
    per = -(shifted[np.arange(64), y] - np.log(np.exp(shifted).sum(1)))
    assert abs(by_sample - (per * sw).sum() / 64) < 1e-5
    a = _model(weights, "sgd", metrics=())
    b = _model(weights, "sgd", metrics=())
    ha = a.fit(x, y, batch_size=64, epochs=1, class_weight={0: 0.0, 1: 2.0, 2: 0.0}, verbose=0)
    hb = b.fit(x, y, batch_size=64, epochs=1, sample_weight=sw, verbose=0)
    assert abs(ha.history["loss"][0] - hb.history["loss"][0]) < 1e-6
    np.testing.assert_allclose(a.get_weights()[0], b.get_weights()[0], rtol=1e-6)


@pytest.mark.slow
def test_train_test_on_batch_and_initial_epoch():
    x, y, weights = _data()
    m = _model(weights, "sgd")
    loss, acc = m.train_on_batch(x[:16], y[:16])
    assert np.isfinite(loss) and 0 <= acc <= 1
    assert m.test_on_batch(x[:16], y[:16], return_dict=True).keys() == {"loss", "accuracy"}
    h = m.fit(x, y, epochs=3, initial_epoch=1, verbose=0)
    assert h.epoch == [1, 2]
    assert m.optimizer.iterations.eval(session=keras.backend.get_session()) == 1 + 2 * 2


@pytest.mark.slow
def test_fit_on_dataset_and_generator():
    x, y, weights = _data()
    a, b, c = (_model(weights, "sgd") for _ in range(3))
    ha = a.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    hb = b.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(16), epochs=2, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-6)

    def batches():
        while True:
            for i in range(0, 64, 16):
                yield x[i:i + 16], y[i:i + 16]
    hc = c.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hc.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(a.evaluate(tf.data.Dataset.from_tensor_slices((x, y)).batch(20), verbose=0),
                               a.evaluate(x, y, verbose=0), rtol=1e-6)


def test_uncompiled_model_refuses_fit():
    x, y, weights = _data()
    m = keras.Sequential([keras.layers.Dense(3, input_shape=(5,))])
    with pytest.raises(RuntimeError, match="compile"):
        m.fit(x, y, verbose=0)
