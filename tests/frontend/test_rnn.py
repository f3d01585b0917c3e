"""tf.nn.dynamic_rnn, bidirectional_dynamic_rnn, static_rnn and static_bidirectional_rnn: values against a
NumPy loop, sequence_length masking, dynamic against static, gradients by finite differences, TF's names."""
import numpy as np
import pytest
from test_rnn_cell_impl import np_gru, np_lstm

import xlite as tf

INTERP = "interpreter"    # most tests run on the reference semantics (no LLVM compile); one also runs on cpu
B, T, D, U = 3, 5, 2, 4
LENGTHS = np.array([5, 2, 0], np.int32)


def np_lstm_sequence(w, x, lengths=None, c=None, h=None):
    """A [B, T, D] batch through TF's BasicLSTMCell, with TF's sequence_length rule; (outputs, c, h)."""
    b, t = x.shape[:2]
    c = np.zeros((b, U)) if c is None else c
    h = np.zeros((b, U)) if h is None else h
    outputs = np.zeros((b, t, U))
    for k in range(t):
        c_new, h_new = np_lstm(w, x[:, k], c, h)
        live = (np.arange(b) < b) if lengths is None else k < lengths
        outputs[live, k] = h_new[live]
        c = np.where(live[:, None], c_new, c)
        h = np.where(live[:, None], h_new, h)
    return outputs, c, h


def weights_of(cell, sess, prefix):
    return {v.op.name[len(prefix):]: sess.run(v) for v in cell.variables}


@pytest.fixture(scope="module")
def x_value():
    return np.random.default_rng(0).normal(size=(B, T, D))


def _lstm_run(x_value, targets, with_grads: bool) -> list:
    """A BasicLSTMCell dynamic_rnn with a fed batch and sequence_length, fixed weights, run on each target:
    [(outputs, state, gradients or None)] per target, checked against NumPy."""
    x = tf.placeholder(tf.float64, [None, T, D])
    lengths = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.BasicLSTMCell(U)
    outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float64)
    assert outputs.shape.as_list() == [None, T, U] and state.c.shape.as_list() == [None, U]
    assert [v.op.name for v in tf.global_variables()] == ["rnn/basic_lstm_cell/kernel", "rnn/basic_lstm_cell/bias"]
    grads = tf.gradients(tf.reduce_sum(tf.sin(outputs)) + tf.reduce_sum(state.c), [x] + cell.variables) \
        if with_grads else tf.no_op()
    w = {"kernel": np.random.default_rng(7).normal(scale=0.5, size=(D + U, 4 * U)),
         "bias": np.linspace(-1, 1, 4 * U)}
    want_out, want_c, want_h = np_lstm_sequence(w, x_value, LENGTHS)
    results = []
    for target in targets:
        with tf.Session(target=target) as sess:
            sess.run(tf.global_variables_initializer())
            for v in cell.variables:
                v.load(w[v.op.name.split("/")[-1]], sess)
            results.append(sess.run([outputs, state, grads], {x: x_value, lengths: LENGTHS}))
        got_out, got_state, _ = results[-1]
        np.testing.assert_allclose(got_out, want_out, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got_state.c, want_c, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got_state.h, want_h, rtol=1e-10, atol=1e-12)
        assert not got_out[2].any() and not got_out[1, 2:].any()      # past each length: zeros
    return results


def test_dynamic_rnn_lstm_with_sequence_length_matches_numpy(x_value):
    _lstm_run(x_value, (INTERP, "cpu"), with_grads=False)


