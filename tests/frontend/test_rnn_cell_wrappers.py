"""DropoutWrapper, ResidualWrapper and DeviceWrapper: no scope of their own (the wrapped cell's names), what each
adds to a step, TF's default state filter and argument errors."""
import numpy as np
import pytest

import xlite as tf

rnn_cell = tf.nn.rnn_cell


def _run(fetches, feed=None):
    with tf.Session(target="interpreter") as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_residual_wrapper_adds_inputs_and_keeps_names():
    cell = rnn_cell.ResidualWrapper(rnn_cell.BasicRNNCell(3))
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    out, state = cell(x, cell.zero_state(2, tf.float32))
    assert [v.op.name for v in cell.variables] == ["basic_rnn_cell/kernel", "basic_rnn_cell/bias"]
    got_out, got_state = _run([out, state])
    np.testing.assert_allclose(got_out, got_state + np.arange(6).reshape(2, 3), rtol=1e-6)
    custom = rnn_cell.ResidualWrapper(rnn_cell.BasicRNNCell(3, name="other"), residual_fn=lambda i, o: o - i)
    out2, st2 = custom(x, custom.zero_state(2, tf.float32))
    a, b = _run([out2, st2])
    np.testing.assert_allclose(a, b - np.arange(6).reshape(2, 3), rtol=1e-6)


def test_device_wrapper_delegates():
    cell = rnn_cell.DeviceWrapper(rnn_cell.GRUCell(2), "/cpu:0")
    assert cell.state_size == 2 and cell.output_size == 2
    out, _ = tf.nn.dynamic_rnn(cell, tf.ones([1, 3, 2]), dtype=tf.float32)
    assert [v.op.name for v in tf.trainable_variables()][0] == "rnn/gru_cell/gates/kernel"
    assert _run(out).shape == (1, 3, 2)


def test_dropout_wrapper_keep_probability_fed_and_state_filter():
    keep = tf.placeholder(tf.float32, [])
    inner = rnn_cell.BasicLSTMCell(64)
    cell = rnn_cell.DropoutWrapper(inner, output_keep_prob=keep, state_keep_prob=keep, seed=2)
    plain_out, plain_state = inner(tf.ones([4, 3]), inner.zero_state(4, tf.float32))
    out, state = cell(tf.ones([4, 3]), cell.zero_state(4, tf.float32))
    assert len(tf.global_variables()) == 2
    with tf.Session(target="interpreter") as sess:
        sess.run(tf.global_variables_initializer())
        ref_out, ref_state = sess.run([plain_out, plain_state])
        same_out, same_state = sess.run([out, state], {keep: 1.0})
        half_out, half_state = sess.run([out, state], {keep: 0.5})
    np.testing.assert_allclose(same_out, ref_out, rtol=1e-6)
    np.testing.assert_allclose(half_state.c, ref_state.c, rtol=1e-6)      # TF never drops an LSTM's c
    kept = half_out != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(half_out[kept], 2 * ref_out[kept], rtol=1e-5)
    assert (half_state.h == 0).any()


def test_dropout_wrapper_errors():
    cell = rnn_cell.BasicRNNCell(2)
    with pytest.raises(ValueError, match="output_keep_prob must be between 0 and 1"):
        rnn_cell.DropoutWrapper(cell, output_keep_prob=1.5)
    with pytest.raises(ValueError, match="dtype must be provided"):
        rnn_cell.DropoutWrapper(cell, output_keep_prob=0.5, variational_recurrent=True)
    with pytest.raises(ValueError, match="input_size must be provided"):
        rnn_cell.DropoutWrapper(cell, input_keep_prob=0.5, variational_recurrent=True, dtype=tf.float32)
    with pytest.raises(TypeError, match="must be callable"):
        rnn_cell.DropoutWrapper(cell, dropout_state_filter_visitor=3)
    with pytest.raises(TypeError, match="is not an RNNCell"):
        rnn_cell.DropoutWrapper(object())
