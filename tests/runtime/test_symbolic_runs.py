"""Symbolic run signatures: a None dim of a feed compiles once for every batch size (cpu, and cuda on
its emulator), with results equal to the interpreter's; what needs a concrete size specializes; sizes
that disagree never reach native code."""
import re

import numpy as np
import pytest

import xlite as tf
from xlite import errors
from xlite.frontend.lower import lower_run
from xlite.ir.symbolic import SymInt
from xlite.runtime import driver

BATCHES = (1, 7, 32, 100, 256)
CUDA_BATCHES = (1, 7, 32)       # the emulator runs every GPU thread on the CPU: fewer, smaller batches


def _mlp_step():
    """A W3-like training step (matmul, bias add, relu, mean softmax cross-entropy, SGD), small widths."""
    rng = np.random.RandomState(0)
    x = tf.placeholder(tf.float32, [None, 784], name="images")
    y = tf.placeholder(tf.float32, [None, 10], name="labels")
    w1 = tf.Variable(rng.standard_normal((784, 16)).astype(np.float32) * 0.05)
    b1 = tf.Variable(np.zeros(16, np.float32))
    w2 = tf.Variable(rng.standard_normal((16, 10)).astype(np.float32) * 0.1)
    b2 = tf.Variable(np.zeros(10, np.float32))
    logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return x, y, loss, train, [w1, b1, w2, b2]


def _batch(n: int):
    rng = np.random.RandomState(n)
    return rng.random_sample((n, 784)).astype(np.float32), np.eye(10, dtype=np.float32)[rng.randint(0, 10, n)]


@pytest.mark.slow
@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_one_compile_serves_every_batch_size_and_matches_the_interpreter(target, request):
    """cuda runs on the CPU emulator: kernels read the sizes from the run's table, arena sized per run."""
    if target == "cuda":
        request.getfixturevalue("emulated")
    with tf.Graph().as_default():
        x, y, loss, train, variables = _mlp_step()
        init = tf.global_variables_initializer()
        with tf.Session(target=target) as sess, tf.Session(target="interpreter") as ref:
            sess.run(init)
            ref.run(init)
            before = driver.STATS.get(target, 0)
            for n in BATCHES if target == "cpu" else CUDA_BATCHES:
                images, labels = _batch(n)
                got = sess.run([loss, train], {x: images, y: labels})[0]
                want = ref.run([loss, train], {x: images, y: labels})[0]
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
                for g, w in zip(sess.run(variables), ref.run(variables)):
                    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
            assert driver.STATS.get(target, 0) - before == 2     # the step and the Variables' fetch, once each
            assert not sess.symbolic_fallbacks


@pytest.mark.slow
def test_the_symbolic_cuda_step_compiles_to_ptx():
    """The W3-like step with a symbolic batch is valid CUDA C for plain nvcc (every kernel takes the sizes)."""
    from xlite.codegen.cuda import emit_cuda
    from xlite.codegen.cuda.compiler import compile_ptx, find_nvcc
    from xlite.runtime.driver import optimize
    if find_nvcc() is None:
        pytest.skip("nvcc is not installed")
    with tf.Graph().as_default() as graph:
        x, y, loss, train, _ = _mlp_step()
        b = SymInt.symbol("b")
        lowered = lower_run(graph, [loss], [train], {x: (b, 784), y: (b, 10)})
        program = emit_cuda(optimize(lowered.module))
    assert program.slots and "const long long* __restrict__ xs" in program.source
    ptx = compile_ptx(program.source, "sm_90", optimize=False)
    assert set(program.kernels) <= set(re.findall(r"\.entry (\w+)\(", ptx))


@pytest.mark.slow
def test_elementwise_and_reductions_on_cuda_compile_once(emulated):
    """Row and column reductions and a whole-array mean of a symbolic batch: one cuda compile, sizes 1..33."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 40])
        rows, columns, mean = tf.reduce_sum(tf.nn.relu(x) * 2.0, axis=1), tf.reduce_max(x, axis=0), tf.reduce_mean(x)
        with tf.Session(target="cuda") as sess:
            before = driver.STATS.get("cuda", 0)
            for n in (1, 3, 33):
                value = np.random.RandomState(n).standard_normal((n, 40)).astype(np.float32)
                got = sess.run([rows, columns, mean], {x: value})
                np.testing.assert_allclose(got[0], (np.maximum(value, 0) * 2).sum(1), rtol=1e-5, atol=1e-5)
                np.testing.assert_array_equal(got[1], value.max(0))
                np.testing.assert_allclose(got[2], value.mean(), rtol=1e-5, atol=1e-6)
            assert driver.STATS.get("cuda", 0) - before == 1
            assert not sess.symbolic_fallbacks


def test_a_size_that_changes_the_result_shape_specializes():
    """tf.squeeze without axes drops a batch of 1 too: that op specializes on each size (still correct)."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 1])
        y = tf.squeeze(x) * 2.0
        with tf.Session() as sess:
            assert sess.run(y, {x: [[1.5]]}).shape == ()
            np.testing.assert_array_equal(sess.run(y, {x: [[1.0], [2.0], [3.0]]}), [2.0, 4.0, 6.0])
            assert len(sess.symbolic_fallbacks) == 1


