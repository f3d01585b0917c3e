"""tf.image while executing eagerly: the same kernels run op by op, GradientTape differentiates a resize, and
seeded random flips draw as in graph mode."""
import numpy as np

import xlite as tf

X = np.random.default_rng(0).uniform(size=(1, 3, 5, 2)).astype(np.float32)


def test_resize_colour_and_geometry_eagerly(target):
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.image.resize_bilinear(x, [4, 7], half_pixel_centers=True)
        loss = tf.reduce_sum(y * 2.0)
    grad = tape.gradient(loss, x)
    # Every output's bilinear weights sum to 1: the gradient of 2 * sum spreads 2 * 4 * 7 per channel.
    np.testing.assert_allclose(grad.numpy().sum(axis=(0, 1, 2)), [56.0, 56.0], rtol=1e-6)
    assert tf.image.resize_images_v2(x, [2, 2], "bicubic").numpy().shape == (1, 2, 2, 2)
    rgb = tf.constant(X[0, :, :, :1].repeat(3, axis=-1) * [1.0, 0.5, 0.25], dtype=tf.float32)
    hsv = tf.image.rgb_to_hsv(rgb).numpy()
    np.testing.assert_allclose(hsv[..., 1], 0.75, rtol=1e-6)
    np.testing.assert_array_equal(tf.image.flip_left_right(x).numpy(), X[:, :, ::-1])


def test_seeded_random_flip_draws_a_sequence(eager):
    tf.set_random_seed(7)
    first = [tf.image.random_flip_left_right(X[0], seed=1).numpy() for _ in range(8)]
    tf.set_random_seed(7)
    again = [tf.image.random_flip_left_right(X[0], seed=1).numpy() for _ in range(8)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    flipped = {bool(np.array_equal(a, X[0, :, ::-1])) for a in first}
    assert flipped == {True, False}
    assert all(np.array_equal(a, X[0]) or np.array_equal(a, X[0, :, ::-1]) for a in first)
