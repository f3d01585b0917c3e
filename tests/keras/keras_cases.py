"""Shared by the tf.keras tests: a deterministic fit setup with TensorFlow's numbers for it, and the finite-difference
gradient check of a layer."""
import numpy as np

import xlite as tf

keras = tf.keras
_RNG = np.random.default_rng(7)

# Made with TF 2.21 / Keras 3.15 (/tmp/tfvenv) running `data()` below and test_fit.py's `_model`:
# fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history and evaluate(x, y).
TF_HISTORY = {
    "sgd": {"loss": [1.372244954109192, 1.1039741039276123, 1.026832938194275],
            "accuracy": [0.234375, 0.375, 0.453125], "eval": [0.998640239238739, 0.484375]},
    "adam": {"loss": [1.4119908809661865, 1.3066022396087646, 1.2301020622253418],
             "accuracy": [0.234375, 0.28125, 0.34375], "eval": [1.1907989978790283, 0.359375]},
}


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=64)
    w1 = (rng.normal(size=(5, 8)) * 0.5).astype(np.float32)
    b1 = np.zeros(8, np.float32) + 0.1
    w2 = (rng.normal(size=(8, 3)) * 0.5).astype(np.float32)
    return x, y, [w1, b1, w2, np.zeros(3, np.float32)]


def finite_difference_check(layer, x, training=False, eps=1e-6, rtol=1e-5, atol=1e-6):
    """tf.gradients of sum(layer(x) * w) with respect to x and to each trainable weight, against central
    differences of the same loss (float64 layers)."""
    inp = tf.placeholder(tf.float64, x.shape)
    y = layer(inp, training=training) if training else layer(inp)
    w = _RNG.normal(size=y.shape.as_list())
    loss = tf.reduce_sum(y * w)
    weights = layer.trainable_weights
    grads = tf.gradients(loss, [inp] + weights)
    session = keras.backend.get_session()
    analytic = session.run(grads, {inp: x})

    def f(value=x):
        return session.run(loss, {inp: value})
    numeric = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (f(up) - f(down)) / (2 * eps)
    np.testing.assert_allclose(analytic[0], numeric, rtol=rtol, atol=atol)
    for var, g in zip(weights, analytic[1:]):
        value = keras.backend.get_value(var)
        direction = _RNG.normal(size=value.shape)
        keras.backend.set_value(var, value + eps * direction)
        plus = f()
        keras.backend.set_value(var, value - eps * direction)
        minus = f()
        keras.backend.set_value(var, value)
        np.testing.assert_allclose((g * direction).sum(), (plus - minus) / (2 * eps), rtol=rtol, atol=atol)
