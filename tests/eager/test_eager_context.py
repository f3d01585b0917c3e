"""The mode switch: graph building by default, eager inside eager_mode / after enable_eager_execution."""
import subprocess
import sys
import textwrap

import pytest

import xlite as tf
from xlite.eager.context import eager_mode, graph_mode
from xlite.eager.tensor import EagerTensor


def test_graph_mode_is_the_default():
    assert not tf.executing_eagerly()
    assert isinstance(tf.constant(1.0), tf.Tensor) and not isinstance(tf.constant(1.0), EagerTensor)


def test_eager_mode_block_and_back(eager):
    assert tf.executing_eagerly() and tf.compat.v1.executing_eagerly()
    assert isinstance(tf.constant(1.0), EagerTensor)
    with tf.Graph().as_default():                       # an entered graph builds, as in TF
        assert not tf.executing_eagerly()
        c = tf.constant(1.0)
        assert not isinstance(c, EagerTensor) and c.op.type == "Const"
    assert tf.executing_eagerly()
    with graph_mode():
        assert not tf.executing_eagerly()
    assert tf.executing_eagerly()


def test_name_scope_keeps_eager_mode(eager):
    with tf.name_scope("outer"):
        assert tf.executing_eagerly()
        assert isinstance(tf.random_normal([2]), EagerTensor)   # random ops open their own scope too


def _run(source: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(source)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_enable_eager_execution_at_program_start_prints_like_tf():
    out = _run("""
        import xlite as tf
        tf.compat.v1.enable_eager_execution()
        print(tf.executing_eagerly())
        a = tf.constant([[1, 2], [3, 4]])
        b = tf.constant([[5, 6], [7, 8]])
        print(a + b)
    """)
    # TF 2.x prints exactly this (its EagerTensor.__str__: numpy's str on a line of its own)
    assert out == "True\ntf.Tensor(\n[[ 6  8]\n [10 12]], shape=(2, 2), dtype=int32)\n"


@pytest.mark.slow
def test_enable_eager_execution_after_graph_building_is_refused():
    out = _run("""
        import xlite as tf
        tf.constant(1.0)
        try:
            tf.enable_eager_execution()
        except ValueError as e:
            print(e)
    """)
    assert "must be called at program startup" in out


@pytest.mark.slow
def test_eager_basics_example_runs():
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, os.path.join(root, "examples", "eager_basics.py")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("tf.Tensor(\n[[ 6  8]\n [10 12]], shape=(2, 2), dtype=int32)\n")
    assert "w = 3.000, c = -1.000" in result.stdout


def test_tf_function_traces_in_graph_mode_and_disable_switches_back():
    out = _run("""
        import xlite as tf
        tf.enable_eager_execution()
        seen = []

        @tf.function
        def f(x):
            seen.append(tf.executing_eagerly())
            return x * 2
        print(f(tf.constant(3)).numpy(), seen, tf.executing_eagerly())
        tf.compat.v1.disable_eager_execution()
        print(tf.executing_eagerly(), type(tf.constant(1.0)).__name__)
    """)
    assert out == "6 [False] True\nFalse Tensor\n"
