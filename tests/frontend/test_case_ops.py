"""tf.case, tf.tuple, tf.assert_equal and tf.Print: results, gradients, and the checks made at graph build."""
import numpy as np
import pytest

import xlite as tf
from xlite import errors
import gradcheck


@pytest.mark.parametrize("target", ["cpu", "interpreter"])
def test_case_takes_the_first_true_pred(target):
    p = tf.placeholder(tf.int32, [])
    pairs = [(tf.equal(p, 1), lambda: tf.constant(10)), (tf.greater(p, 1), lambda: tf.constant(20)),
             (tf.equal(p, 2), lambda: tf.constant(99))]
    with_default = tf.case(pairs, default=lambda: tf.constant(30))
    without = tf.case(pairs[:2])   # as in TF, the last fn is the default
    with tf.Session(target=target) as s:
        got = [s.run([with_default, without], {p: v}) for v in (1, 2, 0)]
    assert [list(map(int, g)) for g in got] == [[10, 10], [20, 20], [30, 20]]


def test_case_gradient_and_errors():
    gradcheck.check_grad(lambda x: tf.case([(tf.reduce_sum(x) > 0, lambda: x * x)], default=lambda: -x),
                         np.array([0.5, 1.5]), target="interpreter")
    gradcheck.check_grad(lambda x: tf.case([(tf.reduce_sum(x) > 0, lambda: x * x)], default=lambda: -x),
                         np.array([-0.5, -1.5]), target="interpreter")
    with pytest.raises(TypeError, match="2-tuple"):
        tf.case([tf.constant(True)], default=lambda: 1)
    with pytest.raises(TypeError, match="bool"):
        tf.case([(tf.constant(1), lambda: tf.constant(1))])
    with pytest.raises(errors.InvalidArgumentError, match="exclusive"):
        tf.case([(tf.constant(True), lambda: tf.constant(1)), (tf.constant(True), lambda: tf.constant(2))],
                default=lambda: tf.constant(3), exclusive=True)
    with pytest.raises(errors.InvalidArgumentError, match="None of conditions"):
        tf.case([(tf.constant(False), lambda: tf.constant(1))])


def test_tuple_waits_for_every_tensor():
    v = tf.Variable(1.0)
    p = tf.placeholder(tf.float32, [])
    bumped = tf.assign_add(v, 1.0)
    a, b, c = tf.tuple([p * 2, bumped, None])
    assert c is None and len(a.op.control_inputs) == 1
    gate = a.op.control_inputs[0]
    assert bumped.op in gate.control_inputs
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(a, {p: 3.0}) == 6.0
        assert s.run(v) == 2.0   # fetching a ran the assign it waits for
    with pytest.raises(ValueError, match="at least one Tensor"):
        tf.tuple([None])


def test_assert_equal_decided_at_graph_build():
    op = tf.debugging.assert_equal([1, 2], [1, 2])
    assert op.type == "NoOp"
    assert tf.assert_equal is tf.debugging.assert_equal
    with pytest.raises(errors.InvalidArgumentError, match="did not hold"):
        tf.assert_equal(tf.constant(1), 2, message="sizes")
    with pytest.raises(TypeError, match="does not match"):
        tf.assert_equal(tf.constant([1, 2]), tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError):
        tf.assert_equal(tf.constant([1, 2]), tf.constant([1, 2, 3]))
    fed = tf.placeholder(tf.int32, [2])
    check = tf.assert_equal(fed, [1, 2])       # checked in the run (tests/frontend/test_assert_ops.py)
    with tf.Session(target="interpreter") as sess:
        sess.run(check, {fed: [1, 2]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Condition x == y did not hold"):
            sess.run(check, {fed: [1, 3]})


def test_print_in_a_graph_is_an_identity_that_prints_at_run_time(capfd):
    y = tf.Print(tf.constant(1.0), [tf.constant(2.0)], "x: ")
    capfd.readouterr()
    with tf.Session(target="interpreter") as sess:
        assert sess.run(y) == 1.0
    assert capfd.readouterr().err == "x: [2]\n"
