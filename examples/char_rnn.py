"""A character-level LSTM language model (after Karpathy's char-rnn) on a small public-domain text.

The text is cut into random windows; tf.nn.dynamic_rnn runs an LSTM over each window and a dense layer
predicts the next character at every step; Adam trains it, and the loss (nats per character) falls from
log(vocabulary) towards the text's entropy. At the end the model writes a sample, one character per
run, carrying the LSTM's state from run to run through placeholders.

    python examples/char_rnn.py [--steps N]
"""
import argparse
import os

import numpy as np

import xlite as tf

TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "shakespeare_lincoln.txt")
SEQ, BATCH, EMBED, UNITS = 32, 32, 32, 96

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=200)
parser.add_argument("--sample", type=int, default=200, help="characters to write at the end")
args = parser.parse_args()

text = open(TEXT, encoding="utf-8").read()
vocab = sorted(set(text))
ids = np.array([vocab.index(ch) for ch in text], np.int32)
rng = np.random.default_rng(0)
tf.set_random_seed(0)


def batch():
    """Random windows of the text: inputs and the same windows shifted by one character (the targets)."""
    starts = rng.integers(0, len(ids) - SEQ - 1, BATCH)
    windows = np.stack([ids[s:s + SEQ + 1] for s in starts])
    return windows[:, :-1], windows[:, 1:]


inputs = tf.placeholder(tf.int32, [None, SEQ], name="inputs")
targets = tf.placeholder(tf.int32, [None, SEQ], name="targets")
embedding = tf.get_variable("embedding", [len(vocab), EMBED])
cell = tf.nn.rnn_cell.BasicLSTMCell(UNITS)
readout = tf.layers.Dense(len(vocab), name="readout")

outputs, _ = tf.nn.dynamic_rnn(cell, tf.nn.embedding_lookup(embedding, inputs), dtype=tf.float32)
logits = readout(tf.reshape(outputs, [-1, UNITS]))
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.reshape(targets, [-1]),
                                                                     logits=logits))
train = tf.train.AdamOptimizer(0.01).minimize(loss)

# sampling: one character in, the next one's distribution out, the LSTM state fed back in
char = tf.placeholder(tf.int32, [1, 1], name="char")
state_in = tf.nn.rnn_cell.LSTMStateTuple(tf.placeholder(tf.float32, [1, UNITS]), tf.placeholder(tf.float32, [1, UNITS]))
step_out, state_out = tf.nn.dynamic_rnn(cell, tf.nn.embedding_lookup(embedding, char), initial_state=state_in,
                                        scope="rnn")
next_probs = tf.nn.softmax(readout(tf.reshape(step_out, [1, UNITS])))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(f"{len(text)} characters, vocabulary {len(vocab)}: loss starts near log({len(vocab)}) = "
          f"{np.log(len(vocab)):.2f}")
    every = max(1, args.steps // 10)
    for step in range(args.steps):
        x, y = batch()
        _, value = sess.run([train, loss], {inputs: x, targets: y})
        if step % every == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {value:.4f}")
    c = h = np.zeros((1, UNITS), np.float32)
    current, written = ids[:1], [text[0]]
    for _ in range(args.sample):
        probs, (c, h) = sess.run([next_probs, state_out], {char: current.reshape(1, 1), state_in: (c, h)})
        p = probs[0].astype(np.float64)
        current = rng.choice(len(vocab), size=1, p=p / p.sum())
        written.append(vocab[int(current[0])])
    print("sample:", "".join(written))
