"""SimpleRNN, LSTM and GRU against NumPy with Keras' formulas and weight layouts (the same code agreed with
TF 2.21's layers to 1e-7 on weights copied from them), their gradients, and a small fit."""
import numpy as np
import pytest

import xlite as tf
from keras_cases import finite_difference_check

keras = tf.keras
L = keras.layers
RNG = np.random.default_rng(1)


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _numpy_rnn(kind, x, kernel, recurrent, bias):
    n, units = x.shape[0], recurrent.shape[0]
    h, c, outs = np.zeros((n, units)), np.zeros((n, units)), []
    for t in range(x.shape[1]):
        if kind == "simple":
            h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        elif kind == "lstm":
            i, f, g, o = np.split(x[:, t] @ kernel + h @ recurrent + bias, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
        else:
            x_z, x_r, x_h = np.split(x[:, t] @ kernel + bias[0], 3, axis=1)
            r_z, r_r, r_h = np.split(h @ recurrent + bias[1], 3, axis=1)
            z, r = _sigmoid(x_z + r_z), _sigmoid(x_r + r_r)
            h = z * h + (1 - z) * np.tanh(x_h + r * r_h)
        outs.append(h)
    return np.stack(outs, 1), h, c


@pytest.mark.parametrize("kind,cls", [("simple", L.SimpleRNN), ("lstm", L.LSTM), ("gru", L.GRU)])
def test_recurrent_forward_matches_keras_formulas(kind, cls):
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    inp = keras.Input((4, 3))
    layer = cls(5, return_sequences=True, return_state=True)
    results = layer(inp)
    weights = layer.get_weights()
    if kind != "gru":
        weights[2] = RNG.normal(size=weights[2].shape).astype(np.float32)     # a bias that matters
    else:
        weights[2] = RNG.normal(size=(2, 15)).astype(np.float32)
    layer.set_weights(weights)
    got = keras.backend.get_session().run(results, {inp: x})
    seq, h, c = _numpy_rnn(kind, x, *weights)
    np.testing.assert_allclose(got[0], seq, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], h, rtol=1e-5, atol=1e-6)
    if kind == "lstm":
        np.testing.assert_allclose(got[2], c, rtol=1e-5, atol=1e-6)
    assert [w.name for w in layer.weights] == [f"{layer.name}/kernel:0", f"{layer.name}/recurrent_kernel:0",
                                               f"{layer.name}/bias:0"]


def test_lstm_initial_weights_and_last_output():
    layer = L.LSTM(3)
    out = layer(keras.Input((6, 2)))
    assert out.shape.as_list() == [None, 3]
    kernel, recurrent, bias = layer.get_weights()
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(3), atol=1e-5)       # orthogonal rows
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])       # unit_forget_bias


@pytest.mark.slow
def test_lstm_gradients_by_finite_differences():
    finite_difference_check(L.LSTM(2, dtype="float64"), RNG.normal(size=(2, 3, 2)))
    finite_difference_check(L.GRU(2, dtype="float64"), RNG.normal(size=(2, 3, 2)))


@pytest.mark.slow
def test_lstm_model_fits():
    x = RNG.normal(size=(64, 5, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.float32)
    model = keras.Sequential([L.LSTM(8, input_shape=(5, 2)), L.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.8


@pytest.mark.parametrize("sequences", [pytest.param(True, marks=pytest.mark.slow), False])
def test_bidirectional_and_go_backwards(sequences):
    """Checked against TF 2.21's Bidirectional(GRU) on copied weights (1e-7); here against NumPy."""
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    inp = keras.Input((4, 3))
    layer = L.Bidirectional(L.GRU(3, return_sequences=sequences))
    out = layer(inp)
    weights = layer.get_weights()
    got = keras.backend.get_session().run(out, {inp: x})
    forward, f_last, _ = _numpy_rnn("gru", x, *weights[:3])
    backward, b_last, _ = _numpy_rnn("gru", x[:, ::-1], *weights[3:])
    want = np.concatenate([forward, backward[:, ::-1]], -1) if sequences else np.concatenate([f_last, b_last], -1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_time_distributed_dense():
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    inp = keras.Input((4, 3))
    td = L.TimeDistributed(L.Dense(2))
    out = td(inp)
    k, b = td.get_weights()
    assert out.shape.as_list() == [None, 4, 2]
    np.testing.assert_allclose(keras.backend.get_session().run(out, {inp: x}), x @ k + b, rtol=1e-5, atol=1e-6)


def test_recurrent_options_not_done_raise_unimplemented():
    with pytest.raises(tf.errors.UnimplementedError, match="stateful"):
        L.LSTM(2, stateful=True)
    with pytest.raises(tf.errors.UnimplementedError, match="RNN"):
        L.RNN(None)
