"""The eager runner of a trace (xlite/function/runner.py): None dims of an input_signature compile one
symbolic executable, the one a Session compiles for the same graph; calls pass checked arrays."""
import numpy as np
import pytest

import xlite as tf
from xlite.bench.function_workload import function_executables, opcode_histogram, optimized_module
from xlite.eager.context import eager_mode
from xlite.eager.tensor import EagerTensor
from xlite.runtime import driver
from xlite.runtime.executable import default_target

cpu_only = pytest.mark.skipif(default_target() != "cpu", reason="symbolic executables are the cpu target's")


@pytest.fixture(autouse=True)
def graph():
    with eager_mode():
        yield None


def _model(h, params, labels):
    h = tf.nn.relu(tf.matmul(h, params[0]) + params[1])
    logits = tf.matmul(h, params[2]) + params[3]
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits))


def _initial():
    rng = np.random.RandomState(7)
    return [(rng.standard_normal(s) * 0.3).astype(np.float32) for s in [(12, 8), (8,), (8, 3), (3,)]]


def _batch(n: int):
    rng = np.random.RandomState(n)
    return rng.random_sample((n, 12)).astype(np.float32), np.eye(3, dtype=np.float32)[rng.randint(0, 3, n)]


def _function_step(params):
    optimizer = tf.train.GradientDescentOptimizer(0.1)

    @tf.function(input_signature=[tf.TensorSpec([None, 12], tf.float32), tf.TensorSpec([None, 3], tf.float32)])
    def step(images, labels):
        with tf.GradientTape() as tape:
            loss = _model(images, params, labels)
        optimizer.apply_gradients(zip(tape.gradient(loss, params), params))
        return loss
    return step


@cpu_only
def test_training_step_compiles_the_session_steps_module_once_for_every_batch():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 12])
        y = tf.placeholder(tf.float32, [None, 3])
        ref_vars = [tf.Variable(v) for v in _initial()]
        loss = _model(x, ref_vars, y)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph)
    sess.run(init)
    params = [tf.Variable(v) for v in _initial()]
    step = _function_step(params)
    compiles, known = driver.STATS.get("cpu", 0), set(sess._cache)
    for n in (5, 1, 9):
        images, labels = _batch(n)
        want = sess.run([loss, train], {x: images, y: labels})[0]
        got = step(tf.constant(images), tf.constant(labels)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5)
    assert driver.STATS["cpu"] - compiles == 2          # one symbolic executable each, every batch size
    (session_exe,) = [v[1] for k, v in sess._cache.items() if k not in known and isinstance(v, tuple)]
    for p, w in zip(params, sess.run(ref_vars)):
        np.testing.assert_allclose(p.numpy(), w, rtol=1e-5, atol=1e-6)
    (function_exe,) = set(function_executables(step))
    session_module, function_module = optimized_module(session_exe), optimized_module(function_exe)
    assert opcode_histogram(function_module) == opcode_histogram(session_module)
    assert [p.shape for p in function_module.entry.parameters] == [p.shape for p in session_module.entry.parameters]


def test_arguments_that_do_not_fit_are_converted():
    """A call whose array is not C-contiguous (a transposed view) goes through the executable's `run`."""
    w = tf.Variable(np.ones(4, np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def f(a):
        w.assign_add(tf.reduce_sum(a, 0))
        return a * 2.0

    contiguous = np.arange(12, dtype=np.float32).reshape(3, 4)
    view = np.arange(12, dtype=np.float32).reshape(4, 3).T
    for value in (contiguous, contiguous, view, contiguous):       # (tf.constant would copy the view)
        np.testing.assert_array_equal(f(EagerTensor(value)).numpy(), value * 2)
    np.testing.assert_array_equal(w.numpy(), 1 + 3 * contiguous.sum(0) + view.sum(0))