def test_size_zero_and_sizes_that_disagree():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        z = tf.placeholder(tf.float32, [None, 2])
        y = tf.reduce_sum(x - z, axis=0)
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {x: np.zeros((0, 2)), z: np.zeros((0, 2))}), [0.0, 0.0])
            np.testing.assert_array_equal(sess.run(y, {x: np.ones((3, 2)), z: np.zeros((3, 2))}), [3.0, 3.0])
            with pytest.raises(errors.InvalidArgumentError):     # TF's shape error, from the op
                sess.run(y, {x: np.ones((3, 2)), z: np.ones((4, 2))})


@pytest.mark.parametrize("target", ["cpu", pytest.param("cuda", marks=pytest.mark.slow)])
def test_the_executable_checks_symbolic_sizes_before_native_code_runs(target, request):
    if target == "cuda":
        request.getfixturevalue("emulated")
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        z = tf.placeholder(tf.float32, [None, 2], name="z")
        y = x * z
        b = SymInt.symbol("b")
        lowered = lower_run(graph, [y], [], {x: (b, 2), z: (b, 2)})
        assert "f32[b,2]" in str(lowered.module.entry.parameters[0].shape)
        executable = driver.compile(lowered.module, target)
        two, three = np.full((3, 2), 2.0, np.float32), np.full((3, 2), 3.0, np.float32)
        np.testing.assert_array_equal(executable.run([two, three])[0], np.full((3, 2), 6.0))
        np.testing.assert_array_equal(executable.run([two[:1], three[:1]])[0], np.full((1, 2), 6.0))
        with pytest.raises(errors.InvalidArgumentError, match="argument 1"):
            executable.run([np.ones((3, 2), np.float32), np.ones((1000, 2), np.float32)])


def test_traced_runs_of_a_symbolic_signature():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.reduce_sum(tf.nn.relu(x), axis=1)
        with tf.Session() as sess:
            for n in (2, 5):
                metadata = tf.RunMetadata()
                out = sess.run(y, {x: np.ones((n, 3), np.float32)},
                               options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=metadata)
                np.testing.assert_array_equal(out, np.full(n, 3.0))
                assert metadata.step_stats.dev_stats[0].node_stats


def test_shape_and_size_of_a_symbolic_tensor_are_run_time_values():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2, 3])
        flat = tf.reshape(x, [-1, 6])
        back = tf.reshape(flat * 2.0, tf.shape(x))
        with tf.Session() as sess:
            for n in (1, 4):
                value = np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3)
                got_back, shape, size = sess.run([back, tf.shape(x), tf.size(x)], {x: value})
                np.testing.assert_array_equal(got_back, value * 2.0)
                assert shape.tolist() == [n, 2, 3] and size == n * 6
            assert not sess.symbolic_fallbacks


def test_long_sums_over_a_symbolic_dim_stay_pairwise():
    """Column and whole-array sums whose block count is known only at run time keep float32's accuracy."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        columns, mean = tf.reduce_sum(x, axis=0), tf.reduce_mean(x)
        with tf.Session() as sess:
            for n in (1, 33, 300001):
                value = np.full((n, 3), 0.1, np.float32)
                got_columns, got_mean = sess.run([columns, mean], {x: value})
                np.testing.assert_allclose(got_columns, np.full(3, 0.1 * n), rtol=1e-5)
                np.testing.assert_allclose(got_mean, 0.1, rtol=1e-5)
            assert not sess.symbolic_fallbacks


def test_constants_broadcast_to_a_symbolic_shape_are_not_folded():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.ones_like(x) * 2.0 + tf.zeros_like(x)
        with tf.Session() as sess:
            for n in (2, 5):
                np.testing.assert_array_equal(sess.run(y, {x: np.zeros((n, 3), np.float32)}), np.full((n, 3), 2.0))
            assert not sess.symbolic_fallbacks
