"""sparse_softmax_cross_entropy_with_logits with a label outside [0, num_classes): TF's CPU kernel's
InvalidArgumentError ("Received a label value of 12 which is outside the valid range of [0, 10).  Label values:
1 12 3"), after the run for fed labels (one report with the gradient too), before it for known ones, NaN where no
check can raise (a while body); eagerly and in a tf.function: tests/eager/test_eager_run_checks.py."""
import math

import numpy as np
import pytest

import xlite as tf
from xlite.frontend.lower import lower_run

RNG = np.random.default_rng(5)
MESSAGE = (r"Received a label value of 12 which is outside the valid range of \[0, 10\)\.  Label values: 1 12 3\n"
           r"\t \[\[node SparseSoftmaxCrossEntropyWithLogits/SparseSoftmaxCrossEntropyWithLogits "
           r"\(defined at .*test_nn_softmax.py:\d+\) \]\]")


@pytest.mark.parametrize("target", ["cpu", "interpreter"])
def test_fed_out_of_range_labels_raise_tf_error_once_with_the_gradient(target):
    labels, logits = tf.placeholder(tf.int64, [None]), tf.placeholder(tf.float32, [None, 10])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    grad, = tf.gradients(tf.reduce_sum(loss), logits)
    x = RNG.normal(0, 1, (3, 10)).astype(np.float32)
    lowered = lower_run(tf.get_default_graph(), [loss, grad], [], {labels: (3,), logits: (3, 10)})
    assert len(lowered.module.run_checks) == 1        # the gradient's one-hot reuses the checked labels
    with tf.Session(target=target) as s:
        got, got_grad = s.run([loss, grad], {labels: [1, 2, 9], logits: x})
        p = np.exp(x - x.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        np.testing.assert_allclose(got, -np.log(p[[0, 1, 2], [1, 2, 9]]), rtol=1e-5)
        np.testing.assert_allclose(got_grad, p - np.eye(10)[[1, 2, 9]], atol=1e-6)
        for fetches in (loss, [loss, grad], grad):
            with pytest.raises(tf.errors.InvalidArgumentError, match=MESSAGE):
                s.run(fetches, {labels: [1, 12, 3], logits: x})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"value of -1 .* \[0, 10\)\.  Label values: 0 -1\n"):
            s.run(loss, {labels: [0, -1], logits: x[:2]})
        assert s.run(loss, {labels: np.zeros(0, np.int64), logits: x[:0]}).shape == (0,)


def test_classes_known_only_at_run_time_and_labels_of_rank_two():
    labels, logits = tf.placeholder(tf.int32, [None, 2]), tf.placeholder(tf.float32, [None, 2, None])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    with tf.Session(target="cpu") as s:
        np.testing.assert_allclose(s.run(loss, {labels: [[0, 3]], logits: np.zeros((1, 2, 4))}), [[math.log(4)] * 2],
                                   rtol=1e-6)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"value of 4 .* \[0, 4\)\.  Label values: 0 1 4 2\n"):
            s.run(loss, {labels: [[0, 1], [4, 2]], logits: np.zeros((2, 2, 4))})


def test_known_labels_raise_before_the_run_and_a_while_body_gives_nan():
    bad = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 3, -1], logits=np.zeros((3, 3), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"value of 3 .* \[0, 3\)\.  Label values: 0 3 -1"):
        tf.Session(target="cpu").run(bad)
    labels = tf.placeholder(tf.int32, [2])

    def body(i, total):
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=tf.zeros([2, 3]))
        return i + 1, total + loss

    _, total = tf.while_loop(lambda i, _: i < 2, body, (tf.constant(0), tf.zeros([2])))
    for target in ("cpu", "interpreter"):
        got = tf.Session(target=target).run(total, {labels: [2, 5]})
        assert got[0] == pytest.approx(2 * math.log(3)) and np.isnan(got[1])


@pytest.mark.slow
def test_cuda_emulator_raises_the_same(emulated):
    labels = tf.placeholder(tf.int32, [None])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=tf.zeros([3, 10]))
    with tf.Session(target="cuda") as s:
        np.testing.assert_allclose(s.run(loss, {labels: [1, 2, 3]}), [math.log(10)] * 3, rtol=1e-6)
        with pytest.raises(tf.errors.InvalidArgumentError, match=MESSAGE):
            s.run(loss, {labels: [1, 12, 3]})


def test_graph_def_writes_tf_identity_and_reads_back_the_check():
    graph = tf.Graph()
    with graph.as_default():
        labels, logits = tf.placeholder(tf.int32, [None], name="lab"), tf.placeholder(tf.float32, [None, 4], name="x")
        tf.identity(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits), name="loss")
    graph_def = graph.as_graph_def()
    assert {n.op for n in graph_def.node if n.name.endswith("Logits/SparseSoftmaxCrossEntropyWithLogits")} == {"Identity"}
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session(target="interpreter") as s:
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"value of 7 .* \[0, 4\)\.  Label values: 1 7"):
                s.run("loss:0", {"lab:0": [1, 7], "x:0": np.zeros((2, 4))})
