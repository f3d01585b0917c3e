"""Every caller of the compile driver gets TF's OOM before compiling: eager ops and tf.function calls as Session runs."""
import numpy as np
import pytest

import xlite as tf
from xlite import errors
from xlite.eager.context import eager_mode


@pytest.fixture
def small_memory(monkeypatch):
    monkeypatch.setenv("XLITE_MEMORY_LIMIT", str(1 << 16))       # 64 KiB a tensor


def test_an_eager_op_too_large_is_resource_exhausted(small_memory):
    with eager_mode():
        x = tf.constant(np.ones(64, np.float32))
        with pytest.raises(errors.ResourceExhaustedError, match="OOM when allocating tensor"):
            tf.tile(x, [1000])                  # 256 KB
        assert float(tf.reduce_sum(x * 2.0)) == 128.0     # small ops still run


def test_a_tf_function_too_large_is_resource_exhausted(small_memory):
    @tf.function
    def outer(v):
        return tf.reduce_sum(v[:, None] * v[None, :])     # a 200x200 float32 intermediate (160 KB)

    with eager_mode():
        with pytest.raises(errors.ResourceExhaustedError, match="OOM when allocating tensor"):
            outer(tf.constant(np.ones(200, np.float32)))
        assert float(outer(tf.constant(np.ones(20, np.float32)))) == 400.0
