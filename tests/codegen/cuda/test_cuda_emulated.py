"""The generated kernels and the CudaExecutable run on the CPU emulator (emulator.py) against the interpreter.

No GPU is needed: the CUDA C is built as C++ with threads standing in for CUDA
threads (real barriers for __syncthreads and warp shuffles). This checks values,
synchronization, the host-side steps and buffer plumbing, and the Session's
device-resident Variables; only the cuda-marked tests on a GPU prove the rest.
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import xlite as tf
from cuda_cases import CASES, as_written, check_case, mlp_graph, optimized, random_cases
from xlite.codegen.cuda import emit_cuda
from xlite.codegen.cuda.emulator import EmulatedDriver
from xlite.codegen.cuda.executable import CudaExecutable, DeviceArray

pytestmark = pytest.mark.skipif(shutil.which("g++") is None and shutil.which("clang++") is None,
                                reason="the cuda emulator needs a C++ compiler")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
VARIANTS = ("lowered", "fused")
RANDOM = random_cases(24, seed=1)
# the quick tier's cases (pytest -m "not slow"): one or two of each kind of kernel; the rest are slow
QUICK = {"binary_f32", "float_unary_f32_1", "int_unary_s32", "convert_from_f32", "select_clamp_f32", "bool_ops",
         "reduce_f32_70x3", "argmax_f32_7", "dot_f32", "convolution", "gather", "scatter_add",
         "reduce_window", "select_and_scatter", "dynamic_slices_past_end", "rng_uniform", "shape_ops", "while", "while_row_writes",
         "conditional_pred_True", "mlp_layer", "sgd_update_in_place", "random_1_0"}


@pytest.fixture(scope="module")
def compiled_cases(request):
    """The selected cases' programs, their kernels built into one emulator library (one C++ compile). Where
    fusion changes nothing (most single-op cases) both variants emit the same source, built once."""
    selected = {(item.callspec.params["case"].name, item.callspec.params["variant"]) for item in request.session.items
                if item.module is request.module and item.originalname == "test_case_matches_interpreter"}
    programs = {}
    for k, c in enumerate(CASES + RANDOM):
        emitted = {}
        for variant in VARIANTS:
            if (c.name, variant) not in selected:
                continue
            compiled = as_written(c.build()) if variant == "lowered" else optimized(c.build())
            program = emit_cuda(compiled, prefix=f"c{k}_")
            if any(other.source != program.source for other in emitted.values()):
                program = emit_cuda(compiled, prefix=f"c{k}{variant[0]}_")
            emitted[variant] = program
            programs[c.name, variant] = (compiled.module, program)
    drv = EmulatedDriver()
    drv.preload(list(dict.fromkeys(p.source for _, p in programs.values())))
    return drv, programs


@pytest.mark.parametrize("variant", [pytest.param("lowered", marks=pytest.mark.slow), "fused"])
@pytest.mark.parametrize("case", [c if c.name in QUICK else pytest.param(c, marks=pytest.mark.slow)
                                  for c in CASES + RANDOM], ids=lambda c: c.name)
def test_case_matches_interpreter(compiled_cases, case, variant):
    drv, programs = compiled_cases
    module, program = programs[case.name, variant]
    check_case(case, module, CudaExecutable(module, program, drv), variant)


@pytest.mark.slow
def test_training_keeps_variables_on_the_device(emulated):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((5, 6)).astype(np.float32)
    ys = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 5)]
    g, x, y, loss, step, init, weights = mlp_graph(6, 8, 3, 0.5)
    losses = {}
    for target in ("cuda", "interpreter"):
        with tf.Session(target=target, graph=g) as sess:
            sess.run(init)
            losses[target] = []
            for i in range(4):
                if target == "cuda" and i == 2:
                    before = dict(emulated.stats)
                losses[target].append(sess.run([loss, step], {x: xs, y: ys})[0])
                if target == "cuda" and i == 2:
                    uploaded = emulated.stats["htod_bytes"] - before["htod_bytes"]
                    downloaded = emulated.stats["dtoh_bytes"] - before["dtoh_bytes"]
            if target == "cuda":
                held = [v for v in sess._variables.values()]
                assert held and all(isinstance(v, DeviceArray) for v in held)
                assert isinstance(sess.run(weights), np.ndarray)
    np.testing.assert_allclose(losses["cuda"], losses["interpreter"], rtol=1e-5, atol=1e-6)
    assert losses["cuda"][-1] < losses["cuda"][0]
    # A step moves the feeds (and the run counter) in and the loss out; the weights stay on the device.
    assert uploaded <= xs.nbytes + ys.nbytes + 8
    assert downloaded <= 4


@pytest.mark.slow
def test_cnn_training_steps_match_the_interpreter(emulated):
    """conv (and its two gradients), max-pool (and select_and_scatter), dense, sparse softmax, Adam."""
    rng = np.random.default_rng(0)
    xs = rng.random((3, 36)).astype(np.float32)
    ys = np.array([0, 3, 1], np.int64)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 36])
        y = tf.placeholder(tf.int64, [None])
        image = tf.reshape(x, [-1, 6, 6, 1])
        w1 = tf.Variable(tf.truncated_normal([3, 3, 1, 4], stddev=0.3))
        h = tf.nn.relu(tf.nn.conv2d(image, w1, [1, 1, 1, 1], "SAME") + tf.Variable(tf.constant(0.1, shape=[4])))
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        w2 = tf.Variable(tf.truncated_normal([2, 2, 4, 5], stddev=0.3))
        h = tf.nn.relu(tf.nn.conv2d(h, w2, [1, 2, 2, 1], "VALID"))
        logits = tf.matmul(tf.reshape(h, [-1, 5]), tf.Variable(tf.truncated_normal([5, 4], stddev=0.3)))
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        step = tf.train.AdamOptimizer(0.05).minimize(loss)
        init = tf.global_variables_initializer()
    losses = {}
    for target in ("cuda", "interpreter"):
        with tf.Session(target=target, graph=g) as sess:
            sess.run(init)
            losses[target] = [sess.run([loss, step], {x: xs, y: ys})[0] for _ in range(4)]
    np.testing.assert_allclose(losses["cuda"], losses["interpreter"], rtol=2e-5, atol=1e-6)


@pytest.mark.slow
def test_variable_assign_read_and_load(emulated):
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
        bump = tf.assign_add(v, tf.ones([2, 3]))
        doubled = v * 2.0
    with tf.Session(target="cuda", graph=g) as sess:
        sess.run(v.initializer)
        sess.run(bump.op)
        np.testing.assert_array_equal(sess.run(v), np.arange(6).reshape(2, 3) + 1)
        np.testing.assert_array_equal(sess.run(bump), np.arange(6).reshape(2, 3) + 2)
        v.load(np.full((2, 3), 5, np.float32), sess)
        np.testing.assert_array_equal(sess.run(doubled), np.full((2, 3), 10))
        sess.run(bump.op)
        np.testing.assert_array_equal(sess.run(v), np.full((2, 3), 6))


@pytest.mark.slow
def test_control_flow_in_a_session(emulated):
    g = tf.Graph()
    with g.as_default():
        n = tf.placeholder(tf.int32, [])
        steps, value = tf.while_loop(lambda s, v: v > 1,
                                     lambda s, v: (s + 1, tf.cond(tf.equal(v % 2, 0), lambda: v // 2,
                                                                  lambda: 3 * v + 1)),
                                     [tf.constant(0), n])
    with tf.Session(target="cuda", graph=g) as sess:
        assert [int(a) for a in sess.run([steps, value], {n: 27})] == [111, 1]
        assert [int(a) for a in sess.run([steps, value], {n: 1})] == [0, 1]


@pytest.mark.slow
def test_dump_has_cuda_and_ptx_stages(emulated, tmp_path, monkeypatch):
    monkeypatch.setenv("XLITE_DUMP", str(tmp_path))
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4])
        y = tf.nn.softmax(tf.exp(x))
    with tf.Session(target="cuda", graph=g) as sess:
        sess.run(y, {x: np.arange(4, dtype=np.float32)})
    names = os.listdir(tmp_path)
    assert any(n.endswith(".cuda.cu") for n in names), names
    from xlite.codegen.cuda.compiler import find_nvcc
    if find_nvcc() is not None:
        assert any(n.endswith(".ptx.ptx") for n in names), names


def _run(script, target):
    env = dict(os.environ, XLITE_TARGET=target, XLITE_CUDA_EMULATOR="1")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script)], capture_output=True, text=True,
                          timeout=900, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("script", ["basics.py", "control_flow.py"])
def test_example_prints_the_same_on_emulated_cuda(script):
    assert _run(script, "cuda") == _run(script, "interpreter")


def test_bitcast_in_a_loop_body_is_free():
    """A bitcast shares its operand's bytes in sub-computations too, as in the entry (codegen/walk.py)."""
    case = next(c for c in CASES if c.name == "while_bitcast_state")
    assert not any(k.endswith("_bitcast") for k in emit_cuda(as_written(case.build())).kernels)


@pytest.mark.slow
def test_split_reductions_repeat_exactly_and_reset_their_counters():
    """A row split over blocks: bitwise the same on a second run, and right for new inputs (counters reset)."""
    from cuda_cases import assert_same, module_from
    from xlite.semantics.eval_rules import evaluate_module

    def build():
        return module_from(lambda b, x: [b.reduce(x, "sum", (0,)), b.emit("argmax", (x,), dimension=0)],
                           [("f32", (50001,))])
    module = build()
    program = emit_cuda(as_written(module))
    assert any(s.grid[1] > 1 for s in program.steps)
    exe = CudaExecutable(module, program, EmulatedDriver())
    rng = np.random.default_rng(3)
    x = rng.standard_normal(50001).astype(np.float32)
    first = exe.run([x])
    for got, again in zip(first, exe.run([x])):
        assert np.asarray(got).tobytes() == np.asarray(again).tobytes()
    y = rng.standard_normal(50001).astype(np.float32) * 7
    for got, ref in zip(exe.run([y]), evaluate_module(build(), [y])):
        assert_same(np.asarray(got), np.asarray(ref), rtol=1e-5, atol=1e-3)