@pytest.mark.slow
def test_dynamic_rnn_gradients_on_cpu_equal_the_interpreters(x_value):
    reference, compiled = _lstm_run(x_value, (INTERP, "cpu"), with_grads=True)
    for a, b in zip(reference[2], compiled[2]):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_dynamic_rnn_time_major_initial_state_and_static_rnn_agree(x_value):
    """The same GRU cell (same Variables) through dynamic_rnn, time_major dynamic_rnn and static_rnn."""
    x = tf.constant(x_value)
    h0 = tf.constant(np.random.default_rng(1).normal(size=(B, U)))
    cell = tf.nn.rnn_cell.GRUCell(U)
    dyn, dyn_state = tf.nn.dynamic_rnn(cell, x, initial_state=h0)
    tm, tm_state = tf.nn.dynamic_rnn(cell, tf.transpose(x, [1, 0, 2]), initial_state=h0, time_major=True)
    static, static_state = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), initial_state=h0)
    assert len(tf.global_variables()) == 4 and len(static) == T
    kernel = cell.variables[0]
    grads = [tf.gradients(tf.reduce_sum(tf.sin(o)), kernel)[0] for o in (dyn, tf.stack(static, 1))]
    with tf.Session(target=INTERP) as sess:
        sess.run(tf.global_variables_initializer())
        w = weights_of(cell, sess, "rnn/gru_cell/")
        got = sess.run([dyn, dyn_state, tm, tm_state, static, static_state, grads])
    h, want = h0_value(), []
    for k in range(T):
        h = np_gru(w, x_value[:, k], h)
        want.append(h)
    want = np.stack(want, 1)
    np.testing.assert_allclose(got[0], want, rtol=1e-10)
    np.testing.assert_allclose(got[1], want[:, -1], rtol=1e-10)
    np.testing.assert_allclose(got[2], want.transpose(1, 0, 2), rtol=1e-10)
    np.testing.assert_allclose(got[3], got[1], rtol=1e-12)
    np.testing.assert_allclose(np.stack(got[4], 1), want, rtol=1e-10)
    np.testing.assert_allclose(got[5], got[1], rtol=1e-12)
    np.testing.assert_allclose(got[6][0], got[6][1], rtol=1e-9)


def h0_value():
    return np.random.default_rng(1).normal(size=(B, U))


def test_dynamic_rnn_gradients_by_finite_differences(x_value):
    """d loss / d (inputs, initial state, kernel) of an LSTMCell with peepholes and projection, with
    sequence_length, against central differences along random directions."""
    x = tf.placeholder(tf.float64, [B, T, D])
    c0 = tf.placeholder(tf.float64, [B, U])
    h0 = tf.placeholder(tf.float64, [B, 3])
    cell = tf.nn.rnn_cell.LSTMCell(U, use_peepholes=True, num_proj=3)
    outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=[5, 3, 1],
                                       initial_state=tf.nn.rnn_cell.LSTMStateTuple(c0, h0))
    rng = np.random.default_rng(2)
    weight = tf.constant(rng.normal(size=(B, T, 3)))
    loss = tf.reduce_sum(outputs * weight) + tf.reduce_sum(tf.square(state.c))
    kernel, diag = cell.variables[0], cell.variables[2]
    assert diag.op.name == "rnn/lstm_cell/w_f_diag"
    grads = tf.gradients(loss, [x, c0, h0, kernel, diag])
    values = {x: x_value, c0: rng.normal(size=(B, U)), h0: rng.normal(size=(B, 3))}
    eps = 1e-6
    with tf.Session(target=INTERP) as sess:
        sess.run(tf.global_variables_initializer())
        analytic = sess.run(grads, values)
        for t, g in zip([x, c0, h0], analytic):
            v = rng.normal(size=g.shape)
            up = sess.run(loss, {**values, t: values[t] + eps * v})
            down = sess.run(loss, {**values, t: values[t] - eps * v})
            assert np.sum(g * v) == pytest.approx((up - down) / (2 * eps), rel=1e-6)
        for var, g in zip([kernel, diag], analytic[3:]):
            base = sess.run(var)
            v = rng.normal(size=base.shape)
            var.load(base + eps * v, sess)
            up = sess.run(loss, values)
            var.load(base - eps * v, sess)
            down = sess.run(loss, values)
            var.load(base, sess)
            assert np.sum(g * v) == pytest.approx((up - down) / (2 * eps), rel=1e-6)
    assert not analytic[0][2, 1:].any()                  # steps past a length get no gradient


