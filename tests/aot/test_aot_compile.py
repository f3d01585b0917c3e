"""xlite.aot.compile: trained models frozen into NAME.o + NAME.h, called from plain C (gcc, -lm only), agree
with the interpreter; the object needs only libc/libm symbols and holds no writable data."""
import os

import numpy as np
import pytest

import xlite as tf
import xlite.aot
from aot_harness import (build, build_runner, defined_symbol_types, needs_cc, needs_nm, run_runner,
                         system_library_symbols, undefined_symbols)


def close(got, want):
    want = np.asarray(want)
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale)


def softmax_regression(steps=20, seed=0):
    """The 'MNIST for beginners' model, trained a few steps on the interpreter."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y_ = tf.placeholder(tf.float32, [None, 10], name="y_")
        W = tf.Variable(tf.zeros([784, 10]), name="W")
        b = tf.Variable(tf.zeros([10]), name="b")
        y = tf.nn.softmax(tf.matmul(x, W) + b, name="probs")
        loss = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), axis=1))
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        predicted = tf.argmax(y, 1, name="predicted")
        sess = tf.Session(target="interpreter")
        sess.run(tf.global_variables_initializer())
    rng = np.random.RandomState(seed)
    for _ in range(steps):
        labels = rng.randint(0, 10, 32)
        images = rng.rand(32, 784).astype(np.float32) * 0.2
        images[np.arange(32), labels * 70] = 1.0
        sess.run(train, {x: images, y_: np.eye(10, dtype=np.float32)[labels]})
    return sess, x, y, predicted


def deep_mnist(steps=2, batch=4):
    """The Deep-MNIST CNN (conv 5x5x32, pool, conv 5x5x64, pool, fc 1024, fc 10), a few SGD steps."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(5)
        x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="images")
        y_ = tf.placeholder(tf.float32, [None, 10], name="labels")

        def weight(shape):
            return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

        def bias(shape):
            return tf.Variable(tf.constant(0.1, shape=shape))

        def conv2d(h, W):
            return tf.nn.conv2d(h, W, strides=[1, 1, 1, 1], padding="SAME")

        def pool(h):
            return tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

        h1 = pool(tf.nn.relu(conv2d(x, weight([5, 5, 1, 32])) + bias([32])))
        h2 = pool(tf.nn.relu(conv2d(h1, weight([5, 5, 32, 64])) + bias([64])))
        fc1 = tf.nn.relu(tf.matmul(tf.reshape(h2, [-1, 7 * 7 * 64]), weight([7 * 7 * 64, 1024])) + bias([1024]))
        logits = tf.add(tf.matmul(fc1, weight([1024, 10])), bias([10]), name="logits")
        probs = tf.nn.softmax(logits, name="probs")
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        sess = tf.Session(target="interpreter")
        sess.run(tf.global_variables_initializer())
    rng = np.random.RandomState(1)
    for _ in range(steps):
        sess.run(train, {x: rng.rand(batch, 28, 28, 1).astype(np.float32),
                         y_: np.eye(10, dtype=np.float32)[rng.randint(0, 10, batch)]})
    return sess, x, logits, probs


def check_object(artifacts):
    """nm -u lists only what libc and libm define; no writable data (no global mutable state)."""
    undefined = undefined_symbols(artifacts.object_path)
    assert system_library_symbols(undefined) == [], undefined
    assert not [s for s in undefined if s.startswith(("pthread", "gomp", "omp", "xlite", "scipy", "cblas"))]
    assert not any("gemm" in s for s in undefined)
    types = defined_symbol_types(artifacts.object_path)
    writable = {s: t for s, t in types.items() if t in "bBdDsSgG"}
    assert writable == {}, writable
    name = artifacts.signature.name
    exported = sorted(s for s, t in types.items() if t.isupper())
    assert exported == sorted([f"{name}_run", f"{name}_error_message", f"{name}_signature_json"])


@needs_cc
@needs_nm
def test_softmax_regression_frozen_runs_from_c(tmp_path):
    sess, x, y, predicted = softmax_regression()
    artifacts = xlite.aot.compile([y, predicted], {x: (7, 784)}, session=sess, name="softmax",
                                  out_dir=str(tmp_path))
    sig = artifacts.signature
    assert [a.name for a in sig.args] == ["x:0"]
    assert [(r.name, r.dtype, r.shape) for r in sig.results] == [("probs:0", "float32", (7, 10)),
                                                                 ("predicted:0", "int64", (7,))]
    for path in (artifacts.object_path, artifacts.header_path, artifacts.example_path):
        assert os.path.exists(path)
    check_object(artifacts)
    images = np.random.RandomState(3).rand(7, 784).astype(np.float32)
    want = sess.run([y, predicted], {x: images})
    exe = build_runner(artifacts, str(tmp_path))
    (probs, labels), _ = run_runner(exe, artifacts, [images])
    close(probs, want[0])
    np.testing.assert_array_equal(labels, want[1])


@pytest.mark.slow
@needs_cc
@needs_nm
def test_deep_mnist_cnn_frozen_runs_from_c(tmp_path):
    sess, x, logits, probs = deep_mnist()
    artifacts = xlite.aot.compile([logits, probs], {x: (3, 28, 28, 1)}, session=sess, name="deep_mnist",
                                  out_dir=str(tmp_path))
    check_object(artifacts)
    # the frozen weights are constants of the object (3136 x 1024 floats alone are 12.8 MB)
    assert os.path.getsize(artifacts.object_path) > 3136 * 1024 * 4
    assert [a.name for a in artifacts.signature.args] == ["images:0"]
    images = np.random.RandomState(4).rand(3, 28, 28, 1).astype(np.float32)
    want = sess.run([logits, probs], {x: images})
    exe = build_runner(artifacts, str(tmp_path))
    got, _ = run_runner(exe, artifacts, [images])
    close(got[0], want[0])
    close(got[1], want[1])


