"""xlite.aot.load: the .so as a Python callable with no LLVM in the process; threads with separate scratch."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import xlite as tf
import xlite.aot
from aot_harness import build, needs_cc, needs_nm, system_library_symbols, undefined_symbols

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mlp(batch=16, seed=0):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [batch, 64], name="x")
        W1 = tf.Variable(tf.random_normal([64, 48], seed=seed), name="W1")
        W2 = tf.Variable(tf.random_normal([48, 10], seed=seed + 1), name="W2")
        y = tf.nn.softmax(tf.matmul(tf.tanh(tf.matmul(x, W1)), W2), name="y")
        sess = tf.Session(target="interpreter")
        sess.run(tf.global_variables_initializer())
    return sess, x, y


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    sess, x, y = mlp()
    artifacts = xlite.aot.compile(y, [x], session=sess, name="mlp", out_dir=str(tmp_path_factory.mktemp("mlp")))
    if artifacts.shared_path is None:
        pytest.skip("no C compiler to link the .so")
    return artifacts, sess, x, y


@pytest.mark.slow
def test_load_runs_without_llvm_or_codegen(library):
    artifacts, sess, x, y = library
    xv = np.random.RandomState(0).rand(16, 64).astype(np.float32)
    np.save(os.path.join(os.path.dirname(artifacts.shared_path), "x.npy"), xv)
    code = (f"import sys, numpy as np\nimport xlite.aot\n"
            f"fn = xlite.aot.load({artifacts.shared_path!r})\n"
            f"out = fn(x=np.load({os.path.join(os.path.dirname(artifacts.shared_path), 'x.npy')!r}))[0]\n"
            "np.save(sys.argv[1], out)\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('llvmlite', 'xlite.codegen', 'xlite.passes', "
            "'xlite.aot.compiler', 'scipy')))\n"
            "print('IMPORTED', bad)\n")
    out_path = os.path.join(os.path.dirname(artifacts.shared_path), "out.npy")
    proc = subprocess.run([sys.executable, "-c", code, out_path], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "IMPORTED []" in proc.stdout
    np.testing.assert_allclose(np.load(out_path), sess.run(y, {x: xv}), rtol=1e-5, atol=1e-6)


def test_signature_and_repr(library):
    artifacts, *_ = library
    fn = xlite.aot.load(artifacts.shared_path)
    assert fn.arg_names == ["x:0"] and fn.result_names == ["y:0"]
    assert fn.scratch_bytes == artifacts.signature.scratch_bytes
    assert fn.signature["variables"] == "freeze" and fn.signature["libraries"] == ["c", "m"]
    assert "x:0: float32[16,64]" in repr(fn)
    assert fn.error_message(1000) == "args[0] (x:0) is NULL"


def test_threads_call_at_once_with_their_own_scratch(library):
    artifacts, sess, x, y = library
    fn = xlite.aot.load(artifacts.shared_path)
    inputs = [np.random.RandomState(s).rand(16, 64).astype(np.float32) for s in range(4)]
    wants = [sess.run(y, {x: v}) for v in inputs]
    failures = []

    def work(k):
        for _ in range(50):
            got = fn(x=inputs[k])[0]
            if not np.allclose(got, wants[k], rtol=1e-5, atol=1e-6):
                failures.append(k)
                return

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


@needs_cc
@needs_nm
@pytest.mark.slow
def test_threads_option_uses_pthreads_and_agrees(tmp_path):
    """threads=2: a big gemm is split over two threads the generated code starts (pthreads)."""
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [256, 300], name="a")
        b = tf.placeholder(tf.float32, [300, 256], name="b")
        c = tf.matmul(a, b, name="c")
    artifacts = xlite.aot.compile(c, [a, b], name="par", out_dir=str(tmp_path), threads=2, graph=graph)
    undefined = undefined_symbols(artifacts.object_path)
    assert "pthread_create" in undefined and "pthread_join" in undefined
    assert artifacts.signature.libraries == ["c", "m", "pthread"]
    with open(artifacts.header_path) as f:
        assert "-lm -lpthread" in f.read()
    if artifacts.shared_path is not None:
        av = np.random.RandomState(0).rand(256, 300).astype(np.float32)
        bv = np.random.RandomState(1).rand(300, 256).astype(np.float32)
        np.testing.assert_allclose(xlite.aot.load(artifacts.shared_path)(a=av, b=bv)[0], av @ bv, rtol=1e-4)
    with open(artifacts.example_path) as f:
        build(f.read(), str(tmp_path), "par_example", [artifacts.object_path], libs=("-lm", "-lpthread"))


@needs_nm
@pytest.mark.slow
def test_named_target_cpu(tmp_path):
    sess, x, y = mlp(batch=3)
    for cpu in ("x86-64", "x86-64-v3"):
        artifacts = xlite.aot.compile(y, [x], session=sess, name="portable", out_dir=str(tmp_path / cpu),
                                      target_cpu=cpu)
        assert artifacts.signature.target_cpu == cpu
        # plain x86-64 has no FMA or SSE4.1 rounding: the polynomials call libm's fmaf and rintf there
        assert system_library_symbols(undefined_symbols(artifacts.object_path)) == []
        if artifacts.shared_path is not None:          # linking a .so proves the object is position-independent
            xv = np.random.RandomState(2).rand(3, 64).astype(np.float32)
            np.testing.assert_allclose(xlite.aot.load(artifacts.shared_path)(x=xv)[0], sess.run(y, {x: xv}),
                                       rtol=1e-5, atol=1e-6)
