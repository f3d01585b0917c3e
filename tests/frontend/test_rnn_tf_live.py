"""Recurrent networks against TensorFlow itself (run in a subprocess where an interpreter with TF and tf_keras
is at hand; skipped otherwise): TF trains nothing, it saves a checkpoint of its cells' Variables and its
outputs, final states and gradients; xlite builds the same program, restores TF's checkpoint by TF's
variable names, and must give the same numbers."""
import inspect

import numpy as np
import pytest
from tests.io.tf_subprocess import LIVE_TF, run_tf

import xlite as tf

pytestmark = LIVE_TF


def _model(tfm, nn, x, lengths):
    """The program both sides build (tfm: the tf1 module, nn: its tf.nn)."""
    cell = nn.rnn_cell.MultiRNNCell([nn.rnn_cell.BasicLSTMCell(4, forget_bias=0.5),
                                     nn.rnn_cell.LSTMCell(4, use_peepholes=True, num_proj=3, cell_clip=0.5)])
    out, state = nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tfm.float32, scope="multi")
    (fw, bw), (s_fw, s_bw) = nn.bidirectional_dynamic_rnn(nn.rnn_cell.GRUCell(3), nn.rnn_cell.BasicRNNCell(3), x,
                                                          sequence_length=lengths, dtype=tfm.float32)
    static, s_static = nn.static_rnn(nn.rnn_cell.BasicLSTMCell(2), tfm.unstack(x, axis=1), dtype=tfm.float32,
                                     sequence_length=lengths, scope="static")
    fetches = [out, state[0].c, state[0].h, state[1].c, state[1].h, fw, bw, s_fw, s_bw,
               tfm.stack(static, 1), s_static.c, s_static.h]
    loss = sum(tfm.reduce_sum(tfm.sin(f * (k + 1))) for k, f in enumerate(fetches))
    variables = sorted(tfm.trainable_variables(), key=lambda v: v.op.name)
    grads = tfm.gradients(loss, [x] + variables)
    return fetches, grads, [v.op.name for v in variables]


_TF_SCRIPT = """
    os.environ["TF_USE_LEGACY_KERAS"] = "1"      # TF 2.16+: tf.compat.v1.nn.rnn_cell lives in tf_keras
    try:
        tf1.nn.rnn_cell.BasicLSTMCell
    except (AttributeError, ImportError):
        open(d + "/no_rnn_cell", "w").close()
        sys.exit(0)
    exec(open(d + "/model.py").read())
    xv, lv = np.load(d + "/x.npy"), np.load(d + "/lengths.npy")
    x = tf1.placeholder(tf.float32, xv.shape)
    lengths = tf1.placeholder(tf.int32, [None])
    tf1.set_random_seed(3)
    fetches, grads, names = _model(tf1, tf1.nn, x, lengths)
    with tf1.Session() as s:
        s.run(tf1.global_variables_initializer())
        tf1.train.Saver().save(s, d + "/model.ckpt")
        values = s.run(fetches + grads, {x: xv, lengths: lv})
    np.savez(d + "/want.npz", *values)
    open(d + "/names.txt", "w").write("\\n".join(names))
"""


def test_cells_and_rnns_match_tensorflow_from_its_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    xv = rng.normal(size=(3, 5, 2)).astype(np.float32)
    lv = np.array([5, 2, 0], np.int32)
    np.save(tmp_path / "x.npy", xv)
    np.save(tmp_path / "lengths.npy", lv)
    (tmp_path / "model.py").write_text(inspect.getsource(_model))
    run_tf(_TF_SCRIPT, tmp_path)
    if (tmp_path / "no_rnn_cell").exists():
        pytest.skip("TensorFlow there has no tf.compat.v1.nn.rnn_cell (tf_keras missing)")
    want = np.load(tmp_path / "want.npz")
    want = [want[f"arr_{k}"] for k in range(len(want.files))]
    x = tf.placeholder(tf.float32, xv.shape)
    lengths = tf.placeholder(tf.int32, [None])
    fetches, grads, names = _model(tf, tf.nn, x, lengths)
    assert names == (tmp_path / "names.txt").read_text().split("\n")
    with tf.Session(target="interpreter") as sess:      # cpu == interpreter is test_rnn.py's business
        tf.train.Saver().restore(sess, str(tmp_path / "model.ckpt"))
        got = sess.run(fetches + grads, {x: xv, lengths: lv})
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6, err_msg=f"fetch {k}")
