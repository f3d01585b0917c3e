"""Keras-style optimizer.apply_gradients(zip(grads, vars)) with tf.train optimizers, eagerly, vs NumPy."""
import numpy as np
import pytest

import xlite as tf

W0 = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.3]], np.float32)


def _grad(w):
    """d/dw of mean((X @ w)^2)."""
    return (2 * X.T @ (X @ w) / (X.shape[0] * w.shape[1])).astype(np.float32)


def _train(optimizer, steps=3):
    w = tf.Variable(W0)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(tf.constant(X), w)))
        grads = tape.gradient(loss, [w])
        optimizer.apply_gradients(zip(grads, [w]))
    return w.numpy()


def test_sgd(target):
    w = W0.copy()
    for _ in range(3):
        w = w - 0.1 * _grad(w)
    np.testing.assert_allclose(_train(tf.train.GradientDescentOptimizer(0.1)), w, rtol=1e-5)


def test_momentum(target):
    w, acc = W0.copy(), np.zeros_like(W0)
    for _ in range(3):
        acc = 0.9 * acc + _grad(w)
        w = w - 0.1 * acc
    np.testing.assert_allclose(_train(tf.train.MomentumOptimizer(0.1, 0.9)), w, rtol=1e-5)


def test_adam(target):
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    for t in range(1, 4):
        g = _grad(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(_train(tf.train.AdamOptimizer(lr)), w, rtol=1e-5)


def test_global_step_and_slots(eager):
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
    w = tf.Variable([1.0, 2.0])
    opt = tf.train.MomentumOptimizer(0.5, 0.5)
    for _ in range(2):
        opt.apply_gradients([(tf.constant([1.0, 1.0]), w)], global_step=step)
    assert int(step) == 2
    np.testing.assert_allclose(opt.get_slot(w, "momentum").numpy(), [1.5, 1.5])
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.5 - 0.75, 2.0 - 0.5 - 0.75])


def test_minimize_takes_a_loss_function_eagerly(eager):
    w = tf.Variable(W0)
    opt = tf.train.GradientDescentOptimizer(0.1)
    for _ in range(3):
        opt.minimize(lambda: tf.reduce_mean(tf.square(tf.matmul(tf.constant(X), w))))
    want = W0.copy()
    for _ in range(3):
        want = want - 0.1 * _grad(want)
    np.testing.assert_allclose(w.numpy(), want, rtol=1e-5)
    with pytest.raises(RuntimeError, match="should be a function when eager execution is enabled"):
        opt.minimize(tf.reduce_sum(w))
