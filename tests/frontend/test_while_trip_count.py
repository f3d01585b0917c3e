"""The trip count a tf.while_loop's graph alone decides, and the loops where it stays unknown."""
import pytest

import xlite as tf
from xlite.frontend.while_trip_count import static_trip_count


def trips(cond, body, start, **kwargs):
    start = start() if callable(start) else start
    out = tf.while_loop(cond, body, [start, tf.constant(1.0)], **kwargs)
    return static_trip_count(out[0].op)


@pytest.mark.parametrize("cond, body, start, want", [
    (lambda i, x: i < 3, lambda i, x: (i + 1, x * 2.0), 0, 3),
    (lambda i, x: 3 > i, lambda i, x: (1 + i, x * 2.0), 0, 3),
    (lambda i, x: i <= 3, lambda i, x: (i + 1, x * 2.0), 0, 4),
    (lambda i, x: i > 0, lambda i, x: (i - 2, x * 2.0), 9, 5),
    (lambda i, x: tf.not_equal(i, 6), lambda i, x: (i + 2, x * 2.0), 0, 3),
    (lambda i, x: i < 0, lambda i, x: (i + 1, x * 2.0), 0, 0),
    (lambda i, x: i < tf.constant(5, tf.int64), lambda i, x: (i + 1, x), lambda: tf.constant(2, tf.int64), 3),
])
def test_counting_loops(cond, body, start, want):
    assert trips(cond, body, start) == want


def test_maximum_iterations_bounds_the_count():
    assert trips(lambda i, x: i < 30, lambda i, x: (i + 1, x), 0, maximum_iterations=4) == 4
    assert trips(lambda i, x: i < 3, lambda i, x: (i + 1, x), 0, maximum_iterations=40) == 3
    assert trips(lambda i, x: x < 9.0, lambda i, x: (i, x * 2.0), 0, maximum_iterations=6) == 6


def test_unknown_counts():
    n = tf.placeholder(tf.int32, [])
    assert trips(lambda i, x: i < n, lambda i, x: (i + 1, x), 0) is None                  # fed bound
    assert trips(lambda i, x: i < 3, lambda i, x: (i + 1, x), n) is None                  # fed start
    assert trips(lambda i, x: i < 3, lambda i, x: (i + n, x), 0) is None                  # fed step
    assert trips(lambda i, x: i < 3, lambda i, x: (i * 2, x), 0) is None                  # not a step
    assert trips(lambda i, x: i < 3, lambda i, x: (i + 0, x), 0) is None                  # never ends
    assert trips(lambda i, x: x < 9.0, lambda i, x: (i + 1, x * 2.0), 0) is None          # data-dependent
    assert trips(lambda i, x: tf.logical_and(i < 3, x < 9.0), lambda i, x: (i + 1, x), 0) is None
    m = tf.placeholder(tf.int32, [])
    assert trips(lambda i, x: i < 3, lambda i, x: (i + 1, x), 0, maximum_iterations=m) == 3
