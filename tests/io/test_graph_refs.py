"""Graphs with while loops, conds, TensorArrays, RNNs and host-call ops through export_meta_graph /
import_meta_graph and as_graph_def / import_graph_def: the imported graph computes what the original does."""
import numpy as np
import pytest

import xlite as tf

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 4, 3)).astype(np.float32)
V = RNG.standard_normal(3).astype(np.float32)


def _build_loops():
    """A while loop with its gradient (fed trip count), a dynamic_rnn with gradients, a TensorArray loop,
    map_fn, scan and a cond; returns the feeds and the fetched tensors."""
    x = tf.placeholder(tf.float32, [2, 4, 3], name="x")
    v = tf.placeholder(tf.float32, [3], name="v")
    n = tf.placeholder(tf.int32, [], name="n")
    _, w = tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a * 1.5 + tf.sin(a)), [0, v])
    dw = tf.gradients(tf.reduce_sum(w), v)[0]
    tf.set_random_seed(1)     # the imported initializers draw the same numbers
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(5), x, dtype=tf.float32)
    dx = tf.gradients(tf.reduce_sum(out * out), x)[0]
    ta = tf.TensorArray(tf.float32, size=3)
    ta = tf.while_loop(lambda i, t: i < 3, lambda i, t: (i + 1, t.write(i, v * tf.cast(i, tf.float32))),
                       [0, ta])[1].stack()
    mapped = tf.map_fn(lambda r: r * 2.0 + 1.0, x[0])
    scanned = tf.scan(lambda a, r: a + r, v)
    branch = tf.cond(tf.reduce_sum(v) > 0, lambda: scanned * 2.0, lambda: scanned - 1.0)
    dbranch = tf.gradients(tf.reduce_sum(branch * v), v)[0]
    _, grown = tf.while_loop(   # shapes that vary (relaxed static shapes), a reduction over all axes in the body
        lambda i, a: i < 3, lambda i, a: (i + 1, tf.concat([a, a[:1] * tf.reduce_sum(a)], 0)), [0, v],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    _, checked = tf.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, tf.debugging.check_numerics(a * 2.0, "a")),
                               [0, v])
    fetches = [w, dw, out, dx, ta, mapped, scanned, branch, dbranch, grown, checked]
    return {"x:0": X, "v:0": V, "n:0": 3}, fetches


def _values(graph, fetches, feeds, target):
    with tf.Session(graph=graph, target=target) as sess:
        sess.run(tf.variables_initializer([v for v in graph.get_collection("variables")]))
        return sess.run([t if isinstance(t, str) else t.name for t in fetches], feeds)


@pytest.fixture(scope="module")
def loops():
    graph = tf.Graph()
    with graph.as_default():
        feeds, fetches = _build_loops()
        meta = tf.train.export_meta_graph()
    imported = tf.Graph()
    with imported.as_default():
        tf.train.import_meta_graph(meta)
    return graph, imported, feeds, [t.name for t in fetches]


@pytest.mark.parametrize("target", ["interpreter", pytest.param("cpu", marks=pytest.mark.slow)])
def test_loops_rnn_tensor_arrays_and_conds_survive_a_meta_graph(loops, target):
    graph, imported, feeds, names = loops
    want = _values(graph, names, feeds, target)
    got = _values(imported, names, feeds, target)
    for name, a, b in zip(names, want, got):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=name)


def test_imported_loop_keeps_its_sub_graphs_and_gradient():
    graph = tf.Graph()
    with graph.as_default():
        v = tf.placeholder(tf.float32, [3], name="v")
        _, w = tf.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, a * a), [0, v], maximum_iterations=5)
        gd = graph.as_graph_def()
    with tf.Graph().as_default() as g2:
        w2, = tf.import_graph_def(gd, return_elements=[w.name], name="copy")
        loop = g2.get_operation_by_name("copy/while")
        assert loop.attrs["max_index"] is not None
        assert g2.get_tensor_by_name("copy/while:1").shape.as_list() == [3]
        assert all(op.graph is g2 and op.name.startswith("copy/") for op in loop.attrs["body"].ops)
        dv = tf.gradients(tf.reduce_sum(w2), g2.get_tensor_by_name("copy/v:0"))[0]   # differentiated after import
        with tf.Session(target="interpreter") as sess:
            got_w, got_dv = sess.run([w2, dv], {"copy/v:0": V})
    np.testing.assert_allclose(got_w, V ** 4, rtol=1e-5)
    np.testing.assert_allclose(got_dv, 4 * V ** 3, rtol=1e-4)


def _host_graph(func):
    graph = tf.Graph()
    with graph.as_default():
        v = tf.placeholder(tf.float32, [3], name="v")
        checked = tf.debugging.check_numerics(v * 2.0, "doubled")
        with tf.control_dependencies([tf.Assert(tf.reduce_all(v > -10.0), ["v too small", v], name="check"),
                                      tf.print("v is", v, name="show")]):
            out = tf.identity(tf.py_func(func, [checked], tf.float32, name="triple"), name="out")
        meta = tf.train.export_meta_graph()
    return meta, out.name


