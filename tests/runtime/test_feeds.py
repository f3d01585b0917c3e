"""Feed keys that nest tensors (an RNN's LSTMStateTuple, a MultiRNNCell's tuple of states) take values of
the same structure, leaf by leaf, as TF1's Session.run does; a structure mismatch is TF's ValueError."""
import collections

import numpy as np
import pytest

import xlite as tf

Pair = collections.namedtuple("Pair", ["c", "h"])


def test_nested_feed_keys_pair_leaf_by_leaf():
    with tf.Graph().as_default():
        state = (Pair(tf.placeholder(tf.float32, [2]), tf.placeholder(tf.float32, [2])),
                 tf.placeholder(tf.float32, []))
        total = state[0].c * 2 + state[0].h + state[1]
        value = (Pair(np.array([1.0, 2.0]), np.array([10.0, 20.0])), 100.0)
        with tf.Session(target="interpreter") as sess:
            np.testing.assert_array_equal(sess.run(total, {state: value}), [112, 124])
            np.testing.assert_array_equal(sess.run(total, {state[0]: value[0], state[1]: 0.0}), [12, 24])
            with pytest.raises(ValueError, match="Key had 3 elements, but value had 2 elements"):
                sess.run(total, {state: value[0]})
