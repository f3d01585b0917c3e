"""tf.errors: TF's classes and codes, raised naming the op and the user's line that made it."""
import inspect
import pickle

import pytest

import xlite as tf
from xlite import errors

# (class, code) pairs as TensorFlow defines them.
TF_CODES = [
    ("CancelledError", 1), ("UnknownError", 2), ("InvalidArgumentError", 3), ("DeadlineExceededError", 4),
    ("NotFoundError", 5), ("AlreadyExistsError", 6), ("PermissionDeniedError", 7),
    ("ResourceExhaustedError", 8), ("FailedPreconditionError", 9), ("AbortedError", 10),
    ("OutOfRangeError", 11), ("UnimplementedError", 12), ("InternalError", 13), ("UnavailableError", 14),
    ("DataLossError", 15), ("UnauthenticatedError", 16),
]


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


@pytest.mark.parametrize("name,code", TF_CODES)
def test_classes_and_codes(name, code):
    cls = getattr(tf.errors, name)
    assert issubclass(cls, tf.errors.OpError) and issubclass(cls, Exception)
    assert cls.error_code == code
    assert errors.exception_type_from_error_code(code) is cls
    assert errors.error_code_from_exception_type(cls) == code
    e = cls(None, None, "something broke")
    assert (e.node_def, e.op, e.message, e.error_code, str(e)) == (None, None, "something broke", code,
                                                                    "something broke")


def test_code_constants():
    assert (tf.errors.OK, tf.errors.INVALID_ARGUMENT, tf.errors.NOT_FOUND, tf.errors.FAILED_PRECONDITION,
            tf.errors.OUT_OF_RANGE, tf.errors.UNAUTHENTICATED) == (0, 3, 5, 9, 11, 16)


def test_an_error_names_its_op_and_where_it_was_made():
    c = tf.constant(1.0, name="k"); line = inspect.currentframe().f_lineno  # noqa: E702
    e = tf.errors.InvalidArgumentError(c.op.node_def, c.op, "bad value")
    assert e.op is c.op and e.message == "bad value"
    assert e.node_def == {"name": "k", "op": "Const", "input": []}
    assert str(e) == f"bad value\n\t [[node k (defined at {__file__}:{line}) ]]"


def test_errors_pickle_without_their_op():
    c = tf.constant(1.0)
    e = pickle.loads(pickle.dumps(tf.errors.NotFoundError(None, c.op, "gone")))
    assert type(e) is tf.errors.NotFoundError and e.message == "gone" and e.op is None


def test_run_time_shape_mismatch_is_invalid_argument_at_the_users_line():
    p = tf.placeholder(tf.float32, [None])
    q = tf.placeholder(tf.float32, [None])
    s = tf.add(p, q, name="sum"); line = inspect.currentframe().f_lineno  # noqa: E702
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(s, {p: [1.0, 2.0], q: [1.0, 2.0, 3.0]})
    assert info.value.op is s.op
    assert "[[node sum (defined at" in str(info.value) and f"test_errors.py:{line}" in str(info.value)


def test_static_shape_mismatch_is_a_value_error_at_the_users_line():
    a = tf.constant([1.0, 2.0])
    b = tf.constant([1.0, 2.0, 3.0])
    line = inspect.currentframe().f_lineno + 2
    with pytest.raises(ValueError) as info:
        a + b
    assert f"test_errors.py:{line}" in str(info.value) and "'add'" in str(info.value)


def test_type_mix_is_a_type_error_at_construction():
    with pytest.raises(TypeError, match="does not match type int32"):
        tf.constant(1) + tf.constant(1.0)


@pytest.mark.parametrize("errno_name,cls_name", [
    ("ENOENT", "NotFoundError"), ("EACCES", "PermissionDeniedError"), ("EROFS", "PermissionDeniedError"),
    ("EISDIR", "FailedPreconditionError"), ("ENOTDIR", "FailedPreconditionError"), ("EEXIST", "AlreadyExistsError"),
    ("ENOSPC", "ResourceExhaustedError"), ("EDQUOT", "ResourceExhaustedError"), ("ENAMETOOLONG", "InvalidArgumentError"),
    ("EXDEV", "UnimplementedError"), ("EFBIG", "OutOfRangeError"), ("EIO", "UnknownError"),
])
def test_os_errors_become_the_tf_class_of_their_errno(errno_name, cls_name):
    import errno
    import os
    code = getattr(errno, errno_name)
    with pytest.raises(getattr(tf.errors, cls_name)) as info:
        with errors.os_errors_as_tf("/some/path"):
            raise OSError(code, os.strerror(code))
    assert str(info.value) == f"/some/path; {os.strerror(code)}"
    assert info.value.__cause__ is None
