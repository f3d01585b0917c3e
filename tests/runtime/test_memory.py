"""Tensors too large for memory are TF's ResourceExhaustedError before native code runs, on every target."""
import os
import resource
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import xlite as tf

TARGETS = ["cpu", "interpreter", pytest.param("cuda", marks=pytest.mark.slow)]      # cuda (emulated): slow tier


@pytest.fixture(params=TARGETS)
def target(request):
    """Each target (cuda on the CPU emulator), in a fresh default graph."""
    if request.param == "cuda":
        request.getfixturevalue("emulated")
    with tf.Graph().as_default():
        yield request.param


def test_fetching_a_tensor_larger_than_memory_is_resource_exhausted(target):
    zeros = tf.zeros([2 ** 20, 2 ** 20])
    with tf.Session(target=target) as sess:
        with pytest.raises(tf.errors.ResourceExhaustedError) as info:
            sess.run(zeros)
        assert sess.run(tf.zeros([3, 2])).tolist() == [[0.0, 0.0]] * 3      # the Session still runs
    device = "GPU" if target == "cuda" else "CPU"
    assert str(info.value).startswith(f"OOM when allocating tensor with shape[1048576,1048576] and type float "
                                      f"on /job:localhost/replica:0/task:0/device:{device}:0")
    assert info.value.op.name == "zeros" and "test_memory.py" in str(info.value)


def test_a_fed_shape_whose_intermediate_exceeds_the_limit_is_resource_exhausted(target, monkeypatch):
    monkeypatch.setenv("XLITE_MEMORY_LIMIT", str(1 << 20))
    x = tf.placeholder(tf.float32, [None])
    outer = tf.multiply(tf.reshape(x, [-1, 1]), tf.reshape(x, [1, -1]), name="outer")
    total = tf.reduce_sum(outer)
    small = np.linspace(-1, 1, 100).astype(np.float32)
    with tf.Session(target=target) as sess:
        got = sess.run(total, {x: small})                 # 40 KB intermediate: runs
        np.testing.assert_allclose(got, np.outer(small.astype(np.float64), small).sum(), rtol=1e-4, atol=1e-4)
        with pytest.raises(tf.errors.ResourceExhaustedError, match=r"shape\[1024,1024\] and type float"):
            sess.run(total, {x: np.ones(1024, np.float32)})   # 4 MB intermediate: over the 1 MB limit


def test_an_element_count_past_int64_is_invalid_argument_not_a_crash(target):
    zeros = tf.zeros([2 ** 40, 2 ** 40])
    with tf.Session(target=target) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="overflow when multiplying"):
            sess.run(zeros)


SCRIPT = textwrap.dedent("""
    import numpy as np
    import xlite as tf
    x = tf.placeholder(tf.float32, [None])
    parts = [x * float(k) for k in range(1, 9)]           # 8 x 256 MB: each fits, all do not
    with tf.Session(target="{target}") as sess:
        try:
            sess.run(parts, {{x: np.ones(64 << 20, np.float32)}})
        except tf.errors.ResourceExhaustedError as e:
            print("ResourceExhaustedError", str(e).splitlines()[0][:60])
""")


def _limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cpu", "interpreter"])
def test_running_out_of_memory_while_running_is_resource_exhausted(name):
    env = dict(os.environ, XLITE_CACHE="0")
    result = subprocess.run([sys.executable, "-c", SCRIPT.format(target=name)], env=env, capture_output=True,
                            text=True, timeout=300, preexec_fn=_limit_address_space)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ResourceExhaustedError OOM when allocating tensor"), result.stdout
