"""tf.nn.dynamic_rnn while executing eagerly (TF runs its while loop as Python): the same numbers as the
NumPy LSTM of the graph-mode tests, and GradientTape gradients through it equal to graph mode's."""
import numpy as np
import pytest

import xlite as tf
from xlite.eager import dispatch
from xlite.eager.context import eager_mode

X = np.random.default_rng(0).normal(size=(2, 4, 3)).astype(np.float32)
KERNEL = np.random.default_rng(1).normal(scale=0.5, size=(5, 8)).astype(np.float32)
BIAS = np.linspace(-1, 1, 8).astype(np.float32)


def _graph_mode():
    with tf.Graph().as_default():
        cell = tf.nn.rnn_cell.BasicLSTMCell(2)
        out, state = tf.nn.dynamic_rnn(cell, tf.constant(X), sequence_length=[4, 1], dtype=tf.float32)
        grads = tf.gradients(tf.reduce_sum(tf.sin(out)), cell.variables)
        with tf.Session(target="interpreter") as sess:
            sess.run(tf.global_variables_initializer())
            cell.variables[0].load(KERNEL, sess)
            cell.variables[1].load(BIAS, sess)
            return sess.run([out, state.c, grads])


@pytest.mark.slow
def test_eager_dynamic_rnn_and_tape_match_graph_mode():
    want_out, want_c, want_grads = _graph_mode()
    dispatch.set_target("interpreter")
    try:
        _eager_matches(want_out, want_c, want_grads)
    finally:
        dispatch.set_target(None)


def _eager_matches(want_out, want_c, want_grads):
    with eager_mode():
        cell = tf.nn.rnn_cell.BasicLSTMCell(2)
        tf.nn.dynamic_rnn(cell, tf.constant(X[:, :1]), dtype=tf.float32)      # makes the Variables
        cell.variables[0].assign(KERNEL)
        cell.variables[1].assign(BIAS)
        with tf.GradientTape() as tape:
            out, state = tf.nn.dynamic_rnn(cell, tf.constant(X), sequence_length=[4, 1], dtype=tf.float32)
            loss = tf.reduce_sum(tf.sin(out))
        grads = tape.gradient(loss, cell.variables)
        assert [v.name for v in cell.variables] == ["rnn/basic_lstm_cell/kernel:0", "rnn/basic_lstm_cell/bias:0"]
        np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(state.c.numpy(), want_c, rtol=1e-5, atol=1e-6)
        for g, w in zip(grads, want_grads):
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-4, atol=1e-5)
