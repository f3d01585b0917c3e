"""tf.nn.rnn_cell's cells: one step of each against a NumPy reference on fixed weights, TF's variable names and
shapes, state sizes, zero states and the errors TF raises."""
import numpy as np
import pytest

import xlite as tf
from xlite.frontend.rnn_cell_impl import LSTMStateTuple


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_basic_rnn(w, x, h):
    return np.tanh(np.concatenate([x, h], 1) @ w["kernel"] + w["bias"])


def np_gru(w, x, h):
    r, u = np.split(sigmoid(np.concatenate([x, h], 1) @ w["gates/kernel"] + w["gates/bias"]), 2, axis=1)
    c = np.tanh(np.concatenate([x, r * h], 1) @ w["candidate/kernel"] + w["candidate/bias"])
    return u * h + (1 - u) * c


def np_lstm(w, x, c, h, forget_bias=1.0, peepholes=False, cell_clip=None, proj_clip=None):
    """TF's LSTMCell step (BasicLSTMCell is the case without peepholes, clip or projection); returns (c, m)."""
    i, j, f, o = np.split(np.concatenate([x, h], 1) @ w["kernel"] + w["bias"], 4, axis=1)
    if peepholes:
        c = sigmoid(f + forget_bias + w["w_f_diag"] * c) * c + sigmoid(i + w["w_i_diag"] * c) * np.tanh(j)
    else:
        c = sigmoid(f + forget_bias) * c + sigmoid(i) * np.tanh(j)
    if cell_clip is not None:
        c = np.clip(c, -cell_clip, cell_clip)
    m = sigmoid(o + w["w_o_diag"] * c if peepholes else o) * np.tanh(c)
    if "projection/kernel" in w:
        m = m @ w["projection/kernel"]
        if proj_clip is not None:
            m = np.clip(m, -proj_clip, proj_clip)
    return c, m


def _short(var, prefix: str) -> str:
    return var.op.name[len(prefix):]


def step(cell, x, state, scope_prefix, seed=0):
    """One call of `cell` on fed x and state, with random weights loaded; returns (output, state, weights)."""
    rng = np.random.default_rng(seed)
    xp = tf.placeholder(tf.float64, x.shape)
    parts = [state] if isinstance(state, np.ndarray) else list(state)
    holders = [tf.placeholder(tf.float64, p.shape) for p in parts]
    out, new_state = cell(xp, holders[0] if isinstance(state, np.ndarray) else type(state)(*holders))
    feed = {xp: x, **dict(zip(holders, parts))}
    weights = {}
    with tf.Session(target="interpreter") as sess:
        sess.run(tf.global_variables_initializer())
        for v in cell.variables:
            value = rng.normal(scale=0.5, size=v.shape.as_list())
            v.load(value, sess)
            weights[_short(v, scope_prefix)] = value
        got_out, got_state = sess.run([out, new_state], feed)
    return got_out, got_state, weights


X = np.random.default_rng(1).normal(size=(3, 5))
H4 = np.random.default_rng(2).normal(size=(3, 4))
C4 = np.random.default_rng(3).normal(size=(3, 4))


def test_basic_rnn_cell_step_and_names():
    cell = tf.nn.rnn_cell.BasicRNNCell(4, dtype=tf.float64)
    out, state, w = step(cell, X, H4, "basic_rnn_cell/")
    assert sorted(w) == ["bias", "kernel"] and w["kernel"].shape == (9, 4)
    np.testing.assert_allclose(out, np_basic_rnn(w, X, H4), rtol=1e-10)
    np.testing.assert_allclose(state, out)
    assert cell.state_size == 4 and cell.output_size == 4


def test_gru_cell_step_names_and_initial_gate_bias():
    cell = tf.nn.rnn_cell.GRUCell(4, dtype=tf.float64)
    out, state, w = step(cell, X, H4, "gru_cell/")
    assert sorted(w) == ["candidate/bias", "candidate/kernel", "gates/bias", "gates/kernel"]
    assert w["gates/kernel"].shape == (9, 8) and w["candidate/kernel"].shape == (9, 4)
    np.testing.assert_allclose(out, np_gru(w, X, H4), rtol=1e-10)
    gate_bias = next(v for v in cell.variables if v.op.name.endswith("gates/bias"))
    with tf.Session(target="interpreter") as sess:
        sess.run(gate_bias.initializer)
        np.testing.assert_array_equal(sess.run(gate_bias), np.ones(8))   # TF starts the gates at 1


