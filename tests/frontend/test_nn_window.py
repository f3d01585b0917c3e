"""A VALID window larger than its input is TF's 'Negative dimension size' error, never an empty result."""
import numpy as np
import pytest

import xlite as tf

MESSAGE = "Negative dimension size caused by subtracting {} from {}"


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def _image(shape=(2, 3, 3, 4)):
    return tf.placeholder(tf.float32, list(shape))


CASES = {
    "conv2d": (lambda: tf.nn.conv2d(_image(), tf.zeros([5, 5, 4, 8]), [1, 1, 1, 1], "VALID", name="conv"), 5, 3),
    "conv2d_one_dim": (lambda: tf.nn.conv2d(_image(), tf.zeros([5, 1, 4, 8]), [1, 1, 1, 1], "VALID"), 5, 3),
    "conv2d_dilated": (lambda: tf.nn.conv2d(_image(), tf.zeros([2, 2, 4, 8]), [1, 1, 1, 1], "VALID",
                                            dilations=[1, 3, 3, 1]), 4, 3),
    "conv2d_strided": (lambda: tf.nn.conv2d(_image(), tf.zeros([4, 4, 4, 8]), [1, 2, 2, 1], "VALID"), 4, 3),
    "conv2d_explicit": (lambda: tf.nn.conv2d(_image(), tf.zeros([5, 5, 4, 8]), [1, 1, 1, 1],
                                             [[0, 0], [0, 1], [0, 1], [0, 0]]), 5, 4),
    "conv2d_nchw": (lambda: tf.nn.conv2d(_image((2, 4, 3, 3)), tf.zeros([5, 5, 4, 8]), [1, 1, 1, 1], "VALID",
                                         data_format="NCHW"), 5, 3),
    "conv1d": (lambda: tf.nn.conv1d(tf.placeholder(tf.float32, [2, 3, 4]), tf.zeros([5, 4, 8]), 1, "VALID"), 5, 3),
    "max_pool": (lambda: tf.nn.max_pool(_image(), [1, 5, 5, 1], [1, 1, 1, 1], "VALID", name="pool"), 5, 3),
    "avg_pool": (lambda: tf.nn.avg_pool(_image(), [1, 5, 5, 1], [1, 2, 2, 1], "VALID"), 5, 3),
    "depthwise": (lambda: tf.nn.depthwise_conv2d(_image(), tf.zeros([5, 5, 4, 2]), [1, 1, 1, 1], "VALID"), 5, 3),
    "separable": (lambda: tf.nn.separable_conv2d(_image(), tf.zeros([5, 5, 4, 2]), tf.zeros([1, 1, 8, 3]),
                                                 [1, 1, 1, 1], "VALID"), 5, 3),
    "layers_conv2d": (lambda: tf.layers.conv2d(_image(), 8, 5, padding="valid"), 5, 3),
    "layers_conv1d": (lambda: tf.layers.conv1d(tf.placeholder(tf.float32, [2, 3, 4]), 8, 5), 5, 3),
    "layers_max_pooling2d": (lambda: tf.layers.max_pooling2d(_image(), 5, 1, padding="valid"), 5, 3),
    "layers_average_pooling2d": (lambda: tf.layers.average_pooling2d(_image(), 4, 1), 4, 3),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_window_larger_than_input_is_a_value_error_at_construction(case):
    build, window, size = CASES[case]
    with pytest.raises(ValueError, match=MESSAGE.format(window, size)) as info:
        build()
    assert "test_nn_window.py" in str(info.value)   # the user's line that built the op


def test_window_that_fits_exactly_and_same_padding_still_build():
    x = _image()
    assert tf.nn.conv2d(x, tf.zeros([3, 3, 4, 8]), [1, 1, 1, 1], "VALID").shape.as_list() == [2, 1, 1, 8]
    assert tf.nn.max_pool(x, [1, 5, 5, 1], [1, 1, 1, 1], "SAME").shape.as_list() == [2, 3, 3, 4]
    empty_batch = tf.placeholder(tf.float32, [0, 3, 3, 4])
    assert tf.nn.max_pool(empty_batch, [1, 2, 2, 1], [1, 1, 1, 1], "VALID").shape.as_list() == [0, 2, 2, 4]


@pytest.mark.parametrize("build", [
    lambda x: tf.nn.conv2d(x, tf.zeros([5, 5, 4, 8]), [1, 1, 1, 1], "VALID", name="dyn"),
    lambda x: tf.nn.max_pool(x, [1, 5, 5, 1], [1, 1, 1, 1], "VALID", name="dyn"),
    lambda x: tf.nn.depthwise_conv2d(x, tf.zeros([5, 5, 4, 2]), [1, 1, 1, 1], "VALID", name="dyn"),
], ids=["conv2d", "max_pool", "depthwise"])
def test_fed_size_smaller_than_the_window_is_an_invalid_argument_at_run_time(build):
    x = tf.placeholder(tf.float32, [2, None, None, 4])
    y = build(x)
    assert y.shape.as_list()[1:3] == [None, None]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=MESSAGE.format(5, 3)) as info:
            sess.run(y, {x: np.zeros([2, 3, 3, 4], np.float32)})
        assert "dyn" in str(info.value)
        fits = np.random.default_rng(0).standard_normal([2, 6, 5, 4]).astype(np.float32)
        assert sess.run(y, {x: fits}).shape[1:3] == (2, 1)
