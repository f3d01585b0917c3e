"""variables="args": the W3 training step compiled ahead of time updates the caller's Variable buffers in
place; ten steps from C (and from xlite.aot.load) equal ten Session.run steps."""
import os
import sys

import numpy as np
import pytest

import xlite as tf
import xlite.aot
from aot_harness import build_runner, needs_cc, needs_nm, run_runner, system_library_symbols, undefined_symbols

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from benchmarks.workloads import build_w3  # noqa: E402


def close(got, want, rtol=1e-4, atol=1e-5):
    want = np.asarray(want)
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale)


@pytest.fixture(scope="module")
def w3(tmp_path_factory):
    prog = build_w3()
    loss, train = prog.fetches
    out = str(tmp_path_factory.mktemp("w3"))
    artifacts = xlite.aot.compile([loss], {t: a.shape for t, a in prog.feeds.items()}, name="w3_step",
                                  out_dir=out, variables="args", updates=[train], graph=prog.graph)
    sess = tf.Session(target="interpreter", graph=prog.graph)
    sess.run(prog.init)
    initial = [np.array(v) for v in sess.run(prog.variables)]
    return prog, artifacts, sess, initial


def test_signature_lists_feeds_then_updated_variables(w3):
    prog, artifacts, _, _ = w3
    sig = artifacts.signature
    assert [a.name for a in sig.args[:2]] == ["images:0", "labels:0"]
    variables = sig.args[2:]
    assert sorted(a.name for a in variables) == sorted(v.op.name for v in prog.variables)
    assert all(a.kind == "variable" and a.update is not None for a in variables)
    assert [r.name for r in sig.results] == [prog.fetches[0].name]


@needs_cc
@needs_nm
@pytest.mark.slow
def test_ten_steps_from_c_equal_ten_session_steps(w3, tmp_path):
    prog, artifacts, _, initial = w3
    undefined = undefined_symbols(artifacts.object_path)
    assert system_library_symbols(undefined) == [], undefined
    by_name = dict(zip((v.op.name for v in prog.variables), initial))
    feeds = dict(zip((t.name for t in prog.feeds), prog.feeds.values()))
    arrays = [feeds[a.name] if a.kind == "feed" else by_name[a.name] for a in artifacts.signature.args]
    exe = build_runner(artifacts, str(tmp_path))
    (last_loss,), after = run_runner(exe, artifacts, arrays, steps=10)

    sess = tf.Session(target="interpreter", graph=prog.graph)
    sess.run(prog.init)
    for var, value in zip(prog.variables, initial):
        var.load(value, sess)
    for _ in range(10):
        want_loss = sess.run(prog.fetches, prog.feeds)[0]
    want = dict(zip((v.op.name for v in prog.variables), sess.run(prog.variables)))
    close(last_loss, want_loss)
    for spec, value in zip(artifacts.signature.args, after):
        if spec.kind == "variable":
            close(value, want[spec.name])
            assert not np.allclose(value, by_name[spec.name])      # it did train


@pytest.mark.slow
def test_ten_steps_through_load_update_the_arrays_in_place(w3):
    prog, artifacts, _, initial = w3
    if artifacts.shared_path is None:
        pytest.skip("no C compiler to link the .so")
    fn = xlite.aot.load(artifacts.shared_path)
    state = {v.op.name: value.copy() for v, value in zip(prog.variables, initial)}
    buffers = {k: v.ctypes.data for k, v in state.items()}
    feeds = {t.op.name: a for t, a in prog.feeds.items()}
    sess = tf.Session(target="interpreter", graph=prog.graph)
    sess.run(prog.init)
    for var, value in zip(prog.variables, initial):
        var.load(value, sess)
    for _ in range(10):
        loss = fn(**feeds, **state)[0]
        want = sess.run(prog.fetches, prog.feeds)[0]
        close(loss, want)
    assert {k: v.ctypes.data for k, v in state.items()} == buffers
    for var, value in zip(prog.variables, sess.run(prog.variables)):
        close(state[var.op.name], value)


def test_unread_assigned_variable_is_an_in_out_argument(tmp_path):
    """A Variable the run only assigns (never reads) still is an argument, written by the run."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [4], name="x")
        v = tf.Variable(tf.zeros([4]), name="v")
        counter = tf.Variable(0, name="counter")
        store = tf.assign(v, x * 3.0)
        bump = tf.assign_add(counter, 1)
        out = x + 1.0
    artifacts = xlite.aot.compile([out], [x], name="assigns", out_dir=str(tmp_path), variables="args",
                                  updates=[store, bump], graph=graph)
    # feeds, the Variables the run reads (assign_add reads counter), then those it only assigns
    assert [(a.name, a.kind, a.param is not None, a.update is not None) for a in artifacts.signature.args] == [
        ("x:0", "feed", True, False), ("counter", "variable", True, True), ("v", "variable", False, True)]
    if artifacts.shared_path is None:
        pytest.skip("no C compiler to link the .so")
    fn = xlite.aot.load(artifacts.shared_path)
    vv, cc = np.full(4, 7.0, np.float32), np.array(5, np.int32)
    xv = np.arange(4, dtype=np.float32)
    (res,) = fn(x=xv, v=vv, counter=cc)
    np.testing.assert_array_equal(res, xv + 1)
    np.testing.assert_array_equal(vv, xv * 3)
    assert int(cc) == 6


def test_outputs_the_backend_would_copy_are_routed_in_the_object(tmp_path):
    """A fetched feed, a constant, a repeated fetch and a fetched Variable after its update: the copies the
    CPU executable makes in Python happen inside NAME_run."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        W = tf.Variable(tf.ones([3]), name="W")
        c = tf.constant([1.0, 2.0, 3.0], name="c")
        step = tf.assign_add(W, x)
        with tf.control_dependencies([step]):
            y = W * 2.0
    fetches = [x, c, y, y, W, x]
    artifacts = xlite.aot.compile(fetches, [x], name="routes", out_dir=str(tmp_path), variables="args",
                                  updates=[step], graph=graph)
    assert len(artifacts.signature.results) == 6
    if artifacts.shared_path is None:
        pytest.skip("no C compiler to link the .so")
    xv, Wv = np.array([1, 2, 3], np.float32), np.ones(3, np.float32)
    got = xlite.aot.load(artifacts.shared_path)(x=xv, W=Wv)
    sess = tf.Session(target="interpreter", graph=graph)
    sess.run(W.initializer)
    want = sess.run(fetches + [step], {x: xv})
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(Wv, want[-1])