def test_bidirectional_dynamic_rnn_names_and_values(x_value):
    x = tf.placeholder(tf.float64, [B, T, D])
    fw, bw = tf.nn.rnn_cell.BasicLSTMCell(U), tf.nn.rnn_cell.BasicLSTMCell(U)
    (out_fw, out_bw), (st_fw, st_bw) = tf.nn.bidirectional_dynamic_rnn(fw, bw, x, sequence_length=LENGTHS,
                                                                       dtype=tf.float64)
    assert sorted(v.op.name for v in tf.global_variables()) == [
        "bidirectional_rnn/bw/basic_lstm_cell/bias", "bidirectional_rnn/bw/basic_lstm_cell/kernel",
        "bidirectional_rnn/fw/basic_lstm_cell/bias", "bidirectional_rnn/fw/basic_lstm_cell/kernel"]
    (tm_fw, tm_bw), _ = tf.nn.bidirectional_dynamic_rnn(fw, bw, tf.transpose(x, [1, 0, 2]), sequence_length=LENGTHS,
                                                        dtype=tf.float64, time_major=True, scope="time_major")
    with tf.Session(target=INTERP) as sess:
        sess.run(tf.global_variables_initializer())
        w_fw = weights_of(fw, sess, "bidirectional_rnn/fw/basic_lstm_cell/")
        w_bw = weights_of(bw, sess, "bidirectional_rnn/bw/basic_lstm_cell/")
        got = sess.run([out_fw, out_bw, st_fw, st_bw], {x: x_value})
        time_major = sess.run([tm_fw, tm_bw], {x: x_value})
    np.testing.assert_allclose(time_major[0], got[0].transpose(1, 0, 2), rtol=1e-12)
    np.testing.assert_allclose(time_major[1], got[1].transpose(1, 0, 2), rtol=1e-12)
    reversed_x = x_value.copy()
    for b, n in enumerate(LENGTHS):
        reversed_x[b, :n] = x_value[b, :n][::-1]
    want_fw = np_lstm_sequence(w_fw, x_value, LENGTHS)
    want_bw = np_lstm_sequence(w_bw, reversed_x, LENGTHS)
    back = want_bw[0].copy()
    for b, n in enumerate(LENGTHS):
        back[b, :n] = want_bw[0][b, :n][::-1]
    np.testing.assert_allclose(got[0], want_fw[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[1], back, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[3].h, want_bw[2], rtol=1e-10, atol=1e-12)


def test_static_bidirectional_rnn_matches_dynamic(x_value):
    x = tf.constant(x_value)
    fw, bw = tf.nn.rnn_cell.GRUCell(U), tf.nn.rnn_cell.BasicRNNCell(U)
    (dyn_fw, dyn_bw), _ = tf.nn.bidirectional_dynamic_rnn(fw, bw, x, sequence_length=LENGTHS, dtype=tf.float64)
    outputs, st_fw, st_bw = tf.nn.static_bidirectional_rnn(fw, bw, tf.unstack(x, axis=1), dtype=tf.float64,
                                                           sequence_length=LENGTHS)
    assert len(tf.global_variables()) == 6 and outputs[0].shape.as_list() == [B, 2 * U]
    with tf.Session(target=INTERP) as sess:
        sess.run(tf.global_variables_initializer())
        want, got = sess.run([tf.concat([dyn_fw, dyn_bw], 2), tf.stack(outputs, 1)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_multi_rnn_cell_with_dropout_wrapper_in_dynamic_rnn():
    cells = [tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicLSTMCell(U), output_keep_prob=0.5, seed=3)
             for _ in range(2)]
    x = tf.placeholder(tf.float32, [None, None, D])
    outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(cells), x, dtype=tf.float32)
    assert sorted(v.op.name for v in tf.global_variables()) == [
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias", "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
        "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias", "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel"]
    with tf.Session(target=INTERP) as sess:
        sess.run(tf.global_variables_initializer())
        got, st = sess.run([outputs, state], {x: np.ones((2, 7, D), np.float32)})   # time fed at run time
    assert got.shape == (2, 7, U) and st[1].h.shape == (2, U)
    dropped = got == 0
    assert dropped.any() and (~dropped).any()


def test_dropout_wrapper_variational_reuses_one_mask_per_sequence():
    cell = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicRNNCell(8), output_keep_prob=0.5, input_keep_prob=0.9,
                                         state_keep_prob=0.8, variational_recurrent=True, input_size=2,
                                         dtype=tf.float32, seed=1)
    x = tf.constant(np.random.default_rng(5).normal(size=(3, 6, 2)).astype(np.float32))
    outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    with tf.Session(target=INTERP) as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(outputs)
    kept = got != 0
    assert kept.any() and (~kept).any()
    assert (kept == kept[:1, :1]).all()          # the same units dropped in every row and every step


