"""On a GPU: every opcode's test graphs, random graphs, Sessions and the examples on target="cuda"
against the interpreter. Marked `cuda`; skipped where pycuda, a driver, a GPU or nvcc is missing.

Run on a lent GPU machine as /work/shared/tools/GPU.md describes, e.g.
`python3 -m pytest tests -m cuda -q`.
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import xlite as tf
from cuda_cases import CASES, as_written, check_case, mlp_graph, optimized, random_cases
from xlite.codegen.cuda import availability, emit_cuda
from xlite.codegen.cuda.driver import emulating

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(emulating() or not availability.is_available(),
                                 reason="needs an NVIDIA GPU with pycuda, its driver and nvcc: "
                                        + "; ".join(availability.missing()))]

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
VARIANTS = ("lowered", "fused")
RANDOM = random_cases(100, seed=7)


@pytest.fixture(scope="module")
def gpu():
    from xlite.codegen.cuda.driver import default_driver
    return default_driver()


@pytest.fixture(scope="module")
def compiled_cases(gpu):
    """Every case's programs, compiled as one cubin (one nvcc run)."""
    programs = {}
    for k, c in enumerate(CASES + RANDOM):
        for variant in VARIANTS:
            compiled = as_written(c.build()) if variant == "lowered" else optimized(c.build())
            programs[c.name, variant] = (compiled.module, emit_cuda(compiled, prefix=f"c{k}{variant[0]}_"))
    gpu.preload([p.source for _, p in programs.values()])
    return programs


def test_pycuda_sees_the_gpu(gpu):
    assert gpu.arch.startswith("sm_") and gpu.name


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", CASES + RANDOM, ids=lambda c: c.name)
def test_case_matches_interpreter(gpu, compiled_cases, case, variant):
    from xlite.codegen.cuda.executable import CudaExecutable
    module, program = compiled_cases[case.name, variant]
    check_case(case, module, CudaExecutable(module, program, gpu), variant)


def test_compile_cuda_end_to_end(gpu):
    from xlite.codegen.cuda import compile_cuda
    c = CASES[0]
    compiled = optimized(c.build())
    check_case(c, compiled.module, compile_cuda(compiled), "compile_cuda")


def test_training_session_matches_interpreter_and_keeps_variables_on_the_gpu(gpu):
    from xlite.codegen.cuda.executable import DeviceArray
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((50, 30)).astype(np.float32)
    ys = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 50)]
    g, x, y, loss, step, init, _ = mlp_graph(30, 64, 10, 0.1)
    losses = {}
    for target in ("cuda", "interpreter"):
        with tf.Session(target=target, graph=g) as sess:
            sess.run(init)
            losses[target] = [sess.run([loss, step], {x: xs, y: ys})[0] for _ in range(20)]
            if target == "cuda":
                assert all(isinstance(v, DeviceArray) for v in sess._variables.values())
    np.testing.assert_allclose(losses["cuda"], losses["interpreter"], rtol=1e-4, atol=1e-5)


def test_control_flow_session(gpu):
    g = tf.Graph()
    with g.as_default():
        n = tf.placeholder(tf.int32, [])
        steps, value = tf.while_loop(lambda s, v: v > 1,
                                     lambda s, v: (s + 1, tf.cond(tf.equal(v % 2, 0), lambda: v // 2,
                                                                  lambda: 3 * v + 1)),
                                     [tf.constant(0), n])
    with tf.Session(target="cuda", graph=g) as sess:
        assert [int(a) for a in sess.run([steps, value], {n: 27})] == [111, 1]


def test_random_numbers_match_the_interpreter(gpu):
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(3)
        u = tf.random_uniform([1000, 3])
        n = tf.random_normal([257])
    out = {}
    for target in ("cuda", "interpreter"):
        with tf.Session(target=target, graph=g) as sess:
            out[target] = [sess.run([u, n]) for _ in range(2)]
    for (cu, cn), (iu, inn) in zip(out["cuda"], out["interpreter"]):
        np.testing.assert_array_equal(cu, iu)
        np.testing.assert_allclose(cn, inn, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, threshold", [
    ("softmax_regression.py", 0.90), ("iris_dnn.py", 0.93), ("rgb_colors.py", 0.90), ("deep_cnn.py", 0.90)])
def test_example_learns_on_cuda(gpu, name, threshold):
    env = dict(os.environ, XLITE_TARGET="cuda")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name)], capture_output=True, text=True,
                          timeout=900, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", proc.stdout).group(1))
    assert accuracy >= threshold, proc.stdout


@pytest.mark.parametrize("name", ["basics.py", "control_flow.py"])
def test_example_prints_the_same_on_cuda(gpu, name):
    outputs = []
    for target in ("cuda", "interpreter"):
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name)], capture_output=True,
                              text=True, timeout=600, env=dict(os.environ, XLITE_TARGET=target), cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]
