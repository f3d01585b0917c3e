"""Bad calls: from C a NULL or misaligned pointer is an error code with a static message, never a crash;
from Python a wrong argument raises InvalidArgumentError before native code runs."""
import os
import subprocess

import numpy as np
import pytest

import xlite as tf
import xlite.aot
from aot_harness import build, needs_cc

CALLS = r"""
#include <stdio.h>
#include <stdlib.h>
#include "@NAME@.h"

static void report(const char *what, int code) { printf("%s %d %s\n", what, code, @NAME@_error_message(code)); }

int main(void) {
  void *args[@UP@_NUM_ARGS], *results[@UP@_NUM_RESULTS], *saved;
  char *scratch = aligned_alloc(64, (@UP@_SCRATCH_BYTES + 64 + 63) / 64 * 64);
  int i;
  for (i = 0; i < @UP@_NUM_ARGS; i++) {
    size_t k, n = @NAME@_args_info[i].byte_size / 4;
    float *p = args[i] = aligned_alloc(64, (n * 4 + 64) / 64 * 64);
    for (k = 0; k < n; k++) p[k] = 0.5f;
  }
  for (i = 0; i < @UP@_NUM_RESULTS; i++)
    results[i] = aligned_alloc(64, (@NAME@_results_info[i].byte_size + 64) / 64 * 64);
  report("args", @NAME@_run(NULL, results, scratch));
  report("results", @NAME@_run(args, NULL, scratch));
  report("scratch", @NAME@_run(args, results, NULL));
  report("misaligned_scratch", @NAME@_run(args, results, scratch + 8));
  saved = args[1]; args[1] = NULL; report("arg1", @NAME@_run(args, results, scratch)); args[1] = saved;
  saved = results[0]; results[0] = NULL; report("result0", @NAME@_run(args, results, scratch)); results[0] = saved;
  saved = args[0]; args[0] = (char *)saved + 1;
  report("misaligned_arg0", @NAME@_run(args, results, scratch)); args[0] = saved;
  report("unknown", 12345);
  report("good", @NAME@_run(args, results, scratch));
  printf("value %g\n", (double)((float *)results[0])[0]);
  return 0;
}
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("errors"))
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [3, 5], name="x")
        w = tf.placeholder(tf.float32, [5, 2], name="w")
        y = tf.nn.relu(tf.matmul(x, w), name="y")
        noise = tf.random_uniform([3, 2], seed=7, name="noise")
        z = tf.add(y, noise, name="z")
    artifacts = xlite.aot.compile([y, z], [x, w], name="checked", out_dir=out, graph=graph)
    return artifacts, graph, (x, w, y, z)


def test_rng_counter_is_the_last_argument(model):
    artifacts, graph, _ = model
    assert [(a.name, a.kind, a.dtype, a.shape) for a in artifacts.signature.args] == [
        ("x:0", "feed", "float32", (3, 5)), ("w:0", "feed", "float32", (5, 2)),
        ("rng_counter", "rng_counter", "int64", ())]


@needs_cc
def test_null_and_misaligned_pointers_return_error_codes(model, tmp_path):
    artifacts, _, _ = model
    source = CALLS.replace("@NAME@", "checked").replace("@UP@", "CHECKED")
    exe = build(source, str(tmp_path), "calls", [artifacts.object_path],
                include=os.path.dirname(artifacts.header_path))
    proc = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line.split(" ", 2)[1:] for line in proc.stdout.splitlines()}
    assert lines["args"] == ["1", "args is NULL"]
    assert lines["results"] == ["2", "results is NULL"]
    assert lines["scratch"][0] == "3" and "scratch is NULL" in lines["scratch"][1]
    assert lines["misaligned_scratch"] == ["4", "scratch is not 64-byte aligned"]
    assert lines["arg1"] == ["1001", "args[1] (w:0) is NULL"]
    assert lines["result0"] == ["2000", "results[0] (y:0) is NULL"]
    assert lines["misaligned_arg0"] == ["3000", "args[0] (x:0) is not 4-byte aligned"]
    assert lines["unknown"] == ["12345", "unknown error code"]
    assert lines["good"] == ["0", "ok"]
    assert float(proc.stdout.split("value ")[1]) == pytest.approx(5 * 0.25)


def test_load_checks_arguments_before_running(model):
    artifacts, _, _ = model
    if artifacts.shared_path is None:
        pytest.skip("no C compiler to link the .so")
    fn = xlite.aot.load(artifacts.shared_path)
    xv, wv = np.ones((3, 5), np.float32), np.ones((5, 2), np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"x:0 must have shape \[3,5\], got \[5,3\]"):
        fn(x=xv.T, w=wv)
    with pytest.raises(tf.errors.InvalidArgumentError, match="w:0 must be float32, got float64"):
        fn(x=xv, w=wv.astype(np.float64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="missing argument"):
        fn(x=xv)
    with pytest.raises(TypeError, match="no argument 'nope'"):
        fn(x=xv, w=wv, nope=1)
    y, z = fn(x=xv, w=wv, rng_counter=np.int64(1))
    np.testing.assert_allclose(y, np.full((3, 2), 5.0))
    y2, z2 = fn(xv, wv, np.int64(1))              # positionally, the header's order
    np.testing.assert_array_equal(z, z2)


def test_rng_counter_matches_a_session_run(model):
    """The Session passes run counter 1 to its first run; the same counter gives the same numbers."""
    artifacts, graph, (x, w, y, z) = model
    if artifacts.shared_path is None:
        pytest.skip("no C compiler to link the .so")
    fn = xlite.aot.load(artifacts.shared_path)
    xv = np.random.RandomState(0).rand(3, 5).astype(np.float32)
    wv = np.random.RandomState(1).rand(5, 2).astype(np.float32)
    sess = tf.Session(target="interpreter", graph=graph)
    first = sess.run(z, {x: xv, w: wv})
    second = sess.run(z, {x: xv, w: wv})
    np.testing.assert_allclose(fn(x=xv, w=wv, rng_counter=np.int64(1))[1], first, rtol=1e-6)
    fresh = xlite.aot.load(artifacts.shared_path)        # counts calls from 1 when not given
    np.testing.assert_allclose(fresh(x=xv, w=wv)[1], first, rtol=1e-6)
    np.testing.assert_allclose(fresh(x=xv, w=wv)[1], second, rtol=1e-6)


def test_variables_updated_in_place_must_be_writeable_arrays(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(tf.zeros([3]), name="v")
        step = tf.assign_add(v, tf.ones([3]))
    artifacts = xlite.aot.compile([], [], name="bump", out_dir=str(tmp_path), variables="args", updates=[step],
                                  graph=graph)
    if artifacts.shared_path is None:
        pytest.skip("no C compiler to link the .so")
    fn = xlite.aot.load(artifacts.shared_path)
    frozen = np.zeros(3, np.float32)
    frozen.flags.writeable = False
    with pytest.raises(tf.errors.InvalidArgumentError, match="writeable, C-contiguous"):
        fn(v=frozen)
    with pytest.raises(tf.errors.InvalidArgumentError, match="writeable, C-contiguous"):
        fn(v=np.zeros(6, np.float32)[::2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be float32"):
        fn(v=[0.0, 0.0, 0.0] * np.ones(3))
    state = np.zeros(3, np.float32)
    assert fn(v=state) == []
    assert fn(v=state) == []
    np.testing.assert_array_equal(state, [2, 2, 2])