@pytest.mark.parametrize("forget_bias", [1.0, 0.25])
def test_basic_lstm_cell_step_gate_order_i_j_f_o(forget_bias):
    cell = tf.nn.rnn_cell.BasicLSTMCell(4, forget_bias=forget_bias, dtype=tf.float64)
    out, state, w = step(cell, X, LSTMStateTuple(C4, H4), "basic_lstm_cell/")
    assert w["kernel"].shape == (9, 16) and w["bias"].shape == (16,)
    c, h = np_lstm(w, X, C4, H4, forget_bias)
    assert isinstance(state, LSTMStateTuple)
    np.testing.assert_allclose(state.c, c, rtol=1e-10)
    np.testing.assert_allclose(state.h, h, rtol=1e-10)
    np.testing.assert_allclose(out, h, rtol=1e-10)


def test_basic_lstm_cell_state_not_tuple():
    cell = tf.nn.rnn_cell.BasicLSTMCell(4, state_is_tuple=False, dtype=tf.float64)
    assert cell.state_size == 8
    out, state, w = step(cell, X, np.concatenate([C4, H4], 1), "basic_lstm_cell/")
    c, h = np_lstm(w, X, C4, H4)
    np.testing.assert_allclose(state, np.concatenate([c, h], 1), rtol=1e-10)


def test_lstm_cell_peepholes_clip_and_projection():
    cell = tf.nn.rnn_cell.LSTMCell(4, use_peepholes=True, cell_clip=0.3, num_proj=3, proj_clip=0.2,
                                   forget_bias=0.5, dtype=tf.float64)
    assert cell.state_size == LSTMStateTuple(4, 3) and cell.output_size == 3
    h3 = H4[:, :3]
    out, state, w = step(cell, X, LSTMStateTuple(C4, h3), "lstm_cell/")
    assert sorted(w) == ["bias", "kernel", "projection/kernel", "w_f_diag", "w_i_diag", "w_o_diag"]
    assert w["kernel"].shape == (8, 16) and w["projection/kernel"].shape == (4, 3)
    c, m = np_lstm(w, X, C4, h3, 0.5, peepholes=True, cell_clip=0.3, proj_clip=0.2)
    np.testing.assert_allclose(state.c, c, rtol=1e-10)
    np.testing.assert_allclose(out, m, rtol=1e-10)
    assert np.abs(state.c).max() <= 0.3 + 1e-12


def test_multi_rnn_cell_names_and_stacking():
    cells = [tf.nn.rnn_cell.BasicLSTMCell(4, dtype=tf.float64), tf.nn.rnn_cell.GRUCell(4, dtype=tf.float64)]
    multi = tf.nn.rnn_cell.MultiRNNCell(cells)
    assert multi.state_size == (LSTMStateTuple(4, 4), 4) and multi.output_size == 4
    x = tf.placeholder(tf.float64, [3, 4])
    zero = multi.zero_state(3, tf.float64)
    with tf.variable_scope("rnn"):
        out, state = multi(x, zero)
    names = sorted(v.op.name for v in tf.global_variables())
    assert names == ["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
                     "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
                     "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/bias",
                     "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/kernel",
                     "rnn/multi_rnn_cell/cell_1/gru_cell/gates/bias",
                     "rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel"]
    assert len(multi.trainable_variables) == 6
    rng = np.random.default_rng(4)
    xv = rng.normal(size=(3, 4))
    with tf.Session(target="interpreter") as sess:
        sess.run(tf.global_variables_initializer())
        w0 = {_short(v, "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/"): sess.run(v) for v in cells[0].variables}
        w1 = {_short(v, "rnn/multi_rnn_cell/cell_1/gru_cell/"): sess.run(v) for v in cells[1].variables}
        got_out, got_state = sess.run([out, state], {x: xv})
    zeros = np.zeros((3, 4))
    c, h = np_lstm(w0, xv, zeros, zeros)
    g = np_gru(w1, h, zeros)
    np.testing.assert_allclose(got_state[0].c, c, rtol=1e-10)
    np.testing.assert_allclose(got_out, g, rtol=1e-10)


