"""Classifying sequences of different lengths with a GRU and a fed sequence_length.

Each sequence is a run of +1/-1 steps (with noise), padded to a common length with more such steps; its
class is whether its own steps sum above zero. tf.nn.dynamic_rnn gets the lengths through a placeholder, so the
GRU's final state is the state after each sequence's own last step and the padding never reaches it
(about 99% test accuracy; fed the full length for every sequence, it cannot tell where one ends and
stays near 80%).

    python examples/sequence_classification.py [--steps N]
"""
import argparse

import numpy as np

import xlite as tf

MAX_LEN, UNITS, BATCH = 20, 32, 64

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=300)
args = parser.parse_args()
rng = np.random.default_rng(0)
tf.set_random_seed(0)


def make_batch(n):
    """(sequences [n, MAX_LEN, 1] padded with junk, lengths [n], labels [n]); odd lengths, so no ties."""
    lengths = 2 * rng.integers(1, MAX_LEN // 2 + 1, n) - 1
    steps = rng.choice([-1.0, 1.0], size=(n, MAX_LEN))      # past a sequence's length: junk steps alike
    real = np.arange(MAX_LEN)[None, :] < lengths[:, None]
    x = steps + rng.normal(scale=0.1, size=steps.shape)
    labels = (np.where(real, steps, 0).sum(1) > 0).astype(np.int32)
    return x[..., None].astype(np.float32), lengths.astype(np.int32), labels


sequences = tf.placeholder(tf.float32, [None, MAX_LEN, 1], name="sequences")
lengths = tf.placeholder(tf.int32, [None], name="lengths")
labels = tf.placeholder(tf.int32, [None], name="labels")
_, final_state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(UNITS), sequences, sequence_length=lengths,
                                   dtype=tf.float32)
logits = tf.layers.dense(final_state, 2)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
train = tf.train.AdamOptimizer(0.01).minimize(loss)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), labels), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    every = max(1, args.steps // 6)
    for step in range(args.steps):
        x, n, y = make_batch(BATCH)
        _, value = sess.run([train, loss], {sequences: x, lengths: n, labels: y})
        if step % every == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {value:.4f}")
    x, n, y = make_batch(1000)
    print(f"test accuracy: {sess.run(accuracy, {sequences: x, lengths: n, labels: y}):.4f}")
