"""What xlite cannot do raises TF's UnimplementedError (not Python's NotImplementedError), naming the op and line."""
import numpy as np
import pytest

import xlite as tf
from xlite import errors
from xlite.frontend.op_registry import make_op


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def test_unimplemented_is_tfs_class_and_not_pythons():
    e = errors.unimplemented("tf.something is not supported by xlite")
    assert type(e) is tf.errors.UnimplementedError and e.error_code == tf.errors.UNIMPLEMENTED
    assert not isinstance(e, NotImplementedError)   # as TF's UnimplementedError


def test_an_op_type_without_lowering_names_the_op_and_the_users_line():
    with pytest.raises(tf.errors.UnimplementedError,
                       match=r"no lowering rule for op type 'NoSuchOp' \(op 'odd' of type NoSuchOp, created at "
                             r".*test_unimplemented.py:\d+\)"):
        make_op("NoSuchOp", [tf.constant(1.0)], name="odd")


def test_a_run_time_unimplemented_error_names_the_op_and_the_users_line():
    n = tf.placeholder(tf.float32, [])      # (a small integer feed would compile per value)
    r = tf.range(tf.cast(n, tf.int32), name="count")
    with tf.Session() as sess, pytest.raises(tf.errors.UnimplementedError, match="compile-time constant") as info:
        sess.run(r, {n: np.float32(3)})
    assert info.value.op is r.op
    assert "[[node count (defined at" in str(info.value) and "test_unimplemented.py" in str(info.value)


def test_api_that_xlite_lacks_raises_unimplemented():
    with pytest.raises(tf.errors.UnimplementedError, match="bincount without a Python int maxlength"):
        tf.math.bincount(tf.placeholder(tf.int32, [2]))
    with pytest.raises(tf.errors.UnimplementedError, match="bfloat16 has no NumPy dtype"):
        tf.bfloat16.as_numpy_dtype