def test_zero_state_shapes_with_static_and_fed_batch():
    cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.LSTMCell(3, num_proj=2), tf.nn.rnn_cell.BasicRNNCell(5)])
    static = cell.zero_state(7, tf.float32)
    assert static[0].c.shape.as_list() == [7, 3] and static[0].h.shape.as_list() == [7, 2]
    assert static[1].shape.as_list() == [7, 5]
    x = tf.placeholder(tf.float32, [None, 4])
    fed = cell.get_initial_state(inputs=x)
    assert fed[1].shape.as_list() == [None, 5]
    with tf.Session(target="interpreter") as sess:
        got = sess.run(fed, {x: np.zeros((2, 4), np.float32)})
    assert got[0].c.shape == (2, 3) and got[1].shape == (2, 5) and not got[1].any()


def test_cell_reuse_and_scope_argument():
    cell = tf.nn.rnn_cell.BasicRNNCell(3)
    x = tf.placeholder(tf.float32, [2, 4])
    s = cell.zero_state(2, tf.float32)
    cell(x, s)
    cell(x, s)                                         # second call reuses the Variables
    assert [v.op.name for v in tf.global_variables()] == ["basic_rnn_cell/kernel", "basic_rnn_cell/bias"]
    other = tf.nn.rnn_cell.BasicRNNCell(3)
    other(x, s, scope="my_scope")
    assert sorted(v.op.name for v in other.variables) == ["my_scope/bias", "my_scope/kernel"]


def test_string_activation_and_errors():
    cell = tf.nn.rnn_cell.BasicRNNCell(2, activation="relu")
    x = tf.placeholder(tf.float32, [1, None])
    with pytest.raises(ValueError, match="Expected inputs.shape\\[-1\\] to be known"):
        cell(x, cell.zero_state(1, tf.float32))
    with pytest.raises(ValueError, match="at least one cell"):
        tf.nn.rnn_cell.MultiRNNCell([])
    with pytest.raises(ValueError, match="state_is_tuple is not set"):
        tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(2)], state_is_tuple=False)
    with pytest.raises(tf.errors.UnimplementedError, match="num_unit_shards"):
        tf.nn.rnn_cell.LSTMCell(2, num_unit_shards=2)
    assert tf.compat.v1.nn.rnn_cell.LSTMStateTuple is LSTMStateTuple
    with pytest.raises(TypeError, match="Inconsistent internal state"):
        LSTMStateTuple(tf.zeros([1]), tf.zeros([1], tf.float64)).dtype


class OwnCallCell(tf.nn.rnn_cell.RNNCell):
    """A TF1-era user cell: __call__ overridden, its Variable from tf.get_variable."""

    @property
    def state_size(self):
        return 3

    @property
    def output_size(self):
        return 3

    def __call__(self, inputs, state, scope=None):
        with tf.variable_scope(scope or "own_cell"):
            w = tf.get_variable("w", [inputs.shape[1] + 3, 3])
            h = tf.tanh(tf.matmul(tf.concat([inputs, state], 1), w))
        return h, h


class BuildCallCell(OwnCallCell):
    """A user cell written like the built-in ones: build and call."""

    __call__ = tf.nn.rnn_cell.RNNCell.__call__

    def build(self, inputs_shape):
        self.w = self.add_variable("w", [inputs_shape[-1] + 3, 3])

    def call(self, inputs, state):
        h = tf.tanh(tf.matmul(tf.concat([inputs, state], 1), self.w))
        return h, h


def test_user_cells_in_dynamic_rnn_get_tf_names_and_gradients():
    x = tf.constant(np.random.default_rng(8).normal(size=(2, 4, 2)).astype(np.float32))
    own, _ = tf.nn.dynamic_rnn(OwnCallCell(), x, dtype=tf.float32)
    built, _ = tf.nn.dynamic_rnn(BuildCallCell(), x, dtype=tf.float32, scope="other")
    assert [v.op.name for v in tf.global_variables()] == ["rnn/own_cell/w", "other/build_call_cell/w"]
    grads = tf.gradients(tf.reduce_sum(own) + tf.reduce_sum(built), tf.trainable_variables())
    with tf.Session(target="interpreter") as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(grads)
    assert [g.shape for g in got] == [(5, 3), (5, 3)] and all(np.abs(g).sum() > 0 for g in got)
