"""Graph.as_graph_def and tf.import_graph_def: TF's node types, names and attrs; equal outputs after a round trip."""
import os

import numpy as np
import pytest

import xlite as tf

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _model():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 7, name="w")
    h = tf.nn.relu(tf.matmul(x, w) - 0.5, name="h")
    out = tf.reduce_mean(tf.concat([h, tf.square(h)], axis=1), axis=0, name="out")
    total = tf.reduce_sum(h, name="total")
    return x, w, out, total


def test_graph_def_has_tfs_types_attrs_and_inputs():
    x, w, out, total = _model()
    gd = tf.get_default_graph().as_graph_def()
    nodes = {n.name: n for n in gd.node}
    assert nodes["x"].op == "Placeholder" and nodes["x"].attr["dtype"].type == 1
    assert [d.size for d in nodes["x"].attr["shape"].shape.dim] == [-1, 3]
    assert nodes["w"].op == "VariableV2" and nodes["w"].attr["shared_name"].s == b""
    assert list(nodes["w/Assign"].input) == ["w", "w/initial_value"]
    matmul = next(n for n in gd.node if n.op == "MatMul")
    assert matmul.attr["T"].type == 1 and matmul.attr["transpose_a"].b is False
    assert nodes["out"].op == "Mean" and nodes["out"].attr["Tidx"].type == 3
    assert list(nodes["total"].input) == ["h", "total/reduction_indices"]     # TF names "all axes" with a Const
    assert nodes["total/reduction_indices"].attr["value"].tensor.tensor_content == np.arange(2, dtype=np.int32).tobytes()
    concat = next(n for n in gd.node if n.op == "ConcatV2")
    assert concat.attr["N"].i == 2
    assert gd.versions.producer > 0


def test_round_trip_gives_equal_outputs():
    x, w, out, total = _model()
    gd = tf.get_default_graph().as_graph_def()
    xv = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(w.initializer)
        want = sess.run([out, total], {x: xv})
    g = tf.Graph()
    with g.as_default():
        feed = tf.placeholder(tf.float32, [None, 3], name="feed")
        got_out, got_total, assign = tf.import_graph_def(gd, input_map={"x:0": feed}, name="m",
                                                          return_elements=["out:0", "total:0", "w/Assign"])
        assert got_out.name == "m/out:0" and isinstance(assign, tf.Operation)
        with tf.Session() as sess:
            sess.run(assign)
            got = sess.run([got_out, got_total], {feed: xv})
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a, b)


def test_import_scopes_names_and_errors():
    _model()
    gd = tf.get_default_graph().as_graph_def()
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd)
        tf.import_graph_def(gd)
        assert g.get_operation_by_name("import/out").type == "Mean"
        assert g.get_operation_by_name("import_1/out").type == "Mean"
        with pytest.raises(ValueError, match="not found in graph_def"):
            tf.import_graph_def(gd, return_elements=["nope:0"], name="again")
        tf.import_graph_def(gd, name="")
        with pytest.raises(ValueError, match="Duplicate node name"):
            tf.import_graph_def(gd, name="")


def test_unknown_op_type_is_named():
    _model()
    gd = tf.get_default_graph().as_graph_def()
    node = gd.node.add()
    node.name, node.op = "weird", "FancyTFOnlyOp"
    with tf.Graph().as_default(), pytest.raises(tf.errors.UnimplementedError, match="'weird'.*'FancyTFOnlyOp'"):
        tf.import_graph_def(gd)


def test_write_graph_as_pb_and_pbtxt_read_back(tmp_path):
    x, w, out, total = _model()
    pb_path = tf.train.write_graph(tf.get_default_graph(), str(tmp_path), "g.pb", as_text=False)
    txt_path = tf.io.write_graph(tf.get_default_graph().as_graph_def(), str(tmp_path / "sub"), "g.pbtxt")
    assert tf.io.gfile.exists(pb_path) and "node {" in open(txt_path).read()
    want = tf.get_default_graph().as_graph_def()
    for path in (pb_path, txt_path):
        assert tf.io.read_graph_def(path) == want
        with tf.io.gfile.GFile(path, "rb") as f:
            assert f.read() == open(path, "rb").read()