def test_dynamic_rnn_errors():
    cell = tf.nn.rnn_cell.BasicRNNCell(2)
    x = tf.placeholder(tf.float32, [3, 4, 2])
    with pytest.raises(ValueError, match="you must give a dtype"):
        tf.nn.dynamic_rnn(cell, x)
    with pytest.raises(ValueError, match="sequence_length must be a vector"):
        tf.nn.dynamic_rnn(cell, x, sequence_length=[[1]], dtype=tf.float32)
    with pytest.raises(ValueError, match="Input size"):
        tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [3, 4, None]), dtype=tf.float32)
    with pytest.raises(ValueError, match="dtype must be specified|you must give a dtype"):
        tf.nn.static_rnn(cell, [x[:, 0]])


@pytest.mark.parametrize("seq_axis, batch_axis", [(1, 0), (0, 2)])
def test_reverse_sequence_values_and_gradient(seq_axis, batch_axis):
    rng = np.random.default_rng(6)
    value = rng.normal(size=(4, 5, 3))
    n = value.shape[batch_axis]
    lengths = np.array([5, 0, 2, 1][:n] if n == 4 else [3, 0, 4][:n], np.int64)
    x = tf.placeholder(tf.float64, value.shape)
    y = tf.reverse_sequence(x, lengths, seq_axis=seq_axis, batch_axis=batch_axis)
    g = tf.gradients(tf.reduce_sum(y * value), x)[0]
    want = np.moveaxis(value, (batch_axis, seq_axis), (0, 1)).copy()
    for b, k in enumerate(lengths):
        want[b, :k] = want[b, :k][::-1]
    want = np.moveaxis(want, (0, 1), (batch_axis, seq_axis))
    with tf.Session(target=INTERP) as sess:
        got, grad = sess.run([y, g], {x: value})
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(grad, want)      # the reversal is its own inverse


@pytest.mark.slow
def test_dynamic_rnn_on_emulated_cuda_equals_the_interpreter(x_value, emulated):
    reference, device = _lstm_run(x_value, (INTERP, "cuda"), with_grads=True)
    for a, b in zip(reference[2], device[2]):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_dynamic_rnn_with_fed_time_steps_has_the_static_gradients(x_value):
    """Time unknown until the run (maximum_iterations fed): the same values and gradients as a static T."""
    cell = tf.nn.rnn_cell.BasicLSTMCell(U)
    fed = tf.placeholder(tf.float64, [B, None, D])
    out_static, _ = tf.nn.dynamic_rnn(cell, tf.constant(x_value), sequence_length=LENGTHS, dtype=tf.float64)
    out_fed, _ = tf.nn.dynamic_rnn(cell, fed, sequence_length=LENGTHS, dtype=tf.float64)
    assert out_fed.shape.as_list() == [B, None, U]
    grads = [tf.gradients(tf.reduce_sum(tf.sin(o)), cell.variables) for o in (out_static, out_fed)]
    with tf.Session(target=INTERP) as sess:
        sess.run(tf.global_variables_initializer())
        (a, ga), (b, gb) = sess.run([(out_static, grads[0]), (out_fed, grads[1])], {fed: x_value})
    np.testing.assert_allclose(b, a, rtol=1e-12)
    for x, y in zip(ga, gb):
        np.testing.assert_allclose(y, x, rtol=1e-9)


@pytest.mark.parametrize("time_dim", [0, None])
def test_dynamic_rnn_over_no_steps_gives_empty_outputs_and_the_initial_state(time_dim):
    """As TF: T = 0 (static or fed) runs no step; outputs [batch, 0, units], the state as it came in."""
    x = tf.placeholder(tf.float32, [2, time_dim, 3])
    h0 = tf.constant(np.arange(8, dtype=np.float32).reshape(2, 4))
    out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(4), x, initial_state=h0)
    grads = tf.gradients(tf.reduce_sum(state), tf.trainable_variables())
    with tf.Session(target=INTERP) as sess:
        sess.run(tf.global_variables_initializer())
        got_out, got_state, got_grads = sess.run([out, state, grads], {x: np.zeros((2, 0, 3), np.float32)})
        assert len(got_grads) == 4 and not any(g.any() for g in got_grads)
        if time_dim is None:
            assert sess.run(out, {x: np.ones((2, 3, 3), np.float32)}).shape == (2, 3, 4)
    assert got_out.shape == (2, 0, 4)
    np.testing.assert_array_equal(got_state, np.arange(8).reshape(2, 4))
