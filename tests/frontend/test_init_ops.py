"""Initializers: exact values for the deterministic ones, TF1's formulas and statistics for the random ones."""
import math

import numpy as np
import pytest

import xlite as tf
from xlite.frontend.init_ops import compute_fans


def run(t):
    with tf.Session() as s:
        return s.run(t)


def test_zeros_ones_constant():
    np.testing.assert_array_equal(run(tf.zeros_initializer()([2, 3])), np.zeros((2, 3), np.float32))
    ones = tf.ones_initializer(dtype=tf.int32)([4])
    assert ones.dtype == tf.int32
    np.testing.assert_array_equal(run(ones), [1, 1, 1, 1])
    np.testing.assert_array_equal(run(tf.constant_initializer(2.5)([2, 2], dtype=tf.float64)), np.full((2, 2), 2.5))
    np.testing.assert_array_equal(run(tf.constant_initializer([1, 2, 3, 4])([2, 2])), [[1, 2], [3, 4]])


def test_constant_initializer_checks_value_and_shape():
    with pytest.raises(TypeError, match="Invalid type for initial value"):
        tf.constant_initializer({"a": 1})
    np.testing.assert_array_equal(run(tf.constant_initializer([1, 2, 3])([2, 2])), [[1, 2], [3, 3]])  # as TF1
    with pytest.raises(ValueError, match="Too many elements provided"):
        tf.constant_initializer([1, 2, 3, 4, 5])([2, 2])
    with pytest.raises(TypeError, match=r"Expected Tensor's shape: \(1, 2\), but got \(2,\)\."):
        tf.constant_initializer([1, 2], verify_shape=True)([1, 2])


def test_initializers_accept_tensor_shapes_and_partition_info():
    value = tf.ones_initializer()(tf.TensorShape([2, 1]), dtype=tf.float32, partition_info=None)
    assert value.shape.as_list() == [2, 1]


@pytest.mark.parametrize("shape,fans", [([], (1, 1)), ([7], (7, 7)), ([3, 5], (3, 5)),
                                         ([5, 5, 3, 32], (75, 800)), ([2, 3, 4, 5, 6], (120, 144))])
def test_fans_follow_tf(shape, fans):
    assert compute_fans(shape) == fans


def test_random_uniform_range_and_statistics():
    values = run(tf.random_uniform_initializer(-2.0, 3.0, seed=1)([200, 100]))
    assert values.min() >= -2.0 and values.max() < 3.0
    assert abs(values.mean() - 0.5) < 0.05 and abs(values.std() - 5 / math.sqrt(12)) < 0.05
    defaults = run(tf.random_uniform_initializer(seed=2)([1000]))
    assert defaults.min() >= 0.0 and defaults.max() < 1.0


def test_random_normal_statistics():
    values = run(tf.random_normal_initializer(1.0, 2.0, seed=3)([200, 100]))
    assert abs(values.mean() - 1.0) < 0.05 and abs(values.std() - 2.0) < 0.05


def test_truncated_normal_stays_within_two_stddevs():
    values = run(tf.truncated_normal_initializer(0.5, 0.1, seed=4)([200, 100]))
    assert values.min() >= 0.5 - 0.2 - 1e-6 and values.max() <= 0.5 + 0.2 + 1e-6
    assert abs(values.std() - 0.1 * 0.87962566103423978) < 0.005


def test_glorot_uniform_limit():
    shape = [3, 3, 16, 32]
    values = run(tf.glorot_uniform_initializer(seed=5)(shape))
    fan_in, fan_out = 3 * 3 * 16, 3 * 3 * 32
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(values).max() <= limit and np.abs(values).max() > 0.99 * limit
    assert abs(values.std() - limit / math.sqrt(3)) < 0.01 * limit


def test_glorot_normal_and_variance_scaling_stddevs():
    values = run(tf.glorot_normal_initializer(seed=6)([300, 200]))
    assert abs(values.std() - math.sqrt(2.0 / 500)) < 0.02 * math.sqrt(2.0 / 500)
    assert np.abs(values).max() <= 2 * math.sqrt(2.0 / 500) / 0.87962566103423978 + 1e-6
    he = run(tf.variance_scaling_initializer(2.0, "fan_in", "untruncated_normal", seed=7)([400, 100]))
    assert abs(he.std() - math.sqrt(2.0 / 400)) < 0.02 * math.sqrt(2.0 / 400)
    uniform = run(tf.variance_scaling_initializer(1.0, "fan_out", "uniform", seed=8)([10, 50]))
    assert np.abs(uniform).max() <= math.sqrt(3.0 / 50)


def test_short_names_under_tf_initializers():
    assert tf.initializers.zeros is tf.zeros_initializer
    assert tf.initializers.glorot_uniform is tf.glorot_uniform_initializer
    assert tf.initializers.global_variables is tf.global_variables_initializer
    he = tf.initializers.he_normal(seed=1)
    assert (he.scale, he.mode, he.distribution) == (2.0, "fan_in", "truncated_normal")
    np.testing.assert_array_equal(run(tf.initializers.identity(gain=2.0)([2, 3])), 2 * np.eye(2, 3))


def test_seeded_initializers_are_reproducible_across_sessions():
    t = tf.random_normal_initializer(seed=11)([5])
    np.testing.assert_array_equal(run(t), run(t))


def test_argument_checks():
    with pytest.raises(ValueError, match="Expected floating point type"):
        tf.random_normal_initializer(dtype=tf.int32)
    with pytest.raises(ValueError, match="positive"):
        tf.variance_scaling_initializer(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        tf.variance_scaling_initializer(mode="fan_sideways")
    with pytest.raises(ValueError, match="distribution"):
        tf.variance_scaling_initializer(distribution="cauchy")
    with pytest.raises(ValueError, match="two-dimensional"):
        tf.initializers.identity()([3])


def test_config_round_trips():
    init = tf.variance_scaling_initializer(2.0, "fan_avg", "uniform", seed=3)
    again = tf.variance_scaling_initializer.from_config(init.get_config())
    assert again.get_config() == init.get_config()