def test_tf_frozen_graph_gives_tfs_outputs():
    e = np.load(os.path.join(FIXTURES, "tf_expected.npz"))
    gd = tf.io.read_graph_def(os.path.join(FIXTURES, "tf_frozen.pb"))
    with tf.Graph().as_default():
        y, m = tf.import_graph_def(gd, return_elements=["y:0", "m:0"], name="frozen")
        with tf.Session() as sess:
            got_y, got_m = sess.run([y, m], {"frozen/x:0": e["x"]})
    np.testing.assert_allclose(got_y, e["y"], rtol=1e-6)
    np.testing.assert_allclose(got_m, e["m"], rtol=1e-6)


def test_tf_frozen_conv_net_with_ops_xlite_builds_from_others():
    """FusedBatchNormV3 (inference), Softmax, LogSoftmax and TF1's Select arrive as xlite's ops."""
    e = np.load(os.path.join(FIXTURES, "tf_frozen_cnn.npz"))
    gd = tf.io.read_graph_def(os.path.join(FIXTURES, "tf_frozen_cnn.pb"))
    assert {"FusedBatchNormV3", "Softmax", "LogSoftmax", "Select"} <= {n.op for n in gd.node}
    with tf.Graph().as_default() as g:
        outs = tf.import_graph_def(gd, return_elements=["prob:0", "lsm:0", "sel:0"], name="")
        assert g.get_tensor_by_name("prob:0") is outs[0]
        with tf.Session() as sess:
            got = sess.run(outs, {"x:0": e["x"]})
    for name, value in zip(["prob", "lsm", "sel"], got):
        np.testing.assert_allclose(value, e[name], rtol=1e-5, atol=1e-5)


def test_older_tf_op_types_import_as_their_twins():
    from xlite.io import protos
    pb = protos.pb()
    gd = pb.graph_pb2.GraphDef()
    for name, value in (("a", np.array([7, -7], np.int32)), ("b", np.array([2, 2], np.int32))):
        n = gd.node.add(name=name, op="Const")
        n.attr["dtype"].type = 3
        n.attr["value"].tensor.CopyFrom(protos.tensor_proto(value))
    gd.node.add(name="sum", op="Add", input=["a", "b"])
    gd.node.add(name="quot", op="Div", input=["a", "b"])
    with tf.Graph().as_default():
        total, quot = tf.import_graph_def(gd, return_elements=["sum:0", "quot:0"])
        assert total.op.type == "AddV2"
        with tf.Session() as sess:
            assert sess.run(total).tolist() == [9, -5] and sess.run(quot).tolist() == [3, -3]   # TF truncates


def test_training_graph_is_written_with_tfs_op_types_and_update_gates():
    """xlite's gradient helpers (SumToShapeOf, BroadcastReduced, ...) are written as TF ops, and each Variable
    update waits for the ops that read that Variable (TF reads a variable when the reader runs)."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.layers.dense(x, 2, name="fc")
    loss = tf.reduce_mean(tf.square(y), name="loss")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    graph = tf.get_default_graph()
    private = {"SumToShapeOf", "BroadcastReduced", "BroadcastToShapeOf"}
    assert private & {op.type for op in graph.get_operations()}
    gd = graph.as_graph_def()
    assert not private & {n.op for n in gd.node}
    nodes = {n.name: n for n in gd.node}
    update = next(op for op in graph.get_operations() if op.type == "AssignSub" and op.inputs[0].op.name == "fc/kernel")
    readers = {op.name for op in graph.get_operations() if any(t.op.name == "fc/kernel" for t in op.inputs)
               and op.type == "MatMul"}
    assert readers and {"^" + r for r in readers} <= set(nodes[update.name].input)
    xv = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    with tf.Session() as sess:                     # and xlite reads back the ops it wrote
        sess.run(tf.global_variables_initializer())
        weights = sess.run(tf.trainable_variables())
        sess.run(train, {x: xv})
        want = sess.run(loss, {x: xv})
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="")
        assert any(op.type == "BroadcastReduced" for op in g.get_operations())
        with tf.Session() as sess:
            for name, value in zip(["fc/kernel", "fc/bias"], weights):
                sess.run(g.get_operation_by_name(name + "/Assign"))
                g.get_tensor_by_name(name + ":0")
                sess._load_variable(g.get_operation_by_name(name), value)
            sess.run(train.name, {"x:0": xv})
            np.testing.assert_array_equal(sess.run("loss:0", {"x:0": xv}), want)