@needs_cc
@pytest.mark.slow
def test_generated_example_builds_and_runs(tmp_path):
    sess, x, y, _ = softmax_regression(steps=3)
    artifacts = xlite.aot.compile(y, {x: (2, 784)}, session=sess, name="beginners", out_dir=str(tmp_path))
    with open(artifacts.example_path) as f:
        source = f.read()
    exe = build(source, str(tmp_path), "example", [artifacts.object_path])
    import subprocess
    proc = subprocess.run([exe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    want = sess.run(y, {x: np.zeros((2, 784), np.float32)})
    printed = [float(v) for v in proc.stdout.split(": ", 1)[1].split() if v != "..."]
    close(np.array(printed), want.ravel()[:len(printed)])
    images = np.random.RandomState(0).rand(2, 784).astype(np.float32)
    images.tofile(tmp_path / "in.bin")
    proc = subprocess.run([exe, str(tmp_path / "in.bin"), str(tmp_path / "out.bin")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    close(np.fromfile(tmp_path / "out.bin", np.float32).reshape(2, 10), sess.run(y, {x: images}))


@needs_cc
@pytest.mark.slow
def test_header_is_plain_c_and_cplusplus(tmp_path):
    sess, x, y, predicted = softmax_regression(steps=1)
    artifacts = xlite.aot.compile([y, predicted], {x: (2, 784)}, session=sess, name="net", out_dir=str(tmp_path))
    with open(artifacts.header_path) as f:
        header = f.read()
    assert "#include <Python.h>" not in header and "net_run(void **args, void **results, void *scratch)" in header
    for macro in ("NET_NUM_ARGS 1", "NET_NUM_RESULTS 2", "NET_ARG_X 0", "NET_RESULT_PROBS 0", "NET_RESULT_PREDICTED 1",
                  "NET_SCRATCH_BYTES", "NET_SCRATCH_ALIGNMENT 64", "NET_ERROR_NULL_ARG(i)"):
        assert macro in header
    source = ('#include "net.h"\n#include "net.h"\n'
              'int main(void) { return (int)(NET_ARG_X_BYTES != 2 * 784 * sizeof(net_arg_x_t)) '
              '+ (net_results_info[NET_RESULT_PREDICTED].dtype != XLITE_DTYPE_INT64) '
              '+ (net_args_info[0].dims[1] != 784); }\n')
    exe = build(source, str(tmp_path), "header_check", [artifacts.object_path], extra=("-pedantic",))
    import subprocess
    assert subprocess.run([exe]).returncode == 0
    import shutil
    gxx = shutil.which("g++")
    if gxx:
        proc = subprocess.run([gxx, "-std=c++11", "-Wall", "-Werror", "-fsyntax-only", "-x", "c++", "-I", str(tmp_path),
                               "-"], input=source, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


@needs_cc
@pytest.mark.slow
def test_two_models_link_into_one_program(tmp_path):
    sess, x, y, _ = softmax_regression(steps=2)
    a = xlite.aot.compile(y, {x: (1, 784)}, session=sess, name="first", out_dir=str(tmp_path), shared=False)
    b = xlite.aot.compile(y, {x: (2, 784)}, session=sess, name="second", out_dir=str(tmp_path), shared=False)
    source = r'''
#include <stdlib.h>
#include "first.h"
#include "second.h"
int main(void) {
  static float in[2 * 784], out1[10], out2[20];
  void *a1[] = {in}, *r1[] = {out1}, *a2[] = {in}, *r2[] = {out2};
  void *s1 = aligned_alloc(64, (FIRST_SCRATCH_BYTES + 64) / 64 * 64);
  void *s2 = aligned_alloc(64, (SECOND_SCRATCH_BYTES + 64) / 64 * 64);
  int i, bad = first_run(a1, r1, s1) != 0 || second_run(a2, r2, s2) != 0;
  for (i = 0; i < 10; i++) bad |= out1[i] != out2[i] && (out1[i] - out2[i] > 1e-6f || out2[i] - out1[i] > 1e-6f);
  free(s1); free(s2);
  return bad;
}
'''
    exe = build(source, str(tmp_path), "both", [a.object_path, b.object_path])
    import subprocess
    assert subprocess.run([exe]).returncode == 0


def test_freeze_refuses_a_training_step(tmp_path):
    sess, x, y, _ = softmax_regression(steps=0)
    graph = y.graph
    with graph.as_default():
        W = [v for v in tf.global_variables() if v.op.name == "W"][0]
        bump = W.assign_add(tf.ones_like(W))
    with pytest.raises(ValueError, match="variables='args'"):
        xlite.aot.compile([y], {x: (1, 784)}, session=sess, updates=[bump], out_dir=str(tmp_path))


def test_freeze_needs_initialized_variables(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        W = tf.Variable(tf.ones([3, 3]), name="W")
        y = tf.matmul(x, W)
        sess = tf.Session(target="interpreter")
    with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value W"):
        xlite.aot.compile(y, [x], session=sess, out_dir=str(tmp_path))


def test_feed_shapes_must_be_fully_known(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = x * 2.0
    with pytest.raises(ValueError, match="full shape"):
        xlite.aot.compile(y, [x], out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="does not fit"):
        xlite.aot.compile(y, {x: (2, 4)}, out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="C identifier"):
        xlite.aot.compile(y, {x: (2, 3)}, name="my-model", out_dir=str(tmp_path))