def _run_imported(meta, feeds, name="out:0", target="cpu"):
    with tf.Graph().as_default():
        tf.train.import_meta_graph(meta)
        with tf.Session(target=target) as sess:
            return sess.run(name, feeds)


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
def test_host_ops_survive_a_meta_graph_in_the_same_process(target, capsys):
    meta, _ = _host_graph(lambda a: a * 3)
    np.testing.assert_allclose(_run_imported(meta, {"v:0": V}, target=target), V * 6, rtol=1e-6)
    assert "v is" in capsys.readouterr().err
    with pytest.raises(tf.errors.InvalidArgumentError, match="v too small"):
        _run_imported(meta, {"v:0": np.full(3, -20, np.float32)}, target=target)
    with pytest.raises(tf.errors.InvalidArgumentError, match="doubled : Tensor had NaN"):
        _run_imported(meta, {"v:0": np.full(3, np.nan, np.float32)}, target=target)


def test_py_func_of_another_process_raises_naming_the_op():
    meta, _ = _host_graph(lambda a: a * 3)
    meta.graph_def.node[[n.name for n in meta.graph_def.node].index("triple")].attr[
        "_xlite_graph_host"].s = b"another-process:1"
    with pytest.raises(tf.errors.InvalidArgumentError, match="callback pyfunc_1 is not found.*'triple'"):
        _run_imported(meta, {"v:0": V})


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
def test_host_ops_of_another_process_are_made_again(target, capsys):
    meta, _ = _host_graph(lambda a: a * 3)
    for node in meta.graph_def.node:
        if "_xlite_graph_host" in node.attr and node.op != "PyFunc":
            node.attr["_xlite_graph_host"].s = b"another-process:1"
    np.testing.assert_allclose(_run_imported(meta, {"v:0": V}, target=target), V * 6, rtol=1e-6)
    assert "v is [" in capsys.readouterr().err
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[v too small\] \[-20 -20 -20\]"):
        _run_imported(meta, {"v:0": np.full(3, -20, np.float32)}, target=target)
    with pytest.raises(tf.errors.InvalidArgumentError, match="doubled : Tensor had NaN"):
        _run_imported(meta, {"v:0": np.full(3, np.nan, np.float32)}, target=target)


_READ_IN_A_NEW_PROCESS = """
import sys, numpy as np, xlite as tf
tf.train.import_meta_graph(sys.argv[1])
with tf.Session() as sess:
    print("out", sess.run("out:0", {"v:0": np.ones(3, np.float32)}).tolist())
    for feed, fetch in ((-np.ones(3, np.float32), "out:0"), (np.ones(3, np.float32), "pf:0")):
        try:
            sess.run(fetch, {"v:0": feed})
        except tf.errors.InvalidArgumentError as e:
            print(type(e).__name__, str(e).splitlines()[0])
"""


@pytest.mark.slow
def test_a_meta_graph_file_read_by_another_process(tmp_path):
    """The loop and the checks run there; the py_func, whose function stayed in this process, raises naming it."""
    import subprocess
    import sys
    with tf.Graph().as_default():
        v = tf.placeholder(tf.float32, [3], name="v")
        _, w = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 2.0), [0, v])
        with tf.control_dependencies([tf.Assert(tf.reduce_all(v > 0), ["v must be positive", v])]):
            tf.identity(w, name="out")
        tf.py_func(lambda a: a + 1, [v], tf.float32, name="pf")
        tf.train.export_meta_graph(str(tmp_path / "g.meta"))
    proc = subprocess.run([sys.executable, "-c", _READ_IN_A_NEW_PROCESS, str(tmp_path / "g.meta")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "out [8.0, 8.0, 8.0]"
    assert lines[1] == "InvalidArgumentError assertion failed: [v must be positive] [-1 -1 -1]"
    assert lines[2].startswith("InvalidArgumentError ValueError: callback pyfunc_") and "op 'pf'" in lines[2]


def test_second_order_loop_gradient_survives_and_a_loop_without_sub_graphs_raises():
    graph = tf.Graph()
    with graph.as_default():
        v = tf.placeholder(tf.float32, [3], name="v")
        _, w = tf.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, a * a), [0, v])
        dv = tf.gradients(tf.reduce_sum(w), v)[0]
        d2v = tf.gradients(tf.reduce_sum(dv), v)[0]
        gd = graph.as_graph_def()
    with tf.Graph().as_default():
        got, = tf.import_graph_def(gd, return_elements=[d2v.name], name="")
        with tf.Session(target="interpreter") as sess:
            np.testing.assert_allclose(sess.run(got, {"v:0": V}), 12 * V ** 2, rtol=1e-4)
    loop = next(n for n in gd.node if n.op == "While")
    del loop.attr["_xlite_graph_refs"]
    with tf.Graph().as_default(), pytest.raises(tf.errors.UnimplementedError, match="'while' .While. has no sub-graphs"):
        tf.import_graph_def(gd)


def test_py_function_round_trip_and_missing_function():
    with tf.Graph().as_default():
        v = tf.placeholder(tf.float32, [3], name="v")
        tf.identity(tf.py_function(lambda a: a * 2, [v], tf.float32, name="pyf"), name="out")
        meta = tf.train.export_meta_graph()
    np.testing.assert_allclose(_run_imported(meta, {"v:0": V}, target="interpreter"), V * 2, rtol=1e-6)
    node = next(n for n in meta.graph_def.node if n.op == "EagerPyFunc")
    node.attr["_xlite_graph_host"].s = b"another-process:7"
    with pytest.raises(tf.errors.InvalidArgumentError, match="callback pyfunc_7 is not found.*EagerPyFunc op 'pyf'"):
        _run_imported(meta, {"v:0": V}, target="interpreter")
