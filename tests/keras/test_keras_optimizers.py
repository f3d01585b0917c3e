"""Keras optimizers: steps equal Keras 2's (OptimizerV2) formulas, which differ from tf.train's."""
import numpy as np
import pytest

import xlite as tf

keras = tf.keras

G = [np.array([0.5, -1.0, 2.0]), np.array([-0.3, 0.2, 1.0]), np.array([1.5, 0.0, -0.5])]
V0 = np.array([1.0, 2.0, -1.0])


def _steps(optimizer):
    """The Variable after applying each gradient of G in turn (graph mode: one run per step)."""
    var = tf.Variable(V0.astype(np.float32))
    keras.backend.track_variable(var)
    g = tf.placeholder(tf.float32, [3])
    step = optimizer.apply_gradients([(g, var)])
    session = keras.backend.get_session()
    out = []
    for grad in G:
        session.run(step, {g: grad.astype(np.float32)})
        out.append(session.run(var))
    assert session.run(optimizer.iterations) == len(G)
    return np.array(out)


def _keras_formula(update, slots):
    var, state, out = V0.copy(), {k: np.full(3, v) for k, v in slots.items()}, []
    for t, g in enumerate(G, start=1):
        var = update(var, g, state, t)
        out.append(var)
    return np.array(out)


def test_sgd_plain_momentum_and_nesterov():
    np.testing.assert_allclose(_steps(keras.optimizers.SGD(0.1)),
                               V0 - 0.1 * np.cumsum(G, axis=0), rtol=1e-6)

    def momentum(nesterov):
        def update(var, g, s, t):
            s["m"] = 0.9 * s["m"] - 0.1 * g
            return var + (0.9 * s["m"] - 0.1 * g if nesterov else s["m"])
        return update
    for nesterov in (False, True):
        np.testing.assert_allclose(_steps(keras.optimizers.SGD(0.1, momentum=0.9, nesterov=nesterov)),
                                   _keras_formula(momentum(nesterov), {"m": 0.0}), rtol=1e-6)


def test_adam_bias_corrected_rate_and_epsilon_outside_the_root():
    def update(var, g, s, t):
        s["m"] = 0.9 * s["m"] + 0.1 * g
        s["v"] = 0.999 * s["v"] + 0.001 * g * g
        lr = 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        return var - lr * s["m"] / (np.sqrt(s["v"]) + 1e-7)
    np.testing.assert_allclose(_steps(keras.optimizers.Adam(0.01)), _keras_formula(update, {"m": 0.0, "v": 0.0}),
                               rtol=1e-5)


def test_rmsprop_epsilon_outside_the_root():
    def update(var, g, s, t):
        s["ms"] = 0.9 * s["ms"] + 0.1 * g * g
        return var - 0.01 * g / (np.sqrt(s["ms"]) + 1e-7)
    np.testing.assert_allclose(_steps(keras.optimizers.RMSprop(0.01)), _keras_formula(update, {"ms": 0.0}),
                               rtol=1e-5)


def test_adagrad_initial_accumulator_and_epsilon():
    def update(var, g, s, t):
        s["acc"] = s["acc"] + g * g
        return var - 0.1 * g / (np.sqrt(s["acc"]) + 1e-7)
    np.testing.assert_allclose(_steps(keras.optimizers.Adagrad(0.1)), _keras_formula(update, {"acc": 0.1}),
                               rtol=1e-5)


def test_optimizers_by_name_and_learning_rate_variable():
    for name, cls in [("sgd", keras.optimizers.SGD), ("adam", keras.optimizers.Adam),
                      ("rmsprop", keras.optimizers.RMSprop), ("Adagrad", keras.optimizers.Adagrad)]:
        assert isinstance(keras.optimizers.get(name), cls)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        keras.optimizers.get("nope")
    opt = keras.optimizers.SGD(lr=0.5)
    assert keras.backend.get_value(opt.learning_rate) == 0.5
    keras.backend.set_value(opt.lr, 0.25)
    assert keras.backend.get_value(opt.learning_rate) == 0.25
    assert opt.get_config()["learning_rate"] == 0.25


def test_weight_constraints_project_after_each_update():
    layer = keras.layers.Dense(2, kernel_constraint=keras.constraints.MaxNorm(0.5),
                               bias_constraint=keras.constraints.NonNeg(), kernel_initializer="ones")
    model = keras.Sequential([keras.Input((3,)), layer])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.ones((4, 3), np.float32)
    model.fit(x, -np.ones((4, 2), np.float32), verbose=0)
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(np.sqrt((kernel ** 2).sum(0)), 0.5, rtol=1e-5)    # each column's norm clipped
    assert (bias >= 0).all()
