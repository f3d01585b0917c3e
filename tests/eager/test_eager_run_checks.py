"""Run-time index checks while executing eagerly and in a tf.function: a fed out-of-range gather or embedding id
raises TF's InvalidArgumentError (xlite/frontend/run_checks.py), on cpu and the interpreter."""
import numpy as np
import pytest

import xlite as tf

TABLE = np.arange(20.0, dtype=np.float32).reshape(10, 2)


def test_eagerly_and_in_a_tf_function(target):
    table = tf.constant(TABLE)
    np.testing.assert_array_equal(tf.gather(table, tf.constant([1, 2])).numpy(), TABLE[[1, 2]])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 11 is not in \[0, 10\)"):
        tf.gather(table, tf.constant([11, 2]))

    @tf.function
    def lookup(ids):
        return tf.nn.embedding_lookup(table, ids) * 2.0

    np.testing.assert_array_equal(lookup(tf.constant([3])).numpy(), TABLE[[3]] * 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = -4 is not in \[0, 10\)"):
        lookup(tf.constant([3, -4]))


def test_out_of_range_labels_eagerly_and_in_a_tf_function(target):
    logits = tf.zeros([3, 10])
    for _ in range(2):      # (the second call reuses the kernel: TF's eager message, no graph node or line)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"of 12 .*Label values: 1 12 3 \[Op:SparseSoftmaxCrossEntropyWithLogits\] name: $"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([1, 12, 3]), logits=logits)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Label values: 1 12 3 \[Op:\w+\] name: xent$"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([1, 12, 3]), logits=logits, name="xent")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"value of -2 .*Label values: -2 0 1"):
        tf.keras.losses.sparse_categorical_crossentropy(tf.constant([-2, 0, 1]), logits, from_logits=True)

    @tf.function
    def loss(labels):
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))

    assert loss(tf.constant([1, 2, 3])).numpy() == pytest.approx(np.log(10))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"value of 10 .* \[0, 10\)\.  Label values: 1 10 3"):
        loss(tf.constant([1, 10, 3]))


def test_a_first_eager_gather_out_of_range_names_the_index_not_the_axis(target, monkeypatch):
    from xlite.eager import dispatch
    monkeypatch.setattr(dispatch, "_value_inputs", {})     # as in a fresh process: nothing learned about GatherV2
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 12 is not in \[0, 10\) \[Op:GatherV2\]"):
        tf.gather(tf.constant(TABLE), tf.constant([1, 12]))
