"""tf.graph_util.convert_variables_to_constants: the frozen graph runs without Variables and gives equal outputs."""
import numpy as np
import pytest

import xlite as tf


def test_freeze_then_run_the_frozen_graph():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable([[1.0, -2.0], [0.5, 3.0]], name="w")
    b = tf.Variable([0.25, -0.75], name="b")
    tf.Variable(5.0, name="unused")
    y = tf.nn.sigmoid(tf.matmul(x, w) + b, name="y")
    xv = np.array([[1.0, 2.0], [-3.0, 0.5]], np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(w, w * 2.0))
        want = sess.run(y, {x: xv})
        frozen = tf.graph_util.convert_variables_to_constants(sess, tf.get_default_graph().as_graph_def(), ["y"])
    ops = {n.name: n.op for n in frozen.node}
    assert ops["w"] == "Const" and ops["b"] == "Const" and "unused" not in ops
    assert not any(op in ("VariableV2", "Assign") for op in ops.values())
    with tf.Graph().as_default():
        (out,) = tf.import_graph_def(frozen, return_elements=["y:0"], name="")
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(out, {"x:0": xv}), want)


def test_extract_sub_graph_needs_a_list_of_known_nodes():
    tf.reset_default_graph()
    a = tf.constant(1.0, name="a")
    tf.identity(a, name="b")
    tf.constant(2.0, name="c")
    gd = tf.get_default_graph().as_graph_def()
    assert [n.name for n in tf.graph_util.extract_sub_graph(gd, ["b"]).node] == ["a", "b"]
    with pytest.raises(TypeError):
        tf.graph_util.extract_sub_graph(gd, "b")
    with pytest.raises(AssertionError, match="nope is not in graph"):
        tf.graph_util.extract_sub_graph(gd, ["nope"])


def test_freeze_a_dynamic_rnn_keeps_its_loop_body():
    """The loop's body ops are reached through the While op's sub-graphs, not its inputs."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [2, 3, 2], name="x")
        out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(3), x, dtype=tf.float32)
        out = tf.identity(out, name="out")
        xv = np.random.default_rng(0).standard_normal((2, 3, 2)).astype(np.float32)
        with tf.Session(target="interpreter") as sess:
            sess.run(tf.global_variables_initializer())
            want = sess.run(out, {x: xv})
            frozen = tf.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["out"])
    assert not [n.name for n in frozen.node if n.op == "VariableV2"]
    with tf.Graph().as_default():
        got, = tf.import_graph_def(frozen, return_elements=["out:0"], name="")
        with tf.Session(target="interpreter") as sess:
            np.testing.assert_allclose(sess.run(got, {"x:0": xv}), want, rtol=1e-6)
